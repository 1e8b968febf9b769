"""The engine's result tables: contract columns and types, best event, event-less patients, absent tables."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from oligo_cohort.criteria import CRITERIA, CRITERION_IDS
from oligo_cohort.facts import FACTS
from tests.engines.pandas_engine.builders import Extract, Screened, day, screen
from tests.engines.result_contract import EVENT_COLUMNS, PATIENT_COLUMNS, REASON_COLUMNS

AS_OF = "2023-06-30"

# result_facts as the contract fixes it: the unit, then per criterion a struct of its rule and facts, typed as
# oligo_cohort.facts says (the DuckDB engine's SQL is held to the same list by tests/differential).
FACT_COLUMNS = [
    ("unit_id", "BIGINT"),
    ("patient_id", "VARCHAR"),
    ("event_id", "VARCHAR"),
    ("is_best", "BOOLEAN"),
    *[
        (c.id, "STRUCT(" + ", ".join(['"rule" VARCHAR', *(f"{f} {FACTS[f].sql_type}" for f in c.facts)]) + ")")
        for c in CRITERIA
    ],
]


def _extract() -> Extract:
    e = Extract()
    start = (("L1", "liver", "20"),)
    # Two events: the first fails disease control (under 6 months on the line), the second does not.
    e.patient("two_events").therapy("two_events", "letrozole", "2022-02-01")
    e.study("two_events", "a-ref", "2022-01-20", "CT", start)
    e.study("two_events", "a-early", "2022-06-01", "CT", (("L1", "liver", "25"),))
    e.study("two_events", "a-late", "2022-09-01", "CT", (("L1", "liver", "30"),))
    e.add("response_assessments", patient_id="two_events", assessment_date="2022-04-01", response="SD")
    # No event at all: the patient is evaluated at the cut-off (D21) with the line active then.
    e.patient("no_event", birth="2010-01-01").therapy("no_event", "letrozole", "2022-02-01")
    # No breast tumour at all.
    e.patient("no_tumour", breast=False)
    e.add("performance_status", patient_id="no_tumour", assessment_date=day(AS_OF, -10), scale="KPS", score="70")
    return e


@pytest.fixture(scope="module")
def screened() -> Screened:
    return screen(_extract(), AS_OF)


def _schema(screened: Screened, table: str) -> list[tuple[str, str]]:
    rows = screened.con.execute(f"DESCRIBE {table}").fetchall()
    return [(name, kind) for name, kind, *_ in rows]


def test_result_tables_have_the_contract_columns_and_types(screened: Screened) -> None:
    assert _schema(screened, "result_events") == EVENT_COLUMNS
    assert _schema(screened, "result_patients") == PATIENT_COLUMNS
    assert _schema(screened, "result_facts") == FACT_COLUMNS
    assert _schema(screened, "result_reasons") == REASON_COLUMNS


def test_facts_are_recorded_for_each_patients_best_unit_or_for_every_unit(screened: Screened) -> None:
    best = screened.con.sql("SELECT patient_id, event_id, is_best FROM result_facts ORDER BY ALL").fetchall()
    assert best == [("no_event", None, True), ("no_tumour", None, True), ("two_events", "a-late", True)]
    every = screen(_extract(), AS_OF, all_events=True)
    units = every.con.sql("SELECT patient_id, event_id, is_best FROM result_facts ORDER BY ALL").fetchall()
    assert units == [*best[:2], ("two_events", "a-early", False), ("two_events", "a-late", True)]
    assert len(every.reasons()) == 18 * 4


def test_a_unit_without_an_event_records_the_facts_of_its_cut_off(screened: Screened) -> None:
    cutoff = dt.date.fromisoformat(AS_OF)
    control = screened.facts("no_event", "inc_disease_control_6m")
    assert control["rule"] == "no_response_recorded"
    assert (control["has_event"], control["screening_date"], control["line_number"]) == (False, cutoff, 1)
    assert control["enough_months_date"] == dt.date(2022, 8, 1)
    window = screened.facts("no_event", "inc_imaging_window")
    assert window["rule"] == "no_candidate_event"
    assert (window["registration_date"], window["earliest_registration"], window["latest_registration"]) == (
        cutoff,
        dt.date(2023, 8, 15),
        dt.date(2023, 8, 21),
    )
    scan = screened.facts("no_event", "inc_oligoprogression")
    recorded = {fact: value for fact, value in scan.items() if value is not None}
    assert recorded == {"rule": "no_candidate_event", "screening_date": cutoff}  # no scan, reference or lesions
    no_tumour = screened.facts("no_tumour", "inc_invasive_breast_cancer")
    assert (no_tumour["rule"], no_tumour["tumour_id"]) == ("no_index_tumour", None)
    performance = screened.facts("no_tumour", "inc_who_ps_0_1")
    assert (performance["rule"], performance["ps_scale"], performance["ps_score"]) == ("kps_ambiguous", "KPS", 70)
    assert performance["ps_window_start"] == dt.date(2023, 5, 1)


def test_best_event_has_fewest_failures(screened: Screened) -> None:
    events = screened.events().set_index("event_id")
    assert events.loc["a-early", "inc_disease_control_6m"] == "fail"
    assert events.loc["a-late", "inc_disease_control_6m"] == "pass"
    assert events["is_best_event"].to_dict() == {"a-early": False, "a-late": True}
    assert str(events.loc["a-late", "registration_date"].date()) == "2022-10-20"
    assert screened.patients().loc["two_events", "event_id"] == "a-late"


def test_patient_without_an_event_is_evaluated_at_the_cut_off(screened: Screened) -> None:
    row = screened.patients().loc["no_event"]
    assert pd.isna(row["event_id"])
    failed = {c for c in CRITERION_IDS if row[c] == "fail"}
    assert failed == {
        "inc_oligoprogression",
        "inc_same_modality",
        "inc_imaging_window",
        "inc_pet_confirmation",
        "inc_age_18",
    }
    assert row["inc_line_1_or_2"] == "pass" and row["inc_therapy_class"] == "pass"
    assert row["status"] == "ineligible"


def test_patient_without_a_breast_tumour(screened: Screened) -> None:
    row = screened.patients().loc["no_tumour"]
    assert (row["inc_invasive_breast_cancer"], row["inc_metastatic"]) == ("fail", "fail")
    assert row["inc_disease_control_6m"] == "fail"  # D16: no active line
    assert row["inc_who_ps_0_1"] == "unknown"  # KPS 70 (D19)


def test_reasons_hold_18_rows_per_patient(screened: Screened) -> None:
    reasons = screened.reasons()
    assert len(reasons) == 18 * 3
    for _, rows in reasons.groupby("patient_id"):
        assert sorted(rows["criterion"]) == sorted(CRITERION_IDS)
        assert rows["reason"].str.len().min() > 0
        assert rows["rule"].notna().all()
    merged = reasons.pivot(index="patient_id", columns="criterion", values="outcome")
    patients = screened.patients()
    for criterion in CRITERION_IDS:
        assert merged[criterion].to_dict() == patients[criterion].to_dict()


def test_absent_optional_tables() -> None:
    result = screen(_extract(), AS_OF, without=("observations", "performance_status", "response_assessments"))
    patients = result.patients()
    assert set(patients["exc_pregnancy"]) == {"review"}
    assert set(patients["inc_who_ps_0_1"]) == {"unknown"}
    assert patients.loc["two_events", "inc_disease_control_6m"] == "unknown"


def test_extract_with_patients_only() -> None:
    extract = Extract().patient("alone", breast=False)
    result = screen(extract, AS_OF)
    assert result.events().empty
    assert result.patients().loc["alone", "status"] == "ineligible"
    assert len(result.reasons()) == 18


def test_nadir_reference_compares_with_the_smallest_earlier_size() -> None:
    e = Extract().patient("nadir").therapy("nadir", "letrozole", "2022-02-01")
    e.study("nadir", "n-ref", "2022-01-20", "CT", (("L1", "liver", "30"),))
    e.study("nadir", "n-low", "2022-05-01", "CT", (("L1", "liver", "16"),))
    e.study("nadir", "n-scan", "2022-09-01", "CT", (("L1", "liver", "20"),))
    line_start = screen(e, AS_OF).events().set_index("event_id")
    nadir = screen(e, AS_OF, reference="nadir").events().set_index("event_id")
    assert "n-scan" not in line_start.index  # 30 -> 20 shrank against the line-start reference
    assert nadir.loc["n-scan", "inc_oligoprogression"] == "pass"  # 16 -> 20 is +25 % and above 15 mm
