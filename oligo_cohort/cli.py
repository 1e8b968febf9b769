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
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from oligo_cohort import __version__, interruption
from oligo_cohort.destination import (
    DestinationError,
    OutputFile,
    OutputFolder,
    Protected,
    resolved,
    starts_with_line,
)
from oligo_cohort.engines import ENGINES
from oligo_cohort.errors import InputError, OligoCohortError, UsageError
from oligo_cohort.progress import RunProgress, tracking
from oligo_cohort.protocol import shipped_protocols
from oligo_cohort.terminal import escaped_output

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
        from oligo_cohort.engines.spark import SparkTables, configure

        configure(output=args.spark_output)
        if args.spark_tables:
            source = SparkTables(None if args.extract in ("", "-") else args.extract)
    inputs = [] if args.spark_tables else [args.extract]
    destination = OutputFolder(args.out, "screen", inputs=[*inputs, *protocol_paths(args.protocol)])
    with destination, tracking(RunProgress(quiet=args.quiet)):
        result = screen(
            source,
            as_of=args.as_of,
            protocol=_protocol_from(args),
            engine=args.engine,
            worklist=args.worklist,
            explain=args.explain,
        )
        out = result.write(destination, parquet=args.parquet)
    _print_summary(result, out)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Screen the bundled demo extract."""
    from oligo_cohort.api import screen
    from oligo_cohort.paths import demo_extract_dir

    extract = demo_extract_dir()
    with OutputFolder(args.out, "screen", inputs=[extract]) as destination:
        print(f"Screening the bundled demo extract ({extract})")
        result = screen(extract, engine=args.engine)
        out = result.write(destination)
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
    if args.problems_file:
        _write_problems(loaded.findings, args.problems_file)
    return 0


def cmd_dictionary(args: argparse.Namespace) -> int:
    """Print (or write) the human-readable data dictionary."""
    from oligo_cohort.dictionary import render_markdown

    text = render_markdown()
    if args.out:
        from oligo_cohort.paths import dictionary_dir

        title = "\n".join(text.splitlines()[:4])  # the title and the "generated by" note
        destination = OutputFile(
            args.out,
            what="a data dictionary written by `oligo-cohort dictionary`",
            recognise=starts_with_line(title),
            inputs=[dictionary_dir()],
            option="--out",
        )
        destination.write_text(text)
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


def protocol_paths(protocol: str | None) -> list[Path]:
    """The protocol file a `--protocol` option names, when it is a file (a shipped name is not an input path)."""
    if protocol and protocol not in shipped_protocols() and Path(protocol).exists():
        return [Path(protocol)]
    return []


def problems_destination(args: argparse.Namespace) -> OutputFile | None:
    """The `--problems FILE` of a command, checked before any work: a new file or an earlier problems CSV only."""
    from oligo_cohort.problems import PROBLEM_COLUMNS

    path = getattr(args, "problems", None)
    if not path:
        return None
    protected = [Protected(resolved(args.out), "--out folder")] if getattr(args, "out", None) else []
    destination = OutputFile(
        path,
        what="a problems file written by oligo-cohort (its first line is the problems header)",
        recognise=starts_with_line(",".join(PROBLEM_COLUMNS) + "\n"),
        inputs=[getattr(args, "extract", None), *protocol_paths(getattr(args, "protocol", None))],
        protected=protected,
        option="--problems",
    )
    destination.check()
    return destination


def _write_problems(problems, destination: OutputFile) -> None:
    from oligo_cohort.csv_output import write_csv
    from oligo_cohort.problems import problems_frame

    frame = problems_frame(problems)
    destination.write(lambda path: write_csv(frame, path))
    print(f"wrote every problem to {destination.requested}", file=sys.stderr)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every subcommand; of the plugged ones only `command`'s options are set up.

    A plugged command's module (and what it imports: matplotlib, scipy…) is imported only when that command
    runs, so `oligo-cohort --help` and every other command start without it.
    """
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
        "--explain",
        choices=("best-event", "all-events"),
        default="best-event",
        help="reasons.csv explains each patient's best event (default) or every candidate event",
    )
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
    dictionary.add_argument(
        "--out", help="write it to this file instead (a new file, or one this command wrote before)"
    )
    dictionary.set_defaults(handler=cmd_dictionary)

    for name, module, help_text in _PLUGGED_COMMANDS:
        plugged = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            _configure_plugged(plugged, module)
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


def _configure_plugged(parser: argparse.ArgumentParser, module: str) -> None:
    import importlib

    command = importlib.import_module(module)
    command.configure(parser)
    parser.set_defaults(handler=command.run)


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (the first word that is not an option)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `oligo-cohort` command."""
    args = argparse.Namespace()
    with escaped_output(), interruption.signals_handled():
        try:
            words = list(sys.argv[1:] if argv is None else argv)
            # Exits (SystemExit) on --help or a bad option, as argparse does.
            args = build_parser(_chosen_command(words)).parse_args(words)
            args.problems_file = problems_destination(args)
            handler: Callable[[argparse.Namespace], int] = args.handler
            code = handler(args)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
            return code
        except BaseException as exc:  # the last line of defence: every outcome is a message and an exit code
            with interruption.ignored():
                try:
                    return _failed(exc, args)
                except BrokenPipeError:  # even stderr is gone
                    _silence_stdout()
                    return 141


def _failed(exc: BaseException, args: argparse.Namespace) -> int:
    """Report why the run stopped (one message, no traceback) and give its exit code."""
    signum = interruption.stopped_by(exc)
    if signum is not None:
        _say(f"oligo-cohort: {interruption.NAMES[signum]}; no output folder or file was left half-written")
        return interruption.EXIT_CODES[signum]
    if isinstance(exc, BrokenPipeError):
        _silence_stdout()
        return 141
    if isinstance(exc, SystemExit):
        raise exc
    if isinstance(exc, InputError):
        _report_input_error(exc, getattr(args, "problems_file", None))
        return exc.exit_code
    if isinstance(exc, OligoCohortError):
        _say(f"oligo-cohort: error: {exc}")
        return exc.exit_code
    if isinstance(exc, MemoryError | duckdb.OutOfMemoryException):
        _say(
            "oligo-cohort: error: out of memory. Screen in smaller slices (OLIGO_COHORT_SLICE_PATIENTS), change "
            "DuckDB's memory cap (OLIGO_COHORT_MEMORY_LIMIT), or run on a machine with more memory"
        )
        return 2
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        _say(f"oligo-cohort: error: {exc.strerror}{where}")
        return 2
    if isinstance(exc, duckdb.IOException | duckdb.PermissionException):
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


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so that Python's last flush at exit stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (OSError, AttributeError, ValueError):
        pass


def _report_input_error(exc: InputError, problems_file: OutputFile | None) -> None:
    problems = exc.problems
    print(f"oligo-cohort: the extract cannot be screened: {len(problems)} fatal problem(s)", file=sys.stderr)
    for problem in problems[:MAX_PRINTED_PROBLEMS]:
        print("  " + problem.describe(), file=sys.stderr)
    if len(problems) > MAX_PRINTED_PROBLEMS:
        print(f"  ... and {len(problems) - MAX_PRINTED_PROBLEMS} more (use --problems FILE)", file=sys.stderr)
    if problems_file:
        try:
            _write_problems(problems, problems_file)
        except DestinationError as error:
            print(f"oligo-cohort: error: {error}", file=sys.stderr)
    print("No output was written. Fix the extract and run again.", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
