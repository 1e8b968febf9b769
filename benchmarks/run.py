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
machine) and `benchmarks/results.json` (the raw figures). The pandas engine
runs only up to 100 k patients unless `--pandas-max` says otherwise (its
target is at 100 k).

The Spark engine (the `[spark]` extra) is measured only when asked, into its own
file: `run.py --sizes 100k,1m --engines duckdb,spark --no-rowwise --out
benchmarks/results-spark.md`. Its peak-memory figure is the Python driver's
alone; Spark's JVM is a separate process.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GB = 1e9
GIB = 1024**3

# The targets (on a 2-core, 24 GB machine).
DUCKDB_TARGET_PATIENTS = 1_000_000
DUCKDB_MAX_SECONDS = 60.0
DUCKDB_MAX_RSS = 6 * GB
DUCKDB_MAX_FLOOR_RATIO = 3.0
PANDAS_TARGET_PATIENTS = 100_000
PANDAS_MAX_DUCKDB_RATIO = 5.0
MIN_ROWWISE_RATIO = 50.0
ATTRITION_TARGET_PATIENTS = 1_000_000
ATTRITION_MAX_SECONDS = 1.0


def parse_size(text: str) -> int:
    """'10k' → 10000, '1m' → 1000000, '2500' → 2500."""
    text = text.strip().lower().replace("_", "").replace(",", "")
    factor = 1
    if text.endswith("k"):
        factor, text = 1_000, text[:-1]
    elif text.endswith("m"):
        factor, text = 1_000_000, text[:-1]
    value = float(text) * factor
    if value < 1 or value != int(value):
        raise argparse.ArgumentTypeError(f"not a patient count: {text!r}")
    return int(value)


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- extracts ---------------------------------------------------------------------------------------------------------


def ensure_extract(data_dir: Path, patients: int, *, sites: int, seed: int) -> Path:
    """The cached extract for (patients, sites, seed), generated when absent or incomplete."""
    folder = data_dir / f"patients-{patients}-sites-{sites}-seed-{seed}"
    marker = folder / ".complete"
    if marker.is_file():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".generating-", dir=data_dir))
    command = [
        sys.executable,
        "-m",
        "oligo_cohort",
        "synth",
        "--patients",
        str(patients),
        "--sites",
        str(sites),
        "--format",
        "parquet",
        "--seed",
        str(seed),
        "--out",
        str(staging / "extract"),
        "--quiet",
    ]
    say(
        f"generating {size_label(patients)} patients → {folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder}"
    )
    started = time.perf_counter()
    try:
        subprocess.run(command, check=True, cwd=ROOT)
        (staging / "extract" / ".complete").write_text(" ".join(command[1:]) + "\n", encoding="utf-8")
        (staging / "extract").rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    say(f"  generated in {time.perf_counter() - started:.1f} s")
    return folder


# -- measured child processes -----------------------------------------------------------------------------------------


@dataclass
class Measure:
    """One measured process: what it reported, plus the kernel's CPU and peak-memory figures for it."""

    name: str
    report: dict = field(default_factory=dict)
    child_cpu_seconds: float = 0.0
    child_peak_rss_bytes: int = 0
    process_seconds: float = 0.0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def seconds(self) -> float:
        return float(self.report.get("seconds", float("nan")))

    @property
    def cpu_seconds(self) -> float:
        return float(self.report.get("cpu_seconds", self.child_cpu_seconds))

    @property
    def peak_rss_bytes(self) -> int:
        return int(self.report.get("peak_rss_bytes", self.child_peak_rss_bytes))

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "report": self.report,
            "child_cpu_seconds": self.child_cpu_seconds,
            "child_peak_rss_bytes": self.child_peak_rss_bytes,
            "process_seconds": self.process_seconds,
            "error": self.error,
        }


