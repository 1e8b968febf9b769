"""Command line: `oligo-cohort screen|demo|validate|dictionary|...`.

Every error meant for the user is printed as a message, never a traceback:
fatal input problems list each problem (table, column, row, id, value) and
exit with code 2, leaving no output files behind. `main()` is also the last
line of defence for everything else:

- everything printed passes through `terminal.escaped_output` (control
  characters from the data are shown escaped, never acted on);
- Ctrl-C exits 130 and SIGTERM 143 after one line, with no half-written output
  (`interruption`), from the moment this module is loaded: the rest of the
  command line loads after the handlers are in place; output piped into `head`
  ends quietly (exit 141, as a shell reports a command ended by a closed pipe);
- a full, read-only or unwritable disk, and memory running out, exit 2 with
  the reason;
- any other exception is a bug: one line saying so, exit 1 (the traceback with
  OLIGO_COHORT_DEBUG=1).

Problems are summarised grouped by kind with counts (`oligo_cohort.problems.summary`),
every one of them in the CSV file. `-v/--verbose` and `-q/--quiet` (before or
after the command) set the level of the package's log records
(`oligo_cohort` loggers): progress lines on a terminal by default, every stage
with its time and memory with `--verbose`, none with `--quiet`. Every
subcommand's `--help` shows its defaults and an example that runs as printed;
commands the tool suggests are printed as they run from the current folder
(`.venv/bin/oligo-cohort …`).

One module per job: `parser` (the commands, their options and examples), `core_commands` (screen, demo,
validate, dictionary), `run_files` (the protocol file read, the --problems file written), `shown` (paths and
commands as the user types them), `terminal_log` (progress on stderr), `failures` (why a run stopped), `running`
(one command line run); this module puts the signal handlers in place and loads the rest, its public names on first
use (`lazy_exports`).
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Sequence

# Only what handling Ctrl-C needs is loaded before the handlers are in place (a few milliseconds); the command
# line's own modules, about a tenth of a second of imports, load after.
from oligo_cohort import interruption
from oligo_cohort.lazy_exports import lazy_exports

_EXPORTS = {
    "EXAMPLES": "parser",
    "OWN_INPUT_EXAMPLES": "parser",
    "build_parser": "parser",
    "example_commands": "parser",
    "example_epilog": "parser",
    "problems_destination": "run_files",
    "protocol_paths": "run_files",
    "command_line": "shown",
    "command_prefix": "shown",
    "shown_path": "shown",
}
__all__ = [*_EXPORTS, "main"]
__getattr__ = lazy_exports(__name__, _EXPORTS)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `oligo-cohort` command."""
    with interruption.signals_handled():
        try:
            from oligo_cohort.cli.running import run

            return run(argv)
        except KeyboardInterrupt as stopped:  # before `run` could answer it: while the command line was loading
            signum = interruption.stopped_by(stopped) or signal.SIGINT
            with contextlib.suppress(OSError):
                print(interruption.ending_message(signum), file=sys.stderr, flush=True)
            return interruption.EXIT_CODES[signum]


if __name__ == "__main__":
    sys.exit(main())
