"""Criteria registries rarely hold: amenability to local therapy, informed consent, pregnancy, medical risk, compliance.

They are decided from the optional `observations` table when it records them
(usually from chart review), else left for chart review. S is 2023-03-01,
R = S + 49 = 2023-04-19, cut-off 2023-04-20.
"""

from __future__ import annotations

import pytest

from oligo_cohort.api import _screen_loaded
from oligo_cohort.load import load_extract, materialise
from oligo_cohort.protocol import load_protocol
from tests.spec.baseline import AS_OF, PATIENT, WITHOUT_OPTIONAL_TABLES
from tests.spec.harness import Case, Screened, assert_only_changes, build_case, case
from tests.spec.tables import table


def observations(rows: str) -> Case:
    """The baseline with these observations (`code | start_date | end_date | value` per line)."""
    return case(observations=table("code | start_date | end_date | value\n" + rows))


CONSENTED = "informed_consent | 2023-03-22 | | true"
AMENABLE = "lat_amenable | 2023-03-08 | | true"

LAT_CASES = [
    pytest.param(observations(f"lat_amenable | 2023-03-08 | | true\n{CONSENTED}"), "pass", id="amenable"),
    pytest.param(observations(f"lat_amenable | 2023-03-08 | | false\n{CONSENTED}"), "fail", id="not amenable"),
    pytest.param(observations(CONSENTED), "review", id="not recorded"),
    pytest.param(
        observations(f"lat_amenable | 2023-03-08 | | true\nlat_amenable | 2023-04-10 | | false\n{CONSENTED}"),
        "fail",
        id="latest says not amenable",
    ),
    pytest.param(
        observations(f"lat_amenable | 2023-03-08 | | false\nlat_amenable | 2023-04-10 | | true\n{CONSENTED}"),
        "pass",
        id="latest says amenable",
    ),
    pytest.param(observations(f"lat_amenable | 2023-04-19 | | true\n{CONSENTED}"), "pass", id="recorded on R"),
    pytest.param(observations(f"lat_amenable | 2023-04-20 | | true\n{CONSENTED}"), "review", id="recorded after R"),
    pytest.param(
        observations(f"lat_amenable | 2023-03-08 | | true\nlat_amenable | 2023-03-08 | | false\n{CONSENTED}"),
        "review",
        id="true and false on one day (D18)",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), LAT_CASES)
def test_lat_amenable_from_the_latest_observation_on_or_before_registration(screened, spec, expected):
    """The latest lat_amenable observation on or before R decides; none, or true and false that day (D18): review."""
    assert_only_changes(screened(spec).event("S"), inc_lat_amenable=expected)


CONSENT_CASES = [
    pytest.param(observations(f"{AMENABLE}\ninformed_consent | 2023-04-17 | | true"), "pass", id="consented"),
    pytest.param(observations(f"{AMENABLE}\ninformed_consent | 2023-04-17 | | false"), "fail", id="declined"),
    pytest.param(observations(AMENABLE), "review", id="not recorded"),
    pytest.param(observations(f"{AMENABLE}\ninformed_consent | 2023-04-19 | | true"), "pass", id="signed on R"),
    pytest.param(observations(f"{AMENABLE}\ninformed_consent | 2023-04-20 | | true"), "review", id="signed after R"),
    pytest.param(
        observations(f"{AMENABLE}\ninformed_consent | 2023-04-17 | | true\ninformed_consent | 2023-04-17 | | false"),
        "review",
        id="true and false on one day (D18)",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), CONSENT_CASES)
def test_informed_consent_on_or_before_registration(screened, spec, expected):
    """An informed_consent observation on or before R decides; none, or true and false that day (D18): review."""
    assert_only_changes(screened(spec).event("S"), inc_informed_consent=expected)


CONSENT_WITHDRAWN = observations(
    f"{AMENABLE}\ninformed_consent | 2023-04-10 | | true\ninformed_consent | 2023-04-17 | | false"
)
CONSENT_AFTER_DECLINING = observations(
    f"{AMENABLE}\ninformed_consent | 2023-04-10 | | false\ninformed_consent | 2023-04-17 | | true"
)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(CONSENT_WITHDRAWN, "fail", id="signed, then withdrawn"),
        pytest.param(CONSENT_AFTER_DECLINING, "pass", id="declined, then signed"),
    ],
)
def test_the_latest_consent_observation_decides(screened, spec, expected):
    """Decision: of several informed_consent observations on or before R the latest decides, as for lat_amenable."""
    assert_only_changes(screened(spec).event("S"), inc_informed_consent=expected)


def with_pregnancy(row: str) -> Case:
    return observations(f"{AMENABLE}\n{CONSENTED}\n{row}")


