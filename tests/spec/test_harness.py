"""The spec tests' own tools: pipe tables read as the registry would, and batched cases screened as if alone."""

from __future__ import annotations

import pytest

from oligo_cohort.criteria import CRITERION_IDS
from tests.spec.baseline import BASELINE_OUTCOMES
from tests.spec.harness import _batched_nulls, _merged, build_case, case, screen_case
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


def test_a_null_cell_is_loaded_as_a_placeholder_and_found_in_the_batch():
    """A NULL cell (a value the loader refuses to miss) loads as its type's placeholder; in a batch its `_row` is
    the merged table's row of that very cell, whatever the cases before it hold."""
    before = build_case(observations=table("code | start_date | end_date | value\nlat_amenable | 2023-03-08 | | true"))
    with_null = build_case(
        observations=table("""
            code         | start_date | end_date | value
            medical_risk | 2023-03-10 |          | true
            medical_risk | 2023-03-20 |          | NULL
        """)
    )
    assert with_null.typed_nulls == (("observations", 1, "value"),)
    assert with_null.tables["observations"].loc[1, "value"] == "true"  # the placeholder, set to NULL after loading
    merged = _merged("observations", [before, with_null])
    [(name, column, row)] = _batched_nulls([before, with_null])
    assert (name, column) == ("observations", "value")
    cell = merged.iloc[row - 1]  # `_row` numbers rows from 1
    assert (cell["patient_id"], cell["start_date"]) == (f"{with_null.prefix}p1", "2023-03-20")


def test_a_null_cell_needs_a_placeholder_of_its_column_type():
    """Only a column type with a placeholder can hold a NULL cell; elsewhere the test is told so."""
    with pytest.raises(TypeError, match="placeholder"):
        build_case(performance_status=table("assessment_date | scale | score\n2023-02-20 | ECOG | NULL"))
