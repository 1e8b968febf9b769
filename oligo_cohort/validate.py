"""Validate text tables against the data dictionary and type them, finding every problem at once.

The checks are generated from `data_dictionary/tables.yaml` as set-based SQL
over the whole table (one query per rule, not a loop over rows), so an extract
of millions of rows is checked in seconds and every offending row is named
with its row number, id and value. Only identifiers and codes from the
dictionary ever appear in the generated SQL text; input values never do.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from oligo_cohort.dictionary import Column, Table, drug_aliases, drugs, tables
from oligo_cohort.problems import Problem, Severity
from oligo_cohort.sources import ROW, RawExtract

# At most this many rows are listed per rule; the rest are counted in one summary line.
MAX_ROWS_PER_RULE = 1000

_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_DATE_SHAPE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T]00:00(:00(\.0+)?)?)?"


def quote(identifier: str) -> str:
    """A dictionary identifier as a quoted SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """A dictionary constant (code, pattern) as a SQL string literal; never used for input values."""
    return "'" + text.replace("'", "''") + "'"


def typed_expression(col: Column, raw: str) -> str:
    """SQL turning the text value `raw` into the column's type; NULL when it cannot be read."""
    if col.type == "string":
        if col.normalise == "lower":  # e.g. drug names: matched case- and spacing-insensitively
            return f"lower(regexp_replace({raw}, '\\s+', ' ', 'g'))"
        return raw
    if col.type == "date":
        return (
            f"CASE WHEN regexp_full_match({raw}, {_literal(_DATE_SHAPE)}) "
            f"THEN CAST(try_strptime(left({raw}, 10), '%Y-%m-%d') AS DATE) END"
        )
    if col.type == "number":
        return f"CASE WHEN isfinite(TRY_CAST({raw} AS DOUBLE)) THEN TRY_CAST(TRY_CAST({raw} AS DOUBLE) AS DECIMAL(12, 3)) END"
    if col.type == "integer":
        as_double = f"TRY_CAST({raw} AS DOUBLE)"
        return f"CASE WHEN {as_double} = floor({as_double}) AND abs({as_double}) < 1e9 THEN CAST({as_double} AS INTEGER) END"
    if col.type == "boolean":
        trues = ", ".join(_literal(v) for v in _TRUE)
        falses = ", ".join(_literal(v) for v in _FALSE)
        return f"CASE WHEN lower({raw}) IN ({trues}) THEN TRUE WHEN lower({raw}) IN ({falses}) THEN FALSE END"
    if col.type == "code":
        return _code_expression(col, raw)
    raise ValueError(f"unknown column type {col.type!r} in the dictionary")


def _code_expression(col: Column, raw: str) -> str:
    if col.normalise == "topography":
        compact = f"upper(replace({raw}, ' ', ''))"
        dotted = f"CASE WHEN regexp_full_match({compact}, 'C[0-9]{{3}}') THEN left({compact}, 3) || '.' || right({compact}, 1) ELSE {compact} END"
        return f"CASE WHEN regexp_full_match({dotted}, {_literal(col.pattern or '.*')}) THEN {dotted} END"
    if col.normalise == "morphology":
        digits = f"regexp_extract({raw}, '^([0-9]{{4}})(/[0-9])?$', 1)"
        return f"NULLIF({digits}, '')"
    if col.values:
        # Codes match case-insensitively and take the dictionary's spelling.
        whens = " ".join(f"WHEN {_literal(v.lower())} THEN {_literal(v)}" for v in col.values)
        return f"CASE lower({raw}) {whens} END"
    return raw


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
        f"WHEN regexp_full_match({raw}, {_literal(_DATE_SHAPE)}) THEN 'not a calendar date' "
        "ELSE 'not a valid date in YYYY-MM-DD form' END"
    )


@dataclass(frozen=True)
class _Rule:
    """One check: rows of `typed_<table>` (alias t, raw text alias r) where `condition` holds are problems."""

    severity: Severity
    column: str | None
    condition: str
    message: str  # SQL expression or literal text
    value: str  # SQL expression for the offending value
    message_is_sql: bool = False


def validate_and_type(con: duckdb.DuckDBPyConnection, raw: RawExtract) -> list[Problem]:
    """Create `typed_<table>` for every model table (empty when absent) and return every problem found."""
    problems = list(raw.problems)
    for table in tables().values():
        raw_table = raw.tables.get(table.name)
        if raw_table is None:
            if table.required:
                problems.append(Problem("fatal", table.name, None, None, None, None, "required table is missing"))
            _create_empty_typed(con, table)
            continue
        con.register(f"raw_{table.name}", raw_table.data)
        present = set(raw_table.columns)
        for col in table.columns:
            if col.name not in present:
                severity: Severity = "fatal" if col.required else "finding"
                text = "required column is missing" if col.required else "optional column is absent: read as missing"
                problems.append(Problem(severity, table.name, col.name, None, None, None, text))
        for extra in raw_table.columns:
            if extra not in table.column_names:
                problems.append(
                    Problem(
                        "finding", table.name, extra, None, None, None, "column is not in the data dictionary; ignored"
                    )
                )
        _create_typed(con, table, present)
        problems += _run_rules(con, table, _column_rules(table, present))
    if any(p.severity == "fatal" and p.row is None and p.message.startswith("required") for p in problems):
        return problems  # cross-table checks need the required tables and columns
    problems += _cross_table_checks(con)
    return problems


