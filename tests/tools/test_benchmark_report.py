"""The benchmark harness's report, apart from any real measuring: verdicts, tables and text from given figures.

`benchmarks/report.py` turns measured runs into results.md; here the runs are made up, so the verdicts (on the
median, the worst peak memory, ratios taken pair by pair), the stage and growth tables and the generated "what
bounds the remaining time" paragraph can be checked exactly. The harness's entry point is checked to start (its
imports resolve when it runs as a script, as `make bench` runs it), and its process measuring on two tiny commands.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
GIB = 1024**3
STAGES = ("read", "validate", "stage (cut-off)", "screen (duckdb engine)", "explain", "write outputs")


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch):
    """The harness's modules, imported as its scripts import each other (by file name, from benchmarks/)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    for name in ("measure", "report"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import measure
    import report

    return measure, report


def screen_run(measure, seconds: float, *, stages: dict[str, float] | None = None, rss_gib: float = 1.0, cpu=None):
    """A screen_once.py run: `stages` wall seconds (CPU 1.5× each unless `cpu` names it), the rest outside them."""
    stages = stages or {}
    cpu = cpu or {}
    recorded = [
        {
            "name": name,
            "seconds": s,
            "cpu_seconds": cpu.get(name, 1.5 * s),
            "peak_rss_bytes": int(rss_gib * GIB * (0.5 + 0.5 * (i + 1) / len(stages))),
            "depth": 0,
        }
        for i, (name, s) in enumerate(stages.items())
    ]
    report = {
        "seconds": seconds,
        "cpu_seconds": sum(r["cpu_seconds"] for r in recorded) + 0.1 if recorded else 1.5 * seconds,
        "peak_rss_bytes": int(rss_gib * GIB),
        "stages": recorded,
        "files": {"events.csv": 2_000_000, "manifest.json": 1_500},
    }
    return measure.Measure("engine", report, process_seconds=seconds + 0.4)


def floor_run(measure, seconds: float):
    return measure.Measure("floor", {"seconds": seconds, "cpu_seconds": seconds, "peak_rss_bytes": 10**8})


def command_run(measure, seconds: float):
    """A command: no JSON report, its figures are the whole process's."""
    return measure.Measure(
        "command", child_cpu_seconds=seconds * 0.9, child_peak_rss_bytes=10**8, process_seconds=seconds
    )


def failed(measure):
    return measure.Measure("engine", error="exit 1: boom")


def stages_of(total: float, shares: dict[str, float]) -> dict[str, float]:
    return {name: total * share for name, share in shares.items()}


@pytest.fixture
def made_up(bench):
    """A whole bench: 10k (3 runs, one an outlier), 100k (3 pairs with pandas), 1M (1 run), the three commands."""
    measure, report = bench
    shares = {
        "read": 0.01,
        "validate": 0.2,
        "stage (cut-off)": 0.05,
        "screen (duckdb engine)": 0.5,
        "explain": 0.04,
        "write outputs": 0.15,
    }
    small = measure.SizeRun(10_000, Path("a"))
    small.floor = [floor_run(measure, s) for s in (0.2, 0.25, 0.2)]
    small.engines["duckdb"] = [screen_run(measure, s, stages=stages_of(s, shares)) for s in (1.0, 1.4, 9.0)]
    mid = measure.SizeRun(100_000, Path("b"))
    mid.floor = [floor_run(measure, s) for s in (1.0, 2.0, 1.0)]
    mid.engines["duckdb"] = [screen_run(measure, s, stages=stages_of(s, shares)) for s in (8.0, 10.0, 7.0)]
    mid.engines["pandas"] = [screen_run(measure, s) for s in (12.0, 30.0, 13.0)]
    # The 1M screen: validate grows 30× from 100k (faster than the patients), the engine keeps both cores busy.
    large_stages = {"read": 0.2, "validate": 60.0, "stage (cut-off)": 4.0, "screen (duckdb engine)": 40.0}
    large_stages |= {"explain": 3.0, "write outputs": 12.0}
    large = measure.SizeRun(1_000_000, Path("c"))
    large.floor = [floor_run(measure, 10.0)]
    large.engines["duckdb"] = [
        screen_run(
            measure,
            120.0,
            stages=large_stages,
            rss_gib=4.5,
            cpu={"validate": 61.0, "screen (duckdb engine)": 79.0},
        )
    ]
    large.skipped["pandas"] = "not run above 100k patients (--pandas-max)"
    commands = []
    for key, shown, reference, runs, references in (
        ("help", "oligo-cohort --help", "python -c pass", (0.2, 0.25, 0.9, 0.22, 0.21), (0.02,) * 5),
        ("screen-demo", "oligo-cohort screen <demo>", "floor", (1.5, 1.2, 1.1, 1.3, 1.4), (0.3,) * 5),
        ("report-demo", "oligo-cohort report <demo>", "floor", (4.0, 4.5, 3.9, 4.1, 4.2), (0.3,) * 5),
    ):
        command = measure.CommandRun(key, shown, reference)
        command.runs = [command_run(measure, s) for s in runs]
        command.reference = [command_run(measure, s) for s in references]
        commands.append(command)
    return report.Bench(
        sizes={10_000: small, 100_000: mid, 1_000_000: large},
        engines=["duckdb", "pandas"],
        commands=commands,
        info={"CPU": "test"},
        cores=2,
        load_start=(0.3, 0.5, 0.6),
        load_end=(1.8, 1.2, 0.9),
        args=[],
        seconds=321.0,
    )


