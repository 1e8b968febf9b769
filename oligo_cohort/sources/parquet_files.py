"""A Parquet file as a DuckDB query giving its text table, streamed into validation; re-read by value if need be.

Columns already of the dictionary's type are given as they are (no text round trip); every other value is
cast to text and trimmed as the CSV and DataFrame readers trim it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from oligo_cohort.column_names import model_name
from oligo_cohort.dictionary import tables
from oligo_cohort.file_kinds import UnreadableError
from oligo_cohort.problems import Problem
from oligo_cohort.sources.text_tables import (
    ROW,
    RawTable,
    as_text_table,
    check_unique,
    column_as_text,
    first_error_line,
    is_nested_duckdb_type,
    nested_cells,
    numeric_ids,
)
from oligo_cohort.sql_text import identifier, literal

if TYPE_CHECKING:
    import pyarrow as pa  # imported only to read a damaged file again value by value (`reread_parquet_as_text`)

# What polars' `str.strip_chars()` strips from the text of CSV files and DataFrames (Unicode's White_Space; not
# the separators U+001C to U+001F that Python's `str.strip()` also strips), for the text of Parquet values read by
# DuckDB: every reader trims the same characters (tests/loading/test_sources.py).
WHITE_SPACE = " \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


# The Parquet column types (as DuckDB reads them) that already hold a dictionary type's values: such a column is
# typed as it is (a text round trip costs most of the time of validating a large extract). Timestamps and text go
# through the text rules.
_INTEGERS = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
)
NATIVE_TYPES: dict[str, Callable[[str], bool]] = {
    "date": lambda t: t == "DATE",
    "number": lambda t: t in _INTEGERS or t in ("FLOAT", "DOUBLE") or t.startswith("DECIMAL("),
    "integer": lambda t: t in _INTEGERS,
    "boolean": lambda t: t == "BOOLEAN",
}


@dataclass(frozen=True)
class Footer:
    """What a Parquet file's footer says: its columns (name as written, type as DuckDB reads it), rows, row groups."""

    columns: tuple[tuple[str, str], ...]
    rows: int
    row_groups: int


def parquet_footer(file: Path, con: duckdb.DuckDBPyConnection) -> Footer:
    """Read the footer of a Parquet file with DuckDB (`UnreadableError` when it is no Parquet file).

    The names come from the file's own schema, as written: DuckDB's reader would rename a name given twice
    (`a`, `a_1`), which must be refused instead. The types come from DuckDB's reader, which reads the rows.
    """
    quoted = literal(str(file))
    try:
        schema = con.execute(f"SELECT name, num_children FROM parquet_schema({quoted})").fetchall()
        types = con.execute(f"SELECT column_type FROM (DESCRIBE SELECT * FROM read_parquet({quoted}))").fetchall()
        [(rows, row_groups)] = con.execute(
            f"SELECT num_rows, num_row_groups FROM parquet_file_metadata({quoted})"
        ).fetchall()
    except duckdb.Error as exc:
        raise UnreadableError(f"the file cannot be read as Parquet ({_without_path(exc, file)})") from None
    names = _top_level_names(schema)
    if len(names) != len(types):
        raise UnreadableError(f"the file cannot be read as Parquet ({len(names)} columns, {len(types)} read)")
    columns = tuple((name, kind) for name, (kind,) in zip(names, types, strict=True))
    return Footer(columns, int(rows), int(row_groups))


def _top_level_names(schema: list[tuple[str, int | None]]) -> list[str]:
    """The columns of a Parquet schema, whose elements come depth first (the root first, a group before its
    children, each saying how many it has)."""
    names: list[str] = []
    open_groups = [schema[0][1] or 0] if schema else []  # children still to come, per open group
    for name, children in schema[1:]:
        if len(open_groups) == 1:
            names.append(name)
        open_groups[-1] -= 1
        if children:
            open_groups.append(children)
        while len(open_groups) > 1 and open_groups[-1] == 0:
            open_groups.pop()
    return names


def _without_path(exc: BaseException, file: Path) -> str:
    """DuckDB's reason, the file named by its name alone (the problem names the file already)."""
    return first_error_line(exc).replace(str(file), file.name)


