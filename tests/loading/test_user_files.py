"""The rules every file a user gives beside the extract is read by (`oligo_cohort/user_files.py`).

Generated files of any text — delimiters, quotes and line breaks inside cells, a byte-order mark, Windows line
ends, blank lines — read back as the records written, each with the line it starts on and its number (blank
lines counted); damaged ones are refused with the line where the damage is.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oligo_cohort.file_kinds import content_kind
from oligo_cohort.user_files import UserFileProblem, decode_text, header_names, nul_cells, read_delimited
from tests.safety.damaged_inputs import NOT_FILE_WORDS, NOT_FILES, not_a_file

CELL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=8)


# Characters Python's `str.splitlines` takes for line breaks, which the CSV reader (and every editor's line count)
# reads as text inside a line: a vertical tab, form feed, file/group/record separators, NEL and the Unicode line and
# paragraph separators.
NOT_LINE_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
NAME = st.tuples(st.text("abcdefgh_", min_size=1, max_size=3), st.text(NOT_LINE_BREAKS, max_size=1)).map(
    lambda parts: parts[0] + parts[1] + parts[0]
)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    header=st.lists(NAME, min_size=1, max_size=4, unique=True),
    rows=st.lists(st.lists(CELL, min_size=1, max_size=4), max_size=6),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    blank_after=st.sets(st.integers(0, 6), max_size=3),
)
def test_a_generated_file_reads_back_as_written(header, rows, delimiter, newline, bom, blank_after):
    rows = [[*row, *[""] * len(header)][: len(header)] for row in rows]  # as wide as the header
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    expected = []  # (line, number, fields) of each row that is not blank
    line, number = 2, 0
    for k, row in enumerate(rows):
        if k in blank_after:
            buffer.write(newline)
            line, number = line + 1, number + 1
        writer.writerow(row)
        number += 1
        if any(cell.strip() for cell in row):
            expected.append((line, number, row))
        line += 1 + sum(cell.count("\n") for cell in row)
    folder = Path(tempfile.mkdtemp())
    try:
        path = folder / "file.csv"
        path.write_bytes(("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8"))
        read = read_delimited(path)
    finally:
        path.unlink()
        folder.rmdir()
    assert read.header == header and read.header_line == 1
    assert [(r.line, r.number, r.fields) for r in read.records] == expected
    if len(header) > 1:
        assert read.delimiter == delimiter


def refusal(tmp_path: Path, content: bytes, **options) -> UserFileProblem:
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    with pytest.raises(UserFileProblem) as caught:
        read_delimited(path, **options)
    return caught.value


@pytest.mark.parametrize(
    ("content", "reason", "line"),
    [
        ("a,b\n1,2\n".encode("utf-16"), "UTF-16 text", 1),
        ("a,b\n1,2\n".encode("utf-16-le"), "line 1 holds NUL bytes", 1),
        (b"a,b\n1,2\n3,\xe9\n", "line 3 is not UTF-8 text", 3),
        (b"a,b\r1,2\r3,\xe9\r", "line 3 is not UTF-8 text", 3),  # lines ending in CR alone (the classic Mac)
        (b"\xef\xbb\xbfa,b\n\xe9,2\n", "line 2 is not UTF-8 text", 2),  # counted past the byte-order mark
        (b'a,b\n1,2\n3,"4\n5,6\n', "a quote opened on line 3 is not closed", 3),
        (b'a,b\n"1"x,2\n', "line 2 is not readable CSV", 2),
        (b"", "the file is empty", None),
        (b"\n  \r\n,,\n", "the file is empty", None),
        (b"PK\x03\x04" + bytes(40), "a zip archive (an Excel .xlsx workbook?), not a text file", None),
        (b"PAR1" + bytes(40), "a Parquet file, not a text file", None),
    ],
)
def test_a_damaged_file_is_refused_naming_the_line(tmp_path, content, reason, line):
    problem = refusal(tmp_path, content)
    assert reason in problem.reason and problem.line == line


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"], ids=["LF", "CR LF", "CR"])
def test_a_nul_byte_past_the_first_line_is_left_to_its_cell_whatever_the_line_ends(end):
    """Only NUL bytes on the first line make the file UTF-16 text or no text; one further down is a damaged cell,
    which each reader names (`nul_cells`)."""
    assert decode_text(end.join([b"a,b", b"1,\x00", b""]), latin1=False).text == end.decode().join(
        ["a,b", "1,\x00", ""]
    )


def test_windows_1252_is_read_where_allowed_with_a_note_naming_the_line(tmp_path):
    path = tmp_path / "file.csv"
    path.write_bytes(b"a;b\n1;2\n3;Zo\xeb\n")
    read = read_delimited(path, latin1=True)
    assert read.records[-1].fields == ["3", "Zoë"] and read.notes == [
        "not UTF-8 (first on line 3): read as Windows-1252"
    ]
    assert decode_text(b"\xef\xbb\xbfa", latin1=False).text == "a"


@pytest.mark.parametrize("kind", NOT_FILES)
def test_a_path_that_is_not_a_file_is_named_never_opened(tmp_path, kind):
    path = tmp_path / "file.csv"
    not_a_file(path, kind)
    with pytest.raises(UserFileProblem) as caught:
        read_delimited(path)
    assert caught.value.reason == f"{NOT_FILE_WORDS[kind]}, not a file"


def test_names_are_compared_trimmed_in_lower_case_and_nul_cells_are_found(tmp_path):
    names, twice = header_names(["\ufeffPatient_ID", "item", " PATIENT_id ", "", ""])
    assert names == ["patient_id", "item", "patient_id", "", ""] and twice == [("patient_id", 1, 3)]
    path = tmp_path / "file.csv"
    path.write_bytes(b"a,b\n1,2\nx\x00y,3,4\n")
    read = read_delimited(path)
    assert [(r.line, column, value) for r, column, value in nul_cells(read.records, ["a", "b"])] == [
        (3, "a", "x\\x00y")
    ]


STRAY_CONTROLS = [*range(0x01, 0x07), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F]  # no text holds them


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(st.text("abc 019-", max_size=5), min_size=2, max_size=2), max_size=8),
    stray=st.lists(st.tuples(st.integers(0, 8), st.sampled_from(STRAY_CONTROLS)), min_size=1, max_size=7),
)
def test_a_few_stray_control_characters_leave_a_short_file_text(rows, stray):
    """However short the file, up to seven control characters in its cells are cells' text for the reader to give
    (and its checks to name), not a file of no kind: `_,\\x1f` was refused as "a binary file"."""
    rows = [["id", "name"], *rows]
    for at, control in stray:
        row = rows[min(at, len(rows) - 1)]
        row[1] += chr(control)
    content = "".join(",".join(row) + "\n" for row in rows).encode()
    assert content_kind(content) == "text file"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "file.csv"
        path.write_bytes(content)
        read = read_delimited(path)
    assert [r.fields for r in read.records] == [row for row in rows[1:] if any(cell.strip() for cell in row)]
