"""The DuckDB engine marks a stage per model it materialises (oligo_cohort/engines/duckdb_engine.py).

`make bench` reads these stages to say which models the engine's time goes to and how each grows with the extract
(benchmarks/results.md, "What bounds the remaining time"); `--verbose` shows them. A model streamed as a view
(`STREAMED`) costs nothing of its own: its reader's stage holds it. Screened in slices of patients, each model is
a stage once per slice.
"""

from __future__ import annotations

import pytest

from oligo_cohort.api import screen
from oligo_cohort.demo import DEMO_DIR
from oligo_cohort.engines.duckdb_engine import SLICE_ENV, STREAMED
from oligo_cohort.engines.models import run_order
from oligo_cohort.progress import RunProgress, tracking

ENGINE_STAGE = "screen (duckdb engine)"


def engine_steps(slice_patients: int | None, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stages recorded inside the engine's stage while screening the demo extract."""
    if slice_patients is not None:
        monkeypatch.setenv(SLICE_ENV, str(slice_patients))
    progress = RunProgress(quiet=True)
    with tracking(progress):
        screen(DEMO_DIR / "extract")
    outer = [s for s in progress.stages if s.name == ENGINE_STAGE]
    assert len(outer) == 1 and outer[0].depth == 0
    # Stages are recorded as they end: the engine's own inner stages come just before it, after validation's.
    engine_at = progress.stages.index(outer[0])
    inner = []
    for recorded in reversed(progress.stages[:engine_at]):
        if recorded.depth == 0:
            break
        assert recorded.depth == 1
        inner.insert(0, recorded.name)
    return inner


def materialised_models() -> list[str]:
    return [model.table for model in run_order() if model.table not in STREAMED]


def test_each_materialised_model_is_a_stage_of_the_engine_in_run_order(monkeypatch: pytest.MonkeyPatch) -> None:
    steps = engine_steps(None, monkeypatch)
    assert steps == materialised_models()
    assert not set(steps) & STREAMED


def test_screened_in_slices_each_model_is_a_stage_once_per_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's 34 patients in slices of 10: four slices, the models in run order in each."""
    steps = engine_steps(10, monkeypatch)
    models = materialised_models()
    assert steps == models * 4
