"""Two response assessments on one day: disease control decided as the spec says, the reason quoting no more.

criteria.md: "any PD assessment strictly between line start and S -> fail; else at least one CR/PR/SD strictly
between them -> pass". Two assessments of one day are both between them: a PD among them fails the criterion
whatever else that day holds, and otherwise the criterion passes. The reason quotes the latest CR/PR/SD and, of two on that day, the least favourable (SD, then PR, then CR), so it never
claims more control than was recorded (docs/decisions.md D34); every engine records the same.
The baseline line starts 2022-01-03 and S is 2023-03-01.
"""

from __future__ import annotations

import pytest

from tests.spec.harness import Case, assert_only_changes, case
from tests.spec.tables import table


def responses(rows: str) -> Case:
    """The baseline with these response assessments (`assessment_date | response` per line)."""
    return case(response_assessments=table("assessment_date | response\n" + rows))


SAME_DAY_CASES = [
    pytest.param(responses("2022-06-15 | PR\n2022-06-15 | SD"), "pass", "SD assessed on 2022-06-15", id="PR and SD"),
    pytest.param(responses("2022-06-15 | CR\n2022-06-15 | PR"), "pass", "PR assessed on 2022-06-15", id="CR and PR"),
    pytest.param(responses("2022-06-15 | SD\n2022-06-15 | PD"), "fail", "(PD) assessed on 2022-06-15", id="SD and PD"),
    pytest.param(responses("2022-06-15 | NE\n2022-06-15 | SD"), "pass", "SD assessed on 2022-06-15", id="NE and SD"),
    pytest.param(
        responses("2022-06-15 | SD\n2022-12-15 | CR\n2022-12-15 | PR"),
        "pass",
        "PR assessed on 2022-12-15",
        id="the latest day's least favourable",
    ),
]


@pytest.mark.parametrize(("spec", "expected", "quoted"), SAME_DAY_CASES)
def test_two_assessments_on_one_day(screened, engine, spec, expected, quoted):
    result = screened(spec)
    assert_only_changes(result.event("S"), inc_disease_control_6m=expected)
    reasons = result.reasons
    reason = reasons[(reasons["event_id"] == "S") & (reasons["criterion"] == "inc_disease_control_6m")]["reason"]
    assert len(reason) == 1
    assert quoted in reason.iloc[0], reason.iloc[0]  # every engine records the same response (D34)
