"""Validate text tables against the data dictionary and type them, finding every problem at once.

The checks are generated from `data_dictionary/tables.yaml` as set-based SQL
over the whole table (each table's rules counted in one pass, and the rows of
the rules broken listed in one query; never a loop over rows), so an extract
of millions of rows is checked in seconds and every offending row is named
with its row number, id and value. Only identifiers and codes from the
dictionary ever appear in the generated SQL text; input values never do.

One module per job: `storage` chooses where the typed tables lie (memory, or a file when they are many), `typed_tables`
types each table, `rules` checks its rows against its columns' rules, `cross_table` checks the rules that read two
tables, `dates` says which dates are plausible,
`vocabulary` loads the drug vocabulary. This module runs them, table by table, side by side where that uses
the cores better.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from oligo_cohort.dictionary import Table, tables
from oligo_cohort.problems import Problem, Severity
from oligo_cohort.problems.suggestions import closest_name
from oligo_cohort.side_by_side import Work, row_groups, run_side_by_side, thread_count
from oligo_cohort.sources import RawExtract, RawTable, UnreadableError
from oligo_cohort.sources.text_tables import NOT_A_TABLE, NOT_A_TABLE_FILE
from oligo_cohort.validate.cross_table import cross_table_checks
from oligo_cohort.validate.dates import PlausibleDates, record_date_columns
from oligo_cohort.validate.rules import Check, collect_problems, column_rules, rule_checks
from oligo_cohort.validate.storage import attach_storage
from oligo_cohort.validate.typed_tables import (
    create_empty_typed,
    create_typed_streaming,
    drop_validation_tables,
    keeps_text,
    raw_ref,
)
from oligo_cohort.validate.vocabulary import create_vocabulary

__all__ = [
    "Check",
    "PlausibleDates",
    "collect_problems",
    "create_vocabulary",
    "drop_validation_tables",
    "raw_ref",
    "record_date_columns",
    "validate_and_type",
]


def validate_and_type(
    con: duckdb.DuckDBPyConnection,
    raw: RawExtract,
    *,
    run_day: dt.date | None = None,
    patients: str | None = None,
) -> list[Problem]:
    """Create `typed_<table>` for every model table (empty when absent) and return every problem found.

    A date later than `run_day` (default: today) or before 1900-01-01 is implausible: a finding, and in
    `typed_<table>` it reads as missing (the record is left out when it is the record's own date).

    `patients`: a table listing the patient_id of the only patients whose rows are typed and checked (every table
    has a patient_id column); the problems are then theirs alone.
    """
    dates = PlausibleDates(run_day or dt.date.today())
    # A partial load keeps a few patients' rows of each table: never enough to need a file.
    attach_storage(con, 0 if patients is not None else sum(t.num_rows for t in raw.tables.values()))
    problems = list(raw.problems)
    found_first: dict[str, list[Problem]] = {}  # by table: what its presence and its columns show
    to_type: dict[str, tuple[Table, RawTable]] = {}
    for table in tables().values():
        raw_table = raw.tables.get(table.name)
        if raw_table is None:
            unreadable = any(p.table == table.name and p.severity == "fatal" for p in raw.problems)
            missing = table.required and not unreadable  # an unreadable file is already named
            found_first[table.name] = [_missing_table(table, raw.problems)] if missing else []
            create_empty_typed(con, table, dates)
            continue
        found_first[table.name] = _shape_problems(table, raw_table)
        to_type[table.name] = (table, raw_table)
    typed = _type_tables(con, to_type, dates, patients)
    checks: list[Check] = []
    for name, found in found_first.items():
        problems += found
        if name in typed:
            problems += typed[name].problems
            checks += typed[name].checks
    problems += collect_problems(con, checks)
    if any(
        p.severity == "fatal" and p.row is None and (p.column is None or p.message.startswith("required"))
        for p in problems
    ):
        return problems  # cross-table checks need the required tables and columns (and readable files)
    problems += cross_table_checks(con, dates)
    return problems


def _problem(table: Table, severity: Severity, message: str, column: str | None = None) -> Problem:
    return Problem(severity, table.name, column, None, None, None, message)


# How a source names a table it read that is not one of the model: a folder's file (its name in `value`), a
# frame given under another name.
_NOT_A_TABLE = (NOT_A_TABLE_FILE, NOT_A_TABLE)


def _missing_table(table: Table, found: list[Problem]) -> Problem:
    """A required table the source lacks, with the table it has under a name the model does not know that most
    likely is it (`patient.csv` for `patients`): the extract then reads 'required table is missing' no more
    without a word about the file right beside it."""
    ignored = {p.table: p.value or p.table for p in found if p.message in _NOT_A_TABLE and p.table}
    meant = closest_name(table.name, ignored)
    if meant is None:
        return _problem(table, "fatal", "required table is missing")
    given = ignored[meant]
    hint = (
        f"did you mean {given}? name it {table.name}{given[len(meant) :]}"
        if given != meant
        else (f"did you mean the table given as {meant!r}? give it as {table.name!r}")
    )
    return _problem(table, "fatal", f"required table is missing ({hint})")


def _shape_problems(table: Table, raw_table: RawTable) -> list[Problem]:
    """What a table's shape shows before a row is read: no records, required or optional columns missing,
    columns the dictionary does not know."""
    found = []
    present = set(raw_table.columns)
    if raw_table.num_rows == 0:  # a header-only file: no records of this kind
        if table.name == "patients":
            found.append(_problem(table, "fatal", "no patients: nothing to screen"))
        else:
            found.append(_problem(table, "finding", "the table has no records"))
    for col in table.columns:
        if col.name not in present:
            if col.required:
                unknown = [extra for extra in raw_table.columns if extra not in table.column_names]
                meant = closest_name(col.name, unknown)
                hint = f" (did you mean {meant!r}? the column must be named {col.name})" if meant else ""
                found.append(_problem(table, "fatal", "required column is missing" + hint, col.name))
            else:
                found.append(_problem(table, "finding", "optional column is absent: read as missing", col.name))
    for extra in raw_table.columns:
        if extra not in table.column_names:
            found.append(_problem(table, "finding", "column is not in the data dictionary; ignored", extra))
    return found


@dataclass(frozen=True)
class _TypedTable:
    """What typing one table found: problems met while reading its rows, and a check for each rule they break."""

    problems: list[Problem]
    checks: list[Check]


def _type_tables(
    con: duckdb.DuckDBPyConnection,
    to_type: dict[str, tuple[Table, RawTable]],
    dates: PlausibleDates,
    patients: str | None = None,
) -> dict[str, _TypedTable]:
    """Type each table and count the rules its rows break.

    A table DuckDB reads on every thread (a Parquet file of as many row groups as threads, or a larger table
    held in memory) is typed on its own; the others side by side, largest first, so that a lesion file written as
    one row group keeps one core busy while the other tables are typed on the rest (`side_by_side`). At 100,000
    patients, where every file of the synthetic extract is one row group, validation took 4.2 s with the tables
    typed one after another, and takes 3.2 s with them side by side.
    """
    threads = thread_count(con)

    def read_on_all_threads(raw_table: RawTable) -> bool:
        units = raw_table.row_groups if raw_table.query else row_groups(raw_table.num_rows)
        return units >= threads

    wide = [name for name, (_, raw_table) in to_type.items() if read_on_all_threads(raw_table)]
    narrow = sorted(set(to_type) - set(wide), key=lambda name: -to_type[name][1].num_rows)
    typed: dict[str, _TypedTable] = {}
    for names, workers in ((wide, 1), (narrow, threads)):
        work = [_type_and_count(*to_type[name], dates, patients) for name in names]
        typed.update(zip(names, run_side_by_side(con, work, workers), strict=True))
    return typed


def _type_and_count(
    table: Table, raw_table: RawTable, dates: PlausibleDates, patients: str | None = None
) -> Work[_TypedTable]:
    """The work of typing one table (`create_typed_streaming`) and counting the rules its rows break."""

    def work(con: duckdb.DuckDBPyConnection) -> _TypedTable:
        problems: list[Problem] = []
        try:
            read = create_typed_streaming(con, table, raw_table, dates, problems, patients)
        except UnreadableError as exc:
            problems.append(Problem("fatal", table.name, None, None, None, Path(raw_table.origin).name, str(exc)))
            create_empty_typed(con, table, dates)
            return _TypedTable(problems, [])
        present = set(read.columns)
        kept = {c.name for c in table.columns if c.name in present and keeps_text(c, read.native)}
        return _TypedTable(problems, rule_checks(con, table, column_rules(table, present, kept, dates), present))

    return work