def test_every_target_is_judged_on_the_median_and_the_worst_memory(bench, made_up) -> None:
    _, report = bench
    verdicts = {t.work: (t.measured, t.met) for t in report.targets(made_up)}
    assert list(verdicts) == [
        "1M patients, Parquet in, every output written: wall",
        "1M patients, Parquet in, every output written: peak RSS",
        "1M patients, Parquet in, every output written: ÷ the floor",
        "100k patients",
        "10k patients",
        "the demo, `oligo-cohort screen` wall clock incl. start-up",
        "`oligo-cohort --help`",
        "`report` on the demo",
        "pandas engine at 100k",
    ]
    assert verdicts["1M patients, Parquet in, every output written: wall"] == ("120 s (1 run)", False)
    assert verdicts["1M patients, Parquet in, every output written: peak RSS"] == ("4.50 GiB (highest of 1 run)", False)
    assert verdicts["1M patients, Parquet in, every output written: ÷ the floor"] == ("12.0× (1 pair)", True)
    assert verdicts["100k patients"] == ("8.00 s (7.00–10.0 s, 3 runs)", False)
    # The 9 s outlier moves the mean far above 1.5 s, not the median.
    assert verdicts["10k patients"] == ("1.40 s (1.00–9.00 s, 3 runs)", True)
    assert verdicts["the demo, `oligo-cohort screen` wall clock incl. start-up"] == (
        "1.30 s (1.10–1.50 s, 5 runs)",
        False,
    )
    assert verdicts["`oligo-cohort --help`"] == ("0.22 s (0.20–0.90 s, 5 runs)", True)
    assert verdicts["`report` on the demo"] == ("4.10 s (3.90–4.50 s, 5 runs)", True)
    # Pair by pair: 12/8, 30/10, 13/7 → 1.5, 3.0, 1.86: median 1.86 (the ratio of the medians would be 1.63).
    assert verdicts["pandas engine at 100k"] == ("1.9× (1.5–3.0×, 3 pairs)", True)


def test_references_are_given_beside_each_target(bench, made_up) -> None:
    _, report = bench
    references = {t.work: t.reference for t in report.targets(made_up)}
    assert references["100k patients"] == "floor 1.00 s (1.00–2.00 s, 3 runs); ÷ it: 7.0× (5.0–8.0×, 3 pairs)"
    assert references["`oligo-cohort --help`"].startswith(
        "python -c pass 0.02 s (0.02–0.02 s, 5 runs); ÷ it: 11.0× (10.0–45.0×"
    )
    assert references["pandas engine at 100k"] == "DuckDB engine 8.00 s (7.00–10.0 s, 3 runs)"


def test_a_target_without_figures_is_not_measured_rather_than_met(bench, made_up) -> None:
    measure, report = bench
    del made_up.sizes[1_000_000]
    made_up.commands = []
    made_up.sizes[100_000].engines["pandas"] = [failed(measure)] * 3
    made_up.sizes[10_000].engines["duckdb"] = [failed(measure), *made_up.sizes[10_000].engines["duckdb"][1:]]
    verdicts = {t.work: (t.measured, t.met) for t in report.targets(made_up)}
    unmeasured = [work for work, (text, met) in verdicts.items() if met is None]
    assert all(verdicts[work][0] == "not measured in this run" for work in unmeasured)
    assert len(unmeasured) == 7
    # A failed run leaves the others to judge by; it is not counted as a run.
    assert verdicts["10k patients"] == ("5.20 s (1.40–9.00 s, 2 runs)", False)
    line = report.verdict_line(report.targets(made_up))
    assert line == "0 of 9 targets met; not met: 100k patients; 10k patients; 7 not measured in this run."


