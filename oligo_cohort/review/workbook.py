"""The review workbook research nurses open: one sheet per site, drop-downs on the answer column, frozen headers.

Written with XlsxWriter, row by row: openpyxl builds an object per cell and took 6.7 s for the 22,000 rows of a
100,000-patient screen's review. Every text cell is written as text (a registry value starting with `=` stays
text, never a formula); dates are date cells shown as YYYY-MM-DD; the answer column only accepts the item's
allowed answers (a list per kind of item), the answer date only a date not after today; columns are as wide as
their contents (long questions and facts wrap).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from oligo_cohort.review.answers import CELL_CHARACTERS
from oligo_cohort.terminal import UNSAFE_CHARACTERS

DATE_FORMAT = "yyyy-mm-dd"
HEADER_FILL = "#DDDDDD"
ANSWER_FILL = "#FFF4CC"  # where the nurse types
DATE_COLUMNS = ("screening_date", "deadline", "answer_date")
WRAPPED = {"question": 60, "facts": 70, "note": 30}  # column -> width (characters); wrapped text
MAX_WIDTH = 40
# Dates (YYYY-MM-DD and a margin) and the columns typed into, wide enough for the drop-down arrow and a name.
MIN_WIDTHS = {"screening_date": 15, "deadline": 13, "answer_date": 13, "answer": 12, "answered_by": 16}
LINE_HEIGHT = 15.0  # points per line of wrapped text
CHARACTERS_PER_WIDTH = 1.1  # a width unit is one digit wide; text averages a little narrower
A4 = 9  # Excel's number for the paper size

HEADER_NOTES = {
    "item": "What is asked (an observation code of the data model, who_ps or response).",
    "facts": "What the registry already says, and which answer dates the screen reads.",
    "allowed_answers": "What may be typed in the answer column (the drop-down offers exactly these).",
    "answer": "Choose from the drop-down. Leave empty if the chart does not say.",
    "answer_date": "The date the chart records the answer (YYYY-MM-DD), not the day you look it up.",
    "answered_by": "Your name or initials.",
    "note": "Optional: where in the chart, or anything the next reader should know.",
}

# Characters Excel does not allow in a sheet name, and the control characters the terminal escapes (a line
# break or a bidirectional override in a site id).
_SHEET_FORBIDDEN = re.compile(rf"[\[\]:*?/\\{UNSAFE_CHARACTERS}\n\t]")
_SHEET_RESERVED = "history"  # Excel keeps a sheet of this name (any case) for itself

# The workbook writes exactly what it is given: text is never read as a formula, a number or a link.
_WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "default_date_format": DATE_FORMAT,
}


def sheet_names(sites: Sequence[str]) -> dict[str, str]:
    """A valid, unique Excel sheet name per site (at most 31 characters, none of []:*?/\\ or a control character,
    not Excel's own `History`)."""
    names: dict[str, str] = {}
    taken: set[str] = {_SHEET_RESERVED}
    for site in sites:
        base = _SHEET_FORBIDDEN.sub("_", str(site)).strip("'") or "site"
        name, k = base[:31].rstrip("'"), 1
        while name.lower() in taken:
            k += 1
            suffix = f" ({k})"
            name = base[: 31 - len(suffix)] + suffix
        taken.add(name.lower())
        names[site] = name
    return names


def write_workbook(rows: pd.DataFrame, path: Path, *, columns: Sequence[str], answer_columns: Sequence[str]) -> None:
    """One sheet per site (in site order) holding that site's rows; a header-only sheet when there are none."""
    workbook = xlsxwriter.Workbook(str(path), _WORKBOOK_OPTIONS)
    try:
        formats = _column_formats(workbook, columns, answer_columns)
        header = workbook.add_format({"bold": True, "bg_color": HEADER_FILL, "pattern": 1})
        sites = sorted(rows["site_id"].unique()) if len(rows) else []
        names = sheet_names(sites)
        for site in sites or [None]:
            part = rows[rows["site_id"] == site] if site is not None else rows
            sheet = workbook.add_worksheet(names[site] if site is not None else "review")
            _fill_sheet(sheet, part, columns, formats, header)
    finally:
        workbook.close()


def _column_formats(workbook: xlsxwriter.Workbook, columns: Sequence[str], answer_columns: Sequence[str]) -> list:
    """The format of each column's data cells: shaded where the nurse types, dates as YYYY-MM-DD, long text
    wrapped, all aligned to the top of the row."""
    made: dict[tuple[bool, bool, bool], object] = {}
    formats = []
    for name in columns:
        kind = (name in answer_columns, name in DATE_COLUMNS, name in WRAPPED)
        if kind not in made:
            answered, dated, wrapped = kind
            properties: dict[str, object] = {"valign": "top"}
            properties |= {"text_wrap": True} if wrapped else {"align": "left"}
            if answered:
                properties |= {"bg_color": ANSWER_FILL, "pattern": 1}
            if dated:
                properties["num_format"] = DATE_FORMAT
            made[kind] = workbook.add_format(properties)
        formats.append(made[kind])
    return formats


def _fill_sheet(sheet, rows: pd.DataFrame, columns: Sequence[str], formats: list, header) -> None:
    for k, name in enumerate(columns):
        sheet.write_string(0, k, name, header)
        if name in HEADER_NOTES:
            sheet.write_comment(0, k, HEADER_NOTES[name], {"author": "oligo-cohort", "width": 260, "height": 80})
    position = {name: k for k, name in enumerate(columns)}
    wrapped = [(position[name], WRAPPED[name] * CHARACTERS_PER_WIDTH) for name in WRAPPED if name in position]
    allowed_at = position["allowed_answers"]
    lists: dict[str, list[int]] = {}  # allowed answers -> the rows (as numbered on screen) that offer them
    for r, record in enumerate(rows[list(columns)].itertuples(index=False, name=None), start=1):
        for k, value in enumerate(record):
            _write(sheet, r, k, value, formats[k])
        lines = max(
            (math.ceil(len(str(record[k])) / per_line) for k, per_line in wrapped if _text(record[k])), default=1
        )
        sheet.set_row(r, LINE_HEIGHT * lines)
        lists.setdefault(str(record[allowed_at]), []).append(r + 1)
    last = len(rows)
    answer_column = xl_col_to_name(position["answer"])
    for allowed, answered_rows in lists.items():
        # One validation per kind of item, covering its runs of rows (`J2:J5 J9`).
        ranges = " ".join(_runs(answer_column, answered_rows))
        first = answered_rows[0] - 1
        sheet.data_validation(first, position["answer"], first, position["answer"], _answer_list(allowed, ranges))
    if len(rows):
        k = position["answer_date"]
        sheet.data_validation(1, k, last, k, _answer_date_check())
    sheet.freeze_panes(1, 1)  # the header row and the patient id stay in view
    sheet.autofilter(0, 0, last, len(columns) - 1)
    _fit_widths(sheet, rows, columns)
    # Printed (a chart review is often done on paper): landscape, one page wide, the header on every page.
    sheet.set_landscape()
    sheet.set_paper(A4)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)


