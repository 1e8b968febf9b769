"""Load an extract: read → validate and type → apply the data cut-off (staging SQL) → the tables the engines read.

The result is a DuckDB connection holding the tables of docs/design.md ("The
loaded tables"), the same for every engine. Fatal problems raise `InputError`
listing every one of them; the rest are returned as findings.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from oligo_cohort.dictionary import tables
from oligo_cohort.errors import InputError, UsageError
from oligo_cohort.paths import sql_dir
from oligo_cohort.problems import Problem
from oligo_cohort.progress import stage
from oligo_cohort.protocol import Protocol
from oligo_cohort.sources import ROW, ExtractSource, read_source
from oligo_cohort.validate import (
    Check,
    collect_problems,
    create_vocabulary,
    drop_validation_tables,
    quote,
    validate_and_type,
)

OPTIONAL_TABLES = ("response_assessments", "performance_status", "observations")
THREADS_ENV = "OLIGO_COHORT_THREADS"  # DuckDB worker threads of a run (see `connect`)
MEMORY_ENV = "OLIGO_COHORT_MEMORY_LIMIT"  # DuckDB memory limit of a run (see `connect`)
_connections = itertools.count()
MEMORY_LIMIT = "4GB"  # what DuckDB holds in memory before spilling; a 1 M-patient screen stays within 6 GB


@dataclass
class LoadedExtract:
    """A validated extract in a DuckDB connection, with its cut-off and its non-fatal findings."""

    con: duckdb.DuckDBPyConnection
    as_of: dt.date
    present: frozenset[str]
    findings: list[Problem]
    origin: str
    files: tuple[Path, ...]


def load_extract(
    source: ExtractSource,
    *,
    as_of: str | dt.date | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> LoadedExtract:
    """Read, validate, type and stage an extract; raise `InputError` with every fatal problem."""
    cutoff = _parse_as_of(as_of)
    with stage("read"):
        raw = read_source(source)
    con = con or connect()
    with stage("validate"):
        create_vocabulary(con)
        problems = validate_and_type(con, raw)
        fatal = [p for p in problems if p.severity == "fatal"]
        if fatal:
            raise InputError(fatal)
    with stage("stage (cut-off)"):
        if cutoff is None:
            cutoff = _latest_date(con)
        con.execute("CREATE OR REPLACE TABLE run_cutoff AS SELECT CAST(? AS DATE) AS as_of", [cutoff])
        for table in tables():
            con.execute(f"CREATE OR REPLACE TABLE {table} AS {_staging_sql(table)}")
        findings = [p for p in problems if p.severity == "finding"]
        findings += _cutoff_findings(con, cutoff)
        findings += _uninferable_setting_findings(con)
        # Nothing reads the validation tables any more; at a million patients they hold gigabytes.
        drop_validation_tables(con)
    return LoadedExtract(con, cutoff, frozenset(raw.tables), findings, raw.origin, raw.files)


def connect() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection, set up for extracts larger than memory.

    `OLIGO_COHORT_THREADS=N` caps its worker threads (default: one per core);
    `OLIGO_COHORT_MEMORY_LIMIT` (DuckDB syntax, e.g. `8GB`; default `MEMORY_LIMIT`) caps the memory DuckDB
    holds before it spills tables and operators to a temporary folder. Row order is never relied on (every
    output is sorted when written), so DuckDB need not preserve insertion order, which lets it stream and spill.
    Results do not depend on these settings (tests/test_determinism.py); they are for large or shared machines.
    """
    config: dict[str, object] = {
        "preserve_insertion_order": False,
        # An in-memory database has nothing to make durable, yet DuckDB checkpoints it every 16 MB of changes,
        # which cost seconds per result table at 100k patients; never.
        "checkpoint_threshold": "1TB",
        "memory_limit": os.environ.get(MEMORY_ENV, "").strip() or MEMORY_LIMIT,
        # Spilled data goes to a folder of this process (DuckDB creates and removes it), never the working folder.
        "temp_directory": str(Path(tempfile.gettempdir()) / f"oligo-cohort-{os.getpid()}-{next(_connections)}"),
    }
    threads = os.environ.get(THREADS_ENV, "").strip()
    if threads:
        if not threads.isdigit() or int(threads) < 1:
            raise UsageError(f"{THREADS_ENV}={threads!r}: expected a whole number of threads >= 1")
        config["threads"] = int(threads)
    try:
        return duckdb.connect(config=config)
    except duckdb.Error as exc:
        raise UsageError(f"{MEMORY_ENV}: {str(exc).splitlines()[0]}") from None