PREGNANCY_CASES = [
    pytest.param(observations(f"{AMENABLE}\n{CONSENTED}"), "pass", id="none recorded"),
    pytest.param(with_pregnancy("pregnant | 2023-02-01 | | true"), "fail", id="pregnant"),
    pytest.param(with_pregnancy("breastfeeding | 2022-12-01 | | true"), "fail", id="breastfeeding"),
    pytest.param(with_pregnancy("pregnant | 2022-03-01 | 2022-11-30 | true"), "pass", id="ended months before S"),
    pytest.param(with_pregnancy("pregnant | 2022-06-01 | 2023-02-28 | true"), "pass", id="ended the day before S"),
    pytest.param(with_pregnancy("pregnant | 2022-06-01 | 2023-03-01 | true"), "fail", id="ended on S"),
    pytest.param(with_pregnancy("pregnant | 2023-04-19 | | true"), "fail", id="starting on R"),
    pytest.param(with_pregnancy("pregnant | 2023-04-20 | | true"), "pass", id="starting after R"),
    pytest.param(with_pregnancy("pregnant | 2023-02-01 | | false"), "pass", id="recorded as not pregnant"),
]


@pytest.mark.parametrize(("spec", "expected"), PREGNANCY_CASES)
def test_current_pregnancy_or_breastfeeding_excludes(screened, spec, expected):
    """A true pregnant/breastfeeding observation starting on or before R and not ended before S excludes."""
    assert_only_changes(screened(spec).event("S"), exc_pregnancy=expected)


ONLY_REQUIRED_TABLES = case(**WITHOUT_OPTIONAL_TABLES)


def test_an_extract_of_only_the_required_tables_leaves_the_patient_unknown(screened):
    """Only the required tables: amenability, consent and pregnancy go to review; disease control and PS are unknown."""
    assert_only_changes(
        screened(ONLY_REQUIRED_TABLES).patient,
        inc_lat_amenable="review",
        inc_informed_consent="review",
        exc_pregnancy="review",
        inc_disease_control_6m="unknown",
        inc_who_ps_0_1="unknown",
    )


# exc_medical_risk and exc_psychosocial: the latest medical_risk / compliance_risk observation on or before R.
# true = the condition is present (the patient is excluded); false = absent.
RISK_CASES = [
    pytest.param("{code} | 2023-03-20 | | true", "fail", id="condition present"),
    pytest.param("{code} | 2023-03-20 | | false", "pass", id="condition absent"),
    pytest.param("", "review", id="not recorded"),
    pytest.param("{code} | 2023-03-10 | | true\n{code} | 2023-04-12 | | false", "pass", id="latest says absent"),
    pytest.param("{code} | 2023-03-10 | | false\n{code} | 2023-04-12 | | true", "fail", id="latest says present"),
    pytest.param("{code} | 2023-04-19 | | true", "fail", id="recorded on R"),
    pytest.param("{code} | 2023-04-20 | | true", "review", id="recorded after R"),
    pytest.param("{code} | 2023-03-10 | | false\n{code} | 2023-04-20 | | true", "pass", id="a later one after R"),
    pytest.param("{code} | 2023-03-20 | | true\n{code} | 2023-03-20 | | false", "review", id="true and false one day"),
    pytest.param("{code} | 2022-01-10 | 2022-06-30 | true", "fail", id="an end date does not matter"),
]
RISK_CRITERIA = [
    pytest.param("medical_risk", "exc_medical_risk", id="medical_risk"),
    pytest.param("compliance_risk", "exc_psychosocial", id="compliance_risk"),
]


def with_risks(rows: str) -> Case:
    """The baseline's amenability and consent plus these medical_risk / compliance_risk rows."""
    return observations("\n".join(line for line in (AMENABLE, CONSENTED, rows) if line))


RISK_SPECS = {
    (code, rows): with_risks(rows.format(code=code))
    for code in ("medical_risk", "compliance_risk")
    for rows in [param.values[0] for param in RISK_CASES]
}


@pytest.mark.parametrize(("code", "criterion"), RISK_CRITERIA)
@pytest.mark.parametrize(("rows", "expected"), RISK_CASES)
def test_medical_and_compliance_risk_from_the_latest_observation_on_or_before_registration(
    screened, code, criterion, rows, expected
):
    """The latest observation on or before R decides: true (condition present) fails, false passes; none, or true
    and false on that day (D18, D43): review. Only the criterion of that code changes."""
    assert_only_changes(screened(RISK_SPECS[(code, rows)]).event("S"), **{criterion: expected})


BOTH_RISKS = with_risks("medical_risk | 2023-03-20 | | false\ncompliance_risk | 2023-03-21 | | true")


def test_the_two_risks_are_decided_apart(screened):
    """medical_risk decides exc_medical_risk only, compliance_risk exc_psychosocial only."""
    assert_only_changes(screened(BOTH_RISKS).event("S"), exc_medical_risk="pass", exc_psychosocial="fail")


