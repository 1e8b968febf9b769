"""What every reader gives, and the rules they share: tables of text with each record's row number.

A reader keeps every value as text, as the provider wrote it, so that validation can name the exact row and
value before any type is imposed; column names are trimmed and lower-cased, and a name given twice is refused
whatever the reader.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from oligo_cohort.column_names import model_name
from oligo_cohort.file_kinds import UnreadableError
from oligo_cohort.problems import Problem
from oligo_cohort.user_files import decode_not_utf8

if TYPE_CHECKING:
    import pyarrow as pa  # imported only by the readers that hand their values over as Arrow (`column_as_text`)

ROW = "_row"  # 1-based row number of a record in its source (first data row = 1)


@dataclass(frozen=True)
class RawTable:
    """One input table as text: its origin, its (normalised) column names and its rows."""

    name: str
    origin: str
    data: pl.DataFrame  # every column a string, plus ROW (no rows when `query` reads them)
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
        return [c for c in self.data.columns if c != ROW]

    @property
    def num_rows(self) -> int:
        return self.rows if self.query else self.data.height


# The finding a source records for a table it was given that is not one of the model (a file's name in `value`);
# validation reads it to name the table most likely meant when a required one is missing.
NOT_A_TABLE = "not a table of the model; ignored"
NOT_A_TABLE_FILE = "file is " + NOT_A_TABLE


@dataclass(frozen=True)
class RawExtract:
    """The tables found in a source, and the problems met while reading them."""

    tables: dict[str, RawTable]
    problems: list[Problem]
    origin: str
    files: tuple[Path, ...]  # input files read (for checksums in the manifest)


def check_unique(names: Sequence[str]) -> None:
    seen: set[str] = set()
    for original in names:
        column = model_name(original)
        if column == ROW:
            raise UnreadableError(f"column {original!r}: the name is reserved for row numbers; rename or drop it")
        if column in seen:
            raise UnreadableError(f"column {original!r} appears more than once in the header")
        seen.add(column)


def first_error_line(exc: BaseException) -> str:
    """The first line of a reader's error, its control characters escaped (it may quote bytes of the file)."""
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


# DuckDB's names of the types holding several values in one cell: LIST (INTEGER[]), ARRAY (INTEGER[3]), STRUCT...
_NESTED_DUCKDB_TYPE = re.compile(r"(STRUCT|MAP|UNION)\(|.*\[[0-9]*\]$")


def is_nested_duckdb_type(data_type: str) -> bool:
    """Whether DuckDB's type (as `DESCRIBE` names it) holds several values in one cell."""
    return _NESTED_DUCKDB_TYPE.match(data_type) is not None


_NUMERIC_TYPES = re.compile(r"(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|REAL|DECIMAL\(.*\))")


def numeric_ids(table: str, columns: Sequence[tuple[str, str]]) -> list[Problem]:
    """A finding for each id column a file stores as numbers ((name as written, DuckDB type) pairs): ids are text,
    and the zeros that led `00123` are gone before the tool sees it. A DataFrame's gives a `NumericIdWarning`."""
    from oligo_cohort.dictionary import tables

    ids = {c.name for c in tables()[table].columns if c.name.endswith("_id")}
    return [
        Problem(
            "finding",
            table,
            model_name(column),
            None,
            None,
            data_type,
            "ids stored as numbers: leading zeros (00123) may already be lost, and an id written as text in "
            "another table will not match; store ids as text",
        )
        for column, data_type in columns
        if model_name(column) in ids and _NUMERIC_TYPES.fullmatch(data_type)
    ]


def nested_cells(column: str, data_type: str) -> UnreadableError:
    """The refusal of a model column holding several values per cell, in the same words from every reader."""
    message = f"column {column!r} is of type {data_type}: several values in one cell, where the model has one"
    return UnreadableError(message)


def as_text_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text with trimmed, lower-cased names; empty strings read as missing.

    Kept as a polars frame, which validation hands DuckDB through the Arrow C stream interface
    (`database.register_frame`): a screen of CSV files never imports pyarrow, nor numpy with it.
    """
    renamed = {c: model_name(c) for c in frame.columns if c != ROW}
    check_unique(list(renamed))
    frame = frame.rename(renamed)
    text_cols = [c for c in frame.columns if c != ROW]
    frame = frame.with_columns(
        [pl.col(c).cast(pl.String).str.strip_chars().replace("", None).alias(c) for c in text_cols]
        + [pl.col(ROW).cast(pl.Int64)]
    )
    return frame


def column_as_text(values: pa.Array) -> tuple[pa.Array, tuple[int, str, str] | None]:
    """A column's values (pyarrow) as text; text or bytes that are not UTF-8 decode as Windows-1252 (else Latin-1:
    `user_files.decode_not_utf8`), as a CSV file's would, the first such value noted (row, value, what)."""
    import pyarrow as pa

    kind = values.type
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        try:  # bytes that are all UTF-8, as most are, in one pass
            return values.cast(pa.string()), None
        except pa.ArrowInvalid:
            pass
    elif not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
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
            text, encoding = decode_not_utf8(value)
            texts.append(text)
            if note is None:
                what = f"not UTF-8 (first bad byte at offset {exc.start}): read as {encoding}; write text as UTF-8"
                note = (row, texts[-1], what)
    return pa.array(texts, pa.string()), note
