"""Why a run stopped, in one message and an exit code: the last line of defence of `main()` (no traceback,
except for a bug with OLIGO_COHORT_DEBUG=1).
"""

import argparse
import contextlib
import os
import sys
import traceback

from oligo_cohort import interruption
from oligo_cohort.cli.run_files import write_problems
from oligo_cohort.counts_in_words import counted
from oligo_cohort.destination import (
    DestinationError,
    OutputFile,
)
from oligo_cohort.errors import InputError, OligoCohortError, is_duckdb_error
from oligo_cohort.terminal import start_fresh_line


def report_failure(exc: BaseException, args: argparse.Namespace) -> int:
    """Report why the run stopped (one message, no traceback) and give its exit code."""
    with contextlib.suppress(BrokenPipeError, ValueError):  # a closed stderr is no reason for a traceback
        start_fresh_line()
    signum = interruption.stopped_by(exc)
    if signum is not None:
        _say(interruption.ending_message(signum))
        return interruption.EXIT_CODES[signum]
    if isinstance(exc, BrokenPipeError):
        silence_stdout()
        return 141
    if isinstance(exc, SystemExit):
        raise exc
    if isinstance(exc, InputError):
        _report_input_error(exc, getattr(args, "problems_file", None))
        return exc.exit_code
    if isinstance(exc, OligoCohortError):
        _say(f"oligo-cohort: error: {exc}")
        return exc.exit_code
    if isinstance(exc, MemoryError) or is_duckdb_error(exc, "OutOfMemoryException"):
        _say(
            "oligo-cohort: error: out of memory. Screen in smaller slices (OLIGO_COHORT_SLICE_PATIENTS), change "
            "DuckDB's memory cap (OLIGO_COHORT_MEMORY_LIMIT), or run on a machine with more memory"
        )
        return 2
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        _say(f"oligo-cohort: error: {exc.strerror}{where}")
        return 2
    if is_duckdb_error(exc, "IOException", "PermissionException"):
        _say(f"oligo-cohort: error: {str(exc).splitlines()[0]}")
        return 2
    _say(
        f"oligo-cohort: internal error ({type(exc).__name__}: {exc}). This is a bug: please report it with the "
        "command you ran. No output was left half-written."
    )
    if os.environ.get("OLIGO_COHORT_DEBUG"):
        traceback.print_exception(exc, file=sys.stderr)
    return 1


def _say(message: str) -> None:
    """One message on stderr; a closed stderr is no reason for a traceback."""
    with contextlib.suppress(BrokenPipeError, ValueError):
        print(message, file=sys.stderr, flush=True)


def silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so that Python's last flush at exit stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (OSError, AttributeError, ValueError):
        pass


def _report_input_error(exc: InputError, problems_file: OutputFile | None) -> None:
    """Every fatal problem, grouped by kind with counts and a few rows each; all of them in --problems FILE."""
    from oligo_cohort.problems.summary import counts_by_severity, summary_lines

    problems = exc.problems
    failed: DestinationError | None = None
    if problems_file:
        try:
            write_problems(problems, problems_file, say=False)
        except DestinationError as error:
            failed = error
    written = problems_file is not None and failed is None
    see = str(problems_file.requested) if written and problems_file else "--problems FILE"
    count = sum(counts_by_severity(problems).values())
    print(f"oligo-cohort: the extract cannot be screened: {counted(count, 'fatal problem')}", file=sys.stderr)
    for line in summary_lines(problems, see=see):
        print(line, file=sys.stderr)
    if written and problems_file:
        print(f"wrote every problem to {problems_file.requested}", file=sys.stderr)
    if failed is not None:
        print(f"oligo-cohort: error: {failed}", file=sys.stderr)
    # After "wrote every problem to FILE", "no output" would deny the file just named: the rest was not written.
    nothing = "Nothing else was written" if written else "No output was written"
    print(f"{nothing}. Fix the extract and run again.", file=sys.stderr)
