"""Disease control: at least six months on the line, with stable disease or a response and no progression.

`S < line start + 6 calendar months`, or a PD assessment strictly between the
line start and S → fail; else a CR/PR/SD strictly between them → pass; else
unknown. The baseline line starts 2022-01-03 and S is 2023-03-01.
"""

from __future__ import annotations

from tests.spec.baseline import WITHOUT_OPTIONAL_TABLES, days_after
from tests.spec.cases import SpecCase, cases, expect
from tests.spec.harness import Case, case
from tests.spec.tables import table
from tests.spec.variations import DIAGNOSED_2019, responses

# The rule of each outcome among responses recorded during the line (six months on the line reached).
RULE = {"pass": "disease_controlled", "fail": "progression_on_line", "unknown": "no_response_recorded"}


def on_s(title: str, given: Case, outcome: str, **expected: object) -> SpecCase:
    """inc_disease_control_6m has this outcome on S, by the rule the responses give."""
    return expect(title, given, inc_disease_control_6m=outcome, rule=RULE[outcome], **expected)  # type: ignore[arg-type]


@cases(
    on_s("stable disease", responses("2022-06-15 | SD\n2022-12-15 | SD"), "pass"),
    on_s("partial response", responses("2022-06-15 | PR"), "pass"),
    on_s("complete response", responses("2022-06-15 | CR"), "pass"),
    on_s(
        "PD between",
        responses("2022-06-15 | SD\n2022-09-01 | PD\n2022-12-15 | SD"),
        "fail",
    ),
    on_s("PD on the line start day", responses("2022-01-03 | PD\n2022-12-15 | SD"), "pass"),
    on_s("PD on the day of S", responses("2023-03-01 | PD\n2022-12-15 | SD"), "pass"),
    on_s("PD before the line", responses("2021-12-10 | PD\n2022-12-15 | SD"), "pass"),
    on_s("not evaluable only", responses("2022-06-15 | NE"), "unknown"),
    on_s("assessments only outside", responses("2021-12-10 | SD\n2023-03-10 | SD"), "unknown"),
    on_s(
        "SD only on the boundary days",
        responses("2022-01-03 | SD\n2023-03-01 | SD"),
        "unknown",
    ),
    on_s("table present, no assessment", responses(""), "unknown"),
)
def test_responses_strictly_between_line_start_and_scan(checked, spec):
    """PD strictly between line start and S fails; else a CR/PR/SD strictly between passes; else unknown."""
    checked(spec)


def line_started(
    start: str, *, s_date: str = "2023-03-01", ref_date: str = "2022-08-25", optional_tables: bool = True, **settings
) -> Case:
    """Letrozole + palbociclib from `start`, the reference CT on `ref_date`, screening scan S on `s_date`."""
    tables = {
        "systemic_therapy": table(f"""
            drug        | start_date | end_date | setting
            letrozole   | {start}    |          | metastatic
            palbociclib | {start}    |          | metastatic
        """),
        "imaging": table(f"""
            study_id | study_date | modality
            ref      | {ref_date} | CT
            S        | {s_date}   | CT
            pet      | 2023-04-12 | FDG-PET-CT
        """),
    }
    # The baseline's stable disease on 2022-12-15 lies within every one of these lines.
    return case(**tables, **settings) if optional_tables else case(**tables, **WITHOUT_OPTIONAL_TABLES, **settings)


@cases(
    expect(
        "S exactly 6 months after the start",
        line_started("2022-09-01"),
        only=False,
        inc_disease_control_6m="pass",
        rule="disease_controlled",
    ),
    expect(
        "S one day short of 6 months",
        line_started("2022-09-02"),
        only=False,
        inc_disease_control_6m="fail",
        rule="too_soon",
    ),
    expect(
        "31 Aug + 6 months = 28 Feb",
        line_started("2022-08-31", s_date="2023-02-28"),
        only=False,
        inc_disease_control_6m="pass",
        rule="disease_controlled",
    ),
    expect(
        "31 Aug, S on 27 Feb",
        line_started("2022-08-31", s_date="2023-02-27"),
        only=False,
        inc_disease_control_6m="fail",
        rule="too_soon",
    ),
    expect(
        "too short, no response table",
        line_started("2022-09-02", optional_tables=False),
        only=False,
        inc_disease_control_6m="fail",
        rule="too_soon",
    ),
    expect(
        "long enough, no response table",
        line_started("2022-09-01", optional_tables=False),
        only=False,
        inc_disease_control_6m="unknown",
        rule="no_response_table",
    ),
)
def test_at_least_six_calendar_months_on_the_line(checked, spec):
    """D3: S before line start + 6 calendar months (clamped at month end) fails, whatever the responses say."""
    checked(spec)


