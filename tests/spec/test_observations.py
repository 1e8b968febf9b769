"""Criteria registries rarely hold: amenability to local therapy, informed consent, pregnancy, and the review-only ones.

They are decided from the optional `observations` table when it records them,
else left for chart review. S is 2023-03-01, R = S + 49 = 2023-04-19, cut-off
2023-04-20.
"""

from __future__ import annotations

import pytest

from tests.spec.baseline import WITHOUT_OPTIONAL_TABLES
from tests.spec.harness import Case, assert_only_changes, case
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


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(case(), id="baseline"),
        pytest.param(ONLY_REQUIRED_TABLES, id="no observations table"),
        pytest.param(with_pregnancy("pregnant | 2023-02-01 | | true"), id="pregnant"),
    ],
)
def test_medical_risk_and_psychosocial_conditions_are_always_for_review(screened, spec):
    """The clinician's judgement of medical risk and of compliance is never decided from registry data."""
    row = screened(spec).patient
    assert (row["exc_medical_risk"], row["exc_psychosocial"]) == ("review", "review")
