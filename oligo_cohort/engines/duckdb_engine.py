"""The DuckDB engine: runs the SQL models of `sql/derived`, `sql/criteria` and `sql/outcomes` in their run order.

Each model (`oligo_cohort.engines.models`) is one SELECT statement, which the
runner materialises as the table named after its file. Intermediate models are
temporary tables, dropped once their last reader is built; the result tables
(`oligo_cohort.results`) are ordinary tables, which the API explains and writes.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from oligo_cohort.database import whole_number_setting
from oligo_cohort.dictionary import tables
from oligo_cohort.engines.models import Model, engine_results, last_readers, run_order
from oligo_cohort.patient_ranges import PatientRange, patient_ranges, range_tests
from oligo_cohort.progress import stage

__all__ = ["Model", "build_models", "last_readers", "run", "run_order"]


def __getattr__(name: str) -> object:
    """`MODELS` and `ENGINE_RESULTS`, as `oligo_cohort.engines.models` derives them (when first asked for)."""
    from oligo_cohort.engines import models

    return getattr(models, name)


# Models that `run` creates as views, not tables: each is read once, by one later model, which then streams
# through it instead of storing it. Both have a row per lesion per scan (tens of millions for a national
# registry): reference_lesions is read only by lesion_progression, lesion_progression only by
# progressing_lesions, which keeps the quarter of its rows that can count.
STREAMED: frozenset[str] = frozenset({"reference_lesions", "lesion_progression"})


def build_models(con: duckdb.DuckDBPyConnection, models: Iterable[Model] | None = None) -> None:
    """Materialise the given models (all, by default) in order, keeping every table (tests inspect the
    intermediate ones)."""
    for model in run_order() if models is None else models:
        kind = "TABLE" if model.is_result else "TEMP TABLE"
        try:
            con.execute(f"CREATE OR REPLACE {kind} {model.table} AS {model.sql()}")
        except duckdb.Error as exc:
            raise RuntimeError(f"SQL model sql/{model.path}.sql failed: {exc}") from exc


# Patients screened at once. Every criterion is decided within one patient, so a large extract is screened in
# slices of patients (consecutive ranges of patient_id) whose results are appended. The intermediate tables take
# about 1 GB per 100,000 patients; screened at once, a million patients' spilled some 20 GB to disk, in slices 8 GB.
SLICE_PATIENTS = 250_000
SLICE_SCHEMA = "patient_slice"
SLICE_ENV = "OLIGO_COHORT_SLICE_PATIENTS"
# The range of patient_id of the slice being screened, as DuckDB variables: the slice's views read them, so no
# patient id is ever written into SQL text.
_SLICE_VARIABLES = {">=": "oligo_cohort_slice_low", "<": "oligo_cohort_slice_high"}  # by the test on patient_id


def run(con: duckdb.DuckDBPyConnection, *, slice_patients: int | None = None) -> None:
    """Screen the loaded tables in `con`: leave result_events, result_patients and result_reasons in it.

    Up to `slice_patients` patients (default `SLICE_PATIENTS`, or `OLIGO_COHORT_SLICE_PATIENTS`) are screened
    at once; the results do not depend on it (tests/engines/test_determinism.py).
    """
    size = slice_patients or _slice_patients_setting()
    patients = con.execute("SELECT count(*) FROM main.patients").fetchall()[0][0]
    slices = max(1, -(-patients // size))
    if slices == 1:
        _run_models(con)
        return
    for number, (low, high) in enumerate(_slice_bounds(con, slices)):
        _screen_slice(con, number, low, high)


def _slice_patients_setting() -> int:
    return whole_number_setting(SLICE_ENV, "patients") or SLICE_PATIENTS


def _slice_bounds(con: duckdb.DuckDBPyConnection, slices: int) -> list[PatientRange]:
    """The patient_id range [low, high) of each slice, about equal in patients (None: unbounded).

    Validation has made every patient_id present and unique in the patients table, and present in every other
    table, so the ranges share out every row of every table.
    """
    return patient_ranges(con, "main.patients", slices)


def _screen_slice(con: duckdb.DuckDBPyConnection, number: int, low: str | None, high: str | None) -> None:
    """Screen the patients of one slice, those with low <= patient_id < high: the results appended to main.

    Each input table is read through a view keeping the slice's rows. The filter is a range of patient_id, which
    DuckDB applies inside the scan and checks against each row group's smallest and largest patient_id: an
    extract ordered by patient (as most are) is read only where the slice lies, and nothing is copied. (A slice
    by hash of patient_id had every table copied once per slice, hashing each row of it: a quarter of the time
    at a million patients.)
    """
    con.execute(f"DROP SCHEMA IF EXISTS {SLICE_SCHEMA} CASCADE")
    con.execute(f"CREATE SCHEMA {SLICE_SCHEMA}")
    bounds = []
    for test, value in range_tests((low, high)):
        variable = _SLICE_VARIABLES[test]
        con.execute(f"SET VARIABLE {variable} = ?", [value])
        bounds.append(f"patient_id {test} getvariable('{variable}')")
    for table in tables():
        con.execute(f"CREATE VIEW {SLICE_SCHEMA}.{table} AS SELECT * FROM main.{table} WHERE {' AND '.join(bounds)}")
    # Unqualified names now find the slice's views first, and new tables land in the slice's schema.
    con.execute(f"SET search_path = '{SLICE_SCHEMA},main'")
    try:
        _run_models(con)
    finally:
        con.execute("RESET search_path")
    for table in engine_results():
        if number == 0:
            con.execute(f"CREATE OR REPLACE TABLE main.{table} AS SELECT * FROM {SLICE_SCHEMA}.{table}")
        else:
            con.execute(f"INSERT INTO main.{table} SELECT * FROM {SLICE_SCHEMA}.{table}")
    con.execute(f"DROP SCHEMA {SLICE_SCHEMA} CASCADE")
    for variable in _SLICE_VARIABLES.values():
        con.execute(f"RESET VARIABLE {variable}")


def _run_models(con: duckdb.DuckDBPyConnection) -> None:
    """Run every model in order; each intermediate table is dropped as soon as its last reader is built.

    That keeps the peak memory close to that of the few tables alive at once.
    """
    last = last_readers()
    drop_after: dict[str, list[str]] = {}
    for table, reader in last.items():
        while reader in STREAMED and reader != table:
            reader = last[reader]  # a view reads its inputs only when its own reader is built
        drop_after.setdefault(reader, []).append(table)
    for model in run_order():
        if model.table in STREAMED:
            con.execute(f"CREATE OR REPLACE TEMP VIEW {model.table} AS {model.sql()}")
        else:
            # A stage per model (inside the engine's): `make bench` and `--verbose` show what each one costs, a
            # streamed view's cost inside its reader's. Screened in slices, a model is a stage once per slice.
            with stage(model.table):
                build_models(con, [model])
        for table in drop_after.get(model.table, []):
            kind = "VIEW" if table in STREAMED else "TABLE"
            con.execute(f"DROP {kind} IF EXISTS temp.{table}")
