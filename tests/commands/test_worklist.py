"""The site worklist lists exactly the patients a coordinator can still register at the cut-off.

Generated around the spec baseline (one patient, screening scan S, confirmation PET at S + 42): the cut-off moves
from before S to after the window closes (S + 52), and the patient may have died on any day around it. A patient
is listed when the event is known at the cut-off (S on or before it), the registration window has not closed
(cut-off on or before S + 52, criteria.md inc_imaging_window in worklist mode) and no death is recorded on or
before the cut-off (a death after it is not yet known: criteria.md "Time"). Listed, the deadlines are S's.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.api import screen
from oligo_cohort.worklist import WORKLIST_COLUMNS, worklist_relation
from tests.spec.baseline import S, days_after
from tests.spec.harness import build_case
from tests.spec.tables import table

LATEST = 52  # S + 52: the last day to register under the current protocol
# Days after S around every boundary: S itself, the PET due (S + 42), the window opening (S + 46) and closing.
AROUND = st.one_of(st.sampled_from([-1, 0, 1, 41, 42, 45, 46, 47, 49, 51, 52, 53]), st.integers(-2, LATEST + 3))


def _screened(cut_off: int, died: int | None, engine: str):
    death = "" if died is None else days_after(S, died)
    patients = table(f"""
        patient_id | site_id | birth_date | sex | death_date
        p1         | AVL     | 1965-03-15 | F   | {death}
    """)
    one = build_case(as_of=days_after(S, cut_off), worklist=True, patients=patients)
    return screen(one.source(), as_of=one.as_of, worklist=True, engine=engine)


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut_off=AROUND,
    died=st.one_of(st.none(), AROUND),
)
def test_the_worklist_lists_exactly_the_patients_who_can_still_be_registered(engine, cut_off, died):
    listed = worklist_relation(_screened(cut_off, died, engine)).df()
    assert list(listed.columns) == list(WORKLIST_COLUMNS)
    dead_by_cut_off = died is not None and died <= cut_off
    expected = 0 <= cut_off <= LATEST and not dead_by_cut_off
    assert len(listed) == int(expected), f"cut-off S + {cut_off}, died S + {died}: {listed.to_dict('records')}"
    if expected:
        row = listed.iloc[0]
        assert row["screening_date"] == S
        assert row["registration_from"] == days_after(S, 46)
        assert row["registration_deadline"] == days_after(S, LATEST)
        assert row["days_left"] == LATEST - cut_off


@pytest.mark.parametrize("died", [46, 47, 50])
def test_a_patient_who_died_in_the_open_window_is_not_on_the_worklist(died):
    """Dying on S + 46 or later passes inc_imaging_window (D22), yet no one can be registered after their death."""
    result = _screened(50, died, "duckdb")
    assert result.patients["inc_imaging_window"].tolist() == ["pass"]
    assert worklist_relation(result).df().empty
