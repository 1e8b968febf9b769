"""Reading answer files back: review CSV files (as exported, or re-saved by a spreadsheet) and review workbooks.

Each row keeps where it came from (file, sheet, row) so that every problem can be named where a nurse finds it:
in a CSV file the row number counts data rows (1 = the first row under the header), as in the screen's problem
reports; in a workbook it is the row number the spreadsheet shows (the header is row 1). Values are read as
text; a workbook's date cells become ISO dates and whole numbers lose their `.0`; a formula or an error value
(`#N/A`) is kept as such so that it can be refused.

A CSV file is read by the rules of every file a user gives (`oligo_cohort.user_files`: a folder, FIFO or broken
link named; UTF-16 refused; `,` `;` or tab as its header uses; a quote left open named by its line, never
swallowing the rows after it; a NUL byte named by its cell), Latin-1 where it is not UTF-8 (a spreadsheet's
"CSV" on Windows). A workbook is read to the end of its header's columns only; one that cannot be read to the
end, lacks a sheet it lists, or has no sheet with the review's columns is refused.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from pathlib import Path

from oligo_cohort.counts_in_words import counted
from oligo_cohort.csv_output import read_back
from oligo_cohort.errors import OligoCohortError
from oligo_cohort.user_files import UserFileProblem, file_bytes, header_names, nul_cells, read_delimited

PROBLEM_COLUMNS = ("file", "sheet", "row", "column", "value", "message")
REQUIRED_COLUMNS = ("patient_id", "event_id", "item", "answer", "answer_date", "answered_by")
DELIMITERS = (",", ";", "\t")


# A workbook cell holds at most this many characters (Excel's limit): openpyxl writes a longer text of the export
# cut to it. The answer checks read an id cut so back as the registry's id it begins (`review.checks`); review.csv
# holds every value whole.
CELL_CHARACTERS = 32_767


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
        super().__init__(f"{counted(len(problems), 'problem')} in the answer files")


@dataclass(frozen=True)
class AnswerRow:
    """One row of an answer file: where it is, and its values as text ('' when empty)."""

    file: str
    sheet: str | None
    row: int
    values: dict[str, str]
    formulas: frozenset[str] = frozenset()  # columns whose workbook cell holds a formula (its text in `values`)
    errors: frozenset[str] = frozenset()  # columns whose workbook cell holds an error value (#N/A, #VALUE!...)

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
    # A spreadsheet saving in a comma-decimal locale writes ';' (or tabs); on Windows its "CSV" may be Latin-1.
    try:
        read = read_delimited(path, delimiters=DELIMITERS, latin1=True)
    except UserFileProblem as exc:
        return [], [AnswerProblem(name, None, None, None, None, exc.reason)]
    header, _ = header_names([read_back(h.strip()) for h in read.header])
    problems = _header_problems(header, name, None)
    if problems:
        return [], problems
    problems += [
        AnswerProblem(name, None, record.number, column, value, "holds a NUL byte: the file is damaged")
        for record, column, value in nul_cells(read.records, header)
    ]
    rows = []
    for record in read.records:
        fields = record.fields
        if len(fields) > len(header):
            extra = fields[len(header) :]
            if any(v.strip() for v in extra):
                problems.append(
                    AnswerProblem(
                        name, None, record.number, None, ";".join(extra), "more fields than the header has columns"
                    )
                )
                continue
        values = {h: read_back(fields[i].strip()) if i < len(fields) else "" for i, h in enumerate(header) if h}
        rows.append(AnswerRow(name, None, record.number, values))
    return rows, problems


def _read_workbook(path: Path, name: str) -> tuple[list[AnswerRow], list[AnswerProblem]]:
    """Every review sheet's rows. A sheet whose header holds none of the review's columns is the nurse's own (a
    list, notes) and is skipped, but a workbook with no review sheet at all is not a review workbook; a sheet the
    workbook lists but the file lacks, or one that cannot be read to its end, makes the file unreadable."""
    from openpyxl import load_workbook

    def unreadable(why: object) -> tuple[list[AnswerRow], list[AnswerProblem]]:
        text = (str(why).strip().splitlines() or [type(why).__name__])[0]
        return [], [AnswerProblem(name, None, None, None, None, f"cannot be read as an Excel workbook: {text}")]

    try:
        file_bytes(path)  # a folder, FIFO or broken link is named, never opened
    except UserFileProblem as exc:
        return [], [AnswerProblem(name, None, None, None, None, exc.reason)]
    try:
        with warnings.catch_warnings():  # what openpyxl warns of in a damaged file is checked and named below
            warnings.simplefilter("ignore")
            workbook = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        return unreadable(exc)
    rows: list[AnswerRow] = []
    problems: list[AnswerProblem] = []
    review_sheets = 0
    try:
        listed = _listed_sheets(path)
        if listed > len(workbook.worksheets) + len(workbook.chartsheets):
            return unreadable("a sheet the workbook lists is missing from the file: the file is damaged")
        for sheet in workbook.worksheets:
            first = next(sheet.iter_rows(min_row=1, max_row=1), None)
            if first is None:
                continue  # an empty sheet asks nothing
            header = [str(c.value).strip().lower() if c.value is not None else "" for c in first]
            if not set(REQUIRED_COLUMNS) & set(header):
                continue  # a sheet of the nurse's own (notes, a list): not a review sheet
            review_sheets += 1
            trouble = _header_problems(header, name, sheet.title)
            if trouble:
                problems += trouble
                continue
            # Only the header's columns are read: a stray cell at XFD1048576 would otherwise make every row
            # sixteen thousand cells long.
            width = max(k for k, h in enumerate(header, start=1) if h)
            for row_number, record in enumerate(sheet.iter_rows(min_row=2, max_col=width), start=2):
                if all(cell.value is None for cell in record):
                    continue
                cells_of = {h: record[i] for i, h in enumerate(header) if h and i < len(record)}
                values = {h: _cell_text(cells_of[h]) if h in cells_of else "" for h in header if h}
                kinds = {h: getattr(cell, "data_type", None) for h, cell in cells_of.items()}
                formulas = frozenset(h for h, kind in kinds.items() if kind == "f")
                errors = frozenset(h for h, kind in kinds.items() if kind == "e")
                row = AnswerRow(name, sheet.title, row_number, values, formulas, errors)
                if not row.is_blank:
                    rows.append(row)
    except Exception as exc:  # a damaged sheet shows only while its rows are read
        return unreadable(exc)
    finally:
        workbook.close()
    if not review_sheets:
        problems.append(
            AnswerProblem(
                name, None, None, None, None, f"no sheet has the review's columns ({', '.join(REQUIRED_COLUMNS)})"
            )
        )
    return rows, problems


def _listed_sheets(path: Path) -> int:
    """How many sheets the workbook's own index lists (openpyxl silently skips one whose part is missing)."""
    import zipfile
    from xml.etree import ElementTree

    with zipfile.ZipFile(path) as archive:
        index = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    return sum(1 for element in index.iter() if element.tag.rsplit("}", 1)[-1] == "sheet")


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
