"""The benchmark report: `results.md` (targets, stages, growth, what bounds the time) and `results.json`.

Only arithmetic on measured figures, their formatting and the targets' verdicts: the figures come from
`measure.py`, whose runs this reads. Every figure of several runs is shown as its median with the range; every
ratio is taken pair by pair between runs of the same round (moments apart), then summarised the same way.
"""

from __future__ import annotations

import itertools
import math
import shlex
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from measure import GIB, CommandRun, Measure, SizeRun, size_label

# -- the targets ------------------------------------------------------------------------------------------------------
# Measured on the project's 2-core machine against a reference measured in the same run. "before" is what the
# earlier design took (screens from `make bench`, commands timed by hand), quoted so that the table reads as the
# change it records.

SCREEN_TARGET_SECONDS = {1_000_000: 60.0, 100_000: 6.0, 10_000: 1.5}
SCREEN_BEFORE = {1_000_000: "376 s", 100_000: "30 s", 10_000: "5.5 s"}
LARGE_PATIENTS = 1_000_000
LARGE_MAX_RSS_BYTES = 4 * GIB
LARGE_RSS_BEFORE = "5.2 GiB"
LARGE_MAX_FLOOR_RATIO = 15.0
LARGE_FLOOR_RATIO_BEFORE = "107×"
COMMAND_TARGET_SECONDS = {"screen-demo": 1.0, "help": 0.3, "report-demo": 5.0}
COMMAND_WORK = {
    "screen-demo": "the demo, `oligo-cohort screen` wall clock incl. start-up",
    "help": "`oligo-cohort --help`",
    "report-demo": "`report` on the demo",
}
COMMAND_BEFORE = {"screen-demo": "~6 s", "help": "~4 s", "report-demo": "~30 s"}
PANDAS_TARGET_PATIENTS = 100_000
PANDAS_MAX_DUCKDB_RATIO = 2.0
PANDAS_BEFORE = "1.0×"
REFERENCE_ENGINE = "duckdb"  # the engine the screen targets are about (the default)

# A machine is "busy" when other work took at least this share of the CPU time its cores had during the run: the
# run keeps every core busy, so whatever other work took, it took from the run. Where the machine's CPU time cannot
# be read, the load averages judge instead: busy when, before the run, other work kept at least half the cores
# runnable, or when at the end the load is above the core count (this run's own threads count in it too, and so do
# its waits on the disk, so the load average says less than the CPU time does).
OTHERS_BUSY_SHARE = 0.05
BUSY_START_SHARE = 0.5

NAN = float("nan")


# -- figures of several runs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """Several runs of one figure: the median and the range."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def n(self) -> int:
        return len(self.values)

    def text(self, fmt, unit: str = "", *, runs: str = "run") -> str:
        """'1.23 s (1.20–1.30 s, 3 runs)'; a single run without the range."""
        head = f"{fmt(self.median)}{unit}"
        if self.n == 1:
            return f"{head} (1 {runs})"
        return f"{head} ({fmt(self.low)}–{fmt(self.high)}{unit}, {self.n} {runs}s)"

    def cell(self, fmt) -> str:
        """'1.23 (1.20–1.30)' for a table whose header names the unit and the runs; one run alone."""
        return fmt(self.median) if self.n == 1 else f"{fmt(self.median)} ({fmt(self.low)}–{fmt(self.high)})"


def spread(values: Iterable[float]) -> Spread | None:
    """The spread of the finite values, None when there are none."""
    finite = tuple(v for v in values if v == v and not math.isinf(v))
    return Spread(finite) if finite else None


def ok(measures: Sequence[Measure]) -> list[Measure]:
    return [m for m in measures if m.ok]


def wall(measures: Sequence[Measure], *, process: bool = False) -> Spread | None:
    """Wall time of the successful runs: the work timed in the process, or (`process`) the whole process."""
    return spread(m.process_seconds if process else m.seconds for m in ok(measures))


def paired_ratios(
    numerators: Sequence[Measure], denominators: Sequence[Measure], *, process: bool = False
) -> Spread | None:
    """numerator ÷ denominator run by run (run i with run i: the same round), where both succeeded."""
    values = []
    for top, bottom in zip(numerators, denominators, strict=False):
        if top.ok and bottom.ok:
            a, b = (top.process_seconds, bottom.process_seconds) if process else (top.seconds, bottom.seconds)
            values.append(ratio(a, b))
    return spread(values)


def peak_rss(measures: Sequence[Measure]) -> int | None:
    """The highest peak resident memory of the successful runs (the target is on the worst run)."""
    values = [m.peak_rss_bytes for m in ok(measures)]
    return max(values) if values else None


# -- formatting -------------------------------------------------------------------------------------------------------


def fmt_s(seconds: float) -> str:
    if seconds != seconds:
        return "–"
    if seconds >= 100:
        return f"{seconds:,.0f}"
    if seconds >= 10:
        return f"{seconds:.1f}"
    return f"{seconds:.2f}"


def fmt_gib(value: float) -> str:
    return f"{value / GIB:.2f}"


def fmt_written(size: float) -> str:
    """Bytes written, in GB with two decimals."""
    return "–" if size != size else f"{size / 1e9:.2f}"


