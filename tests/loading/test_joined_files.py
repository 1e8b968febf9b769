"""Two files joined end to end (`cat a.csv b.csv`): a record repeating the header is refused, naming its row (the
extract's CSV reader) or line (every other file a user gives: `user_files.read_delimited`), by one rule
(`column_names.repeats_header`: names compared trimmed, in lower case, quotes and a byte-order mark aside).

Without it, a patients.csv of only the required columns kept a patient named `patient_id` at a site named
`site_id`, and a sites file a site named `site_id`: no value's form checks those columns. The files are generated:
header and rows of any text, the header repeated in any letter case, with spaces around its names, quoted or not,
after a byte-order mark, at any row; the extract's tables are the demo's.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from oligo_cohort.accrual.sites_file import read_sites_file
from oligo_cohort.column_names import HEADER_REPEATED, repeats_header
from oligo_cohort.errors import UsageError
from oligo_cohort.file_kinds import UnreadableError, content_kind
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.sources.csv_files import read_csv_file
from oligo_cohort.user_files import UserFileProblem, read_delimited
from tests.safety.damaged_inputs import answered

CELL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n"), max_size=8)


@st.composite
def header_again(draw, names: list[str], delimiter: str) -> str:
    """A header line as another export writes the same names: letter case, spaces, quotes, a byte-order mark."""
    written = []
    for name in names:
        name = draw(st.sampled_from([name, name.upper(), name.title()]))
        name = draw(st.sampled_from(["", " ", "  "])) + name + draw(st.sampled_from(["", " "]))
        written.append('"' + name + '"' if draw(st.booleans()) or delimiter in name else name)
    return draw(st.sampled_from(["", "\ufeff"])) + delimiter.join(written)


def lines_of(rows: list[list[str]], delimiter: str) -> list[str]:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue().split("\n")[:-1]  # lines as the writer ends them (no cell holds a line end)


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(),
    header=st.lists(st.text("abcdefgh_", min_size=1, max_size=6), min_size=1, max_size=4, unique=True),
    rows=st.lists(st.lists(CELL, min_size=1, max_size=4), max_size=6),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_a_user_file_repeating_its_header_is_refused_naming_the_line(data, header, rows, delimiter) -> None:
    rows = [[*row, *[""] * len(header)][: len(header)] for row in rows]
    assume(not any(repeats_header(row, header) for row in rows))  # a row of any text may spell the header
    lines = lines_of([header, *rows], delimiter)
    at = data.draw(st.integers(1, len(lines)))  # before the line at that index: any row, or after the last
    lines.insert(at, data.draw(header_again(header, delimiter)))
    content = ("\n".join(lines) + "\n").encode("utf-8")
    assume(content_kind(content) == "text file")  # cells of control characters alone make binary data (file_kinds)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "file.csv"
        path.write_bytes(content)
        with pytest.raises(UserFileProblem) as caught:
            read_delimited(path)
    assert caught.value.reason == f"line {at + 1:,} {HEADER_REPEATED}" and caught.value.line == at + 1


def test_a_sites_file_joined_to_another_is_refused_naming_file_and_line(tmp_path) -> None:
    """The sites file of `accrual`, read as every user file is."""
    content = b"site_id,activation_date\nAVL,2025-03-01\n"
    path = tmp_path / "sites.csv"
    path.write_bytes(content + content.replace(b"AVL", b"UMCU"))
    with pytest.raises(UsageError) as caught:
        read_sites_file(path, dt.date(2025, 1, 1))
    assert str(caught.value) == f"--sites {path}: line 3 {HEADER_REPEATED}"


DEMO = demo_extract_dir()
TABLES = sorted(path.stem for path in DEMO.glob("*.csv"))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), table=st.sampled_from(TABLES))
def test_an_extract_table_repeating_its_header_is_refused_naming_the_row(data, table) -> None:
    text = (DEMO / f"{table}.csv").read_text(encoding="utf-8")
    header, *rows = text.splitlines()
    at = data.draw(st.integers(0, len(rows)))  # the repeated header is row at + 1
    again = data.draw(header_again(next(csv.reader([header])), ","))
    joined = "\n".join([header, *rows[:at], again, *rows[at:]]) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{table}.csv"
        path.write_text(joined, encoding="utf-8")
        with pytest.raises(UnreadableError) as caught:
            read_csv_file(path, [])
    assert str(caught.value) == f"row {at + 1:,} {HEADER_REPEATED}"


def test_an_extract_joined_to_another_is_refused_by_validate(tmp_path) -> None:
    """patients.csv of only its required columns: nothing else would have stopped a patient `patient_id`."""
    extract = tmp_path / "extract"
    extract.mkdir()
    for path in DEMO.glob("*.csv"):
        (extract / path.name).write_bytes(path.read_bytes())
    part = "patient_id,site_id\n" + "".join(f"P{n:03},AVL\n" for n in range(1, 1205))
    (extract / "patients.csv").write_text(part + part.replace("P0", "Q0"), encoding="utf-8")
    said = answered(["validate", str(extract)], inputs=[extract], out=tmp_path / "none")
    assert said.code == 2, said.err
    assert f"patients: value 'patients.csv': row 1,205 {HEADER_REPEATED}" in said.err, said.err
