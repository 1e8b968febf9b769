"""Accrual at its edges: short histories, a site seen on one day only, a worklist screen, tiny planned rates.

Every case either gives a forecast or a clear refusal (exit 2, nothing written): never an internal error, never a
run that does not end.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.accrual import Assumptions, build_report
from oligo_cohort.accrual.rates import DAYS_PER_MONTH, screening_history
from oligo_cohort.cli import main
from oligo_cohort.worklist import WORKLIST_COLUMNS
from tests.accrual.test_accrual_rates import as_result, patient_rows, synthetic_patients, write_screen_dir
from tests.draws import costly_draws

START = dt.date(2025, 1, 1)
EXACT = Assumptions(disclosure_control=False)
FIRST = pd.Timestamp("2024-01-01")

PATIENT = st.tuples(
    st.sampled_from(["A", "B", "C"]),
    st.sampled_from(["eligible", "unknown", "ineligible"]),
    st.integers(0, 400),  # days after FIRST
)


def _patients(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return patient_rows(
        [(f"p{i}", site, status, (FIRST + pd.Timedelta(days=day)).strftime("%Y-%m-%d"))
         for i, (site, status, day) in enumerate(rows)]
    )  # fmt: skip


@settings(max_examples=costly_draws(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PATIENT, min_size=1, max_size=12))
def test_every_site_is_observed_from_its_first_screening_day_to_the_last_both_included(rows):
    """A site first seen on the result's last screening day was observed that day: its exposure is one day."""
    history = screening_history(as_result(_patients(rows)), EXACT)
    sites = history.sites.set_index("site_id")
    for site in sites.index:
        days = [day for s, _, day in rows if s == site]
        expected = (max(day for _, _, day in rows) - min(days) + 1) / DAYS_PER_MONTH
        assert sites.loc[site, "exposure_months"] == pytest.approx(expected)
        assert sites.loc[site, "exposure_months"] > 0


@settings(max_examples=costly_draws(10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PATIENT, min_size=1, max_size=12), st.sampled_from(["A", "B", "C"]))
def test_a_site_seen_only_on_the_last_day_still_gives_a_forecast(rows, late):
    """Patients at a site opening on the last screening day used to stop every registry forecast."""
    last = max(day for _, _, day in rows)
    rows = [*rows, (late, "eligible", last)]
    report = build_report(as_result(_patients(rows)), target=5, start=START, assumptions=EXACT)
    assert {"eligible", "eligible_or_unknown"} <= set(report.forecast["scenario"])


def test_accrual_refuses_a_worklist_screen(tmp_path, capsys):
    """A worklist screen fails every patient whose registration window closed before the cut-off: no history."""
    folder = write_screen_dir(tmp_path / "screen", synthetic_patients({"A": 2.0, "B": 1.0}, "2021-01-01", 36))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    (folder / "manifest.json").write_text(json.dumps({**manifest, "worklist": True}), encoding="utf-8")
    (folder / "worklist.csv").write_text(",".join(WORKLIST_COLUMNS) + "\n", encoding="utf-8")
    out = tmp_path / "forecast"
    code = main(["accrual", str(folder), "--target", "10", "--start", "2025-01-01", "--out", str(out),
                 "--no-disclosure-control"])  # fmt: skip
    error = capsys.readouterr().err
    assert code == 2 and str(folder) in error and "--worklist" in error and "Traceback" not in error
    assert not out.exists()


# Planned rates from one patient a month down to 1e-300: a tiny site's plan (0.01 a month is one patient in eight
# years) used to run for minutes and take gigabytes, and smaller ones ended in an internal error.
PLANNED_RATE = st.one_of(
    st.sampled_from([1.0, 0.1, 0.01, 0.001, 1e-5, 1e-12, 1e-100, 1e-300]),
    st.floats(1e-300, 1.0).filter(lambda rate: rate > 0),
)


@settings(max_examples=costly_draws(12), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PLANNED_RATE, st.integers(1, 60))
def test_any_planned_rate_gives_a_forecast_whose_curves_stop_at_the_horizon(rate, target):
    from oligo_cohort.accrual.assumptions import HORIZON_MONTHS
    from oligo_cohort.accrual.sites_file import parse_sites

    sites = parse_sites(
        pd.DataFrame({"site_id": ["A", "NEW"], "activation_date": ["2025-03-01", "2026-01-01"],
                      "planned_rate": [repr(rate), None]}),
        START,
    )  # fmt: skip
    rows = [("A", "eligible", 10), ("A", "unknown", 200), ("B", "eligible", 300), ("B", "ineligible", 400)]
    report = build_report(as_result(_patients(rows)), target=target, start=START, sites=sites, assumptions=EXACT)
    planned = report.forecast.set_index("scenario").loc["planned"]
    times = planned[["time_to_target_lower_months", "time_to_target_median_months", "time_to_target_upper_months"]]
    assert (times.astype(float) >= 0).all() and list(times) == sorted(times)
    for curve in [*report.fans.values(), *report.densities.values()]:
        assert curve["month"].max() <= HORIZON_MONTHS * 1.08
    # The headline says a target beyond reach in words, never "after inf months".
    from oligo_cohort.accrual.report import headline

    said = headline(report)[list(report.forecast["scenario"]).index("planned")]
    assert not re.search(r"\b(inf|nan)\b", said), said
    # Counts of one read in the singular.
    assert not re.search(r"\b1 (sites|centres|candidate sites)\b", said), said
    median = float(planned["time_to_target_median_months"])
    assert ("is not reached at these rates" in said) == (not np.isfinite(median))