def fmt_bytes(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def ratio(a: float, b: float) -> float:
    return a / b if b and b == b and a == a else NAN


def fmt_x(value: float) -> str:
    if value != value:
        return "–"
    return f"{value:,.0f}×" if value >= 100 else f"{value:.1f}×"


def fmt_ratio(value: float) -> str:
    """A ratio without its × sign (for ranges: '11.2–12.0×')."""
    return fmt_x(value)[:-1]


def fmt_share(part: float, whole: float) -> str:
    value = ratio(part, whole)
    return "–" if value != value else f"{100 * value:.0f} %"


def table(header: list[str], rows: list[list[str]], align: str | None = None) -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    marks = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


# -- one benchmark run ------------------------------------------------------------------------------------------------


@dataclass
class Bench:
    """Everything one `make bench` measured, and how it was asked for."""

    sizes: dict[int, SizeRun]
    engines: list[str]
    commands: list[CommandRun] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    cores: int = 2
    load_start: tuple[float, float, float] | None = None
    load_end: tuple[float, float, float] | None = None
    others_cpu_seconds: float | None = None  # CPU time other work took on the machine during the run
    args: list[str] = field(default_factory=list)
    seconds: float = NAN

    def command(self, key: str) -> CommandRun | None:
        return next((c for c in self.commands if c.key == key), None)

    def engine_runs(self, patients: int, engine: str) -> list[Measure]:
        run = self.sizes.get(patients)
        return run.engines.get(engine, []) if run else []


def reproduce(args: Sequence[str]) -> str:
    """The command that reproduces a run made with these arguments."""
    return "make bench" + (f' BENCH_ARGS="{shlex.join(args)}"' if args else "")


# -- verdicts ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    work: str
    before: str
    target: str
    measured: str
    reference: str
    met: bool | None  # None: not measured in this run


NOT_MEASURED = "not measured in this run"


def targets(bench: Bench) -> list[Target]:
    """The targets, in the order of the table that sets them, each judged on the median (peak memory: the worst)."""
    out: list[Target] = []
    large = bench.sizes.get(LARGE_PATIENTS)
    duck = bench.engine_runs(LARGE_PATIENTS, REFERENCE_ENGINE)
    floor = large.floor if large else []
    work = f"{size_label(LARGE_PATIENTS)} patients, Parquet in, every output written"
    seconds = wall(duck)
    reference = _reference_text("floor", floor, duck, process=False)
    limit = SCREEN_TARGET_SECONDS[LARGE_PATIENTS]
    out.append(_seconds_target(work + ": wall", SCREEN_BEFORE[LARGE_PATIENTS], limit, seconds, reference))
    rss = peak_rss(duck)
    out.append(
        Target(
            work + ": peak RSS",
            LARGE_RSS_BEFORE,
            f"≤ {LARGE_MAX_RSS_BYTES / GIB:.0f} GiB",
            f"{fmt_gib(rss)} GiB (highest of {len(ok(duck))} run{'s' if len(ok(duck)) > 1 else ''})"
            if rss is not None
            else NOT_MEASURED,
            "",
            None if rss is None else rss <= LARGE_MAX_RSS_BYTES,
        )
    )
    floor_ratio = paired_ratios(duck, floor)
    floor_wall = wall(floor)
    out.append(
        Target(
            work + ": ÷ the floor",
            LARGE_FLOOR_RATIO_BEFORE,
            f"≤ {LARGE_MAX_FLOOR_RATIO:.0f}×",
            floor_ratio.text(fmt_ratio, "×", runs="pair") if floor_ratio else NOT_MEASURED,
            f"floor {floor_wall.text(fmt_s, ' s')}" if floor_ratio and floor_wall else "",
            None if floor_ratio is None else floor_ratio.median <= LARGE_MAX_FLOOR_RATIO,
        )
    )
    for patients in sorted(SCREEN_TARGET_SECONDS, reverse=True):
        if patients == LARGE_PATIENTS:
            continue
        run = bench.sizes.get(patients)
        runs = bench.engine_runs(patients, REFERENCE_ENGINE)
        work = f"{size_label(patients)} patients"
        reference = _reference_text("floor", run.floor if run else [], runs, process=False)
        seconds = wall(runs)
        out.append(_seconds_target(work, SCREEN_BEFORE[patients], SCREEN_TARGET_SECONDS[patients], seconds, reference))
    for key in ("screen-demo", "help", "report-demo"):
        command = bench.command(key)
        seconds = wall(command.runs, process=True) if command else None
        reference = (
            _reference_text(command.reference_name, command.reference, command.runs, process=True) if command else ""
        )
        out.append(
            _seconds_target(COMMAND_WORK[key], COMMAND_BEFORE[key], COMMAND_TARGET_SECONDS[key], seconds, reference)
        )
    pandas_ratio = paired_ratios(
        bench.engine_runs(PANDAS_TARGET_PATIENTS, "pandas"), bench.engine_runs(PANDAS_TARGET_PATIENTS, REFERENCE_ENGINE)
    )
    duck_mid = wall(bench.engine_runs(PANDAS_TARGET_PATIENTS, REFERENCE_ENGINE))
    out.append(
        Target(
            f"pandas engine at {size_label(PANDAS_TARGET_PATIENTS)}",
            PANDAS_BEFORE,
            f"≤ {PANDAS_MAX_DUCKDB_RATIO:.0f}× DuckDB",
            pandas_ratio.text(fmt_ratio, "×", runs="pair") if pandas_ratio else NOT_MEASURED,
            f"DuckDB engine {duck_mid.text(fmt_s, ' s')}" if pandas_ratio and duck_mid else "",
            None if pandas_ratio is None else pandas_ratio.median <= PANDAS_MAX_DUCKDB_RATIO,
        )
    )
    return out


def _reference_text(name: str, reference: Sequence[Measure], measured: Sequence[Measure], *, process: bool) -> str:
    """'floor 0.75 s (0.74–0.77 s, 3 runs); ÷ it: 7.9× (7.5–8.1×, 3 pairs)': the reference's time and the measure ÷ it."""
    seconds = wall(reference, process=process)
    if seconds is None:
        return ""
    text = f"{name} {seconds.text(fmt_s, ' s')}"
    relative = paired_ratios(measured, reference, process=process)
    return text + (f"; ÷ it: {relative.text(fmt_ratio, '×', runs='pair')}" if relative else "")


def _seconds_target(work: str, before: str, limit: float, seconds: Spread | None, reference: str) -> Target:
    return Target(
        work,
        before,
        f"≤ {limit:g} s",
        seconds.text(fmt_s, " s") if seconds else NOT_MEASURED,
        reference if seconds else "",
        None if seconds is None else seconds.median <= limit,
    )


def verdict_line(found: Sequence[Target]) -> str:
    met = [t for t in found if t.met]
    unmet = [t for t in found if t.met is False]
    missing = sum(t.met is None for t in found)
    return (
        f"{len(met)} of {len(found)} targets met"
        + (f"; not met: {'; '.join(t.work for t in unmet)}" if unmet else "")
        + (f"; {missing} not measured in this run" if missing else "")
        + "."
    )


# -- the machine's load -----------------------------------------------------------------------------------------------


def others_share(others_cpu_seconds: float | None, seconds: float, cores: int) -> float | None:
    """The share of the CPU time the machine's cores had during the run that other work took (None: not known)."""
    if others_cpu_seconds is None or not seconds > 0:
        return None
    return others_cpu_seconds / (seconds * cores)


def fmt_others(others_cpu_seconds: float | None, seconds: float, cores: int) -> str:
    share = others_share(others_cpu_seconds, seconds, cores)
    if share is None:
        return "unknown"
    return f"{others_cpu_seconds:.0f} CPU-s of the {seconds * cores:.0f} its {cores} cores had ({share:.0%})"


def load_note(
    start: tuple[float, ...] | None,
    end: tuple[float, ...] | None,
    cores: int,
    *,
    others_cpu_seconds: float | None = None,
    seconds: float = NAN,
) -> str:
    """Whether other work competed with the run: '' for a quiet machine, a warning for a busy one. Judged by the
    CPU time other work took during the run where it is known, else by the load averages."""
    share = others_share(others_cpu_seconds, seconds, cores)
    if share is not None:
        if share < OTHERS_BUSY_SHARE:
            return ""
        notes = [f"other work took {fmt_others(others_cpu_seconds, seconds, cores)} during the run"]
        return _busy(notes)
    if start is None and end is None:
        return "The load average could not be read on this system, so whether other work competed is not known."
    notes = []
    if start is not None and start[0] >= BUSY_START_SHARE * cores:
        notes.append(
            f"when the run began, other work kept the machine busy (1-minute load average {start[0]:.2f} on "
            f"{cores} cores)"
        )
    if end is not None and end[0] > cores:
        notes.append(
            f"at the end the 1-minute load average was {end[0]:.2f}, above the {cores} cores (this run alone accounts "
            f"for at most about {cores})"
        )
    if not notes:
        return ""
    return _busy(notes)


def _busy(notes: list[str]) -> str:
    return (
        "**This machine is shared, and was busy during this run**: "
        + "; ".join(notes)
        + ". Wall times are then slower than on a quiet machine and the verdicts pessimistic; CPU time suffers less."
        " Rerun `make bench` on a quiet machine before quoting these figures."
    )


def fmt_load(load: tuple[float, ...] | None) -> str:
    return ", ".join(f"{x:.2f}" for x in load) + " (1, 5, 15 min)" if load else "unknown"


# -- stages -----------------------------------------------------------------------------------------------------------


def display_order(stages: list[dict]) -> list[dict]:
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


@dataclass(frozen=True)
class StageFigures:
    """One stage over the runs of an engine at a size: wall and CPU time (median, range), the highest peak RSS."""

    name: str
    depth: int
    wall: Spread
    cpu: Spread
    peak_rss_bytes: int
    parent: str | None = None  # the stage it lies in (None: a top-level stage)
    # The kernel's part of the CPU time (page faults, file and spill I/O) and the bytes the process wrote: the
    # output files, and whatever DuckDB spilled beyond its memory limit. None where a run did not record them.
    system: Spread | None = None
    written: Spread | None = None


OUTSIDE = "outside the stages"
END_TO_END = "end to end"


def _summed_repeats(stages: list[dict]) -> list[dict]:
    """A run's stages (in display order) with each stage recorded more than once under the same outer stage (an
    engine model, once per slice of patients) summed into one, where it first came: its wall and CPU time added,
    its peak memory the highest. Each carries its `path`: the names of its outer stages and its own."""
    summed: dict[tuple[str, ...], dict] = {}
    path: list[str] = []
    for stage in stages:
        depth = int(stage.get("depth", 0))
        del path[depth:]
        path.append(stage["name"])
        key = tuple(path)
        if key not in summed:
            summed[key] = {**stage, "path": key}
            continue
        total = summed[key]
        total["seconds"] += stage["seconds"]
        if "cpu_seconds" in stage:
            total["cpu_seconds"] = total.get("cpu_seconds", 0.0) + stage["cpu_seconds"]
        total["peak_rss_bytes"] = max(total.get("peak_rss_bytes", 0), stage.get("peak_rss_bytes", 0))
        for key in ("system_seconds", "written_bytes"):
            both = (total.get(key), stage.get(key))
            total[key] = None if None in both else both[0] + both[1]
    return list(summed.values())


def _top_stages(run: Measure) -> list[dict]:
    """A run's top-level stages, as it recorded them."""
    return [s for s in run.report.get("stages", []) if int(s.get("depth", 0)) == 0]


def _recorded(values: Sequence[float | None]) -> Spread | None:
    """The spread of a figure every run recorded; None when one of them lacks it (an older report)."""
    return None if not values or None in values else spread(float(v) for v in values)


def _outside(run: Measure, top: Sequence[dict], key: str) -> float | None:
    """A run's figure `key` outside its top-level stages: the whole run's less theirs (None if one lacks it)."""
    values = [run.report.get(key), *(s.get(key) for s in top)]
    return None if None in values else values[0] - sum(values[1:])


def stage_figures(measures: Sequence[Measure]) -> list[StageFigures]:
    """Every stage the runs recorded (in run order, an outer stage before its inner ones; a stage repeated within
    its outer stage summed), then the time spent outside the top-level stages, then the whole screen — the stage
    names as the package records them."""
    runs = ok(measures)
    keyed: dict[tuple[str, ...], list[dict]] = {}
    for m in runs:
        for stage in _summed_repeats(display_order(m.report.get("stages", []))):
            keyed.setdefault(stage["path"], []).append(stage)
    out = []
    for path, stages in keyed.items():
        out.append(
            StageFigures(
                path[-1],
                int(stages[0].get("depth", 0)),
                spread(s["seconds"] for s in stages) or Spread((NAN,)),
                spread(s.get("cpu_seconds", NAN) for s in stages) or Spread((NAN,)),
                max(int(s.get("peak_rss_bytes", 0)) for s in stages),
                path[-2] if len(path) > 1 else None,
                system=_recorded([s.get("system_seconds") for s in stages]),
                written=_recorded([s.get("written_bytes") for s in stages]),
            )
        )
    if runs:
        outside_wall, outside_cpu = [], []
        outside: dict[str, list[float | None]] = {"system_seconds": [], "written_bytes": []}
        for m in runs:
            top = _top_stages(m)
            outside_wall.append(m.seconds - sum(s["seconds"] for s in top))
            outside_cpu.append(m.cpu_seconds - sum(s.get("cpu_seconds", 0.0) for s in top))
            for key, values in outside.items():
                values.append(_outside(m, top, key))
        out.append(
            StageFigures(
                OUTSIDE,
                0,
                Spread(tuple(outside_wall)),
                Spread(tuple(outside_cpu)),
                peak_rss(runs) or 0,
                system=_recorded(outside["system_seconds"]),
                written=_recorded(outside["written_bytes"]),
            )
        )
        whole_wall = wall(runs) or Spread((NAN,))
        whole_cpu = spread(m.cpu_seconds for m in runs) or Spread((NAN,))
        out.append(
            StageFigures(
                END_TO_END,
                0,
                whole_wall,
                whole_cpu,
                peak_rss(runs) or 0,
                system=_recorded([m.report.get("system_seconds") for m in runs]),
                written=_recorded([m.report.get("written_bytes") for m in runs]),
            )
        )
    return out


def _stage_label(stage: StageFigures) -> str:
    if stage.name == END_TO_END:
        return f"**{END_TO_END}**"
    if stage.name == OUTSIDE:
        return f"*{OUTSIDE}*"
    return "&nbsp;&nbsp;" * stage.depth + ("↳ " if stage.depth else "") + stage.name


def stage_rows(run: SizeRun, engines: Sequence[str], cores: int) -> list[list[str]]:
    rows = []
    for engine in engines:
        figures = stage_figures(run.engines.get(engine, []))
        if not figures:
            continue
        total = figures[-1].wall.median
        for stage in figures:
            busy = ratio(stage.cpu.median, stage.wall.median)
            rows.append(
                [
                    engine,
                    _stage_label(stage),
                    stage.wall.cell(fmt_s),
                    fmt_s(stage.cpu.median),
                    fmt_s(stage.system.median) if stage.system else "–",
                    "–" if busy != busy or stage.wall.median < 0.05 else f"{busy:.1f} of {cores}",
                    fmt_share(stage.wall.median, total) if stage.depth == 0 and stage.name != END_TO_END else "",
                    fmt_gib(stage.peak_rss_bytes) if stage.name != OUTSIDE else "",
                    fmt_written(stage.written.median) if stage.written else "–",
                ]
            )
    return rows


# -- growth with the extract ------------------------------------------------------------------------------------------


def growth_rows(bench: Bench, engine: str) -> tuple[list[str], list[list[str]]]:
    """Per stage of `engine`, the median wall time at each size and its growth from one size to the next.

    The floor's row says how reading the input grows; a stage growing faster than the floor (and than the patients)
    is where the design, not the data, sets the time.
    """
    sizes = [p for p in sorted(bench.sizes) if ok(bench.engine_runs(p, engine))]
    if len(sizes) < 2:
        return [], []
    by_size = {p: {(s.depth, s.name): s for s in stage_figures(bench.engine_runs(p, engine))} for p in sizes}
    names: list[tuple[int, str]] = []
    for p in sizes:
        for key in by_size[p]:
            if key not in names and key[1] not in (OUTSIDE, END_TO_END):
                names.append(key)
    steps = list(itertools.pairwise(sizes))
    header = [
        "stage",
        *(f"{size_label(p)} s" for p in sizes),
        *(f"{size_label(a)} → {size_label(b)} (patients ×{fmt_ratio(b / a)})" for a, b in steps),
    ]
    rows = []

    def row(label: str, seconds: dict[int, float]) -> list[str]:
        return [
            label,
            *(fmt_s(seconds.get(p, NAN)) for p in sizes),
            *(fmt_x(ratio(seconds.get(b, NAN), seconds.get(a, NAN))) for a, b in steps),
        ]

    floor = {p: s.median for p in sizes if (s := wall(bench.sizes[p].floor))}
    rows.append(row("*floor (reads every value once)*", floor))
    for depth, name in names:
        seconds = {p: by_size[p][(depth, name)].wall.median for p in sizes if (depth, name) in by_size[p]}
        rows.append(row("&nbsp;&nbsp;" * depth + ("↳ " if depth else "") + name, seconds))
    for key in (OUTSIDE, END_TO_END):
        seconds = {p: by_size[p][(0, key)].wall.median for p in sizes if (0, key) in by_size[p]}
        rows.append(row(f"**{key}**" if key == END_TO_END else f"*{key}*", seconds))
    return header, rows


# -- what bounds the remaining time -----------------------------------------------------------------------------------

BOUND_SHARE = 0.75  # name the largest stages until they cover this share of the whole
BOUND_MAX_STAGES = 3


def bounds_text(bench: Bench, engine: str) -> str:
    """A paragraph, from the figures alone, on the largest stages of `engine` at its largest measured size."""
    sizes = [p for p in sorted(bench.sizes) if ok(bench.engine_runs(p, engine))]
    if not sizes:
        return ""
    patients = sizes[-1]
    previous = sizes[-2] if len(sizes) > 1 else None
    figures = stage_figures(bench.engine_runs(patients, engine))
    total = figures[-1]
    top = sorted((s for s in figures if s.depth == 0 and s.name not in (END_TO_END,)), key=lambda s: -s.wall.median)
    chosen: list[StageFigures] = []
    for stage in top:
        if len(chosen) == BOUND_MAX_STAGES or sum(s.wall.median for s in chosen) >= BOUND_SHARE * total.wall.median:
            break
        chosen.append(stage)
    floor = wall(bench.sizes[patients].floor)
    floor_ratio = paired_ratios(bench.engine_runs(patients, engine), bench.sizes[patients].floor)
    parts = [
        f"At {size_label(patients)} patients the {engine} engine takes {fmt_s(total.wall.median)} s end to end"
        + (
            f", {fmt_x(floor_ratio.median)} the floor ({fmt_s(floor.median)} s to read every value once)"
            if floor and floor_ratio
            else ""
        )
        + "."
    ]
    shares = ", ".join(
        f"{s.name} {fmt_s(s.wall.median)} s ({fmt_share(s.wall.median, total.wall.median)})" for s in chosen
    )
    together = sum(s.wall.median for s in chosen)
    parts.append(
        f"The largest stage{'s' if len(chosen) > 1 else ''}: {shares}"
        + (f", together {fmt_share(together, total.wall.median)} of the time." if len(chosen) > 1 else ".")
    )
    earlier = {(s.depth, s.name): s for s in stage_figures(bench.engine_runs(previous, engine))} if previous else {}
    for stage in chosen:
        parts.append(_stage_sentence(stage, earlier.get((stage.depth, stage.name)), patients, previous, bench.cores))
        inner = [s for s in figures if s.parent == stage.name and s.depth == stage.depth + 1]
        parts.append(_inner_sentence(stage, inner, earlier, previous))
    peak = max(
        (s for s in figures if s.name not in (OUTSIDE, END_TO_END)), key=lambda s: s.peak_rss_bytes, default=None
    )
    if peak is not None:
        parts.append(f"Memory peaks at {fmt_gib(total.peak_rss_bytes)} GiB, reached during {peak.name}.")
    parts.append(_spill_sentence(bench.engine_runs(patients, engine), total))
    limit = SCREEN_TARGET_SECONDS.get(patients) if engine == REFERENCE_ENGINE else None
    if limit is not None:
        gap = total.wall.median - limit
        parts.append(
            f"To meet ≤ {limit:g} s, {fmt_s(gap)} s must go ({fmt_share(gap, total.wall.median)} of the time)."
            if gap > 0
            else f"The ≤ {limit:g} s target is met with {fmt_s(-gap)} s to spare."
        )
    return " ".join(part for part in parts if part)


# Bytes written beyond the output files worth a sentence: spilling, not rounding.
SPILL_WORTH_SAYING = 100 * 10**6


def _spill_sentence(runs: Sequence[Measure], total: StageFigures) -> str:
    """What the screen wrote besides its output files (DuckDB spilling past its memory limit), and the kernel's
    share of the CPU time; '' when the runs did not record it or wrote little else."""
    files = spread(sum(m.report.get("files", {}).values()) for m in ok(runs))
    if total.written is None or total.system is None or files is None:
        return ""
    beyond = total.written.median - files.median
    if beyond < SPILL_WORTH_SAYING:
        return ""
    return (
        f"Besides its output files ({fmt_bytes(int(files.median))}) the screen wrote {fmt_bytes(int(beyond))}: DuckDB"
        f" spilling past its memory limit, to read back later; the kernel took {fmt_s(total.system.median)} s of"
        f" the {fmt_s(total.cpu.median)} s of CPU time ({fmt_share(total.system.median, total.cpu.median)})."
    )


# -- what each time target leaves for the engine -----------------------------------------------------------------------
# A target is within an engine redesign's reach only if the stages around the engine (validation, explain, writing,
# ...) leave it time. Taken run by run: a run's end-to-end time minus its engine stage.

ENGINE_STAGE = f"screen ({REFERENCE_ENGINE} engine)"


@dataclass(frozen=True)
class EngineBudget:
    """One time target against the stages around the engine: how much of the limit they leave the engine."""

    target: str
    limit: float
    others: Spread  # per run: end to end minus the engine stage
    largest_other: tuple[str, float]  # the largest of those stages (median wall seconds)
    engine: Spread

    @property
    def left(self) -> float:
        return self.limit - self.others.median


def engine_budgets(bench: Bench) -> list[EngineBudget]:
    """Each screen-time target (and the 1M target as a multiple of the floor) beside what the other stages take."""
    out = []
    for patients in sorted(SCREEN_TARGET_SECONDS, reverse=True):
        runs = ok(bench.engine_runs(patients, REFERENCE_ENGINE))
        limits = [
            (
                f"{size_label(patients)} patients ≤ {SCREEN_TARGET_SECONDS[patients]:g} s",
                SCREEN_TARGET_SECONDS[patients],
            )
        ]
        run = bench.sizes.get(patients)
        floor = wall(run.floor) if run and patients == LARGE_PATIENTS else None
        if floor is not None:
            limits.append(
                (
                    f"{size_label(patients)} patients ≤ {LARGE_MAX_FLOOR_RATIO:g}× the floor ({fmt_s(floor.median)} s)",
                    LARGE_MAX_FLOOR_RATIO * floor.median,
                )
            )
        budget = _around_the_engine(runs)
        if budget is None:
            continue
        others, largest, engine = budget
        out += [EngineBudget(target, limit, others, largest, engine) for target, limit in limits]
    return out


def _around_the_engine(runs: Sequence[Measure]) -> tuple[Spread, tuple[str, float], Spread] | None:
    """The other stages' time (per run), the largest of them (median), and the engine stage's time."""
    others, engine = [], []
    for m in runs:
        top = _top_stages(m)
        stages = [s["seconds"] for s in top if s["name"] == ENGINE_STAGE]
        if not stages:  # a run that recorded no engine stage says nothing of what the others leave it
            continue
        engine.append(sum(stages))
        others.append(m.seconds - sum(stages))
    if not engine:
        return None
    stages = [s for s in stage_figures(runs) if s.depth == 0 and s.name not in (ENGINE_STAGE, END_TO_END)]
    largest = max(stages, key=lambda s: s.wall.median)
    return Spread(tuple(others)), (largest.name, largest.wall.median), Spread(tuple(engine))


def _budget_cell(budget: EngineBudget) -> str:
    if budget.left <= 0:
        return "out of its reach: the other stages alone take longer"
    if budget.engine.median <= budget.left:
        return "met as it is"
    return f"{fmt_ratio(budget.engine.median / budget.left)}× faster"


def _budget_section(bench: Bench) -> list[str]:
    budgets = engine_budgets(bench)
    if not budgets:
        return []
    rows = [
        [
            b.target,
            fmt_s(b.limit),
            b.others.cell(fmt_s),
            f"{b.largest_other[0]} {fmt_s(b.largest_other[1])}",
            fmt_s(b.left) if b.left > 0 else f"none ({fmt_s(-b.left)} s over)",
            b.engine.cell(fmt_s),
            _budget_cell(b),
        ]
        for b in budgets
    ]
    lines = ["", "## What each time target leaves for the engine", ""]
    lines += table(
        [
            "target",
            "limit s",
            "the other stages s",
            "the largest of them s",
            "left for the engine s",
            f"the {REFERENCE_ENGINE} engine s",
            "the engine would have to be",
        ],
        rows,
        "lrrlrrl",
    )
    lines += [
        "",
        "The other stages are every stage of the screen but the engine's, the time outside the stages included:",
        "each run's end-to-end time minus its engine stage (median of the runs, range in brackets). Whatever the",
        "engine's design, a target is met only if the other stages leave it time, and only if the engine then fits",
        "in what they leave.",
    ]
    return lines


BOUND_INNER_STAGES = 3  # the largest stages inside a large stage, named with their growth


def _inner_sentence(
    stage: StageFigures, inner: list[StageFigures], earlier: dict[tuple[int, str], StageFigures], previous: int | None
) -> str:
    """The largest stages inside `stage` (an engine's models), each with its share of it and its growth from the
    previous size: where inside the stage the time goes, and what grows faster than the rest."""
    if not inner:
        return ""
    largest = sorted(inner, key=lambda s: -s.wall.median)[:BOUND_INNER_STAGES]
    named = []
    for s in largest:
        before = earlier.get((s.depth, s.name))
        grew = ratio(s.wall.median, before.wall.median) if before is not None else NAN
        growth = f", ×{fmt_ratio(grew)} from {size_label(previous)}" if previous and grew == grew else ""
        named.append(f"{s.name} {fmt_s(s.wall.median)} s ({fmt_share(s.wall.median, stage.wall.median)}{growth})")
    return f"Inside {stage.name}, of {len(inner)} steps, the largest: {', '.join(named)}."


def _stage_sentence(
    stage: StageFigures, earlier: StageFigures | None, patients: int, previous: int | None, cores: int
) -> str:
    busy = ratio(stage.cpu.median, stage.wall.median)
    if busy != busy:
        use = ""
    elif busy >= 0.8 * cores:
        use = (
            f"keeps all {cores} cores busy ({fmt_s(stage.cpu.median)} s CPU): bound by the work it does, not by waiting"
        )
    elif busy < 0.8:
        use = (
            f"has the CPU only {100 * busy:.0f} % of its time ({fmt_s(stage.cpu.median)} s CPU in "
            f"{fmt_s(stage.wall.median)} s): it waits, on the disk or, on a busy machine, on other work"
        )
    elif busy <= 1.2:
        use = (
            f"runs on about one core ({fmt_s(stage.cpu.median)} s CPU in {fmt_s(stage.wall.median)} s): serial work "
            f"that leaves {cores - 1 if cores > 1 else 0} core{'s' if cores > 2 else ''} idle"
        )
    else:
        use = f"uses {busy:.1f} of {cores} cores ({fmt_s(stage.cpu.median)} s CPU)"
    growth = ""
    if earlier is not None and previous:
        grew = ratio(stage.wall.median, earlier.wall.median)
        scale = patients / previous
        if grew == grew:
            pace = (
                "faster than the patients"
                if grew > 1.3 * scale
                else "slower than the patients (fixed costs still weigh)"
                if grew < 0.7 * scale
                else "in step with the patients"
            )
            growth = f"; it grew {fmt_x(grew)} from {size_label(previous)} (patients ×{fmt_ratio(scale)}), {pace}"
    if not use and not growth:
        return ""
    return f"{stage.name[0].upper()}{stage.name[1:]} {use or 'was timed'}{growth}."


# -- the report -------------------------------------------------------------------------------------------------------


def render(bench: Bench) -> str:
    command = reproduce(bench.args)
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{command}` ({fmt_s(bench.seconds)} s in all). Every figure comes from a fresh process:",
        "screens of synthetic Parquet extracts (`oligo-cohort synth --sites 20 --seed 1`), timed from the call",
        "of the screen to every output written (`patients`, `events`, `reasons`, `findings` CSV and the manifest,",
        "as `oligo-cohort screen` writes them), and commands timed as a user runs them, from process start to",
        "exit. Each figure is the median of its runs with the range; each is measured against a reference run",
        "in the same round, and ratios are taken pair by pair. CPU time is that of every thread of the process",
        "(user + system); peak RSS is the process's peak resident memory.",
        "",
        "## Machine",
        "",
    ]
    info = dict(bench.info)
    info["load average at start"] = fmt_load(bench.load_start)
    info["load average at end"] = fmt_load(bench.load_end)
    info["CPU time other work took during the run"] = fmt_others(bench.others_cpu_seconds, bench.seconds, bench.cores)
    lines += table(["", ""], [[k, v] for k, v in info.items()], "ll")
    note = load_note(
        bench.load_start,
        bench.load_end,
        bench.cores,
        others_cpu_seconds=bench.others_cpu_seconds,
        seconds=bench.seconds,
    )
    if note:
        lines += ["", note]
    if bench.others_cpu_seconds is not None:
        lines += [
            "",
            "The CPU time other work took counts this machine's own processes. A virtual machine whose host gives its "
            "cores less time or a lower clock shows it in no such count, only in slower reference runs: compare the "
            "floors and `python -c pass` with those of earlier benches before comparing their figures.",
        ]
    lines += ["", "## Targets", ""]
    found = targets(bench)
    verdicts = {True: "**met**", False: "**NOT met**", None: "not measured"}
    rows = [[t.work, t.before, t.target, t.measured, t.reference, verdicts[t.met]] for t in found]
    lines += table(
        ["work", "before the redesign", "target", "measured", "reference, same run", "verdict"], rows, "llllll"
    )
    lines += ["", verdict_line(found)]
    lines += _screens_section(bench)
    lines += _commands_section(bench)
    lines += _stages_section(bench)
    lines += _growth_section(bench)
    lines += _bounds_section(bench)
    lines += _budget_section(bench)
    lines += [
        "",
        "## Reproduce",
        "",
        "```",
        command,
        "```",
        "",
        "Synthetic extracts are generated once into `benchmarks/.data/` (git-ignored). Options (`BENCH_ARGS`):",
        "`--sizes 10k,100k,1m`, `--engines duckdb,pandas`, `--repeat N` (runs per screen at every size; default",
        "3 up to 100k patients, 1 above), `--command-runs N` (default 5), `--no-commands`, `--rowwise`,",
        "`--attrition`; `--quick` is a smoke run written under `benchmarks/.data/`. After a change to this report",
        "alone, `--render benchmarks/results.json` writes it anew from the figures of the last run, measuring nothing.",
    ]
    lines += _references_section(bench)
    return "\n".join(lines) + "\n"


