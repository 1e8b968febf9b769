"""Event status, each patient's best event, and the result tables of docs/design.md ("Engine results").

Status: ineligible if any criterion fails, else unknown if any is unknown,
else eligible. Best event: fewest fail, then fewest unknown, then earliest S,
then smallest study_id. Frames carry integer patient and study codes and
categorical outcomes; the ids are put back when the tables are created.
`result_facts` holds, for each unit to explain, the rule and facts of every
criterion as one struct column each (`oligo_cohort.results`), built in Arrow.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from oligo_cohort.criteria import CRITERION_IDS, OUTCOMES, STATUSES
from oligo_cohort.engines.pandas_engine.calendar import to_datetime64
from oligo_cohort.engines.pandas_engine.decisions import Decision
from oligo_cohort.engines.pandas_engine.grouped_text import as_text, take_text
from oligo_cohort.engines.pandas_engine.inputs import Inputs
from oligo_cohort.results import FACTS_TABLE

STATUS_TYPE = pd.CategoricalDtype(list(STATUSES))


def outcome_matrix(decided: dict[str, Decision]) -> pd.DataFrame:
    """One categorical column per criterion (protocol order), one row per unit: the outcome of its rule."""
    return pd.DataFrame({c: decided[c].outcome for c in CRITERION_IDS})


def _counts(outcomes: pd.DataFrame, outcome: str) -> np.ndarray:
    code = OUTCOMES.index(outcome)
    return np.column_stack([outcomes[c].cat.codes.to_numpy() == code for c in outcomes.columns]).sum(axis=1)


def statuses(outcomes: pd.DataFrame) -> pd.Categorical:
    """ineligible / unknown / eligible per unit (criteria.md "Outcomes")."""
    fails, unknowns = _counts(outcomes, "fail"), _counts(outcomes, "unknown")
    codes = np.select(
        [fails > 0, unknowns > 0], [STATUSES.index("ineligible"), STATUSES.index("unknown")], STATUSES.index("eligible")
    )
    return pd.Categorical.from_codes(codes.astype(np.int8), dtype=STATUS_TYPE)


def best_units(units: pd.DataFrame, outcomes: pd.DataFrame) -> np.ndarray:
    """Mask of each patient's best unit (a patient without an event has exactly one unit)."""
    ranked = pd.DataFrame(
        {
            "pid": units["pid"].to_numpy(),
            "fails": _counts(outcomes, "fail"),
            "unknowns": _counts(outcomes, "unknown"),
            "day": units["day"].to_numpy(dtype=np.float64),
            "study_key": units["study_key"].fillna(-1).to_numpy(dtype=np.float64),
        }
    )
    order = ranked.sort_values(["pid", "fails", "unknowns", "day", "study_key"], kind="stable")
    mask = np.zeros(len(units), dtype=bool)
    mask[order.drop_duplicates("pid").index.to_numpy()] = True
    return mask


def _dates(days: np.ndarray) -> np.ndarray:
    return to_datetime64(np.asarray(days, dtype=np.float64)).astype("datetime64[s]")


