"""Validate text tables against the data dictionary and type them, finding every problem at once.

The checks are generated from `data_dictionary/tables.yaml` as set-based SQL
over the whole table (one query per rule, not a loop over rows), so an extract
of millions of rows is checked in seconds and every offending row is named
with its row number, id and value. Only identifiers and codes from the
dictionary ever appear in the generated SQL text; input values never do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.database import create_table
from oligo_cohort.dictionary import (
    EARLIEST_PLAUSIBLE_DATE,
    NUMBER_PATTERN,
    Column,
    Table,
    drug_aliases,
    drugs,
    tables,
)
from oligo_cohort.dictionary import sql_type as _sql_type
from oligo_cohort.problems import Problem, Severity
from oligo_cohort.side_by_side import Work, row_groups, run_side_by_side, thread_count
from oligo_cohort.sources import ROW, RawExtract, RawTable, UnreadableError, reread_parquet_as_text
from oligo_cohort.sql_text import identifier as quote
from oligo_cohort.sql_text import literal as _literal
from oligo_cohort.sql_text import literals

# At most this many rows are listed per rule; the rest are counted in one summary line.
MAX_ROWS_PER_RULE = 1000

_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_DATE_SHAPE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T]00:00(:00(\.0+)?)?)?"


def typed_expression(col: Column, raw: str) -> str:
    """SQL turning the text value `raw` into the column's type; NULL when it cannot be read."""
    if col.type == "string":
        if col.normalise == "lower":  # e.g. drug names: matched case- and spacing-insensitively
            return f"lower(regexp_replace({raw}, '\\s+', ' ', 'g'))"
        return raw
    if col.type == "date":
        return (
            f"CASE WHEN regexp_full_match({raw}, {_literal(_DATE_SHAPE)}) "
            f"THEN CAST(try_strptime(left({raw}, 10), '%Y-%m-%d') AS DATE) END"
        )
    if col.type == "number":
        number = f"regexp_full_match({raw}, {_literal(NUMBER_PATTERN)}) AND isfinite(TRY_CAST({raw} AS DOUBLE))"
        return f"CASE WHEN {number} THEN TRY_CAST(TRY_CAST({raw} AS DOUBLE) AS DECIMAL(12, 3)) END"
    if col.type == "integer":
        as_double = f"TRY_CAST({raw} AS DOUBLE)"
        whole = f"regexp_full_match({raw}, {_literal(NUMBER_PATTERN)}) AND {as_double} = floor({as_double})"
        return f"CASE WHEN {whole} AND abs({as_double}) < 1e9 THEN CAST({as_double} AS INTEGER) END"
    if col.type == "boolean":
        trues = ", ".join(_literal(v) for v in _TRUE)
        falses = ", ".join(_literal(v) for v in _FALSE)
        return f"CASE WHEN lower({raw}) IN ({trues}) THEN TRUE WHEN lower({raw}) IN ({falses}) THEN FALSE END"
    if col.type == "code":
        return _code_expression(col, raw)
    raise ValueError(f"unknown column type {col.type!r} in the dictionary")


def _code_expression(col: Column, raw: str) -> str:
    if col.normalise == "topography":
        compact = f"upper(replace({raw}, ' ', ''))"
        dotted = f"CASE WHEN regexp_full_match({compact}, 'C[0-9]{{3}}') THEN left({compact}, 3) || '.' || right({compact}, 1) ELSE {compact} END"
        return f"CASE WHEN regexp_full_match({dotted}, {_literal(col.pattern or '.*')}) THEN {dotted} END"
    if col.normalise == "morphology":
        digits = f"regexp_extract({raw}, '^([0-9]{{4}})(/[0-9])?$', 1)"
        return f"NULLIF({digits}, '')"
    if col.values:
        # Codes match case-insensitively and take the dictionary's spelling.
        whens = " ".join(f"WHEN {_literal(v.lower())} THEN {_literal(v)}" for v in col.values)
        return f"CASE lower({raw}) {whens} END"
    return raw


# As a CSV file holding NUL bytes is refused (sources.py), so is a Parquet, DuckDB or DataFrame value holding one.
_NUL_MESSAGE = "text with NUL bytes: save the extract's text as UTF-8 without NUL bytes"