def _screens_section(bench: Bench) -> list[str]:
    lines = ["", "## Screens end to end", ""]
    rows = []
    for patients, run in bench.sizes.items():
        label = size_label(patients)
        floor = wall(run.floor)
        if run.floor:
            rows.append(
                [label, "floor (DuckDB reads every value)", *_screen_cells(run.floor), "1.0×", _run_notes(run.floor)]
            )
        for engine in bench.engines:
            measures = run.engines.get(engine)
            if measures is None:
                if engine in run.skipped:
                    rows.append([label, f"{engine} engine", "0", "–", "–", "–", "–", "–", run.skipped[engine]])
                continue
            relative = paired_ratios(measures, run.floor) if floor else None
            rows.append(
                [
                    label,
                    f"{engine} engine",
                    *_screen_cells(measures),
                    relative.cell(fmt_x) if relative else "–",
                    _run_notes(measures),
                ]
            )
        if run.rowwise:
            m = run.rowwise
            note = (
                f"extrapolated: read {fmt_s(m.report['read_seconds'])} s + "
                f"{m.report['per_patient_seconds'] * 1000:.2f} ms/patient × {patients:,} (sample {m.report['sample']:,})"
                if m.ok
                else m.error.splitlines()[0][:120]
            )
            relative = ratio(m.seconds, floor.median) if floor and m.ok else NAN
            rows.append(
                [
                    label,
                    "row-wise screen (reference)",
                    "1",
                    fmt_s(m.seconds),
                    "–",
                    "–",
                    "(sample)",
                    fmt_x(relative),
                    note,
                ]
            )
    lines += table(
        ["patients", "run", "runs", "wall s", "process s (incl. start-up)", "CPU s", "peak RSS GiB", "÷ floor", "note"],
        rows,
        "llrrrrrrl",
    )
    lines += [
        "",
        "Wall time is the median of the runs (range in brackets); process time adds the interpreter's start-up",
        "and imports; CPU time is the median, peak RSS the highest of the runs.",
    ]
    written = files_written(bench)
    if written:
        lines += ["", written]
    return lines


