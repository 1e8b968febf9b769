"""What-if comparisons: side by side, matched by criterion, differences B − A, disclosure on each side."""

from __future__ import annotations

import pandas as pd
import pytest

from oligo_cohort.attrition.comparison import (
    compare_attrition,
    compare_histograms,
    compare_status,
    controlled_comparison,
    protocol_with,
)
from oligo_cohort.attrition.histogram import build_histogram
from oligo_cohort.attrition.tables import attrition_table
from oligo_cohort.errors import UsageError
from oligo_cohort.protocol import load_protocol
from tests.attrition.test_attrition_fixtures import random_patients


def test_two_outcome_tables_side_by_side_with_differences():
    a = random_patients(600, seed=1)
    b = a.copy()
    # Protocol B is looser on the imaging window: nobody fails it.
    b["inc_imaging_window"] = "pass"
    hist_a, hist_b = build_histogram(a), build_histogram(b)
    cosmo, amendment = load_protocol("cosmo"), load_protocol("cosmo-earlier-amendment")
    whatif = compare_histograms(hist_a, hist_b, cosmo, amendment)
    table = whatif.table.set_index("criterion")
    assert (table["remaining_diff"] == table["remaining_b"] - table["remaining_a"]).all()
    assert table.loc["inc_imaging_window", "excluded_b"] == 0
    assert table.loc["inc_imaging_window", "excluded_a"] > 0
    assert table["remaining_diff"].iloc[-1] >= 0
    assert whatif.label_a == "cosmo (current)" and whatif.label_b == "cosmo-earlier-amendment (earlier-amendment)"
    status = whatif.status.set_index("status")
    assert status.loc["total", "diff"] == 0
    assert status.loc["ineligible", "diff"] == -status.loc[["eligible", "unknown"], "diff"].sum()


def test_dropping_a_criterion_is_a_what_if_without_rescreening():
    units = random_patients(500, seed=4)
    hist = build_histogram(units)
    table = compare_attrition(attrition_table(hist), attrition_table(hist, drop=["inc_who_ps_0_1"]))
    dropped = table[table["criterion"] == "inc_who_ps_0_1"].iloc[0]
    assert pd.isna(dropped["step_b"]) and pd.isna(dropped["remaining_b"])
    final_gain = table["remaining_b"].dropna().iloc[-1] - table["remaining_a"].iloc[-1]
    # Dropping a criterion gains exactly the units that fail only it.
    failing = units[[c for c in units.columns if c.startswith(("inc_", "exc_"))]].eq("fail")
    only = (failing["inc_who_ps_0_1"] & (failing.sum(axis=1) == 1)).sum()
    assert final_gain == only


def test_controlled_comparison_rounds_each_side_and_takes_differences_of_rounded_counts():
    a, b = random_patients(900, seed=2), random_patients(900, seed=3)
    table = controlled_comparison(
        compare_attrition(attrition_table(build_histogram(a)), attrition_table(build_histogram(b)))
    )
    for side in ("remaining_a", "remaining_b", "excluded_a", "excluded_b"):
        assert (table[side].astype(int) % 5 == 0).all()
        assert not table[side].astype(int).between(1, 7).any()
    assert (table["remaining_diff"] == table["remaining_b"] - table["remaining_a"]).all()


def test_status_comparison_counts_each_side():
    a, b = random_patients(100, seed=7), random_patients(120, seed=8)
    status = compare_status(build_histogram(a), build_histogram(b)).set_index("status")
    assert status.loc["total", "a"] == 100 and status.loc["total", "b"] == 120
    assert status.loc["eligible", "a"] == (a["status"] == "eligible").sum()


def test_protocol_with_overrides_names_the_change():
    changed = protocol_with("cosmo", {"size_floor_mm": "10"})
    assert changed.parameters.size_floor_mm == 10
    assert "size_floor_mm=10" in changed.version
    with pytest.raises(UsageError):
        protocol_with("cosmo", {"no_such_parameter": "1"})
