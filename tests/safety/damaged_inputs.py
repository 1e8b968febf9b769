"""Damaged versions of a user's file, and the check that a command answers them cleanly.

`damaged(content, kind)` turns a good delimited text file into one of the damages users' files arrive with;
`not_a_file(path, kind)` puts a folder, a FIFO, a broken link or a link loop where a file is expected. `answered`
runs the real command line on it and checks the standard every command holds to: an exit code of 0 or 2 (never
a traceback or an internal error), on 2 a message and no output folder (nor a hidden `.partial` one) left beside
the destination, and the input files' bytes unchanged either way.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from oligo_cohort.cli import main

# Damages of a delimited text file, each a way users' files really arrive broken.
TEXT_DAMAGES = (
    "utf-16",  # Excel's "Unicode text"
    "utf-16 without its mark",
    "latin-1 byte",  # a Windows export
    "nul byte in a cell",
    "quote left open",
    "empty",
    "blank lines only",
    "header only",
    "column named twice",  # in another case and spacing
    "required column missing",
    "row too short",
    "row too long",
    "very long value",
    "workbook bytes",  # an .xlsx saved under a .csv name
)
NOT_FILES = ("folder", "fifo", "broken link", "link loop")
# How a reader names each of them: "<path>: a folder, not a file".
NOT_FILE_WORDS = {
    "folder": "a folder",
    "fifo": "a named pipe (FIFO)",
    "broken link": "a broken link",
    "link loop": "a link loop",
}


def damaged(content: bytes, kind: str, *, delimiter: str = ",", row: int = 1, column: int = 0) -> bytes:
    """`content` (a UTF-8 delimited file with a header and at least one row) damaged in one way, at `column` of
    data row `row` where the damage is a cell's."""
    text = content.decode("utf-8")
    if kind == "utf-16":
        return text.encode("utf-16")
    if kind == "utf-16 without its mark":
        return text.encode("utf-16-le")
    if kind == "latin-1 byte":  # at the start of the second line
        return content.replace(b"\n", b"\n\xe9", 1)
    if kind == "empty":
        return b""
    if kind == "blank lines only":
        return b"\n \n\r\n"
    if kind == "workbook bytes":
        return b"PK\x03\x04" + bytes(200)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    target = rows[min(row, len(rows) - 1)]
    column = min(column, len(target) - 1)
    opened = None
    if kind == "header only":
        rows = rows[:1]
    elif kind == "nul byte in a cell":
        target[column] = target[column][:1] + "\x00" + target[column][1:]
    elif kind == "quote left open":
        opened = id(target)
    elif kind == "column named twice":  # in another case and spacing
        rows = [[*r, f" {rows[0][column].upper()} " if k == 0 else ""] for k, r in enumerate(rows)]
    elif kind == "required column missing":
        rows = [[c for k, c in enumerate(r) if k != column] for r in rows]
    elif kind == "row too short":
        del target[-1]
    elif kind == "row too long":
        target.append("extra")
    elif kind == "very long value":
        target[column] = "x" * 200_000
    else:
        raise ValueError(kind)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    for r in rows:
        if id(r) == opened:  # the cell's quote is opened and never closed
            cells = [_written(c, delimiter) for c in r]
            cells[column] = '"' + r[column].replace('"', "")
            buffer.write(delimiter.join(cells) + "\n")
        else:
            writer.writerow(r)
    return buffer.getvalue().encode("utf-8")


def _written(cell: str, delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="").writerow([cell])
    return buffer.getvalue()


def not_a_file(path: Path, kind: str) -> None:
    """Put something that is not a regular file where `path` is expected."""
    if path.exists() or path.is_symlink():
        path.unlink()
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "broken link":
        path.symlink_to(path.with_name(path.name + ".gone"))
    elif kind == "link loop":
        path.symlink_to(path)
    else:
        raise ValueError(kind)


def fingerprint(paths: Iterable[Path]) -> dict[str, str]:
    """sha256 of every regular file at or under `paths` (links followed; FIFOs and broken links left out)."""
    found: dict[str, str] = {}
    for path in paths:
        for file in [path] if not path.is_dir() else sorted(path.rglob("*")):
            if file.is_file():  # follows links; a FIFO or broken link is not a file
                found[str(file)] = hashlib.sha256(file.read_bytes()).hexdigest()
    return found


@dataclass(frozen=True)
class Answer:
    code: int
    out: str
    err: str


def answered(argv: Sequence[str], *, inputs: Sequence[Path], out: Path) -> Answer:
    """Run the command line; hold it to the standard (see the module's docstring) and give what it said."""
    before = fingerprint(inputs)
    beside = sorted(p.name for p in out.parent.iterdir())
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(list(argv))
    err = stderr.getvalue()
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    assert fingerprint(inputs) == before, "an input was changed"
    if code == 2:
        assert err.strip(), "refused without a word"
        assert sorted(p.name for p in out.parent.iterdir()) == beside, "something was left beside the output"
    return Answer(code, stdout.getvalue(), err)