def test_the_load_average_warns_only_when_other_work_competed(bench) -> None:
    _, report = bench
    assert report.load_note((0.4, 0.5, 0.5), (1.9, 1.0, 0.7), cores=2) == ""
    busy_start = report.load_note((1.0, 0.5, 0.5), (1.9, 1.0, 0.7), cores=2)
    assert "shared, and was busy" in busy_start and "1-minute load average 1.00 on 2 cores" in busy_start
    busy_end = report.load_note((0.2, 0.5, 0.5), (3.4, 2.0, 1.0), cores=2)
    assert "at the end the 1-minute load average was 3.40, above the 2 cores" in busy_end
    assert "could not be read" in report.load_note(None, None, cores=2)


def test_stages_are_read_from_the_runs_with_the_time_outside_them(bench, made_up) -> None:
    _, report = bench
    figures = report.stage_figures(made_up.sizes[10_000].engines["duckdb"])
    assert [f.name for f in figures] == [*STAGES, "outside the stages", "end to end"]
    validate = figures[1]
    assert (validate.wall.median, validate.wall.low, validate.wall.high) == pytest.approx((0.28, 0.2, 1.8))
    assert validate.cpu.median == pytest.approx(0.42)
    outside = figures[-2]
    assert outside.wall.median == pytest.approx(0.05 * 1.4)  # the shares add up to 95 %
    assert figures[-1].wall.median == 1.4


def test_inner_stages_follow_their_outer_stage(bench) -> None:
    measure, report = bench
    recorded = [
        {"name": "read", "seconds": 1.0, "depth": 0},
        {"name": "derived tables", "seconds": 2.0, "depth": 1},
        {"name": "criteria", "seconds": 1.0, "depth": 1},
        {"name": "screen (pandas engine)", "seconds": 3.5, "depth": 0},
        {"name": "write outputs", "seconds": 1.0, "depth": 0},
    ]
    assert [s["name"] for s in report.display_order(recorded)] == [
        "read",
        "screen (pandas engine)",
        "derived tables",
        "criteria",
        "write outputs",
    ]
    run = measure.Measure("pandas", {"seconds": 6.0, "cpu_seconds": 6.0, "peak_rss_bytes": GIB, "stages": recorded})
    figures = report.stage_figures([run])
    assert [(f.depth, f.name) for f in figures][:4] == [
        (0, "read"),
        (0, "screen (pandas engine)"),
        (1, "derived tables"),
        (1, "criteria"),
    ]
    # Only top-level stages count against the whole: 6 - (1 + 3.5 + 1).
    assert figures[-2].wall.median == pytest.approx(0.5)


def sliced_engine_run(measure, models: dict[str, list[float]], *, outer: float):
    """A screen whose engine ran each model once per slice (`models`: a model's wall seconds in each slice)."""
    recorded = [{"name": "validate", "seconds": 1.0, "cpu_seconds": 1.5, "peak_rss_bytes": GIB, "depth": 0}]
    for number in range(max(len(times) for times in models.values())):
        for name, times in models.items():
            if number < len(times):
                recorded.append(
                    {
                        "name": name,
                        "seconds": times[number],
                        "cpu_seconds": 2 * times[number],
                        "peak_rss_bytes": int((number + 1) * GIB),
                        "depth": 1,
                    }
                )
    recorded.append({"name": "screen (duckdb engine)", "seconds": outer, "cpu_seconds": 2 * outer, "depth": 0})
    report = {"seconds": outer + 1.5, "cpu_seconds": 3 * outer, "peak_rss_bytes": 4 * GIB, "stages": recorded}
    return measure.Measure("duckdb", report)


