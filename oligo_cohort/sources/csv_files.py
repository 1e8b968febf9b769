"""A CSV file read as text: UTF-8 or Windows-1252, the delimiter found from the header, ragged records refused."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from oligo_cohort.column_names import HEADER_REPEATED, header_rows
from oligo_cohort.counts_in_words import counted
from oligo_cohort.file_kinds import UnreadableError, read_regular
from oligo_cohort.sources.text_tables import ROW, as_text_table, check_unique
from oligo_cohort.user_files import SNIFFED_RECORDS, UserFileProblem, decode_text, delimiter_of, leading_lines

# A cell may be long (free text, a long id): the csv module's 128 KiB field limit must not refuse it.
csv.field_size_limit(2**31 - 1)


def without_inert_marks(table: pl.DataFrame) -> pl.DataFrame:
    """Text as it was before the CSV writer marked it inert (csv_output.read_back, column-wise)."""
    from oligo_cohort.csv_output import INERT_MARK

    text = [name for name, kind in table.schema.items() if name != ROW and kind == pl.String]
    return table.with_columns(
        pl.when(pl.col(name).str.starts_with(INERT_MARK))
        .then(pl.col(name).str.slice(len(INERT_MARK)))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text
    )


def written_as_read(table: pl.DataFrame) -> bool:
    """Whether the CSV writer would write every text value of `table` (as read) as it is: none starts with a
    character it marks (csv_output.MARKED_STARTS), so the file reads back the same with or without the mark
    taken off."""
    from oligo_cohort.csv_output import MARKED_STARTS

    text = [name for name, kind in table.schema.items() if name != ROW and kind == pl.String]
    if not text or table.is_empty():
        return True
    marked = pl.any_horizontal(pl.col(name).str.starts_with(start) for name in text for start in MARKED_STARTS)
    return not table.select(marked.fill_null(False).any()).item()


def read_csv_file(file: Path, notes: list[str]) -> pl.DataFrame:
    """Read a CSV file as text; a file not in UTF-8 (Windows-1252) or with a `;`/tab delimiter is read, with a note.

    The contract holds to the letter: a header naming a column twice, or a record with fewer or more fields than
    the header, makes the file unreadable (blank lines are not records); so does a record repeating the header
    (two files joined end to end: `column_names.repeats_header`).
    """
    raw = read_regular(file)
    if not raw.strip():
        raise UnreadableError("the file is empty (not even a header line)")
    if b"\x00" in raw:
        # UTF-16/UTF-32 text (Excel's "Unicode text") or a binary file: no CSV reader reads it safely.
        kind = "UTF-16/UTF-32 text" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "text with NUL bytes"
        raise UnreadableError(f"the file is {kind}, not a UTF-8 or Latin-1 CSV file: save it as UTF-8 CSV")
    try:
        decoded = decode_text(raw, latin1=True)
    except UserFileProblem as exc:
        raise UnreadableError(f"the file cannot be read as text ({exc.reason})") from None
    text = decoded.text
    content = io.BytesIO(raw)
    if decoded.note:
        # Registry exports from Windows systems are Windows-1252 (`user_files.read_not_utf8`): polars reads the
        # text as decoded, in UTF-8.
        content = io.BytesIO(text.encode("utf-8"))
        notes.append(f"{decoded.note}; save as UTF-8 to be sure")
    if "\r" in text and "\n" not in text:
        # Excel's "CSV (Macintosh)" ends its lines with a carriage return alone; with no line feed anywhere in the
        # file, every carriage return is a line end.
        text = text.replace("\r", "\n")
        content = io.BytesIO(text.encode("utf-8"))
        notes.append("lines end with a carriage return alone (CSV for the classic Mac): read as line ends")
    first_line, *following = leading_lines(text, SNIFFED_RECORDS + 1)
    delimiter = delimiter_of(first_line, following=following)
    if delimiter != ",":
        notes.append(f"read with {delimiter!r} as the delimiter")
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
    repeats = header_rows(frame, header, ROW)
    if repeats:
        more = f" (and {counted(len(repeats) - 1, 'more row')})" if len(repeats) > 1 else ""
        raise UnreadableError(f"row {repeats[0]:,} {HEADER_REPEATED}{more}")
    return as_text_table(frame)


def _header(text: str, delimiter: str) -> list[str]:
    """The header's column names as written; a name given twice (in any case or spacing) is refused."""
    try:
        names = next(csv.reader(io.StringIO(text[: 1 << 20]), delimiter=delimiter), [])
    except csv.Error as exc:
        raise UnreadableError(f"the file cannot be read as CSV (header: {exc})") from None
    check_unique([name.replace("\ufeff", "") for name in names])
    return names


def _records(text: str, delimiter: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    next(reader, None)  # the header
    return reader


def _ragged_record(text: str, delimiter: str, width: int) -> str | None:
    """Where a record's number of fields differs from the header's, in words; None when none does."""
    try:
        for row, fields in enumerate(_records(text, delimiter), start=1):
            if fields and len(fields) != width:
                return f"row {row} has {counted(len(fields), 'field')} where the header has {width}"
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
