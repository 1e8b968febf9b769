"""The files a run touches beside its main input and output: the protocol file it reads (an input, never
overwritten) and the `--problems` file it writes (a new file, or an earlier problems file only).
"""

import argparse
import sys
from pathlib import Path

from oligo_cohort.destination import (
    OutputFile,
    Protected,
    resolved,
    starts_with_line,
)
from oligo_cohort.protocol import shipped_protocols


def protocol_paths(protocol: str | None) -> list[Path]:
    """The protocol file a `--protocol` option names, when it is a file (a shipped name is not an input path)."""
    if protocol and protocol not in shipped_protocols() and Path(protocol).exists():
        return [Path(protocol)]
    return []


def problems_headers() -> tuple[str, ...]:
    """The first line of every problems file this tool writes: an extract's problems (`screen`, `validate`) and
    an answer file's (`review import`). Each command's `--problems FILE` may replace any of them."""
    from oligo_cohort.problems import PROBLEM_COLUMNS
    from oligo_cohort.review.answers import PROBLEM_COLUMNS as ANSWER_PROBLEM_COLUMNS

    return tuple(",".join(columns) + "\n" for columns in (PROBLEM_COLUMNS, ANSWER_PROBLEM_COLUMNS))


def problems_destination(args: argparse.Namespace) -> OutputFile | None:
    """The `--problems FILE` of a command (every command that has one), checked before any work: a new file or
    an earlier problems CSV of this tool only; never an input (the extract, the answer files, the protocol file)
    nor inside `--out`."""
    path = getattr(args, "problems", None)
    if not path:
        return None
    protected = [Protected(resolved(args.out), "--out folder")] if getattr(args, "out", None) else []
    inputs = [getattr(args, "extract", None), *(getattr(args, "files", None) or [])]
    destination = OutputFile(
        path,
        what="a problems file written by oligo-cohort (one whose first line is a problems header)",
        recognise=starts_with_line(*problems_headers()),
        inputs=[*inputs, *protocol_paths(getattr(args, "protocol", None))],
        protected=protected,
        option="--problems",
    )
    destination.check()
    return destination


def write_problems(problems, destination: OutputFile, *, say: bool = True) -> None:
    from oligo_cohort.csv_output import write_csv
    from oligo_cohort.problems import problems_frame

    frame = problems_frame(problems)
    destination.write(lambda path: write_csv(frame, path))
    if say:
        print(f"wrote every problem to {destination.requested}", file=sys.stderr)
