"""Oligoprogression during first- or second-line systemic therapy.

The line active at the screening scan S (2023-03-01) is numbered among the
metastatic lines (tests/spec/test_lines_of_therapy.py: what starts a new line).
Here the history runs anastrozole (line 1, 2020), fulvestrant (line 2, 2021),
then letrozole + palbociclib (line 3, from 2022-01-03), for a breast cancer
diagnosed metastatic in 2019.
"""

from __future__ import annotations

from tests.spec.cases import cases, expect
from tests.spec.variations import DIAGNOSED_2019, therapy

THREE_LINES = """
    drug        | start_date | end_date   | setting
    anastrozole | 2020-01-06 | 2020-12-31 | metastatic
    fulvestrant | 2021-01-04 | 2021-12-31 | metastatic
    letrozole   | 2022-01-03 |            | metastatic
    palbociclib | 2022-01-03 |            | metastatic
"""
THIRD_LINE = therapy(THREE_LINES, tumours=DIAGNOSED_2019)
THIRD_LINE_ALLOWED = therapy(THREE_LINES, tumours=DIAGNOSED_2019, parameters={"max_line_number": 3})


@cases(
    expect(
        "third line",
        THIRD_LINE,
        columns={"line_number": 3},
        inc_line_1_or_2="fail",
        exc_more_than_two_lines="fail",
        rule={"inc_line_1_or_2": "later_line", "exc_more_than_two_lines": "too_many_lines"},
    ),
    expect(
        "third line, up to line 3 allowed",
        THIRD_LINE_ALLOWED,
        columns={"line_number": 3},
        inc_line_1_or_2="pass",
        exc_more_than_two_lines="fail",
        rule={"inc_line_1_or_2": "allowed_line", "exc_more_than_two_lines": "too_many_lines"},
    ),
)
def test_a_switch_to_a_new_drug_starts_a_new_line_and_a_third_line_is_excluded(checked, spec):
    """Each switch to a drug not in the regimen is a new line: on line 3, both line criteria fail. The highest line
    allowed is the protocol's `max_line_number`: set to 3, line 3 passes, while more than two lines started before
    S still exclude."""
    checked(spec)
