"""Typing: every table read into `stored_<table>` with each value in its dictionary type, and the views beside it.

`stored_<table>` holds the typed values (and, where it differs, the text as the provider wrote it, for
messages); `checked_<table>` shows both to the rules (`rules`); `typed_<table>` is what staging reads, with an
implausible value read as missing. A code of a closed list is stored as an ENUM of its values, one byte where
text takes sixteen (`stored_type`): at a million patients the stored tables outgrow DuckDB's memory limit. Both
views give it as text again, so no reader sees an ENUM. `stored_<table>` lies in the catalog `storage` attaches:
memory, or a file in the run's private folder when the typed inputs would crowd DuckDB's memory. Only identifiers
and codes from the dictionary ever appear in the generated SQL text; input values never do.
"""

from __future__ import annotations

import duckdb

from oligo_cohort.database import register_frame
from oligo_cohort.dictionary import (
    NUMBER_DECIMALS,
    NUMBER_PATTERN,
    ROUNDING_NOISE,
    Column,
    Table,
    tables,
)
from oligo_cohort.dictionary import sql_type as _sql_type
from oligo_cohort.problems import Problem
from oligo_cohort.sources import ROW, RawTable, reread_parquet_as_text
from oligo_cohort.sql_text import identifier as quote
from oligo_cohort.sql_text import literal as _literal
from oligo_cohort.validate.dates import PlausibleDates
from oligo_cohort.validate.storage import stored_table

_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
DATE_SHAPE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T]00:00(:00(\.0+)?)?)?"


def typed_expression(col: Column, raw: str) -> str:
    """SQL turning the text value `raw` into the column's type; NULL when it cannot be read."""
    if col.type == "string":
        if col.normalise == "lower":  # e.g. drug names: matched case- and spacing-insensitively
            return f"lower(regexp_replace({raw}, '\\s+', ' ', 'g'))"
        return raw
    if col.type == "date":
        return (
            f"CASE WHEN regexp_full_match({raw}, {_literal(DATE_SHAPE)}) "
            f"THEN CAST(try_strptime(left({raw}, 10), '%Y-%m-%d') AS DATE) END"
        )
    if col.type == "number":
        return f"TRY_CAST({written_number(col, raw)} AS {_sql_type(col)})"
    if col.type == "integer":
        whole = written_number(col, raw)
        return f"CASE WHEN abs({whole}) < 1e9 THEN CAST({whole} AS INTEGER) END"
    if col.type == "boolean":
        trues = ", ".join(_literal(v) for v in _TRUE)
        falses = ", ".join(_literal(v) for v in _FALSE)
        return f"CASE WHEN lower({raw}) IN ({trues}) THEN TRUE WHEN lower({raw}) IN ({falses}) THEN FALSE END"
    if col.type == "code":
        return _code_expression(col, raw)
    raise ValueError(f"unknown column type {col.type!r} in the dictionary")


def written_number(col: Column, text: str) -> str:
    """SQL: the number (DOUBLE) the text holds when it is written as one of the column's kind (a whole number for an
    integer column), else NULL. Beside a missing typed value, it is a number too large for the type it is kept
    in (DECIMAL(12, 3) holds up to a billion), which the column's bounds then judge (`rules`), not its type."""
    number = f"TRY_CAST({text} AS DOUBLE)"
    written = f"regexp_full_match({text}, {_literal(NUMBER_PATTERN)}) AND isfinite({number})"
    if col.type == "integer":
        written += f" AND {number} = floor({number})"
    return f"CASE WHEN {written} THEN {number} END"


def rounded_off(number: str) -> str:
    """SQL: whether the DOUBLE `number` has digits beyond the decimals a number is kept to (NUMBER_DECIMALS), more
    than a binary fraction's own error: typing rounds them off, and a rule reports it (`rules`)."""
    return f"abs({number} - round({number}, {NUMBER_DECIMALS})) > {ROUNDING_NOISE}"


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