def files_written(bench: Bench) -> str:
    """'Files written at 1M patients (duckdb engine): events.csv 12.3 MB, …' from the largest size's first good run."""
    for patients in sorted(bench.sizes, reverse=True):
        for engine in bench.engines:
            for m in ok(bench.engine_runs(patients, engine)):
                files = m.report.get("files")
                if files:
                    listed = ", ".join(f"`{name}` {fmt_bytes(size)}" for name, size in files.items())
                    return f"Files written at {size_label(patients)} patients ({engine} engine): {listed}."
    return ""


def _screen_cells(measures: Sequence[Measure]) -> list[str]:
    seconds = wall(measures)
    if seconds is None:
        return [str(len(measures)), "failed", "–", "–", "–"]
    process = wall(measures, process=True)
    cpu = spread(m.cpu_seconds for m in ok(measures))
    return [
        str(seconds.n),
        seconds.cell(fmt_s),
        fmt_s(process.median) if process else "–",
        fmt_s(cpu.median) if cpu else "–",
        fmt_gib(peak_rss(measures) or 0),
    ]


def _run_notes(measures: Sequence[Measure]) -> str:
    """The note of an engine's screens: the runs that failed, and where validation kept the typed inputs when
    that was a file (oligo_cohort/validate/storage.py)."""
    notes = []
    if any(m.ok and m.report.get("typed_inputs") == "file" for m in measures):
        notes.append("typed inputs kept in a file")
    failed = [m for m in measures if not m.ok]
    if failed:
        first = failed[0].error.splitlines()[0][:120] if failed[0].error else ""
        notes.append(f"{len(failed)} of {len(measures)} runs failed: {first}")
    return "; ".join(notes)