def measure(name: str, script: str, *args: str) -> Measure:
    """Run `benchmarks/<script> args` in a fresh interpreter; its JSON report, CPU time and peak RSS."""
    command = [sys.executable, str(HERE / script), *args]
    result = Measure(name)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT)
        # wait4 gives this child's own rusage: CPU time of all its threads and its peak resident set.
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        result.process_seconds = time.perf_counter() - started
        result.child_cpu_seconds = usage.ru_utime + usage.ru_stime
        result.child_peak_rss_bytes = usage.ru_maxrss * 1024
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if child.returncode != 0:
        result.error = f"exit {child.returncode}: {stderr.strip()[-2000:]}"
        say(f"  {name} FAILED ({result.error.splitlines()[0] if result.error else ''})")
        return result
    try:
        result.report = json.loads(stdout)
    except json.JSONDecodeError:
        result.error = f"no JSON report: {stdout[-500:]!r} {stderr[-500:]!r}"
        say(f"  {name} FAILED (no JSON report)")
        return result
    say(f"  {name}: {result.seconds:.2f} s, CPU {result.cpu_seconds:.1f} s, peak {result.peak_rss_bytes / GIB:.2f} GiB")
    return result


@dataclass
class SizeRun:
    patients: int
    extract: Path
    floor: Measure | None = None
    engines: dict[str, Measure] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    rowwise: Measure | None = None

    def attrition(self) -> dict | None:
        for engine in self.engines.values():
            if engine.ok and "attrition" in engine.report:
                return engine.report["attrition"]
        return None


def run_size(
    extract: Path, patients: int, engines: list[str], *, pandas_max: int, rowwise_sample: int, skip_rowwise: bool
) -> SizeRun:
    run = SizeRun(patients, extract)
    say(f"{size_label(patients)} patients")
    run.floor = measure("floor", "floor.py", str(extract))
    attrition_done = False
    for engine in engines:
        if engine == "pandas" and patients > pandas_max:
            run.skipped[engine] = f"not run above {size_label(pandas_max)} patients (--pandas-max)"
            continue
        extra = [] if attrition_done else ["--attrition"]
        run.engines[engine] = measure(f"{engine} engine", "screen_once.py", str(extract), "--engine", engine, *extra)
        attrition_done = attrition_done or run.engines[engine].ok
    if not skip_rowwise:
        run.rowwise = measure("row-wise", "rowwise.py", str(extract), "--sample", str(rowwise_sample))
    return run


