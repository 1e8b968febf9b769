"""Measuring for the benchmark harness: the extracts, each run in a fresh process, the machine it ran on.

`run.py` calls these, and `report.py` turns what they measure into `results.md` and `results.json`; nothing here
formats a result. Each figure comes from a child process run on its own, so every peak-memory figure is that run's
alone, and each measure is repeated in rounds that interleave it with its reference (the floor before the engines;
interpreter start-up before `--help`), so that a ratio is always taken between two runs made moments apart.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
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
    try:
        value = float(text) * factor
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a patient count: {text!r}") from None
    if value < 1 or value != int(value):
        raise argparse.ArgumentTypeError(f"not a patient count: {text!r}")
    return int(value)


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def default_rounds(patients: int) -> int:
    """Runs per measure at a size: three up to 100k patients (seconds each), one above (a minute or more each)."""
    return 3 if patients <= 100_000 else 1


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- extracts ---------------------------------------------------------------------------------------------------------


# What the generator's output depends on besides its options: its code, and the clinical codes and vocabularies
# it draws from. A cached extract made by other code is made again, so that a bench never measures an extract a
# fresh checkout would not generate.
GENERATOR_SOURCES = ("oligo_cohort/synth", "oligo_cohort/clinical_codes.py", "data_dictionary")


def generator_digest() -> str:
    """SHA-256 over the files of GENERATOR_SOURCES (path and bytes, in path order; bytecode caches left out)."""
    digest = hashlib.sha256()
    for source in GENERATOR_SOURCES:
        path = ROOT / source
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(file.relative_to(ROOT).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def ensure_extract(data_dir: Path, patients: int, *, sites: int, seed: int) -> Path:
    """The cached extract for (patients, sites, seed), generated when absent, incomplete or made by other
    generator code (`generator_digest`, recorded in the folder's `.complete` marker)."""
    folder = data_dir / f"patients-{patients}-sites-{sites}-seed-{seed}"
    marker = folder / ".complete"
    generator = f"generator {generator_digest()}"
    if marker.is_file() and generator in marker.read_text(encoding="utf-8").splitlines():
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
        (staging / "extract" / ".complete").write_text(
            " ".join(command[1:]) + "\n" + generator + "\n", encoding="utf-8"
        )
        (staging / "extract").rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    say(f"  generated in {time.perf_counter() - started:.1f} s")
    return folder


# -- measured child processes -----------------------------------------------------------------------------------------


@dataclass
class Measure:
    """One measured process: what it reported, plus the kernel's wall, CPU and peak-memory figures for it.

    A script of the harness (`screen_once.py`, `floor.py`) reports on stdout, as JSON, the figures of the work it
    timed inside the process (`seconds`, `cpu_seconds`, `peak_rss_bytes`, its stages); a command (`oligo-cohort
    --help`) reports nothing, and its figures are the whole process's, start-up included.
    """

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
        """Wall time of the work timed inside the process (the whole process for a command)."""
        return float(self.report.get("seconds", self.process_seconds if self.ok else float("nan")))

    @property
    def cpu_seconds(self) -> float:
        return float(self.report.get("cpu_seconds", self.child_cpu_seconds))

    @property
    def peak_rss_bytes(self) -> int:
        return int(self.report.get("peak_rss_bytes", self.child_peak_rss_bytes))

    @classmethod
    def from_json(cls, figures: dict) -> Measure:
        """The measure `as_json` wrote."""
        return cls(**figures)

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "report": self.report,
            "child_cpu_seconds": self.child_cpu_seconds,
            "child_peak_rss_bytes": self.child_peak_rss_bytes,
            "process_seconds": self.process_seconds,
            "error": self.error,
        }