def test_a_stage_repeated_inside_its_outer_stage_is_summed(bench) -> None:
    """An engine screening in slices records each model once per slice: the report shows each model once, its
    time over every slice, under the engine's stage."""
    measure, report = bench
    run = sliced_engine_run(measure, {"scan_lines": [1.0, 2.0, 3.0], "result_facts": [0.5, 0.5]}, outer=8.0)
    figures = report.stage_figures([run])
    inner = [f for f in figures if f.depth == 1]
    assert [(f.name, f.parent) for f in inner] == [
        ("scan_lines", "screen (duckdb engine)"),
        ("result_facts", "screen (duckdb engine)"),
    ]
    assert (inner[0].wall.median, inner[0].cpu.median) == pytest.approx((6.0, 12.0))
    assert inner[0].peak_rss_bytes == 3 * GIB  # the highest of its slices
    assert inner[1].wall.median == pytest.approx(1.0)
    # Two runs: each model's time summed within a run, then the median taken over the runs.
    other = sliced_engine_run(measure, {"scan_lines": [4.0, 4.0, 4.0], "result_facts": [1.0, 1.0]}, outer=12.0)
    third = sliced_engine_run(measure, {"scan_lines": [2.0, 2.0, 3.0], "result_facts": [2.0, 2.0]}, outer=10.0)
    spread = {f.name: f.wall for f in report.stage_figures([run, other, third]) if f.depth == 1}
    assert (spread["scan_lines"].median, spread["scan_lines"].low, spread["scan_lines"].high) == (7.0, 6.0, 12.0)
    assert spread["result_facts"].median == pytest.approx(2.0)


def test_what_bounds_the_time_names_the_largest_steps_inside_a_stage(bench, made_up) -> None:
    """Inside the largest stages, the report names the largest steps (an engine's models) with their share of
    the stage and their growth from the size before."""
    measure, report = bench
    models = {"progressing_lesions": 2.0, "scan_lines": 1.0, "lines_of_therapy": 0.5, "result_facts": 0.25}
    made_up.sizes[100_000].engines["duckdb"] = [
        sliced_engine_run(measure, {name: [s] for name, s in models.items()}, outer=4.0) for _ in range(3)
    ]
    # At 1M in four slices: progressing_lesions 4 × 6 s grows 12×, the others 10×.
    large = {name: [2.5 * s] * 4 for name, s in models.items()} | {"progressing_lesions": [6.0] * 4}
    made_up.sizes[1_000_000].engines["duckdb"] = [sliced_engine_run(measure, large, outer=60.0)]
    text = report.bounds_text(made_up, "duckdb")
    assert (
        "Inside screen (duckdb engine), of 4 steps, the largest: progressing_lesions 24.0 s (40 %, ×12.0 from 100k), "
        "scan_lines 10.0 s (17 %, ×10.0 from 100k), lines_of_therapy 5.00 s (8 %, ×10.0 from 100k)." in text
    )
    assert "  " not in text  # no empty sentence left between the others


def test_growth_is_the_ratio_from_one_size_to_the_next(bench, made_up) -> None:
    _, report = bench
    header, rows = report.growth_rows(made_up, "duckdb")
    assert header == [
        "stage",
        "10k s",
        "100k s",
        "1M s",
        "10k → 100k (patients ×10.0)",
        "100k → 1M (patients ×10.0)",
    ]
    by_stage = {row[0]: row[1:] for row in rows}
    assert by_stage["*floor (reads every value once)*"] == ["0.20", "1.00", "10.0", "5.0×", "10.0×"]
    # validate: 0.28 s → 1.6 s → 60 s.
    assert by_stage["validate"] == ["0.28", "1.60", "60.0", "5.7×", "37.5×"]
    assert by_stage["**end to end**"] == ["1.40", "8.00", "120", "5.7×", "15.0×"]
    assert report.growth_rows(made_up, "pandas") == ([], [])  # one size only: nothing grows


def test_what_bounds_the_time_is_written_from_the_figures(bench, made_up) -> None:
    _, report = bench
    text = report.bounds_text(made_up, "duckdb")
    assert text.startswith(
        "At 1M patients the duckdb engine takes 120 s end to end, 12.0× the floor (10.0 s to read every value once)."
    )
    assert (
        "The largest stages: validate 60.0 s (50 %), screen (duckdb engine) 40.0 s (33 %), together 83 % of the time."
        in text
    )
    assert "Validate runs on about one core (61.0 s CPU in 60.0 s)" in text
    assert "it grew 37.5× from 100k (patients ×10.0), faster than the patients." in text
    assert "Screen (duckdb engine) keeps all 2 cores busy (79.0 s CPU)" in text
    assert "Memory peaks at 4.50 GiB" in text
    assert "To meet ≤ 60 s, 60.0 s must go (50 % of the time)." in text
    # A stage that has the CPU less than most of its time is waiting, not computing.
    made_up.sizes[1_000_000].engines["duckdb"][0].report["stages"][1]["cpu_seconds"] = 15.0
    slowed = report.bounds_text(made_up, "duckdb")
    assert "Validate has the CPU only 25 % of its time (15.0 s CPU in 60.0 s): it waits" in slowed
    pandas = report.bounds_text(made_up, "pandas")
    assert pandas.startswith("At 100k patients the pandas engine takes 13.0 s end to end") and "target" not in pandas