def _missing(value: object) -> bool:
    """A cell with nothing in it: None, or pandas' NaN."""
    return value is None or (isinstance(value, float) and pd.isna(value))


def _text(value: object) -> bool:
    return not _missing(value) and str(value) != ""


def _write(sheet, row: int, column: int, value: object, cell_format) -> None:
    """A value as a typed cell: dates as dates, everything else as text (never a formula), empty cells formatted
    (the answer columns are shaded before anything is typed)."""
    if _missing(value):
        sheet.write_blank(row, column, None, cell_format)
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, column, value, cell_format)
    else:
        # Excel's limit per cell; review.csv holds every value whole (`review.checks` reads a cut id back).
        sheet.write_string(row, column, str(value)[:CELL_CHARACTERS], cell_format)


def _runs(column: str, rows: list[int]) -> list[str]:
    """Cell ranges of `column` covering `rows` (ascending), one per run of consecutive rows: `J2:J5 J9`."""
    ranges: list[str] = []
    start = previous = rows[0]
    for row in [*rows[1:], None]:
        if row is not None and row == previous + 1:
            previous = row
            continue
        ranges.append(f"{column}{start}" if start == previous else f"{column}{start}:{column}{previous}")
        if row is not None:
            start = previous = row
    return ranges


def _answer_list(allowed: str, ranges: str) -> dict[str, object]:
    """The drop-down of one kind of item: exactly its allowed answers."""
    choices = [a.strip() for a in allowed.split("/")]
    return {
        "validate": "list",
        "source": choices,
        "multi_range": ranges,
        "ignore_blank": True,
        "show_error": True,
        "error_title": "Not an allowed answer",
        "error_message": f"Choose one of: {', '.join(choices)} (or leave it empty).",
        "show_input": True,
        "input_title": "answer",
        "input_message": " / ".join(choices),
    }


def _answer_date_check() -> dict[str, object]:
    return {
        "validate": "date",
        "criteria": "between",
        "minimum": "=DATE(1900,1,1)",
        "maximum": "=TODAY()",
        "ignore_blank": True,
        "show_input": False,
        "show_error": True,
        "error_title": "Not a date",
        "error_message": "The date the chart records the answer (YYYY-MM-DD), not after today.",
    }


def _fit_widths(sheet, rows: pd.DataFrame, columns: Sequence[str]) -> None:
    for k, name in enumerate(columns):
        if name in WRAPPED:
            width = WRAPPED[name]
        elif name in MIN_WIDTHS:
            width = MIN_WIDTHS[name]
        else:
            values = rows[name].dropna().astype(str) if len(rows) else pd.Series(dtype=str)
            longest = int(values.str.len().max()) if len(values) else 0
            width = min(max(longest, len(name)) + 2, MAX_WIDTH)
        sheet.set_column(k, k, width)
