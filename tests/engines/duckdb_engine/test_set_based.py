"""The engine is set-based: patients never influence one another, whatever else the extract holds.

The demo extract is loaded once and copied many times with prefixed ids; every
copy must get exactly the results of the single extract.
"""

from __future__ import annotations

import duckdb
import pytest

from oligo_cohort.engines.duckdb_engine import run
from oligo_cohort.explain import explain_reasons
from oligo_cohort.load import load_extract, materialise, write_run_parameters
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.protocol import load_protocol

ID_COLUMNS = {
    "patients": ("patient_id",),
    "tumours": ("tumour_id", "patient_id"),
    "systemic_therapy": ("patient_id",),
    "imaging": ("study_id", "patient_id"),
    "lesions": ("study_id", "patient_id"),
    "response_assessments": ("patient_id",),
    "performance_status": ("patient_id",),
    "observations": ("patient_id",),
}
COPIES = 40


def demo_connection() -> duckdb.DuckDBPyConnection:
    loaded = load_extract(demo_extract_dir())
    write_run_parameters(loaded, load_protocol("cosmo"))
    return loaded.con


def unprefixed(table: str, columns: tuple[str, ...]) -> str:
    """The table with the copy prefix ("k~") stripped from the given id columns."""
    stripped = ", ".join(f"regexp_replace({c}, '^[0-9]+~', '') AS {c}" for c in columns)
    return f"SELECT * REPLACE ({stripped}) FROM {table}"


@pytest.fixture(scope="module")
def single_and_copies() -> tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection]:
    single = demo_connection()
    run(single)
    explain_reasons(single)
    copies = demo_connection()
    for table, columns in ID_COLUMNS.items():
        renamed = ", ".join(f"CAST(k.range AS VARCHAR) || '~' || t.{c} AS {c}" for c in columns)
        materialise(copies, table)  # a loaded table may be a view of its typed table
        copies.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT t.* REPLACE ({renamed}) "
            f"FROM {table} AS t CROSS JOIN range({COPIES}) AS k"
        )
    run(copies)
    explain_reasons(copies)
    return single, copies


@pytest.mark.parametrize(
    ("table", "id_columns"),
    [
        ("result_patients", ("patient_id", "event_id")),
        ("result_events", ("patient_id", "event_id", "reference_study_id")),
    ],
)
def test_every_copy_gets_the_single_extracts_result(
    single_and_copies: tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection],
    table: str,
    id_columns: tuple[str, ...],
) -> None:
    single, copies = single_and_copies
    expected = sorted(single.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
    got = sorted(copies.execute(unprefixed(table, id_columns)).fetchall(), key=repr)
    assert len(expected) > 30
    assert got == sorted(expected * COPIES, key=repr)


def test_reasons_of_every_copy_are_the_single_extracts(
    single_and_copies: tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection],
) -> None:
    single, copies = single_and_copies
    # Reasons name study ids; the copy prefix is stripped wherever an id appears.
    strip = (
        "SELECT regexp_replace(patient_id, '^[0-9]+~', ''), regexp_replace(event_id, '^[0-9]+~', ''), criterion, "
        "outcome, rule, regexp_replace(reason, '[0-9]+~', '', 'g') FROM result_reasons"
    )
    expected = sorted(single.execute("SELECT * FROM result_reasons").fetchall(), key=repr)
    assert sorted(copies.execute(strip).fetchall(), key=repr) == sorted(expected * COPIES, key=repr)
