"""The Spark engine: the SQL models of `sql/` transpiled from DuckDB SQL to Spark SQL at run time and run by Spark.

One source of truth: the same files as the DuckDB engine (`models.run_order()`, rendered and run in that order), read
when the engine runs and translated with sqlglot (`read="duckdb", write="spark"`). sqlglot maps almost everything; the
few DuckDB constructs it leaves untranslated are rewritten on the parsed tree, keyed by construct, never by file
text (see `translate.REWRITES` and docs/spark.md), so a later change to the SQL flows through unchanged.

Input, either
- an extract loaded by `load_extract` (validated, typed, cut-off applied, in DuckDB): its tables are handed to
  Spark as Parquet files in a temporary folder (local master) or as Arrow tables (a cluster); or
- `SparkTables(database)`: tables of the data model already held by Spark (a data lake); the cut-off is applied
  in Spark by the transpiled `sql/staging` files.

The three result tables come back into the DuckDB connection (so the usual writer produces the same CSV files);
with `output` set (`OLIGO_SPARK_OUTPUT`, `--spark-output`) Spark also writes them as Parquet partitioned by site
(reasons by criterion).

The rooms, each one concern:
- `settings`: what the environment and `configure` ask for;
- `session`: the Spark session, made or joined, and the SQL settings the models rely on;
- `translate`: one DuckDB statement as Spark SQL (sqlglot plus the rewrites);
- `program`: a model as Spark runs it (recursive CTEs as iterated steps), and running it;
- `handoff`: tables between the DuckDB connection and Spark;
- `tables`: an extract already held by Spark (`SparkTables`);
- `writer`: the results as partitioned Parquet;
- `engine`: `run`, the engine's entry point: hand over, build every model in order, write, bring back.

Nothing here imports pyspark or sqlglot until the engine runs, so the package imports without the extra.
"""

from __future__ import annotations

from oligo_cohort.engines.spark.engine import build, run
from oligo_cohort.engines.spark.program import Program, Step, plan, run_program, spark_program, spark_sql
from oligo_cohort.engines.spark.session import session
from oligo_cohort.engines.spark.settings import SparkSettings, configure, settings
from oligo_cohort.engines.spark.tables import SparkTables
from oligo_cohort.engines.spark.translate import REWRITES, transpile

__all__ = [
    "REWRITES",
    "Program",
    "SparkSettings",
    "SparkTables",
    "Step",
    "build",
    "configure",
    "plan",
    "run",
    "run_program",
    "session",
    "settings",
    "spark_program",
    "spark_sql",
    "transpile",
]
