"""Having received more than two lines of systemic therapy for metastatic breast cancer.

Lines of therapy are counted as tests/spec/test_lines_of_therapy.py builds
them; a regimen de-escalated without adding a drug stays one line. Only lines
started on or before the screening scan S (2023-03-01) count.
"""

from __future__ import annotations

from tests.spec.cases import cases, expect
from tests.spec.variations import DIAGNOSED_2019, therapy

THIRD_LINE_AFTER_S = therapy(
    """
    drug         | start_date | end_date   | setting
    fulvestrant  | 2021-01-04 | 2021-12-31 | metastatic
    letrozole    | 2022-01-03 | 2023-03-19 | metastatic
    palbociclib  | 2022-01-03 | 2023-03-19 | metastatic
    capecitabine | 2023-03-20 |            | metastatic
    """,
    tumours=DIAGNOSED_2019,
)


@cases(
    expect(
        "a third line started after S",
        THIRD_LINE_AFTER_S,
        only=False,
        columns={"line_number": 2},
        inc_line_1_or_2="pass",
        exc_more_than_two_lines="pass",
        rule={"exc_more_than_two_lines": "within_limit"},
    )
)
def test_lines_started_after_the_scan_do_not_count(checked, spec):
    """Only lines started on or before S count: a third line started after S leaves S on line 2 of 2."""
    checked(spec)


THREE_LINES_BEFORE_S = """
    drug        | start_date | end_date   | setting
    anastrozole | 2020-01-06 | 2020-12-31 | metastatic
    fulvestrant | 2021-01-04 | 2021-12-31 | metastatic
    letrozole   | 2022-01-03 |            | metastatic
    palbociclib | 2022-01-03 |            | metastatic
"""


@cases(
    expect(
        "three lines, at most three allowed",
        therapy(THREE_LINES_BEFORE_S, tumours=DIAGNOSED_2019, parameters={"max_lines_before_scan": 3}),
        columns={"line_number": 3},
        inc_line_1_or_2="fail",
        exc_more_than_two_lines="pass",
        rule={"inc_line_1_or_2": "later_line", "exc_more_than_two_lines": "within_limit"},
    ),
)
def test_the_number_of_lines_allowed_before_the_scan_comes_from_the_protocol(checked, spec):
    """More than `max_lines_before_scan` lines started on or before S exclude: COSMO allows 2, so the third line of
    inc_line_1_or_2's cases fails; set to 3, the same three lines do not exclude, while line 3 still fails the line
    criterion (`max_line_number` 2)."""
    checked(spec)
