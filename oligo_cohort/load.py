"""Load an extract: read → validate and type → apply the data cut-off (staging SQL) → the tables the engines read.

The result is a DuckDB connection holding the tables of docs/design.md ("The
loaded tables"), the same for every engine. Fatal problems raise `InputError`
listing every one of them; the rest are returned as findings.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.database import MEMORY_ENV as MEMORY_ENV
from oligo_cohort.database import THREADS_ENV as THREADS_ENV
from oligo_cohort.database import close, connect, create_table
from oligo_cohort.dictionary import EARLIEST_PLAUSIBLE_DATE, tables
from oligo_cohort.errors import InputError, UsageError
from oligo_cohort.paths import sql_dir
from oligo_cohort.problems import Problem
from oligo_cohort.progress import stage
from oligo_cohort.protocol import Protocol
from oligo_cohort.sources import ROW, ExtractSource, RawExtract, read_source
from oligo_cohort.sql_text import identifier as quote
from oligo_cohort.sql_text import literal
from oligo_cohort.validate import (
    Check,
    collect_problems,
    create_vocabulary,
    drop_validation_tables,
    record_date_columns,
    validate_and_type,
)
from oligo_cohort.validate.storage import release_storage

OPTIONAL_TABLES = ("response_assessments", "performance_status", "observations")

# The table listing the patients a partial load keeps (`load_extract(patients=...)`); a table, not a registered
# frame, so that the cursors typing tables side by side see it too.
LOADED_PATIENTS = "loaded_patients"


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
    patients: Iterable[str] | None = None,
) -> LoadedExtract:
    """Read, validate, type and stage an extract; raise `InputError` with every fatal problem.

    A connection made here is closed (its spill folder removed) when loading fails; on success it belongs to the
    result, and goes when that is dropped or the process ends (`oligo_cohort.database`).

    `patients`: load only these patients' rows, for a command that needs a few patients of an extract a screen has
    already validated whole (`review export`, which checks the files are unchanged). Every table is filtered by
    patient_id as it is typed, so only their rows are checked; the default cut-off would be that of their rows
    alone, so `as_of` must be given.
    """
    run_day = dt.date.today()  # one day for the whole run, should it pass midnight
    cutoff = parse_as_of(as_of, run_day)
    if patients is not None and cutoff is None:
        raise ValueError("load_extract(patients=...) needs as_of: the cut-off of a few patients is not the extract's")
    own = con is None
    con = con or connect()
    try:
        with stage("read"):
            raw = read_source(source, con)
        if patients is not None:
            create_table(con, LOADED_PATIENTS, {"patient_id": "text"}, [(p,) for p in sorted(set(patients))])
        return _validate_and_stage(con, raw, cutoff, run_day, LOADED_PATIENTS if patients is not None else None)
    except (duckdb.OutOfMemoryException, duckdb.IOException) as exc:
        if own:
            close(con)
        # Not a problem of the extract but of the machine: too little memory, or no room to spill.
        raise UsageError(
            f"loading the extract stopped: {str(exc).splitlines()[0]} (raise {MEMORY_ENV}, "
            "or free space in the temporary folder)"
        ) from None
    except BaseException:
        if own:
            close(con)
        raise


def _validate_and_stage(
    con: duckdb.DuckDBPyConnection,
    raw: RawExtract,
    cutoff: dt.date | None,
    run_day: dt.date,
    patients: str | None = None,
):
    with stage("validate"):
        create_vocabulary(con)
        problems = validate_and_type(con, raw, run_day=run_day, patients=patients)
        fatal = [p for p in problems if p.severity == "fatal"]
        if fatal:
            raise InputError(fatal)
    with stage("stage (cut-off)"):
        if cutoff is None:
            cutoff = _latest_date(con)
        con.execute("CREATE OR REPLACE TABLE run_cutoff AS SELECT CAST(? AS DATE) AS as_of", [cutoff])
        changed = _tables_the_cutoff_changes(con, cutoff)
        for table in tables():
            if table in changed or table in STAGED_BEYOND_CUTOFF:
                con.execute(f"CREATE OR REPLACE TABLE {table} AS {_staging_sql(table)}")
            else:
                # Nothing in it lies after the cut-off: staging would copy it as it is, so it is read where it lies.
                columns = ", ".join(quote(c.name) for c in tables()[table].columns)
                con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT {ROW}, {columns} FROM typed_{table}")
        findings = [p for p in problems if p.severity == "finding"]
        findings += _cutoff_findings(con, cutoff, changed)
        findings += _uninferable_setting_findings(con)
        # Nothing reads the validation tables of a copied table any more; at a million patients they hold gigabytes.
        drop_validation_tables(con, keep=frozenset(tables()) - changed - STAGED_BEYOND_CUTOFF)
    return LoadedExtract(con, cutoff, frozenset(raw.tables), findings, raw.origin, raw.files)


def release_loaded_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the loaded tables and what validation kept of them, once the engine no longer reads them.

    Only for an extract nothing will screen again (`api.screen` loads its own): the result tables, `params` and
    the vocabulary stay. At a million patients the typed inputs hold some 5 GB, more than DuckDB's memory limit,
    so half of them lie spilled on disk; released, they leave explain and the writer the memory they need.
    """
    kinds = dict(
        con.execute(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    )
    for table in tables():
        kind = kinds.get(table)
        if kind is not None:
            con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {quote(table)}")
    drop_validation_tables(con)
    release_storage(con)


def materialise(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Make a loaded table an ordinary table (it may be a view of its typed table), so that it can be changed."""
    if _is_view(con, table):
        con.execute(f"CREATE TABLE {quote('materialised_' + table)} AS SELECT * FROM {quote(table)}")
        con.execute(f"DROP VIEW {quote(table)}")
        con.execute(f"ALTER TABLE {quote('materialised_' + table)} RENAME TO {quote(table)}")


def keep_patients(con: duckdb.DuckDBPyConnection, table: str, wanted: str) -> None:
    """Keep only the rows of loaded `table` whose patient_id is listed in `wanted` (a table or view with a
    patient_id column): they become an ordinary table of that name (a loaded table may be a view of its typed
    table).

    The kept rows are copied, not the table copied and the others deleted: at 100,000 patients, of whom a chart
    review asks about 6 %, copying and deleting took 1 s.
    """
    kind = "VIEW" if _is_view(con, table) else "TABLE"
    kept = quote("kept_" + table)
    con.execute(
        f"CREATE OR REPLACE TABLE {kept} AS SELECT * FROM {quote(table)} "
        f"WHERE patient_id IN (SELECT patient_id FROM {quote(wanted)})"
    )
    con.execute(f"DROP {kind} {quote(table)}")
    con.execute(f"ALTER TABLE {kept} RENAME TO {quote(table)}")


def _is_view(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether a loaded table is a view (of its typed table, where the cut-off changed nothing) or a table."""
    kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ?", [table]).fetchall()
    return bool(kind) and kind[0][0] == "VIEW"


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


def parse_as_of(
    as_of: str | dt.date | None, run_day: dt.date | None = None, *, given_as: str = "as_of"
) -> dt.date | None:
    """The cut-off the user gave, checked: a date in YYYY-MM-DD form, neither after today nor before 1900.

    A cut-off after the day of the run would read days that have not happened yet as days on which nothing
    happened (windows "still open", no death, no progression): refused, as is one before 1900 (criteria.md "Time").
    `given_as` is how the user gave it, for the message: `as_of` in a Python call, `--as-of` on the command line
    (whose commands check it first, so that a mistyped date is named as it was typed).
    """
    if as_of is None:
        return None
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    if not isinstance(as_of, dt.date):
        text = str(as_of).strip()
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            raise UsageError(f"{given_as} {as_of!r} is not a date in YYYY-MM-DD form")
        try:
            as_of = dt.date.fromisoformat(text)
        except ValueError:
            raise UsageError(f"{given_as} {text!r} is not a date: no such day in the calendar") from None
    today = run_day or dt.date.today()
    if as_of > today:
        raise UsageError(f"{given_as} {as_of} is later than today ({today}): a data cut-off cannot lie in the future")
    if as_of < EARLIEST_PLAUSIBLE_DATE:
        raise UsageError(f"{given_as} {as_of} is before {EARLIEST_PLAUSIBLE_DATE}: not a plausible data cut-off")
    return as_of


def _staging_sql(table: str) -> str:
    return (sql_dir() / "staging" / f"{table}.sql").read_text(encoding="utf-8")


def _date_columns() -> list[tuple[str, str]]:
    return [(t.name, c.name) for t in tables().values() for c in t.columns if c.type == "date"]


def _latest_date(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The default cut-off: the latest date anywhere in the extract, birth dates aside (criteria.md "Time").

    It reads the typed views, where an implausible date (after the day of the run, before 1900) is already
    missing: one patient's `9999-12-31` never moves the cut-off of everyone else.
    """
    parts = [
        f"SELECT max({quote(column)}) AS d FROM typed_{table}"
        for table, column in _date_columns()
        if column != "birth_date"
    ]
    latest = con.execute(f"SELECT max(d) FROM ({' UNION ALL '.join(parts)})").fetchall()[0][0]
    if latest is None:
        raise UsageError("the extract holds no dates to take a cut-off from; give --as-of YYYY-MM-DD")
    return latest


# Tables whose staging does more than apply the cut-off (drug names are read against the vocabulary): always staged.
STAGED_BEYOND_CUTOFF = frozenset({"systemic_therapy"})


def _tables_the_cutoff_changes(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> frozenset[str]:
    """The tables where the cut-off drops a record or clears a date, found in one pass over each.

    A record is dropped when its own date lies after the cut-off or is missing (an implausible date reads as
    missing in typed_); another date after the cut-off is cleared. Lesions go with their study.
    """
    conditions: dict[str, str] = {}
    for table in tables().values():
        own = set(record_date_columns(table))
        parts = [
            f"{quote(c.name)} IS NULL OR {quote(c.name)} > $as_of" if c.name in own else f"{quote(c.name)} > $as_of"
            for c in table.columns
            if c.type == "date"
        ]
        if parts:
            conditions[table.name] = " OR ".join(f"({p})" for p in parts)
    counts = ", ".join(
        f"(SELECT count(*) FROM typed_{name} WHERE {condition}) AS {quote(name)}"
        for name, condition in conditions.items()
    )
    found = con.execute(f"SELECT {counts}", {"as_of": as_of}).fetchall()[0]
    changed = {name for name, n in zip(conditions, found, strict=True) if n}
    if "imaging" in changed:
        changed.add("lesions")
    return frozenset(changed)


def _cutoff_findings(con: duckdb.DuckDBPyConnection, as_of: dt.date, changed: frozenset[str]) -> list[Problem]:
    """Name every record the cut-off dropped and every date it cleared (docs/decisions.md D2)."""
    checks: list[Check] = []
    for table in tables().values():
        if table.name == "lesions" or table.name not in changed:
            continue  # lesions are dropped with their study, which is named; an unchanged table has nothing
        key = " || ', ' || ".join(f"'{c}=' || coalesce(CAST(t.{quote(c)} AS VARCHAR), '')" for c in table.key)
        # A record whose own date is implausible (missing in typed_) is named by validation's finding instead.
        dated = " AND ".join(f"t.{quote(c)} IS NOT NULL" for c in record_date_columns(table)) or "true"
        dropped = (
            f"SELECT t.{ROW}, {key}, NULL, 'dated after the cut-off {as_of}: ignored' "
            f"FROM typed_{table.name} AS t ANTI JOIN {table.name} AS s USING ({ROW}) WHERE {dated}"
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
    codes = clinical_codes()
    breast = literal(codes.breast_topography + "%")
    query = f"""
        SELECT e.{ROW}, 'patient_id=' || e.patient_id || ', drug=' || e.drug || ', start_date=' || e.start_date,
               coalesce(e.setting, ''),
               'setting missing or unknown and no metastasis date (or M1) on the patient''s breast tumour: '
               || 'not counted as metastatic treatment'
        FROM systemic_therapy AS e
        WHERE coalesce(e.setting, 'unknown') = 'unknown'
          AND NOT EXISTS (
              SELECT 1 FROM tumours AS t
              WHERE t.patient_id = e.patient_id AND t.topography LIKE {breast}
                AND t.behaviour = {literal(codes.invasive_behaviour)}
                AND (t.metastasis_date IS NOT NULL OR t.tnm_m = {literal(codes.metastatic_at_diagnosis)}))
    """
    return collect_problems(con, [Check("finding", "systemic_therapy", "setting", query)])