def parquet_table(name: str, file: Path, con: duckdb.DuckDBPyConnection, findings: list[Problem]) -> RawTable:
    """A Parquet file as a query giving its text table: the same text as `as_text_table`, read by DuckDB.

    Only the footer is read here, on `con`; the rows stream from the file when
    validation types them, so a table of tens of millions of rows is never held in memory as text. Only the
    dictionary's columns are read: another column, of whatever type, is named (and ignored) but never read.
    Should the rows not stream (a damaged page, text that is not UTF-8), validation reads the file again with
    `reread_parquet_as_text`. pyarrow is not needed for any of it. An id column of numbers adds a finding to
    `findings`.
    """
    footer = parquet_footer(file, con)
    check_unique([original for original, _ in footer.columns])
    findings += numeric_ids(name, footer.columns)
    types = dict(footer.columns)
    names = {original: model_name(original) for original, _ in footer.columns}
    quoted_file = literal(str(file))
    spaces = literal(WHITE_SPACE)
    model_types = {c.name: c.type for c in tables()[name].columns}
    for original, column in names.items():
        if column in model_types and is_nested_duckdb_type(types[original]):
            raise nested_cells(original, types[original])
    native = frozenset(
        column
        for original, column in names.items()
        if NATIVE_TYPES.get(model_types.get(column, ""), lambda _: False)(types[original])
    )

    def text(original: str) -> str:
        # Text some writers store as bytes (BINARY without its UTF-8 mark) is decoded, not cast: a cast spells
        # each byte beyond ASCII as `\xFC`. Bytes that are not UTF-8 stop the stream, and the file is read again
        # value by value, as Latin-1 with a note (`reread_parquet_as_text`), as a STRING column's would be.
        value = (
            f"decode({identifier(original)})"
            if types[original] == "BLOB"
            else f"CAST({identifier(original)} AS VARCHAR)"
        )
        # Trimming against the list is costly: done only when the first or last character is not printable ASCII
        # ('!' to '~'). The first is tested by comparing the text, which reads its first byte and makes no string.
        first = f"{value} >= '!' AND {value} < chr(127)"
        printable = f"{first} AND ascii(substr({value}, -1)) BETWEEN 33 AND 126"
        return f"NULLIF(CASE WHEN {printable} THEN {value} ELSE trim({value}, {spaces}) END, '')"

    def column_sql(original: str, column: str) -> str:
        value = identifier(original) if column in native else text(original)
        return f", {value} AS {identifier(column)}"

    texts = "".join(column_sql(original, column) for original, column in names.items() if column in model_types)
    query = f"SELECT file_row_number + 1 AS {ROW}{texts} FROM read_parquet({quoted_file}, file_row_number = true)"
    empty = pl.DataFrame(schema={ROW: pl.Int64, **dict.fromkeys(names.values(), pl.String)})
    return RawTable(name, str(file), empty, query=query, rows=footer.rows, row_groups=footer.row_groups, native=native)


def reread_parquet_as_text(table: RawTable, error: BaseException) -> tuple[RawTable, list[tuple[str, int, str, str]]]:
    """Read a Parquet file DuckDB could not stream, value by value, as text held in memory.

    Text that is not UTF-8 is read as Latin-1, as in a CSV file, with a note (column, row, value, what) for the
    first such value of each column. A file pyarrow cannot read either is unreadable: `UnreadableError`, with both
    readers' reasons.
    """
    file = Path(table.origin)
    wanted = [c.name for c in tables()[table.name].columns]
    notes: list[tuple[str, int, str, str]] = []
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(file)
        names = [n for n in parquet.schema_arrow.names if model_name(n) in wanted]
        data = parquet.read(columns=names)
    except Exception as exc:  # corrupt pages, unsupported encodings...
        reasons = f"{first_error_line(error)}; {first_error_line(exc)}"
        raise UnreadableError(f"the file cannot be read as Parquet ({reasons})") from None
    columns: dict[str, pa.Array] = {}
    for original in names:
        values, note = column_as_text(data.column(original).combine_chunks())
        if note:
            row, value, what = note
            notes.append((model_name(original), row, value, f"{what} ({file.name})"))
        columns[original] = values
    frame = pl.from_arrow(pa.table(columns) if columns else pa.table({"_": pa.nulls(data.num_rows)}).drop(["_"]))
    assert isinstance(frame, pl.DataFrame)
    frame = frame.with_row_index(ROW, 1)
    text = as_text_table(frame)
    # The columns the file has but the dictionary lacks are named (and ignored) like those of a streamed file.
    missing = [c for c in table.columns if c not in text.columns]
    text = text.with_columns(pl.lit(None, pl.String).alias(column) for column in missing)
    return RawTable(table.name, table.origin, text), notes
