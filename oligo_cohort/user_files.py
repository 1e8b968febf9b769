"""Files a user hands the tool beside the extract — a sites file, answer files, an item map, an importer's flat
file — read by one set of rules: what the path is, how its bytes become text, how the text becomes records.

Every refusal is a `UserFileProblem` whose `reason` names the line where it applies; each reader puts the file's
name (and its option) in front, in its own form of message. The rules:

- **what the path is**: a folder, a named pipe (FIFO), a socket or device, a broken link or a link loop is named
  as such (`oligo_cohort.file_kinds`), never opened: opening a FIFO would wait for a writer forever;
- **text**: UTF-8, a byte-order mark dropped; UTF-16 (Excel's "Unicode text") is refused by its mark, or, without
  one, by the NUL bytes of its first line; a reader that allows it reads other bytes as Windows-1252 (Windows
  exports; Latin-1 where a byte has no Windows-1252 character: `read_not_utf8`), with a note saying so, any other
  reader names the line of the first byte that is not UTF-8; a workbook, Parquet file, PDF or archive (by its
  signature) and binary data (`file_kinds.content_kind`: random or damaged bytes) are refused as not a text file;
- **records** (`read_delimited`): the delimiter the header line uses most of those allowed (a comma on a tie);
  a quote opened and not closed is refused naming the line it opens on (Python's csv module would otherwise
  read the rest of the file into one cell, and rows would silently go missing); blank lines are not records,
  but record numbers still count them, as the extract's readers do (docs/decisions.md D37);
- **a header repeated** as a record (two files joined end to end) is refused naming its line, the fields compared
  as column names are (`column_names.repeats_header`, the rule the extract's and the OMOP tables' readers apply);
- **column names** (`header_names`): a byte-order mark dropped, trimmed, lower case; a name given twice, in any
  case or spacing, is named with both positions;
- **cells** (`nul_cells`): a NUL byte is damage, never text: each reader names its cells.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from oligo_cohort.column_names import HEADER_REPEATED, model_name, repeats_header
from oligo_cohort.file_kinds import NOT_FILES, NUL_FILE, UnreadableError, file_kind, read_regular, with_article

DELIMITERS = (",", ";", "\t", "|")
_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
Read = TypeVar("Read")


class UserFileProblem(Exception):
    """A file that cannot be read at all; `reason` says why (and on which line), without the file's name."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(reason)


def file_bytes(path: Path, *, text: bool = False, size: int = -1) -> bytes:
    """The bytes of a regular file (its first `size` bytes if given); anything else (missing, a folder, a FIFO, a
    broken link...) is named. With `text`, a file known by its first bytes as something else (a workbook, a
    Parquet file, an archive, binary data) is too."""
    kind = file_kind(path)
    if kind == "missing":
        raise UserFileProblem("no such file")
    if kind == "folder":
        raise UserFileProblem("a folder, not a file")
    if kind in NOT_FILES:
        raise UserFileProblem(f"{with_article(kind)}, not a file")
    if kind.startswith("unreadable"):
        raise UserFileProblem(kind)
    if text and kind not in ("text file", "empty file", NUL_FILE):  # NUL bytes: decode_text names the line
        raise UserFileProblem(f"{with_article(kind)}, not a text file: save it as CSV (UTF-8)")
    try:
        return read_regular(path, size)
    except UnreadableError as exc:
        raise UserFileProblem(str(exc)) from None


@dataclass(frozen=True)
class Text:
    """A file's text, and how it was read when not as UTF-8 (a note for the user)."""

    text: str
    note: str | None = None


