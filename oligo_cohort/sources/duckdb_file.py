"""The model's tables in a DuckDB database file, opened read-only, every value cast to text by DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from oligo_cohort.column_names import model_name
from oligo_cohort.database import close, connect
from oligo_cohort.dictionary import tables
from oligo_cohort.errors import UsageError
from oligo_cohort.file_kinds import UnreadableError
from oligo_cohort.problems import Problem
from oligo_cohort.sources.text_tables import (
    ROW,
    RawExtract,
    RawTable,
    as_text_table,
    check_unique,
    column_as_text,
    first_error_line,
    is_nested_duckdb_type,
    nested_cells,
    numeric_ids,
)
from oligo_cohort.sql_text import identifier


def read_duckdb_file(path: Path) -> RawExtract:
    """The model's tables in a DuckDB file, opened read-only; a table may be in any one schema of the file.

    Every value is cast to text by DuckDB itself (a LIST, STRUCT, UNION, BLOB, INTERVAL... becomes its text and
    is then refused by the column's type, if the dictionary has the column); other columns are not read.
    """
    found: dict[str, RawTable] = {}
    try:
        source = connect(path, read_only=True)
    except duckdb.Error as exc:
        raise UsageError(f"{path} cannot be opened as a DuckDB database ({first_error_line(exc)})") from None
    try:
        places, problems = model_tables(source)
        for name, (schema, table) in places.items():
            origin = f"{path}:{table}" if schema == "main" else f"{path}:{schema}.{table}"
            try:
                data, notes = duckdb_text_table(source, name, schema, table)
            except (UnreadableError, duckdb.Error) as exc:
                problems.append(Problem("fatal", name, None, None, None, f"{schema}.{table}", first_error_line(exc)))
                continue
            problems += numeric_ids(name, table_columns(source, schema, table))
            for column, (row, value, what) in notes.items():
                problems.append(Problem("finding", name, column, row, None, value, f"{what} ({origin})"))
            found[name] = RawTable(name, origin, data)
    except duckdb.Error as exc:
        raise UsageError(f"{path} cannot be read as a DuckDB database ({first_error_line(exc)})") from None
    finally:
        close(source)
    return RawExtract(found, problems, str(path), (path,))


def model_tables(source: duckdb.DuckDBPyConnection) -> tuple[dict[str, tuple[str, str]], list[Problem]]:
    """Where each table of the model is read in the file: its name -> (schema, table name as written); and a fatal
    problem for each that cannot be read (in more than one schema, or a view). Whoever reads the file's tables
    (the reader here, the reviewed extract's copy) finds them by this one rule."""
    places: dict[str, tuple[str, str]] = {}
    problems: list[Problem] = []
    for name, found in _duckdb_tables(source).items():
        if name not in tables():
            continue
        shown = ", ".join(f"{schema}.{table} ({kind})" for schema, table, kind in found)
        if len(found) > 1:
            message = "the table is in more than one schema of the file: keep one"
            problems.append(Problem("fatal", name, None, None, None, shown, message))
            continue
        schema, table, kind = found[0]
        if kind != "table":
            message = f"{schema}.{table} is a view: only tables are read (CREATE TABLE {name} AS SELECT ...)"
            problems.append(Problem("fatal", name, None, None, None, shown, message))
            continue
        places[name] = (schema, table)
    return places, problems


def _duckdb_tables(source: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str, str]]]:
    """Model-named tables and views of the file's own database: lower-cased name -> (schema, name, kind)."""
    rows = source.execute(
        "SELECT schema_name, table_name, 'table' FROM duckdb_tables() "
        "WHERE database_name = current_database() AND NOT temporary "
        "UNION ALL SELECT schema_name, view_name, 'view' FROM duckdb_views() "
        "WHERE database_name = current_database() AND NOT internal AND NOT temporary "
        "ORDER BY 1, 2"
    ).fetchall()
    located: dict[str, list[tuple[str, str, str]]] = {}
    for schema, table, kind in rows:
        located.setdefault(table.lower(), []).append((schema, table, kind))
    return located


def table_sql(source: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """The table as SQL names it: catalog, schema and name, quoted. A schema named like the file (`registry` in
    registry.duckdb) would otherwise be ambiguous with the file's own catalog."""
    [(catalog,)] = source.execute("SELECT current_database()").fetchall()
    return f"{identifier(catalog)}.{identifier(schema)}.{identifier(table)}"


def table_columns(source: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    """The table's columns: (name as written, DuckDB type), in order."""
    return source.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, table],
    ).fetchall()


def duckdb_text_table(
    source: duckdb.DuckDBPyConnection, name: str, schema: str, table: str
) -> tuple[pl.DataFrame, dict[str, tuple[int, str, str]]]:
    """The table's text, and a note (row, value, what) for each column of bytes holding one that is not UTF-8."""
    columns = table_columns(source, schema, table)
    check_unique([column for column, _ in columns])
    wanted = set(tables()[name].column_names)
    for column, data_type in columns:
        if model_name(column) in wanted and is_nested_duckdb_type(data_type):
            raise nested_cells(column, data_type)

    # Text kept as bytes (BLOB) is decoded as a Parquet file's is, not cast: a cast spells each byte beyond ASCII
    # as `\xFC`. Identifiers come from the file's own catalogue, quoted; no value of the file becomes SQL text.
    as_bytes = {c for c, data_type in columns if model_name(c) in wanted and data_type == "BLOB"}
    selected = "".join(
        f", {identifier(c)}"
        if c in as_bytes
        else f", CAST({identifier(c)} AS VARCHAR) AS {identifier(c)}"
        if model_name(c) in wanted
        else f", NULL AS {identifier(c)}"
        for c, _ in columns
    )
    rows = source.sql(f"SELECT rowid + 1 AS {ROW}{selected} FROM {table_sql(source, schema, table)} ORDER BY rowid")
    arrow = rows.to_arrow_table()
    notes: dict[str, tuple[int, str, str]] = {}
    for column in as_bytes:
        texts, note = column_as_text(arrow.column(column).combine_chunks())
        arrow = arrow.set_column(arrow.column_names.index(column), column, texts)
        if note:
            notes[model_name(column)] = note
    frame = pl.from_arrow(arrow)
    assert isinstance(frame, pl.DataFrame)
    return as_text_table(frame), notes
