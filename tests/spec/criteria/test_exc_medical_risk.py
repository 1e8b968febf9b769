"""Any medical condition that would place the patient at unusual risk, at the discretion of the clinician.

Read from `medical_risk` observations, the same way as exc_psychosocial reads
`compliance_risk` ones (tests/spec/criteria/clinician_judgement.py). The
baseline records neither, so both are left to chart review. S is 2023-03-01,
R = S + 49 = 2023-04-19, cut-off 2023-04-20.
"""

from __future__ import annotations

from tests.spec.baseline import WITHOUT_OPTIONAL_TABLES
from tests.spec.cases import cases, expect
from tests.spec.criteria.clinician_judgement import risk_cases, with_risks, without_value_cases
from tests.spec.harness import case


@cases(*risk_cases("medical_risk", "exc_medical_risk"))
def test_medical_risk_from_the_latest_observation_on_or_before_registration(checked, spec):
    """The latest medical_risk observation on or before R decides: true (condition present) fails, false passes;
    none, or true and false on that day (D18, D43): review. Only exc_medical_risk changes."""
    checked(spec)


@cases(*without_value_cases("medical_risk", "exc_medical_risk"))
def test_a_medical_risk_observation_without_a_value_is_unknown(checked, spec):
    """A record without a value (NULL: past the loader, which refuses it) is unknown when it is the latest; a true
    record the same day still fails (D43)."""
    checked(spec)


BOTH_REVIEW = {"exc_medical_risk": "review", "exc_psychosocial": "review"}


@cases(
    expect(
        "baseline: no such observation",
        case(),
        at=None,
        only=False,
        rule={"exc_medical_risk": "not_recorded", "exc_psychosocial": "not_recorded"},
        **BOTH_REVIEW,
    ),
    expect(
        "no observations table",
        case(**WITHOUT_OPTIONAL_TABLES),
        at=None,
        only=False,
        rule={"exc_medical_risk": "no_observations_table", "exc_psychosocial": "no_observations_table"},
        **BOTH_REVIEW,
    ),
    expect(
        "other observations only",
        with_risks("pregnant | 2023-02-01 | | true"),
        at=None,
        only=False,
        rule={"exc_medical_risk": "not_recorded", "exc_psychosocial": "not_recorded"},
        **BOTH_REVIEW,
    ),
)
def test_without_a_risk_observation_both_are_left_to_chart_review(checked, spec):
    """No medical_risk / compliance_risk observation on or before R (or no observations table at all): review."""
    checked(spec)
