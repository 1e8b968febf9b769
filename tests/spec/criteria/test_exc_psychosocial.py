"""Any psychological, familial, sociological or geographical condition potentially hampering compliance.

Read from `compliance_risk` observations, the same way as exc_medical_risk reads
`medical_risk` ones (tests/spec/criteria/clinician_judgement.py). S is
2023-03-01, R = S + 49 = 2023-04-19, cut-off 2023-04-20.
"""

from __future__ import annotations

from tests.spec.cases import cases, expect
from tests.spec.criteria.clinician_judgement import risk_cases, with_risks, without_value_cases


@cases(*risk_cases("compliance_risk", "exc_psychosocial"))
def test_compliance_risk_from_the_latest_observation_on_or_before_registration(checked, spec):
    """The latest compliance_risk observation on or before R decides: true (condition present) fails, false passes;
    none, or true and false on that day (D18, D43): review. Only exc_psychosocial changes."""
    checked(spec)


@cases(*without_value_cases("compliance_risk", "exc_psychosocial"))
def test_a_compliance_risk_observation_without_a_value_is_unknown(checked, spec):
    """A record without a value (NULL: past the loader, which refuses it) is unknown when it is the latest; a true
    record the same day still fails (D43)."""
    checked(spec)


BOTH_RISKS = with_risks("medical_risk | 2023-03-20 | | false\ncompliance_risk | 2023-03-21 | | true")


@cases(
    expect(
        "medical risk absent, compliance risk present",
        BOTH_RISKS,
        exc_medical_risk="pass",
        exc_psychosocial="fail",
        rule={"exc_medical_risk": "recorded_false", "exc_psychosocial": "recorded_true"},
    )
)
def test_the_two_risks_are_decided_apart(checked, spec):
    """medical_risk decides exc_medical_risk only, compliance_risk exc_psychosocial only."""
    checked(spec)


@cases(
    expect(
        "medical risk absent, compliance risk present: the reasons",
        BOTH_RISKS,
        at=None,
        only=False,
        columns={"status": "ineligible"},
        exc_psychosocial="fail",
    )
)
def test_a_recorded_condition_makes_the_patient_ineligible_with_a_reason_naming_the_observation(checked, spec):
    """A true compliance_risk observation excludes the patient; the reason names the observation and its date."""
    result = checked(spec)
    assert result.reason_row("exc_psychosocial")["reason"] == (
        "a condition hampering compliance with the protocol (recorded 2023-03-21)"
    )
    assert result.reason_row("exc_medical_risk")["reason"] == (
        "no medical condition placing the patient at unusual risk (recorded 2023-03-20)"
    )