def read_not_utf8(read: Callable[[str], Read]) -> tuple[Read, str]:
    """What `read(codec)` gives for text that is not UTF-8, read in the encoding it is read in, and that encoding's
    name: Windows-1252, else Latin-1. `read` raises UnicodeDecodeError on a byte Windows-1252 leaves undefined, and
    is then called again, from the start, with Latin-1.

    Every reader that allows text other than UTF-8 (the extract's CSV files and Parquet text, answer files, an
    importer's flat files and OMOP tables) reads it so: bytes held whole through `decode_not_utf8`, an OMOP table
    block by block as it is copied. A Windows export in Western Europe is Windows-1252: Latin-1 but for the bytes
    0x80-0x9F, which are control characters in Latin-1, found in no text, and in Windows-1252 the curly quotes,
    dashes, ellipsis and euro sign an export holds (web browsers read a file labelled Latin-1 so). A file holding
    one of the five bytes Windows-1252 leaves undefined is read as Latin-1, which decodes every byte.
    """
    try:
        return read("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return read("latin-1"), "Latin-1"


def decode_not_utf8(raw: bytes) -> tuple[str, str]:
    """Bytes that are not UTF-8, as text, and the name of the encoding they were read in (`read_not_utf8`)."""
    return read_not_utf8(raw.decode)


# A line end, as the CSV reader, a text editor and DuckDB end a line: CR LF, LF or CR alone.
LINE_END = re.compile(r"\r\n|\r|\n")
LINE_END_BYTES = re.compile(rb"\r\n|\r|\n")  # the same, in bytes


def line_ends_in(data: bytes) -> int:
    """How many lines end in `data`: each CR LF, LF or CR alone, as a text editor, Python's CSV reader and DuckDB
    end a line. Every note naming the line of a byte counts so (a file of the classic Mac ends its lines in CR)."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def first_line(raw: bytes) -> bytes:
    """A file's first line, without its end (`LINE_END_BYTES`), sliced off: the rest is not copied."""
    end = LINE_END_BYTES.search(raw)
    return raw[: end.start()] if end else raw


def line_of_byte(raw: bytes, offset: int) -> int:
    """The line (1 = the first) the byte at `offset` of a file's bytes lies on (`line_ends_in`)."""
    return line_ends_in(raw[:offset]) + 1


def not_utf8_note(line: int, encoding: str) -> str:
    """What every reader of a user's text file notes of one that is not UTF-8: its first such line, how it was
    read."""
    return f"not UTF-8 (first on line {line:,}): read as {encoding}"


def decode_text(raw: bytes, *, latin1: bool) -> Text:
    """UTF-8 text (a byte-order mark dropped); with `latin1`, other bytes are read as Windows-1252 (else Latin-1,
    `decode_not_utf8`), with a note naming the first line that is not UTF-8. Every reader of a whole text file a
    user gives decodes it here: the extract's CSV files, answer files, protocol files, an importer's flat files."""
    if raw.startswith(_UTF16_MARKS):
        raise UserFileProblem("UTF-16 text (Excel's 'Unicode text'): save it as UTF-8", line=1)
    if b"\x00" in first_line(raw):
        raise UserFileProblem(
            "line 1 holds NUL bytes: UTF-16 text without its byte-order mark, or not a text file; save it as UTF-8",
            line=1,
        )
    # The byte-order mark goes before either reading: UTF-8 text read from bytes past it, the mark never read as the
    # Windows-1252 `ï»¿` glued to the first column's name (a UTF-8 export with Windows rows appended to it).
    body = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return Text(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = line_of_byte(body, exc.start)
        if not latin1:
            raise UserFileProblem(f"line {line} is not UTF-8 text; save the file as UTF-8", line=line) from None
        text, encoding = decode_not_utf8(body)
        return Text(text, note=not_utf8_note(line, encoding))


@dataclass(frozen=True)
class Record:
    """A record of a delimited file: the line it starts on, its number (1 = the first under the header, blank
    lines counted), and its fields as written."""

    line: int
    number: int
    fields: list[str]


@dataclass(frozen=True)
class Delimited:
    """A delimited file read: its header (as written), its records (blank lines left out), its delimiter."""

    header: list[str]
    header_line: int
    records: list[Record]
    delimiter: str
    notes: list[str] = field(default_factory=list)


def read_delimited(
    path: Path, *, delimiters: Sequence[str] = DELIMITERS, latin1: bool = False, headed: bool = True
) -> Delimited:
    """The header and records of a delimited text file, by the rules of this module (`headed`: see
    `parse_delimited`)."""
    raw = file_bytes(path, text=True)
    decoded = decode_text(raw, latin1=latin1)
    notes = [decoded.note] if decoded.note else []
    return parse_delimited(decoded.text, delimiters=delimiters, notes=notes, headed=headed)


SNIFFED_RECORDS = 5  # records after the header that the delimiter must split as it splits the header


def delimiter_of(header: str, delimiters: Sequence[str] = DELIMITERS, *, following: Sequence[str] = ()) -> str:
    """The delimiter a header line uses: the one of `delimiters` it holds most often, a comma on a tie (and when it
    holds none: a file of one column). Every reader of a user's delimited file, the extract's CSV files included,
    tells the delimiter so.

    Given the lines `following` the header (the first few records), the most frequent delimiter that splits each
    of them into as many fields as the header is chosen: a header whose names carry tabs (`"patient_id\t,code\t"`,
    as copied from a spreadsheet) holds more tabs than commas, yet its records are split by the commas. The lines
    are read as CSV records, so a quoted value holding a line break is one field; the last record is not compared
    when there are others, as it may run on past the lines given.
    """
    ranked = sorted(delimiters, key=lambda d: (header.count(d), d == ","), reverse=True)
    if any(line.strip() for line in following):
        for delimiter in ranked:
            if header.count(delimiter) and _splits_alike(header, following, delimiter):
                return delimiter
    return ranked[0]


def _splits_alike(header: str, following: Sequence[str], delimiter: str) -> bool:
    """Whether `delimiter` splits the records of the lines `following` into as many fields as the header."""
    width = _width(header, delimiter)
    if width is None:
        return False
    try:
        records = list(csv.reader(io.StringIO("\n".join(following), newline=""), delimiter=delimiter))
    except csv.Error:  # a carriage return alone inside a line: not this delimiter's to judge
        return False
    records = [r for r in records if r and not (len(r) == 1 and not r[0].strip())]  # blank lines are no records
    if len(records) > 1:
        records = records[:-1]
    return bool(records) and all(len(record) == width for record in records)


def leading_lines(text: str, count: int) -> list[str]:
    """The first `count` lines of `text` (fewer in a shorter text), without copying the rest of a large file."""
    lines: list[str] = []
    start = 0
    while len(lines) < count and start <= len(text):
        end = text.find("\n", start)
        if end < 0:
            lines.append(text[start:])
            break
        lines.append(text[start:end])
        start = end + 1
    return lines


def _width(line: str, delimiter: str) -> int | None:
    """The fields of one line split by `delimiter`, quotes kept as CSV keeps them; None when the line cannot be
    split (a carriage return alone inside it: the reader names it)."""
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:
        return None


def parse_delimited(
    text: str, *, delimiters: Sequence[str] = DELIMITERS, notes: list[str] | None = None, headed: bool = True
) -> Delimited:
    """`read_delimited` on text already decoded. A record repeating the header is refused, naming its line, unless
    the first line may be a record too (not `headed`: the reader tells, as an item map's is)."""
    if not text.strip():
        raise UserFileProblem("the file is empty (not even a header line)")
    lines = LINE_END.split(text)  # not str.splitlines, which also breaks at a form feed, NEL, U+2028...
    at = next(k for k, line in enumerate(lines) if line.strip())
    delimiter = delimiter_of(lines[at], delimiters, following=lines[at + 1 : at + 1 + SNIFFED_RECORDS])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    header_line = 0
    records: list[Record] = []
    number = 0
    start = 1
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if header is None:
                if any(f.strip() for f in fields):
                    header, header_line = fields, line
                continue
            number += 1
            if any(f.strip() for f in fields):
                records.append(Record(line, number, fields))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise UserFileProblem(f"a quote opened on line {start} is not closed", line=start) from None
        where = reader.line_num
        if start < where:  # the record runs over several lines: a quote opened there is closed in the wrong place
            raise UserFileProblem(
                f"line {where} is not readable CSV ({exc}): is a quote opened on line {start} left open?", line=start
            ) from None
        raise UserFileProblem(f"line {where} is not readable CSV ({exc})", line=where) from None
    if header is None:
        raise UserFileProblem("the file is empty (not even a header line)")
    if headed:
        repeat = next((record for record in records if repeats_header(record.fields, header)), None)
        if repeat is not None:
            raise UserFileProblem(f"line {repeat.line:,} {HEADER_REPEATED}", line=repeat.line)
    return Delimited(header, header_line, records, delimiter, notes or [])


def header_names(header: Sequence[str]) -> tuple[list[str], list[tuple[str, int, int]]]:
    """Column names as the model reads them (no byte-order mark, trimmed, lower case), and each name given twice:
    (name, its first position, the later position), positions counting from 1."""
    names = [model_name(name) for name in header]
    first_at: dict[str, int] = {}
    twice = []
    for position, name in enumerate(names, start=1):
        if name and name in first_at:
            twice.append((name, first_at[name], position))
        first_at.setdefault(name, position)
    return names, twice


def nul_cells(records: Sequence[Record], names: Sequence[str]) -> list[tuple[Record, str, str]]:
    """Each cell holding a NUL byte: (its record, its column, its value with the NUL written as \\x00)."""
    found = []
    for record in records:
        for position, value in enumerate(record.fields):
            if "\x00" in value:
                column = names[position] if position < len(names) else f"field {position + 1}"
                found.append((record, column, value.replace("\x00", "\\x00")))
    return found
