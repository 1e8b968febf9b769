"""Rates from a screening result: counts per site and month, exposure windows, review and consent shares.

Also holds `write_screen_dir`, which writes a synthetic folder as `oligo-cohort
screen` writes it (the other accrual tests read it back through the public API).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pytest

from oligo_cohort.accrual.assumptions import Assumptions
from oligo_cohort.accrual.rates import DAYS_PER_MONTH, enrol_share, load_screening, screening_history
from oligo_cohort.criteria import CRITERION_IDS, FAILED_WITHOUT_EVENT
from oligo_cohort.errors import UsageError
from oligo_cohort.problems import PROBLEM_COLUMNS
from oligo_cohort.protocol import load_protocol
from oligo_cohort.results import EVENT_COLUMNS, PATIENT_COLUMNS, REASON_COLUMNS

REVIEW_BY_DEFAULT = ("inc_lat_amenable", "inc_informed_consent", "exc_medical_risk", "exc_psychosocial")


def patient_rows(rows: list[tuple[str, str, str, str | None]]) -> pd.DataFrame:
    """Patients (id, site, status, screening date) with the review criteria at `review`, the rest `pass` but for
    the one criterion that gives the status (and the imaging criteria of a patient without an event)."""
    frame = pd.DataFrame(rows, columns=["patient_id", "site_id", "status", "screening_date"])
    frame["event_id"] = frame["patient_id"] + "-01"
    frame.loc[frame["screening_date"].isna(), "event_id"] = None
    for criterion in CRITERION_IDS:
        frame[criterion] = "review" if criterion in REVIEW_BY_DEFAULT else "pass"
    frame.loc[frame["status"] == "ineligible", "inc_age_18"] = "fail"
    frame.loc[frame["status"] == "unknown", "inc_who_ps_0_1"] = "unknown"
    # A patient without an event fails the imaging criteria (criteria.md "Time"), as the folder's reader checks.
    frame.loc[frame["event_id"].isna(), list(FAILED_WITHOUT_EVENT)] = "fail"
    return frame[list(PATIENT_COLUMNS)]


def synthetic_patients(site_rates: dict[str, float], start: str, months: float, seed: int = 0) -> pd.DataFrame:
    """Patients screened at each site as a Poisson process (rate per month); 25 % eligible, 20 % unknown."""
    rng = np.random.default_rng(seed)
    frames = []
    for site, rate in site_rates.items():
        n = rng.poisson(rate * months)
        days = np.sort(rng.uniform(0, months * DAYS_PER_MONTH, size=n)).astype(int)
        dates = (pd.Timestamp(start) + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d")
        status = rng.choice(["eligible", "unknown", "ineligible"], size=n, p=[0.25, 0.2, 0.55])
        ids = [f"{site}{i:04d}" for i in range(n)]
        frames.append(pd.DataFrame({"patient_id": ids, "site_id": site, "status": status, "screening_date": dates}))
    rows = pd.concat(frames, ignore_index=True)
    return patient_rows(list(rows.itertuples(index=False, name=None)))


def events_of(patients: pd.DataFrame) -> pd.DataFrame:
    """One event per patient with a screening date (their best event)."""
    events = patients[patients["screening_date"].notna()].copy()
    events["registration_date"] = (pd.to_datetime(events["screening_date"]) + pd.Timedelta(days=49)).dt.strftime(
        "%Y-%m-%d"
    )
    events["line_number"] = 1
    events["reference_study_id"] = events["patient_id"] + "-00"
    events["is_best_event"] = True
    return events[list(EVENT_COLUMNS)]


def write_screen_dir(folder: Path, patients: pd.DataFrame, *, as_of: str | None = None) -> Path:
    """A folder as `oligo-cohort screen` writes it, holding these patients (and one best event each)."""
    folder.mkdir(parents=True, exist_ok=True)
    events = events_of(patients)
    cut_off = as_of or max(events["screening_date"])
    patients.to_csv(folder / "patients.csv", index=False)
    events.to_csv(folder / "events.csv", index=False)
    pd.DataFrame(columns=list(REASON_COLUMNS)).to_csv(folder / "reasons.csv", index=False)
    pd.DataFrame(columns=list(PROBLEM_COLUMNS)).to_csv(folder / "findings.csv", index=False)
    protocol = load_protocol("cosmo")
    manifest = {
        "tool": "oligo-cohort",
        "protocol": {"name": protocol.name, "version": protocol.version, "source": protocol.source},
        "parameters": protocol.parameters.as_row(),
        "as_of": cut_off,
        "engine": "duckdb",
        "worklist": False,
        "rows": {"patients": len(patients), "events": len(events), "reasons": 0, "findings": 0},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def as_result(patients: pd.DataFrame, as_of: str = "2024-12-31") -> SimpleNamespace:
    """What `screening_history` reads of a ScreeningResult: the patients frame, and the events typed as
    `typed_query` gives them (screening dates as dates)."""
    events = events_of(patients)

    def typed_query(name: str) -> duckdb.DuckDBPyRelation:
        assert name == "events"
        return duckdb.from_df(events).project("* REPLACE (CAST(screening_date AS DATE) AS screening_date)")

    return SimpleNamespace(patients=patients, typed_query=typed_query, as_of=dt.date.fromisoformat(as_of))


SMALL = patient_rows(
    [
        ("a1", "A", "eligible", "2024-01-10"),
        ("a2", "A", "eligible", "2024-03-05"),
        ("a3", "A", "unknown", "2024-03-20"),
        ("a4", "A", "ineligible", "2023-07-01"),  # A's first screening date
        ("b1", "B", "ineligible", "2024-01-01"),  # B's first screening date
        ("b2", "B", "unknown", "2024-06-30"),  # the last screening date in the result
        ("c1", "C", "ineligible", None),  # no event: no exposure
    ]
)


def test_counts_per_site_follow_best_event_status():
    history = screening_history(as_result(SMALL), Assumptions())
    sites = history.sites.set_index("site_id")
    assert sites.loc["A", "eligible"] == 2
    assert sites.loc["A", "eligible_or_unknown"] == 3
    assert sites.loc["B", "eligible"] == 0
    assert sites.loc["B", "eligible_or_unknown"] == 1
    assert sites.loc["C", ["eligible", "eligible_or_unknown"]].tolist() == [0, 0]


def test_exposure_runs_from_each_sites_first_date_to_the_results_last_date():
    history = screening_history(as_result(SMALL), Assumptions())
    sites = history.sites.set_index("site_id")
    assert history.window_end == pd.Timestamp("2024-06-30")
    # Both the first and the last day are observed days.
    assert sites.loc["A", "exposure_months"] == pytest.approx(
        ((pd.Timestamp("2024-06-30") - pd.Timestamp("2023-07-01")).days + 1) / DAYS_PER_MONTH
    )
    assert sites.loc["B", "exposure_months"] == pytest.approx(182 / DAYS_PER_MONTH)
    assert sites.loc["C", "exposure_months"] == 0
    assert np.isnan(sites.loc["C", "eligible_per_year"])
    assert sites.loc["A", "eligible_per_year"] == pytest.approx(2 / sites.loc["A", "exposure_months"] * 12)


def test_monthly_counts_cover_each_sites_window_with_zeros():
    monthly = screening_history(as_result(SMALL), Assumptions()).monthly
    a = monthly[monthly["site_id"] == "A"].set_index("month")
    assert a.index[0] == "2023-07" and a.index[-1] == "2024-06"
    assert len(a) == 12
    assert a.loc["2024-03", "eligible"] == 1
    assert a.loc["2024-03", "eligible_or_unknown"] == 2
    assert a["eligible"].sum() == 2
    b = monthly[monthly["site_id"] == "B"]
    assert b["month"].tolist() == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    assert "C" not in set(monthly["site_id"])


def test_enrol_share_multiplies_the_review_shares_and_counts_a_pass_as_one():
    patients = SMALL.copy()
    patients.loc[0, "inc_lat_amenable"] = "pass"
    patients.loc[1, "inc_informed_consent"] = "pass"
    share = enrol_share(patients, Assumptions(lat_amenable_rate=0.6, consent_rate=0.5, discretion_rate=0.9))
    assert share[0] == pytest.approx(0.5 * 0.9 * 0.9)
    assert share[1] == pytest.approx(0.6 * 0.9 * 0.9)
    assert share[2] == pytest.approx(0.6 * 0.5 * 0.9 * 0.9)


def test_a_screen_dir_is_read_back_through_the_public_api(tmp_path):
    folder = write_screen_dir(tmp_path / "screen", SMALL)
    result = load_screening(folder)
    history = screening_history(result, Assumptions())
    assert history.sites.set_index("site_id").loc["A", "eligible"] == 2
    with pytest.raises(UsageError, match="missing does not exist"):
        load_screening(tmp_path / "missing")


def test_a_result_without_events_is_a_clear_error():
    no_events = patient_rows([("x", "A", "ineligible", None)])
    with pytest.raises(UsageError, match="no screening events"):
        screening_history(as_result(no_events), Assumptions())