def _commands_section(bench: Bench) -> list[str]:
    if not bench.commands:
        return []
    lines = ["", "## Commands", ""]
    rows = []
    for command in bench.commands:
        seconds = wall(command.runs, process=True)
        reference = wall(command.reference, process=True)
        relative = paired_ratios(command.runs, command.reference, process=True)
        cpu = spread(m.child_cpu_seconds for m in ok(command.runs))
        rows.append(
            [
                f"`{command.command}`",
                str(seconds.n if seconds else len(command.runs)),
                seconds.cell(fmt_s) if seconds else "failed",
                fmt_s(cpu.median) if cpu else "–",
                fmt_gib(peak_rss(command.runs) or 0) if seconds else "–",
                f"{command.reference_name}: {reference.cell(fmt_s)}" if reference else "–",
                relative.cell(fmt_x) if relative else "–",
                _run_notes(command.runs) or _run_notes(command.reference),
            ]
        )
    lines += table(
        [
            "command",
            "runs",
            "wall s",
            "CPU s",
            "peak RSS GiB",
            "reference, same rounds (wall s)",
            "÷ reference",
            "note",
        ],
        rows,
        "lrrrrlrl",
    )
    lines += [
        "",
        "Each run is a fresh process timed from start to exit (output into a new temporary folder, removed after).",
        "`python -c pass` is the interpreter's own start-up, the least any command can take; the floor on the demo",
        "is a fresh process that imports DuckDB and reads every value of the demo extract once.",
    ]
    return lines


