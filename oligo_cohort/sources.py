"""Read an extract as it arrives — a folder of CSV/Parquet files, a DuckDB file, or DataFrames — into text tables.

Every value is read as text, with its 1-based row number, so that validation
can name the exact row and the value as the provider wrote it, before any
type is imposed. Input files are only read, never written.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import stat
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pyarrow as pa

from oligo_cohort.database import close, connect
from oligo_cohort.dictionary import tables
from oligo_cohort.errors import UsageError
from oligo_cohort.problems import Problem
from oligo_cohort.sql_text import identifier, literal

if TYPE_CHECKING:
    import pandas as pd  # never imported here: a pandas frame can only arrive when its caller imported pandas

ROW = "_row"  # 1-based row number of a record in its source (first data row = 1)

# A folder or DuckDB file, or tables by name: pandas or polars DataFrames, or Arrow tables.
ExtractSource = str | Path | Mapping[str, "pd.DataFrame | pl.DataFrame | pa.Table"]


@dataclass(frozen=True)
class RawTable:
    """One input table as text: its origin, its (normalised) column names and its rows."""

    name: str
    origin: str
    data: pa.Table  # every column a string, plus ROW (no rows when `query` reads them)
    # A DuckDB query giving the same text table straight from the file (Parquet): the rows then stream from the
    # file into validation instead of being held in memory as text first.
    query: str = ""
    rows: int = 0  # the number of rows `query` gives
    row_groups: int = 0  # the Parquet file's row groups: DuckDB reads one row group on one thread
    # Columns `query` gives in their own Parquet type because it already is the dictionary's (a DATE column for a
    # date, a floating-point or integer column for a number...): typed as they are, with no text round trip.
    native: frozenset[str] = frozenset()

    @property
    def columns(self) -> list[str]:
        """Column names as found (lower-cased, trimmed), without the row number."""
        return [c for c in self.data.column_names if c != ROW]

    @property
    def num_rows(self) -> int:
        return self.rows if self.query else self.data.num_rows


@dataclass(frozen=True)
class RawExtract:
    """The tables found in a source, and the problems met while reading them."""

    tables: dict[str, RawTable]
    problems: list[Problem]
    origin: str
    files: tuple[Path, ...]  # input files read (for checksums in the manifest)


def read_source(source: ExtractSource) -> RawExtract:
    """Read every table of the model present in `source` as text."""
    if isinstance(source, Mapping):
        return _read_frames(source)
    path = Path(source)
    kind = file_kind(path)
    if kind == "folder":
        return _read_folder(path)
    if kind == DUCKDB_FILE:
        return _read_duckdb_file(path)
    if kind == "missing":
        raise UsageError(f"extract {path} does not exist")
    if kind in _NOT_FILES or kind.startswith("unreadable"):
        raise UsageError(f"extract {path} is {_article(kind)}, not a folder or a DuckDB database file")
    raise UsageError(
        f"{path} is {_article(kind)}, not a DuckDB database; give the folder holding the extract's tables "
        "(one CSV or Parquet file per table), or a DuckDB database file"
        + (": export the tables as CSV or Parquet first" if kind in _EXPORT_FIRST else "")
    )


# What a path is, told from the file system and the file's first bytes, before anything opens it as a table.
DUCKDB_FILE = "DuckDB database"
_NOT_FILES = ("named pipe (FIFO)", "socket", "device", "broken link", "link loop")
_EXPORT_FIRST = ("SQLite database", "PostgreSQL dump", "zip archive (an Excel .xlsx workbook?)", "Excel .xls workbook")
_MAGIC = (
    (8, b"DUCK", DUCKDB_FILE),
    (0, b"SQLite format 3\x00", "SQLite database"),
    (0, b"PGDMP", "PostgreSQL dump"),
    (0, b"PK\x03\x04", "zip archive (an Excel .xlsx workbook?)"),
    (0, b"PK\x05\x06", "zip archive (an Excel .xlsx workbook?)"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel .xls workbook"),
    (0, b"PAR1", "Parquet file"),
    (0, b"\x1f\x8b", "gzip archive"),
    (0, b"%PDF", "PDF document"),
)


def file_kind(path: Path) -> str:
    """What `path` is: `folder`, `missing`, a special file (FIFO, socket, device), or a file by its first bytes.

    Only the file's status is read for a special file: opening a FIFO would wait for a writer forever. Links are
    followed (a link to a table file reads that file); a broken link or a loop is named as such.
    """
    try:
        status = path.stat()
    except FileNotFoundError:
        return "broken link" if path.is_symlink() else "missing"
    except OSError as exc:
        return "link loop" if exc.errno == errno.ELOOP else f"unreadable file ({exc.strerror})"
    mode = status.st_mode
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "socket"
    if not stat.S_ISREG(mode):
        return "device"
    try:
        head = _read_regular(path, 16)
    except UnreadableError as exc:
        return f"unreadable file ({exc})"
    if not head:
        return "empty file"
    for offset, magic, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    return "text file" if b"\x00" not in head else "binary file"


def _article(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _read_regular(path: Path, size: int = -1) -> bytes:
    """The bytes of a regular file (up to `size`); never waits on a FIFO that took its place after a check."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise UnreadableError(f"the file cannot be opened ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnreadableError("not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(size)
    except OSError as exc:
        raise UnreadableError(f"the file cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)


# Extracts this tool writes (`import`, `review import`): their CSV tables went through the one CSV writer, which
# marks formula-like text inert with a leading apostrophe; read back, the apostrophe comes off again, so an id
# such as `-00107` is the same id in every table and in every screen of the extract.
TOOL_EXTRACTS = ("import", "reviewed-extract")


def _read_folder(folder: Path) -> RawExtract:
    from oligo_cohort.destination import Marker

    known = tables()
    by_table: dict[str, list[Path]] = {}
    problems: list[Problem] = []
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise UsageError(f"the extract folder {folder} cannot be read ({exc.strerror})") from None
    marker = Marker.read(folder)
    written_by_tool = marker is not None and marker.kind in TOOL_EXTRACTS
    for file in entries:
        stem, suffix = file.stem.lower(), file.suffix.lower()
        if file.name.startswith(".") or suffix not in (".csv", ".parquet"):
            continue
        if written_by_tool and stem not in known and file.name in marker.entries:
            continue  # the tool's own report beside the tables (mapping_report.csv, review_audit.csv)
        if stem not in known:
            problems.append(
                Problem("finding", stem, None, None, None, file.name, "file is not a table of the model; ignored")
            )
            continue
        kind = file_kind(file)
        if kind in ("folder", "missing", *_NOT_FILES) or kind.startswith("unreadable"):
            # Named like a table yet no file to read: never skipped in silence, and a FIFO is never opened.
            problems.append(Problem("fatal", stem, None, None, None, file.name, f"{_article(kind)}, not a file"))
            continue
        by_table.setdefault(stem, []).append(file)
    found: dict[str, RawTable] = {}
    files: list[Path] = []
    for name, candidates in by_table.items():
        if len(candidates) > 1:
            names = ", ".join(c.name for c in candidates)
            problems.append(Problem("fatal", name, None, None, None, names, "the table is given more than once"))
            continue
        file = candidates[0]
        files.append(file)
        notes: list[str] = []
        try:
            if file.suffix.lower() == ".csv":
                text = _read_csv(file, notes)
                table = RawTable(name, str(file), _without_inert_marks(text) if written_by_tool else text)
            else:
                table = _parquet_table(name, file)
        except UnreadableError as exc:
            problems.append(Problem("fatal", name, None, None, None, file.name, str(exc)))
            continue
        problems += [Problem("finding", name, None, None, None, file.name, note) for note in notes]
        found[name] = table
    return RawExtract(found, problems, str(folder), tuple(files))


class UnreadableError(Exception):
    """A table's file cannot be read as a table; the message says why (a fatal problem naming the file)."""


DELIMITERS = (",", ";", "\t", "|")
# A cell may be long (free text, a long id): the csv module's 128 KiB field limit must not refuse it.
csv.field_size_limit(2**31 - 1)


def _without_inert_marks(table: pa.Table) -> pa.Table:
    """Text as it was before the CSV writer marked it inert (csv_output.read_back, column-wise)."""
    import pyarrow.compute as pc

    from oligo_cohort.csv_output import INERT_MARK

    columns = []
    for name in table.column_names:
        column = table[name]
        if name != ROW and (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            column = pc.if_else(pc.starts_with(column, INERT_MARK), pc.utf8_slice_codeunits(column, 1), column)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _read_csv(file: Path, notes: list[str]) -> pa.Table:
    """Read a CSV file as text; a non-UTF-8 (Latin-1) file or a `;`/tab delimiter is read, with a note.

    The contract holds to the letter: a header naming a column twice, or a record with fewer or more fields than
    the header, makes the file unreadable (blank lines are not records).
    """
    raw = _read_regular(file)
    if not raw.strip():
        raise UnreadableError("the file is empty (not even a header line)")
    if b"\x00" in raw:
        # UTF-16/UTF-32 text (Excel's "Unicode text") or a binary file: no CSV reader reads it safely.
        kind = "UTF-16/UTF-32 text" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "text with NUL bytes"
        raise UnreadableError(f"the file is {kind}, not a UTF-8 or Latin-1 CSV file: save it as UTF-8 CSV")
    try:
        text = raw.decode("utf-8")
        content = io.BytesIO(raw)
    except UnicodeDecodeError as exc:
        # Registry exports from Windows systems are often Latin-1/cp1252; every byte decodes in Latin-1.
        text = raw.decode("latin-1")
        content = io.BytesIO(text.encode("utf-8"))
        notes.append(f"not UTF-8 (first bad byte at offset {exc.start}): read as Latin-1; save as UTF-8 to be sure")
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=lambda d: (first_line.count(d), d == ","))
    if delimiter != "," and first_line.count(delimiter) > 0:
        notes.append(f"read with {delimiter!r} as the delimiter")
    else:
        delimiter = ","
    header = _header(text, delimiter)
    try:
        frame = pl.read_csv(
            content,
            separator=delimiter,
            infer_schema=False,
            encoding="utf8",
            row_index_name=ROW,
            row_index_offset=1,
            raise_if_empty=True,
        )
    except pl.exceptions.ComputeError as exc:
        ragged = _ragged_record(text, delimiter, len(header))
        message = ragged or str(exc).splitlines()[0]
        raise UnreadableError(f"the file cannot be read as CSV ({message})") from None
    except pl.exceptions.NoDataError:
        raise UnreadableError("the file is empty (not even a header line)") from None
    # Every record has the header's number of fields when the delimiters add up (a quote may hide one: then
    # each record is counted). polars pads a short record with empty cells, so it must be found here.
    if '"' in text or raw.count(delimiter.encode()) != (len(header) - 1) * (frame.height + 1):
        blank = _check_records(text, delimiter, len(header))
        if blank:
            frame = frame.filter(~pl.col(ROW).is_in(blank))
    return _as_text_table(frame)


def _header(text: str, delimiter: str) -> list[str]:
    """The header's column names as written; a name given twice (in any case or spacing) is refused."""
    try:
        names = next(csv.reader(io.StringIO(text[: 1 << 20]), delimiter=delimiter), [])
    except csv.Error as exc:
        raise UnreadableError(f"the file cannot be read as CSV (header: {exc})") from None
    _check_unique([name.replace("\ufeff", "") for name in names])
    return names


def _check_unique(names: Sequence[str]) -> None:
    seen: set[str] = set()
    for original in names:
        column = original.replace("\ufeff", "").strip().lower()
        if column == ROW:
            raise UnreadableError(f"column {original!r}: the name is reserved for row numbers; rename or drop it")
        if column in seen:
            raise UnreadableError(f"column {original!r} appears more than once in the header")
        seen.add(column)


def _records(text: str, delimiter: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    next(reader, None)  # the header
    return reader


def _ragged_record(text: str, delimiter: str, width: int) -> str | None:
    """Where a record's number of fields differs from the header's, in words; None when none does."""
    try:
        for row, fields in enumerate(_records(text, delimiter), start=1):
            if fields and len(fields) != width:
                return f"row {row} has {len(fields)} field(s) where the header has {width}"
    except csv.Error:
        return None
    return None


def _check_records(text: str, delimiter: str, width: int) -> list[int]:
    """Raise when a record has fewer or more fields than the header; the row numbers of blank lines."""
    ragged = _ragged_record(text, delimiter, width)
    if ragged:
        raise UnreadableError(f"the file cannot be read as CSV ({ragged})")
    try:
        return [row for row, fields in enumerate(_records(text, delimiter), start=1) if not fields]
    except csv.Error as exc:
        raise UnreadableError(f"the file cannot be read as CSV ({exc})") from None


# What polars' `str.strip_chars()` strips from the text of CSV files and DataFrames (Unicode's White_Space; not
# the separators U+001C to U+001F that Python's `str.strip()` also strips), for the text of Parquet values read by
# DuckDB: every reader trims the same characters (tests/loading/test_sources.py).
_WHITE_SPACE = " \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def _parquet_table(name: str, file: Path) -> RawTable:
    """A Parquet file as a query giving its text table: the same text as `_as_text_table`, read by DuckDB.

    Only the footer is read here; the rows stream from the file when validation types them, so a table of tens
    of millions of rows is never held in memory as text. Only the dictionary's columns are read: another column,
    of whatever type, is named (and ignored) but never read. Should the rows not stream (a damaged page, text
    that is not UTF-8), validation reads the file again with `reread_parquet_as_text`.
    """
    import pyarrow.parquet as pq  # only for Parquet inputs (it brings pyarrow's file systems, ssl included)

    try:
        metadata = pq.ParquetFile(file).metadata
        schema = metadata.schema.to_arrow_schema()
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise UnreadableError(f"the file cannot be read as Parquet ({_first_line(exc)})") from None
    _check_unique(schema.names)
    names = {c: c.replace("\ufeff", "").strip().lower() for c in schema.names}
    quoted_file = literal(str(file))
    spaces = literal(_WHITE_SPACE)
    model_types = {c.name: c.type for c in tables()[name].columns}
    for original, column in names.items():
        if column in model_types and pa.types.is_nested(schema.field(original).type):
            raise UnreadableError(_nested_message(original, str(schema.field(original).type)))
    native = frozenset(
        column
        for original, column in names.items()
        if _NATIVE_TYPES.get(model_types.get(column, ""), lambda _: False)(schema.field(original).type)
    )

    def text(original: str) -> str:
        value = f"CAST({identifier(original)} AS VARCHAR)"
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
    # Made by polars: building even an empty Arrow table in pyarrow imports pandas, a third of a second.
    empty = pl.DataFrame(schema={ROW: pl.Int64, **dict.fromkeys(names.values(), pl.String)}).to_arrow()
    return RawTable(
        name, str(file), empty, query=query, rows=metadata.num_rows, row_groups=metadata.num_row_groups, native=native
    )


def reread_parquet_as_text(table: RawTable, error: BaseException) -> tuple[RawTable, list[tuple[str, int, str, str]]]:
    """Read a Parquet file DuckDB could not stream, value by value, as text held in memory.

    Text that is not UTF-8 is read as Latin-1, as in a CSV file, with a note (column, row, value, what) for the
    first such value of each column. A file pyarrow cannot read either is unreadable: `UnreadableError`, with both
    readers' reasons.
    """
    file = Path(table.origin)
    wanted = [c.name for c in tables()[table.name].columns]
    notes: list[tuple[str, int, str, str]] = []
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(file)
        names = [n for n in parquet.schema_arrow.names if n.replace("\ufeff", "").strip().lower() in wanted]
        data = parquet.read(columns=names)
    except Exception as exc:  # corrupt pages, unsupported encodings...
        reasons = f"{_first_line(error)}; {_first_line(exc)}"
        raise UnreadableError(f"the file cannot be read as Parquet ({reasons})") from None
    columns: dict[str, pa.Array] = {}
    for original in names:
        values, note = _as_text_values(data.column(original).combine_chunks())
        if note:
            row, value, what = note
            notes.append((original.replace("\ufeff", "").strip().lower(), row, value, f"{what} ({file.name})"))
        columns[original] = values
    frame = pl.from_arrow(pa.table(columns) if columns else pa.table({"_": pa.nulls(data.num_rows)}).drop(["_"]))
    assert isinstance(frame, pl.DataFrame)
    frame = frame.with_row_index(ROW, 1)
    text = _as_text_table(frame)
    # The columns the file has but the dictionary lacks are named (and ignored) like those of a streamed file.
    missing = [c for c in table.columns if c not in text.column_names]
    for column in missing:
        text = text.append_column(column, pa.nulls(text.num_rows, pa.string()))
    return RawTable(table.name, table.origin, text), notes


def _as_text_values(values: pa.Array) -> tuple[pa.Array, tuple[int, str, str] | None]:
    """A column's values as text; text that is not UTF-8 decodes as Latin-1 (the first such value noted)."""
    kind = values.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind)):
        try:
            return values.cast(pa.string()), None
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return pa.array([None if v is None else str(v) for v in values.to_pylist()], pa.string()), None
    note: tuple[int, str, str] | None = None
    texts: list[str | None] = []
    for row, value in enumerate(values.cast(pa.binary()).to_pylist(), start=1):
        if value is None:
            texts.append(None)
            continue
        try:
            texts.append(value.decode("utf-8"))
        except UnicodeDecodeError as exc:
            texts.append(value.decode("latin-1"))
            if note is None:
                what = f"not UTF-8 (first bad byte at offset {exc.start}): read as Latin-1; write text as UTF-8"
                note = (row, texts[-1], what)
    return pa.array(texts, pa.string()), note


def _first_line(exc: BaseException) -> str:
    """The first line of a reader's error, its control characters escaped (it may quote bytes of the file)."""
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


# Parquet types that already hold a dictionary type's values: such a column is typed as it is (a text round trip
# costs most of the time of validating a large extract). Timestamps and text go through the text rules.
_NATIVE_TYPES = {
    "date": pa.types.is_date32,
    "number": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t),
    "integer": pa.types.is_integer,
    "boolean": pa.types.is_boolean,
}


