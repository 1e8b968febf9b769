"""Command line: `oligo-cohort screen|demo|validate|dictionary|...`.

Every error meant for the user is printed as a message, never a traceback:
fatal input problems list each problem (table, column, row, id, value) and
exit with code 2, leaving no output files behind. `main()` is also the last
line of defence for everything else:

- everything printed passes through `terminal.escaped_output` (control
  characters from the data are shown escaped, never acted on);
- Ctrl-C exits 130 and SIGTERM 143 after one line, with no half-written output
  (`interruption`); output piped into `head` ends quietly (exit 141, as a shell
  reports a command ended by a closed pipe);
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
commands as the user types them), `terminal_log` (progress on stderr), `failures` (why a run stopped); this
module runs one command line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from oligo_cohort import interruption
from oligo_cohort.cli.failures import report_failure, silence_stdout
from oligo_cohort.cli.parser import (
    EXAMPLES,
    OWN_INPUT_EXAMPLES,
    build_parser,
    chosen_command,
    example_commands,
    example_epilog,
)
from oligo_cohort.cli.run_files import problems_destination, protocol_paths
from oligo_cohort.cli.shown import command_line, command_prefix, shown_path
from oligo_cohort.cli.terminal_log import logging_to_stderr
from oligo_cohort.terminal import escaped_output

__all__ = [
    "EXAMPLES",
    "OWN_INPUT_EXAMPLES",
    "build_parser",
    "command_line",
    "command_prefix",
    "example_commands",
    "example_epilog",
    "main",
    "problems_destination",
    "protocol_paths",
    "shown_path",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `oligo-cohort` command."""
    args = argparse.Namespace()
    with escaped_output(), interruption.signals_handled(), logging_to_stderr() as log_handler:
        try:
            words = list(sys.argv[1:] if argv is None else argv)
            # Exits (SystemExit) on --help or a bad option, as argparse does.
            args = build_parser(chosen_command(words)).parse_args(words)
            # -v/-q before or after the command mean the same (a command with its own --quiet keeps its meaning).
            args.verbose = bool(getattr(args, "verbose", False) or args.global_verbose)
            args.quiet = bool(getattr(args, "quiet", False) or args.global_quiet)
            log_handler.set_verbosity(verbose=args.verbose, quiet=args.quiet)
            args.problems_file = problems_destination(args)
            handler: Callable[[argparse.Namespace], int] = args.handler
            code = handler(args)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
            return code
        except BaseException as exc:  # the last line of defence: every outcome is a message and an exit code
            with interruption.ignored():
                try:
                    return report_failure(exc, args)
                except BrokenPipeError:  # even stderr is gone
                    silence_stdout()
                    return 141


if __name__ == "__main__":
    sys.exit(main())