def _type_message(col: Column) -> str:
    if col.type == "date":
        return "not a valid date in YYYY-MM-DD form"
    if col.type == "number":
        return "not a number"
    if col.type == "integer":
        return "not a whole number"
    if col.type == "boolean":
        return "not a boolean (true/false, yes/no, y/n, t/f, 1/0)"
    if col.values:
        return "not an allowed code (" + ", ".join(col.values) + ")"
    return f"does not match the pattern {col.pattern}"


def _date_hint(raw: str) -> str:
    """SQL giving a more precise message for common date mistakes (Excel serials, day-first dates)."""
    return (
        f"CASE WHEN regexp_full_match({raw}, '[0-9]{{5}}(\\.0+)?') THEN 'looks like an Excel serial number, not a date (write YYYY-MM-DD)' "
        f"WHEN regexp_full_match({raw}, '[0-9]{{1,2}}[/.-][0-9]{{1,2}}[/.-][0-9]{{4}}') THEN 'day-first or month-first date: write YYYY-MM-DD' "
        f"WHEN regexp_full_match({raw}, {_literal(_DATE_SHAPE)}) THEN 'not a calendar date' "
        "ELSE 'not a valid date in YYYY-MM-DD form' END"
    )


@dataclass(frozen=True)
class _Rule:
    """One check: rows of `typed_<table>` (alias t, raw text alias r) where `condition` holds are problems."""

    severity: Severity
    column: str | None
    condition: str
    message: str  # SQL expression or literal text
    value: str  # SQL expression for the offending value
    message_is_sql: bool = False


@dataclass(frozen=True)
class PlausibleDates:
    """The dates a record can plausibly carry: from 1900-01-01 to the day of the run (criteria.md "Time")."""

    latest: dt.date  # the day of the run
    earliest: dt.date = EARLIEST_PLAUSIBLE_DATE

    def holds(self, value: str) -> str:
        """SQL: the date `value` is plausible (NULL when the value is)."""
        return f"{value} BETWEEN DATE '{self.earliest.isoformat()}' AND DATE '{self.latest.isoformat()}'"

    def reason(self, value: str) -> str:
        """SQL: why the (implausible) date `value` is implausible."""
        return (
            f"CASE WHEN {value} < DATE '{self.earliest.isoformat()}' THEN 'before {self.earliest.isoformat()}' "
            f"ELSE 'later than the day of the run, {self.latest.isoformat()}' END"
        )


def record_date_columns(table: Table) -> tuple[str, ...]:
    """The dates that place a record in time (its required dates): an unusable one leaves the record out."""
    return tuple(c.name for c in table.columns if c.type == "date" and c.required)


def validate_and_type(
    con: duckdb.DuckDBPyConnection, raw: RawExtract, *, run_day: dt.date | None = None
) -> list[Problem]:
    """Create `typed_<table>` for every model table (empty when absent) and return every problem found.

    A date later than `run_day` (default: today) or before 1900-01-01 is implausible: a finding, and in
    `typed_<table>` it reads as missing (the record is left out when it is the record's own date).
    """
    dates = PlausibleDates(run_day or dt.date.today())
    problems = list(raw.problems)
    found_first: dict[str, list[Problem]] = {}  # by table: what its presence and its columns show
    to_type: dict[str, tuple[Table, RawTable]] = {}
    for table in tables().values():
        raw_table = raw.tables.get(table.name)
        if raw_table is None:
            unreadable = any(p.table == table.name and p.severity == "fatal" for p in raw.problems)
            missing = table.required and not unreadable  # an unreadable file is already named
            found_first[table.name] = [_problem(table, "fatal", "required table is missing")] if missing else []
            _create_empty_typed(con, table, dates)
            continue
        found_first[table.name] = _shape_problems(table, raw_table)
        to_type[table.name] = (table, raw_table)
    typed = _type_tables(con, to_type, dates)
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
    problems += _cross_table_checks(con, dates)
    return problems


def _problem(table: Table, severity: Severity, message: str, column: str | None = None) -> Problem:
    return Problem(severity, table.name, column, None, None, None, message)


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
                found.append(_problem(table, "fatal", "required column is missing", col.name))
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
    con: duckdb.DuckDBPyConnection, to_type: dict[str, tuple[Table, RawTable]], dates: PlausibleDates
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
        work = [_type_and_count(*to_type[name], dates) for name in names]
        typed.update(zip(names, run_side_by_side(con, work, workers), strict=True))
    return typed


