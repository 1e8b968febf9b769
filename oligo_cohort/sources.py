"""Read an extract as it arrives — a folder of CSV/Parquet files, a DuckDB file, or DataFrames — into text tables.

Every value is read as text, with its 1-based row number, so that validation
can name the exact row and the value as the provider wrote it, before any
type is imposed. Input files are only read, never written.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from oligo_cohort.dictionary import tables
from oligo_cohort.errors import UsageError
from oligo_cohort.problems import Problem

ROW = "_row"  # 1-based row number of a record in its source (first data row = 1)
DUCKDB_SUFFIXES = (".duckdb", ".db", ".ddb")

ExtractSource = str | Path | Mapping[str, pd.DataFrame]


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
    if path.is_dir():
        return _read_folder(path)
    if path.is_file() and path.suffix.lower() in DUCKDB_SUFFIXES:
        return _read_duckdb_file(path)
    if path.is_file():
        raise UsageError(
            f"{path} is a file; give the folder holding the extract's tables, or a DuckDB database file "
            f"({', '.join(DUCKDB_SUFFIXES)})"
        )
    raise UsageError(f"extract {path} does not exist")


def _read_folder(folder: Path) -> RawExtract:
    known = tables()
    by_table: dict[str, list[Path]] = {}
    problems: list[Problem] = []
    for file in sorted(folder.iterdir()):
        if not file.is_file() or file.name.startswith("."):
            continue
        stem, suffix = file.stem.lower(), file.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            continue
        if stem in known:
            by_table.setdefault(stem, []).append(file)
        else:
            problems.append(
                Problem("finding", stem, None, None, None, file.name, "file is not a table of the model; ignored")
            )
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
                table = RawTable(name, str(file), _read_csv(file, notes))
            else:
                table = _parquet_table(name, file)
        except _UnreadableError as exc:
            problems.append(Problem("fatal", name, None, None, None, file.name, str(exc)))
            continue
        problems += [Problem("finding", name, None, None, None, file.name, note) for note in notes]
        found[name] = table
    return RawExtract(found, problems, str(folder), tuple(files))


class _UnreadableError(Exception):
    pass


DELIMITERS = (",", ";", "\t", "|")


def _read_csv(file: Path, notes: list[str]) -> pa.Table:
    """Read a CSV file as text; a non-UTF-8 (Latin-1) file or a `;`/tab delimiter is read, with a note."""
    if file.stat().st_size == 0:
        raise _UnreadableError("the file is empty (not even a header line)")
    content: Path | io.BytesIO = file
    raw = file.read_bytes()
    if b"\x00" in raw:
        # UTF-16/UTF-32 text (Excel's "Unicode text") or a binary file: no CSV reader reads it safely.
        kind = "UTF-16/UTF-32 text" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "text with NUL bytes"
        raise _UnreadableError(f"the file is {kind}, not a UTF-8 or Latin-1 CSV file: save it as UTF-8 CSV")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Registry exports from Windows systems are often Latin-1/cp1252; every byte decodes in Latin-1.
        content = io.BytesIO(raw.decode("latin-1").encode("utf-8"))
        notes.append(f"not UTF-8 (first bad byte at offset {exc.start}): read as Latin-1; save as UTF-8 to be sure")
    first_line = raw.split(b"\n", 1)[0].decode("latin-1")
    delimiter = max(DELIMITERS, key=lambda d: (first_line.count(d), d == ","))
    if delimiter != "," and first_line.count(delimiter) > 0:
        notes.append(f"read with {delimiter!r} as the delimiter")
    else:
        delimiter = ","
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
        message = str(exc).splitlines()[0]
        raise _UnreadableError(f"the file cannot be read as CSV ({message})") from None
    except pl.exceptions.NoDataError:
        raise _UnreadableError("the file is empty (not even a header line)") from None
    return _as_text_table(frame)


# What `str.strip_chars()` strips (Unicode white space), for the text of Parquet values read by DuckDB.
_WHITE_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def _parquet_table(name: str, file: Path) -> RawTable:
    """A Parquet file as a query giving its text table: the same text as `_as_text_table`, read by DuckDB.

    Only the footer is read here; the rows stream from the file when validation types them, so a table of tens
    of millions of rows is never held in memory as text.
    """
    try:
        metadata = pq.ParquetFile(file).metadata
        schema = metadata.schema.to_arrow_schema()
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise _UnreadableError(f"the file cannot be read as Parquet ({str(exc).splitlines()[0]})") from None
    names = {c: c.replace("\ufeff", "").strip().lower() for c in schema.names}
    if len(set(names.values())) < len(names):
        seen: set[str] = set()
        for original, column in names.items():
            if column in seen:
                raise _UnreadableError(f"column {original!r} appears more than once in the header")
            seen.add(column)
    quoted_file = "'" + str(file).replace("'", "''") + "'"
    spaces = "'" + _WHITE_SPACE.replace("'", "''") + "'"
    model_types = {c.name: c.type for c in tables()[name].columns}
    native = frozenset(
        column
        for original, column in names.items()
        if _NATIVE_TYPES.get(model_types.get(column, ""), lambda _: False)(schema.field(original).type)
    )

    def text(original: str) -> str:
        value = f'CAST("{original.replace(chr(34), chr(34) * 2)}" AS VARCHAR)'
        # Trimming against the list is costly: done only when the first or last character is not printable ASCII.
        printable = f"ascii({value}) BETWEEN 33 AND 126 AND ascii(right({value}, 1)) BETWEEN 33 AND 126"
        return f"NULLIF(CASE WHEN {printable} THEN {value} ELSE trim({value}, {spaces}) END, '')"

    def column_sql(original: str, column: str) -> str:
        value = f'"{original.replace(chr(34), chr(34) * 2)}"' if column in native else text(original)
        return f', {value} AS "{column.replace(chr(34), chr(34) * 2)}"'

    texts = "".join(column_sql(original, column) for original, column in names.items())
    query = f"SELECT file_row_number + 1 AS {ROW}{texts} FROM read_parquet({quoted_file}, file_row_number = true)"
    empty = pa.table({ROW: pa.array([], pa.int64()), **{c: pa.array([], pa.string()) for c in names.values()}})
    return RawTable(name, str(file), empty, query=query, rows=metadata.num_rows, native=native)


# Parquet types that already hold a dictionary type's values: such a column is typed as it is (a text round trip
# costs most of the time of validating a large extract). Timestamps and text go through the text rules.
_NATIVE_TYPES = {
    "date": pa.types.is_date32,
    "number": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t),
    "integer": pa.types.is_integer,
    "boolean": pa.types.is_boolean,
}


def _read_duckdb_file(path: Path) -> RawExtract:
    found: dict[str, RawTable] = {}
    problems: list[Problem] = []
    try:
        source = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise UsageError(f"{path} cannot be opened as a DuckDB database ({str(exc).splitlines()[0]})") from None
    try:
        present = {
            name.lower(): name for (name,) in source.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        for name in tables():
            if name in present:
                # The table name comes from the dictionary, matched against the database's own catalogue.
                frame = pl.from_arrow(source.table(present[name]).arrow())
                assert isinstance(frame, pl.DataFrame)
                try:
                    data = _as_text_table(frame.with_row_index(ROW, 1))
                except _UnreadableError as exc:
                    problems.append(Problem("fatal", name, None, None, None, present[name], str(exc)))
                    continue
                found[name] = RawTable(name, f"{path}:{present[name]}", data)
    finally:
        source.close()
    return RawExtract(found, problems, str(path), (path,))


def _read_frames(frames: Mapping[str, pd.DataFrame]) -> RawExtract:
    found: dict[str, RawTable] = {}
    problems: list[Problem] = []
    for name, frame in frames.items():
        if name not in tables():
            problems.append(Problem("finding", name, None, None, None, None, "not a table of the model; ignored"))
            continue
        text = frame.astype("string").astype(object).where(frame.notna(), None)
        pl_frame = pl.from_pandas(text.reset_index(drop=True), schema_overrides=dict.fromkeys(text.columns, pl.String))
        try:
            found[name] = RawTable(name, f"DataFrame {name}", _as_text_table(pl_frame.with_row_index(ROW, 1)))
        except _UnreadableError as exc:
            problems.append(Problem("fatal", name, None, None, None, None, str(exc)))
    return RawExtract(found, problems, "DataFrames", ())


def _as_text_table(frame: pl.DataFrame) -> pa.Table:
    """Every column as text with trimmed, lower-cased names; empty strings read as missing."""
    renamed = {c: c.replace("\ufeff", "").strip().lower() for c in frame.columns if c != ROW}
    seen: set[str] = set()
    for original, name in renamed.items():
        if name in seen:
            raise _UnreadableError(f"column {original!r} appears more than once in the header")
        seen.add(name)
    frame = frame.rename(renamed)
    text_cols = [c for c in frame.columns if c != ROW]
    frame = frame.with_columns(
        [pl.col(c).cast(pl.String).str.strip_chars().replace("", None).alias(c) for c in text_cols]
        + [pl.col(ROW).cast(pl.Int64)]
    )
    return frame.to_arrow()
