"""One measured screen in a fresh process: stage times, CPU time and peak memory as JSON on stdout.

Run by `benchmarks/run.py`, one process per (extract, engine, run), so each
peak resident-memory figure belongs to that run alone. The screen is timed
from the call of `screen()` to every output written (into a temporary folder,
as `oligo-cohort screen` writes them by default), the stages as the package
records them (`oligo_cohort.progress`): read, validate, the cut-off, the
engine, explain, write outputs. The files written are listed in the report.
Each stage, and the whole, also carries its system CPU time (the kernel's part:
page faults, file and spill I/O) and the bytes the process wrote during it:
beyond the output files, that is DuckDB spilling past its memory limit.

With `--attrition` the process then times the attrition views of the result
(after the screen's own figures are taken, so they do not change them): the
histograms are built once from the patient and event rows (ungrouped, by site
and by year; counted by DuckDB, as the commands do), then every view — attrition, impact, status, exclusion sets,
the by-site and by-year tables, and their disclosure-controlled copies — is
computed from the histograms alone, which is what the "< 1 s" target is about.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from oligo_cohort.api import screen
from oligo_cohort.progress import RunProgress, bytes_written_since, bytes_written_so_far, tracking
from oligo_cohort.validate.storage import storage_kind


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def time_attrition(result) -> dict[str, float | int]:
    """Histogram build and views-from-histograms times of a screening result (both levels, by site and year)."""
    from oligo_cohort.attrition.histogram import histogram_of_result
    from oligo_cohort.attrition.views import Options, controlled, views_from_histograms

    started = time.perf_counter()
    histograms = {}
    for level in ("patients", "events"):
        histograms[level] = (
            histogram_of_result(result, level=level),
            {by: histogram_of_result(result, level=level, by=by) for by in ("site", "year")},
        )
    histogram_seconds = time.perf_counter() - started
    started = time.perf_counter()
    cpu_started = time.process_time()
    views = 0
    for level, (hist, grouped) in histograms.items():
        exact = views_from_histograms(hist, grouped, Options(level=level, by=("site", "year")))
        controlled(exact)
        views += 2
    return {
        "histogram_seconds": histogram_seconds,
        "views_seconds": time.perf_counter() - started,
        "views_cpu_seconds": time.process_time() - cpu_started,
        "view_sets": views,
        "histogram_rows": int(sum(len(h.frame) for h, _ in histograms.values())),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("extract", type=Path)
    parser.add_argument("--engine", default="duckdb")
    parser.add_argument("--attrition", action="store_true", help="also time the attrition views of the result")
    args = parser.parse_args()
    progress = RunProgress(quiet=True)
    started = time.perf_counter()
    cpu_started = time.process_time()
    system_started = os.times().system
    written_started = bytes_written_so_far()
    with tracking(progress), tempfile.TemporaryDirectory() as out:
        result = screen(args.extract, engine=args.engine)
        written = result.write(Path(out) / "screen")
        total = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        system = os.times().system - system_started
        written_bytes = bytes_written_since(written_started)
        peak = _peak_rss_bytes()
        patients = sum(result.counts().values())
        files = {f.name: f.stat().st_size for f in sorted(Path(written).iterdir())}
        typed_inputs = storage_kind(result.con)
    report = {
        "engine": args.engine,
        "patients": patients,
        "seconds": total,
        "cpu_seconds": cpu,
        "system_seconds": system,
        "written_bytes": written_bytes,
        "peak_rss_bytes": peak,
        "files": files,
        "typed_inputs": typed_inputs,  # where validation kept them: "memory" or "file" (validate/storage.py)
        "stages": [
            {
                "name": s.name,
                "seconds": s.seconds,
                "cpu_seconds": s.cpu_seconds,
                "system_seconds": s.system_seconds,
                "written_bytes": s.written_bytes,
                "peak_rss_bytes": s.peak_rss_bytes,
                "depth": s.depth,
            }
            for s in progress.stages
        ],
    }
    if args.attrition:
        report["attrition"] = time_attrition(result)
    json.dump(report, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