def _stages_section(bench: Bench) -> list[str]:
    lines = [
        "",
        "## Stages",
        "",
        "Stages as the package records them (`oligo_cohort/progress.py`; ↳ a stage inside the one above): wall time",
        "(median, range), CPU time (median), cores kept busy (CPU ÷ wall), share of the end-to-end wall time, and",
        "the highest resident memory sampled during the stage. *Outside the stages* is what the screen spends",
        "between them. *Of it system* is the kernel's part of the CPU time (page faults, file and spill I/O);",
        "*written* is what the process wrote during the stage: the output files while writing, and everywhere",
        "what DuckDB spilled to its private folder once its memory limit was reached.",
    ]
    for patients, run in bench.sizes.items():
        rows = stage_rows(run, bench.engines, bench.cores)
        if not rows:
            continue
        lines += ["", f"### {size_label(patients)} patients", ""]
        header = ["engine", "stage", "wall s", "CPU s", "of it system s", "cores busy", "share", "peak RSS GiB"]
        lines += table([*header, "written GB"], rows, "llrrrrrrr")
    return lines


def _growth_section(bench: Bench) -> list[str]:
    lines: list[str] = []
    for engine in bench.engines:
        header, rows = growth_rows(bench, engine)
        if not rows:
            continue
        if not lines:
            lines = [
                "",
                "## Growth with the extract",
                "",
                "Median wall time per stage at each size and how many times it grew from one size to the next. Work",
                "that grows with the data grows like the floor (about as the patients); a stage that grows faster is",
                "doing more than linear work, one that grows slower is still dominated by fixed costs.",
            ]
        lines += ["", f"### {engine} engine", ""]
        lines += table(header, rows)
    return lines