# -- the machine ------------------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    info: dict[str, str] = {}
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["CPU"] = cpu
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info["cores"] = f"{usable} usable ({os.cpu_count()} logical)"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["RAM"] = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = f"{line.split('=', 1)[1].strip(chr(34))} ({platform.system()} {platform.release()})"
    except OSError:
        pass
    info["OS"] = os_name
    info["Python"] = platform.python_version()
    for package in ("duckdb", "pandas", "numpy", "pyarrow"):
        try:
            module = __import__(package)
            info[package] = module.__version__
        except ImportError:
            info[package] = "not installed"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
        info["oligo-cohort"] = commit + (" + uncommitted changes" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        pass
    with contextlib.suppress(OSError):
        info["load average at start"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    info["date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return info


# -- the report -------------------------------------------------------------------------------------------------------


def fmt_s(seconds: float) -> str:
    if seconds != seconds:
        return "–"
    if seconds >= 100:
        return f"{seconds:,.0f}"
    if seconds >= 10:
        return f"{seconds:.1f}"
    return f"{seconds:.2f}"


def fmt_gib(value: int) -> str:
    return f"{value / GIB:.2f}"


def ratio(a: float, b: float) -> float:
    return a / b if b and b == b and a == a else float("nan")


def fmt_x(value: float) -> str:
    if value != value:
        return "–"
    return f"{value:,.0f}×" if value >= 100 else f"{value:.1f}×"


def summary_rows(run: SizeRun, engines: list[str]) -> list[list[str]]:
    rows = []
    floor = run.floor.seconds if run.floor and run.floor.ok else float("nan")
    label = size_label(run.patients)
    if run.floor:
        rows.append([label, "floor (DuckDB reads every value)", *_cells(run.floor), "1.0×", ""])
    for engine in engines:
        m = run.engines.get(engine)
        if m is None:
            if engine in run.skipped:
                rows.append([label, f"{engine} engine", "–", "–", "–", "–", run.skipped[engine]])
            continue
        note = "" if m.ok else m.error.splitlines()[0][:120]
        rows.append([label, f"{engine} engine", *_cells(m), fmt_x(ratio(m.seconds, floor)), note])
    if run.rowwise:
        m = run.rowwise
        note = (
            f"extrapolated: read {fmt_s(m.report['read_seconds'])} s + "
            f"{m.report['per_patient_seconds'] * 1000:.2f} ms/patient × {run.patients:,} "
            f"(sample {m.report['sample']:,})"
            if m.ok
            else m.error.splitlines()[0][:120]
        )
        rows.append([label, "row-wise screen", *_cells(m, rss=False), fmt_x(ratio(m.seconds, floor)), note])
    return rows


def _cells(m: Measure, *, rss: bool = True) -> list[str]:
    if not m.ok:
        return ["failed", "–", "–"]
    return [fmt_s(m.seconds), fmt_s(m.cpu_seconds), fmt_gib(m.peak_rss_bytes) if rss else "(sample)"]


def table(header: list[str], rows: list[list[str]], align: str | None = None) -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    marks = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def stage_rows(run: SizeRun, engines: list[str]) -> list[list[str]]:
    rows = []
    for engine in engines:
        m = run.engines.get(engine)
        if m is None or not m.ok:
            continue
        stages = m.report.get("stages", [])
        for stage in _display_order(stages):
            indent = "&nbsp;&nbsp;" * int(stage.get("depth", 0)) + ("↳ " if stage.get("depth", 0) else "")
            rows.append(
                [
                    size_label(run.patients),
                    engine,
                    indent + stage["name"],
                    fmt_s(stage["seconds"]),
                    fmt_s(stage.get("cpu_seconds", float("nan"))),
                    fmt_gib(stage["peak_rss_bytes"]),
                ]
            )
        attrition = m.report.get("attrition")
        if attrition:
            rows.append(
                [
                    size_label(run.patients),
                    engine,
                    "attrition: histograms from the result",
                    fmt_s(attrition["histogram_seconds"]),
                    "",
                    "",
                ]
            )
            rows.append(
                [
                    size_label(run.patients),
                    engine,
                    "attrition: all views from the histograms",
                    fmt_s(attrition["views_seconds"]),
                    fmt_s(attrition["views_cpu_seconds"]),
                    "",
                ]
            )
        rows.append(
            [
                size_label(run.patients),
                engine,
                "**end to end**",
                f"**{fmt_s(m.seconds)}**",
                f"**{fmt_s(m.cpu_seconds)}**",
                f"**{fmt_gib(m.peak_rss_bytes)}**",
            ]
        )
    return rows


def _display_order(stages: list[dict]) -> list[dict]:
    """Stages are recorded as they finish (an inner stage before its outer one); list each outer stage first."""

    def depth(stage: dict) -> int:
        return int(stage.get("depth", 0))

    nodes: list[tuple[dict, list]] = []
    for stage in stages:
        children: list[tuple[dict, list]] = []
        while nodes and depth(nodes[-1][0]) > depth(stage):
            children.insert(0, nodes.pop())
        nodes.append((stage, children))

    def walk(node: tuple[dict, list]) -> list[dict]:
        return [node[0], *(s for child in node[1] for s in walk(child))]

    return [s for node in nodes for s in walk(node)]


@dataclass
class Target:
    text: str
    measured: str
    met: bool | None  # None: not measured in this run


def targets(runs: dict[int, SizeRun]) -> list[Target]:
    out: list[Target] = []
    big = runs.get(DUCKDB_TARGET_PATIENTS)
    duck = big.engines.get("duckdb") if big else None
    if duck is not None and duck.ok:
        out.append(
            Target(
                "DuckDB engine, 1 M patients end to end ≤ 60 s",
                f"{fmt_s(duck.seconds)} s",
                duck.seconds <= DUCKDB_MAX_SECONDS,
            )
        )
        out.append(
            Target(
                "DuckDB engine, 1 M patients peak RSS ≤ 6 GB",
                f"{duck.peak_rss_bytes / GB:.2f} GB",
                duck.peak_rss_bytes <= DUCKDB_MAX_RSS,
            )
        )
        if big.floor and big.floor.ok:
            r = ratio(duck.seconds, big.floor.seconds)
            out.append(Target("DuckDB engine, 1 M patients ≤ 3× the floor", fmt_x(r), r <= DUCKDB_MAX_FLOOR_RATIO))
    else:
        for text in (
            "DuckDB engine, 1 M patients end to end ≤ 60 s",
            "DuckDB engine, 1 M patients peak RSS ≤ 6 GB",
            "DuckDB engine, 1 M patients ≤ 3× the floor",
        ):
            out.append(Target(text, "not measured in this run", None))
    mid = runs.get(PANDAS_TARGET_PATIENTS)
    pandas_m = mid.engines.get("pandas") if mid else None
    duck_mid = mid.engines.get("duckdb") if mid else None
    if pandas_m is not None and pandas_m.ok and duck_mid is not None and duck_mid.ok:
        r = ratio(pandas_m.seconds, duck_mid.seconds)
        out.append(
            Target("pandas engine, 100 k patients ≤ 5× the DuckDB engine", fmt_x(r), r <= PANDAS_MAX_DUCKDB_RATIO)
        )
    else:
        out.append(Target("pandas engine, 100 k patients ≤ 5× the DuckDB engine", "not measured in this run", None))
    for engine, size in (("duckdb", DUCKDB_TARGET_PATIENTS), ("pandas", PANDAS_TARGET_PATIENTS)):
        run = runs.get(size)
        m = run.engines.get(engine) if run else None
        text = f"{engine} engine ≥ 50× faster than the row-wise screen ({size_label(size)} patients)"
        if m is not None and m.ok and run.rowwise and run.rowwise.ok:
            r = ratio(run.rowwise.seconds, m.seconds)
            out.append(Target(text, fmt_x(r), r >= MIN_ROWWISE_RATIO))
        else:
            out.append(Target(text, "not measured in this run", None))
    run = runs.get(ATTRITION_TARGET_PATIENTS)
    attrition = run.attrition() if run else None
    text = "all attrition views at 1 M patients from the histogram < 1 s"
    if attrition:
        seconds = attrition["views_seconds"]
        out.append(Target(text, f"{fmt_s(seconds)} s", seconds < ATTRITION_MAX_SECONDS))
    else:
        out.append(Target(text, "not measured in this run", None))
    return out


def render(runs: dict[int, SizeRun], engines: list[str], info: dict[str, str], command: str, total: float) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{command}` ({fmt_s(total)} s in all). Every figure comes from a fresh process",
        "on the same synthetic Parquet extract (`oligo-cohort synth --sites 20 --seed 1`); wall time is",
        "end to end (Parquet in, every output file written), CPU time is that of every thread of",
        "the process (user + system), peak RSS the process's peak resident memory.",
        "",
        "## Machine",
        "",
    ]
    lines += table(["", ""], [[k, v] for k, v in info.items()], "ll")
    lines += ["", "## Targets", ""]
    found = targets(runs)
    rows = [[t.text, t.measured, {True: "**met**", False: "**NOT met**", None: "not measured"}[t.met]] for t in found]
    lines += table(["target", "measured", "verdict"], rows, "lrl")
    met = [t for t in found if t.met]
    unmet = [t for t in found if t.met is False]
    lines += [
        "",
        f"{len(met)} of {len(found)} targets met"
        + (f"; not met: {'; '.join(t.text for t in unmet)}" if unmet else "")
        + (
            f"; {sum(t.met is None for t in found)} not measured in this run"
            if any(t.met is None for t in found)
            else ""
        )
        + ".",
    ]
    lines += ["", "## End to end", ""]
    rows = [row for run in runs.values() for row in summary_rows(run, engines)]
    lines += table(["patients", "run", "wall s", "CPU s", "peak RSS GiB", "÷ floor", "note"], rows, "llrrrrl")
    lines += ["", "## Ratios", ""]
    rows = []
    for run in runs.values():
        floor = run.floor.seconds if run.floor and run.floor.ok else float("nan")
        duck = run.engines.get("duckdb")
        pan = run.engines.get("pandas")
        duck_s = duck.seconds if duck and duck.ok else float("nan")
        pan_s = pan.seconds if pan and pan.ok else float("nan")
        row_s = run.rowwise.seconds if run.rowwise and run.rowwise.ok else float("nan")
        rows.append(
            [
                size_label(run.patients),
                fmt_x(ratio(duck_s, floor)),
                fmt_x(ratio(pan_s, floor)),
                fmt_x(ratio(pan_s, duck_s)),
                fmt_x(ratio(row_s, duck_s)),
                fmt_x(ratio(row_s, pan_s)),
            ]
        )
    lines += table(
        ["patients", "DuckDB ÷ floor", "pandas ÷ floor", "pandas ÷ DuckDB", "row-wise ÷ DuckDB", "row-wise ÷ pandas"],
        rows,
    )
    lines += [
        "",
        "## Stages",
        "",
        "Stages as `oligo_cohort/progress.py` records them (↳ a stage inside the one above).",
        "Peak RSS is the highest resident memory sampled during the stage (every 50 ms).",
        "The attrition rows are timed after the screen, in the same process, from the result's",
        "patient and event rows: first the histograms (ungrouped, by site, by year; counted by",
        "DuckDB where the result lives, as the `attrition` and `report` commands do), then every",
        "view (attrition, impact, status, exclusion sets, by site, by year, and their",
        "disclosure-controlled copies) from the histograms alone.",
        "",
    ]
    rows = [row for run in runs.values() for row in stage_rows(run, engines)]
    lines += table(["patients", "engine", "stage", "wall s", "CPU s", "peak RSS GiB"], rows, "lllrrr")
    lines += [
        "",
        "## Reference points",
        "",
        "- **floor** (`benchmarks/floor.py`): DuckDB reads every table and computes one aggregate per",
        "  table, `bit_xor(hash(col))` over every column, so every value is decoded (`count(col)` would",
        "  be answered from Parquet statistics without reading the data).",
        "- **row-wise screen** (`benchmarks/rowwise.py`): per-patient Python over pandas groups on a",
        "  sample of patients, extrapolated per patient; it does comparable work (lines of therapy,",
        "  reference study, lesion progression, the per-event and per-patient criteria, best event)",
        "  but is not a faithful screen (see its docstring).",
        "",
        "Timings on a machine shared with other work are noisy: compare CPU time with wall time, and",
        "rerun `make bench` on a quiet machine for figures to quote.",
        "",
    ]
    return "\n".join(lines)


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
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
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

    args.out.write_text(render(runs, engines, info, command.strip(), total), encoding="utf-8")
    raw = {
        "machine": info,
        "command": command.strip(),
        "runs": [
            {
                "patients": run.patients,
                "extract": str(run.extract),
                "floor": run.floor.as_json() if run.floor else None,
                "engines": {name: m.as_json() for name, m in run.engines.items()},
                "skipped": run.skipped,
                "rowwise": run.rowwise.as_json() if run.rowwise else None,
            }
            for run in runs.values()
        ],
    }
    args.out.with_suffix(".json").write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
    say(f"wrote {args.out} and {args.out.with_suffix('.json').name}")
    failed = [
        m.name for run in runs.values() for m in (run.floor, *run.engines.values(), run.rowwise) if m and not m.ok
    ]
    if failed:
        say(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
