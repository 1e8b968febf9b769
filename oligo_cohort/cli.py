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
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shlex
import shutil
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
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


def _protocol_from(args: argparse.Namespace):
    from oligo_cohort.protocol import load_protocol, parameter_settings

    protocol = load_protocol(args.protocol)
    if args.overrides:
        protocol = protocol.with_overrides(parameter_settings(args.overrides))
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
    with destination, tracking(RunProgress()):
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
    from oligo_cohort.disclosure import choose, synthetic_source
    from oligo_cohort.paths import demo_extract_dir

    extract = demo_extract_dir()
    with OutputFolder(args.out, "screen", inputs=[extract]) as destination, tracking(RunProgress()):
        print(f"Screening the bundled demo extract ({shown_path(extract)})")
        result = screen(extract, engine=args.engine)
        out = result.write(destination)
    _print_summary(result, out)
    synthetic = synthetic_source(result)
    if synthetic:
        print("\n" + choose(None, synthetic_source=synthetic).banner())
    print("\nNext (from this folder):")
    for words, why in (
        (("screen", extract, "--out", Path("screen-out"), "--worklist"), "patients whose window is open now"),
        (("attrition", out, "--out", Path("attrition-out"), "--by", "site"), "attrition, CONSORT diagrams, impact"),
        (("report", extract, "--out", Path("report-out")), "the feasibility report (HTML)"),
    ):
        print(f"  {command_line(*words)}   # {why}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate an extract without screening it."""
    from oligo_cohort.load import load_extract
    from oligo_cohort.problems import classified
    from oligo_cohort.problems.summary import severity_counts_text, summary_lines

    with tracking(RunProgress()):
        loaded = load_extract(args.extract, as_of=args.as_of)
    counts = {t: loaded.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in sorted(loaded.present)}
    print(f"{loaded.origin}: no fatal problems; cut-off {loaded.as_of}")
    for table, n in counts.items():
        print(f"  {table:<22} {n:>10,} rows")
    findings = classified(loaded.findings)
    see = str(args.problems_file.requested) if args.problems_file else "--problems FILE"
    if findings:
        print(f"{severity_counts_text(findings, noun='finding')} (every one in {see}):")
        for line in summary_lines(findings, see=see):
            print(line)
    else:
        print("no findings")
    if args.problems_file:
        _write_problems(findings, args.problems_file)
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
    from oligo_cohort.api import STATUS_ORDER
    from oligo_cohort.problems.summary import severity_counts_text, summary_lines

    counts = result.counts()
    total = sum(counts.values())
    print(
        f"\nProtocol {result.protocol.name} ({result.protocol.version}); cut-off {result.as_of}; engine {result.engine}"
    )
    print(f"{total:,} patients: " + ", ".join(f"{counts.get(s, 0):,} {s}" for s in STATUS_ORDER))
    print("\nOutcome of each criterion (patients, best event):")
    for line in _outcome_lines(result.outcome_counts()):
        print(line)
    findings = result.problems()
    where = shown_path(out / "findings.csv")
    if findings:
        print(f"\n{severity_counts_text(findings, noun='data-quality finding')} (every one in {where}):")
        for line in summary_lines(findings, see=where, examples=0):
            print(line)
    else:
        print("\nNo data-quality findings.")
    print(f"Results in {shown_path(out)}/")


def _outcome_lines(counts: list[tuple[str, dict[str, int]]]) -> list[str]:
    """The outcome counts as an aligned table: a criterion per row, an outcome per column."""
    outcomes = list(counts[0][1]) if counts else []
    name_width = max(len("criterion"), *(len(c) for c, _ in counts))
    widths = {o: max(len(o), *(len(f"{n[o]:,}") for _, n in counts)) for o in outcomes}
    header = "criterion".ljust(name_width) + "".join(f"  {o:>{widths[o]}}" for o in outcomes)
    rows = [c.ljust(name_width) + "".join(f"  {n[o]:>{widths[o]},}" for o in outcomes) for c, n in counts]
    return [header, *rows]


def shown_path(path: str | Path) -> str:
    """A path as a user types it here: relative to the current folder when inside it, else absolute; quoted for a
    shell when it needs to be."""
    absolute = Path(os.path.abspath(path))
    try:
        text = str(absolute.relative_to(Path.cwd())) or "."
    except ValueError:
        text = str(absolute)
    return shlex.quote(text)


def command_prefix() -> str:
    """How this user runs oligo-cohort from the current folder: `oligo-cohort` when the shell finds this very
    command, else its path (`.venv/bin/oligo-cohort`), or `python -m oligo_cohort` as it was started."""
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if started is not None and started.name == "__main__.py" and started.parent.name == "oligo_cohort":
        return f"{shown_path(sys.executable)} -m oligo_cohort"
    script = started if started is not None and started.name == "oligo-cohort" and started.is_file() else None
    # Called from Python (a notebook, the tests): the command installed beside this interpreter.
    script = script or Path(sys.executable).parent / "oligo-cohort"
    if not script.is_file():
        return "oligo-cohort"
    found = shutil.which("oligo-cohort")
    if found and Path(found).resolve() == script.resolve():
        return "oligo-cohort"
    return shown_path(script)


def command_line(*words: str | Path) -> str:
    """An oligo-cohort command that runs as printed from the current folder (paths shown as `shown_path`)."""
    shown = [shown_path(w) if isinstance(w, Path) else shlex.quote(w) for w in words]
    return " ".join([command_prefix(), *shown])


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


def _write_problems(problems, destination: OutputFile, *, say: bool = True) -> None:
    from oligo_cohort.csv_output import write_csv
    from oligo_cohort.problems import problems_frame

    frame = problems_frame(problems)
    destination.write(lambda path: write_csv(frame, path))
    if say:
        print(f"wrote every problem to {destination.requested}", file=sys.stderr)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every subcommand; of the plugged ones only `command`'s options are set up.

    A plugged command's module (and what it imports: matplotlib, scipy…) is imported only when that command
    runs, so `oligo-cohort --help` and every other command start without it.
    """
    parser = _Parser(
        prog="oligo-cohort",
        description="Pre-screen registry extracts for the COSMO oligoprogression trial.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", dest="global_verbose", action="store_true", help=_VERBOSE_HELP)
    parser.add_argument("-q", "--quiet", dest="global_quiet", action="store_true", help=_QUIET_HELP)
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
    demo.add_argument("--engine", default="duckdb", choices=sorted(ENGINES), help="evaluation engine")
    demo.set_defaults(handler=cmd_demo)

    validate = sub.add_parser("validate", help="check an extract against the data dictionary; no screening")
    validate.add_argument("extract", help="extract folder (CSV/Parquet per table) or DuckDB database file")
    validate.add_argument(
        "--as-of", metavar="YYYY-MM-DD", help="data cut-off (default: the latest date in the extract)"
    )
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
    for chosen in sub.choices.values():
        _add_output_options(chosen)
    return parser


_VERBOSE_HELP = "log every stage of the run with its time and memory, inner stages too"
_QUIET_HELP = "no progress lines: only results, warnings and errors"


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    """`-v/--verbose` and `-q/--quiet` after a command too (and after each of its steps), unless it has its own."""
    for flags, dest, text in (
        (("-v", "--verbose"), "verbose", _VERBOSE_HELP),
        (("-q", "--quiet"), "quiet", _QUIET_HELP),
    ):
        own = parser._option_string_actions.get(flags[1])
        if own is None:
            parser.add_argument(*[f for f in flags if f not in parser._option_string_actions], dest=dest,
                                action="store_true", help=text)  # fmt: skip
        elif own.dest == dest and flags[0] not in parser._option_string_actions:  # a command's own --quiet: and -q
            own.option_strings.insert(0, flags[0])
            parser._option_string_actions[flags[0]] = own
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for step in action.choices.values():
                _add_output_options(step)


class _HelpFormatter(argparse.HelpFormatter):
    """Help that shows each option's default and keeps the example commands of the epilog as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        shown = action.option_strings and default not in (None, False, True, argparse.SUPPRESS, [], "")
        if not shown or "default" in text:
            return text
        return text + " (default: %(default)s)"

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        # Paragraphs are wrapped; a paragraph of indented lines (an example command) is kept as written.
        paragraphs = []
        for paragraph in text.split("\n\n"):
            if paragraph.startswith("  "):
                paragraphs.append("\n".join(indent + line for line in paragraph.splitlines()))
            else:
                paragraphs.append(super()._fill_text(paragraph, width, indent))
        return "\n\n".join(paragraphs)


class _Parser(argparse.ArgumentParser):
    """The parser of the command and of every subcommand: defaults shown, and an example in the epilog."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def format_help(self) -> str:
        if self.epilog is None:
            self.epilog = example_epilog(self.prog.split(" ", 1)[1] if " " in self.prog else "")
        return super().format_help()


# One example per command, each runs as printed from the repository: on the bundled demo extract ({demo}), or on
# the screen folder `make demo` writes (demo-output/). {prog} is the command as this user runs it.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "": ("{prog} demo", "{prog} screen {demo} --out screen-out"),
    "screen": ("{prog} screen {demo} --out screen-out --as-of 2024-06-30 --worklist",),
    "demo": ("{prog} demo --out demo-output",),
    "validate": ("{prog} validate {demo} --problems problems.csv",),
    "dictionary": ("{prog} dictionary --out data-dictionary.md",),
    "synth": ("{prog} synth --patients 2000 --sites 12 --format csv --out synthetic-extract",),
    "attrition": ("{prog} attrition demo-output --out attrition-out --by site",),
    "report": ("{prog} report {demo} --out report-out --target 20 --author 'A. Analyst'",),
    "accrual": ("{prog} accrual demo-output --target 20 --start 2025-01-01 --out accrual-out",),
    "import": ("{prog} import nkr YOUR_NKR_FILE.csv --out nkr-extract",),
    "review": ("{prog} review export demo-output --out review-out",),
    "review export": ("{prog} review export demo-output --out review-out --status eligible,unknown",),
    "review import": ("{prog} review import review-out/review.csv --extract {demo} --out reviewed-extract",),
}
# Commands whose example needs a file of the user's own (no such source ships with the tool).
OWN_INPUT_EXAMPLES = frozenset({"import"})


def example_commands(command: str) -> list[str]:
    """The example commands of a command (`""` for oligo-cohort itself, `"review export"` for a step)."""
    from oligo_cohort.paths import demo_extract_dir

    fill = {"prog": command_prefix(), "demo": shown_path(demo_extract_dir())}
    return [example.format(**fill) for example in EXAMPLES.get(command, ())]


def example_epilog(command: str) -> str:
    """The epilog of a command's --help: its example, and what it runs on."""
    lines = example_commands(command)
    if not lines:
        return ""
    if command in OWN_INPUT_EXAMPLES:
        where = "with a file of your own"
    elif any("demo-output" in line for line in lines):
        where = "on the demo, after `make demo` (or `oligo-cohort demo`) has written demo-output/"
    else:
        where = "on the bundled demo extract"
    title = "Examples" if len(lines) > 1 else "Example"
    return f"{title} ({where}):\n\n" + "\n".join(f"  {line}" for line in lines)


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
    with escaped_output(), interruption.signals_handled(), _logging_to_stderr() as log_handler:
        try:
            words = list(sys.argv[1:] if argv is None else argv)
            # Exits (SystemExit) on --help or a bad option, as argparse does.
            args = build_parser(_chosen_command(words)).parse_args(words)
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
                    return _failed(exc, args)
                except BrokenPipeError:  # even stderr is gone
                    _silence_stdout()
                    return 141


class _TerminalLog(logging.Handler):
    """The package's log records on stderr, as the command line shows them.

    Stage records (`oligo_cohort.progress`): by default one line per top-level stage on a terminal
    (`  read … 0.4 s`), none when stderr is a file or a pipe; with --verbose every record on a line of its own,
    with the seconds since the start, inner stages indented. Other records: `oligo-cohort: warning: …`.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.verbose = False

    def set_verbosity(self, *, verbose: bool, quiet: bool) -> None:
        self.verbose = verbose and not quiet
        level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
        logging.getLogger(PACKAGE_LOGGER).setLevel(level)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stderr
            event = getattr(record, "stage_event", None)
            if self.verbose:
                indent = "  " * int(getattr(record, "depth", 0) or 0)
                text = f"[{record.relativeCreated / 1000:7.1f} s] {indent}{record.getMessage()}\n"
            elif event is not None:
                if not stream.isatty():
                    return
                text = f"  {record.stage} …" if event == "start" else f" {record.seconds:.1f} s\n"  # type: ignore[attr-defined]
            else:
                text = f"oligo-cohort: {record.levelname.lower()}: {record.getMessage()}\n"
            stream.write(text)
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass


PACKAGE_LOGGER = "oligo_cohort"


@contextlib.contextmanager
def _logging_to_stderr() -> Iterator[_TerminalLog]:
    """Show the package's log records on stderr for one run of `main()` (progress by default, see _TerminalLog)."""
    logger = logging.getLogger(PACKAGE_LOGGER)
    handler = _TerminalLog()
    saved = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved)


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
    """Every fatal problem, grouped by kind with counts and a few rows each; all of them in --problems FILE."""
    from oligo_cohort.problems.summary import counts_by_severity, summary_lines

    problems = exc.problems
    failed: DestinationError | None = None
    if problems_file:
        try:
            _write_problems(problems, problems_file, say=False)
        except DestinationError as error:
            failed = error
    written = problems_file is not None and failed is None
    see = str(problems_file.requested) if written and problems_file else "--problems FILE"
    count = sum(counts_by_severity(problems).values())
    print(f"oligo-cohort: the extract cannot be screened: {count:,} fatal problem(s)", file=sys.stderr)
    for line in summary_lines(problems, see=see):
        print(line, file=sys.stderr)
    if written and problems_file:
        print(f"wrote every problem to {problems_file.requested}", file=sys.stderr)
    if failed is not None:
        print(f"oligo-cohort: error: {failed}", file=sys.stderr)
    print("No output was written. Fix the extract and run again.", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
