"""The engine's entry point: hand the tables to Spark, build every model in order, write, bring the results back."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from oligo_cohort.database import has_table
from oligo_cohort.engines.models import engine_results, last_readers, run_order
from oligo_cohort.engines.spark.handoff import (
    SHIPPED_TABLES,
    SPARK_INPUT_MARKER,
    Workdir,
    bring_back,
    input_tables,
    ship,
)
from oligo_cohort.engines.spark.program import run_program, spark_program
from oligo_cohort.engines.spark.session import session
from oligo_cohort.engines.spark.settings import settings
from oligo_cohort.engines.spark.writer import write_partitioned

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def run(con: duckdb.DuckDBPyConnection) -> None:
    """Screen the loaded tables in `con` with Spark: leave result_events, result_patients and result_facts in it."""
    spark = session()
    with Workdir(spark) as work:
        if has_table(con, SPARK_INPUT_MARKER):
            ship(con, spark, work, SHIPPED_TABLES)  # input tables already staged in Spark
        else:
            ship(con, spark, work, (*input_tables(), *SHIPPED_TABLES))
        results = build(spark)
        try:
            output = settings().output
            if output:
                write_partitioned(results, output)
            bring_back(results, con, work)
        finally:
            for frame in results.values():
                frame.unpersist()


def build(spark: SparkSession) -> dict[str, DataFrame]:
    """Materialise every model in order as a temporary view; return the (cached) result tables.

    Each intermediate model is computed once (checkpointed) and released after its last reader, like the DuckDB
    engine's drops.
    """
    drop_after: dict[str, list[str]] = {}
    for table, reader in last_readers().items():
        drop_after.setdefault(reader, []).append(table)
    cached: dict[str, DataFrame] = {}
    for model in run_order():
        try:
            cached[model.table] = run_program(spark, spark_program(model), model.table)
        except Exception as exc:
            raise RuntimeError(f"SQL model sql/{model.path}.sql failed on Spark: {exc}") from exc
        for table in drop_after.get(model.table, []):
            cached.pop(table).unpersist()
            spark.catalog.dropTempView(table)
    return {table: cached[table] for table in engine_results()}
