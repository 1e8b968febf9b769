"""The pandas engine: an independent second program for the screen, written from the spec (double programming).

It reads the loaded tables of docs/design.md from a DuckDB connection,
decides the 18 criteria with vectorized pandas/numpy (the rule each unit takes
and the facts behind it), and registers `result_events`, `result_patients` and
`result_facts` back in it; the shared explain step (`oligo_cohort.explain`)
words the facts, as for every engine.
"""

from __future__ import annotations

import duckdb

from oligo_cohort.engines.pandas_engine.criteria import decide_all
from oligo_cohort.engines.pandas_engine.inputs import read_inputs
from oligo_cohort.engines.pandas_engine.outcomes import (
    best_units,
    facts_table,
    outcome_matrix,
    register_results,
    result_frames,
)
from oligo_cohort.engines.pandas_engine.units import build_units
from oligo_cohort.progress import stage

__all__ = ["run"]


def run(con: duckdb.DuckDBPyConnection) -> None:
    """Screen the loaded extract in `con` and leave result_events, result_patients and result_facts there."""
    with stage("derived tables"):
        inputs = read_inputs(con)
        units = build_units(inputs)
    with stage("criteria"):
        decided = decide_all(units, inputs)
    with stage("best event"):
        outcomes = outcome_matrix(decided)
        best = best_units(units.units, outcomes)
        events, patients = result_frames(units.units, outcomes, best)
    with stage("facts"):
        facts = facts_table(units.units, decided, best, inputs)
        register_results(con, inputs, events, patients, facts)
