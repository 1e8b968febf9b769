"""Builders shared by the attrition tests: outcome tables and screen output folders made by hand.

The attrition code reads only result tables, so its tests build those tables
directly (from the demo's hand-derived expected outcomes, or at random) instead
of running a screen.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from oligo_cohort.criteria import CRITERIA, CRITERION_IDS, FAILED_WITHOUT_EVENT
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.problems import PROBLEM_COLUMNS
from oligo_cohort.protocol import load_protocol
from oligo_cohort.results import EVENT_COLUMNS, PATIENT_COLUMNS, REASON_COLUMNS

SITES = ("AVL", "UMCU", "MST")
YEARS = ("2023-03-01", "2024-06-15", None)


def status_of(units: pd.DataFrame) -> pd.Series:
    """The spec's status rule: ineligible on any fail, else unknown on any unknown, else eligible."""
    outcomes = units[list(CRITERION_IDS)]
    failed = (outcomes == "fail").any(axis=1)
    unknown = (outcomes == "unknown").any(axis=1)
    return pd.Series(np.where(failed, "ineligible", np.where(unknown, "unknown", "eligible")), index=units.index)


def random_patients(n: int, seed: int = 0, fail_rate: float = 0.06, unknown_rate: float = 0.05) -> pd.DataFrame:
    """`n` patient rows with random outcomes, each criterion drawing only from the outcomes it can give."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "patient_id": [f"{i:05d}" for i in range(n)],
            "site_id": rng.choice(SITES, n),
            "status": "",
            "event_id": [f"{i:05d}-01" for i in range(n)],
            "screening_date": rng.choice(np.array(YEARS, dtype=object), n),
        }
    )
    rates = {"pass": 1.0, "fail": fail_rate, "unknown": unknown_rate, "review": 0.3}
    for criterion in CRITERIA:
        weights = np.array([rates[o] for o in criterion.outcomes])
        frame[criterion.id] = rng.choice(list(criterion.outcomes), n, p=weights / weights.sum())
    frame["status"] = status_of(frame)
    return frame


def demo_expected_patients() -> pd.DataFrame:
    """The demo's 34 patients with their hand-derived outcomes (no screen run), in result.patients' columns."""
    folder = demo_extract_dir().parent
    expected = pd.read_csv(folder / "expected_outcomes.csv", dtype=str, keep_default_na=False)
    sites = pd.read_csv(demo_extract_dir() / "patients.csv", dtype=str)[["patient_id", "site_id"]]
    frame = expected.merge(sites, on="patient_id")
    frame["event_id"] = frame["event_id"].replace("", None)
    imaging = pd.read_csv(demo_extract_dir() / "imaging.csv", dtype=str)[["study_id", "study_date"]]
    frame = frame.merge(imaging, left_on="event_id", right_on="study_id", how="left")
    frame["screening_date"] = frame["study_date"].astype(object).where(frame["study_date"].notna(), None)
    return frame[list(PATIENT_COLUMNS)]


def as_screened(patients: pd.DataFrame) -> pd.DataFrame:
    """The patients as a screen writes them (the folder's reader checks it): a patient without a screening date has
    no event (D21) and fails the imaging criteria (criteria.md "Time"), and a status is its criteria's."""
    patients = patients.copy()
    no_event = patients["screening_date"].isna()
    patients.loc[no_event, "event_id"] = None
    patients.loc[no_event, list(FAILED_WITHOUT_EVENT)] = "fail"
    patients["status"] = status_of(patients)
    return patients


def events_from_patients(patients: pd.DataFrame) -> pd.DataFrame:
    """One event per patient with an event (its best), in result.events' columns."""
    events = patients[patients["event_id"].notna()].copy()
    days = load_protocol("cosmo").parameters.registration_days
    events["registration_date"] = (pd.to_datetime(events["screening_date"]) + pd.Timedelta(days=days)).dt.strftime(
        "%Y-%m-%d"
    )
    events["line_number"] = 1
    events["reference_study_id"] = None
    events["is_best_event"] = True
    return events[list(EVENT_COLUMNS)]


def write_screen_dir(folder: Path, patients: pd.DataFrame, events: pd.DataFrame | None = None) -> Path:
    """A folder like `oligo-cohort screen` writes, from hand-built tables (`as_screened`; each reason with a rule of
    its criterion that gives its outcome)."""
    folder.mkdir(parents=True, exist_ok=True)
    patients = as_screened(patients)
    events = events_from_patients(patients) if events is None else events
    patients.to_csv(folder / "patients.csv", index=False)
    events.to_csv(folder / "events.csv", index=False)
    reasons = patients.melt(id_vars=["patient_id", "event_id"], value_vars=list(CRITERION_IDS), var_name="criterion")
    reasons = reasons.rename(columns={"value": "outcome"}).assign(reason="hand-built")
    rules = {(c.id, r.outcome): r.name for c in reversed(CRITERIA) for r in reversed(c.rules)}
    reasons["rule"] = [rules[key] for key in zip(reasons["criterion"], reasons["outcome"], strict=True)]
    reasons = reasons.assign(order=reasons["criterion"].map(CRITERION_IDS.index)).sort_values(
        ["patient_id", "order"], kind="stable"
    )
    reasons[list(REASON_COLUMNS)].to_csv(folder / "reasons.csv", index=False)
    findings = pd.DataFrame([["warning", "systemic_therapy", "drug", 3, "x", "AZD9833", "unknown drug"]])
    findings.set_axis(list(PROBLEM_COLUMNS), axis=1).to_csv(folder / "findings.csv", index=False)
    protocol = load_protocol("cosmo")
    manifest = {
        "protocol": {"name": protocol.name, "version": protocol.version, "source": protocol.source},
        "parameters": protocol.parameters.as_row(),
        "as_of": "2025-03-31",
        "engine": "duckdb",
        "worklist": False,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_random_patients_respect_each_criterions_outcomes():
    patients = random_patients(500, seed=3)
    for criterion in CRITERIA:
        assert set(patients[criterion.id]) <= set(criterion.outcomes)
    assert set(patients["status"]) == {"eligible", "unknown", "ineligible"}


def test_demo_expected_patients_match_the_demo_summary():
    patients = demo_expected_patients()
    assert len(patients) == 34
    assert patients["status"].value_counts().to_dict() == {"ineligible": 18, "unknown": 11, "eligible": 5}
    assert (status_of(patients) == patients["status"]).all()
