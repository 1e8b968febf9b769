"""The benchmark report: `results.md` (targets, tables, ratios, stages) and `results.json` from measured runs.

Only formatting and the targets' verdicts: the figures come from `measure.py`, whose runs this reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from measure import GIB, Measure, SizeRun, size_label

GB = 1e9

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


def raw_figures(runs: dict[int, SizeRun], info: dict[str, str], command: str) -> dict:
    """Every measured figure, as `results.json` holds them."""
    return {
        "machine": info,
        "command": command,
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