def _create_empty_typed(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    cols = ", ".join(f"CAST(NULL AS {_sql_type(c)}) AS {quote(c.name)}" for c in table.columns)
    con.execute(f"CREATE OR REPLACE TABLE typed_{table.name} AS SELECT CAST(NULL AS BIGINT) AS {ROW}, {cols} LIMIT 0")
    con.execute(f"CREATE OR REPLACE VIEW raw_{table.name} AS SELECT * FROM typed_{table.name}")


def _sql_type(col: Column) -> str:
    return {
        "string": "VARCHAR",
        "code": "VARCHAR",
        "date": "DATE",
        "number": "DECIMAL(12, 3)",
        "integer": "INTEGER",
        "boolean": "BOOLEAN",
    }[col.type]


def _raw_ref(col: Column, present: set[str]) -> str:
    return f"r.{quote(col.name)}" if col.name in present else "CAST(NULL AS VARCHAR)"


def _create_typed(con: duckdb.DuckDBPyConnection, table: Table, present: set[str]) -> None:
    cols = ", ".join(
        f"CAST({typed_expression(c, _raw_ref(c, present))} AS {_sql_type(c)}) AS {quote(c.name)}" for c in table.columns
    )
    con.execute(f"CREATE OR REPLACE TABLE typed_{table.name} AS SELECT r.{ROW}, {cols} FROM raw_{table.name} AS r")


def _column_rules(table: Table, present: set[str]) -> list[_Rule]:
    rules: list[_Rule] = []
    for col in table.columns:
        if col.name not in present:
            continue
        raw, typed = f"r.{quote(col.name)}", f"t.{quote(col.name)}"
        if col.required:
            rules.append(_Rule("fatal", col.name, f"{raw} IS NULL", "required value is missing", "NULL"))
        message = _date_hint(raw) if col.type == "date" else _literal(_type_message(col))
        rules.append(_Rule("fatal", col.name, f"{raw} IS NOT NULL AND {typed} IS NULL", message, raw, True))
        if col.min is not None:
            rules.append(_Rule("fatal", col.name, f"{typed} < {col.min}", f"impossible value: below {col.min:g}", raw))
        if col.max is not None:
            rules.append(_Rule("fatal", col.name, f"{typed} > {col.max}", f"impossible value: above {col.max:g}", raw))
        if col.plausible_max is not None:
            rules.append(
                _Rule(
                    "finding",
                    col.name,
                    f"{typed} > {col.plausible_max}",
                    f"implausibly large (above {col.plausible_max:g}); kept as given",
                    raw,
                )
            )
        if col.unique:
            rules.append(_duplicate_rule(table, (col.name,)))
    if table.unique_together and all(c in present for c in table.unique_together):
        rules.append(_duplicate_rule(table, table.unique_together))
    return rules


def _duplicate_rule(table: Table, columns: tuple[str, ...]) -> _Rule:
    partition = ", ".join(f"t.{quote(c)}" for c in columns)
    label = " + ".join(columns)
    condition = (
        f"t.{ROW} IN (SELECT {ROW} FROM (SELECT t.{ROW}, count(*) OVER (PARTITION BY {partition}) AS n "
        f"FROM typed_{table.name} AS t WHERE {' AND '.join(f't.{quote(c)} IS NOT NULL' for c in columns)}) WHERE n > 1)"
    )
    value = " || ' / ' || ".join(f"coalesce(r.{quote(c)}, '')" for c in columns)
    return _Rule("fatal", columns[0], condition, f"duplicate {label}: must be unique", value)


def _record_id(table: Table, alias: str = "r") -> str:
    parts = [f"'{c}=' || coalesce({alias}.{quote(c)}, '')" for c in table.key]
    return " || ', ' || ".join(parts)


def _run_rules(con: duckdb.DuckDBPyConnection, table: Table, rules: list[_Rule]) -> list[Problem]:
    found: list[Problem] = []
    present_key = all(c in _raw_columns(con, table) for c in table.key)
    record_id = _record_id(table) if present_key else "NULL"
    for rule in rules:
        message = rule.message if rule.message_is_sql else _literal(rule.message)
        query = (
            f"SELECT r.{ROW}, {record_id}, CAST({rule.value} AS VARCHAR), {message} "
            f"FROM raw_{table.name} AS r JOIN typed_{table.name} AS t USING ({ROW}) "
            f"WHERE {rule.condition} ORDER BY r.{ROW}"
        )
        found += collect_problems(con, query, rule.severity, table.name, rule.column)
    return found


def _raw_columns(con: duckdb.DuckDBPyConnection, table: Table) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE raw_{table.name}").fetchall()}


def collect_problems(
    con: duckdb.DuckDBPyConnection, query: str, severity: Severity, table: str, column: str | None
) -> list[Problem]:
    count = con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0]
    if count == 0:
        return []
    rows = con.execute(f"{query} LIMIT {MAX_ROWS_PER_RULE}").fetchall()
    found = [Problem(severity, table, column, row, record, value, message) for row, record, value, message in rows]
    if count > len(rows):
        found.append(
            Problem(
                severity,
                table,
                column,
                None,
                None,
                None,
                f"... and {count - len(rows)} more rows with the same problem ({count} in all)",
            )
        )
    return found