def run_process(name: str, command: Sequence[str], *, json_report: bool) -> Measure:
    """Run `command` in a fresh process and measure it: wall clock from start to exit, CPU time, peak RSS.

    The command is started by `launch.py`, a process of a few MB, so that its peak memory is its own rather than
    this harness's (see there). With `json_report` the process must print its own figures as JSON on stdout (the
    harness's scripts); otherwise its output is only kept for the error message.
    """
    result = Measure(name)
    with tempfile.TemporaryDirectory(prefix="oligo-bench-") as scratch:
        figures = Path(scratch) / "process.json"
        out_path, err_path = Path(scratch) / "stdout", Path(scratch) / "stderr"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            launcher = [sys.executable, "-I", "-S", str(HERE / "launch.py"), str(figures), *command]
            code = subprocess.run(launcher, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT).returncode
        stdout = out_path.read_text("utf-8", "replace")
        stderr = err_path.read_text("utf-8", "replace")
        process = json.loads(figures.read_text()) if figures.is_file() else {}
    result.process_seconds = float(process.get("seconds", float("nan")))
    result.child_cpu_seconds = float(process.get("cpu_seconds", float("nan")))
    result.child_peak_rss_bytes = int(process.get("peak_rss_bytes", 0))
    if code != 0 or not process:
        result.error = f"exit {code}: {(stderr.strip() or stdout.strip())[-2000:]}"
    elif json_report:
        try:
            result.report = json.loads(stdout)
        except json.JSONDecodeError:
            result.error = f"no JSON report: {stdout[-500:]!r} {stderr[-500:]!r}"
    if result.ok:
        say(
            f"  {name}: {result.seconds:.2f} s, CPU {result.cpu_seconds:.1f} s, "
            f"peak {result.peak_rss_bytes / GIB:.2f} GiB"
        )
    else:
        say(f"  {name} FAILED ({result.error.splitlines()[0] if result.error else ''})")
    return result


def measure(name: str, script: str, *args: str) -> Measure:
    """Run `benchmarks/<script> args` in a fresh interpreter; its JSON report, CPU time and peak RSS."""
    return run_process(name, [sys.executable, str(HERE / script), *args], json_report=True)


# -- screens of synthetic extracts ------------------------------------------------------------------------------------


@dataclass
class SizeRun:
    """Every measure at one extract size: the floor and each engine, run by run (run i of each in round i)."""

    patients: int
    extract: Path
    floor: list[Measure] = field(default_factory=list)
    engines: dict[str, list[Measure]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    rowwise: Measure | None = None

    def attrition(self) -> dict | None:
        for runs in self.engines.values():
            for engine in runs:
                if engine.ok and "attrition" in engine.report:
                    return engine.report["attrition"]
        return None


def run_size(
    extract: Path,
    patients: int,
    engines: list[str],
    *,
    rounds: int,
    pandas_max: int,
    rowwise_sample: int | None = None,
    attrition: bool = False,
) -> SizeRun:
    """Measure the floor and every engine on `extract`, `rounds` times, one round after the other.

    Each round runs the floor, then each engine, so that run i of an engine and run i of the floor (and of the
    DuckDB engine) are moments apart: their ratio is taken pair by pair. The row-wise reference (`rowwise_sample`
    patients) and the attrition views (`attrition`) are measured once, when asked.
    """
    run = SizeRun(patients, extract)
    say(f"{size_label(patients)} patients ({rounds} round{'s' if rounds != 1 else ''})")
    chosen = []
    for engine in engines:
        if engine == "pandas" and patients > pandas_max:
            run.skipped[engine] = f"not run above {size_label(pandas_max)} patients (--pandas-max)"
        else:
            chosen.append(engine)
            run.engines[engine] = []
    for index in range(rounds):
        run.floor.append(measure(f"floor, run {index + 1}", "floor.py", str(extract)))
        for engine in chosen:
            extra = ["--attrition"] if attrition and index == 0 and engine == chosen[0] else []
            run.engines[engine].append(
                measure(f"{engine} engine, run {index + 1}", "screen_once.py", str(extract), "--engine", engine, *extra)
            )
    if rowwise_sample:
        run.rowwise = measure("row-wise", "rowwise.py", str(extract), "--sample", str(rowwise_sample))
    return run


# -- commands as a user runs them -------------------------------------------------------------------------------------


@dataclass
class CommandRun:
    """A command run in fresh processes, and its reference run the same number of times, round by round."""

    key: str
    command: str
    reference_name: str
    runs: list[Measure] = field(default_factory=list)
    reference: list[Measure] = field(default_factory=list)


def oligo_cohort_command() -> list[str]:
    """The `oligo-cohort` console script beside this interpreter (as installed), else `python -m oligo_cohort`."""
    script = Path(sys.executable).parent / "oligo-cohort"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "oligo_cohort"]


def demo_extract() -> Path:
    """The bundled demo extract (where `oligo-cohort demo` reads it)."""
    return ROOT / "oligo_cohort" / "demo" / "extract"


@dataclass
class CommandSpec:
    """How to run one measured command (given a fresh scratch folder per run) and its reference."""

    key: str
    shown: str
    argv: Callable[[Path], list[str]]
    reference_name: str
    reference_argv: list[str]


