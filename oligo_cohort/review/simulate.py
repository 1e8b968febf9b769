"""Answers filled in by code, as a nurse would fill them: for demonstrations, tests and best-case feasibility.

`fill_answers` answers every row of an export favourably (each item's first favourable answer) unless told
otherwise, dated where the screen reads it for the event asked about: the screening scan's date for
observations and the performance status (on or before R, inside [S - 60, R]), the day before the scan for a
response (between the line start and S). All answers favourable gives the upper bound of what chart review can
confirm; the overrides say which answers are not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd

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
