"""Screening engines: each turns the loaded tables in a DuckDB connection into the result tables.

`duckdb` runs the SQL models in `sql/`; `pandas` is an independent second
implementation written from the same spec (double programming), against which
the first is checked; `spark` runs the same SQL files, transpiled to Spark SQL
(optional extra `oligo-cohort[spark]`, see docs/spark.md). All leave
`result_events`, `result_patients` and `result_reasons` in the connection (see
docs/design.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from oligo_cohort.errors import UsageError

if TYPE_CHECKING:
    import duckdb

ENGINES: dict[str, str] = {
    "duckdb": "oligo_cohort.engines.duckdb_engine",
    "pandas": "oligo_cohort.engines.pandas_engine",
    "spark": "oligo_cohort.engines.spark",
}

# Engines that need an optional extra (`pip install 'oligo-cohort[spark]'`, plus Java): not in the default test run.
OPTIONAL_ENGINES: dict[str, str] = {"spark": "spark"}
CORE_ENGINES: tuple[str, ...] = tuple(name for name in ENGINES if name not in OPTIONAL_ENGINES)


def engine_runner(name: str) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """The `run(con)` function of the named engine."""
    if name not in ENGINES:
        raise UsageError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    module = importlib.import_module(ENGINES[name])
    return module.run
