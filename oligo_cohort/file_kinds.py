"""What a path is, told from the file system and the file's first bytes, before anything opens it.

Every file a user gives is looked at here first: the extract's readers (`sources`) and the readers of the
other files (`user_files`, screen folders, importers). A folder, FIFO, socket, device, broken link or link loop
is named for what it is and never opened (opening a FIFO would wait for a writer forever); a file is told by
its first bytes (a SQLite database, an Excel workbook, a DuckDB file...), so that a refusal says what to do;
bytes that are no text at all (no signature, no NUL byte: random or damaged data) are a `binary file`.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from pathlib import Path


class UnreadableError(Exception):
    """A table's file cannot be read as a table; the message says why (a fatal problem naming the file).

    The problem is the table's: a table that cannot be read is not checked further (no rule and no cross-table
    check reads it), whatever column the message names as the cause.
    """


DUCKDB_FILE = "DuckDB database"
BINARY_FILE = "binary file"  # bytes that are no text (`_binary`)
# A NUL byte among the first bytes: UTF-16 text without its byte-order mark, or binary data (`user_files.decode_text`
# tells which, by the line).
NUL_FILE = "file holding NUL bytes"
SAMPLE_BYTES = 8192  # the first bytes read to tell a file's kind: its signature, and whether it is text
# Bytes no text holds (libmagic's list): the C0 control characters but bell, backspace, tab, the line and page
# breaks and escape; and DEL. A NUL byte is left to rules of its own (UTF-16 text, a damaged cell).
_CONTROLS = bytes([*range(0x01, 0x07), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_HIGH = bytes(range(0x80, 0x100))
NOT_FILES = ("named pipe (FIFO)", "socket", "device", "broken link", "link loop")
EXPORT_FIRST = ("SQLite database", "PostgreSQL dump", "zip archive (an Excel .xlsx workbook?)", "Excel .xls workbook")
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
        head = read_regular(path, SAMPLE_BYTES)
    except UnreadableError as exc:
        return f"unreadable file ({exc})"
    return content_kind(head)


def content_kind(head: bytes) -> str:
    """What a file (or a stream, such as the text packed in a gzip archive) is by its first bytes (`SAMPLE_BYTES`
    of them): `empty file`, a kind of export or archive (a workbook, a Parquet file...) by its signature, a file
    holding NUL bytes among its first 16, a binary file, else a text file."""
    if not head:
        return "empty file"
    for offset, magic, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if b"\x00" in head[:16]:
        return NUL_FILE
    return BINARY_FILE if _binary(head[:SAMPLE_BYTES]) else "text file"


# Fewer bytes of a kind than this never make a file binary, whatever their share: a file of a few lines holding a
# cell's stray control character (`_,\x1f`) is text whose cell its reader names, not data of no kind.
_FEW = 8


def _binary(sample: bytes) -> bool:
    """Whether a file's first bytes are binary data rather than text, as `file` tells them apart, with room for a
    stray control character in a cell: one byte in ten a control character no text holds; or, not being UTF-8,
    three bytes in ten outside ASCII (text in Latin-1, as Windows exports write it, is mostly ASCII: digits,
    delimiters, dates, the letters of names). Either takes at least `_FEW` such bytes."""
    controls = len(sample) - len(sample.translate(None, _CONTROLS))
    if controls >= _FEW and controls * 10 >= len(sample):
        return True
    high = len(sample) - len(sample.translate(None, _HIGH))
    if high < _FEW or high * 10 < len(sample) * 3:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)  # a character cut at the end is no error
    except UnicodeDecodeError:
        return True
    return False


def with_article(kind: str) -> str:
    """`kind` after "a" or "an", by its first letter (a name in backticks by the name's: an `attrition` output)."""
    return ("an " if kind.lstrip("`")[:1] in ("a", "e", "i", "o", "u") else "a ") + kind


def read_regular(path: Path, size: int = -1) -> bytes:
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
