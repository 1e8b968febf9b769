"""An extract already held by Spark (a data lake): typed and cut off in Spark, never passing through DuckDB."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from oligo_cohort.counts_in_words import names_of
from oligo_cohort.engines.spark.handoff import SPARK_INPUT_MARKER, arrow_table
from oligo_cohort.engines.spark.program import staging_sql
from oligo_cohort.engines.spark.session import session
from oligo_cohort.errors import UsageError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from oligo_cohort.load import LoadedExtract


@dataclass(frozen=True)
class SparkTables:
    """An extract held by Spark: tables named as in the data model, in `database` (None: the current one).

    The tables must already hold the loaded-table contract of docs/design.md (typed columns; codes normalised as
    the loader does: see docs/spark.md): Spark casts each column to its model type and applies the cut-off with
    the `sql/staging` files, but does not repeat the loader's per-value validation at lake scale.
    """

    database: str | None = None
    is_spark_tables = True  # how `oligo_cohort.api.screen` tells this source apart without importing Spark

    def __str__(self) -> str:
        return f"spark:{self.database or '(current database)'}"

    def load(self, as_of: str | dt.date | None = None) -> LoadedExtract:
        """Stage the tables in Spark (typed, cut-off applied); return the loaded extract whose engine is Spark."""
        from oligo_cohort.dictionary import tables
        from oligo_cohort.load import LoadedExtract, connect, parse_as_of
        from oligo_cohort.validate import create_vocabulary

        spark = session()
        present: set[str] = set()
        for table in tables().values():
            qualified = f"{self.database}.{table.name}" if self.database else table.name
            if spark.catalog.tableExists(qualified):
                present.add(table.name)
                _typed_view(spark, table, spark.table(qualified))
            elif table.required:
                raise UsageError(f"Spark table {qualified} is missing (a required table of the data model)")
            else:
                _typed_view(spark, table, None)
        cutoff = parse_as_of(as_of) or _latest_spark_date(spark)
        spark.sql(f"SELECT DATE'{cutoff.isoformat()}' AS as_of").createOrReplaceTempView("run_cutoff")
        con = connect()
        create_vocabulary(con)
        # Staging maps drug names through the vocabulary's lookup: it must be in Spark before the staging SQL.
        spark.createDataFrame(arrow_table(con.table("drug_lookup"))).createOrReplaceTempView("drug_lookup")
        for name in tables():
            spark.sql(staging_sql(name)).createOrReplaceTempView(name)
        con.execute(f"CREATE TABLE {SPARK_INPUT_MARKER} AS SELECT ? AS source", [str(self)])
        return LoadedExtract(con, cutoff, frozenset(present), [], str(self), ())


def _typed_view(spark: SparkSession, table: Any, frame: DataFrame | None) -> None:
    """`typed_<table>`: the model's columns cast to their types (missing optional columns as NULL)."""
    from oligo_cohort.dictionary import sql_type

    spark_type = {"VARCHAR": "STRING", "DECIMAL(12, 3)": "DECIMAL(12, 3)"}
    present = set(frame.columns) if frame is not None else set()
    missing = [c.name for c in table.columns if c.required and c.name not in present]
    if frame is not None and missing:
        raise UsageError(f"Spark table {table.name} lacks the required {names_of('column', missing)}")
    columns = ["_row" if "_row" in present else "monotonically_increasing_id() + 1 AS _row"]
    for c in table.columns:
        kind = spark_type.get(sql_type(c), sql_type(c))
        value = f"CAST(`{c.name}` AS {kind})" if c.name in present else f"CAST(NULL AS {kind})"
        if c.plausible_max is not None:  # as the loader: an implausible value reads as missing
            value = f"CASE WHEN {value} <= {c.plausible_max} THEN {value} END"
        columns.append(f"{value} AS `{c.name}`")
    if frame is None:
        spark.sql(f"SELECT {', '.join(columns)} WHERE FALSE").createOrReplaceTempView(f"typed_{table.name}")
    else:
        frame.selectExpr(*columns).createOrReplaceTempView(f"typed_{table.name}")


def _latest_spark_date(spark: SparkSession) -> dt.date:
    """The default cut-off, as the loader takes it: the latest date anywhere, birth dates aside."""
    from oligo_cohort.load import _date_columns

    parts = [f"SELECT max(`{c}`) AS d FROM typed_{t}" for t, c in _date_columns() if c != "birth_date"]
    latest = spark.sql(f"SELECT max(d) AS d FROM ({' UNION ALL '.join(parts)})").collect()[0]["d"]
    if latest is None:
        raise UsageError("the Spark tables hold no dates to take a cut-off from; give --as-of YYYY-MM-DD")
    return latest
