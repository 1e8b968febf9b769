"""Reading answer files back: review CSV files (as exported, or re-saved by a spreadsheet) and review workbooks.

Each row keeps where it came from (file, sheet, row) so that every problem can be named where a nurse finds it:
in a CSV file the row number counts data rows (1 = the first row under the header), as in the screen's problem
reports; in a workbook it is the row number the spreadsheet shows (the header is row 1). Values are read as
text; a workbook's date cells become ISO dates and whole numbers lose their `.0`; a formula is kept as such so
that it can be refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from oligo_cohort.csv_output import read_back
from oligo_cohort.errors import OligoCohortError

PROBLEM_COLUMNS = ("file", "sheet", "row", "column", "value", "message")
REQUIRED_COLUMNS = ("patient_id", "event_id", "item", "answer", "answer_date", "answered_by")
DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class AnswerProblem:
    """One problem of an answer file, named where a nurse finds it."""

    file: str
    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    message: str

    def describe(self) -> str:
        """One line: file, sheet, row, column, value, what is wrong."""
        where = self.file
        if self.sheet is not None:
            where += f", sheet {self.sheet}"
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        value = "" if self.value is None else f" value {_shorten(self.value)!r}:"
        return f"{where}:{value} {self.message}"

    def as_row(self) -> dict[str, object]:
        """The problem as a row of a --problems file (columns PROBLEM_COLUMNS)."""
        return {
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


class AnswerFileError(OligoCohortError):
    """Answer files with problems: `problems` lists every one found (exit 2, nothing written)."""

    exit_code = 2

    def __init__(self, problems: list[AnswerProblem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the answer files")


@dataclass(frozen=True)
class AnswerRow:
    """One row of an answer file: where it is, and its values as text ('' when empty)."""

    file: str
    sheet: str | None
    row: int
    values: dict[str, str]
    formulas: frozenset[str] = frozenset()  # columns whose workbook cell holds a formula (its text in `values`)

    def get(self, column: str) -> str:
        return self.values.get(column, "")

    def problem(self, column: str | None, message: str, value: str | None = None) -> AnswerProblem:
        shown = self.get(column) if (value is None and column) else value
        return AnswerProblem(self.file, self.sheet, self.row, column, shown or None, message)

    @property
    def is_blank(self) -> bool:
        return not any(v.strip() for v in self.values.values())

    @property
    def is_answered(self) -> bool:
        """Whether anything was typed in the answer columns."""
        return any(self.get(c).strip() for c in ("answer", "answer_date", "answered_by"))


def read_answer_files(paths: list[str | Path]) -> tuple[list[AnswerRow], list[AnswerProblem]]:
    """Every row of every file (CSV, or every sheet of a workbook), and the problems of the files themselves."""
    rows: list[AnswerRow] = []
    problems: list[AnswerProblem] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        name = str(given)
        if path.resolve() in seen:
            problems.append(AnswerProblem(name, None, None, None, None, "the file is given twice"))
            continue
        seen.add(path.resolve())
        if not path.is_file():
            problems.append(AnswerProblem(name, None, None, None, None, "no such file"))
            continue
        suffix = path.suffix.lower()
        if suffix == ".csv":
            found, trouble = _read_csv(path, name)
        elif suffix in (".xlsx", ".xlsm"):
            found, trouble = _read_workbook(path, name)
        else:
            found, trouble = [], [AnswerProblem(name, None, None, None, None, "not a .csv or .xlsx file")]
        rows += found
        problems += trouble
    return rows, problems


def _read_csv(path: Path, name: str) -> tuple[list[AnswerRow], list[AnswerProblem]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # a spreadsheet's "CSV" on Windows
    if not text.strip():
        return [], [AnswerProblem(name, None, None, None, None, "the file is empty")]
    header_line = text.splitlines()[0]
    # A spreadsheet saving in a comma-decimal locale writes ';' (or tabs): take the delimiter the header uses.
    delimiter = max(DELIMITERS, key=lambda d: len(header_line.split(d)))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        table = list(reader)
    except csv.Error as exc:
        return [], [AnswerProblem(name, None, None, None, None, f"cannot be read as CSV: {exc}")]
    header = [read_back(h.strip()).lower() for h in table[0]]
    problems = _header_problems(header, name, None)
    if problems:
        return [], problems
    rows = []
    for k, record in enumerate(table[1:], start=1):
        if len(record) > len(header):
            extra = record[len(header) :]
            if any(v.strip() for v in extra):
                problems.append(
                    AnswerProblem(name, None, k, None, ";".join(extra), "more fields than the header has columns")
                )
                continue
        values = {h: read_back(record[i].strip()) if i < len(record) else "" for i, h in enumerate(header) if h}
        row = AnswerRow(name, None, k, values)
        if not row.is_blank:
            rows.append(row)
    return rows, problems


def _read_workbook(path: Path, name: str) -> tuple[list[AnswerRow], list[AnswerProblem]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        return [], [AnswerProblem(name, None, None, None, None, f"cannot be read as an Excel workbook: {exc}")]
    rows: list[AnswerRow] = []
    problems: list[AnswerProblem] = []
    try:
        for sheet in workbook.worksheets:
            cells = sheet.iter_rows()
            first = next(cells, None)
            if first is None:
                continue  # an empty sheet asks nothing
            header = [str(c.value).strip().lower() if c.value is not None else "" for c in first]
            if not set(REQUIRED_COLUMNS) & set(header):
                continue  # a sheet of the nurse's own (notes, a list): not a review sheet
            trouble = _header_problems(header, name, sheet.title)
            if trouble:
                problems += trouble
                continue
            for row_number, record in enumerate(cells, start=2):
                cells_of = {h: record[i] for i, h in enumerate(header) if h and i < len(record)}
                values = {h: _cell_text(cells_of[h]) if h in cells_of else "" for h in header if h}
                formulas = frozenset(h for h, cell in cells_of.items() if getattr(cell, "data_type", None) == "f")
                row = AnswerRow(name, sheet.title, row_number, values, formulas)
                if not row.is_blank:
                    rows.append(row)
    finally:
        workbook.close()
    return rows, problems


def _cell_text(cell) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header_problems(header: list[str], name: str, sheet: str | None) -> list[AnswerProblem]:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    doubled = sorted({h for h in header if h and header.count(h) > 1})
    problems = [
        AnswerProblem(name, sheet, None, c, None, "required column missing from the header row") for c in missing
    ]
    problems += [AnswerProblem(name, sheet, None, c, None, "column named twice in the header row") for c in doubled]
    return problems


def _shorten(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
