"""The benchmark harness (`make bench`): the screen at 10k, 100k and 1M patients and the commands, against the floor.

    .venv/bin/python benchmarks/run.py [--sizes 10k,100k,1m] [--engines duckdb,pandas] [--repeat N] [--quick]

For each size it generates (or reuses) a synthetic Parquet extract under `benchmarks/.data/` (git-ignored; keyed by
patients, sites and seed), then measures in rounds, each run in a fresh process so that every peak-memory figure
is that run's alone:

1. the floor (`floor.py`): DuckDB reading every value of every table once;
2. each engine of the package (`screen_once.py`): the screen from its call to every output written, per stage (as
   `oligo_cohort.progress` records them) wall time, CPU time and peak resident memory.

Runs per size: 3 up to 100k patients, 1 above (`--repeat N` sets it at every size). Then the commands as a user
runs them (`--command-runs`, 5 by default), each a fresh process timed from start to exit and paired with its
reference: `oligo-cohort --help` with `python -c pass`; `oligo-cohort screen` and `report` on the demo extract with
the floor on the demo in a fresh process.

It writes `benchmarks/results.md` (the targets and their verdicts, per-stage tables, the growth from size to size,
what bounds the remaining time, the machine and its load) and `benchmarks/results.json` (every raw figure);
`--quick` (10k patients, one screen run and two command runs: a smoke run) writes them under `benchmarks/.data/`
instead, so that it never replaces the quoted figures. The measuring is `measure.py`, the report `report.py`; this
file only runs the one after the other. The pandas engine runs only up to 100k patients unless `--pandas-max` says
otherwise (its target is at 100k).

The Spark engine (the `[spark]` extra) is measured only when asked, into its own file: `run.py --sizes 100k,1m
--engines duckdb,spark --no-commands --out benchmarks/results-spark.md`. Its peak-memory figure is the Python
driver's alone; Spark's JVM is a separate process.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from measure import (
    HERE,
    CpuClock,
    SizeRun,
    default_rounds,
    ensure_extract,
    load_average,
    machine,
    others_cpu_seconds,
    parse_size,
    run_commands,
    run_size,
    say,
    usable_cores,
)
from report import PANDAS_TARGET_PATIENTS, Bench, bench_from_figures, raw_figures, render


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive number: {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=None, help="patients per extract, comma-separated (default 10k,100k,1m)")
    parser.add_argument(
        "--engines", default="duckdb,pandas", help="engines to measure: duckdb, pandas, spark (default duckdb,pandas)"
    )
    parser.add_argument(
        "--repeat",
        type=_positive,
        default=None,
        metavar="N",
        help="runs of the floor and of each engine at every size (default 3 up to 100k patients, 1 above)",
    )
    parser.add_argument(
        "--command-runs", type=_positive, default=None, metavar="N", help="runs of each command (default 5)"
    )
    parser.add_argument("--no-commands", action="store_true", help="do not measure the commands on the demo")
    parser.add_argument(
        "--pandas-max",
        type=parse_size,
        default=PANDAS_TARGET_PATIENTS,
        help="largest extract the pandas engine screens",
    )
    parser.add_argument(
        "--quick", action="store_true", help="10k patients, one screen run, two command runs (a smoke run)"
    )
    parser.add_argument(
        "--rowwise",
        type=int,
        nargs="?",
        const=2000,
        default=None,
        metavar="SAMPLE",
        help="also time the row-wise reference screen on a sample of patients (default 2,000), extrapolated",
    )
    # Accepted so that older command lines still run: the row-wise reference is measured only with --rowwise.
    parser.add_argument("--no-rowwise", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--attrition",
        action="store_true",
        help="also time the attrition views after each size's first screen (in its process, after the screen's figures)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--data", type=Path, default=HERE / ".data", help="cache of generated extracts")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="the report (and its .json beside it); default benchmarks/results.md, with --quick "
        "benchmarks/.data/results-quick.md, so that a smoke run never replaces the quoted figures",
    )
    parser.add_argument(
        "--render",
        type=Path,
        default=None,
        metavar="FIGURES.json",
        help="measure nothing: write the report anew from the figures of an earlier run (after a change to the "
        "report), into the .md beside them unless --out says otherwise",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    given = list(argv if argv is not None else sys.argv[1:])
    args = parser.parse_args(given)
    if args.render is not None:
        return render_again(args.render, args.out)
    sizes_text = args.sizes or ("10k" if args.quick else "10k,100k,1m")
    sizes = sorted({parse_size(s) for s in sizes_text.split(",") if s.strip()})
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ("duckdb", "pandas", "spark")]
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(unknown)}")
    screen_rounds = args.repeat or (1 if args.quick else None)
    command_rounds = args.command_runs or (2 if args.quick else 5)

    bench = Bench(sizes={}, engines=engines, info=machine(), cores=usable_cores(), args=given)
    bench.load_start = load_average()
    clock_start = CpuClock.now()
    started = time.perf_counter()
    for patients in sizes:
        extract = ensure_extract(args.data, patients, sites=args.sites, seed=args.seed)
        bench.sizes[patients] = run_size(
            extract,
            patients,
            engines,
            rounds=screen_rounds or default_rounds(patients),
            pandas_max=args.pandas_max,
            rowwise_sample=args.rowwise,
            attrition=args.attrition,
        )
    if not args.no_commands:
        bench.commands = run_commands(command_rounds)
    bench.seconds = time.perf_counter() - started
    bench.load_end = load_average()
    bench.others_cpu_seconds = others_cpu_seconds(clock_start, CpuClock.now())

    out = args.out or (args.data / "results-quick.md" if args.quick else HERE / "results.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(bench), encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(raw_figures(bench), indent=2) + "\n", encoding="utf-8")
    say(f"wrote {out} and {out.with_suffix('.json').name}")
    failed = [m.name for m in _every_measure(bench) if not m.ok]
    if failed:
        say(f"failed: {', '.join(failed)}")
        return 1
    return 0


def render_again(figures: Path, out: Path | None) -> int:
    """The report written anew from `figures` (a results.json): the figures and the date of their run unchanged."""
    bench = bench_from_figures(json.loads(figures.read_text(encoding="utf-8")))
    out = out or figures.with_suffix(".md")
    out.write_text(render(bench), encoding="utf-8")
    say(f"wrote {out} from the figures in {figures}")
    return 0


def _every_measure(bench: Bench):
    for run in bench.sizes.values():
        yield from _size_measures(run)
    for command in bench.commands:
        yield from command.runs
        yield from command.reference


def _size_measures(run: SizeRun):
    yield from run.floor
    for measures in run.engines.values():
        yield from measures
    if run.rowwise:
        yield run.rowwise


if __name__ == "__main__":
    sys.exit(main())