def command_specs() -> list[CommandSpec]:
    """The commands whose wall clock (start-up included) has a target, each with its reference.

    `--help` is compared with the interpreter's own start-up (`python -c pass`); the demo's `screen` and `report`
    with the floor on the demo extract in a fresh process (start-up, `import duckdb`, every value read once).
    """
    cli = oligo_cohort_command()
    demo = demo_extract()
    python_start = [sys.executable, "-c", "pass"]
    demo_floor = [sys.executable, str(HERE / "floor.py"), str(demo)]
    return [
        CommandSpec("help", "oligo-cohort --help", lambda _: [*cli, "--help"], "python -c pass", python_start),
        CommandSpec(
            "screen-demo",
            "oligo-cohort screen <demo> --out <new folder>",
            lambda scratch: [*cli, "screen", str(demo), "--out", str(scratch / "screen")],
            "floor on the demo, fresh process",
            demo_floor,
        ),
        CommandSpec(
            "report-demo",
            "oligo-cohort report <demo> --out <new folder>",
            lambda scratch: [*cli, "report", str(demo), "--out", str(scratch / "report")],
            "floor on the demo, fresh process",
            demo_floor,
        ),
    ]


def run_commands(rounds: int) -> list[CommandRun]:
    """Each command and its reference, `rounds` times in interleaved rounds; outputs into a removed temporary folder.

    Every run is a fresh process timed from start to exit, so start-up and imports count, as they do for a user.
    A reference shared by two commands (the demo floor) is run once per round and paired with both.
    """
    specs = command_specs()
    out = [CommandRun(s.key, s.shown, s.reference_name) for s in specs]
    say(f"commands ({rounds} round{'s' if rounds != 1 else ''})")
    with tempfile.TemporaryDirectory(prefix="oligo-bench-") as scratch_root:
        for index in range(rounds):
            references: dict[tuple[str, ...], Measure] = {}
            for spec, command in zip(specs, out, strict=True):
                key = tuple(spec.reference_argv)
                if key not in references:
                    references[key] = run_process(
                        f"{spec.reference_name}, run {index + 1}", spec.reference_argv, json_report=False
                    )
                command.reference.append(references[key])
                scratch = Path(scratch_root) / f"{spec.key}-{index + 1}"
                scratch.mkdir()
                command.runs.append(
                    run_process(f"{spec.shown}, run {index + 1}", spec.argv(scratch), json_report=False)
                )
                shutil.rmtree(scratch, ignore_errors=True)
    return out


# -- the machine ------------------------------------------------------------------------------------------------------


def load_average() -> tuple[float, float, float] | None:
    """The 1-, 5- and 15-minute load averages now (None where the system does not say)."""
    with contextlib.suppress(OSError, AttributeError):
        return os.getloadavg()
    return None


@dataclass(frozen=True)
class CpuClock:
    """The CPU time the whole machine has spent busy, and this process's own (with its finished children), at one
    moment: two readings give the CPU time other work took meanwhile, which the load average cannot tell apart
    from this run's own threads and its waits on the disk."""

    machine_busy: float
    own: float

    @staticmethod
    def now() -> CpuClock | None:
        """A reading now; None where the system does not give the machine's CPU time (no /proc/stat)."""
        try:
            fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        except OSError:
            return None
        if not fields or fields[0] != "cpu" or len(fields) < 8:
            return None
        # user nice system idle iowait irq softirq steal: busy is all but idle and iowait. Steal (the time a
        # virtual machine's host gave its cores to other guests) counts as other work: this run could not use it.
        ticks = [int(value) for value in fields[1:9]]
        busy = sum(ticks) - ticks[3] - ticks[4]
        own = sum(
            getattr(resource.getrusage(who), part)
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
            for part in ("ru_utime", "ru_stime")
        )
        return CpuClock(busy / os.sysconf("SC_CLK_TCK"), own)


def others_cpu_seconds(start: CpuClock | None, end: CpuClock | None) -> float | None:
    """The CPU time other work took on the machine between two readings (never below zero: the two clocks tick
    at different grains)."""
    if start is None or end is None:
        return None
    return max(0.0, (end.machine_busy - start.machine_busy) - (end.own - start.own))


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


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
    info["cores"] = f"{usable_cores()} usable ({os.cpu_count()} logical)"
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
        try:  # the installed version, without importing the package into this process (see launch.py)
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed"
    threads = os.environ.get("OLIGO_COHORT_THREADS")
    info["OLIGO_COHORT_THREADS"] = threads or "not set (DuckDB uses every core)"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        # The reports an earlier run wrote are not code: a rerun after an uncommitted report measures the same code.
        reports = [f":(exclude)benchmarks/results.{suffix}" for suffix in ("md", "json")]
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", *reports], cwd=ROOT, capture_output=True, text=True
        ).stdout
        info["oligo-cohort"] = commit + (" + uncommitted changes" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        pass
    info["date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return info
