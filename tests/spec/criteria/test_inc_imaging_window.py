"""The imaging that shows progression performed within 49 (+/- 3) days before registration.

Registration is planned on R = S + 49 (2023-04-19 for the baseline's S on
2023-03-01), inside the window [S + 46, S + 52]. A patient who died before the
window opened fails; in worklist mode, so does a window already closed at the
cut-off (2023-04-20 = S + 50). The earlier amendment of the protocol allowed
progression imaging up to 70 days before the local therapy (registration from
S + 35 to S + 70).
"""

from __future__ import annotations

from tests.spec.baseline import AS_OF, S, days_after, imaging_scanned_on
from tests.spec.cases import cases, expect
from tests.spec.harness import Case, case
from tests.spec.tables import table

AMENDMENT = "cosmo-earlier-amendment"


def died(days_after_s: int, *, protocol: str = "cosmo") -> Case:
    return case(
        patients=table(f"""
            patient_id | site_id | birth_date | sex | death_date
            p1         | AVL     | 1965-03-15 | F   | {days_after(S, days_after_s)}
        """),
        protocol=protocol,
    )


@cases(
    expect("died on S + 45", died(45), inc_imaging_window="fail", rule="died_before_registration"),
    expect("died on S + 46 (D22)", died(46), inc_imaging_window="pass", rule="window_open"),
    expect("died on S + 50", died(50), inc_imaging_window="pass", rule="window_open"),
)
def test_death_before_the_earliest_registration_day_fails_the_imaging_window(checked, spec):
    """D22: a patient who died before S + 46 could not be registered in time; dying on S + 46 itself does not fail."""
    checked(spec)


def scanned_before_cut_off(days: int, *, worklist: bool, protocol: str = "cosmo") -> Case:
    """S moved to `days` days before the cut-off (with its confirmation PET at S + 42)."""
    return case(imaging=imaging_scanned_on(days_after(AS_OF, -days)), worklist=worklist, protocol=protocol)


@cases(
    expect("worklist, cut-off S + 50", case(worklist=True), inc_imaging_window="pass", rule="window_open"),
    expect(
        "worklist, cut-off S + 52",
        scanned_before_cut_off(52, worklist=True),
        inc_imaging_window="pass",
        rule="window_open",
    ),
    expect(
        "worklist, cut-off S + 53",
        scanned_before_cut_off(53, worklist=True),
        inc_imaging_window="fail",
        rule="window_closed",
    ),
    expect(
        "no worklist, cut-off S + 53",
        scanned_before_cut_off(53, worklist=False),
        inc_imaging_window="pass",
        rule="window_open",
    ),
)
def test_worklist_mode_closes_the_window_after_s_plus_52(checked, spec):
    """In worklist mode a registration window already closed at the cut-off (cut-off > S + 52) fails."""
    checked(spec)


@cases(
    expect(
        "current protocol: registration from S + 46",
        died(40),
        inc_imaging_window="fail",
        rule="died_before_registration",
    ),
    expect(
        "amendment: registration from S + 35",
        died(40, protocol=AMENDMENT),
        inc_imaging_window="pass",
        rule="window_open",
    ),
)
def test_the_earlier_amendment_registers_from_s_plus_35(checked, spec):
    """A death on S + 40 closes the current window (from S + 46) but not the amendment's (from S + 35)."""
    checked(spec)


@cases(
    expect(
        "current protocol, cut-off S + 60",
        scanned_before_cut_off(60, worklist=True),
        inc_imaging_window="fail",
        rule="window_closed",
    ),
    expect(
        "amendment, cut-off S + 60",
        scanned_before_cut_off(60, worklist=True, protocol=AMENDMENT),
        inc_imaging_window="pass",
        rule="window_open",
    ),
    expect(
        "amendment, cut-off S + 70",
        scanned_before_cut_off(70, worklist=True, protocol=AMENDMENT),
        inc_imaging_window="pass",
        rule="window_open",
    ),
    expect(
        "amendment, cut-off S + 71",
        scanned_before_cut_off(71, worklist=True, protocol=AMENDMENT),
        inc_imaging_window="fail",
        rule="window_closed",
    ),
)
def test_the_earlier_amendment_keeps_the_window_open_to_s_plus_70(checked, spec):
    """In worklist mode the amendment's window stays open until S + 70 days; the current one closes after S + 52."""
    checked(spec)


@cases(expect("the baseline under the earlier amendment", case(protocol=AMENDMENT), at=None))
def test_the_amendment_changes_nothing_else(checked, spec):
    """Under the earlier amendment the baseline patient is just as eligible."""
    checked(spec)
