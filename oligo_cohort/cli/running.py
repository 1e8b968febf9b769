"""One command line run, from its words to its exit code, once `main()` has put the signal handlers in place.

Every outcome is a message and an exit code (`failures.report_failure`); everything printed passes through
`terminal.escaped_output`; progress goes to stderr (`terminal_log`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from oligo_cohort import interruption
from oligo_cohort.cli.failures import report_failure, silence_stdout
from oligo_cohort.cli.parser import build_parser, chosen_command
from oligo_cohort.cli.run_files import problems_destination
from oligo_cohort.cli.terminal_log import logging_to_stderr
from oligo_cohort.disclosure import one_digest_per_file
from oligo_cohort.terminal import escaped_output


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command line (`sys.argv` when `argv` is None); its exit code. Inside `interruption.signals_handled()`."""
    args = argparse.Namespace()
    with escaped_output(), logging_to_stderr() as log_handler:
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
            with one_digest_per_file():  # an input file is read once for its checksum, however many steps ask
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
