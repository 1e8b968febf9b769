"""Heavier synthetic-extract checks (`pytest -m slow`): tens of thousands of patients, several row groups."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from oligo_cohort.synth.generate import generate_extract

pytestmark = pytest.mark.slow


def test_fifty_thousand_patients_load_and_screen_plausibly(tmp_path):
    from oligo_cohort.api import screen

    folder = generate_extract(tmp_path / "big", patients=50_000, sites=30, seed=1, batch_size=20_000)
    assert pq.ParquetFile(folder / "lesions.parquet").metadata.num_row_groups == 3
    result = screen(folder)
    counts = result.counts()
    assert sum(counts.values()) == 50_000
    assert 0.01 <= counts.get("eligible", 0) / 50_000 <= 0.06  # a small eligible share
    outcomes = result.outcome_table()
    assert outcomes.loc["inc_oligoprogression", "fail"] > 25_000  # most fail on oligoprogression
    assert (outcomes.loc[:, ["pass", "fail", "unknown"]].sum(axis=1) + outcomes["review"] == 50_000).all()