def create_typed_streaming(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    raw_table: RawTable,
    dates: PlausibleDates,
    problems: list[Problem],
    patients: str | None = None,
) -> RawTable:
    """Type a table (only the rows of the patients listed in table `patients`, if given). A Parquet file's rows
    stream from the file only now, so only now can a damaged page, or text that is not UTF-8, show: the file is
    then read again value by value to name what is wrong (`sources`)."""
    if not raw_table.query:
        register_frame(con, f"raw_{table.name}", raw_table.data)
        _create_typed(con, table, set(raw_table.columns), raw_table.native, dates, patients)
        return raw_table
    con.execute(f"CREATE OR REPLACE TEMP VIEW raw_{table.name} AS {raw_table.query}")
    try:
        _create_typed(con, table, set(raw_table.columns), raw_table.native, dates, patients)
        return raw_table
    except duckdb.InterruptException:
        # Stopped (Ctrl-C, or another table's error while typed side by side), not a damaged file: reading it again
        # value by value took longer than the typing it interrupted.
        raise
    except duckdb.Error as exc:
        con.execute(f"DROP VIEW IF EXISTS temp.raw_{table.name}")
        reread, notes = reread_parquet_as_text(raw_table, exc)
    problems += [Problem("finding", table.name, column, row, None, value, note) for column, row, value, note in notes]
    register_frame(con, f"raw_{table.name}", reread.data)
    _create_typed(con, table, set(reread.columns), reread.native, dates, patients)
    return reread


def stored_type(col: Column) -> str:
    """The type a column is stored in by validation: a code of a closed list as an ENUM of its values (one byte
    a value, where text takes sixteen), anything else in its dictionary type. Every reader reads the stored
    values through a view (`checked_`, `typed_`) that gives the dictionary type, so no engine sees an ENUM."""
    if col.type == "code" and col.values:
        return "ENUM(" + ", ".join(_literal(v) for v in col.values) + ")"
    return _sql_type(col)


def _listed_spelling(col: Column, raw: str) -> str | None:
    """SQL: the stored value of a code written exactly as its closed list spells it, else NULL; None for a column
    that is not such a code (or whose list spells two values alike but for case, which the CASE of
    `typed_expression` tells apart by its order)."""
    if stored_type(col) == _sql_type(col) or len({v.lower() for v in col.values}) != len(col.values):
        return None
    return f"TRY_CAST({raw} AS {stored_type(col)})"


def _as_read(col: Column, stored: str) -> str:
    """SQL reading a stored value in the column's dictionary type."""
    return f"CAST({stored} AS VARCHAR)" if stored_type(col) != _sql_type(col) else stored


def raw_ref(column: str, alias: str = "t") -> str:
    """The column's value as the provider wrote it (text), kept beside the typed value for messages."""
    return f"{alias}.{quote('raw:' + column)}"


def create_empty_typed(con: duckdb.DuckDBPyConnection, table: Table, dates: PlausibleDates) -> None:
    cols = ", ".join(f"CAST(NULL AS {_sql_type(c)}) AS {quote(c.name)}" for c in table.columns)
    con.execute(
        f"CREATE OR REPLACE TABLE {stored_table(table.name)} AS SELECT CAST(NULL AS BIGINT) AS {ROW}, {cols} LIMIT 0"
    )
    con.execute(f"CREATE OR REPLACE VIEW checked_{table.name} AS SELECT * FROM {stored_table(table.name)}")
    _create_typed_view(con, table, dates)


def _create_typed_view(con: duckdb.DuckDBPyConnection, table: Table, dates: PlausibleDates) -> None:
    """The typed columns; an implausible value (a 4,000 mm lesion, a date in 9999) reads as missing, with a finding.

    Every reader of the extract reads these views: the default cut-off, the cross-table checks, staging (where a
    record whose own date reads as missing is left out). So an implausible date is used nowhere.
    """

    def column(c: Column) -> str:
        if stored_type(c) != _sql_type(c):
            return f"{_as_read(c, quote(c.name))} AS {quote(c.name)}"
        if c.type == "date":
            return f"CASE WHEN {dates.holds(quote(c.name))} THEN {quote(c.name)} END AS {quote(c.name)}"
        if c.plausible_max is None:
            return quote(c.name)
        return f"CASE WHEN {quote(c.name)} <= {c.plausible_max} THEN {quote(c.name)} END AS {quote(c.name)}"

    cols = ", ".join(column(c) for c in table.columns)
    con.execute(f"CREATE OR REPLACE VIEW typed_{table.name} AS SELECT {ROW}, {cols} FROM {stored_table(table.name)}")


def drop_validation_tables(con: duckdb.DuckDBPyConnection, keep: frozenset[str] = frozenset()) -> None:
    """Drop what validation created (`typed_`, `checked_`, `stored_`) once staging is done; the typed tables in
    `keep` stay, as the staged views of those tables read them."""
    for name in tables():
        con.execute(f"DROP VIEW IF EXISTS checked_{name}")
        if name not in keep:
            con.execute(f"DROP VIEW IF EXISTS typed_{name}")
            con.execute(f"DROP TABLE IF EXISTS {stored_table(name)}")


