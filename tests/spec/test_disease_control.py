"""Disease control: at least six months on the line, with stable disease or a response and no progression.

`S < line start + 6 calendar months`, or a PD assessment strictly between the
line start and S → fail; else a CR/PR/SD strictly between them → pass; else
unknown. The baseline line starts 2022-01-03 and S is 2023-03-01.
"""

from __future__ import annotations

import pytest

from tests.spec.baseline import WITHOUT_OPTIONAL_TABLES
from tests.spec.harness import Case, assert_only_changes, assert_outcomes, case
from tests.spec.tables import table


def responses(rows: str) -> Case:
    """The baseline with these response assessments (`assessment_date | response` per line)."""
    return case(response_assessments=table("assessment_date | response\n" + rows))


RESPONSE_CASES = [
    pytest.param(responses("2022-06-15 | SD\n2022-12-15 | SD"), "pass", id="stable disease"),
    pytest.param(responses("2022-06-15 | PR"), "pass", id="partial response"),
    pytest.param(responses("2022-06-15 | CR"), "pass", id="complete response"),
    pytest.param(responses("2022-06-15 | SD\n2022-09-01 | PD\n2022-12-15 | SD"), "fail", id="PD between"),
    pytest.param(responses("2022-01-03 | PD\n2022-12-15 | SD"), "pass", id="PD on the line start day"),
    pytest.param(responses("2023-03-01 | PD\n2022-12-15 | SD"), "pass", id="PD on the day of S"),
    pytest.param(responses("2021-12-10 | PD\n2022-12-15 | SD"), "pass", id="PD before the line"),
    pytest.param(responses("2022-06-15 | NE"), "unknown", id="not evaluable only"),
    pytest.param(responses("2021-12-10 | SD\n2023-03-10 | SD"), "unknown", id="assessments only outside"),
    pytest.param(responses("2022-01-03 | SD\n2023-03-01 | SD"), "unknown", id="SD only on the boundary days"),
    pytest.param(responses(""), "unknown", id="table present, no assessment"),
]


@pytest.mark.parametrize(("spec", "expected"), RESPONSE_CASES)
def test_responses_strictly_between_line_start_and_scan(screened, spec, expected):
    """PD strictly between line start and S fails; else a CR/PR/SD strictly between passes; else unknown."""
    assert_only_changes(screened(spec).event("S"), inc_disease_control_6m=expected)


def line_started(start: str, *, s_date: str = "2023-03-01", optional_tables: bool = True) -> Case:
    """Letrozole + palbociclib from `start`, baseline CT a week before, screening scan S on `s_date`."""
    tables = {
        "systemic_therapy": table(f"""
            drug        | start_date | end_date | setting
            letrozole   | {start}    |          | metastatic
            palbociclib | {start}    |          | metastatic
        """),
        "imaging": table(f"""
            study_id | study_date | modality
            ref      | 2022-08-25 | CT
            S        | {s_date}   | CT
            pet      | 2023-04-12 | FDG-PET-CT
        """),
    }
    # The baseline's stable disease on 2022-12-15 lies within every one of these lines.
    return case(**tables) if optional_tables else case(**tables, **WITHOUT_OPTIONAL_TABLES)


SIX_MONTH_CASES = [
    pytest.param(line_started("2022-09-01"), "pass", id="S exactly 6 months after the start"),
    pytest.param(line_started("2022-09-02"), "fail", id="S one day short of 6 months"),
    pytest.param(line_started("2022-08-31", s_date="2023-02-28"), "pass", id="31 Aug + 6 months = 28 Feb"),
    pytest.param(line_started("2022-08-31", s_date="2023-02-27"), "fail", id="31 Aug, S on 27 Feb"),
    pytest.param(line_started("2022-09-02", optional_tables=False), "fail", id="too short, no response table"),
    pytest.param(line_started("2022-09-01", optional_tables=False), "unknown", id="long enough, no response table"),
]


@pytest.mark.parametrize(("spec", "expected"), SIX_MONTH_CASES)
def test_at_least_six_calendar_months_on_the_line(screened, spec, expected):
    """D3: S before line start + 6 calendar months (clamped at month end) fails, whatever the responses say."""
    assert_outcomes(screened(spec).event("S"), inc_disease_control_6m=expected)


NO_ACTIVE_LINE = case(
    systemic_therapy=table("""
        drug        | start_date | end_date   | setting
        letrozole   | 2022-01-03 | 2022-06-30 | metastatic
        palbociclib | 2022-01-03 | 2022-06-30 | metastatic
    """)
)


def test_without_an_active_line_disease_control_fails(screened):
    """D16: no line active (therapy stopped months ago): no therapy to have been on, so disease control fails."""
    result = screened(NO_ACTIVE_LINE)
    assert result.event_ids() == []
    assert_outcomes(result.patient, inc_disease_control_6m="fail", inc_therapy_class="fail", inc_line_1_or_2="fail")