def _bounds_section(bench: Bench) -> list[str]:
    paragraphs = [text for engine in bench.engines if (text := bounds_text(bench, engine))]
    if not paragraphs:
        return []
    lines = ["", "## What bounds the remaining time", ""]
    for text in paragraphs:
        lines += [text, ""]
    return lines[:-1]


def _references_section(bench: Bench) -> list[str]:
    lines = [
        "",
        "## Reference points",
        "",
        "- **floor** (`benchmarks/floor.py`): DuckDB reads every table and computes one aggregate per",
        "  table, `bit_xor(hash(col))` over every column, so every value is decoded (`count(col)` would",
        "  be answered from Parquet statistics without reading the data). No screen can do less than read",
        "  its input once.",
        "- **`python -c pass`**: the interpreter starting and stopping, the floor of any command's start-up.",
    ]
    if any(run.rowwise for run in bench.sizes.values()):
        lines += [
            "- **row-wise screen** (`benchmarks/rowwise.py`, with `--rowwise`): per-patient Python over pandas groups",
            "  on a sample of patients, extrapolated per patient; comparable work, not a faithful screen.",
        ]
    attrition = [(p, run.attrition()) for p, run in bench.sizes.items() if run.attrition()]
    if attrition:
        lines += [
            "- **attrition views** (with `--attrition`): after the first screen of each size, the histograms of the",
            "  result (ungrouped, by site, by year), then every view from the histograms alone: "
            + "; ".join(
                f"{size_label(p)}: histograms {fmt_s(a['histogram_seconds'])} s, views {fmt_s(a['views_seconds'])} s"
                for p, a in attrition
            )
            + ".",
        ]
    lines += [
        "",
        "Timings on a machine shared with other work are noisy: compare CPU time with wall time, and see",
        "above how much CPU time other work took during the run; rerun `make bench` on a quiet machine for",
        "figures to quote.",
    ]
    return lines