def test_each_time_target_is_set_beside_what_the_other_stages_leave_the_engine(bench, made_up) -> None:
    """Whatever the engine's design, it can meet a target only within the time the other stages leave it: each
    run's end to end minus its engine stage (median of the runs)."""
    _, report = bench
    budgets = {b.target: b for b in report.engine_budgets(made_up)}
    assert list(budgets) == [
        "1M patients ≤ 60 s",
        "1M patients ≤ 15× the floor (10.0 s)",
        "100k patients ≤ 6 s",
        "10k patients ≤ 1.5 s",
    ]
    # 1M: 120 s, the engine 40 s; the other 80 s exceed 60 s, but not 15 × the floor's 10 s.
    large = budgets["1M patients ≤ 60 s"]
    assert (large.limit, large.others.median, large.left, large.largest_other) == (
        60.0,
        80.0,
        -20.0,
        ("validate", 60.0),
    )
    assert budgets["1M patients ≤ 15× the floor (10.0 s)"].left == 70.0
    # 100k: runs of 8, 10 and 7 s, half of each the engine: the others take 4 s (median), leaving 2 s for 4 s.
    mid = budgets["100k patients ≤ 6 s"]
    assert (mid.others.median, mid.engine.median, mid.left) == (4.0, 4.0, 2.0)
    text = "\n".join(report.render(made_up).splitlines())
    assert "## What each time target leaves for the engine" in text
    assert "| 1M patients ≤ 60 s | 60.0 | 80.0 | validate 60.0 | none (20.0 s over) | 40.0 | out of its reach" in text
    assert "| 1M patients ≤ 15× the floor (10.0 s) | 150 | 80.0 | validate 60.0 | 70.0 | 40.0 | met as it is |" in text
    assert (
        "| 100k patients ≤ 6 s | 6.00 | 4.00 (3.50–5.00) | validate 1.60 | 2.00 | 4.00 (3.50–5.00) | 2.0× faster |"
        in text
    )
    # A run without an engine stage (a failed or older report) gives no figure rather than a wrong one.
    for run in made_up.sizes[10_000].engines["duckdb"]:
        run.report["stages"] = [s for s in run.report["stages"] if s["name"] != "screen (duckdb engine)"]
    assert "10k patients ≤ 1.5 s" not in {b.target for b in report.engine_budgets(made_up)}


def test_the_report_is_rendered_again_from_its_figures_alone(bench, made_up, tmp_path: Path) -> None:
    """`run.py --render results.json` writes the report a change to it would have written, measuring nothing."""
    _, report = bench
    made_up.args = ["--sizes", "10k,100k,1m", "--repeat", "3"]
    figures = report.raw_figures(made_up)
    again = report.bench_from_figures(figures)
    assert report.raw_figures(again) == figures
    assert report.render(again) == report.render(made_up)
    saved = tmp_path / "results.json"
    saved.write_text(json.dumps(figures), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--render", str(saved)], capture_output=True, text=True, check=True
    )
    assert "wrote" in done.stderr + done.stdout
    assert (tmp_path / "results.md").read_text(encoding="utf-8") == report.render(made_up)


