"""The dates a record can plausibly carry, and the dates that place a record in time (criteria.md "Time")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from oligo_cohort.dictionary import EARLIEST_PLAUSIBLE_DATE, Table


@dataclass(frozen=True)
class PlausibleDates:
    """The dates a record can plausibly carry: from 1900-01-01 to the day of the run (criteria.md "Time")."""

    latest: dt.date  # the day of the run
    earliest: dt.date = EARLIEST_PLAUSIBLE_DATE

    def holds(self, value: str) -> str:
        """SQL: the date `value` is plausible (NULL when the value is)."""
        return f"{value} BETWEEN DATE '{self.earliest.isoformat()}' AND DATE '{self.latest.isoformat()}'"

    def reason(self, value: str) -> str:
        """SQL: why the (implausible) date `value` is implausible."""
        return (
            f"CASE WHEN {value} < DATE '{self.earliest.isoformat()}' THEN 'before {self.earliest.isoformat()}' "
            f"ELSE 'later than the day of the run, {self.latest.isoformat()}' END"
        )


def record_date_columns(table: Table) -> tuple[str, ...]:
    """The dates that place a record in time (its required dates): an unusable one leaves the record out."""
    return tuple(c.name for c in table.columns if c.type == "date" and c.required)
