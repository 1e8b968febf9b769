"""What the files of a screen folder say of themselves and of each other: each derived fact held to its sources.

Much of a screen folder follows from the rest of it (criteria.md "Outcomes" and "Time"): a status from its
criteria; which of a patient's events is best, from the events; the patient's row from their best event's row; a
registration date from the screening date; a reason's outcome from its rule and from the criterion's outcome; the
manifest's counts from the files (those are checked with the folder, `oligo_cohort.screen_folder`). An edited cell
breaks one of these facts. Each is checked here, over whole tables in DuckDB (no row passes through Python), and a
contradiction is named by file, row, column and value, as any other problem is. The events' 18 criterion columns are
read once for every check of them (`EVENT_RANKS`), and reasons.csv once for every check of it (`REASON_UNITS`); where a
check finds something, the few rows named are read again for the message. The tables checked are those the CSV files
were loaded into, with their types (`oligo_cohort.screen_folder.csv_files`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import duckdb

from oligo_cohort.criteria import CRITERIA, CRITERION_IDS, FAILED_WITHOUT_EVENT, OUTCOMES
from oligo_cohort.problems import shortened
from oligo_cohort.screen_folder.csv_files import PER_CHECK
from oligo_cohort.sql_text import identifier, literal

# How a screen picks a patient's best event (criteria.md "Time"), as a message says it.
BEST_EVENT_RULE = (
    "fewest failing criteria, then fewest unknown, then the earliest screening_date, then the smallest event_id"
)
# Temporary tables while the folder is checked.
# per event: row, patient, event, date, best-event flag, status, outcomes (`_outcomes_sql`), fails, unknowns
EVENT_RANKS = "screen_folder_event_ranks"
BEST_EVENTS = "screen_folder_best_events"  # per patient, the best event by BEST_EVENT_RULE: row, id, date, outcomes
REASON_UNITS = "screen_folder_reason_units"  # per patient and event explained in reasons.csv: what its reasons say
ALL_CRITERIA = (1 << len(CRITERION_IDS)) - 1  # a bit per criterion, all set
LOW_BITS = sum(1 << (2 * k) for k in range(len(CRITERION_IDS)))  # the low bit of each criterion's two (`_outcomes_sql`)


@dataclasses.dataclass(frozen=True)
class _Fact:
    """A fact of the folder that follows from other facts in it, and the query listing the cells contradicting it.

    `sql` gives row (1 = first data row), column, value (as text) and any details, for the first rows it finds;
    `says(column, value, *details)` is what the message says of the value.
    """

    files: frozenset[str]
    file: str
    sql: str
    says: Callable[..., str]
    order: str = "1"  # the rows first named: the first rows


def _criteria(alias: str = "") -> list[str]:
    return [f"{alias}{identifier(c)}" for c in CRITERION_IDS]


def _status_sql(alias: str = "") -> str:
    """SQL: the status a row's criterion columns give (criteria.md "Outcomes")."""
    outcomes = ", ".join(_criteria(alias))
    return (
        f"CASE WHEN 'fail' IN ({outcomes}) THEN 'ineligible' WHEN 'unknown' IN ({outcomes}) THEN 'unknown' "
        "ELSE 'eligible' END"
    )


def _cause_sql(alias: str = "") -> str:
    """SQL: the criterion that decides a row's status: its first failing one, else its first unknown one."""
    return (
        "coalesce("
        + ", ".join(
            f"CASE WHEN {column} = {literal(outcome)} THEN {literal(c)} END"
            for outcome in ("fail", "unknown")
            for c, column in zip(CRITERION_IDS, _criteria(alias), strict=True)
        )
        + ")"
    )


def _outcomes_sql(alias: str = "") -> str:
    """SQL: a row's criterion outcomes as one number, two bits per criterion in protocol order holding the
    outcome's place in OUTCOMES (pass 0, fail 1, unknown 2, review 3): one pass over the 18 columns gives what the
    checks compare (a patient's row with their best event's, a unit's reasons with its criteria) and count."""
    return " + ".join(
        f"CASE {column} " + " ".join(f"WHEN {literal(o)} THEN {n << (2 * k)}" for n, o in enumerate(OUTCOMES)) + " END"
        for k, column in enumerate(_criteria(alias))
    )


