"""Answers filled in by code, as a nurse would fill them: for demonstrations, tests and best-case feasibility.

`fill_answers` answers every row of an export favourably (each item's first favourable answer) unless told
otherwise, dated where the screen reads it for the event asked about: the screening scan's date for
observations and the performance status (on or before R, inside [S - 60, R]), the day before the scan for a
response (between the line start and S). All answers favourable gives the upper bound of what chart review can
confirm; the overrides say which answers are not. `fill_workbook` types such answers into a copy of the review
workbook, where a nurse would: the round trip then reads them back as it reads a site's workbook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from oligo_cohort.errors import UsageError
from oligo_cohort.review.items import BY_CODE


def fill_answers(
    rows: pd.DataFrame,
    *,
    answered_by: str,
    overrides: Mapping[tuple[str, str], str] | None = None,
    skip: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
) -> pd.DataFrame:
    """A copy of review rows with answer, answer_date and answered_by filled in.

    `overrides` maps (patient_id, item) to the answer to give instead of the favourable one; rows in `skip`, and
    rows of a patient without a screening scan, are left unanswered.
    """
    overrides = overrides or {}
    filled = rows.copy()
    for column in ("answer", "answer_date", "answered_by"):
        filled[column] = filled[column].astype(object)  # rows read from a CSV file hold text columns
    for k, row in filled.iterrows():
        key = (str(row["patient_id"]), str(row["item"]))
        if key in skip or row["screening_date"] is None or pd.isna(row["screening_date"]):
            continue  # told to skip, or a patient without a screening scan: nothing to date the answer by
        item = BY_CODE[key[1]]
        scan = _date(row["screening_date"])
        filled.at[k, "answer"] = overrides.get(key, item.favourable[0])
        filled.at[k, "answer_date"] = scan - dt.timedelta(days=1) if item.window == "line" else scan
        filled.at[k, "answered_by"] = answered_by
    return filled


def _date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


TYPED_COLUMNS = ("answer", "answer_date", "answered_by")  # what a nurse types into each row of the workbook


def fill_workbook(workbook: str | Path, answers: pd.DataFrame, out: str | Path) -> Path:
    """Type `answers` (rows of `fill_answers`) into a copy of a review workbook at `out`; returns `out`.

    Each sheet row gets the answer, answer date and reviewer of the answer to its patient, event and item, found
    by the header names (not by column letters, so a column added to the export moves nothing); a row without an
    answer stays empty, as a chart not reached yet does. The workbook keeps its drop-downs and date checks, so
    what is imported is what a site would return. `workbook` itself is not changed, and `out` is written as every
    output is (`oligo_cohort.destination`): whole or not at all, never over a file that already holds something
    (a workbook of a site's own answers, say) nor over the workbook it fills.
    """
    from openpyxl import load_workbook

    from oligo_cohort.destination import OutputFile

    source = Path(workbook)
    destination = OutputFile(out, what="an empty file", recognise=lambda _: False, inputs=[source], option="out")
    destination.check()
    if not source.is_file():
        raise UsageError(f"review workbook {source} does not exist")
    missing = [c for c in ("patient_id", "event_id", "item", *TYPED_COLUMNS) if c not in answers.columns]
    if missing:
        raise UsageError(f"answers have no column {', '.join(missing)}: give the rows `fill_answers` returns")
    given = {
        (str(row.patient_id), str(row.event_id), str(row.item)): row
        for row in answers.itertuples(index=False)
        if not _missing(row.answer)
    }
    book = load_workbook(source)
    for sheet in book.worksheets:
        header = [cell.value for cell in sheet[1]]
        if not all(name in header for name in ("patient_id", "event_id", "item", *TYPED_COLUMNS)):
            continue  # not a sheet of questions
        place = {name: header.index(name) for name in ("patient_id", "event_id", "item", *TYPED_COLUMNS)}
        for cells in sheet.iter_rows(min_row=2):
            key = tuple(str(cells[place[name]].value) for name in ("patient_id", "event_id", "item"))
            answer = given.get(key)  # type: ignore[arg-type]
            if answer is not None:
                for name in TYPED_COLUMNS:
                    cells[place[name]].value = getattr(answer, name)
    return destination.write(book.save)


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))
