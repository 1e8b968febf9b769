"""WHO performance status 0 or 1.

The latest assessment in [S - 60 days, R] decides. S is 2023-03-01 and
R = S + 49 = 2023-04-19, so the window is [2022-12-31, 2023-04-19]. The
baseline records ECOG 0 on 2023-02-20.
"""

from __future__ import annotations

from tests.spec.baseline import WITHOUT_OPTIONAL_TABLES
from tests.spec.cases import cases, expect
from tests.spec.harness import Case, case
from tests.spec.tables import table
from tests.spec.variations import STABLE_LESIONS, WITHOUT_EVENT


def performance(rows: str, **settings: object) -> Case:
    """The baseline with these assessments (`assessment_date | scale | score` per line)."""
    return case(performance_status=table("assessment_date | scale | score\n" + rows), **settings)  # type: ignore[arg-type]


@cases(
    expect("WHO 0", performance("2023-02-20 | WHO | 0"), inc_who_ps_0_1="pass", rule="good"),
    expect("WHO 1", performance("2023-02-20 | WHO | 1"), inc_who_ps_0_1="pass", rule="good"),
    expect("ECOG 1", performance("2023-02-20 | ECOG | 1"), inc_who_ps_0_1="pass", rule="good"),
    expect("WHO 2", performance("2023-02-20 | WHO | 2"), inc_who_ps_0_1="fail", rule="poor"),
    expect("ECOG 3", performance("2023-02-20 | ECOG | 3"), inc_who_ps_0_1="fail", rule="poor"),
    expect("KPS 100", performance("2023-02-20 | KPS | 100"), inc_who_ps_0_1="pass", rule="kps_good"),
    expect("KPS 80", performance("2023-02-20 | KPS | 80"), inc_who_ps_0_1="pass", rule="kps_good"),
    expect("KPS 70", performance("2023-02-20 | KPS | 70"), inc_who_ps_0_1="unknown", rule="kps_ambiguous"),
    expect("KPS 60", performance("2023-02-20 | KPS | 60"), inc_who_ps_0_1="fail", rule="kps_poor"),
    expect("KPS 40", performance("2023-02-20 | KPS | 40"), inc_who_ps_0_1="fail", rule="kps_poor"),
    expect("KPS 75 (D19)", performance("2023-02-20 | KPS | 75"), inc_who_ps_0_1="unknown", rule="kps_ambiguous"),
    expect("KPS 65 (D19)", performance("2023-02-20 | KPS | 65"), inc_who_ps_0_1="unknown", rule="kps_ambiguous"),
)
def test_performance_status_scores(checked, spec):
    """WHO/ECOG 0-1 or KPS 80+ pass; WHO/ECOG 2+ or KPS 60 or less fail; KPS between them is unknown (D19)."""
    checked(spec)


@cases(
    expect("on S - 60", performance("2022-12-31 | ECOG | 0"), inc_who_ps_0_1="pass", rule="good"),
    expect("on S - 61 only", performance("2022-12-30 | ECOG | 0"), inc_who_ps_0_1="unknown", rule="none_in_window"),
    expect("on R", performance("2023-04-19 | ECOG | 0"), inc_who_ps_0_1="pass", rule="good"),
    expect("after R only", performance("2023-04-20 | ECOG | 0"), inc_who_ps_0_1="unknown", rule="none_in_window"),
    expect(
        "latest is 1", performance("2023-01-10 | ECOG | 2\n2023-03-20 | ECOG | 1"), inc_who_ps_0_1="pass", rule="good"
    ),
    expect(
        "latest is 2", performance("2023-01-10 | ECOG | 1\n2023-03-20 | ECOG | 2"), inc_who_ps_0_1="fail", rule="poor"
    ),
    expect(
        "an old 3 before the window",
        performance("2022-11-01 | ECOG | 3\n2023-02-20 | ECOG | 0"),
        inc_who_ps_0_1="pass",
        rule="good",
    ),
    expect(
        "1 and 2 on one day (D18)",
        performance("2023-02-20 | ECOG | 1\n2023-02-20 | ECOG | 2"),
        inc_who_ps_0_1="fail",
        rule="poor",
    ),
    expect(
        "1 and KPS 70 on one day",
        performance("2023-02-20 | ECOG | 1\n2023-02-20 | KPS | 70"),
        inc_who_ps_0_1="unknown",
        rule="kps_ambiguous",
    ),
    expect("table present, no assessment", performance(""), inc_who_ps_0_1="unknown", rule="none_in_window"),
)
def test_latest_performance_status_from_60_days_before_s_to_registration(checked, spec):
    """The latest assessment in [S - 60 days, R] decides; several on that day give the worst (D18); none is unknown."""
    checked(spec)


@cases(
    expect(
        "on S - 61 only, window from S - 90",
        performance("2022-12-30 | ECOG | 0", parameters={"performance_status_window_days": 90}),
        inc_who_ps_0_1="pass",
        rule="good",
    )
)
def test_the_performance_status_window_comes_from_the_protocol(checked, spec):
    """The window opens `performance_status_window_days` before S: with 90 days, an assessment on S - 61 counts."""
    checked(spec)


@cases(
    expect(
        "only the required tables",
        case(**WITHOUT_OPTIONAL_TABLES),
        only=False,
        inc_who_ps_0_1="unknown",
        rule="no_performance_table",
    )
)
def test_without_a_performance_status_table_it_is_unknown(checked, spec):
    """An extract without the optional performance_status table cannot show WHO 0-1: unknown."""
    checked(spec)


@cases(
    expect(
        "no event, ECOG 0 on the cut-off - 60",
        performance("2023-02-19 | ECOG | 0", lesions=STABLE_LESIONS),
        at=None,
        events=[],
        inc_who_ps_0_1="pass",
        rule={"inc_who_ps_0_1": "good"},
        **WITHOUT_EVENT,
    ),
    expect(
        "no event, ECOG 0 on the cut-off - 61 only",
        performance("2023-02-18 | ECOG | 0", lesions=STABLE_LESIONS),
        at=None,
        events=[],
        inc_who_ps_0_1="unknown",
        rule={"inc_who_ps_0_1": "none_in_window"},
        **WITHOUT_EVENT,
    ),
)
def test_without_an_event_the_window_ends_on_the_cut_off(checked, spec):
    """criteria.md "Time": a patient with no event is evaluated with S = R = as_of (D33), so the window is
    [as_of - 60 days, as_of] = [2023-02-19, 2023-04-20]; an assessment a day before it leaves performance status
    unknown (for an event on S the window opens on 2022-12-31, and both would count)."""
    checked(spec)
