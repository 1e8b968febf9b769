"""Validation stores a code of a closed list as an ENUM, and every reader still reads the dictionary's types.

At a million patients the typed tables outgrow DuckDB's memory limit and spill; a code stored as text takes
sixteen bytes a value, as an ENUM of its list one (`validate.typed_tables.stored_type`). Only `stored_<table>`
holds the ENUMs: `checked_<table>` (the rules) and `typed_<table>` (staging, every engine) give every column in
its dictionary type, so nothing downstream sees an ENUM. Any text in a code column, in any case, spacing or
none of the list, is typed without an error: the typing gives a listed spelling or nothing.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.database import close, connect
from oligo_cohort.dictionary import sql_type, tables
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.sources import read_source
from oligo_cohort.sources.parquet_files import WHITE_SPACE
from oligo_cohort.synth import generate_extract
from oligo_cohort.validate import create_vocabulary, validate_and_type
from oligo_cohort.validate.storage import stored_table
from oligo_cohort.validate.typed_tables import stored_type
from tests.draws import costly_draws

CLOSED_CODES = [
    (table.name, column.name)
    for table in tables().values()
    for column in table.columns
    if column.type == "code" and column.values
]


def column_types(con, relation: str) -> dict[str, str]:
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE {relation}").fetchall()}


def dictionary_type(column) -> str:
    """The column's dictionary type as DuckDB's DESCRIBE spells it."""
    return sql_type(column).replace("DECIMAL(12, 3)", "DECIMAL(12,3)")


@pytest.fixture(scope="module")
def extracts(tmp_path_factory):
    root = tmp_path_factory.mktemp("stored-types")
    return [
        demo_extract_dir(),
        generate_extract(root / "csv", patients=40, sites=2, seed=31, fmt="csv"),
        generate_extract(root / "parquet", patients=40, sites=2, seed=32, fmt="parquet"),
    ]


def test_closed_codes_are_stored_as_enums_and_read_in_the_dictionarys_types(extracts):
    assert ("lesions", "organ") in CLOSED_CODES and ("imaging", "modality") in CLOSED_CODES
    for extract in extracts:
        con = connect()
        try:
            create_vocabulary(con)
            validate_and_type(con, read_source(extract))
            for table in tables().values():
                stored = column_types(con, stored_table(table.name))
                for view in (f"checked_{table.name}", f"typed_{table.name}"):
                    read = column_types(con, view)
                    for column in table.columns:
                        assert read[column.name] == dictionary_type(column), (view, column.name)
                for column in table.columns:
                    if (table.name, column.name) in CLOSED_CODES:
                        values = con.execute(f"SELECT enum_range(NULL::{stored_type(column)})").fetchall()[0][0]
                        assert stored[column.name].startswith("ENUM") and tuple(values) == column.values
                    else:
                        assert stored[column.name] == dictionary_type(column), (table.name, column.name)
        finally:
            close(con)


def lesion_rows(organs: list[str]) -> pa.Table:
    count = len(organs)
    return pa.table(
        {
            "study_id": ["S1"] * count,
            "patient_id": ["P1"] * count,
            "lesion_id": [f"L{k}" for k in range(count)],
            "location": ["distant"] * count,
            "organ": organs,
        }
    )


spellings = st.one_of(
    st.sampled_from(tables()["lesions"].column("organ").values).flatmap(
        lambda value: st.sampled_from([value, value.upper(), value.title(), f"  {value} ", value[:-1]])
    ),
    st.text(max_size=8),
)


@settings(max_examples=costly_draws(30), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(organs=st.lists(spellings, min_size=1, max_size=6))
def test_any_text_in_a_code_column_is_typed_and_kept_as_written_without_an_error(organs):
    source = {
        "patients": pa.table({"patient_id": ["P1"], "site_id": ["A"], "birth_date": ["1960-01-01"], "sex": ["F"]}),
        "imaging": pa.table(
            {"study_id": ["S1"], "patient_id": ["P1"], "study_date": ["2024-01-01"], "modality": ["CT"]}
        ),
        "lesions": lesion_rows(organs),
    }
    con = connect()
    try:
        create_vocabulary(con)
        validate_and_type(con, read_source(source), run_day=dt.date(2025, 1, 1))
        typed = [row[0] for row in con.execute("SELECT organ FROM typed_lesions ORDER BY _row").fetchall()]
        listed = {v.lower(): v for v in tables()["lesions"].column("organ").values}
        # Every reader trims the same white space (`sources`); a code then matches its list in any case.
        read = [o.strip(WHITE_SPACE) or None for o in organs]
        assert typed == [listed.get(o.lower()) if o is not None else None for o in read]
        # The text as written is what messages quote; it is kept beside the typed value only where it differs
        # from the listed spelling (another case, or not listed at all).
        texts = con.execute('SELECT "raw:organ", "kept:organ" FROM checked_lesions ORDER BY _row').fetchall()
        assert texts == [(o, o if o is not None and o != t else None) for o, t in zip(read, typed, strict=True)]
    finally:
        close(con)
