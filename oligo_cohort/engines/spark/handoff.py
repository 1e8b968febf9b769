"""Tables between the DuckDB connection and Spark: the loaded tables in, the result tables back.

Two ways (`OLIGO_SPARK_HANDOFF`): `files`, Parquet written by one side into a private temporary folder and read
by the other (the default on a local master, where Spark reads this machine's files); `arrow`, Arrow tables
through the driver (the default on a cluster, whose executors cannot read the driver's temporary folder).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from oligo_cohort.engines.spark.session import is_local
from oligo_cohort.engines.spark.settings import settings
from oligo_cohort.errors import UsageError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Tables every model may read besides the input model: the vocabulary and the run's parameters.
SHIPPED_TABLES = ("drug_vocabulary", "drug_components", "params")
# Marker table in the DuckDB connection: the input tables are already staged in Spark (SparkTables).
SPARK_INPUT_MARKER = "spark_input"


def handoff_mode(spark: SparkSession) -> str:
    """`files` or `arrow`: as set, else files on a local master and arrow on a cluster."""
    chosen = settings().handoff
    if chosen and chosen not in ("files", "arrow"):
        raise UsageError(f"OLIGO_SPARK_HANDOFF={chosen!r}: choose files or arrow")
    return chosen or ("files" if is_local(spark) else "arrow")


class Workdir:
    """The handoff's way, with a temporary folder for the Parquet files (files mode), removed afterwards."""

    def __init__(self, spark: SparkSession) -> None:
        self.mode = handoff_mode(spark)
        self.path: Path | None = None

    def __enter__(self) -> Workdir:
        if self.mode == "files":
            self.path = Path(tempfile.mkdtemp(prefix="oligo-spark-", dir=settings().tmp))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)


def input_tables() -> tuple[str, ...]:
    """The data model's tables, as the loader leaves them in the DuckDB connection."""
    from oligo_cohort.dictionary import tables

    return tuple(tables())


def arrow_table(relation: duckdb.DuckDBPyRelation) -> pa.Table:
    """A DuckDB relation as one Arrow table (newer DuckDB hands out a record batch reader)."""
    arrow = relation.arrow()
    return arrow.read_all() if isinstance(arrow, pa.RecordBatchReader) else arrow


def ship(con: duckdb.DuckDBPyConnection, spark: SparkSession, work: Workdir, names: tuple[str, ...]) -> None:
    """The named DuckDB tables as Spark temporary views of the same names and types."""
    for name in names:
        if work.mode == "files":
            assert work.path is not None
            target = work.path / "in" / f"{name}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            con.table(name).write_parquet(str(target))  # the path is passed as a value, never pasted into SQL
            frame = spark.read.parquet(str(target))
        else:
            frame = spark.createDataFrame(arrow_table(con.table(name)))
        frame.createOrReplaceTempView(name)


def bring_back(results: dict[str, DataFrame], con: duckdb.DuckDBPyConnection, work: Workdir) -> None:
    """The Spark result frames as DuckDB tables of the same names (replacing any of those names)."""
    for table, frame in results.items():
        if work.mode == "files":
            assert work.path is not None
            target = work.path / "out" / table
            frame.write.mode("overwrite").parquet(str(target))
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.read_parquet(str(target / "*.parquet")).create(table)  # the path as a value, not SQL text
        else:
            con.register(f"{table}_arrow", frame.toArrow())
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table}_arrow")
            con.unregister(f"{table}_arrow")
