"""Stages of a run: wall time and peak memory per stage, and a log record as each starts and ends.

`stage("criteria")` marks a stage wherever it happens (loader, engines,
writer) without passing a reporter through every call: the active
`RunProgress` is held in a context variable. Each stage is told to the
`oligo_cohort.progress` logger (INFO for a top-level stage, DEBUG for one
inside another; `STAGE_FIELDS` ride along as the record's attributes); the
library prints nothing itself: the command line shows the records as progress
lines on a terminal, every one with `--verbose`, none with `--quiet`, and a
Python user sees them after `logging.basicConfig(level=logging.INFO)`. The
measurements are always kept, which is what the benchmarks read. Stage
boundaries are also where an interrupted run stops for sure
(`oligo_cohort.interruption`).
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from oligo_cohort.interruption import raise_if_interrupted

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

log = logging.getLogger("oligo_cohort.progress")
# A stage record's attributes: `stage` (name), `stage_event` ("start" or "end"), `depth` (0 = top level), and at
# the end `seconds`, `cpu_seconds`, `peak_rss_bytes`.
STAGE_FIELDS = ("stage", "stage_event", "depth", "seconds", "cpu_seconds", "peak_rss_bytes")


def bytes_written_so_far() -> int | None:
    """The bytes the process has written so far, to files and to DuckDB's spill files alike (Linux /proc; None
    where unavailable). At a million patients the stages write far more than the outputs: what DuckDB spills
    beyond its memory limit and reads back, which the benchmarks show stage by stage."""
    try:
        with open("/proc/self/io", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return None


def bytes_written_since(started: int | None) -> int | None:
    """The bytes written since `bytes_written_so_far()` gave `started` (None where either reading is unknown)."""
    now = bytes_written_so_far()
    return None if now is None or started is None else now - started


def resident_bytes() -> int:
    """The process's resident memory now (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


@dataclass
class StageMeasure:
    """One stage: its name, wall time, the peak resident memory seen during it, CPU time and nesting depth.

    `cpu_seconds` is the process's CPU time (every thread, user + system) spent
    in the stage, `system_seconds` the part of it spent in the kernel (page
    faults, file and spill I/O); `depth` is 0 for a top-level stage, 1 for a
    stage marked inside another, and so on (an inner stage is recorded before
    its outer one). `written_bytes`: what the process wrote during the stage
    (`bytes_written_so_far()`; None where the system does not say).
    """

    name: str
    seconds: float
    peak_rss_bytes: int
    cpu_seconds: float = 0.0
    depth: int = 0
    system_seconds: float = 0.0
    written_bytes: int | None = None


@dataclass
class RunProgress:
    """Collects stage measures and logs each stage's start and end (`quiet`: measures only, no records)."""

    quiet: bool = False
    sample_every: float = 0.05
    stages: list[StageMeasure] = field(default_factory=list)
    _depth: int = 0

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        peak = [resident_bytes()]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(self.sample_every):
                peak[0] = max(peak[0], resident_bytes())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        depth = self._depth
        self._depth += 1
        level = logging.INFO if depth == 0 else logging.DEBUG
        tell = not self.quiet and log.isEnabledFor(level)
        if tell:
            log.log(level, "%s …", name, extra={"stage": name, "stage_event": "start", "depth": depth})
        started = time.perf_counter()
        cpu_started = time.process_time()
        system_started = os.times().system
        written_started = bytes_written_so_far()
        try:
            yield
        finally:
            self._depth = depth
            stop.set()
            sampler.join()
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            system = os.times().system - system_started
            written = bytes_written_since(written_started)
            peak[0] = max(peak[0], resident_bytes())
            self.stages.append(StageMeasure(name, elapsed, peak[0], cpu, depth, system, written))
            if tell:
                log.log(
                    level,
                    "%s: %.1f s (CPU %.1f s, peak memory %.0f MiB)",
                    name,
                    elapsed,
                    cpu,
                    peak[0] / 2**20,
                    extra={
                        "stage": name,
                        "stage_event": "end",
                        "depth": depth,
                        "seconds": elapsed,
                        "cpu_seconds": cpu,
                        "peak_rss_bytes": peak[0],
                    },
                )


_current: contextvars.ContextVar[RunProgress | None] = contextvars.ContextVar("oligo_cohort_progress", default=None)


@contextmanager
def tracking(progress: RunProgress) -> Iterator[RunProgress]:
    """Make `progress` the reporter of every `stage()` inside this block."""
    token = _current.set(progress)
    try:
        yield progress
    finally:
        _current.reset(token)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Mark a stage of the current run.

    When nothing tracks the run (a Python user's call, a command that keeps no measures of its own: `report`,
    `review export`...) the stage is still told to the log whenever its records would be shown, measured by a
    reporter of its own that the stages inside it share; otherwise it is only a check for interrupts. Without
    this, `logging.basicConfig(level=logging.INFO)` showed a Python user no stage, and `--verbose` showed none
    for most commands.

    Each stage boundary stops the run if Ctrl-C or SIGTERM arrived, even when the interrupt's exception was
    caught and dropped on the way (a DuckDB error handled as an input problem, say).
    """
    raise_if_interrupted()
    progress = _current.get()
    if progress is not None:
        with progress.stage(name):
            yield
    elif log.isEnabledFor(logging.INFO):
        with tracking(RunProgress()) as own, own.stage(name):
            yield
    else:
        yield
    raise_if_interrupted()