@cases(
    expect(
        "four months on the line, six required",
        line_started("2022-11-01", ref_date="2022-10-20"),
        inc_disease_control_6m="fail",
        rule="too_soon",
    ),
    expect(
        "four months on the line, four required",
        line_started("2022-11-01", ref_date="2022-10-20", parameters={"min_months_on_line": 4}),
        inc_disease_control_6m="pass",
        rule="disease_controlled",
    ),
)
def test_the_months_required_on_the_line_come_from_the_protocol(checked, spec):
    """The time on the line is the protocol's `min_months_on_line`: four calendar months after a start on
    1 November 2022 is S itself, too soon for COSMO's six, enough when the parameter is 4."""
    checked(spec)


NO_ACTIVE_LINE = case(
    systemic_therapy=table("""
        drug        | start_date | end_date   | setting
        letrozole   | 2022-01-03 | 2022-06-30 | metastatic
        palbociclib | 2022-01-03 | 2022-06-30 | metastatic
    """)
)


@cases(
    expect(
        "therapy stopped eight months before S",
        NO_ACTIVE_LINE,
        at=None,
        only=False,
        events=[],
        inc_disease_control_6m="fail",
        inc_therapy_class="fail",
        inc_line_1_or_2="fail",
        rule={"inc_disease_control_6m": "no_active_line", "inc_therapy_class": "no_active_line"},
    )
)
def test_without_an_active_line_disease_control_fails(checked, spec):
    """D16: no line active (therapy stopped months ago): no therapy to have been on, so disease control fails."""
    checked(spec)


# Two response assessments on one day: criteria.md, "any PD assessment strictly between line start and S -> fail;
# else at least one CR/PR/SD strictly between them -> pass". Two assessments of one day are both between them.
@cases(
    on_s(
        "PR and SD",
        responses("2022-06-15 | PR\n2022-06-15 | SD"),
        "pass",
        says={"inc_disease_control_6m": "SD assessed on 2022-06-15"},
    ),
    on_s(
        "CR and PR",
        responses("2022-06-15 | CR\n2022-06-15 | PR"),
        "pass",
        says={"inc_disease_control_6m": "PR assessed on 2022-06-15"},
    ),
    on_s(
        "SD and PD",
        responses("2022-06-15 | SD\n2022-06-15 | PD"),
        "fail",
        says={"inc_disease_control_6m": "(PD) assessed on 2022-06-15"},
    ),
    on_s(
        "NE and SD",
        responses("2022-06-15 | NE\n2022-06-15 | SD"),
        "pass",
        says={"inc_disease_control_6m": "SD assessed on 2022-06-15"},
    ),
    on_s(
        "the latest day's least favourable",
        responses("2022-06-15 | SD\n2022-12-15 | CR\n2022-12-15 | PR"),
        "pass",
        says={"inc_disease_control_6m": "PR assessed on 2022-12-15"},
    ),
)
def test_two_assessments_on_one_day(checked, spec):
    """A PD among a day's assessments fails whatever else that day holds; otherwise the criterion passes. The
    reason quotes the latest CR/PR/SD and, of two on that day, the least favourable (SD, then PR, then CR), so it
    never claims more control than was recorded (D34); every engine records the same."""
    checked(spec)


def second_line(rows: str, *, start: str, ref_date: str, **replaced: object) -> Case:
    """Anastrozole as line 1, then the line 2 rows given from `start`; the reference CT on `ref_date`."""
    return case(
        tumours=DIAGNOSED_2019,
        systemic_therapy=table(f"""
            drug        | start_date | end_date   | setting
            anastrozole | 2020-01-06 | {days_after(start, -3)} | metastatic
            {rows}
        """),
        imaging=table(f"""
            study_id | study_date | modality
            ref      | {ref_date} | CT
            S        | 2023-03-01 | CT
            pet      | 2023-04-12 | FDG-PET-CT
        """),
        **replaced,  # type: ignore[arg-type]
    )


@cases(
    expect(
        "line 2 started five months before S, three years on therapy",
        second_line("capecitabine | 2022-10-03 | | metastatic", start="2022-10-03", ref_date="2022-09-20"),
        columns={"line_number": 2},
        inc_disease_control_6m="fail",
        rule="too_soon",
    ),
    expect(
        "PD on line 1 only, SD on line 2",
        second_line(
            "letrozole | 2022-01-03 | | metastatic\npalbociclib | 2022-01-03 | | metastatic",
            start="2022-01-03",
            ref_date="2021-12-20",
            response_assessments=table("assessment_date | response\n2021-11-15 | PD\n2022-06-15 | SD"),
        ),
        columns={"line_number": 2},
        inc_disease_control_6m="pass",
        rule="disease_controlled",
    ),
)
def test_the_six_months_and_the_responses_are_those_of_the_line_active_at_s(checked, spec):
    """criteria.md: `S < line start + 6 months` fails and a PD strictly between line start and S fails, the line
    being the one active at S. Line 2 started five months before S fails, however long line 1 lasted; the PD that
    ended line 1 lies before line 2's start and does not count against it."""
    checked(spec)
