"""The result tables written by Spark itself as Parquet, partitioned, for results too large to read as CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

# How Spark writes the results as partitioned Parquet: result table -> partition column.
OUTPUT_PARTITIONS = {"result_patients": "site_id", "result_events": "site_id", "result_reasons": "criterion"}


def write_partitioned(results: dict[str, DataFrame], output: str) -> None:
    """The result tables as Parquet under `output`/<table>/, partitioned by site (reasons by criterion)."""
    for table, frame in results.items():
        target = f"{output.rstrip('/')}/{table.removeprefix('result_')}"
        frame.write.mode("overwrite").partitionBy(OUTPUT_PARTITIONS[table]).parquet(target)