def _type_and_count(table: Table, raw_table: RawTable, dates: PlausibleDates) -> Work[_TypedTable]:
    """The work of typing one table (`_create_typed_streaming`) and counting the rules its rows break."""

    def work(con: duckdb.DuckDBPyConnection) -> _TypedTable:
        problems: list[Problem] = []
        try:
            read = _create_typed_streaming(con, table, raw_table, dates, problems)
        except UnreadableError as exc:
            problems.append(Problem("fatal", table.name, None, None, None, Path(raw_table.origin).name, str(exc)))
            _create_empty_typed(con, table, dates)
            return _TypedTable(problems, [])
        present = set(read.columns)
        kept = {c.name for c in table.columns if c.name in present and _keeps_text(c, read.native)}
        return _TypedTable(problems, _rule_checks(con, table, _column_rules(table, present, kept, dates), present))

    return work


def _create_typed_streaming(
    con: duckdb.DuckDBPyConnection, table: Table, raw_table: RawTable, dates: PlausibleDates, problems: list[Problem]
) -> RawTable:
    """Type a table. A Parquet file's rows stream from the file only now, so only now can a damaged page, or text
    that is not UTF-8, show: the file is then read again value by value to name what is wrong (`sources`)."""
    if not raw_table.query:
        con.register(f"raw_{table.name}", raw_table.data)
        _create_typed(con, table, set(raw_table.columns), raw_table.native, dates)
        return raw_table
    con.execute(f"CREATE OR REPLACE TEMP VIEW raw_{table.name} AS {raw_table.query}")
    try:
        _create_typed(con, table, set(raw_table.columns), raw_table.native, dates)
        return raw_table
    except duckdb.Error as exc:
        con.execute(f"DROP VIEW IF EXISTS temp.raw_{table.name}")
        reread, notes = reread_parquet_as_text(raw_table, exc)
    problems += [Problem("finding", table.name, column, row, None, value, note) for column, row, value, note in notes]
    con.register(f"raw_{table.name}", reread.data)
    _create_typed(con, table, set(reread.columns), reread.native, dates)
    return reread


def raw_ref(column: str, alias: str = "t") -> str:
    """The column's value as the provider wrote it (text), kept beside the typed value for messages."""
    return f"{alias}.{quote('raw:' + column)}"


def _create_empty_typed(con: duckdb.DuckDBPyConnection, table: Table, dates: PlausibleDates) -> None:
    cols = ", ".join(f"CAST(NULL AS {_sql_type(c)}) AS {quote(c.name)}" for c in table.columns)
    con.execute(f"CREATE OR REPLACE TABLE stored_{table.name} AS SELECT CAST(NULL AS BIGINT) AS {ROW}, {cols} LIMIT 0")
    con.execute(f"CREATE OR REPLACE VIEW checked_{table.name} AS SELECT * FROM stored_{table.name}")
    _create_typed_view(con, table, dates)


def _create_typed_view(con: duckdb.DuckDBPyConnection, table: Table, dates: PlausibleDates) -> None:
    """The typed columns; an implausible value (a 4,000 mm lesion, a date in 9999) reads as missing, with a finding.

    Every reader of the extract reads these views: the default cut-off, the cross-table checks, staging (where a
    record whose own date reads as missing is left out). So an implausible date is used nowhere.
    """

    def column(c: Column) -> str:
        if c.type == "date":
            return f"CASE WHEN {dates.holds(quote(c.name))} THEN {quote(c.name)} END AS {quote(c.name)}"
        if c.plausible_max is None:
            return quote(c.name)
        return f"CASE WHEN {quote(c.name)} <= {c.plausible_max} THEN {quote(c.name)} END AS {quote(c.name)}"

    cols = ", ".join(column(c) for c in table.columns)
    con.execute(f"CREATE OR REPLACE VIEW typed_{table.name} AS SELECT {ROW}, {cols} FROM stored_{table.name}")