def _read_duckdb_file(path: Path) -> RawExtract:
    """The model's tables in a DuckDB file, opened read-only; a table may be in any one schema of the file.

    Every value is cast to text by DuckDB itself (a LIST, STRUCT, UNION, BLOB, INTERVAL... becomes its text and
    is then refused by the column's type, if the dictionary has the column); other columns are not read.
    """
    found: dict[str, RawTable] = {}
    problems: list[Problem] = []
    try:
        source = connect(path, read_only=True)
    except duckdb.Error as exc:
        raise UsageError(f"{path} cannot be opened as a DuckDB database ({_first_line(exc)})") from None
    try:
        located = _duckdb_tables(source)
        for name, places in located.items():
            if name not in tables():
                continue
            shown = ", ".join(f"{schema}.{table} ({kind})" for schema, table, kind in places)
            if len(places) > 1:
                message = "the table is in more than one schema of the file: keep one"
                problems.append(Problem("fatal", name, None, None, None, shown, message))
                continue
            schema, table, kind = places[0]
            if kind != "table":
                message = f"{schema}.{table} is a view: only tables are read (CREATE TABLE {name} AS SELECT ...)"
                problems.append(Problem("fatal", name, None, None, None, shown, message))
                continue
            try:
                data = _duckdb_text_table(source, name, schema, table)
            except (UnreadableError, duckdb.Error) as exc:
                problems.append(Problem("fatal", name, None, None, None, f"{schema}.{table}", _first_line(exc)))
                continue
            origin = f"{path}:{table}" if schema == "main" else f"{path}:{schema}.{table}"
            found[name] = RawTable(name, origin, data)
    except duckdb.Error as exc:
        raise UsageError(f"{path} cannot be read as a DuckDB database ({_first_line(exc)})") from None
    finally:
        close(source)
    return RawExtract(found, problems, str(path), (path,))


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


