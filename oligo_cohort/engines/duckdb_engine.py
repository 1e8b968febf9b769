"""The DuckDB engine: runs the SQL models of `sql/derived`, `sql/criteria` and `sql/outcomes` in their run order.

Each model (`oligo_cohort.engines.models`) is one SELECT statement, which the
runner materialises as the table named after its file. Intermediate models are
temporary tables, dropped once their last reader is built; the result tables
(`oligo_cohort.results`) are ordinary tables, which the API explains and writes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import duckdb

from oligo_cohort.dictionary import tables
from oligo_cohort.engines.models import Model, engine_results, last_readers, run_order
from oligo_cohort.errors import UsageError

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
# slices of patients (by a hash of patient_id) whose results are appended. The intermediate tables take about
# 1 GB per 100,000 patients; screened at once, a million patients' spilled some 20 GB to disk, in slices 8 GB.
SLICE_PATIENTS = 250_000
SLICE_SCHEMA = "patient_slice"
SLICE_ENV = "OLIGO_COHORT_SLICE_PATIENTS"


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
    for number in range(slices):
        _screen_slice(con, number, slices)


def _slice_patients_setting() -> int:
    text = os.environ.get(SLICE_ENV, "").strip()
    if not text:
        return SLICE_PATIENTS
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"{SLICE_ENV}={text!r}: expected a whole number of patients >= 1")
    return int(text)


def _screen_slice(con: duckdb.DuckDBPyConnection, number: int, slices: int) -> None:
    """Screen the patients of one slice: its share of the input tables copied aside, the results appended to main."""
    con.execute(f"DROP SCHEMA IF EXISTS {SLICE_SCHEMA} CASCADE")
    con.execute(f"CREATE SCHEMA {SLICE_SCHEMA}")
    for table in tables():
        # Copied once per slice (the models read the big tables several times; a filtered view would hash every
        # patient_id of the whole table on each read).
        con.execute(
            f"CREATE TABLE {SLICE_SCHEMA}.{table} AS SELECT * FROM main.{table} "
            f"WHERE hash(patient_id) % {slices} = {number}"
        )
    # Unqualified names now find the slice's tables first, and new tables land in the slice's schema.
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
            build_models(con, [model])
        for table in drop_after.get(model.table, []):
            kind = "VIEW" if table in STREAMED else "TABLE"
            con.execute(f"DROP {kind} IF EXISTS temp.{table}")
