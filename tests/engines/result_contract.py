"""The engines' result tables as docs/design.md "Engine results" fixes them: column names and DuckDB types, in order.

Every engine is held to the same lists (tests/engines/duckdb_engine/test_engine_results.py,
tests/engines/pandas_engine/test_results.py).
"""

from __future__ import annotations

from oligo_cohort.criteria import CRITERION_IDS

EVENT_COLUMNS = [
    ("patient_id", "VARCHAR"),
    ("site_id", "VARCHAR"),
    ("event_id", "VARCHAR"),
    ("screening_date", "DATE"),
    ("registration_date", "DATE"),
    ("line_number", "INTEGER"),
    ("reference_study_id", "VARCHAR"),
    ("status", "VARCHAR"),
    ("is_best_event", "BOOLEAN"),
    *[(criterion, "VARCHAR") for criterion in CRITERION_IDS],
]
PATIENT_COLUMNS = [
    ("patient_id", "VARCHAR"),
    ("site_id", "VARCHAR"),
    ("status", "VARCHAR"),
    ("event_id", "VARCHAR"),
    ("screening_date", "DATE"),
    *[(criterion, "VARCHAR") for criterion in CRITERION_IDS],
]
REASON_COLUMNS = [
    (column, "VARCHAR") for column in ("patient_id", "event_id", "criterion", "outcome", "rule", "reason")
]