# Cross-table rules: (table, column, condition on typed table t, message, offending value).
_ORPHAN_TABLES = (
    "tumours",
    "systemic_therapy",
    "imaging",
    "lesions",
    "response_assessments",
    "performance_status",
    "observations",
)


def _cross_table_checks(con: duckdb.DuckDBPyConnection) -> list[Problem]:
    model = tables()
    checks: list[tuple[str, _Rule]] = []
    for name in _ORPHAN_TABLES:
        checks.append(
            (
                name,
                _Rule(
                    "fatal",
                    "patient_id",
                    "t.patient_id IS NOT NULL AND t.patient_id NOT IN (SELECT patient_id FROM typed_patients "
                    "WHERE patient_id IS NOT NULL)",
                    "patient is not in the patients table",
                    "r.patient_id",
                ),
            )
        )
    checks += [
        (
            "lesions",
            _Rule(
                "fatal",
                "study_id",
                "t.study_id IS NOT NULL AND t.study_id NOT IN (SELECT study_id FROM typed_imaging "
                "WHERE study_id IS NOT NULL)",
                "study is not in the imaging table",
                "r.study_id",
            ),
        ),
        (
            "lesions",
            _Rule(
                "fatal",
                "patient_id",
                "EXISTS (SELECT 1 FROM typed_imaging AS i WHERE i.study_id = t.study_id "
                "AND i.patient_id <> t.patient_id)",
                "'the study belongs to patient ' || (SELECT min(i.patient_id) FROM typed_imaging AS i "
                "WHERE i.study_id = t.study_id)",
                "r.patient_id",
                message_is_sql=True,
            ),
        ),
        (
            "systemic_therapy",
            _Rule(
                "fatal",
                "end_date",
                "t.end_date < t.start_date",
                "'end date is before the start date ' || CAST(t.start_date AS VARCHAR)",
                "r.end_date",
                message_is_sql=True,
            ),
        ),
        (
            "observations",
            _Rule(
                "fatal",
                "end_date",
                "t.end_date < t.start_date",
                "'end date is before the start date ' || CAST(t.start_date AS VARCHAR)",
                "r.end_date",
                message_is_sql=True,
            ),
        ),
        (
            "performance_status",
            _Rule(
                "fatal",
                "score",
                "t.scale IN ('WHO', 'ECOG') AND t.score > 5",
                "'impossible value: ' || t.scale || ' scores run from 0 to 5'",
                "r.score",
                message_is_sql=True,
            ),
        ),
        (
            "systemic_therapy",
            _Rule(
                "finding",
                "drug",
                "t.drug IS NOT NULL AND lower(t.drug) NOT IN (SELECT name FROM drug_lookup)",
                "drug is not in the vocabulary: it still defines lines of therapy, but its class is unknown",
                "r.drug",
            ),
        ),
    ]
    problems: list[Problem] = []
    for name, rule in checks:
        problems += _run_rules(con, model[name], [rule])
    return problems


def create_vocabulary(con: duckdb.DuckDBPyConnection) -> None:
    """Create `drug_vocabulary`, `drug_components` and `drug_lookup` (every accepted spelling → drug)."""
    vocabulary = [(d.drug, d.drug_class, d.subclass, d.atc, d.former_atc) for d in drugs()]
    components = [(d.drug, c) for d in drugs() for c in d.regimen_components]
    lookup = [(d.drug, d.drug) for d in drugs()] + sorted(drug_aliases().items())
    con.execute(
        "CREATE OR REPLACE TABLE drug_vocabulary (drug VARCHAR, drug_class VARCHAR, subclass VARCHAR, "
        "atc VARCHAR, former_atc VARCHAR)"
    )
    con.executemany("INSERT INTO drug_vocabulary VALUES (?, ?, ?, ?, ?)", vocabulary)
    con.execute("CREATE OR REPLACE TABLE drug_components (drug VARCHAR, component VARCHAR)")
    con.executemany("INSERT INTO drug_components VALUES (?, ?)", components)
    con.execute("CREATE OR REPLACE TABLE drug_lookup (name VARCHAR, drug VARCHAR)")
    con.executemany("INSERT INTO drug_lookup VALUES (?, ?)", lookup)
