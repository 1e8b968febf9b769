"""The commands the package itself holds: `screen`, `demo`, `validate` and `dictionary`.

The other commands live in their own packages (`parser`'s plugged commands); these four share the screening
options and the summary a screen prints.
"""

import argparse
import sys
from pathlib import Path

from oligo_cohort.cli.run_files import protocol_paths, write_problems
from oligo_cohort.cli.shown import command_line, shown_path
from oligo_cohort.counts_in_words import counted, noun_for
from oligo_cohort.destination import (
    OutputFile,
    OutputFolder,
    starts_with_line,
)
from oligo_cohort.engines import ENGINES
from oligo_cohort.errors import UsageError
from oligo_cohort.progress import RunProgress, tracking
from oligo_cohort.protocol import shipped_protocols


def add_screen_options(parser: argparse.ArgumentParser) -> None:
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
    from oligo_cohort.load import parse_as_of

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
            as_of=parse_as_of(args.as_of, given_as="--as-of"),
            protocol=_protocol_from(args),
            engine=args.engine,
            worklist=args.worklist,
            explain=args.explain,
        )
        out = result.write(destination, parquet=args.parquet)
    _print_summary(result, out)
    if args.problems_file:  # the findings of this run, in place of what an earlier run (maybe a failed one) found
        write_problems(result.problems(), args.problems_file)
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
    from oligo_cohort.load import load_extract, parse_as_of
    from oligo_cohort.problems import classified
    from oligo_cohort.problems.summary import severity_counts_text, summary_lines

    with tracking(RunProgress()):
        loaded = load_extract(args.extract, as_of=parse_as_of(args.as_of, given_as="--as-of"))
    counts = {t: loaded.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in sorted(loaded.present)}
    print(f"{loaded.origin}: no fatal problems; cut-off {loaded.as_of}")
    for table, n in counts.items():
        print(f"  {table:<22} {n:>10,} {noun_for(n, 'row')}")
    findings = classified(loaded.findings)
    see = str(args.problems_file.requested) if args.problems_file else "--problems FILE"
    if findings:
        print(f"{severity_counts_text(findings, noun='finding')} (every one in {see}):")
        for line in summary_lines(findings, see=see):
            print(line)
    else:
        print("no findings")
    if args.problems_file:
        write_problems(findings, args.problems_file)
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
    # Worklist mode fails every closed window, so its counts are not a registry screen's: the header says so.
    mode = "; worklist mode (closed registration windows fail)" if result.worklist else ""
    print(
        f"\nProtocol {result.protocol.name} ({result.protocol.version}); cut-off {result.as_of}; "
        f"engine {result.engine}{mode}"
    )
    print(f"{counted(total, 'patient')}: " + ", ".join(f"{counts.get(s, 0):,} {s}" for s in STATUS_ORDER))
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
    if result.worklist:
        from oligo_cohort.worklist import worklist_headline

        print("\n" + worklist_headline(result, shown_path(out / "worklist.csv")))
    print(f"Results in {shown_path(out)}/")


def _outcome_lines(counts: list[tuple[str, dict[str, int]]]) -> list[str]:
    """The outcome counts as an aligned table: a criterion per row, an outcome per column."""
    outcomes = list(counts[0][1]) if counts else []
    name_width = max(len("criterion"), *(len(c) for c, _ in counts))
    widths = {o: max(len(o), *(len(f"{n[o]:,}") for _, n in counts)) for o in outcomes}
    header = "criterion".ljust(name_width) + "".join(f"  {o:>{widths[o]}}" for o in outcomes)
    rows = [c.ljust(name_width) + "".join(f"  {n[o]:>{widths[o]},}" for o in outcomes) for c, n in counts]
    return [header, *rows]
