"""The review workbook research nurses open: one sheet per site, drop-downs on the answer column, frozen headers.

Written with openpyxl. Every text cell is typed as text (a registry value starting with `=` stays text, never a
formula); dates are date cells shown as YYYY-MM-DD; the answer column only accepts the item's allowed answers
(a list per kind of item), the answer date only a date not after today; columns are as wide as their contents
(long questions and facts wrap).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from copy import copy
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill
from openpyxl.styles.fonts import DEFAULT_FONT
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from oligo_cohort.terminal import UNSAFE_CHARACTERS

DATE_FORMAT = "yyyy-mm-dd"
HEADER_FILL = PatternFill("solid", fgColor="DDDDDD")
ANSWER_FILL = PatternFill("solid", fgColor="FFF4CC")  # where the nurse types
DATE_COLUMNS = ("screening_date", "deadline", "answer_date")
WRAPPED = {"question": 60, "facts": 70, "note": 30}  # column -> width (characters); wrapped text
MAX_WIDTH = 40
# Dates (YYYY-MM-DD and a margin) and the columns typed into, wide enough for the drop-down arrow and a name.
MIN_WIDTHS = {"screening_date": 15, "deadline": 13, "answer_date": 13, "answer": 12, "answered_by": 16}
LINE_HEIGHT = 15.0  # points per line of wrapped text
CHARACTERS_PER_WIDTH = 1.1  # a width unit is one digit wide; text averages a little narrower

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
    workbook = Workbook()
    workbook.remove(workbook.active)
    styles = _column_styles(workbook, columns, answer_columns)
    sites = sorted(rows["site_id"].unique()) if len(rows) else []
    names = sheet_names(sites)
    for site in sites or [None]:
        part = rows[rows["site_id"] == site] if site is not None else rows
        sheet = workbook.create_sheet(names[site] if site is not None else "review")
        _fill_sheet(sheet, part, columns, styles)
    workbook.save(path)


def _column_styles(workbook: Workbook, columns: Sequence[str], answer_columns: Sequence[str]) -> dict[str, str]:
    """The named cell style of each column's data cells: shaded where the nurse types, dates as YYYY-MM-DD, long
    text wrapped. Named styles, one per kind of cell: set cell by cell, fill, format and alignment each took
    most of a large export's time (14 s for 22,000 rows)."""
    kinds: dict[str, str] = {}
    for name in columns:
        answered, dated, wrapped = name in answer_columns, name in DATE_COLUMNS, name in WRAPPED
        style = "Review " + " ".join(
            word for word, on in (("answer", answered), ("date", dated), ("wrapped", wrapped), ("text", True)) if on
        )
        if style not in workbook.named_styles:
            workbook.add_named_style(
                NamedStyle(
                    name=style,
                    font=copy(DEFAULT_FONT),  # the workbook's own font (a named style's default has none)
                    fill=ANSWER_FILL if answered else PatternFill(),
                    number_format=DATE_FORMAT if dated else "General",
                    alignment=Alignment(wrap_text=True, vertical="top")
                    if wrapped
                    else Alignment(horizontal="left", vertical="top"),
                )
            )
        kinds[name] = style
    return kinds


def _fill_sheet(sheet: Worksheet, rows: pd.DataFrame, columns: Sequence[str], styles: dict[str, str]) -> None:
    for k, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=k, value=name)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        if name in HEADER_NOTES:
            cell.comment = Comment(HEADER_NOTES[name], "oligo-cohort", width=260, height=80)
    position = {name: k for k, name in enumerate(columns, start=1)}
    answer_column = get_column_letter(position["answer"])
    lists: dict[str, list[int]] = {}  # allowed answers -> the rows that offer them
    for r, record in enumerate(rows[list(columns)].to_dict("records"), start=2):
        lines = 1
        for name in columns:
            cell = sheet.cell(row=r, column=position[name])
            _set(cell, record[name])
            cell.style = styles[name]
            if name in WRAPPED:
                text = "" if record[name] is None else str(record[name])
                lines = max(lines, math.ceil(len(text) / (WRAPPED[name] * CHARACTERS_PER_WIDTH)) if text else 1)
        sheet.row_dimensions[r].height = LINE_HEIGHT * lines
        lists.setdefault(str(record["allowed_answers"]), []).append(r)
    last = len(rows) + 1
    for allowed, answered_rows in lists.items():
        validation = _answer_list(allowed)
        # One range per run of rows, given at once: added cell by cell, each cell was checked against every range
        # before it (12 s for 22,000 rows).
        validation.sqref = MultiCellRange(" ".join(_runs(answer_column, answered_rows)))
        sheet.add_data_validation(validation)
    if len(rows):
        dates = _answer_date_check()
        column = get_column_letter(position["answer_date"])
        dates.add(f"{column}2:{column}{last}")
        sheet.add_data_validation(dates)
    sheet.freeze_panes = "B2"  # the header row and the patient id stay in view
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last}"
    _fit_widths(sheet, rows, columns)
    # Printed (a chart review is often done on paper): landscape, one page wide, the header on every page.
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.print_title_rows = "1:1"


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


def _set(cell, value: object) -> None:
    """A value as a typed cell: dates as dates, everything else as text (never a formula)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return
    if isinstance(value, dt.date):
        cell.value = value
        return
    cell.value = str(value)
    cell.data_type = "s"  # openpyxl would store text starting with "=" as a formula


def _answer_list(allowed: str) -> DataValidation:
    """The drop-down of one kind of item: exactly its allowed answers."""
    choices = [a.strip() for a in allowed.split("/")]
    return DataValidation(
        type="list",
        formula1='"' + ",".join(choices) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Not an allowed answer",
        error=f"Choose one of: {', '.join(choices)} (or leave it empty).",
        showInputMessage=True,
        promptTitle="answer",
        prompt=" / ".join(choices),
    )


def _answer_date_check() -> DataValidation:
    return DataValidation(
        type="date",
        operator="between",
        formula1="DATE(1900,1,1)",
        formula2="TODAY()",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Not a date",
        error="The date the chart records the answer (YYYY-MM-DD), not after today.",
    )


def _fit_widths(sheet: Worksheet, rows: pd.DataFrame, columns: Sequence[str]) -> None:
    for k, name in enumerate(columns, start=1):
        if name in WRAPPED:
            width = WRAPPED[name]
        elif name in MIN_WIDTHS:
            width = MIN_WIDTHS[name]
        else:
            values = rows[name].dropna().astype(str) if len(rows) else pd.Series(dtype=str)
            longest = int(values.str.len().max()) if len(values) else 0
            width = min(max(longest, len(name)) + 2, MAX_WIDTH)
        sheet.column_dimensions[get_column_letter(k)].width = width
