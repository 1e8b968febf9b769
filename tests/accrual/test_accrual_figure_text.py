"""The forecast's figures keep their words off the data: no note crosses a fan, an interval or a curve, and no
text runs into another or past the figure's edge, whether the target is reached in months or in decades."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from oligo_cohort.accrual.plots import fan_chart, site_bars
from tests.figure_geometry import overlapping_texts, texts_outside, texts_over_data

START = dt.date(2025, 3, 1)
SITES = pd.DataFrame({"site_id": ["A"], "opens_month": [0.0]})
# Two sites opening in Jan 2026 and Jun 2027: their names stood on the fans that climb from the time axis.
LATER = pd.DataFrame({"site_id": ["AVL", "MST", "UMCU"], "opens_month": [0.0, 10.0, 27.0]})


def fans(per_month: dict[str, float], months: np.ndarray) -> dict[str, pd.DataFrame]:
    return {
        key: pd.DataFrame(
            {"month": months, "lower": 0.6 * rate * months, "median": rate * months, "upper": 1.4 * rate * months}
        )
        for key, rate in per_month.items()
    }


CASES = {
    # 100,000 patients at 20 sites: 60 patients within months, the intervals just right of the axis's start, where
    # the target's name was written.
    "target within months": (
        {"eligible": 9.0, "eligible_or_unknown": 22.0},
        {"eligible": (5.0, 6.6, 8.3), "eligible_or_unknown": (2.0, 2.6, 3.2)},
        np.linspace(0, 60, 61),
        SITES,
    ),
    # The demo: the optimistic fan climbs through the note naming the conservative median beyond the axis.
    "target in decades": (
        {"eligible": 0.2, "eligible_or_unknown": 0.48},
        {"eligible": (130.0, 298.0, 880.0), "eligible_or_unknown": (74.0, 125.0, 226.0)},
        np.linspace(0, 950, 951),
        SITES,
    ),
    "sites opening later": (
        {"eligible": 0.56, "eligible_or_unknown": 1.15},
        {"eligible": (60.0, 107.0, 315.0), "eligible_or_unknown": (32.0, 52.0, 90.0)},
        np.linspace(0, 400, 401),
        LATER,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_the_fan_chart_writes_no_word_over_its_data(case):
    rates, intervals, months, sites = CASES[case]
    figure = fan_chart(fans(rates, months), start=START, target=60, duration=48, time_intervals=intervals,
                       site_opens=sites, caption="Registry history to 2024-12; accrual from 2025-03-01.")  # fmt: skip
    assert texts_over_data(figure.axes[0]) == []
    assert overlapping_texts(figure) == []
    assert texts_outside(figure) == []


@pytest.mark.parametrize("sites", [1, 3, 120])
def test_the_site_bars_run_from_the_first_row_to_the_last(sites):
    ids = [f"S{i:03d}" for i in range(sites)]
    contributions = pd.concat(
        pd.DataFrame(
            {
                "scenario": key,
                "site_id": ids,
                "expected": np.linspace(0, 4, sites) * share,
                "lower": 0.0,
                "upper": np.linspace(1, 9, sites) * share,
            }
        )
        for key, share in (("eligible", 0.5), ("eligible_or_unknown", 1.0))
    )
    figure = site_bars(contributions, duration=48, caption="Registry history to 2024-12; accrual from 2025-03-01.")
    bottom, top = figure.axes[0].get_ylim()
    # No empty row above the first site or below the last (120 sites had 6 of each, 300 sites 15: seven inches).
    assert -1 < bottom < -0.5 and sites - 0.5 < top < sites
    assert overlapping_texts(figure) == [] and texts_outside(figure) == []
