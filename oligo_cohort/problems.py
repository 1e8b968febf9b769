"""Problems found in an extract: fatal ones stop the run, findings are reported beside the results."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd

Severity = Literal["fatal", "finding"]

PROBLEM_COLUMNS = ("severity", "table", "column", "row", "record_id", "value", "message")


@dataclass(frozen=True)
class Problem:
    """One problem, named by table, column, row number (1 = first data row) or record id, and value."""

    severity: Severity
    table: str
    column: str | None
    row: int | None
    record_id: str | None
    value: str | None
    message: str

    def describe(self) -> str:
        """One line for a terminal: where, what value, what is wrong (control characters and newlines escaped)."""
        from oligo_cohort.terminal import one_line

        where = self.table
        if self.column:
            where += f".{self.column}"
        if self.row is not None:
            where += f" row {self.row}"
        if self.record_id:
            where += f" ({self.record_id})"
        value = "" if self.value is None else f" value {_shorten(self.value)!r}:"
        return one_line(f"{where}:{value} {self.message}")


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a DataFrame in a stable order (table, row, column, message)."""
    frame = pd.DataFrame([asdict(p) for p in problems], columns=list(PROBLEM_COLUMNS))
    if frame.empty:
        return frame
    frame["row"] = frame["row"].astype("Int64")
    return frame.sort_values(["severity", "table", "row", "column", "message"], kind="stable").reset_index(drop=True)


def _shorten(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