def drop_validation_tables(con: duckdb.DuckDBPyConnection, keep: frozenset[str] = frozenset()) -> None:
    """Drop what validation created (`typed_`, `checked_`, `stored_`) once staging is done; the typed tables in
    `keep` stay, as the staged views of those tables read them."""
    for name in tables():
        con.execute(f"DROP VIEW IF EXISTS checked_{name}")
        if name not in keep:
            con.execute(f"DROP VIEW IF EXISTS typed_{name}")
            con.execute(f"DROP TABLE IF EXISTS stored_{name}")


def _raw_ref(col: Column, present: set[str]) -> str:
    return f"r.{quote(col.name)}" if col.name in present else "CAST(NULL AS VARCHAR)"


def _native_expression(col: Column, value: str) -> str:
    """SQL typing a value that arrives in a native type matching the column's (see sources._NATIVE_TYPES)."""
    if col.type == "number":
        return f"CASE WHEN isfinite(CAST({value} AS DOUBLE)) THEN TRY_CAST({value} AS DECIMAL(12, 3)) END"
    if col.type == "integer":
        return f"CASE WHEN abs(CAST({value} AS DOUBLE)) < 1e9 THEN CAST({value} AS INTEGER) END"
    return value  # dates and booleans are already what the dictionary asks


def _as_written(col: Column, typed: str) -> str:
    """The text of a typed value as a provider would usually write it (`2020-01-31`, `CT`, `12.5`)."""
    if col.type in ("string", "code"):
        return typed
    if col.type == "number":
        return f"CAST(CAST({typed} AS DOUBLE) AS VARCHAR)"
    return f"CAST({typed} AS VARCHAR)"


def _keeps_text(col: Column, native: frozenset[str]) -> bool:
    """Whether the column's text as written is kept beside its typed value; a plain text column is its own text."""
    return not (col.type == "string" and not col.normalise and col.name not in native)


def _create_typed(
    con: duckdb.DuckDBPyConnection, table: Table, present: set[str], native: frozenset[str], dates: PlausibleDates
) -> None:
    """`stored_<table>`: each value typed; `checked_<table>`: beside it, its text as written; `typed_<table>`.

    The text as written is what problem messages quote. It is stored only where it differs from the typed
    value's usual text (a code in other case, a rejected value, `12.50` for 12.5): at a million patients, keeping
    every value twice made validation spill gigabytes to disk. A plain text column is its own text as written.
    The checked view shows both: `raw:<column>`, the text as written, and `kept:<column>`, the text stored.
    """
    typed: list[str] = []
    kept_texts: list[str] = []
    as_written: list[str] = []
    for c in table.columns:
        name, raw = quote(c.name), _raw_ref(c, present)
        expression = _native_expression(c, raw) if c.name in native else typed_expression(c, raw)
        typed.append(f"CAST({expression} AS {_sql_type(c)}) AS {name}")
        if c.name not in present:
            continue
        text_name = quote("raw:" + c.name)
        if not _keeps_text(c, native):
            as_written.append(f"{name} AS {text_name}")
            continue
        typed_text = _as_written(c, f"CAST({expression} AS {_sql_type(c)})")
        if c.name in native:  # only a value the type check rejects needs its own text
            differs = f"{raw} IS NOT NULL AND {expression} IS NULL"
            original = f"CAST({raw} AS VARCHAR)"
        else:
            differs = f"{raw} IS DISTINCT FROM {typed_text}"
            original = raw
        kept_texts.append(f"CASE WHEN {differs} THEN {original} END AS {text_name}")
        as_written.append(f"coalesce(s.{text_name}, {_as_written(c, f's.{name}')}) AS {text_name}")
        as_written.append(f"s.{text_name} AS {quote('kept:' + c.name)}")
    select = ", ".join(typed + kept_texts)
    con.execute(f"CREATE OR REPLACE TABLE stored_{table.name} AS SELECT r.{ROW}, {select} FROM raw_{table.name} AS r")
    con.unregister(f"raw_{table.name}")
    con.execute(f"DROP VIEW IF EXISTS temp.raw_{table.name}")
    typed_columns = "".join(f", s.{quote(c.name)}" for c in table.columns)
    texts = "".join(f", {t}" for t in as_written)
    con.execute(
        f"CREATE OR REPLACE VIEW checked_{table.name} AS SELECT s.{ROW}{typed_columns}{texts} FROM stored_{table.name} AS s"
    )
    _create_typed_view(con, table, dates)


