"""`oligo-cohort synth`: write a synthetic registry extract, optionally with its profile report."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from oligo_cohort.counts_in_words import counted
from oligo_cohort.synth.options import DEFAULT_BATCH_SIZE, FORMATS, OPTIONAL_TABLES
from oligo_cohort.terminal import rewrite_line

HELP = "write a synthetic registry extract (realistic clinical mix, any size)"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of `oligo-cohort synth`."""
    parser.description = (
        "Write a synthetic metastatic breast cancer registry extract: all eight tables of the data model, "
        "deterministic for a seed, with realistic imperfections unless --clean."
    )
    parser.add_argument("--patients", type=int, required=True, metavar="N", help="number of patients")
    parser.add_argument("--sites", type=int, required=True, metavar="K", help="number of treating hospitals")
    parser.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="new or empty folder (or an earlier synthetic extract)"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument(
        "--format", dest="fmt", choices=FORMATS, default="parquet", help="file format (default parquet)"
    )
    parser.add_argument("--start", default="2015-01-01", metavar="YYYY-MM-DD", help="first day of the registry period")
    parser.add_argument("--end", default="2024-12-31", metavar="YYYY-MM-DD", help="last day (the data cut-off)")
    parser.add_argument("--clean", action="store_true", help="no imperfections (missing values, unknown drug names...)")
    parser.add_argument(
        "--omit-table",
        dest="omit_tables",
        action="append",
        default=[],
        choices=OPTIONAL_TABLES,
        metavar="TABLE",
        help=f"leave out an optional table (repeatable): {', '.join(OPTIONAL_TABLES)}",
    )
    parser.add_argument("--summary", action="store_true", help="print the extract's profile and screening outcome mix")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"patients per written batch / Parquet row group (default {DEFAULT_BATCH_SIZE:,}); bounds memory",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def run(args: argparse.Namespace) -> int:
    """Generate the extract (and print its profile with --summary); exit code 0."""
    from oligo_cohort.synth.generate import generate_extract  # here: `synth --help` need not load NumPy and Arrow

    started = time.perf_counter()
    show = not args.quiet and sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show:
            rewrite_line(f"  {done:,} / {total:,} patients")

    folder = generate_extract(
        args.out,
        patients=args.patients,
        sites=args.sites,
        seed=args.seed,
        fmt=args.fmt,
        start=args.start,
        end=args.end,
        imperfect=not args.clean,
        batch_size=args.batch_size,
        omit_tables=args.omit_tables,
        progress=progress,
    )
    if show:
        print(file=sys.stderr)
    seconds = time.perf_counter() - started
    kind = "clean" if args.clean else "with realistic imperfections"
    patients, sites = counted(args.patients, "patient"), counted(args.sites, "site")
    print(f"Wrote {patients} at {sites} ({args.fmt}, {kind}) to {folder} in {seconds:.1f} s")
    if args.summary:
        from oligo_cohort.synth.summary import summarise_extract

        print()
        print(summarise_extract(folder).render(), end="")
    return 0
