"""The spec tests' own tools: pipe tables read as the registry would, and batched cases screened as if alone."""

from __future__ import annotations

import pytest

from oligo_cohort.criteria import CRITERION_IDS
from tests.spec.baseline import BASELINE_OUTCOMES
from tests.spec.harness import build_case, case, screen_case
from tests.spec.tables import table


def test_a_pipe_table_reads_as_text_with_blank_cells_missing():
    """Cells are text as in a CSV file (ids keep their leading zeros); a blank cell, also the last one, is missing."""
    frame = table("""
        patient_id | size_mm | end_date
        007        | 12.50   |
        p2         |         | 2023-01-31
    """)
    assert list(frame.columns) == ["patient_id", "size_mm", "end_date"]
    assert frame.to_dict("records") == [
        {"patient_id": "007", "size_mm": "12.50", "end_date": None},
        {"patient_id": "p2", "size_mm": None, "end_date": "2023-01-31"},
    ]


def test_a_ragged_pipe_table_is_refused():
    """A row with more or fewer cells than the header is a mistake in the test, not a missing value."""
    with pytest.raises(ValueError, match="cells"):
        table("a | b\n1 | 2 | 3")


def test_a_case_gives_every_table_all_its_columns():
    """Columns a test leaves out are added as missing, and rows without a patient belong to p1."""
    tumours = build_case().tables["tumours"]
    assert tumours is not None
    assert tumours.loc[0, "patient_id"] == "p1"
    assert tumours.loc[0, "last_treatment_date"] is None
    with pytest.raises(TypeError, match="not a table"):
        build_case(scans=table("a\n1"))


# Two patients in one case, so the batch holds several patients per case next to other cases.
TWO_PATIENTS = case(
    patients=table("""
        patient_id | site_id | birth_date | sex
        p1         | AVL     | 1965-03-15 | F
        p2         | UMCU    | 2010-06-01 | F
    """)
)


def test_a_batched_case_gives_what_it_gives_screened_alone(screened, engine):
    """Screening a case among all the others gives exactly the rows it gives on its own (ids unprefixed)."""
    batched = screened(TWO_PATIENTS)
    alone = screen_case(engine, patients=TWO_PATIENTS.tables["patients"])
    for name in ("patients", "events", "reasons"):
        assert getattr(batched, name).to_dict("records") == getattr(alone, name).to_dict("records"), name
    assert {c: batched.patient[c] for c in CRITERION_IDS} == BASELINE_OUTCOMES
    assert batched.patient_row("p2")["inc_age_18"] == "fail"