def result_frames(units: pd.DataFrame, outcomes: pd.DataFrame, best: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events, patients) with `pid`, `event` and `ref_study` codes in place of the ids."""
    status = statuses(outcomes)
    is_event = units["is_event"].to_numpy(dtype=bool)
    day = units["day"].to_numpy(dtype=np.float64)
    criteria = outcomes.reset_index(drop=True)
    events = pd.DataFrame(
        {
            "pid": units["pid"].to_numpy()[is_event],
            "event": units["event"].to_numpy()[is_event],
            "screening_date": _dates(day[is_event]),
            "registration_date": _dates(units["registration"].to_numpy(dtype=np.float64)[is_event]),
            "line_number": units["line_number"].to_numpy(dtype=np.float64)[is_event],
            "ref_study": units["ref_study"].to_numpy()[is_event],
            "status": status[is_event],
            "is_best_event": best[is_event],
        }
    )
    events = pd.concat([events, criteria[is_event].reset_index(drop=True)], axis=1)
    patients = pd.DataFrame(
        {
            "pid": units["pid"].to_numpy()[best],
            "status": status[best],
            "event": units["event"].to_numpy()[best],
            "screening_date": _dates(np.where(is_event, day, np.nan)[best]),
        }
    )
    patients = pd.concat([patients, criteria[best].reset_index(drop=True)], axis=1)
    return events, patients


def facts_table(units: pd.DataFrame, decided: dict[str, Decision], best: np.ndarray, inputs: Inputs) -> pa.Table:
    """`result_facts`: each patient's best unit (every unit when the run explains all events), ids restored."""
    explained = np.ones(len(units), dtype=bool) if inputs.settings.explain_all_events else best
    rows = np.flatnonzero(explained)
    columns: dict[str, pa.Array] = {
        "unit_id": pa.array(units["unit"].to_numpy(dtype=np.int64)[rows], type=pa.int64()),
        "patient_id": take_text(as_text(inputs.patients["patient_id"]), units["pid"].to_numpy(dtype=np.int64)[rows]),
        # Study code -1 (no event) reads as missing.
        "event_id": take_text(as_text(inputs.imaging["study_id"]), units["event"].to_numpy(dtype=np.int64)[rows]),
        "is_best": pa.array(best[rows], type=pa.bool_()),
    }
    columns.update({c: decided[c].struct(rows) for c in CRITERION_IDS})
    return pa.table(columns)


def _outcome_columns() -> str:
    return ", ".join(f'CAST(f."{c}" AS VARCHAR) AS "{c}"' for c in CRITERION_IDS)


def register_results(
    con: duckdb.DuckDBPyConnection,
    inputs: Inputs,
    events: pd.DataFrame,
    patients: pd.DataFrame,
    facts: pa.Table,
) -> None:
    """Leave result_events, result_patients and result_facts in the connection, ids and types restored."""
    frames = {
        "pandas_engine_patient_ids": inputs.patients[["pid", "patient_id", "site_id"]],
        "pandas_engine_study_ids": inputs.imaging[["study", "study_id"]],
        "pandas_engine_events": events,
        "pandas_engine_patients": patients,
        "pandas_engine_facts": facts,
    }
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        con.execute(
            "CREATE OR REPLACE TABLE result_events AS SELECT p.patient_id, p.site_id, e.study_id AS event_id, "
            "CAST(f.screening_date AS DATE) AS screening_date, CAST(f.registration_date AS DATE) AS registration_date, "
            "CAST(f.line_number AS INTEGER) AS line_number, r.study_id AS reference_study_id, "
            "CAST(f.status AS VARCHAR) AS status, CAST(f.is_best_event AS BOOLEAN) AS is_best_event, "
            f"{_outcome_columns()} "
            "FROM pandas_engine_events AS f JOIN pandas_engine_patient_ids AS p USING (pid) "
            "JOIN pandas_engine_study_ids AS e ON e.study = f.event "
            "LEFT JOIN pandas_engine_study_ids AS r ON r.study = f.ref_study"
        )
        con.execute(
            "CREATE OR REPLACE TABLE result_patients AS SELECT p.patient_id, p.site_id, "
            "CAST(f.status AS VARCHAR) AS status, e.study_id AS event_id, "
            f"CAST(f.screening_date AS DATE) AS screening_date, {_outcome_columns()} "
            "FROM pandas_engine_patients AS f JOIN pandas_engine_patient_ids AS p USING (pid) "
            "LEFT JOIN pandas_engine_study_ids AS e ON e.study = f.event"
        )
        con.execute(f"CREATE OR REPLACE TABLE {FACTS_TABLE} AS SELECT * FROM pandas_engine_facts")
    finally:
        for name in frames:
            con.unregister(name)
