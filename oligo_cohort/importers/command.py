"""`oligo-cohort import omop|nkr SOURCE --out EXTRACT_DIR`: build a canonical extract from another model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from oligo_cohort.counts_in_words import counted, noun_for
from oligo_cohort.errors import InputError, UsageError
from oligo_cohort.importers import DEFAULT_GAP_DAYS

MAX_PRINTED = 200
MAX_GAP_DAYS = 3650  # the range of a protocol's day parameters: ten years between two exposures is no episode


def gap_days(text: str) -> int:
    """`--gap-days`: a whole number of days from 0 to MAX_GAP_DAYS (a negative gap would merge no exposure and
    split none: it was taken silently)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 0 <= value <= MAX_GAP_DAYS:
        raise argparse.ArgumentTypeError(f"{text} is not a number of days from 0 to {MAX_GAP_DAYS}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of `oligo-cohort import`."""
    parser.description = (
        "Map an OMOP CDM v5.4 source (folder of CSV/Parquet tables, any letter case, or a DuckDB database) or an "
        "NKR-style flat file (one row per tumour record, IKNL item names) to a canonical extract that "
        "`oligo-cohort validate` accepts, plus mapping_report.md/.csv: rows read, mapped and dropped, the source "
        "of each column, what stays empty and which criteria therefore become unknown or review. "
        "See docs/importers.md."
    )
    parser.add_argument("kind", choices=("omop", "nkr"), help="the source's model")
    parser.add_argument("source", help="OMOP: folder or DuckDB file; NKR: the CSV (, ; tab |) or Parquet file")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="EXTRACT_DIR",
        help="folder for the extract (new, or an earlier import: replaced whole)",
    )
    parser.add_argument(
        "--imaging",
        metavar="DIR",
        help="folder with imaging.csv / lesions.csv (and observations.csv) in the canonical format, added as they are",
    )
    parser.add_argument(
        "--items", metavar="FILE", help="NKR only: item-name map (YAML or CSV key,item) replacing the default names"
    )
    parser.add_argument(
        "--gap-days",
        type=gap_days,
        metavar="N",
        help=f"OMOP only: exposures of one drug at most N days apart form one episode (default {DEFAULT_GAP_DAYS})",
    )


def run(args: argparse.Namespace) -> int:
    """Import, validate and write; source problems are listed with exit code 2 and nothing is written."""
    from oligo_cohort.destination import OutputFolder
    from oligo_cohort.importers import import_nkr, import_omop

    # An option of the other model would be ignored: it is refused, before anything is checked or read.
    if args.kind == "omop" and args.items:
        raise UsageError("--items applies to `import nkr` only (an NKR item-name map)")
    if args.kind == "nkr" and args.gap_days is not None:
        raise UsageError("--gap-days applies to `import omop` only (an NKR file gives each therapy's own dates)")
    destination = OutputFolder(args.out, "import", inputs=[args.source, args.imaging, args.items])
    destination.check()  # before the source is read; the folder is claimed (locked) when written
    try:
        if args.kind == "omop":
            gap = DEFAULT_GAP_DAYS if args.gap_days is None else args.gap_days
            result = import_omop(args.source, imaging=args.imaging, gap_days=gap)
        else:
            result = import_nkr(args.source, items=args.items, imaging=args.imaging)
    except InputError as exc:
        problems = exc.problems
        print(
            f"oligo-cohort import: the {args.kind} source cannot be imported: {counted(len(problems), 'problem')}",
            file=sys.stderr,
        )
        for problem in problems[:MAX_PRINTED]:
            print("  " + problem.describe(), file=sys.stderr)
        if len(problems) > MAX_PRINTED:
            print(f"  ... and {len(problems) - MAX_PRINTED} more", file=sys.stderr)
        print("No output was written.", file=sys.stderr)
        return exc.exit_code
    out = result.write(destination)
    report = result.report
    print(f"Imported {report.kind} from {report.source} into {out}/")
    for table, n in report.mapped.items():
        print(f"  {table:<22} {n:>10,} {noun_for(n, 'row')}")
    dropped = sum(report.drops.values())
    not_carried = counted(dropped, "source row or value", "source rows or values")
    print(f"{not_carried} not carried over (reasons in mapping_report.md)")
    if report.conflicts:
        items = counted(len(report.conflicts), "item")
        print(f"{items} on which records of one patient or tumour disagree (mapping_report.md)")
    undecidable = [g for g in report.criteria if g["outcome"] != "review" or g["missing"]]
    if undecidable:
        print("Criteria the data cannot decide:")
        for gap in undecidable:
            print(f"  {gap['criterion']:<28} {gap['outcome']:<8} {gap['scope']}")
    from oligo_cohort.cli import command_line  # the command as it runs from here (.venv/bin/oligo-cohort ...)

    print(f"{counted(len(report.findings), 'validation finding')}. Next (from this folder):")
    print(f"  {command_line('screen', Path(out), '--out', Path('screen-out'))}")
    return 0
