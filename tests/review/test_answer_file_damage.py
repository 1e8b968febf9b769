"""`review import` on damaged answer files: every damage answered through the command line with file, sheet, row,
column and value (exit 2, nothing written, the files unchanged), or imported where the file is still a valid
answer file; generated answers are accepted or refused as an independent list of good and bad values says.

CSV files get every damage of `tests/safety/damaged_inputs.py` and every kind of path that is not a file;
workbooks get what a damaged or foreign .xlsx holds: a stray cell at XFD1048576 (read only to the header's
width, in about a second, where it took minutes), a sheet whose XML is cut, a sheet the workbook lists but the
file lacks, no review sheet at all, an error value (#N/A) where an answer belongs.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from oligo_cohort.api import screen
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.review.answers import AnswerFileError
from oligo_cohort.review.export import export_review, write_review_csv
from oligo_cohort.review.importer import import_answers
from oligo_cohort.review.simulate import fill_answers
from tests.draws import costly_draws
from tests.safety.damaged_inputs import NOT_FILES, TEXT_DAMAGES, answered, damaged, not_a_file

TODAY = dt.date(2025, 6, 1)
EXTRACT = demo_extract_dir()


@pytest.fixture(scope="module")
def review(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """The demo's review export (its folder) and the export's rows filled in with favourable answers."""
    base = tmp_path_factory.mktemp("answers")
    screen(EXTRACT).write(base / "screen")
    export = export_review(base / "screen", base / "review")
    return base / "review", fill_answers(export.rows, answered_by="J. de Vries")


@pytest.fixture(scope="module")
def filled(review, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("filled") / "answers.csv"
    write_review_csv(review[1], path)
    return path.read_bytes()


def review_import(files: list[Path], out: Path, extract: Path = EXTRACT) -> list[str]:
    return ["review", "import", *map(str, files), "--extract", str(extract), "--out", str(out)]


COLUMN = "answer"  # the cell each damage of a cell is done to (data row 1)
EXPECTED = {
    "utf-16": (2, "{file}: UTF-16 text"),
    "utf-16 without its mark": (2, "{file}: line 1 holds NUL bytes"),
    # A spreadsheet's "CSV" on Windows is Latin-1: read so, the stray byte is part of the first row's patient id.
    "latin-1 byte": (2, "{file}, row 1, column patient_id: value 'é00242': not a patient of the extract"),
    "nul byte in a cell": (2, r"{file}, row 1, column answer: value 'y\\\\x00es': holds a NUL byte"),
    # The cell's quote is closed by the next quote of the file (in a question on line 3), where CSV breaks.
    "quote left open": (2, "{file}: line 3 is not readable CSV .*: is a quote opened on line 2 left open"),
    "empty": (2, "{file}: the file is empty"),
    "blank lines only": (2, "{file}: the file is empty"),
    "header only": (0, None),  # an export with nothing to ask: nothing to import
    "column named twice": (2, "{file}, column answer: column named twice in the header row"),
    "required column missing": (2, "{file}, column answer: required column missing from the header row"),
    "row too short": (0, None),  # the last field (a note) left off, as some tools write it: nothing lost
    "row too long": (2, "{file}, row 1: value 'extra': more fields than the header has columns"),
    "very long value": (2, "{file}, row 1, column answer: value 'x{{59}}…': not an allowed answer"),
    "workbook bytes": (2, r"{file}: a zip archive \(an Excel \.xlsx workbook\?\), not a text file"),
}


@pytest.mark.parametrize("damage", TEXT_DAMAGES)
def test_a_damaged_answer_file_is_refused_naming_file_row_column_and_value(tmp_path, filled, damage):
    header = filled.decode().splitlines()[0].split(",")
    column = header.index("note") if damage == "row too short" else header.index(COLUMN)
    answers = tmp_path / "answers.csv"
    answers.write_bytes(damaged(filled, damage, row=1, column=column))
    out = tmp_path / "reviewed"
    said = answered(review_import([answers], out), inputs=[answers, EXTRACT], out=out)
    code, message = EXPECTED[damage]
    assert said.code == code, said.err
    if message is not None:
        assert re.search(message.format(file=re.escape(str(answers))), said.err), said.err
        assert "Nothing was written" in said.err and len(said.err) < 3000


@pytest.mark.parametrize("kind", [k for k in NOT_FILES if k != "link loop"])  # a loop stops the destination first
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_answer_path_that_is_not_a_file_is_named_never_opened(tmp_path, kind, suffix):
    answers = tmp_path / f"answers{suffix}"
    not_a_file(answers, kind)
    out = tmp_path / "reviewed"
    said = answered(review_import([answers], out), inputs=[EXTRACT], out=out)
    named = {"folder": "a folder", "fifo": "a named pipe (FIFO)", "broken link": "a broken link"}[kind]
    assert said.code == 2 and f"{answers}: {named}, not a file" in said.err, said.err


# --- Workbooks ------------------------------------------------------------------------------------------------


def _rezipped(workbook: bytes, change) -> bytes:
    """The workbook's zip with each part passed through `change(name, data)` (None drops the part)."""
    source, target = zipfile.ZipFile(io.BytesIO(workbook)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            data = change(info.filename, source.read(info.filename))
            if data is not None:
                out.writestr(info, data)
    return target.getvalue()


def _edited(workbook: Path, edit) -> bytes:
    book = load_workbook(workbook)
    edit(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _answer_first_row(book, answer="yes", by="J. de Vries") -> None:
    sheet = book.worksheets[0]
    sheet.cell(2, 10, answer)
    sheet.cell(2, 11, sheet.cell(2, 4).value)
    sheet.cell(2, 12, by)


def _no_review_sheet(book) -> None:
    for sheet in book.worksheets:
        sheet.delete_cols(1, 20)
        sheet.cell(1, 1, "my notes")


WORKBOOKS = {
    "a stray cell at XFD1048576": (
        lambda path, data: _edited(path, lambda b: (_answer_first_row(b), b.worksheets[0].cell(1048576, 16384, "x"))),
        0,
        None,
    ),
    "a sheet's XML cut short": (
        lambda path, data: _rezipped(data, lambda n, d: d[: len(d) // 2] if n == "xl/worksheets/sheet1.xml" else d),
        2,
        "cannot be read as an Excel workbook",
    ),
    "a sheet listed but missing": (
        lambda path, data: _rezipped(data, lambda n, d: None if n == "xl/worksheets/sheet2.xml" else d),
        2,
        "a sheet the workbook lists is missing from the file",
    ),
    "no review sheet": (lambda path, data: _edited(path, _no_review_sheet), 2, "no sheet has the review's columns"),
    "an error value as the reviewer": (
        lambda path, data: _edited(path, lambda b: _answer_first_row(b, by="#N/A")),
        2,
        "sheet AVL, row 2, column answered_by: value '#N/A': an error value of the spreadsheet",
    ),
    "cut in half": (lambda path, data: data[: len(data) // 2], 2, "cannot be read as an Excel workbook"),
}


@pytest.mark.parametrize("case", sorted(WORKBOOKS))
def test_a_damaged_or_foreign_workbook_is_refused_or_read_to_its_header(tmp_path, review, case):
    make, code, message = WORKBOOKS[case]
    source = review[0] / "review.xlsx"
    answers = tmp_path / "answers.xlsx"
    answers.write_bytes(make(source, source.read_bytes()))
    out = tmp_path / "reviewed"
    said = answered(review_import([answers], out), inputs=[answers, EXTRACT], out=out)
    assert said.code == code, said.err
    if message is not None:
        assert f"{answers}" in said.err and message in said.err, said.err
    else:
        assert "1 added" in said.out, said.out


# --- Generated answers, against lists of good and bad values ------------------------------------------------------

# (value, what the import says of it: None when it is accepted). The dates are those of a lat_amenable answer
# of patient 00242 (born 1960-03-02; line 1 from 2022-08-22; today 2025-06-01).
ANSWER_DATES = [("2024-03-04", None), ("2022-08-22", None), ("2025-06-01", None),
                ("2025-06-02", "after today"), ("2022-08-21", "before the start of line 1"),
                ("1970-01-01", "before the start of line 1"), ("1950-01-01", "before the patient's birth (1960-03-02)"),
                ("1899-12-31", "before 1900-01-01"), ("0001-01-01", "before 1900-01-01"),
                ("2024-02-30", "not a date"), ("31/12/2024", "not a date"), ("45355", "not a date"),
                ("2024-03-04 10:30", "not a date"), ("=TODAY()", "not a date"), ("", "answer_date missing")]  # fmt: skip
ANSWERS = [("yes", None), ("No", None), (" YES ", None), ("ja", "not an allowed answer"), ("1", "not an allowed answer"),
           ("true", "not an allowed answer"), ("", "answer missing")]  # fmt: skip
REVIEWERS = [("J. de Vries", None), ('=HYPERLINK("x")', None), ("a\nb", None), ("", "answered_by missing"),
             ("J\x00V", "holds a NUL byte")]  # fmt: skip


@settings(
    max_examples=costly_draws(6),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(date=st.sampled_from(ANSWER_DATES), answer=st.sampled_from(ANSWERS), reviewer=st.sampled_from(REVIEWERS))
def test_generated_answers_are_imported_or_refused_as_their_values_say(
    review, tmp_path_factory, date, answer, reviewer
):
    rows = review[1]
    rows = rows[(rows["patient_id"] == "00242") & (rows["item"] == "lat_amenable")].copy()
    rows[["answer_date", "answer", "answered_by"]] = [date[0], answer[0], reviewer[0]]
    folder = tmp_path_factory.mktemp("generated")
    write_review_csv(rows, folder / "answers.csv")
    typed = any(value for value, _ in (date, answer, reviewer))
    expected = [
        message for _, message in (date, answer, reviewer) if message is not None and (typed or "NUL" in message)
    ]
    try:
        result = import_answers([folder / "answers.csv"], EXTRACT, folder / "reviewed", today=TODAY)
    except AnswerFileError as error:
        named = [p.describe() for p in error.problems]
        assert expected, named
        assert all(p.row == 1 for p in error.problems), named
        for message in expected:
            assert any(message in line for line in named), (message, named)
        assert len(named) == len(expected), (expected, named)
    else:
        assert not expected, expected
        assert result.records.added == (1 if typed else 0)
    finally:
        shutil.rmtree(folder)


# --- The audit of an earlier review round -------------------------------------------------------------------------

AUDIT_DAMAGES = {
    "utf-16": "UTF-16 text",
    "quote left open": "is a quote opened on line 2 left open?",
    "row too long": "cannot be read: line 2 has 18 fields, the header 17",
    "nul byte in a cell": "cannot be read: line 2, column imported_on: a NUL byte",
}


@pytest.fixture(scope="module")
def first_round(review, tmp_path_factory) -> tuple[Path, Path]:
    """The demo after a first round (AVL's answers), and the second round's answers (UMCU's)."""
    base = tmp_path_factory.mktemp("rounds")
    rows = review[1]
    write_review_csv(rows[rows["site_id"] == "AVL"], base / "avl.csv")
    write_review_csv(rows[rows["site_id"] == "UMCU"], base / "umcu.csv")
    import_answers([base / "avl.csv"], EXTRACT, base / "round-1", today=TODAY)
    return base / "round-1", base / "umcu.csv"


@pytest.mark.parametrize("damage", sorted(AUDIT_DAMAGES))
def test_a_damaged_audit_of_an_earlier_round_is_refused_never_carried_in_part(tmp_path, first_round, damage):
    """A second round copies the first round's audit: one that cannot be read whole is named, not half-copied."""
    extract = Path(shutil.copytree(first_round[0], tmp_path / "round-1"))
    audit = extract / "review_audit.csv"
    audit.write_bytes(damaged(audit.read_bytes(), damage, row=1, column=0))
    out = tmp_path / "round-2"
    said = answered(review_import([first_round[1]], out, extract), inputs=[first_round[1], extract], out=out)
    assert said.code == 2 and f"the review audit {audit}" in said.err and AUDIT_DAMAGES[damage] in said.err, said.err