def _column_rules(table: Table, present: set[str], kept: set[str], dates: PlausibleDates) -> list[_Rule]:
    """The rules of each column present; `kept`: the columns whose text as written is kept beside the typed value
    (`_create_typed`)."""
    rules: list[_Rule] = []
    for col in table.columns:
        if col.name not in present:
            continue
        raw, typed = raw_ref(col.name), f"t.{quote(col.name)}"
        # Where the typed value is missing, the text as written is the text kept beside it (`_create_typed`); the
        # rules test that, which is stored, not the text as written, which for a number or a date is the typed
        # value formatted anew at every row. A plain text column is its own text: it cannot fail its type.
        if col.name in kept:
            kept_text = f"t.{quote('kept:' + col.name)}"
            missing = f"{typed} IS NULL AND {kept_text} IS NULL"
            message = _date_hint(raw) if col.type == "date" else _literal(_type_message(col))
            rules.append(_Rule("fatal", col.name, f"{typed} IS NULL AND {kept_text} IS NOT NULL", message, raw, True))
        else:
            missing = f"{typed} IS NULL"
        if col.required:
            rules.append(_Rule("fatal", col.name, missing, "required value is missing", "NULL"))
        if col.type == "string":
            # A code, date or number holding a NUL byte is refused by its type; plain text would pass unnoticed.
            rules.append(_Rule("fatal", col.name, f"contains({raw}, chr(0))", _NUL_MESSAGE, raw))
        if col.type == "date":
            if col.required:
                ignored = (
                    "the study is ignored with its lesions" if table.name == "imaging" else "the record is ignored"
                )
            else:
                ignored = "read as missing"
            implausible = f"'implausible date (' || {dates.reason(typed)} || '): {ignored}'"
            rules.append(_Rule("finding", col.name, f"NOT {dates.holds(typed)}", implausible, raw, True))
        if col.min is not None:
            rules.append(_Rule("fatal", col.name, f"{typed} < {col.min}", f"impossible value: below {col.min:g}", raw))
        if col.max is not None:
            rules.append(_Rule("fatal", col.name, f"{typed} > {col.max}", f"impossible value: above {col.max:g}", raw))
        if col.plausible_max is not None:
            rules.append(
                _Rule(
                    "finding",
                    col.name,
                    f"{typed} > {col.plausible_max}",
                    f"implausibly large (above {col.plausible_max:g}): read as missing",
                    raw,
                )
            )
        if col.unique:
            rules.append(_duplicate_rule(table, (col.name,)))
    if table.unique_together and all(c in present for c in table.unique_together):
        rules.append(_duplicate_rule(table, table.unique_together))
    return rules


def _duplicate_rule(table: Table, columns: tuple[str, ...]) -> _Rule:
    """Rows whose (non-missing) key another row shares.

    The keys held more than once are found by grouping (a hash aggregate, whose result is usually empty), and
    each row is looked up among them: cheaper than counting every key's rows beside every row with a window.
    """
    key = ", ".join(quote(c) for c in columns)
    same_key = " AND ".join(f"held.{quote(c)} = t.{quote(c)}" for c in columns)  # a missing key part matches none
    label = " + ".join(columns)
    condition = (
        f"EXISTS (SELECT 1 FROM (SELECT {key} FROM checked_{table.name} GROUP BY {key} HAVING count(*) > 1) AS held "
        f"WHERE {same_key})"
    )
    value = " || ' / ' || ".join(f"coalesce({raw_ref(c)}, '')" for c in columns)
    return _Rule("fatal", columns[0], condition, f"duplicate {label}: must be unique", value)


def _record_id(table: Table) -> str:
    parts = [f"'{c}=' || coalesce({raw_ref(c)}, '')" for c in table.key]
    return " || ', ' || ".join(parts)


@dataclass(frozen=True)
class Check:
    """A query naming problem rows as (row, record_id, value, message), and how to label what it finds."""

    severity: Severity
    table: str
    column: str | None
    query: str  # no ORDER BY / LIMIT: rows are ordered and capped when collected


