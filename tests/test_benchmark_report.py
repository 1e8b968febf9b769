"""The benchmark harness's report, apart from any measuring: targets and tables from given figures.

`benchmarks/report.py` turns measured runs into results.md; here the runs are made up, so the verdicts and
ratios can be checked exactly, and the harness's entry point is checked to start (its imports resolve when it
runs as a script, as `make bench` runs it).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch):
    """The harness's modules, imported as its scripts import each other (by file name, from benchmarks/)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    for name in ("measure", "report"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import measure
    import report

    return measure, report


def measured(measure, name: str, seconds: float, rss_gb: float = 1.0, **extra) -> object:
    return measure.Measure(
        name, {"seconds": seconds, "cpu_seconds": seconds * 1.5, "peak_rss_bytes": int(rss_gb * 1e9), **extra}
    )


def test_targets_are_judged_from_the_figures(bench) -> None:
    measure, report = bench
    big = measure.SizeRun(1_000_000, Path("x"))
    big.floor = measured(measure, "floor", 20.0)
    big.engines["duckdb"] = measured(
        measure,
        "duckdb engine",
        50.0,
        rss_gb=7.0,
        attrition={"histogram_seconds": 0.2, "views_seconds": 0.4, "views_cpu_seconds": 0.4},
    )
    big.rowwise = measured(measure, "row-wise", 5000.0, read_seconds=1.0, per_patient_seconds=0.005, sample=300)
    mid = measure.SizeRun(100_000, Path("y"))
    mid.engines["duckdb"] = measured(measure, "duckdb engine", 5.0)
    mid.engines["pandas"] = measured(measure, "pandas engine", 30.0)
    verdicts = {t.text: (t.measured, t.met) for t in report.targets({1_000_000: big, 100_000: mid})}
    assert verdicts["DuckDB engine, 1 M patients end to end ≤ 60 s"] == ("50.0 s", True)
    assert verdicts["DuckDB engine, 1 M patients peak RSS ≤ 6 GB"] == ("7.00 GB", False)
    assert verdicts["DuckDB engine, 1 M patients ≤ 3× the floor"] == ("2.5×", True)
    assert verdicts["pandas engine, 100 k patients ≤ 5× the DuckDB engine"] == ("6.0×", False)
    assert verdicts["duckdb engine ≥ 50× faster than the row-wise screen (1M patients)"] == ("100×", True)
    assert verdicts["pandas engine ≥ 50× faster than the row-wise screen (100k patients)"][1] is None
    assert verdicts["all attrition views at 1 M patients from the histogram < 1 s"] == ("0.40 s", True)

    text = report.render({100_000: mid, 1_000_000: big}, ["duckdb", "pandas"], {"CPU": "test"}, "run.py", 99.0)
    assert (
        "4 of 7 targets met; not met: DuckDB engine, 1 M patients peak RSS ≤ 6 GB; pandas engine, 100 k patients "
        "≤ 5× the DuckDB engine; 1 not measured in this run." in text
    )
    assert "| 100k | 6.0× |" not in text and "| 100k | – | – | 6.0× | – | – |" in text
    raw = report.raw_figures({1_000_000: big}, {"CPU": "test"}, "run.py")
    assert raw["runs"][0]["engines"]["duckdb"]["report"]["seconds"] == 50.0


def test_sizes_read_and_print_alike(bench) -> None:
    measure, _ = bench
    assert [measure.parse_size(t) for t in ("10k", "1m", "2,500", "100_000")] == [10_000, 1_000_000, 2_500, 100_000]
    assert [measure.size_label(n) for n in (10_000, 1_000_000, 2_500)] == ["10k", "1M", "2500"]


def test_the_harness_starts_as_a_script() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--help"], capture_output=True, text=True, check=True
    )
    assert "--quick" in done.stdout and "results-quick.md" in done.stdout