@settings(max_examples=costly_draws(10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.sampled_from(["A", "B", "C", "a", "NEW"]), min_size=1))
def test_sites_of_the_file_and_of_the_result_that_do_not_meet_are_named(listed):
    """A site spelled otherwise in the sites file ('a' for 'A') predicts from the prior alone: the notes say so."""
    from oligo_cohort.accrual.sites_file import parse_sites

    rows = [("A", "eligible", 10), ("A", "unknown", 200), ("B", "eligible", 300), ("C", "ineligible", 400)]
    sites = parse_sites(pd.DataFrame({"site_id": sorted(listed), "activation_date": "2025-01-01"}), START)
    report = build_report(as_result(_patients(rows)), target=5, start=START, sites=sites, assumptions=EXACT)
    only_file = [n for n in report.notes if n.startswith("Sites in the sites file but not in the screening result")]
    only_result = [n for n in report.notes if n.startswith("Sites in the screening result but not in the sites file")]
    assert len(only_file) == int(bool(listed - {"A", "B", "C"}))
    assert len(only_result) == int(bool({"A", "B", "C"} - listed))
    for site in listed - {"A", "B", "C"}:
        assert f"'{site}'" in only_file[0]
    for site in {"A", "B", "C"} - listed:
        assert f"'{site}'" in only_result[0]


LONG_PATIENT = st.tuples(
    st.sampled_from(["A", "B", "C"]),
    st.sampled_from(["eligible", "unknown", "ineligible"]),
    st.integers(0, 800),  # days after FIRST: histories from a day to over two years
)


def said(months: float) -> str:
    """An exposure in words: days under a month, else months to a tenth."""
    days = round(months * DAYS_PER_MONTH)
    return (f"{days} day" + ("s" if days != 1 else "")) if months < 1 else f"{months:.1f} months"


@settings(max_examples=costly_draws(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LONG_PATIENT, min_size=1, max_size=10))
def test_a_short_history_and_each_briefly_observed_site_are_said_beside_the_forecast(rows):
    """Under a year of registry history, or a site seen for under three months, reads as such (A20); a forecast
    from a day of history looked like one from years of registry data."""
    from oligo_cohort.accrual.report import SHORT_HISTORY_MONTHS, SHORT_SITE_MONTHS

    rows = [*rows, (rows[0][0], "eligible", rows[0][2])]  # a patient to forecast from; the exposures unchanged
    report = build_report(as_result(_patients(rows)), target=5, start=START, assumptions=EXACT)
    last = max(day for _, _, day in rows)
    exposure = {site: (last - min(d for s, _, d in rows if s == site) + 1) / DAYS_PER_MONTH for site, _, _ in rows}
    short = [note for note in report.notes if note.startswith("The registry history is ")]
    longest = max(exposure.values())
    assert len(short) == (longest < SHORT_HISTORY_MONTHS)
    if short:
        assert (
            f"is {said(longest)} long" in short[0] and f"to {(FIRST + pd.Timedelta(days=last)):%Y-%m-%d})" in short[0]
        )
    brief = sorted(site for site, months in exposure.items() if months < SHORT_SITE_MONTHS)
    named = [note for note in report.notes if note.startswith(f"Observed for under {SHORT_SITE_MONTHS} months")]
    if brief and len(brief) < len(exposure):
        assert len(named) == 1
        assert re.findall(r"'(\w)' \(", named[0]) == sorted(brief, key=lambda s: (exposure[s], s))
        for site in brief:
            assert f"'{site}' ({said(exposure[site])})" in named[0]
    else:
        assert not named


def test_a_controlled_short_history_is_said_in_whole_calendar_months():
    """Under disclosure control dates are shown to the month (A18), and so is the history's length."""
    rows = [(site, "eligible", day) for site in "ABC" for day in range(0, 130, 9)]
    report = build_report(as_result(_patients(rows)), target=5, start=START, assumptions=Assumptions())
    note = next(note for note in report.notes if note.startswith("The registry history is "))
    # 2024-01-01 to 2024-05-09: five calendar months, both ends included, dates to the month.
    assert note.startswith("The registry history is 5 calendar months long (from 2024-01 to 2024-05), under 12")


@pytest.mark.parametrize(("sites", "said"), [(1, "its 1 site"), (2, "both sites"), (3, "all 3 sites")])
def test_the_headline_counts_the_sites_open_as_a_reader_says_it(sites, said):
    from oligo_cohort.accrual.report import headline

    rows = [(site, "eligible", day) for site in "ABC"[:sites] for day in range(0, 400, 20)]
    report = build_report(as_result(_patients(rows)), target=5, start=START, assumptions=EXACT)
    lines = [line for line in headline(report) if "patients per year with" in line]
    assert lines and all(f"patients per year with {said} open." in line for line in lines), lines
