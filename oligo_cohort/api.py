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
import os
from collections.abc import Mapping
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

    An argument of the wrong kind (a number for the extract, a single DataFrame instead of a dict of them, a
    string for `worklist`) is a UsageError naming the argument and what it takes, before anything is read.
    """
    _check_arguments(source, as_of=as_of, protocol=protocol, worklist=worklist)
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


def _check_arguments(source: object, *, as_of: object, protocol: object, worklist: object) -> None:
    """A UsageError for an argument of the wrong kind, naming it: not a TypeError from deep inside the loading."""
    if _is_frame(source):
        raise UsageError(
            "screen() takes a dict of tables, one per table of the data model ({'patients': frame, 'tumours': "
            f"frame, ...}}), not a single {type(source).__name__}"
        )
    if not isinstance(source, str | os.PathLike | Mapping) and not getattr(source, "is_spark_tables", False):
        where = "a folder or DuckDB file (a str or Path) or a dict of tables"
        raise UsageError(f"screen(): the extract is {where}, not {_kind(source)}")
    if as_of is not None and not isinstance(as_of, str | dt.date):
        raise UsageError(f"screen(as_of={as_of!r}): give a date, a 'YYYY-MM-DD' text or None (the latest date)")
    if not isinstance(protocol, str | os.PathLike | Protocol):
        raise UsageError(
            f"screen(protocol={protocol!r}): give a shipped protocol's name, a protocol file's path or a Protocol"
        )
    if not isinstance(worklist, bool):
        raise UsageError(f"screen(worklist={worklist!r}): give True or False")


def _is_frame(value: object) -> bool:
    """A pandas or polars DataFrame or an Arrow table, told without importing any of them."""
    kind = type(value)
    return kind.__name__ in ("DataFrame", "Table") and kind.__module__.split(".")[0] in ("pandas", "polars", "pyarrow")


def _kind(value: object) -> str:
    return "None" if value is None else f"a {type(value).__name__} ({repr(value)[:60]})"


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
    """Read a folder written by `oligo-cohort screen` (or `ScreeningResult.write`) back into a ScreeningResult.

    Every file is checked on the way (oligo_cohort.screen_folder): a missing, damaged or edited folder is a
    `ScreenFolderError` (a UsageError, exit 2) listing each problem with its file, row, column and value. The rows
    of reasons.csv are read and checked when the reasons are first asked for (`.reasons`, `query("reasons")`):
    most commands never read them.
    """
    from oligo_cohort.screen_folder import read_screen_folder

    if not isinstance(path, str | os.PathLike):
        raise UsageError(f"read_screen_dir(): give the screen folder as a str or Path, not {_kind(path)}")
    return read_screen_folder(path)
