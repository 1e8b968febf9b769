"""The engine's result tables (oligo_cohort/engines/duckdb_engine.py, sql/outcomes/): shape, types, best event.

docs/design.md "Engine results"; criteria.md "Time" (best event: fewest fail, then fewest unknown, then earliest
S, then smallest study_id) and "Outcomes" (status).
"""

from __future__ import annotations

import duckdb
import pytest

from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.engines.duckdb_engine import ENGINE_RESULTS, MODELS, run
from oligo_cohort.explain import explain_reasons
from tests.engines.duckdb_engine.loaded import Registry, days_after, rows
from tests.engines.result_contract import EVENT_COLUMNS, PATIENT_COLUMNS, REASON_COLUMNS

LINE_START = "2022-01-03"
AS_OF = "2024-12-31"


def registry() -> Registry:
    """p1: a liver lesion grows on two CTs (S1 only 5 months into the line, S2 after 8); p2: no event."""
    s1, s2 = "2022-06-01", "2022-09-01"
    return (
        Registry()
        .patient("p1")
        .breast_tumour("p1")
        .episode("letrozole", LINE_START)
        .study("ref", days_after(LINE_START, -7))
        .lesion("ref", "L1", 20)
        .study("S1", s1)
        .lesion("S1", "L1", 30)
        .study("S2", s2)
        .lesion("S2", "L1", 31)
        .study("S2b", s2)
        .lesion("S2b", "L1", 31)
        .add("response_assessments", patient_id="p1", assessment_date="2022-04-01", response="SD")
        .add("performance_status", patient_id="p1", assessment_date="2022-08-20", scale="ECOG", score=1)
        .patient("p2", site_id="UMCU", birth_date=None)
        .breast_tumour("p2", basis_of_diagnosis="cytology")
    )


@pytest.fixture(scope="module")
def screened() -> duckdb.DuckDBPyConnection:
    con = registry().connect(AS_OF)
    run(con)
    explain_reasons(con)
    return con


def describe(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall()]


def test_result_tables_have_the_designed_columns_and_types(screened: duckdb.DuckDBPyConnection) -> None:
    assert describe(screened, "result_events") == EVENT_COLUMNS
    assert describe(screened, "result_patients") == PATIENT_COLUMNS
    assert describe(screened, "result_reasons") == REASON_COLUMNS


def test_only_the_result_tables_remain(screened: duckdb.DuckDBPyConnection) -> None:
    tables = {name for (name,) in screened.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert set(ENGINE_RESULTS) <= tables
    assert not tables & {model.table for model in MODELS if not model.is_result}


def test_best_event_has_fewest_fails_then_the_earliest_scan_then_the_smallest_id(
    screened: duckdb.DuckDBPyConnection,
) -> None:
    # S1 fails inc_disease_control_6m (5 months on the line); S2 and S2b tie, S2 has the smaller id.
    assert rows(
        screened,
        "SELECT event_id, inc_disease_control_6m, is_best_event FROM result_events ORDER BY event_id",
    ) == [("S1", "fail", False), ("S2", "pass", True), ("S2b", "pass", False)]
    assert rows(screened, "SELECT event_id, screening_date FROM result_patients WHERE patient_id = 'p1'") == [
        ("S2", "2022-09-01")
    ]


def test_event_columns(screened: duckdb.DuckDBPyConnection) -> None:
    assert rows(
        screened,
        "SELECT patient_id, site_id, screening_date, registration_date, line_number, reference_study_id "
        "FROM result_events WHERE event_id = 'S2'",
    ) == [("p1", "AVL", "2022-09-01", "2022-10-20", 1, "ref")]


def test_patient_without_an_event(screened: duckdb.DuckDBPyConnection) -> None:
    columns = ["event_id", "screening_date", "status", *CRITERION_IDS]
    found = dict(
        zip(
            columns,
            rows(screened, f"SELECT {', '.join(columns)} FROM result_patients WHERE patient_id = 'p2'")[0],
            strict=True,
        )
    )
    assert (found["event_id"], found["screening_date"], found["status"]) == (None, None, "ineligible")
    for criterion in ("inc_oligoprogression", "inc_same_modality", "inc_imaging_window", "inc_pet_confirmation"):
        assert found[criterion] == "fail"
    assert found["inc_invasive_breast_cancer"] == "fail"  # cytology
    assert found["inc_age_18"] == "unknown"  # no birth date


def test_status_follows_the_outcomes(screened: duckdb.DuckDBPyConnection) -> None:
    statuses = rows(
        screened,
        "SELECT status, count(*) FILTER (WHERE "
        + " OR ".join(f"{c} = 'fail'" for c in CRITERION_IDS)
        + ") > 0 AS any_fail, count(*) FILTER (WHERE "
        + " OR ".join(f"{c} = 'unknown'" for c in CRITERION_IDS)
        + ") > 0 AS any_unknown FROM result_events GROUP BY ALL",
    )
    for status, any_fail, any_unknown in statuses:
        assert status == ("ineligible" if any_fail else "unknown" if any_unknown else "eligible")


def test_reasons_cover_the_18_criteria_of_each_best_unit(screened: duckdb.DuckDBPyConnection) -> None:
    assert rows(screened, "SELECT patient_id, event_id, count(*) FROM result_reasons GROUP BY ALL ORDER BY 1") == [
        ("p1", "S2", 18),
        ("p2", None, 18),
    ]
    outcomes = rows(screened, "SELECT criterion, outcome FROM result_reasons WHERE patient_id = 'p1'")
    patient = rows(screened, f"SELECT {', '.join(CRITERION_IDS)} FROM result_patients WHERE patient_id = 'p1'")[0]
    assert dict(outcomes) == dict(zip(CRITERION_IDS, patient, strict=True))
    assert rows(screened, "SELECT count(*) FROM result_reasons WHERE reason IS NULL OR reason = ''") == [(0,)]


def test_reasons_name_the_deciding_facts(screened: duckdb.DuckDBPyConnection) -> None:
    reasons = dict(rows(screened, "SELECT criterion, reason FROM result_reasons WHERE patient_id = 'p1'"))
    assert reasons["inc_oligoprogression"] == (
        "CT S2 of 2022-09-01 compared with CT ref of 2021-12-27: 1 progressive distant lesion: liver L1"
    )
    assert reasons["inc_line_1_or_2"] == "line 1 (started 2022-01-03: letrozole) active at the scan of 2022-09-01"
    assert reasons["inc_who_ps_0_1"] == "ECOG 1 on 2022-08-20"
    assert reasons["inc_pet_confirmation"] == (
        "no FDG-PET-CT between 2022-10-06 and 2022-10-20 to confirm the progression"
    )
    assert reasons["inc_disease_control_6m"] == (
        "line 1 (started 2022-01-03: letrozole): SD assessed on 2022-04-01, no progressive disease, 6 months on the "
        "line reached on 2022-07-03"
    )


def test_run_can_be_repeated_on_the_same_connection(screened: duckdb.DuckDBPyConnection) -> None:
    before = rows(screened, "SELECT * FROM result_patients ORDER BY patient_id")
    run(screened)
    assert rows(screened, "SELECT * FROM result_patients ORDER BY patient_id") == before