def raw_figures(bench: Bench) -> dict:
    """Every measured figure, as `results.json` holds them."""
    return {
        "machine": bench.info,
        "cores": bench.cores,
        "load_average_start": bench.load_start,
        "load_average_end": bench.load_end,
        "others_cpu_seconds": bench.others_cpu_seconds,
        "command": reproduce(bench.args),
        "seconds": bench.seconds,
        "targets": [t.__dict__ for t in targets(bench)],
        "sizes": [
            {
                "patients": run.patients,
                "extract": str(run.extract),
                "floor": [m.as_json() for m in run.floor],
                "engines": {name: [m.as_json() for m in runs] for name, runs in run.engines.items()},
                "skipped": run.skipped,
                "rowwise": run.rowwise.as_json() if run.rowwise else None,
            }
            for run in bench.sizes.values()
        ],
        "commands": [
            {
                "key": c.key,
                "command": c.command,
                "reference_name": c.reference_name,
                "runs": [m.as_json() for m in c.runs],
                "reference": [m.as_json() for m in c.reference],
            }
            for c in bench.commands
        ],
    }


def bench_from_figures(figures: dict) -> Bench:
    """The bench that `raw_figures` wrote: so that a change to this report can be rendered again from the figures
    of an earlier run (`run.py --render results.json`), without measuring anew."""
    command = figures.get("command", "make bench")
    _, _, given = command.partition("BENCH_ARGS=")
    bench = Bench(
        sizes={},
        engines=[],
        info=dict(figures.get("machine", {})),
        cores=int(figures.get("cores", 2)),
        load_start=_load_triple(figures.get("load_average_start")),
        load_end=_load_triple(figures.get("load_average_end")),
        others_cpu_seconds=figures.get("others_cpu_seconds"),
        args=shlex.split(shlex.split(given)[0]) if given else [],
        seconds=float(figures.get("seconds", NAN)),
    )
    for size in figures.get("sizes", []):
        run = SizeRun(int(size["patients"]), Path(size["extract"]))
        run.floor = [Measure.from_json(m) for m in size.get("floor", [])]
        run.engines = {name: [Measure.from_json(m) for m in runs] for name, runs in size.get("engines", {}).items()}
        run.skipped = dict(size.get("skipped", {}))
        run.rowwise = Measure.from_json(size["rowwise"]) if size.get("rowwise") else None
        bench.sizes[run.patients] = run
        bench.engines += [name for name in [*run.engines, *run.skipped] if name not in bench.engines]
    for item in figures.get("commands", []):
        command_run = CommandRun(item["key"], item["command"], item["reference_name"])
        command_run.runs = [Measure.from_json(m) for m in item.get("runs", [])]
        command_run.reference = [Measure.from_json(m) for m in item.get("reference", [])]
        bench.commands.append(command_run)
    return bench


def _load_triple(values: Sequence[float] | None) -> tuple[float, float, float] | None:
    return (float(values[0]), float(values[1]), float(values[2])) if values else None
