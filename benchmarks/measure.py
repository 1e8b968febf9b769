"""Measuring for the benchmark harness: the extracts, each run in a fresh process, the machine it ran on.

`run.py` calls these, and `report.py` turns what they measure into `results.md` and `results.json`; nothing here
formats a result. Each figure comes from a child process (`floor.py`, `screen_once.py`, `rowwise.py`) run on
its own, so every peak-memory figure is that run's alone.
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
GIB = 1024**3


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
