"""The result contract: the tables a screen leaves, their columns and the order their rows are written in.

Every engine leaves `result_patients`, `result_events` and `result_facts` in
the run's DuckDB connection; the explain step adds `result_reasons`; loading
adds `findings`. The API, the writer, the worklist and the tests read the
names and columns from here, and the criterion columns follow `CRITERION_IDS`.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

from oligo_cohort.criteria import CRITERION_IDS

if typing.TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    import duckdb

    from oligo_cohort.protocol import Protocol

PATIENT_COLUMNS: tuple[str, ...] = ("patient_id", "site_id", "status", "event_id", "screening_date", *CRITERION_IDS)
EVENT_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "site_id",
    "event_id",
    "screening_date",
    "registration_date",
    "line_number",
    "reference_study_id",
    "status",
    "is_best_event",
    *CRITERION_IDS,
)
REASON_COLUMNS: tuple[str, ...] = ("patient_id", "event_id", "criterion", "outcome", "rule", "reason")
FINDING_COLUMNS: tuple[str, ...] = ("severity", "table", "column", "row", "record_id", "value", "message")

# Criteria in protocol order (not alphabetical), as a SQL sort key.
CRITERION_ORDER = "CASE criterion " + " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(CRITERION_IDS)) + " END"


@dataclass(frozen=True)
class ResultTable:
    """One output table: the table holding it in the connection, its columns, the order of its rows."""

    name: str  # the output file's name (patients.csv)
    table: str
    columns: tuple[str, ...]
    order: str
    # The table is created in this order (insertion order kept), so reading it needs no sort: tens of millions of
    # reason rows are written as they are stored.
    stored_in_order: bool = False
    # Columns holding only the program's own words (outcomes, statuses, criterion ids, rule names): never a
    # spreadsheet formula, so written without the check (csv_output.inert_relation).
    own_columns: tuple[str, ...] = ()

    @property
    def order_by(self) -> str:
        """The ORDER BY clause that reads the table in output order ('' when it is stored so)."""
        return "" if self.stored_in_order else f" ORDER BY {self.order}"


RESULT_TABLES: dict[str, ResultTable] = {
    t.name: t
    for t in (
        ResultTable(
            "patients", "result_patients", PATIENT_COLUMNS, "patient_id", own_columns=("status", *CRITERION_IDS)
        ),
        ResultTable(
            "events",
            "result_events",
            EVENT_COLUMNS,
            "patient_id, screening_date, event_id",
            own_columns=("status", *CRITERION_IDS),
        ),
        ResultTable(
            "reasons",
            "result_reasons",
            REASON_COLUMNS,
            f"patient_id, event_id NULLS FIRST, {CRITERION_ORDER}",
            stored_in_order=True,  # oligo_cohort.explain.reasons_sql
            own_columns=("criterion", "outcome", "rule"),
        ),
        ResultTable("findings", "findings", FINDING_COLUMNS, 'severity, "table", "row", "column", message'),
    )
}

# Columns holding dates (written as YYYY-MM-DD).
DATE_COLUMNS = frozenset({"screening_date", "registration_date"})

# What the engines leave for the explain step: one row per unit to explain, a struct per criterion (rule + facts).
FACTS_TABLE = "result_facts"


class ScreenResult(typing.Protocol):
    """What the writer and the worklist read of a screen's result (`oligo_cohort.screening_result.ScreeningResult`
    is one): its connection and settings, its tables by name, its manifest. Typed against this, they need not know
    the class, and the class can call them without an import circle."""

    con: duckdb.DuckDBPyConnection
    protocol: Protocol
    as_of: dt.date
    worklist: bool
    source: str
    input_files: tuple[Path, ...]

    def query(
        self, name: str, *, ordered: bool = True, con: duckdb.DuckDBPyConnection | None = None
    ) -> duckdb.DuckDBPyRelation: ...

    def manifest(self, *, worklist_rows: int | None = None) -> dict[str, object]: ...
