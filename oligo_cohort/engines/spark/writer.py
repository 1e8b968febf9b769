"""The result tables written by Spark itself as Parquet, partitioned, for results too large to read as CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

# How Spark writes the results as Parquet: result table -> partition column (None: not partitioned). The facts
# behind each best event are written as Spark decided them; their words come from the explain step in DuckDB.
OUTPUT_PARTITIONS = {"result_patients": "site_id", "result_events": "site_id", "result_facts": None}


def write_partitioned(results: dict[str, DataFrame], output: str) -> None:
    """The result tables as Parquet under `output`/<table>/, patients and events partitioned by site."""
    for table, frame in results.items():
        target = f"{output.rstrip('/')}/{table.removeprefix('result_')}"
        writer = frame.write.mode("overwrite")
        partition = OUTPUT_PARTITIONS[table]
        (writer.partitionBy(partition) if partition else writer).parquet(target)
