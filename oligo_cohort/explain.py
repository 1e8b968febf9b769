"""Decide, then explain: the one step that turns the facts behind each decision into a reason, for every engine.

An engine records, for each screening unit it was asked to explain, the rule
each criterion took and its facts (`result_facts`: a struct per criterion,
see `oligo_cohort.results`). This step says them in the words of the rule
(`oligo_cohort.criteria`, compiled by `oligo_cohort.wording`) inside the
database, so a million patients' reasons take one query, and the DuckDB,
pandas and Spark engines give the same sentences for the same facts.

By default only each patient's best event is explained (that is what
`reasons.csv` shows); `explain="all-events"` explains every candidate event.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Literal

import duckdb

from oligo_cohort.criteria import CRITERIA, Criterion
from oligo_cohort.facts import FACTS
from oligo_cohort.patient_ranges import patient_ranges, range_tests
from oligo_cohort.results import FACTS_TABLE
from oligo_cohort.side_by_side import row_groups, run_side_by_side, thread_count
from oligo_cohort.sql_text import literal

Explain = Literal["best-event", "all-events"]
EXPLAIN_CHOICES: tuple[Explain, ...] = ("best-event", "all-events")


def _fact_column(criterion: Criterion):
    return lambda fact: f"facts.{criterion.id}.{fact}"


def rule_outcome_sql(criterion: Criterion, rule: str) -> str:
    """SQL: the outcome of the rule named by the expression `rule`."""
    branches = " ".join(f"WHEN {literal(r.name)} THEN {literal(r.outcome)}" for r in criterion.rules)
    return f"CASE {rule} {branches} END"


def reason_sql(criterion: Criterion) -> str:
    """SQL: the reason of a unit's rule for this criterion, from the facts it recorded."""
    column = _fact_column(criterion)
    branches = " ".join(f"WHEN {literal(r.name)} THEN {r.says.sql(column)}" for r in criterion.rules)
    return f"CASE facts.{criterion.id}.rule {branches} END"


def reasons_sql(
    facts_table: str = FACTS_TABLE, criteria: Iterable[Criterion] = CRITERIA, *, where: str = "TRUE"
) -> str:
    """SQL: a reason row per unit of `facts_table` (those where `where` holds) and criterion: patient_id, event_id,
    criterion, outcome, rule, reason; in the order reasons.csv documents (patient, event, criteria in protocol
    order).

    The units are sorted, and each unit's reasons unnested from a list in protocol order: with insertion order
    kept, a million patients' 18 million reason rows come out in order without sorting them.
    """
    reasons = ", ".join(
        f"{{'criterion': {literal(c.id)}, 'outcome': {rule_outcome_sql(c, f'facts.{c.id}.rule')}, "
        f"'rule': facts.{c.id}.rule, 'reason': {reason_sql(c)}}}"
        for c in criteria
    )
    return (
        f"SELECT facts.patient_id, facts.event_id, unnest([{reasons}], recursive := true) "
        f"FROM (SELECT * FROM {facts_table} WHERE {where} ORDER BY patient_id, event_id NULLS FIRST) AS facts "
        "CROSS JOIN params AS p"
    )


def facts_sql(facts_table: str = FACTS_TABLE) -> str:
    """SQL: the facts in long, typed form, one row per unit and criterion, one column per fact.

    A criterion's own facts are filled, the others missing; lists are sorted, an empty list is missing, so that
    two engines' facts compare row by row.
    """
    parts = []
    for c in CRITERIA:
        own = set(c.facts)
        columns = []
        for fact in FACTS.values():
            if fact.name not in own:
                columns.append(f"CAST(NULL AS {fact.sql_type}) AS {fact.name}")
            elif fact.type == "text_list":
                value = f"facts.{c.id}.{fact.name}"
                columns.append(f"CASE WHEN array_length({value}) > 0 THEN list_sort({value}) END AS {fact.name}")
            else:
                columns.append(f"CAST(facts.{c.id}.{fact.name} AS {fact.sql_type}) AS {fact.name}")
        parts.append(
            f"SELECT facts.patient_id, facts.event_id, {literal(c.id)} AS criterion, facts.{c.id}.rule AS rule, "
            + ", ".join(columns)
            + f" FROM {facts_table} AS facts"
        )
    return "\nUNION ALL\n".join(parts)


# Below this many units, one query is quicker than several (each part plans the whole query again): 10,000
# units took 0.20 s in one query and 0.25 s in two parts; 31,636 units 0.50 s and 0.39 s; 100,000 1.56 s and
# 1.17 s (this 2-core machine).
PARALLEL_MIN_UNITS = 20_000


def explain_reasons(con: duckdb.DuckDBPyConnection) -> None:
    """Turn `result_facts` into `result_reasons` (18 rows per unit explained), stored in output order.

    The units of a facts table too small for every thread to get a row group of its own (up to about 120,000
    patients) are explained in parts, one per thread and range of patient_id, each on a connection of its own at
    the same time; the parts are then stored one after the other, so the order is the same. At 100,000 patients
    that takes 1.2 s where one query took 1.6 s (PARALLEL_MIN_UNITS).
    """
    con.execute("SET preserve_insertion_order = true")
    threads = thread_count(con)
    units = con.execute(f"SELECT count(*) FROM {FACTS_TABLE}").fetchall()[0][0]
    if threads == 1 or units < PARALLEL_MIN_UNITS or row_groups(units) >= threads:
        con.execute(f"CREATE OR REPLACE TABLE result_reasons AS {reasons_sql()}")
        return
    ranges = patient_ranges(con, FACTS_TABLE, threads)
    parts = [f"result_reasons_part_{number}" for number in range(len(ranges))]
    try:
        work = [
            partial(_explain_part, table=part, low=low, high=high)
            for part, (low, high) in zip(parts, ranges, strict=True)
        ]
        run_side_by_side(con, work, workers=threads)
        con.execute(f"CREATE OR REPLACE TABLE result_reasons AS SELECT * FROM {parts[0]}")
        for part in parts[1:]:
            con.execute(f"INSERT INTO result_reasons SELECT * FROM {part}")
    finally:
        for part in parts:
            con.execute(f"DROP TABLE IF EXISTS {part}")


def _explain_part(cursor: duckdb.DuckDBPyConnection, table: str, low: str | None, high: str | None) -> None:
    """Explain the units with low <= patient_id < high (None: unbounded) into `table`, on a connection of its own.

    The bounds are passed as parameters: no patient id is written into SQL text.
    """
    bounds = range_tests((low, high))
    values = [value for _, value in bounds]
    where = " AND ".join(f"patient_id {test} ${n}" for n, (test, _) in enumerate(bounds, 1)) or "TRUE"
    cursor.execute(f"CREATE OR REPLACE TABLE {table} AS {reasons_sql(where=where)}", values)
