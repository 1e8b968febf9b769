"""`oligo-cohort report EXTRACT --out DIR`: screen an extract and write the feasibility report and shareable bundle.

With `--compare-protocol` (and/or `--compare-set PARAM=VALUE`) the extract is
screened a second time and the report shows the attrition side by side.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from oligo_cohort.accrual.command import accrual_start, target_count
from oligo_cohort.attrition.command import add_attrition_options, options_from
from oligo_cohort.counts_in_words import counted
from oligo_cohort.engines import ENGINES
from oligo_cohort.errors import UsageError
from oligo_cohort.protocol import parameter_settings, shipped_protocols

HELP = "screen an extract and write the feasibility report (HTML) with its shareable bundle"


def configure(parser: argparse.ArgumentParser) -> None:
    """The arguments of `oligo-cohort report`."""
    shipped = " or ".join(shipped_protocols())
    parser.add_argument("extract", help="extract folder (CSV/Parquet per table) or DuckDB database file")
    parser.add_argument(
        "--out", required=True, type=Path, help="output folder (new, or an earlier report: replaced whole)"
    )
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="data cut-off (default: the latest date in the extract)")
    parser.add_argument("--protocol", default="cosmo", metavar="NAME|PATH", help=f"protocol: {shipped}, or a YAML path")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="PARAM=VALUE", help="change a parameter"
    )
    parser.add_argument(
        "--compare-protocol", metavar="NAME|PATH", help="also screen under this protocol and compare side by side"
    )
    parser.add_argument(
        "--compare-set",
        dest="compare_overrides",
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="compare with the protocol changed like this (on top of --compare-protocol, else of --protocol)",
    )
    parser.add_argument("--engine", default="duckdb", choices=sorted(ENGINES), help="evaluation engine")
    parser.add_argument(
        "--no-screen-output", dest="write_screen", action="store_false", help="do not keep the patient-level result"
    )
    parser.add_argument("--author", metavar="NAME", help="who ran the report (shown in its provenance block)")
    parser.add_argument(
        "--target", type=target_count, metavar="N", help="add an accrual forecast: patients to enrol (see `accrual`)"
    )
    parser.add_argument(
        "--start", type=accrual_start, metavar="YYYY-MM-DD", help="start of trial accrual for --target (default: the day "
        "after the cut-off)",
    )  # fmt: skip
    parser.add_argument(
        "--formats", default="png,svg", metavar="png,svg,pdf", help="figure formats to write (default png,svg)"
    )
    add_attrition_options(parser)
    # Chart review stage (oligo_cohort.review.flow): the reviewed extract, screened at the same cut-off.
    parser.add_argument(
        "--after-review",
        metavar="NEW_EXTRACT",
        help="extract written by `review import`: screen it too and add the chart review stage to the report",
    )


def run(args: argparse.Namespace) -> int:
    """Screen (once, or twice for a comparison) and write the report folder."""
    from oligo_cohort.api import screen
    from oligo_cohort.attrition.bundle import parse_formats
    from oligo_cohort.attrition.comparison import protocol_with
    from oligo_cohort.attrition.feasibility import disclosure_for, write_feasibility_report
    from oligo_cohort.cli import protocol_paths
    from oligo_cohort.destination import OutputFolder
    from oligo_cohort.load import parse_as_of

    if args.start is not None and args.target is None:
        raise UsageError("--start needs --target (the accrual forecast's number of patients)")
    formats = parse_formats(args.formats)
    inputs = [args.extract, *protocol_paths(args.protocol), *protocol_paths(args.compare_protocol)]
    inputs += [args.after_review] if args.after_review else []
    # The destination is checked and claimed before the (long) screens.
    with OutputFolder(args.out, "report", inputs=inputs) as destination:
        protocol = protocol_with(args.protocol, parameter_settings(args.overrides, "--set"))
        as_of = parse_as_of(args.as_of, given_as="--as-of")
        result = screen(args.extract, as_of=as_of, protocol=protocol, engine=args.engine)
        compare = None
        if args.compare_protocol or args.compare_overrides:
            base = args.compare_protocol or protocol
            other = protocol_with(base, parameter_settings(args.compare_overrides, "--compare-set"))
            compare = screen(args.extract, as_of=result.as_of, protocol=other, engine=args.engine)
        options = options_from(args, level="patients", by=("site", "year"))
        choice = disclosure_for(result, args.disclosure_control)
        review_stage = _review_stage(args, result, choice.applied)  # chart review stage (oligo_cohort.review.flow)
        out = write_feasibility_report(
            result,
            destination,
            options=options,
            compare_result=compare,
            disclosure_control=choice,
            write_screen=args.write_screen,
            formats=formats,
            author=args.author,
            target=args.target,
            start=args.start,
            extra_sections=(review_stage,) if review_stage is not None else (),  # chart review stage
        )
    counts = result.counts()
    summary = ", ".join(f"{counts.get(s, 0):,} {s}" for s in ("eligible", "unknown", "ineligible"))
    caveat = " (exact here; the report's counts are disclosure-controlled)" if choice.applied else ""
    screened = sum(counts.values())
    print(f"{counted(screened, 'patient')} screened: {summary}{caveat}")
    print(choice.banner())
    print(f"Report: {out / 'shareable' / 'report.html'}")
    print(f"Shareable bundle: {out / 'shareable'} (zipped: {out / 'shareable.zip'})")
    if args.write_screen:
        print(f"Patient-level result (internal only): {out / 'screen'}")
    return 0


def _review_stage(args: argparse.Namespace, result, disclosure_control: bool):
    """The chart review stage when `--after-review` is given (oligo_cohort.review.flow), else None."""
    if args.after_review is None:
        return None
    from oligo_cohort.review.flow import stage_for_extract

    return stage_for_extract(result, args.after_review, engine=args.engine, disclosure_control=disclosure_control)
