"""The rules of each column, counted in one pass over a table, and the rows breaking them named.

A rule is a condition on a row of `checked_<table>` (alias t). Each table's rules are counted in one query
(`broken_rules`); only the rules some row breaks are then asked for their rows (`rule_checks`), and all of
those in one query (`collect_problems`), up to MAX_ROWS_PER_RULE rows each.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from oligo_cohort.dictionary import NUMBER_DECIMALS, Column, Table
from oligo_cohort.problems import Problem, Severity
from oligo_cohort.sources import ROW
from oligo_cohort.sql_text import identifier as quote
from oligo_cohort.sql_text import literal as _literal
from oligo_cohort.validate.dates import PlausibleDates
from oligo_cohort.validate.typed_tables import DATE_SHAPE, raw_ref, rounded_off, written_number

# At most this many rows are listed per rule; the rest are counted in one summary line.
MAX_ROWS_PER_RULE = 1000

# As a CSV file holding NUL bytes is refused (sources/csv_files.py), so is a Parquet, DuckDB or DataFrame value holding one.
_NUL_MESSAGE = "text with NUL bytes: save the extract's text as UTF-8 without NUL bytes"


def _type_message(col: Column) -> str:
    if col.type == "date":
        return "not a valid date in YYYY-MM-DD form"
    if col.type == "number":
        return "not a number"
    if col.type == "integer":
        return "not a whole number"
    if col.type == "boolean":
        return "not a boolean (true/false, yes/no, y/n, t/f, 1/0)"
    if col.values:
        return "not an allowed code (" + ", ".join(col.values) + ")"
    return f"does not match the pattern {col.pattern}"


def _date_hint(raw: str) -> str:
    """SQL giving a more precise message for common date mistakes (Excel serials, day-first dates)."""
    return (
        f"CASE WHEN regexp_full_match({raw}, '[0-9]{{5}}(\\.0+)?') THEN 'looks like an Excel serial number, not a date (write YYYY-MM-DD)' "
        f"WHEN regexp_full_match({raw}, '[0-9]{{1,2}}[/.-][0-9]{{1,2}}[/.-][0-9]{{4}}') THEN 'day-first or month-first date: write YYYY-MM-DD' "
        f"WHEN regexp_full_match({raw}, {_literal(DATE_SHAPE)}) THEN 'not a calendar date' "
        "ELSE 'not a valid date in YYYY-MM-DD form' END"
    )


@dataclass(frozen=True)
class Rule:
    """One check: rows of `typed_<table>` (alias t, raw text alias r) where `condition` holds are problems."""

    severity: Severity
    column: str | None
    condition: str
    message: str  # SQL expression or literal text
    value: str  # SQL expression for the offending value
    message_is_sql: bool = False


def column_rules(table: Table, present: set[str], kept: set[str], dates: PlausibleDates) -> list[Rule]:
    """The rules of each column present; `kept`: the columns whose text as written is kept beside the typed value
    (`_create_typed`)."""
    rules: list[Rule] = []
    for col in table.columns:
        if col.name not in present:
            continue
        raw, typed = raw_ref(col.name), f"t.{quote(col.name)}"
        value = typed  # what the bounds judge
        # Where the typed value is missing, the text as written is the text kept beside it (`_create_typed`); the
        # rules test that, which is stored, not the text as written, which for a number or a date is the typed
        # value formatted anew at every row. A plain text column is its own text: it cannot fail its type.
        if col.name in kept:
            kept_text = f"t.{quote('kept:' + col.name)}"
            missing = f"{typed} IS NULL AND {kept_text} IS NULL"
            message = _date_hint(raw) if col.type == "date" else _literal(_type_message(col))
            not_typed = f"{typed} IS NULL AND {kept_text} IS NOT NULL"
            if col.type in ("number", "integer"):
                # A number too large for the type it is kept in is still a number: its bounds judge it, below.
                value = f"coalesce({typed}, {written_number(col, kept_text)})"
                not_typed += f" AND {written_number(col, kept_text)} IS NULL"
            rules.append(Rule("fatal", col.name, not_typed, message, raw, True))
            if col.type == "number":
                # The text is kept beside a number typed from it when it was written otherwise (`12.50`) or had
                # more decimals than are kept (D63): the rules decide on the rounded value, so it is said.
                rounded = f"{typed} IS NOT NULL AND {kept_text} IS NOT NULL AND {rounded_off(f'TRY_CAST({kept_text} AS DOUBLE)')}"
                said = f"more than {NUMBER_DECIMALS} decimals: rounded to the nearest {10**-NUMBER_DECIMALS:g}"
                rules.append(Rule("finding", col.name, rounded, said, raw))
        else:
            missing = f"{typed} IS NULL"
        if col.required:
            rules.append(Rule("fatal", col.name, missing, "required value is missing", "NULL"))
        if col.type == "string":
            # A code, date or number holding a NUL byte is refused by its type; plain text would pass unnoticed.
            rules.append(Rule("fatal", col.name, f"contains({raw}, chr(0))", _NUL_MESSAGE, raw))
        if col.type == "date":
            if col.required:
                ignored = (
                    "the study is ignored with its lesions" if table.name == "imaging" else "the record is ignored"
                )
            else:
                ignored = "read as missing"
            implausible = f"'implausible date (' || {dates.reason(typed)} || '): {ignored}'"
            rules.append(Rule("finding", col.name, f"NOT {dates.holds(typed)}", implausible, raw, True))
        if col.min is not None:
            rules.append(Rule("fatal", col.name, f"{value} < {col.min}", f"impossible value: below {col.min:g}", raw))
        if col.max is not None:
            rules.append(Rule("fatal", col.name, f"{value} > {col.max}", f"impossible value: above {col.max:g}", raw))
        if col.plausible_max is not None:
            rules.append(
                Rule(
                    "finding",
                    col.name,
                    f"{value} > {col.plausible_max}",
                    f"implausibly large (above {col.plausible_max:g}): read as missing",
                    raw,
                )
            )
        if col.unique:
            rules.append(_duplicate_rule(table, (col.name,)))
    if table.unique_together and all(c in present for c in table.unique_together):
        rules.append(_duplicate_rule(table, table.unique_together))
    return rules


def _duplicate_rule(table: Table, columns: tuple[str, ...]) -> Rule:
    """Rows whose (non-missing) key another row shares.

    The keys held more than once are found by grouping (a hash aggregate, whose result is usually empty), and
    each row is looked up among them: cheaper than counting every key's rows beside every row with a window.
    """
    key = ", ".join(quote(c) for c in columns)
    same_key = " AND ".join(f"held.{quote(c)} = t.{quote(c)}" for c in columns)  # a missing key part matches none
    label = " + ".join(columns)
    condition = (
        f"EXISTS (SELECT 1 FROM (SELECT {key} FROM checked_{table.name} GROUP BY {key} HAVING count(*) > 1) AS held "
        f"WHERE {same_key})"
    )
    value = " || ' / ' || ".join(f"coalesce({raw_ref(c)}, '')" for c in columns)
    return Rule("fatal", columns[0], condition, f"duplicate {label}: must be unique", value)


def _record_id(table: Table) -> str:
    parts = [f"'{c}=' || coalesce({raw_ref(c)}, '')" for c in table.key]
    return " || ', ' || ".join(parts)


@dataclass(frozen=True)
class Check:
    """A query naming problem rows as (row, record_id, value, message), and how to label what it finds."""

    severity: Severity
    table: str
    column: str | None
    query: str  # no ORDER BY / LIMIT: rows are ordered and capped when collected


def _broken_rules(con: duckdb.DuckDBPyConnection, table: Table, rules: list[Rule]) -> list[Rule]:
    """The rules some row of the table breaks, counted in one pass over it.

    Rows are looked up (and named) only for these: an extract without a problem is read once per table, not
    once per rule.
    """
    if not rules:
        return []
    counts = ", ".join(f"count(*) FILTER (WHERE {rule.condition})" for rule in rules)
    found = con.execute(f"SELECT {counts} FROM checked_{table.name} AS t").fetchall()[0]
    return [rule for rule, n in zip(rules, found, strict=True) if n]


def rule_checks(con: duckdb.DuckDBPyConnection, table: Table, rules: list[Rule], present: set[str]) -> list[Check]:
    """A check naming the offending rows of each rule that some row breaks; `present`: the table's columns the
    extract holds (a record is named by its key only when every key column is there)."""
    rules = _broken_rules(con, table, rules)
    if not rules:
        return []
    present_key = all(c in present for c in table.key)
    record_id = _record_id(table) if present_key else "NULL"
    checks = []
    for rule in rules:
        message = rule.message if rule.message_is_sql else _literal(rule.message)
        query = (
            f"SELECT t.{ROW}, {record_id}, CAST({rule.value} AS VARCHAR), {message} "
            f"FROM checked_{table.name} AS t "
            f"WHERE {rule.condition}"
        )
        checks.append(Check(rule.severity, table.name, rule.column, query))
    return checks


def raw_columns(con: duckdb.DuckDBPyConnection, table: Table) -> set[str]:
    names = [row[0] for row in con.execute(f"DESCRIBE checked_{table.name}").fetchall()]
    return {name.removeprefix("raw:") for name in names if name.startswith("raw:")}


def collect_problems(con: duckdb.DuckDBPyConnection, checks: list[Check]) -> list[Problem]:
    """Run every check in one query; list up to MAX_ROWS_PER_RULE rows of each and count the rest."""
    if not checks:
        return []
    union = " UNION ALL ".join(
        f"SELECT {i} AS check_no, CAST(q0 AS BIGINT) AS row_no, CAST(q1 AS VARCHAR) AS record_id, "
        f"CAST(q2 AS VARCHAR) AS value, CAST(q3 AS VARCHAR) AS message FROM ({c.query}) AS q(q0, q1, q2, q3)"
        for i, c in enumerate(checks)
    )
    rows = con.execute(
        f"SELECT check_no, row_no, record_id, value, message, n FROM ("
        f"  SELECT *, row_number() OVER (PARTITION BY check_no ORDER BY row_no, record_id) AS k,"
        f"         count(*) OVER (PARTITION BY check_no) AS n FROM ({union})"
        f") WHERE k <= {MAX_ROWS_PER_RULE} ORDER BY check_no, k"
    ).fetchall()
    found: list[Problem] = []
    for number, check in enumerate(checks):
        mine = [r for r in rows if r[0] == number]
        found += [Problem(check.severity, check.table, check.column, r[1], r[2], r[3], r[4]) for r in mine]
        if mine and mine[0][5] > len(mine):
            total = mine[0][5]
            found.append(
                Problem(
                    check.severity,
                    check.table,
                    check.column,
                    None,
                    None,
                    None,
                    f"... and {total - len(mine)} more rows with the same problem ({total} in all)",
                )
            )
    return found