def _broken_rules(con: duckdb.DuckDBPyConnection, table: Table, rules: list[_Rule]) -> list[_Rule]:
    """The rules some row of the table breaks, counted in one pass over it.

    Rows are looked up (and named) only for these: an extract without a problem is read once per table, not
    once per rule.
    """
    if not rules:
        return []
    counts = ", ".join(f"count(*) FILTER (WHERE {rule.condition})" for rule in rules)
    found = con.execute(f"SELECT {counts} FROM checked_{table.name} AS t").fetchall()[0]
    return [rule for rule, n in zip(rules, found, strict=True) if n]


def _rule_checks(con: duckdb.DuckDBPyConnection, table: Table, rules: list[_Rule], present: set[str]) -> list[Check]:
    """A check naming the offending rows of each rule that some row breaks; `present`: the table's columns the
    extract holds (a record is named by its key only when every key column is there)."""
    rules = _broken_rules(con, table, rules)
    if not rules:
        return []
    present_key = all(c in present for c in table.key)
    record_id = _record_id(table) if present_key else "NULL"
    checks = []
    for rule in rules:
        message = rule.message if rule.message_is_sql else _literal(rule.message)
        query = (
            f"SELECT t.{ROW}, {record_id}, CAST({rule.value} AS VARCHAR), {message} "
            f"FROM checked_{table.name} AS t "
            f"WHERE {rule.condition}"
        )
        checks.append(Check(rule.severity, table.name, rule.column, query))
    return checks


def _raw_columns(con: duckdb.DuckDBPyConnection, table: Table) -> set[str]:
    names = [row[0] for row in con.execute(f"DESCRIBE checked_{table.name}").fetchall()]
    return {name.removeprefix("raw:") for name in names if name.startswith("raw:")}


def collect_problems(con: duckdb.DuckDBPyConnection, checks: list[Check]) -> list[Problem]:
    """Run every check in one query; list up to MAX_ROWS_PER_RULE rows of each and count the rest."""
    if not checks:
        return []
    union = " UNION ALL ".join(
        f"SELECT {i} AS check_no, CAST(q0 AS BIGINT) AS row_no, CAST(q1 AS VARCHAR) AS record_id, "
        f"CAST(q2 AS VARCHAR) AS value, CAST(q3 AS VARCHAR) AS message FROM ({c.query}) AS q(q0, q1, q2, q3)"
        for i, c in enumerate(checks)
    )
    rows = con.execute(
        f"SELECT check_no, row_no, record_id, value, message, n FROM ("
        f"  SELECT *, row_number() OVER (PARTITION BY check_no ORDER BY row_no, record_id) AS k,"
        f"         count(*) OVER (PARTITION BY check_no) AS n FROM ({union})"
        f") WHERE k <= {MAX_ROWS_PER_RULE} ORDER BY check_no, k"
    ).fetchall()
    found: list[Problem] = []
    for number, check in enumerate(checks):
        mine = [r for r in rows if r[0] == number]
        found += [Problem(check.severity, check.table, check.column, r[1], r[2], r[3], r[4]) for r in mine]
        if mine and mine[0][5] > len(mine):
            total = mine[0][5]
            found.append(
                Problem(
                    check.severity,
                    check.table,
                    check.column,
                    None,
                    None,
                    None,
                    f"... and {total - len(mine)} more rows with the same problem ({total} in all)",
                )
            )
    return found


# Cross-table rules: (table, column, condition on typed table t, message, offending value).
_ORPHAN_TABLES = (
    "tumours",
    "systemic_therapy",
    "imaging",
    "lesions",
    "response_assessments",
    "performance_status",
    "observations",
)


# Dates that cannot precede the patient's birth (a sign of rows attached to the wrong patient).
_EVENT_DATES = (
    ("patients", "death_date"),
    ("tumours", "diagnosis_date"),
    ("systemic_therapy", "start_date"),
    ("imaging", "study_date"),
    ("response_assessments", "assessment_date"),
    ("performance_status", "assessment_date"),
    ("observations", "start_date"),
)