def _counted_sql(outcome: str, outcomes: str) -> str:
    """SQL: how many criteria have `outcome` (fail or unknown) in `outcomes` (as `_outcomes_sql` gives them)."""
    low, high = f"{outcomes} & {LOW_BITS}", f"({outcomes} >> 1) & {LOW_BITS}"
    return f"bit_count(({low}) & ~({high}))" if outcome == "fail" else f"bit_count(({high}) & ~({low}))"


def _listed_briefly(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def shown_value(value: object) -> str:
    return repr(shortened("" if value is None else str(value)))


def _status_says(column: str, value: str, status: str, criterion: str | None) -> str:
    because = {"ineligible": f"{criterion} fails", "unknown": f"{criterion} is unknown"}.get(
        status, "no criterion fails or is unknown"
    )
    return f"is not the status its criteria give: {status} ({because})"


def _best_flag_says(column: str, value: str, best_row: int, best_event: str) -> str:
    if value == "true":
        return (
            f"is wrong: the patient's best event is events.csv row {best_row} ({shown_value(best_event)}; "
            f"{BEST_EVENT_RULE})"
        )
    return f"is wrong: this is the patient's best event ({BEST_EVENT_RULE})"


def _patient_of_event_says(column: str, value: str, row: int | None, site: str | None) -> str:
    if column == "patient_id":
        return "is not a patient of patients.csv"
    return f"is not the patient's site in patients.csv (row {row} holds {shown_value(site)})"


def _patient_event_says(column: str, value: str, other: str | None, best_row: int | None) -> str:
    if column == "event_id":
        where = f"that is row {best_row}, {shown_value(other)}" if best_row else "the patient has none"
        return f"is not the patient's best event in events.csv ({where})"
    return f"is not that of the patient's best event (events.csv row {best_row} holds {shown_value(other)})"


def _rule_says(column: str, value: str, criterion: str, rule: str, outcome: str | None) -> str:
    if column == "rule":
        return f"is not a rule of {criterion}"
    return f"is not the outcome of {criterion}'s rule {shown_value(rule)} ({outcome})"


def _facts(registration_days: int) -> tuple[_Fact, ...]:
    """Every fact a screen folder holds that follows from others, with the query finding what contradicts it."""
    patient_columns = ("screening_date", *CRITERION_IDS)
    differences = ", ".join(
        f"{{'column': {literal(c)}, 'value': CAST(x.{identifier(c)} AS VARCHAR), "
        f"'other': CAST(e.{identifier(c)} AS VARCHAR)}}"
        for c in patient_columns
    )
    without_event = " UNION ALL ".join(
        [
            "SELECT rowid + 1 AS r, 0 AS place, 'screening_date' AS col, CAST(screening_date AS VARCHAR) AS "
            "val, 'is given, but the patient has no candidate event (event_id is empty)' AS what "
            "FROM result_patients WHERE event_id IS NULL AND screening_date IS NOT NULL",
            *(
                f"SELECT rowid + 1, {place}, {literal(c)}, {identifier(c)}, 'is not fail, as for every patient "
                f"without a candidate event (event_id is empty)' FROM result_patients "
                f"WHERE event_id IS NULL AND {identifier(c)} <> 'fail'"
                for place, c in enumerate(FAILED_WITHOUT_EVENT, start=1)
            ),
        ]
    )
    ranked_status = "CASE WHEN fails > 0 THEN 'ineligible' WHEN unknowns > 0 THEN 'unknown' ELSE 'eligible' END"
    rules = ", ".join(f"({literal(c.id)}, {literal(r.name)}, {literal(r.outcome)})" for c in CRITERIA for r in c.rules)
    return (
        _Fact(
            frozenset({"patients"}),
            "patients.csv",
            f"SELECT rowid + 1, 'status', status, {_status_sql()}, {_cause_sql()} FROM result_patients "
            f"WHERE status IS DISTINCT FROM {_status_sql()}",
            _status_says,
        ),
        _Fact(
            frozenset({"patients"}),
            "patients.csv",
            f"SELECT r, col, val, what FROM ({without_event})",
            lambda column, value, what: what,
            order="r, place",
        ),
        _Fact(
            frozenset({"events"}),
            "events.csv",
            f"SELECT x.row + 1, 'status', x.status, x.derived, {_cause_sql('e.')} FROM (SELECT row, status, "
            f"{ranked_status} AS derived FROM {EVENT_RANKS} WHERE status IS DISTINCT FROM {ranked_status} "
            f"ORDER BY row LIMIT {PER_CHECK}) AS x JOIN result_events AS e ON e.rowid = x.row",
            _status_says,
        ),
        _Fact(
            frozenset({"events"}),
            "events.csv",
            f"SELECT rowid + 1, 'registration_date', CAST(registration_date AS VARCHAR), "
            f"CAST(screening_date AS VARCHAR), CAST(screening_date + {registration_days} AS VARCHAR) "
            f"FROM result_events WHERE registration_date IS DISTINCT FROM screening_date + {registration_days}",
            lambda column, value, screening, expected: (
                f"is not its screening_date plus {registration_days} days ({screening} + {registration_days} days "
                f"is {expected})"
            ),
        ),
        _Fact(
            frozenset({"events"}),
            "events.csv",
            "SELECT d.first + 1, 'event_id', d.event_id, d.times, list(k.row + 1 ORDER BY k.row)[:3] FROM "
            f"(SELECT event_id, count(*) AS times, min(row) AS first FROM {EVENT_RANKS} GROUP BY event_id "
            f"HAVING count(*) > 1 ORDER BY first LIMIT {PER_CHECK}) AS d JOIN {EVENT_RANKS} AS k USING (event_id) "
            "GROUP BY d.first, d.event_id, d.times",
            lambda column, value, times, rows: (
                f"appears {times} times (rows {', '.join(map(str, rows))}{', …' if times > 3 else ''}): an event is "
                "one imaging study"
            ),
        ),
        _Fact(
            frozenset({"events"}),
            "events.csv",
            "SELECT k.row + 1, 'is_best_event', CASE WHEN k.is_best_event THEN 'true' ELSE 'false' END, b.row + 1, "
            f"b.event_id FROM {EVENT_RANKS} AS k JOIN {BEST_EVENTS} AS b USING (patient_id) "
            "WHERE k.is_best_event <> (k.row = b.row)",
            _best_flag_says,
        ),
        _Fact(
            frozenset({"events", "patients"}),
            "events.csv",
            "SELECT e.rowid + 1, CASE WHEN p.rowid IS NULL THEN 'patient_id' ELSE 'site_id' END, "
            "CASE WHEN p.rowid IS NULL THEN e.patient_id ELSE e.site_id END, p.rowid + 1, p.site_id "
            "FROM result_events AS e LEFT JOIN result_patients AS p ON p.patient_id = e.patient_id "
            "WHERE p.rowid IS NULL OR e.site_id IS DISTINCT FROM p.site_id",
            _patient_of_event_says,
        ),
        _Fact(
            frozenset({"patients", "events"}),
            "patients.csv",
            # A patient's row is their best event's (event_id, screening date, criteria; the status follows), or,
            # for a patient without events in events.csv, names no event.
            "SELECT r, d.column, d.value, d.other, best_row FROM ("
            "SELECT x.rowid + 1 AS r, x.best + 1 AS best_row, CASE WHEN x.event_id IS DISTINCT FROM x.best_event "
            "THEN [{'column': 'event_id', 'value': x.event_id, 'other': x.best_event}] "
            f"ELSE list_filter([{differences}], lambda d: d.value IS DISTINCT FROM d.other) END AS differences "
            "FROM (SELECT p.rowid, p.*, b.row AS best, b.event_id AS best_event FROM result_patients AS p "
            f"LEFT JOIN {BEST_EVENTS} AS b USING (patient_id) WHERE p.event_id IS DISTINCT FROM b.event_id OR "
            "(b.row IS NOT NULL AND (p.screening_date IS DISTINCT FROM b.screening_date OR "
            f"{_outcomes_sql('p.')} <> b.outcomes)) ORDER BY p.rowid LIMIT {PER_CHECK}) AS x "
            "LEFT JOIN result_events AS e ON e.rowid = x.best) AS y, unnest(y.differences) AS u(d)",
            _patient_event_says,
        ),
        _Fact(
            frozenset({"reasons", "patients"}),
            "reasons.csv",
            "SELECT r.rowid + 1, 'patient_id', r.patient_id FROM result_reasons AS r "
            "WHERE r.patient_id NOT IN (SELECT patient_id FROM result_patients)",
            lambda column, value: "is not a patient of patients.csv",
        ),
        _Fact(
            frozenset({"reasons"}),
            "reasons.csv",
            # A reason's outcome is its rule's (oligo_cohort.criteria); only units REASON_UNITS counts wrong are read.
            "SELECT r.rowid + 1, CASE WHEN k.outcome IS NULL THEN 'rule' ELSE 'outcome' END, "
            "CASE WHEN k.outcome IS NULL THEN r.rule ELSE r.outcome END, r.criterion, r.rule, k.outcome "
            f"FROM result_reasons AS r SEMI JOIN (SELECT * FROM {REASON_UNITS} WHERE wrong > 0 ORDER BY first "
            f"LIMIT {PER_CHECK}) AS u ON u.patient_id = r.patient_id AND u.event_id IS NOT DISTINCT FROM r.event_id "
            f"LEFT JOIN (VALUES {rules}) AS k(criterion, rule, outcome) "
            "ON k.criterion = r.criterion AND k.rule = r.rule WHERE k.outcome IS DISTINCT FROM r.outcome",
            _rule_says,
        ),
        _Fact(
            frozenset({"reasons", "patients"}),
            "patients.csv",
            f"SELECT p.rowid + 1, 'patient_id', p.patient_id FROM result_patients AS p ANTI JOIN {REASON_UNITS} AS u "
            "ON u.patient_id = p.patient_id AND u.event_id IS NOT DISTINCT FROM p.event_id",
            lambda column, value: "has no reasons in reasons.csv for its best event: a screen explains every patient's",
        ),
    )


def contradictions(con: duckdb.DuckDBPyConnection, manifest: dict, *, loaded: set[str], new: set[str]) -> list[str]:
    """Where the files contradict themselves or each other, as a screen never writes them (each named by file,
    row, column and value; a cell once).

    Only the facts of files `loaded`, and of at least one `new` file among them, are checked: a file read when first
    asked for is checked against the others then.
    """
    facts = [
        f for f in _facts(manifest["protocol"].parameters.registration_days) if f.files <= loaded and f.files & new
    ]
    found: dict[str, str] = {}  # cell -> message
    temporary = []
    try:
        if "events" in new:
            temporary += _rank_events(con)
        if "reasons" in new:
            temporary += _explained_units(con)
        for fact in facts:
            for row, column, value, *details in con.execute(
                f"{fact.sql} ORDER BY {fact.order} LIMIT {PER_CHECK}"
            ).fetchall():
                cell = f"{fact.file} row {row}, column {column}"
                found.setdefault(cell, f"{cell}: value {shown_value(value)} {fact.says(column, value, *details)}")
        if "reasons" in new and {"patients", "events"} <= loaded:
            for cell, message in _unit_problems(con):
                found.setdefault(cell, message)
    finally:
        for table in temporary:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    return list(found.values())


def _rank_events(con: duckdb.DuckDBPyConnection) -> list[str]:
    """EVENT_RANKS and BEST_EVENTS, reading the events' criteria once; the tables made."""
    con.execute(
        f"CREATE TEMP TABLE {EVENT_RANKS} AS SELECT *, {_counted_sql('fail', 'outcomes')} AS fails, "
        f"{_counted_sql('unknown', 'outcomes')} AS unknowns FROM (SELECT rowid AS row, patient_id, event_id, "
        f"screening_date, is_best_event, status, {_outcomes_sql()} AS outcomes FROM result_events)"
    )
    con.execute(
        f"CREATE TEMP TABLE {BEST_EVENTS} AS SELECT patient_id, b.row, b.event_id, b.screening_date, b.outcomes "
        "FROM (SELECT patient_id, arg_min({'row': row, 'event_id': event_id, 'screening_date': screening_date, "
        "'outcomes': outcomes}, {'fails': fails, 'unknowns': unknowns, 'day': screening_date, 'event': event_id}) "
        f"AS b FROM {EVENT_RANKS} GROUP BY patient_id)"
    )
    return [EVENT_RANKS, BEST_EVENTS]


def _explained_units(con: duckdb.DuckDBPyConnection) -> list[str]:
    """REASON_UNITS, reading reasons.csv once: per patient and event explained, its reasons' count, criteria (a bit
    each), outcomes (as `_outcomes_sql` gives a row's), reasons whose outcome is not their rule's, and first row."""
    rules = ", ".join(
        f"({literal(c.id)}, {literal(r.name)}, {literal(r.outcome)}, {1 << k}, {OUTCOMES.index(r.outcome) << (2 * k)})"
        for k, c in enumerate(CRITERIA)
        for r in c.rules
    )
    con.execute(
        f"CREATE TEMP TABLE {REASON_UNITS} AS SELECT r.patient_id, r.event_id, count(*) AS reasons, "
        "bit_or(k.bit) AS criteria, sum(k.outcome_bits) AS outcomes, "
        "count(*) FILTER (WHERE k.outcome IS DISTINCT FROM r.outcome) AS wrong, min(r.rowid) AS first "
        f"FROM result_reasons AS r LEFT JOIN (SELECT criterion, rule, outcome, CAST(bit AS BIGINT) AS bit, "
        f"CAST(outcome_bits AS BIGINT) AS outcome_bits FROM (VALUES {rules}) AS v(criterion, rule, outcome, bit, "
        "outcome_bits)) AS k ON k.criterion = r.criterion AND k.rule = r.rule GROUP BY r.patient_id, r.event_id"
    )
    return [REASON_UNITS]


def _unit_problems(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """The reasons of an event (or of a patient without one) that are not one per criterion, with the criterion's
    outcome in patients.csv (the patient's best event) or events.csv: (cell, message) for each, first rows first."""
    units = con.execute(
        "SELECT u.patient_id, u.event_id, u.first, p.rowid, e.rowid, "
        f"list_value({', '.join(_criteria('p.'))}), list_value({', '.join(_criteria('e.'))}) "
        f"FROM {REASON_UNITS} AS u "
        "LEFT JOIN result_patients AS p ON p.patient_id = u.patient_id AND p.event_id IS NOT DISTINCT FROM u.event_id "
        "LEFT JOIN result_events AS e ON p.rowid IS NULL AND e.patient_id = u.patient_id AND e.event_id = u.event_id "
        f"WHERE u.wrong = 0 AND (u.reasons <> {len(CRITERION_IDS)} OR u.criteria IS DISTINCT FROM "
        f"{ALL_CRITERIA} OR u.outcomes IS DISTINCT FROM coalesce({_outcomes_sql('p.')}, {_outcomes_sql('e.')})) "
        f"ORDER BY u.first LIMIT {PER_CHECK}"
    ).fetchall()
    found = []
    for patient, event, first, patient_row, event_row, patient_outcomes, event_outcomes in units:
        if patient_row is None and event_row is None:
            cell = f"reasons.csv row {first + 1}, column event_id"
            said = (
                f"is not a candidate event of patient {shown_value(patient)} in events.csv"
                if event is not None
                else f"names no event, but patient {shown_value(patient)} has candidate events in events.csv"
            )
            found.append((cell, f"{cell}: value {shown_value(event)} {said}"))
            continue
        where = f"patients.csv row {patient_row + 1}" if patient_row is not None else f"events.csv row {event_row + 1}"
        expected = dict(
            zip(CRITERION_IDS, patient_outcomes if patient_row is not None else event_outcomes, strict=True)
        )
        rows = con.execute(
            "SELECT rowid + 1, criterion, outcome FROM result_reasons WHERE patient_id = ? AND event_id IS NOT "
            "DISTINCT FROM ? ORDER BY rowid",
            [patient, event],
        ).fetchall()
        given: dict[str, list[int]] = {}
        for row, criterion, outcome in rows:
            given.setdefault(criterion, []).append(row)
            if outcome != expected[criterion]:
                cell = f"reasons.csv row {row}, column outcome"
                found.append(
                    (
                        cell,
                        f"{cell}: value {shown_value(outcome)} is not {criterion}'s outcome in {where} "
                        f"({shown_value(expected[criterion])})",
                    )
                )
        for criterion, at in given.items():
            if len(at) > 1:
                cell = f"reasons.csv row {at[1]}, column criterion"
                found.append(
                    (
                        cell,
                        f"{cell}: value {shown_value(criterion)} is given {len(at)} times for this event "
                        f"(rows {', '.join(map(str, at[:3]))}): a reason per criterion",
                    )
                )
        missing = [c for c in CRITERION_IDS if c not in given]
        if missing:
            cell = f"reasons.csv row {first + 1}, column event_id"
            found.append(
                (
                    cell,
                    f"{cell}: value {shown_value(event)} has no reason for {_listed_briefly(missing)} (patient "
                    f"{shown_value(patient)}): an event explained has one per criterion",
                )
            )
    return found