def test_the_report_shows_every_section_and_how_to_reproduce_it(bench, made_up) -> None:
    _, report = bench
    text = report.render(made_up)
    for heading in (
        "## Machine",
        "## Targets",
        "## Screens end to end",
        "## Commands",
        "## Stages",
        "### 1M patients",
        "## Growth with the extract",
        "## What bounds the remaining time",
        "## What each time target leaves for the engine",
        "## Reproduce",
    ):
        assert heading in text
    assert "| 1M patients, Parquet in, every output written: wall | 376 s | ≤ 60 s | 120 s (1 run) |" in text
    assert (
        "5 of 9 targets met; not met: 1M patients, Parquet in, every output written: wall; 1M patients, Parquet in, "
        "every output written: peak RSS; 100k patients; the demo, `oligo-cohort screen` wall clock incl. start-up."
    ) in text
    assert "| load average at start | 0.30, 0.50, 0.60 (1, 5, 15 min) |" in text
    assert "was busy" not in text
    assert "| 100k | pandas engine | 3 | 13.0 (12.0–30.0) | 13.4 | 19.5 | 1.00 | 13.0× (12.0×–15.0×) |" in text
    assert "| 1M | pandas engine | 0 | – | – | – | – | – | not run above 100k patients (--pandas-max) |" in text
    assert "Files written at 1M patients (duckdb engine): `events.csv` 2.0 MB, `manifest.json` 1.5 kB." in text
    assert "```\nmake bench\n```" in text
    assert report.reproduce(["--sizes", "10k", "--engines", "duckdb"]) == (
        'make bench BENCH_ARGS="--sizes 10k --engines duckdb"'
    )
    raw = report.raw_figures(made_up)
    assert raw["sizes"][2]["engines"]["duckdb"][0]["report"]["seconds"] == 120.0
    assert [t["met"] for t in raw["targets"]] == [t.met for t in report.targets(made_up)]


def test_sizes_read_and_print_alike(bench) -> None:
    measure, _ = bench
    assert [measure.parse_size(t) for t in ("10k", "1m", "2,500", "100_000")] == [10_000, 1_000_000, 2_500, 100_000]
    assert [measure.size_label(n) for n in (10_000, 1_000_000, 2_500)] == ["10k", "1M", "2500"]
    assert [measure.default_rounds(n) for n in (10_000, 100_000, 1_000_000)] == [3, 3, 1]


def test_a_process_is_measured_from_start_to_exit_and_a_failure_kept(bench) -> None:
    measure, _ = bench
    held = b"x" * (300 * 1024**2)  # the harness holding memory must not show in its children's peaks
    done = measure.run_process("start-up", [sys.executable, "-c", "pass"], json_report=False)
    assert len(held) and done.ok and done.seconds == done.process_seconds > 0
    assert 0 < done.peak_rss_bytes < 100 * 1024**2
    broken = measure.run_process("broken", [sys.executable, "-c", "raise SystemExit(3)"], json_report=False)
    assert not broken.ok and broken.error.startswith("exit 3") and broken.seconds != broken.seconds


def test_the_harness_starts_as_a_script() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--help"], capture_output=True, text=True, check=True
    )
    assert "--quick" in done.stdout and "results-quick.md" in done.stdout and "--repeat" in done.stdout


def test_the_kernels_cpu_time_and_the_bytes_written_are_summed_like_the_time(bench) -> None:
    """Each stage's system CPU time and bytes written are summed over its slices like its wall time; outside the
    stages is the whole run's less the top-level stages'; a report of an older run, without them, shows a dash."""
    measure, report = bench
    recorded = [
        {"name": "validate", "seconds": 2.0, "cpu_seconds": 3.0, "system_seconds": 0.5, "written_bytes": 10**9},
        {"name": "scan_lines", "seconds": 1.0, "depth": 1, "system_seconds": 0.2, "written_bytes": 3 * 10**8},
        {"name": "scan_lines", "seconds": 1.5, "depth": 1, "system_seconds": 0.3, "written_bytes": 2 * 10**8},
        {"name": "screen (duckdb engine)", "seconds": 3.0, "cpu_seconds": 5.0, "system_seconds": 0.6},
        {"name": "write outputs", "seconds": 1.0, "cpu_seconds": 1.0, "system_seconds": 0.4, "written_bytes": 10**8},
    ]
    recorded[3]["written_bytes"] = 6 * 10**8
    whole = {"seconds": 6.5, "cpu_seconds": 9.5, "system_seconds": 2.0, "written_bytes": 18 * 10**8}
    run = measure.Measure("duckdb", {**whole, "peak_rss_bytes": GIB, "stages": recorded})
    figures = {f.name: f for f in report.stage_figures([run])}
    assert figures["scan_lines"].system.median == pytest.approx(0.5)
    assert figures["scan_lines"].written.median == pytest.approx(5 * 10**8)
    assert figures["outside the stages"].system.median == pytest.approx(2.0 - 0.5 - 0.6 - 0.4)
    assert figures["outside the stages"].written.median == pytest.approx(10**8)
    assert figures["end to end"].written.median == pytest.approx(18 * 10**8)
    rows = {row[1]: row for row in report.stage_rows(_one_size(measure, [run]), ["duckdb"], 2)}
    assert rows["validate"][4] == "0.50" and rows["validate"][-1] == "1.00"
    # What the screen wrote besides its files is said, with the kernel's share of the CPU time.
    run.report["files"] = {"reasons.csv": 3 * 10**8}
    said = report._spill_sentence([run], figures["end to end"])
    assert said.startswith("Besides its output files (300.0 MB) the screen wrote 1.5 GB: DuckDB spilling")
    assert "the kernel took 2.00 s of the 9.50 s of CPU time (21 %)" in said
    run.report["files"] = {"reasons.csv": 175 * 10**7}
    assert report._spill_sentence([run], figures["end to end"]) == ""  # little beyond the files: nothing worth saying
    # An older report: no system time, no bytes written.
    for stage in recorded:
        del stage["system_seconds"], stage["written_bytes"]
    older = measure.Measure("duckdb", {"seconds": 6.5, "cpu_seconds": 9.5, "peak_rss_bytes": GIB, "stages": recorded})
    assert all(f.system is None and f.written is None for f in report.stage_figures([older]))
    rows = report.stage_rows(_one_size(measure, [older]), ["duckdb"], 2)
    assert {row[4] for row in rows} == {row[-1] for row in rows} == {"–"}