def _cross_table_checks(con: duckdb.DuckDBPyConnection, dates: PlausibleDates) -> list[Problem]:
    model = tables()
    checks: list[tuple[str, _Rule]] = []
    for name in _ORPHAN_TABLES:
        checks.append(
            (
                name,
                _Rule(
                    "fatal",
                    "patient_id",
                    "t.patient_id IS NOT NULL AND t.patient_id NOT IN (SELECT patient_id FROM typed_patients "
                    "WHERE patient_id IS NOT NULL)",
                    "patient is not in the patients table",
                    raw_ref("patient_id"),
                ),
            )
        )
    checks += [
        (
            "lesions",
            _Rule(
                "fatal",
                "study_id",
                "t.study_id IS NOT NULL AND t.study_id NOT IN (SELECT study_id FROM typed_imaging "
                "WHERE study_id IS NOT NULL)",
                "study is not in the imaging table",
                raw_ref("study_id"),
            ),
        ),
        (
            "lesions",
            _Rule(
                "fatal",
                "patient_id",
                "EXISTS (SELECT 1 FROM typed_imaging AS i WHERE i.study_id = t.study_id "
                "AND i.patient_id <> t.patient_id)",
                "'the study belongs to patient ' || (SELECT min(i.patient_id) FROM typed_imaging AS i "
                "WHERE i.study_id = t.study_id)",
                raw_ref("patient_id"),
                message_is_sql=True,
            ),
        ),
        (
            "systemic_therapy",
            _Rule(
                "fatal",
                "end_date",
                f"t.end_date < t.start_date AND {dates.holds('t.end_date')} AND {dates.holds('t.start_date')}",
                "'end date is before the start date ' || CAST(t.start_date AS VARCHAR)",
                raw_ref("end_date"),
                message_is_sql=True,
            ),
        ),
        (
            "observations",
            _Rule(
                "fatal",
                "end_date",
                f"t.end_date < t.start_date AND {dates.holds('t.end_date')} AND {dates.holds('t.start_date')}",
                "'end date is before the start date ' || CAST(t.start_date AS VARCHAR)",
                raw_ref("end_date"),
                message_is_sql=True,
            ),
        ),
        (
            "performance_status",
            _Rule(
                "fatal",
                "score",
                f"t.scale IN ({literals(clinical_codes().who_scales)}) AND t.score > 5",
                "'impossible value: ' || t.scale || ' scores run from 0 to 5'",
                raw_ref("score"),
                message_is_sql=True,
            ),
        ),
        (
            "systemic_therapy",
            _Rule(
                "finding",
                "drug",
                "t.drug IS NOT NULL AND lower(t.drug) NOT IN (SELECT name FROM drug_lookup)",
                "drug is not in the vocabulary: it still defines lines of therapy, but its class is unknown",
                raw_ref("drug"),
            ),
        ),
    ]
    for name, column in _EVENT_DATES:
        checks.append(
            (
                name,
                _Rule(
                    "fatal",
                    column,
                    f"{dates.holds(f't.{column}')} AND "
                    f"t.{column} < (SELECT min(p.birth_date) FROM typed_patients AS p WHERE p.patient_id = t.patient_id)",
                    "'dated before the patient''s birth ('  || CAST((SELECT min(p.birth_date) FROM typed_patients AS p "
                    "WHERE p.patient_id = t.patient_id) AS VARCHAR) || ')'",
                    raw_ref(column),
                    message_is_sql=True,
                ),
            )
        )
    # Absent tables have no rows; a rule on an optional column the extract leaves out has nothing to check.
    present = {name: _raw_columns(con, model[name]) for name in dict.fromkeys(name for name, _ in checks)}
    by_table: dict[str, list[_Rule]] = {}
    for name, rule in checks:
        if rule.column in present[name]:
            by_table.setdefault(name, []).append(rule)
    found = [c for name, rules in by_table.items() for c in _rule_checks(con, model[name], rules, present[name])]
    return collect_problems(con, found)


def create_vocabulary(con: duckdb.DuckDBPyConnection) -> None:
    """Create `drug_vocabulary`, `drug_components` and `drug_lookup` (every accepted spelling → drug)."""
    vocabulary = [(d.drug, d.drug_class, d.subclass, d.atc, d.former_atc) for d in drugs()]
    components = [(d.drug, c) for d in drugs() for c in d.regimen_components]
    lookup = [(d.drug, d.drug) for d in drugs()] + sorted(drug_aliases().items())
    for name, columns, rows in (
        ("drug_vocabulary", ("drug", "drug_class", "subclass", "atc", "former_atc"), vocabulary),
        ("drug_components", ("drug", "component"), components),
        ("drug_lookup", ("name", "drug"), lookup),
    ):
        create_table(con, name, dict.fromkeys(columns, "text"), rows)
