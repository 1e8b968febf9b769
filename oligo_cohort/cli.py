"""Command line: `oligo-cohort screen|demo|validate|dictionary|...`.

Every error meant for the user is printed as a message, never a traceback:
fatal input problems list each problem (table, column, row, id, value) and
exit with code 2, leaving no output files behind.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from oligo_cohort import __version__
from oligo_cohort.engines import ENGINES
from oligo_cohort.errors import InputError, OligoCohortError, UsageError
from oligo_cohort.progress import RunProgress, tracking
from oligo_cohort.protocol import shipped_protocols

# Fatal problems printed on the terminal; the rest are counted (all go to --problems FILE when asked).
MAX_PRINTED_PROBLEMS = 200


def _add_screen_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="data cut-off (default: the latest date in the extract)")
    parser.add_argument(
        "--protocol",
        default="cosmo",
        metavar="NAME|PATH",
        help=f"protocol file: {' or '.join(shipped_protocols())} (shipped), or the path of your own YAML",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="change one protocol parameter for this run (repeatable), e.g. --set size_floor_mm=10",
    )
    parser.add_argument("--engine", default="duckdb", choices=sorted(ENGINES), help="evaluation engine")
    parser.add_argument("--problems", metavar="FILE", help="also write every input problem found to this CSV file")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _protocol_from(args: argparse.Namespace):
    from oligo_cohort.protocol import load_protocol

    protocol = load_protocol(args.protocol)
    if args.overrides:
        pairs: dict[str, str] = {}
        for item in args.overrides:
            key, sep, value = item.partition("=")
            if not sep:
                raise UsageError(f"--set {item!r}: expected PARAM=VALUE")
            pairs[key.strip()] = value.strip()
        protocol = protocol.with_overrides(pairs)
    return protocol


def cmd_screen(args: argparse.Namespace) -> int:
    """Screen an extract and write the result files."""
    from oligo_cohort.api import screen

    source = args.extract
    if args.spark_tables or args.spark_output:
        if args.engine != "spark":
            raise UsageError("--spark-tables and --spark-output need --engine spark")
        from oligo_cohort.engines.spark_engine import SparkTables, configure

        configure(output=args.spark_output)
        if args.spark_tables:
            source = SparkTables(None if args.extract in ("", "-") else args.extract)
    with tracking(RunProgress(quiet=args.quiet)):
        result = screen(
            source,
            as_of=args.as_of,
            protocol=_protocol_from(args),
            engine=args.engine,
            worklist=args.worklist,
        )
        out = result.write(args.out, parquet=args.parquet)
    _print_summary(result, out)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Screen the bundled demo extract."""
    from oligo_cohort.api import screen
    from oligo_cohort.paths import demo_extract_dir

    extract = demo_extract_dir()
    print(f"Screening the bundled demo extract ({extract})")
    result = screen(extract, engine=args.engine)
    out = result.write(args.out)
    _print_summary(result, out)
    print(f"\nNext: oligo-cohort screen {extract} --out screen-out --worklist   (patients whose window is open)")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate an extract without screening it."""
    from oligo_cohort.load import load_extract

    loaded = load_extract(args.extract, as_of=args.as_of)
    counts = {t: loaded.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in sorted(loaded.present)}
    print(f"{loaded.origin}: no fatal problems; cut-off {loaded.as_of}")
    for table, n in counts.items():
        print(f"  {table:<22} {n:>10,} rows")
    print(f"{len(loaded.findings)} finding(s)")
    for finding in loaded.findings[:MAX_PRINTED_PROBLEMS]:
        print("  " + finding.describe())
    if args.problems:
        _write_problems(loaded.findings, Path(args.problems))
    return 0


def cmd_dictionary(args: argparse.Namespace) -> int:
    """Print (or write) the human-readable data dictionary."""
    from oligo_cohort.dictionary import render_markdown

    text = render_markdown()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _print_summary(result, out: Path) -> None:
    counts = result.counts()
    total = sum(counts.values())
    print(
        f"\nProtocol {result.protocol.name} ({result.protocol.version}); cut-off {result.as_of}; engine {result.engine}"
    )
    print(
        f"{total:,} patients: " + ", ".join(f"{counts.get(s, 0):,} {s}" for s in ("eligible", "unknown", "ineligible"))
    )
    print("\nOutcome of each criterion (patients, best event):")
    table = result.outcome_table()
    print(table.to_string())
    findings = result.con.execute("SELECT count(*) FROM findings").fetchall()[0][0]
    print(f"\n{findings:,} data-quality finding(s); results in {out}/")


def _write_problems(problems, path: Path) -> None:
    from oligo_cohort.problems import problems_frame

    problems_frame(problems).to_csv(path, index=False)
    print(f"wrote every problem to {path}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="oligo-cohort",
        description="Pre-screen registry extracts for the COSMO oligoprogression trial.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    screen = sub.add_parser("screen", help="screen an extract; write patients, events, reasons, findings")
    screen.add_argument("extract", help="extract folder (CSV/Parquet per table) or DuckDB database file")
    screen.add_argument("--out", required=True, type=Path, help="output folder (replaced atomically)")
    screen.add_argument("--worklist", action="store_true", help="site mode: closed windows fail; write worklist.csv")
    screen.add_argument("--parquet", action="store_true", help="also write Parquet twins of the CSV files")
    screen.add_argument(
        "--spark-tables",
        action="store_true",
        help="with --engine spark: EXTRACT names a Spark database whose tables are named as in the data model "
        "('-' for the current database); see docs/spark.md",
    )
    screen.add_argument(
        "--spark-output",
        metavar="URI",
        help="with --engine spark: Spark also writes the results as Parquet partitioned by site under URI",
    )
    _add_screen_options(screen)
    screen.set_defaults(handler=cmd_screen)

    demo = sub.add_parser("demo", help="screen the bundled demo extract and print a summary")
    demo.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder (default demo-output)")
    demo.add_argument("--engine", default="duckdb", choices=sorted(ENGINES))
    demo.set_defaults(handler=cmd_demo)

    validate = sub.add_parser("validate", help="check an extract against the data dictionary; no screening")
    validate.add_argument("extract")
    validate.add_argument("--as-of", metavar="YYYY-MM-DD")
    validate.add_argument("--problems", metavar="FILE", help="write every problem found to this CSV file")
    validate.set_defaults(handler=cmd_validate)

    dictionary = sub.add_parser("dictionary", help="print the data dictionary as Markdown")
    dictionary.add_argument("--out", help="write it to this file instead")
    dictionary.set_defaults(handler=cmd_dictionary)

    for name, module, help_text in _PLUGGED_COMMANDS:
        _add_plugged(sub, name, module, help_text)
    return parser


# Subcommands whose options and work live in their own package (module exposes configure(parser) and run(args)).
_PLUGGED_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("synth", "oligo_cohort.synth.command", "write a synthetic registry extract (realistic clinical mix, any size)"),
    (
        "attrition",
        "oligo_cohort.attrition.command",
        "attrition by criterion (tables, CONSORT diagram, charts) from a screen output folder",
    ),
    (
        "report",
        "oligo_cohort.attrition.report_command",
        "screen an extract and write the feasibility report (HTML) with its shareable bundle",
    ),
    (
        "accrual",
        "oligo_cohort.accrual.command",
        "site accrual: historical rates, Poisson-gamma and constant-accrual forecasts, time to target",
    ),
    (
        "import",
        "oligo_cohort.importers.command",
        "import an OMOP CDM v5.4 source or an NKR-style registry file as a canonical extract, with a mapping report",
    ),
    (
        "review",
        "oligo_cohort.review.command",
        "chart review: export the open questions of a screen, import the answers",
    ),
)


def _add_plugged(sub, name: str, module: str, help_text: str) -> None:
    import importlib

    command = importlib.import_module(module)
    parser = sub.add_parser(name, help=help_text)
    command.configure(parser)
    parser.set_defaults(handler=command.run)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `oligo-cohort` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except InputError as exc:
        _report_input_error(exc, getattr(args, "problems", None))
        return exc.exit_code
    except OligoCohortError as exc:
        print(f"oligo-cohort: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("oligo-cohort: interrupted; no output was written", file=sys.stderr)
        return 130


def _report_input_error(exc: InputError, problems_file: str | None) -> None:
    problems = exc.problems
    print(f"oligo-cohort: the extract cannot be screened: {len(problems)} fatal problem(s)", file=sys.stderr)
    for problem in problems[:MAX_PRINTED_PROBLEMS]:
        print("  " + problem.describe(), file=sys.stderr)
    if len(problems) > MAX_PRINTED_PROBLEMS:
        print(f"  ... and {len(problems) - MAX_PRINTED_PROBLEMS} more (use --problems FILE)", file=sys.stderr)
    if problems_file:
        _write_problems(problems, Path(problems_file))
    print("No output was written. Fix the extract and run again.", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