def _one_size(measure, runs):
    size = measure.SizeRun(10_000, Path("extract"))
    size.engines["duckdb"] = runs
    return size


def test_the_cpu_time_other_work_took_judges_the_machine_where_it_is_known(bench) -> None:
    _, report = bench
    # A load average above the cores at the end is this run's own threads and disk waits: the CPU time says quiet.
    quiet = report.load_note((0.2, 0.5, 0.5), (3.4, 2.0, 1.0), cores=2, others_cpu_seconds=3.0, seconds=300.0)
    assert quiet == ""
    # Other work that took a tenth of the cores' time is named, whatever the load averages say.
    busy = report.load_note((0.1, 0.1, 0.1), (0.5, 0.5, 0.5), cores=2, others_cpu_seconds=60.0, seconds=300.0)
    assert "shared, and was busy" in busy and "60 CPU-s of the 600 its 2 cores had (10%)" in busy
    # Unknown CPU time (no /proc/stat) leaves the load averages to judge.
    assert "above the 2 cores" in report.load_note((0.2, 0.5, 0.5), (3.4, 2.0, 1.0), cores=2, seconds=300.0)


def test_other_work_is_what_the_machine_spent_beyond_this_process_and_its_children(bench) -> None:
    import measure

    start = measure.CpuClock(machine_busy=100.0, own=10.0)
    assert measure.others_cpu_seconds(start, measure.CpuClock(machine_busy=150.0, own=55.0)) == 5.0
    # The two clocks tick at different grains: never below zero.
    assert measure.others_cpu_seconds(start, measure.CpuClock(machine_busy=140.0, own=51.0)) == 0.0
    assert measure.others_cpu_seconds(None, start) is None
    # On this machine a reading counts this process's own CPU time.
    reading = measure.CpuClock.now()
    if reading is not None:
        assert reading.machine_busy >= reading.own > 0


def test_a_cached_extract_made_by_other_generator_code_is_made_again(bench, tmp_path, monkeypatch) -> None:
    """A bench measures the extract a fresh checkout would generate: the cache is keyed by the generator's code."""
    measure, _ = bench
    first = measure.ensure_extract(tmp_path, 20, sites=2, seed=5)
    marker = first / ".complete"
    written = marker.stat().st_mtime_ns
    assert f"generator {measure.generator_digest()}" in marker.read_text(encoding="utf-8").splitlines()
    assert measure.ensure_extract(tmp_path, 20, sites=2, seed=5) == first
    assert marker.stat().st_mtime_ns == written  # reused as it was
    (first / "patients.parquet").write_bytes(b"left by older generator code")
    monkeypatch.setattr(measure, "generator_digest", lambda: "0" * 64)  # the generator's code changed
    again = measure.ensure_extract(tmp_path, 20, sites=2, seed=5)
    assert again == first and f"generator {'0' * 64}" in marker.read_text(encoding="utf-8")
    assert (again / "patients.parquet").read_bytes()[:4] == b"PAR1"