def _raw_ref(col: Column, present: set[str]) -> str:
    return f"r.{quote(col.name)}" if col.name in present else "CAST(NULL AS VARCHAR)"


def read_expression(col: Column, value: str, native: bool) -> str:
    """SQL: the typed value of a value as a reader gives it, text or (`native`) in its own type already matching
    the column's (`RawTable.native`); NULL when it cannot be read."""
    return _native_expression(col, value) if native else typed_expression(col, value)


def _native_expression(col: Column, value: str) -> str:
    """SQL typing a value that arrives in a native type matching the column's (see sources.parquet_files.NATIVE_TYPES)."""
    if col.type == "number":
        return f"CASE WHEN isfinite(CAST({value} AS DOUBLE)) THEN TRY_CAST({value} AS {_sql_type(col)}) END"
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


def keeps_text(col: Column, native: frozenset[str]) -> bool:
    """Whether the column's text as written is kept beside its typed value; a plain text column is its own text."""
    return not (col.type == "string" and not col.normalise and col.name not in native)


def _create_typed(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    present: set[str],
    native: frozenset[str],
    dates: PlausibleDates,
    patients: str | None = None,
) -> None:
    """`stored_<table>`: each value typed; `checked_<table>`: beside it, its text as written; `typed_<table>`.

    With `patients` (a table with a patient_id column), only the rows of those patients are kept. Every reader
    trims text alike (`sources`), so the text of a patient_id is already its typed value.

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
        expression = read_expression(c, raw, c.name in native)
        listed = _listed_spelling(c, raw)
        if listed is not None:
            # Most codes arrive spelt as listed: one lookup decides them, and the case-insensitive match (a CASE of
            # every value) runs only for the others. The same value either way; a quarter less typing of lesions.
            typed.append(f"coalesce({listed}, CAST({expression} AS {stored_type(c)})) AS {name}")
        else:
            typed.append(f"CAST({expression} AS {stored_type(c)}) AS {name}")
        if c.name not in present:
            continue
        text_name = quote("raw:" + c.name)
        if not keeps_text(c, native):
            as_written.append(f"{name} AS {text_name}")
            continue
        if c.name in native:  # only a value the type check rejects, or a number it rounds off, needs its own text
            differs = f"{raw} IS NOT NULL AND {expression} IS NULL"
            if c.type == "number":
                differs = f"{raw} IS NOT NULL AND ({expression} IS NULL OR {rounded_off(f'CAST({raw} AS DOUBLE)')})"
            original = f"CAST({raw} AS VARCHAR)"
        elif listed is not None:  # a code differs from its typed value unless spelt exactly as listed
            differs = f"{raw} IS NOT NULL AND {listed} IS NULL"
            original = raw
        else:
            differs = f"{raw} IS DISTINCT FROM {_as_written(c, f'CAST({expression} AS {_sql_type(c)})')}"
            original = raw
        kept_texts.append(f"CASE WHEN {differs} THEN {original} END AS {text_name}")
        as_written.append(f"coalesce(s.{text_name}, {_as_written(c, _as_read(c, f's.{name}'))}) AS {text_name}")
        as_written.append(f"s.{text_name} AS {quote('kept:' + c.name)}")
    select = ", ".join(typed + kept_texts)
    kept_rows = ""
    if patients is not None and "patient_id" in present:  # without it the table is refused (a required column)
        kept_rows = f" WHERE r.patient_id IN (SELECT patient_id FROM {quote(patients)})"
    con.execute(
        f"CREATE OR REPLACE TABLE {stored_table(table.name)} AS SELECT r.{ROW}, {select} FROM raw_{table.name} AS r{kept_rows}"
    )
    con.unregister(f"raw_{table.name}")
    con.execute(f"DROP VIEW IF EXISTS temp.raw_{table.name}")
    typed_columns = "".join(f", {_as_read(c, f's.{quote(c.name)}')} AS {quote(c.name)}" for c in table.columns)
    texts = "".join(f", {t}" for t in as_written)
    con.execute(
        f"CREATE OR REPLACE VIEW checked_{table.name} AS SELECT s.{ROW}{typed_columns}{texts} FROM {stored_table(table.name)} AS s"
    )
    _create_typed_view(con, table, dates)
