"""One NKR file being imported: its records, how each of their cells is read, and which record gives a value.

Every mapping (`tumours`, `events`, `patients`) reads the file's cells through one `NkrFile`, so that a cell is
read, and judged, once whichever mapping uses it, and records what it cannot carry over the same way: a fatal value
in `problems` (table, column, row, id, value), a record not carried over in `report.drop` (with why), an
approximation counted by `approximate`, and another value on another record of the same tumour or patient named
by `settle`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pandas as pd

from oligo_cohort.importers.common import ROW, DrugMatcher, SourceProblems, add_days, parse_date, to_days, to_int
from oligo_cohort.importers.nkr.items import MAX_NUMBERED
from oligo_cohort.importers.report import MappingReport

DIAGNOSIS_EPISODE = "DIA"  # epis of the record made at diagnosis; follow-up records (VERB) come after it
TOPOGRAPHY = re.compile(r"^C(\d{2})\.?(\d)$", re.IGNORECASE)


class NkrFile:
    """The file's records and what the mapping has found so far."""

    def __init__(
        self, frame: pd.DataFrame, items: dict[str, str], report: MappingReport, problems: SourceProblems, table: str
    ) -> None:
        self.frame = frame
        self.items = items
        self.report = report
        self.problems = problems
        self.table = table
        self.matcher = DrugMatcher()
        self.approx: dict[str, tuple[int, str]] = {}
        self.unplaced = 0  # patients no record places at a hospital (site_id UNKNOWN_SITE)
        self.cells: dict[tuple[int, str], object] = {}  # (row, item) → the value read, each cell read once
        self.incidences: dict[int, dt.date] = {}  # row → the record's own incidence date
        self.anchors: dict[int, dt.date] = {}  # row → its tumour's incidence date, which its intervals count from
        self.columns: list[str] = []

    # --- item access -----------------------------------------------------------------------------------------

    def has(self, key: str, n: int | None = None) -> bool:
        return self.name(key, n) in self.frame.columns

    def name(self, key: str, n: int | None = None) -> str:
        item = self.items[key]
        return item.replace("{n}", str(n)) if n is not None else item

    def get(self, record: dict, key: str, n: int | None = None) -> str | None:
        return record.get(self.name(key, n))

    def numbers(self, key: str) -> list[int]:
        return [n for n in range(1, MAX_NUMBERED + 1) if self.has(key, n)]

    def bad(self, record: dict, key: str, value: object, message: str, n: int | None = None) -> None:
        self.problems.add(self.table, self.name(key, n), record[ROW], value, message, self.get(record, "patient_id"))

    def read(self, record: dict, key: str, n: int | None, parse: Callable[[str], object], problem: str) -> object:
        """The value of one cell as `parse` reads it (None when empty or unusable). A cell is read once: a value
        that several mappings use (a metastasis interval dates the metastasis and the performance status) is
        one problem, reported as written."""
        cell = (record[ROW], self.name(key, n))
        if cell not in self.cells:
            value = self.get(record, key, n)
            parsed = None if value is None else parse(value)
            if value is not None and parsed is None:
                self.bad(record, key, value, problem, n)
            self.cells[cell] = parsed
        return self.cells[cell]

    def date(self, record: dict, key: str, n: int | None = None) -> dt.date | None:
        return self.read(
            record,
            key,
            n,
            lambda value: parse_date(value, day_first=True),
            "not a calendar date (YYYY-MM-DD or DD-MM-YYYY)",
        )

    def interval(self, record: dict, key: str, n: int | None = None) -> int | None:
        return self.read(record, key, n, to_days, "not a whole number of days (at most 150 years)")

    def dated(
        self, record: dict, incidence: dt.date, date_key: str, interval_key: str, n: int | None = None
    ) -> tuple[dt.date | None, str]:
        """The date an item gives (else incidence + the interval item), with the key of the item it was read from."""
        day = self.date(record, date_key, n) if self.has(date_key, n) else None
        if day is not None:
            return day, date_key
        interval = self.interval(record, interval_key, n) if self.has(interval_key, n) else None
        return add_days(incidence, interval), interval_key

    def approximate(self, what: str, unit: str = "record") -> None:
        n, _ = self.approx.get(what, (0, unit))
        self.approx[what] = (n + 1, unit)

    # --- reading a record's cells ------------------------------------------------------------------------------

    def topography(self, record: dict, key: str = "topography", n: int | None = None) -> str | None:
        problem = "not an ICD-O-3 topography" + (" (e.g. C509 or C50.9)" if key == "topography" else "")
        return self.read(record, key, n, _topography, problem)

    def incidence(self, record: dict) -> dt.date | None:
        """The record's incidence date: `incdat`, else 1 July of `incjr` (kept for ordering and grouping)."""
        day = self.date(record, "incidence_date") if self.has("incidence_date") else None
        if day is None:
            year_text = self.get(record, "incidence_year") if self.has("incidence_year") else None
            year = to_int(year_text)
            if year is None or not 1900 <= year <= 2100:
                if self.get(record, "incidence_date") is None:
                    self.bad(
                        record, "incidence_year", year_text, "no incidence date, and the incidence year is not a year"
                    )
                return None
            day = dt.date(year, 7, 1)
        self.incidences[record[ROW]] = day
        return day

    # --- which record gives a value ------------------------------------------------------------------------------
    #
    # The result never depends on the order of the file's rows. The records are grouped by tumour and put in one
    # order (`tumours.tumour_order`, `patients.patient_order`); each tumour-level and patient-level item is taken
    # from the first record giving it, another value on another record being a conflict in the report (`settle`).

    def content(self, record: dict) -> tuple[str, ...]:
        """The record's values as text, item by item in the file's order (an empty item first): the last resort
        of every order of records, so that no order depends on where a record stands in the file."""
        return tuple("" if record[c] is None else str(record[c]) for c in self.columns)

    def is_diagnosis(self, record: dict) -> bool:
        return (self.get(record, "episode") or "").strip().upper() == DIAGNOSIS_EPISODE

    def anchor(self, record: dict) -> dt.date:
        """The date the record's intervals count from: its tumour's incidence date (else the record's own)."""
        return self.anchors.get(record[ROW], self.incidences[record[ROW]])

    def kind(self, record: dict) -> str:
        return f"{self.name('episode')} {self.get(record, 'episode') or 'empty'}"

    def settle(self, table: str, record_id: str, column: str, source: str, given: list[tuple[object, dict]]) -> object:
        """The first value `given` (value, record pairs, in the records' order) holds; every other value is a
        conflict named in the report, with the kind (epis) of the records giving each value."""
        values = [(value, record) for value, record in given if value is not None]
        if not values:
            return None
        kept, first = values[0]
        others: dict[str, set[str]] = {}
        for value, record in values:
            if value != kept:
                others.setdefault(_shown(value), set()).add(self.kind(record))
        if others:
            also = ", ".join(f"{value} ({'; '.join(sorted(kinds))})" for value, kinds in sorted(others.items()))
            self.report.conflict(
                table, column, source, f"{record_id}: {_shown(kept)} ({self.kind(first)}) kept; also {also}"
            )
        return kept


def _topography(text: str) -> str | None:
    """An ICD-O-3 topography as the data model writes it (`C504` → `C50.4`), else None."""
    match = TOPOGRAPHY.match(text.replace(" ", ""))
    return f"C{match.group(1)}.{match.group(2)}" if match else None


def _shown(value: object) -> str:
    """A value as the mapping report names it: a date as YYYY-MM-DD."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)
