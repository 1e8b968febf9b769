"""The Python API: screen an extract, look at the result, write it, read it back.

>>> from oligo_cohort.api import screen
>>> result = screen("my_extract/", as_of="2024-06-30")
>>> result                                  # counts by status, cut-off, protocol, engine, findings
>>> result.patients.status.value_counts()   # typed: statuses and outcomes are categoricals, dates are dates
>>> result.to_polars("reasons")
>>> result.write("screen-out/")

An extract is a folder, a DuckDB file, or a dict of tables ({"patients": frame, ...}) where each table is a
pandas or polars DataFrame or an Arrow table.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from oligo_cohort.database import create_table
from oligo_cohort.engines import engine_runner
from oligo_cohort.errors import UsageError
from oligo_cohort.explain import EXPLAIN_CHOICES, Explain, explain_reasons
from oligo_cohort.load import LoadedExtract, load_extract, release_loaded_tables, write_run_parameters
from oligo_cohort.problems import PROBLEM_COLUMNS, classified, problem_rows
from oligo_cohort.progress import stage
from oligo_cohort.protocol import Protocol, load_protocol
from oligo_cohort.screening_result import STATUS_ORDER, ScreeningResult
from oligo_cohort.sources import ExtractSource

__all__ = ["STATUS_ORDER", "ScreeningResult", "read_screen_dir", "screen"]


def screen(
    source: ExtractSource,
    *,
    as_of: str | dt.date | None = None,
    protocol: str | Path | Protocol = "cosmo",
    engine: str = "duckdb",
    worklist: bool = False,
    explain: Explain = "best-event",
) -> ScreeningResult:
    """Screen an extract (folder, DuckDB file or dict of DataFrames) for COSMO eligibility.

    `explain="all-events"` gives reasons for every candidate event, not only each patient's best.

    With `engine="spark"` the source may also be `oligo_cohort.engines.spark.SparkTables(database)`:
    tables of the data model held by Spark (docs/spark.md).
    """
    run = engine_runner(engine)
    chosen = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    if getattr(source, "is_spark_tables", False):
        if engine != "spark":
            raise UsageError("Spark tables can only be screened with engine='spark'")
        loaded = source.load(as_of=as_of)  # type: ignore[union-attr]
        return _screen_loaded(loaded, chosen, engine=engine, worklist=worklist, explain=explain, runner=run)
    loaded = load_extract(source, as_of=as_of)
    return _screen_loaded(
        loaded, chosen, engine=engine, worklist=worklist, explain=explain, runner=run, release_inputs=True
    )


def _screen_loaded(
    loaded: LoadedExtract,
    protocol: Protocol,
    *,
    engine: str = "duckdb",
    worklist: bool = False,
    explain: Explain = "best-event",
    runner=None,
    release_inputs: bool = False,
) -> ScreeningResult:
    """Screen a loaded extract; the result tables live in (and replace any earlier ones in) its connection.

    `release_inputs`: the extract is screened once only, so its tables are dropped once the engine has run
    (`load.release_loaded_tables`); otherwise they stay, and the same loaded extract can be screened again.
    """
    if explain not in EXPLAIN_CHOICES:
        raise UsageError(f"explain={explain!r}: choose one of {', '.join(EXPLAIN_CHOICES)}")
    run = runner or engine_runner(engine)
    write_run_parameters(loaded, protocol, worklist=worklist, explain_all_events=explain == "all-events")
    with stage(f"screen ({engine} engine)"):
        run(loaded.con)
        if release_inputs:
            release_loaded_tables(loaded.con)
    with stage("explain"):
        explain_reasons(loaded.con)
        _store_findings(loaded)
    return ScreeningResult(
        loaded.con,
        protocol=protocol,
        as_of=loaded.as_of,
        engine=engine,
        worklist=worklist,
        source=loaded.origin,
        input_files=loaded.files,
        problems=classified(loaded.findings),
    )


def _store_findings(loaded: LoadedExtract) -> None:
    columns = {c: "integer" if c == "row" else "text" for c in PROBLEM_COLUMNS}
    create_table(loaded.con, "findings", columns, problem_rows(loaded.findings))


def read_screen_dir(path: str | Path) -> ScreeningResult:
    """Read a folder written by `oligo-cohort screen` back into a ScreeningResult.

    Every file is checked on the way (oligo_cohort.screen_folder): a missing, damaged or edited folder is a
    `ScreenFolderError` (a UsageError, exit 2) listing each problem with its file, row, column and value. The rows
    of reasons.csv are read and checked when the reasons are first asked for (`.reasons`, `query("reasons")`):
    most commands never read them.
    """
    from oligo_cohort.screen_folder import read_screen_folder

    return read_screen_folder(path)
