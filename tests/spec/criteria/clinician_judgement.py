"""The cases the two clinician-judgement exclusions share: medical risk and risk to compliance.

exc_medical_risk reads `medical_risk` observations, exc_psychosocial reads
`compliance_risk` ones, each the same way: the latest observation on or before R
decides; true = the condition is present (the patient is excluded), false =
absent; none, or true and false on that day (D18, D43): review. A record
without a value (the data model requires one, so the loader refuses it; a typed
table handed to an engine without the loader can hold one) is decided as
criteria.md says: a missing value -> unknown (D43: a true record on the same day
still fails, a false one cannot outweigh the missing one).
"""

from __future__ import annotations

from tests.spec.cases import SpecCase, expect
from tests.spec.harness import Case
from tests.spec.variations import AMENABLE, CONSENTED, observations

RULE = {"fail": "recorded_true", "pass": "recorded_false", "review": "not_recorded"}

# title, the code's rows ({code} stands for the code), the outcome, the rule when not the outcome's usual one
RISK_ROWS = [
    ("condition present", "{code} | 2023-03-20 | | true", "fail", None),
    ("condition absent", "{code} | 2023-03-20 | | false", "pass", None),
    ("not recorded", "", "review", None),
    ("latest says absent", "{code} | 2023-03-10 | | true\n{code} | 2023-04-12 | | false", "pass", None),
    ("latest says present", "{code} | 2023-03-10 | | false\n{code} | 2023-04-12 | | true", "fail", None),
    ("recorded on R", "{code} | 2023-04-19 | | true", "fail", None),
    ("recorded after R", "{code} | 2023-04-20 | | true", "review", None),
    ("a later one after R", "{code} | 2023-03-10 | | false\n{code} | 2023-04-20 | | true", "pass", None),
    ("true and false one day", "{code} | 2023-03-20 | | true\n{code} | 2023-03-20 | | false", "review", "conflicting"),
    ("an end date does not matter", "{code} | 2022-01-10 | 2022-06-30 | true", "fail", None),
]

# title, the code's rows (NULL: a record without a value), the outcome
WITHOUT_VALUE_ROWS = [
    ("the only record has no value", "{code} | 2023-03-20 | | NULL", "unknown"),
    ("the latest record has no value", "{code} | 2023-03-10 | | true\n{code} | 2023-03-20 | | NULL", "unknown"),
    ("the latest has one: it decides", "{code} | 2023-03-10 | | NULL\n{code} | 2023-03-20 | | true", "fail"),
    ("the latest says absent", "{code} | 2023-03-10 | | NULL\n{code} | 2023-03-20 | | false", "pass"),
    ("false and no value that day", "{code} | 2023-03-20 | | NULL\n{code} | 2023-03-20 | | false", "unknown"),
    ("true and no value that day", "{code} | 2023-03-20 | | NULL\n{code} | 2023-03-20 | | true", "fail"),
    ("a later one is after R", "{code} | 2023-03-20 | | NULL\n{code} | 2023-04-20 | | false", "unknown"),
]
WITHOUT_VALUE = "recorded on 2023-03-20 without a yes or no"


def with_risks(rows: str) -> Case:
    """The baseline's amenability and consent plus these medical_risk / compliance_risk rows."""
    return observations("\n".join(line for line in (AMENABLE, CONSENTED, rows) if line))


def risk_cases(code: str, criterion: str) -> list[SpecCase]:
    """The cases of RISK_ROWS for one code and the criterion it decides (only that criterion changes)."""
    return [
        expect(title, with_risks(rows.format(code=code)), rule=rule or RULE[outcome], **{criterion: outcome})
        for title, rows, outcome, rule in RISK_ROWS
    ]


def without_value_cases(code: str, criterion: str) -> list[SpecCase]:
    """The cases of WITHOUT_VALUE_ROWS for one code and the criterion it decides."""
    return [
        expect(
            title,
            with_risks(rows.format(code=code)),
            rule="recorded_without_value" if outcome == "unknown" else RULE[outcome],
            says={criterion: WITHOUT_VALUE} if outcome == "unknown" else None,
            **{criterion: outcome},
        )
        for title, rows, outcome in WITHOUT_VALUE_ROWS
    ]
