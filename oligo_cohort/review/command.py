"""`oligo-cohort review export|import`: the chart review round trip on the command line.

    oligo-cohort review export SCREEN_DIR --out REVIEW_DIR [--status eligible,unknown] [--site SITE]
    oligo-cohort review import REVIEW_FILE... --extract EXTRACT --out NEW_EXTRACT [--as-of YYYY-MM-DD]

Problems in answer files are listed one per line (file, sheet, row, column, value) with exit code 2, and nothing
is written. See docs/chart-review.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from oligo_cohort.counts_in_words import counted

if TYPE_CHECKING:
    from oligo_cohort.destination import OutputFile
    from oligo_cohort.review.answers import AnswerProblem

HELP = "chart review: export the open questions of a screen as a workbook, import the answers into a new extract"
MAX_PRINTED = 200


def configure(parser: argparse.ArgumentParser) -> None:
    """The `export` and `import` steps of `oligo-cohort review`."""
    parser.description = (
        "Chart review round trip: `export` lists, per patient, every open item a chart can answer (review.csv and "
        "review.xlsx, one sheet per site); `import` checks the filled-in files and writes a copy of the extract with "
        "the answers as canonical records plus review_audit.csv. Screen the new extract to see what the answers "
        "decide. See docs/chart-review.md."
    )
    steps = parser.add_subparsers(dest="review_step", required=True, metavar="STEP")

    export = steps.add_parser("export", help="the open questions of a screen, per patient and item, for chart review")
    export.add_argument("screen_dir", type=Path, metavar="SCREEN_DIR", help="a folder written by `oligo-cohort screen`")
    export.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="REVIEW_DIR",
        help="folder for the review files (new, or an earlier export left unchanged: replaced whole)",
    )
    export.add_argument(
        "--status",
        default="eligible,unknown",
        metavar="STATUS,...",
        help="patients of these statuses (default eligible,unknown; add ineligible to review those too)",
    )
    export.add_argument("--site", metavar="SITE[,SITE...]", help="only these sites")
    export.add_argument(
        "--extract",
        metavar="EXTRACT",
        help="the extract the screen read (default: the one named in SCREEN_DIR/manifest.json; it must be unchanged)",
    )
    export.set_defaults(review_handler=run_export)

    answers = steps.add_parser(
        "import", help="check filled-in review files and add the answers to a copy of the extract"
    )
    answers.add_argument(
        "files", nargs="+", metavar="REVIEW_FILE", help="review.csv / review.xlsx files (several allowed)"
    )
    answers.add_argument("--extract", required=True, metavar="EXTRACT", help="the extract the review was made for")
    answers.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="NEW_EXTRACT",
        help="folder for the reviewed extract (new, or an earlier reviewed extract left unchanged: replaced whole)",
    )
    answers.add_argument(
        "--protocol", default="cosmo", metavar="NAME|PATH", help="protocol of the screen (for the audit's date checks)"
    )
    answers.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="the cut-off the reviewed extract is to be screened at, for the audit's date checks (default: the first "
        "screen's, from review_export.json beside the answer files; else the extract's latest date)",
    )
    answers.add_argument("--problems", metavar="FILE", help="also write every problem found to this CSV file")
    answers.set_defaults(review_handler=run_import)


def run(args: argparse.Namespace) -> int:
    return args.review_handler(args)


def run_export(args: argparse.Namespace) -> int:
    """Export the review files and say what is asked."""
    from oligo_cohort.destination import OutputFolder
    from oligo_cohort.review.export import export_review
    from oligo_cohort.review.workbook import sheet_names

    sites = args.site.split(",") if args.site else None
    # The destination is checked and claimed before the screen and the extract are read.
    with OutputFolder(args.out, "review-export", inputs=[args.screen_dir, args.extract]) as destination:
        export = export_review(
            args.screen_dir, destination, statuses=args.status.split(","), sites=sites, extract=args.extract
        )
    summary = export.summary()
    asked = f"{counted(summary['items'], 'open item')} for {counted(summary['patients'], 'patient')}"
    print(f"{asked} ({', '.join(export.statuses)}):")
    for item, n in summary["by_item"].items():
        print(f"  {item:<18} {n:>7,}")
    sheets = ", ".join(sheet_names(list(summary["by_site"])).values())  # as the workbook names them
    print(f"Wrote {args.out}/review.csv and review.xlsx (one sheet per site: {sheets}).")
    from oligo_cohort.cli import command_prefix, shown_path

    print(
        f"Next: fill in answer, answer_date, answered_by; then {command_prefix()} review import "
        f"{shown_path(Path(args.out) / 'review.xlsx')} --extract {shown_path(export.extract)} --out NEW_EXTRACT"
    )
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Import the answers; every problem listed with exit code 2 and nothing written."""
    # Imported here: building the parser (and `--help`) should not load pandas and the answer readers.
    from oligo_cohort.cli.run_files import problems_destination
    from oligo_cohort.destination import OutputFolder
    from oligo_cohort.load import parse_as_of
    from oligo_cohort.review.answers import AnswerFileError
    from oligo_cohort.review.importer import import_answers
    from oligo_cohort.review.records import EXTRACT

    inputs = [*args.files, args.extract]
    # Checked before any work, as every command's `--problems FILE` (oligo_cohort.cli.run_files).
    problems_file = args.problems_file if hasattr(args, "problems_file") else problems_destination(args)
    try:
        # The destination is checked and claimed before the answers are read.
        with OutputFolder(args.out, "reviewed-extract", inputs=inputs) as destination:
            result = import_answers(
                args.files,
                args.extract,
                destination,
                protocol=args.protocol,
                as_of=parse_as_of(args.as_of, given_as="--as-of"),
            )
    except AnswerFileError as exc:
        problems = exc.problems
        print(f"oligo-cohort review import: {counted(len(problems), 'problem')} in the answer files", file=sys.stderr)
        for problem in problems[:MAX_PRINTED]:
            print("  " + problem.describe(), file=sys.stderr)
        if len(problems) > MAX_PRINTED:
            print(f"  ... and {len(problems) - MAX_PRINTED} more (use --problems FILE)", file=sys.stderr)
        _write_problems(problems_file, problems, args.problems)
        print("Nothing was written. Correct the files and import again.", file=sys.stderr)
        return exc.exit_code
    audit = result.records.audit
    counts = audit["action"].value_counts()
    print(f"Read {counted(len(audit), 'row')}: " + ", ".join(f"{n:,} {action}" for action, n in counts.items()))
    for table, frame in result.records.tables.items():
        print(f"  {table:<22} +{counted(len(frame), 'record')}")
    conflicts, warnings = result.records.conflicts, result.records.warnings
    for (noun, plural), frame, column in (
        (("conflict with registry records", "conflicts with registry records"), conflicts, "counts"),
        (("warning", "warnings"), warnings, "warning"),
    ):
        if len(frame):
            print(f"{counted(len(frame), noun, plural)}:")
            for row in frame.head(20).itertuples(index=False):
                print(f"  {row.patient_id} {row.item}: {getattr(row, column)}")
    print(f"Wrote the reviewed extract to {result.out_dir}/ (audit: review_audit.csv)")
    _write_problems(problems_file, [], args.problems)  # none: an earlier failed import's list is not left standing
    cutoff, later = result.records.cutoff, result.records.read_later
    if later:
        are, them = ("is", "it") if len(later) == 1 else ("are", "them")
        print(
            f"{counted(len(later), 'answer')} {are} dated after {cutoff.label} {cutoff.date}: a screen with --as-of "
            f"{cutoff.date} does not read {them} (see the warnings); a screen with --as-of {max(later)} or later reads "
            f"{them}, and decides every other criterion at that cut-off too (attrition --after-review compares screens "
            "of one cut-off)."
        )
    from oligo_cohort.cli import command_prefix, shown_path

    screen_after = f"{command_prefix()} screen {shown_path(result.out_dir)} --out SCREEN_AFTER_REVIEW --as-of"
    if cutoff.origin == EXTRACT:
        print(
            f"Next: {screen_after} CUTOFF, with the cut-off of the first screen (the answers' dates were checked "
            f"against the extract's default cut-off {cutoff.date}: no review_export.json beside the answer files; "
            "give review import --as-of to check them against the first screen's)"
        )
    else:
        origin = f"the first screen's cut-off, from {shown_path(cutoff.where)}" if cutoff.where else "as given"
        print(f"Next: {screen_after} {cutoff.date} ({origin})")
    return 0


def _write_problems(destination: OutputFile | None, problems: list[AnswerProblem], shown: str) -> None:
    """Every problem found in the answer files into `--problems FILE`, when one is given: written by every run,
    one with no problem too, so that a failed import's list never outlives it (docs/decisions.md D77)."""
    if destination is None:
        return
    import pandas as pd

    from oligo_cohort.csv_output import write_csv
    from oligo_cohort.review.answers import PROBLEM_COLUMNS

    frame = pd.DataFrame([problem.as_row() for problem in problems], columns=list(PROBLEM_COLUMNS))
    destination.write(lambda path: write_csv(frame, path))
    print(f"wrote every problem{'' if problems else ' (none)'} to {shown}", file=sys.stderr)