def _duckdb_text_table(source: duckdb.DuckDBPyConnection, name: str, schema: str, table: str) -> pa.Table:
    columns: list[tuple[str, str]] = source.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, table],
    ).fetchall()
    _check_unique([column for column, _ in columns])
    wanted = set(tables()[name].column_names)
    for column, data_type in columns:
        if column.strip().lower() in wanted and _NESTED_DUCKDB_TYPE.match(data_type):
            raise UnreadableError(_nested_message(column, data_type))

    # Identifiers come from the file's own catalogue, quoted; no value of the file becomes SQL text.
    selected = "".join(
        f", CAST({identifier(c)} AS VARCHAR) AS {identifier(c)}"
        if c.strip().lower() in wanted
        else f", NULL AS {identifier(c)}"
        for c, _ in columns
    )
    rows = source.sql(
        f"SELECT rowid + 1 AS {ROW}{selected} FROM {identifier(schema)}.{identifier(table)} ORDER BY rowid"
    )
    frame = pl.from_arrow(rows.to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return _as_text_table(frame)


# DuckDB's names of the types holding several values in one cell: LIST (INTEGER[]), ARRAY (INTEGER[3]), STRUCT...
_NESTED_DUCKDB_TYPE = re.compile(r"(STRUCT|MAP|UNION)\(|.*\[[0-9]*\]$")


def _nested_message(column: str, data_type: str) -> str:
    return f"column {column!r} is of type {data_type}: several values in one cell, where the model has one"


class NumericIdWarning(UserWarning):
    """An id column of a DataFrame arrived as numbers: leading zeros (`00123`) may have been lost on the way."""


def _read_frames(frames: Mapping[str, object]) -> RawExtract:
    """Tables given as pandas or polars DataFrames or Arrow tables, every value as text.

    Numbers, dates and booleans become the text the dictionary reads (`12`, `2024-01-31`, `true`); a float column
    holding only whole numbers reads as integers (`123`, not `123.0`: pandas reads an integer column with a
    missing value as floats). An id column of numbers is read, with a `NumericIdWarning` naming table and column:
    `pd.read_csv` without `dtype=str` turns `00123` into 123.
    """
    found: dict[str, RawTable] = {}
    problems: list[Problem] = []
    for name, frame in frames.items():
        if name not in tables():
            problems.append(Problem("finding", name, None, None, None, None, "not a table of the model; ignored"))
            continue
        try:
            text = _frame_as_text(name, frame)
            found[name] = RawTable(name, f"DataFrame {name}", _as_text_table(text.with_row_index(ROW, 1)))
        except UnreadableError as exc:
            problems.append(Problem("fatal", name, None, None, None, None, str(exc)))
        except Exception as exc:  # pandas/polars/Arrow raise many types for values they cannot turn into text
            problems.append(
                Problem("fatal", name, None, None, None, None, f"cannot be read as text ({_first_line(exc)})")
            )
    return RawExtract(found, problems, "DataFrames", ())


def _frame_as_text(name: str, frame: object) -> pl.DataFrame:
    """One table of any supported kind as a polars frame of text columns (missing values stay missing)."""
    pandas = sys.modules.get("pandas")  # loaded by whoever made a pandas frame; not loaded, there is none
    if pandas is not None and isinstance(frame, pandas.DataFrame):
        columns = [str(c) for c in frame.columns]
        _check_unique(columns)
        kinds = {c: _pandas_kind(frame.iloc[:, i]) for i, c in enumerate(columns)}
        _warn_numeric_ids(name, kinds)
        data = pa.table([_pandas_text(frame.iloc[:, i]) for i in range(len(columns))], names=columns)
        converted = pl.from_arrow(data)
        assert isinstance(converted, pl.DataFrame)
        return converted
    if isinstance(frame, pa.Table):
        _check_unique(frame.column_names)
        converted = pl.from_arrow(frame)
        assert isinstance(converted, pl.DataFrame)
        frame = converted
    if isinstance(frame, pl.DataFrame):
        _check_unique(frame.columns)
        kinds = {c: ("number" if frame.schema[c].is_numeric() else "other") for c in frame.columns}
        _warn_numeric_ids(name, kinds)
        return frame.select([_polars_text(frame.get_column(c)).alias(c) for c in frame.columns])
    raise UnreadableError(
        f"is a {type(frame).__module__}.{type(frame).__name__}, not a pandas or polars DataFrame or an Arrow table"
    )


def _pandas_kind(values: pd.Series) -> str:
    import pandas as pd

    if pd.api.types.is_bool_dtype(values):
        return "other"
    return "number" if pd.api.types.is_numeric_dtype(values) else "other"


def _pandas_text(values: pd.Series) -> pa.Array:
    """A pandas column's values as text: whole floats as integers, dates as YYYY-MM-DD (with a time if any)."""
    import pandas as pd

    if pd.api.types.is_float_dtype(values) and _whole(values.dropna().to_numpy(dtype=float)):
        values = values.astype("Int64")
    text = values.astype("string")
    return pa.array(text.to_numpy(dtype=object, na_value=None), type=pa.string(), from_pandas=True)


def _polars_text(values: pl.Series) -> pl.Series:
    """A polars column's values as text: whole floats as integers, dates as YYYY-MM-DD."""
    if values.dtype.is_float():
        values = values.fill_nan(None)  # NaN is pandas' missing value
        if _whole(values.drop_nulls().to_numpy()):
            values = values.cast(pl.Int64)
    if values.dtype == pl.Boolean:
        return values.cast(pl.String).str.to_lowercase()
    if isinstance(values.dtype, pl.List | pl.Array | pl.Struct):
        raise UnreadableError(
            f"column {values.name!r} is of type {values.dtype}: several values in one cell, where the model has one"
        )
    return values.cast(pl.String)


def _whole(numbers) -> bool:
    import numpy as np

    finite = np.isfinite(numbers)
    return bool(finite.all() and (numbers == np.floor(numbers)).all() and (np.abs(numbers) < 2**53).all())


def _warn_numeric_ids(table: str, kinds: Mapping[str, str]) -> None:
    """Warn once per id column of numbers, naming table and column (leading zeros may be gone)."""
    import warnings

    ids = {c.name for c in tables()[table].columns if c.name.endswith("_id")}
    for column, kind in kinds.items():
        if kind == "number" and column.strip().lower() in ids:
            warnings.warn(
                f"{table}.{column} arrived as numbers: ids are text, and leading zeros (00123) may already be lost. "
                "Read the file with every column as text, e.g. pd.read_csv(path, dtype=str) or "
                "pl.read_csv(path, infer_schema=False).",
                NumericIdWarning,
                stacklevel=_caller_outside_package(),
            )


def _caller_outside_package() -> int:
    """The `stacklevel` of the first caller outside oligo_cohort (so a warning points at the user's own line)."""
    import sys

    frame, level = sys._getframe(1), 1
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("oligo_cohort"):
        frame, level = frame.f_back, level + 1
    return level


def _as_text_table(frame: pl.DataFrame) -> pa.Table:
    """Every column as text with trimmed, lower-cased names; empty strings read as missing."""
    renamed = {c: c.replace("\ufeff", "").strip().lower() for c in frame.columns if c != ROW}
    _check_unique(list(renamed))
    frame = frame.rename(renamed)
    text_cols = [c for c in frame.columns if c != ROW]
    frame = frame.with_columns(
        [pl.col(c).cast(pl.String).str.strip_chars().replace("", None).alias(c) for c in text_cols]
        + [pl.col(ROW).cast(pl.Int64)]
    )
    return frame.to_arrow()
