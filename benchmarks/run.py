"""The benchmark harness (`make bench`): screen synthetic extracts of 10 k, 100 k and 1 M patients and report.

    .venv/bin/python benchmarks/run.py [--sizes 10k,100k,1m] [--engines duckdb,pandas] [--quick]

For each size it generates (or reuses) a synthetic Parquet extract under
`benchmarks/.data/` (git-ignored; keyed by patients, sites and seed), then
measures, each in a fresh process so that every peak-memory figure is that
run's alone:

1. the floor (`floor.py`): DuckDB reading every value of every table once;
2. each engine of the package (`screen_once.py`): load + validate, the
   screen, all outputs written; per stage (as `oligo_cohort.progress` records
   them) wall time, CPU time and peak resident memory; for the first engine
   also the attrition views built from the result's histograms;
3. the row-wise screen (`rowwise.py`) on a sample of patients, extrapolated.

It writes `benchmarks/results.md` (tables, ratios, which targets are met, the
machine) and `benchmarks/results.json` (the raw figures); `--quick` (10 k
patients, a small row-wise sample: a smoke run) writes them under
`benchmarks/.data/` instead, so that it never replaces the quoted figures.

The measuring is `measure.py`, the report `report.py`; this file only runs
the one after the other. The pandas engine runs only up to 100 k patients
unless `--pandas-max` says otherwise (its target is at 100 k).

The Spark engine (the `[spark]` extra) is measured only when asked, into its own
file: `run.py --sizes 100k,1m --engines duckdb,spark --no-rowwise --out
benchmarks/results-spark.md`. Its peak-memory figure is the Python driver's
alone; Spark's JVM is a separate process.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from measure import HERE, SizeRun, ensure_extract, machine, parse_size, run_size, say
from report import PANDAS_TARGET_PATIENTS, raw_figures, render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=None, help="patients per extract, comma-separated (default 10k,100k,1m)")
    parser.add_argument(
        "--engines", default="duckdb,pandas", help="engines to measure: duckdb, pandas, spark (default duckdb,pandas)"
    )
    parser.add_argument(
        "--pandas-max",
        type=parse_size,
        default=PANDAS_TARGET_PATIENTS,
        help="largest extract the pandas engine screens",
    )
    parser.add_argument("--quick", action="store_true", help="10k only and a small row-wise sample (a smoke run)")
    parser.add_argument("--rowwise-sample", type=int, default=None, help="patients in the row-wise sample (2,000)")
    parser.add_argument("--no-rowwise", action="store_true", help="skip the row-wise reference point")
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
    args = parser.parse_args(argv)

    sizes_text = args.sizes or ("10k" if args.quick else "10k,100k,1m")
    sizes = sorted({parse_size(s) for s in sizes_text.split(",") if s.strip()})
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ("duckdb", "pandas", "spark")]
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(unknown)}")
    sample = args.rowwise_sample or (300 if args.quick else 2000)
    command = "benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])

    info = machine()
    started = time.perf_counter()
    runs: dict[int, SizeRun] = {}
    for patients in sizes:
        extract = ensure_extract(args.data, patients, sites=args.sites, seed=args.seed)
        runs[patients] = run_size(
            extract, patients, engines, pandas_max=args.pandas_max, rowwise_sample=sample, skip_rowwise=args.no_rowwise
        )
    total = time.perf_counter() - started

    out = args.out or (args.data / "results-quick.md" if args.quick else HERE / "results.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(runs, engines, info, command.strip(), total), encoding="utf-8")
    raw = raw_figures(runs, info, command.strip())
    out.with_suffix(".json").write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
    say(f"wrote {out} and {out.with_suffix('.json').name}")
    failed = [
        m.name for run in runs.values() for m in (run.floor, *run.engines.values(), run.rowwise) if m and not m.ok
    ]
    if failed:
        say(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