def write_run_parameters(
    loaded: LoadedExtract, protocol: Protocol, *, worklist: bool = False, explain_all_events: bool = False
) -> None:
    """Create the one-row `params` table the engines read: protocol parameters, cut-off, mode, tables present."""
    create_params(
        loaded.con,
        protocol,
        as_of=loaded.as_of,
        present=loaded.present,
        worklist=worklist,
        explain_all_events=explain_all_events,
    )


def create_params(
    con: duckdb.DuckDBPyConnection,
    protocol: Protocol,
    *,
    as_of: dt.date | str,
    present: frozenset[str] | set[str],
    worklist: bool = False,
    explain_all_events: bool = False,
    **overrides: object,
) -> None:
    """The `params` table: every protocol parameter (`overrides` replacing some), the cut-off, the run's mode and
    which optional tables the extract holds."""
    row = protocol.parameters.as_row() | overrides
    row |= {
        "as_of": as_of,
        "worklist": worklist,
        "explain_all_events": explain_all_events,
        **{f"has_{name}": name in present for name in OPTIONAL_TABLES},
    }
    names = list(row)
    columns = ", ".join(f"? AS {quote(name)}" for name in names)
    con.execute(f"CREATE OR REPLACE TABLE params AS SELECT {columns}", [row[n] for n in names])
    con.execute("CREATE OR REPLACE TABLE params AS SELECT * REPLACE (CAST(as_of AS DATE) AS as_of) FROM params")


def _parse_as_of(as_of: str | dt.date | None) -> dt.date | None:
    if as_of is None or isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError:
        raise UsageError(f"--as-of {as_of!r} is not a date in YYYY-MM-DD form") from None


def _staging_sql(table: str) -> str:
    return (sql_dir() / "staging" / f"{table}.sql").read_text(encoding="utf-8")


def _date_columns() -> list[tuple[str, str]]:
    return [(t.name, c.name) for t in tables().values() for c in t.columns if c.type == "date"]


def _latest_date(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The default cut-off: the latest date anywhere in the extract, birth dates aside (criteria.md "Time")."""
    parts = [
        f"SELECT max({quote(column)}) AS d FROM typed_{table}"
        for table, column in _date_columns()
        if column != "birth_date"
    ]
    latest = con.execute(f"SELECT max(d) FROM ({' UNION ALL '.join(parts)})").fetchall()[0][0]
    if latest is None:
        raise UsageError("the extract holds no dates to take a cut-off from; give --as-of YYYY-MM-DD")
    return latest


def _cutoff_findings(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[Problem]:
    """Name every record the cut-off dropped and every date it cleared (docs/decisions.md D2)."""
    checks: list[Check] = []
    for table in tables().values():
        if table.name == "lesions":
            continue  # dropped with their study, which is named
        key = " || ', ' || ".join(f"'{c}=' || coalesce(CAST(t.{quote(c)} AS VARCHAR), '')" for c in table.key)
        dropped = (
            f"SELECT t.{ROW}, {key}, NULL, 'dated after the cut-off {as_of}: ignored' "
            f"FROM typed_{table.name} AS t ANTI JOIN {table.name} AS s USING ({ROW})"
        )
        if table.name == "imaging":
            dropped = dropped.replace("ignored'", "ignored with its lesions'")
        checks.append(Check("finding", table.name, None, dropped))
        for column in (c.name for c in table.columns if c.type == "date"):
            col = quote(column)
            cleared = (
                f"SELECT t.{ROW}, {key}, CAST(t.{col} AS VARCHAR), "
                f"'after the cut-off {as_of}: read as missing (ongoing or not yet known)' "
                f"FROM typed_{table.name} AS t JOIN {table.name} AS s USING ({ROW}) "
                f"WHERE t.{col} IS NOT NULL AND s.{col} IS NULL"
            )
            checks.append(Check("finding", table.name, column, cleared))
    return collect_problems(con, checks)


def _uninferable_setting_findings(con: duckdb.DuckDBPyConnection) -> list[Problem]:
    """Episodes whose setting can be inferred from no metastasis date are not counted (docs/decisions.md D10)."""
    query = f"""
        SELECT e.{ROW}, 'patient_id=' || e.patient_id || ', drug=' || e.drug || ', start_date=' || e.start_date,
               coalesce(e.setting, ''),
               'setting missing or unknown and no metastasis date (or M1) on the patient''s breast tumour: '
               || 'not counted as metastatic treatment'
        FROM systemic_therapy AS e
        WHERE coalesce(e.setting, 'unknown') = 'unknown'
          AND NOT EXISTS (
              SELECT 1 FROM tumours AS t
              WHERE t.patient_id = e.patient_id AND t.topography LIKE 'C50%' AND t.behaviour = '3'
                AND (t.metastasis_date IS NOT NULL OR t.tnm_m = 'M1'))
    """
    return collect_problems(con, [Check("finding", "systemic_therapy", "setting", query)])