def test_a_recorded_condition_makes_the_patient_ineligible_with_a_reason_naming_the_observation(screened):
    """A true compliance_risk observation excludes the patient; the reason names the observation and its date."""
    result = screened(BOTH_RISKS)
    assert result.patient["status"] == "ineligible"
    reason = reason_of(result, "exc_psychosocial")
    assert reason == "a condition hampering compliance with the protocol (recorded 2023-03-21)"
    assert reason_of(result, "exc_medical_risk") == (
        "no medical condition placing the patient at unusual risk (recorded 2023-03-20)"
    )


def reason_of(result: Screened, criterion: str) -> str:
    """The reason of one criterion of p1's best event."""
    reasons = result.reasons
    rows = reasons[(reasons["patient_id"] == PATIENT) & (reasons["criterion"] == criterion)]
    assert len(rows) == 1
    return str(rows["reason"].iloc[0])


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(case(), id="baseline: no such observation"),
        pytest.param(ONLY_REQUIRED_TABLES, id="no observations table"),
        pytest.param(with_pregnancy("pregnant | 2023-02-01 | | true"), id="other observations only"),
    ],
)
def test_without_a_risk_observation_both_are_left_to_chart_review(screened, spec):
    """No medical_risk / compliance_risk observation on or before R (or no observations table at all): review."""
    row = screened(spec).patient
    assert (row["exc_medical_risk"], row["exc_psychosocial"]) == ("review", "review")


# A record without a value: the data model requires `value`, so the loader refuses one; a table handed to an engine
# without the loader (Spark tables are taken as typed) can still hold one. Decided as criteria.md says: a missing
# value -> unknown (D43: a true record on the same day still fails, a false one cannot outweigh the missing one).
MISSING_VALUE_CASES = [
    pytest.param([("2023-03-20", None)], "unknown", id="the only record has no value"),
    pytest.param([("2023-03-10", "true"), ("2023-03-20", None)], "unknown", id="the latest record has no value"),
    pytest.param([("2023-03-10", None), ("2023-03-20", "true")], "fail", id="the latest has one: it decides"),
    pytest.param([("2023-03-10", None), ("2023-03-20", "false")], "pass", id="the latest says absent"),
    pytest.param([("2023-03-20", None), ("2023-03-20", "false")], "unknown", id="false and no value that day"),
    pytest.param([("2023-03-20", None), ("2023-03-20", "true")], "fail", id="true and no value that day"),
    pytest.param([("2023-03-20", None), ("2023-04-20", "false")], "unknown", id="a later one is after R"),
]


@pytest.mark.parametrize(("code", "criterion"), RISK_CRITERIA)
@pytest.mark.parametrize(("records", "expected"), MISSING_VALUE_CASES)
def test_a_risk_observation_without_a_value_is_unknown(engine, code, criterion, records, expected):
    """Observations given as typed tables (bypassing the loader) with some values NULL (None in `records`)."""
    rows = [AMENABLE, CONSENTED, *(f"{code} | {day} | | {value or 'true'}" for day, value in records)]
    blank = [3 + k for k, (_, value) in enumerate(records) if value is None]  # `_row` numbers the source rows
    spec = build_case(observations=table("code | start_date | end_date | value\n" + "\n".join(rows)))
    loaded = load_extract(spec.source(), as_of=AS_OF)
    materialise(loaded.con, "observations")  # a loaded table may be a view of its typed table
    loaded.con.execute(f"UPDATE observations SET value = NULL WHERE _row IN ({', '.join(map(str, blank))})")
    assert loaded.con.execute("SELECT count(*) FROM observations WHERE value IS NULL").fetchone() == (len(blank),)
    result = _screen_loaded(loaded, load_protocol("cosmo"), engine=engine)
    events = result.events
    assert_only_changes(events[events["event_id"] == "S"].iloc[0].to_dict(), **{criterion: expected})
    reasons = result.reasons
    reason = reasons.loc[reasons["criterion"] == criterion, "reason"].iloc[0]
    if expected == "unknown":
        assert "recorded on 2023-03-20 without a yes or no" in reason


@pytest.mark.parametrize(
    ("code", "criterion"),
    [
        pytest.param("lat_amenable", "inc_lat_amenable", id="lat_amenable"),
        pytest.param("informed_consent", "inc_informed_consent", id="informed_consent"),
    ],
)
def test_amenability_or_consent_without_a_value_is_left_to_chart_review(engine, code, criterion):
    """The two inclusion observations have no unknown outcome (criteria.md): a latest record without a value is as
    none, left to chart review (D51). The baseline's record loses its value."""
    loaded = load_extract(build_case().source(), as_of=AS_OF)
    materialise(loaded.con, "observations")
    loaded.con.execute("UPDATE observations SET value = NULL WHERE code = ?", [code])
    result = _screen_loaded(loaded, load_protocol("cosmo"), engine=engine)
    events = result.events
    assert_only_changes(events[events["event_id"] == "S"].iloc[0].to_dict(), **{criterion: "review"})
