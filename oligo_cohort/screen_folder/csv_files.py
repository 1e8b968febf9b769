"""The CSV files of a screen folder, each read into its result table with its types, and every value checked.

A file is refused before it is loaded when it is not a file, not UTF-8, empty, separated by another character (a
spreadsheet's save) or lacks a column of the result; DuckDB then reads it as text, strictly (whole records, commas
between fields), and its errors are told in the words the extract's own CSV reader uses for the same damage. Every
value is checked for its kind in one query a file (statuses, outcomes and criteria from their lists, dates as
YYYY-MM-DD within the cut-off, whole numbers, booleans, cells never left empty, a patient listed once, no NUL byte)
before the text is cast to the result's types; each problem names its file, row, column and value. What the files
say of each other is checked on the typed tables (`oligo_cohort.screen_folder.consistency`).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import duckdb

from oligo_cohort.counts_in_words import counted, names_of
from oligo_cohort.criteria import CRITERION_IDS, OUTCOMES, STATUSES
from oligo_cohort.csv_output import INERT_MARK
from oligo_cohort.dictionary import EARLIEST_PLAUSIBLE_DATE
from oligo_cohort.file_kinds import file_kind
from oligo_cohort.problems import shortened
from oligo_cohort.sql_text import identifier, literal, literals
from oligo_cohort.user_files import UserFileProblem, decode_text, file_bytes, header_names

DATE_COLUMNS = ("screening_date", "registration_date")
EARLIEST = EARLIEST_PLAUSIBLE_DATE.isoformat()
PER_CHECK = 5  # rows listed per column and kind of problem
NUL_SHOWN = "\\x00"  # a NUL byte as a message shows it
HEADER_BYTES = 1 << 20  # read to find the header line: far more than the widest result's header
# Cells a file never leaves empty, beyond a patient's id (which no file leaves empty): an event is an imaging study
# on a screening date, with a planned registration date.
REQUIRED = {
    "events.csv": {
        "event_id": "an event id (not empty)",
        "screening_date": "a date (not empty: every event has one)",
        "registration_date": "a date (not empty: every event has one)",
    },
    "worklist.csv": {"event_id": "an event id (not empty: every patient listed has one)"},
}


def _read_header(path: Path, problems: list[str]) -> list[str] | None:
    """The header's column names as the model reads them (trimmed, lower case); None with the problems listed.

    Only the first line is read here (as bytes, so that a bad byte further down is named by DuckDB with its
    line, not blamed on the header); what the path is is checked first, so a FIFO is never opened.
    """
    try:
        raw = file_bytes(path, text=True, size=HEADER_BYTES).split(b"\n", 1)[0]
        text = decode_text(raw, latin1=False).text
    except UserFileProblem as exc:
        problems.append(f"{path.name}: {exc.reason}")
        return None
    try:
        header = next(csv.reader([text.rstrip("\r\n")], strict=True), None)
    except csv.Error as exc:
        problems.append(f"{path.name}: the header line cannot be read as CSV ({exc})")
        return None
    if not header or not any(h.strip() for h in header):
        problems.append(f"{path.name}: the file is empty (no header line)")
        return None
    if len(header) == 1:
        other = next((d for d in (";", "\t", "|") if d in header[0]), None)
        if other is not None:
            problems.append(
                f"{path.name}: the header is separated by {other!r}, not by commas (saved again by a spreadsheet?): "
                "save it as CSV with commas, or screen the extract again"
            )
            return None
    names, twice = header_names(header)
    for name, first, again in twice:
        problems.append(f"{path.name}: column {name!r} is named twice in the header (columns {first} and {again})")
    if twice:
        return None
    # A column without a name (a trailing comma) still has its place; DuckDB needs a name for it.
    return [name or f"column {k}" for k, name in enumerate(names, start=1)]


def checked_header(path: Path, columns: tuple[str, ...], problems: list[str]) -> list[str] | None:
    """The header of a result file that is there and names the result's columns; None with the problems listed."""
    if file_kind(path) == "missing":
        problems.append(f"{path.name} is missing")
        return None
    header = _read_header(path, problems)
    if header is None:
        return None
    missing = [c for c in columns if c not in header]
    if missing:
        are = "is" if len(missing) == 1 else "are"
        problems.append(f"{path.name}: {names_of('column', missing)} {are} missing from the header")
        return None
    return header


def load_table(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    columns: tuple[str, ...],
    problems: list[str],
    as_of: dt.date | None,
) -> int | None:
    """Read one CSV file into `table` with the result's types; its row count, or None with the problems listed."""
    header = checked_header(path, columns, problems)
    if header is None:
        return None
    raw = f"raw_{table}"
    spec = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in header) + "}"
    try:
        con.execute(
            f"CREATE TEMP TABLE {raw} AS SELECT * FROM read_csv(?, header = true, auto_detect = false, "
            f"columns = {spec}, delim = ',', quote = '\"', escape = '\"', strict_mode = true, null_padding = false)",
            [str(path)],
        )
    except duckdb.Error as exc:
        problems.append(_csv_error(path.name, exc))
        return None
    found = _nul_bytes(con, raw, path.name, header) + _value_problems(con, raw, path.name, columns, as_of)
    if found:
        problems.extend(found)
        con.execute(f"DROP TABLE {raw}")
        return None
    select = ", ".join(_typed(c) for c in columns)
    con.execute(f"CREATE TABLE {table} AS SELECT {select} FROM {raw} ORDER BY rowid")
    con.execute(f"DROP TABLE {raw}")
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


# DuckDB's CSV errors this reader can meet, in the words the extract's own CSV reader uses for the same damage.
_COLUMN_COUNT = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")
_CSV_DAMAGE = {
    "unterminated quote": "a quote opens a value and is never closed",
    "Invalid unicode": "not UTF-8 text (the file was saved in another encoding)",
}


def _csv_error(file: str, exc: duckdb.Error) -> str:
    """DuckDB's CSV error in one line of our own words: the file and line, what is wrong, and what the line reads."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    kept = []
    for line in lines:
        if line.startswith(("Possible", "*", "file =")) or "(Set By User)" in line or "(Auto-Detected)" in line:
            break
        kept.append(line.replace("Invalid Input Error: ", ""))
    where = re.fullmatch(r"CSV Error on Line: (\d+)", kept[0]) if kept else None
    if where is None or len(kept) < 3 or not kept[1].startswith("Original Line:"):
        return f"{file}: " + ("; ".join(shortened(line, 300) for line in kept) or "cannot be read as CSV")
    # A quote left open makes the quoted line run over several: the first of them, then what is wrong.
    quoted = "; ".join([kept[1].removeprefix("Original Line:").strip(), *kept[2:-1]])
    return f"{file} line {where.group(1)}: {_damage(kept[-1])}; the line reads: {shortened(quoted, 160)}"


def _damage(description: str) -> str:
    """What DuckDB found wrong with a line, as this tool says it (DuckDB's words for damage it has no name for)."""
    columns = _COLUMN_COUNT.search(description)
    if columns:
        return f"{counted(int(columns.group(2)), 'field')} where the header has {columns.group(1)}"
    for known, words in _CSV_DAMAGE.items():
        if known in description:
            return words
    return shortened(description, 300)


def _text(column: str) -> str:
    """A text cell as written before the spreadsheet-safety mark; an empty cell is missing."""
    q = identifier(column)
    return f"NULLIF(CASE WHEN starts_with({q}, {literal(INERT_MARK)}) THEN substr({q}, 2) ELSE {q} END, '')"


def _listed(values: tuple[str, ...]) -> str:
    return f"({literals(values)})"


def _checks(columns: tuple[str, ...], as_of: dt.date | None) -> list[tuple[str, str, str]]:
    """(column, SQL condition that is true for a bad value, what the value should be) for each checked column."""
    checks: list[tuple[str, str, str]] = []
    if as_of is not None:
        # A screening scan is on or before the cut-off (later records are dropped); registration closes at most
        # one protocol window later. Anything else was edited, and would stretch accrual windows to year 9999.
        latest = {"screening_date": as_of, "registration_date": as_of + dt.timedelta(days=366)}
    for column in columns:
        q = identifier(column)
        value = f"NULLIF({q}, '')"
        if column == "status":
            checks.append(
                (column, f"{value} IS NULL OR {q} NOT IN {_listed(STATUSES)}", f"one of {', '.join(STATUSES)}")
            )
        elif column in CRITERION_IDS or column == "outcome":
            checks.append(
                (column, f"{value} IS NULL OR {q} NOT IN {_listed(OUTCOMES)}", f"one of {', '.join(OUTCOMES)}")
            )
        elif column == "criterion":
            checks.append((column, f"{value} IS NULL OR {q} NOT IN {_listed(CRITERION_IDS)}", "a criterion id"))
        elif column in DATE_COLUMNS:
            bad = f"NOT regexp_full_match({q}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') OR try_strptime({q}, '%Y-%m-%d') IS NULL"
            checks.append((column, f"{value} IS NOT NULL AND ({bad})", "a date YYYY-MM-DD"))
            if as_of is not None:
                day = f"CAST(try_strptime({q}, '%Y-%m-%d') AS DATE)"
                outside = f"{day} < DATE '{EARLIEST}' OR {day} > DATE '{latest[column].isoformat()}'"
                checks.append(
                    (column, f"{value} IS NOT NULL AND ({outside})", f"a date from {EARLIEST} to {latest[column]}")
                )
        elif column in ("line_number", "row"):
            digits = 9 if column == "line_number" else 18  # INTEGER / BIGINT without overflow
            bad = f"NOT regexp_full_match({q}, '-?[0-9]{{1,{digits}}}')"
            checks.append((column, f"{value} IS NOT NULL AND ({bad})", "a whole number"))
        elif column == "is_best_event":
            checks.append((column, f"{value} IS NULL OR lower({q}) NOT IN ('true', 'false')", "true or false"))
        elif column == "patient_id":
            checks.append((column, f"{_text(column)} IS NULL", "a patient id (not empty)"))
    return checks


def _value_problems(
    con: duckdb.DuckDBPyConnection, raw: str, file: str, columns: tuple[str, ...], as_of: dt.date | None
) -> list[str]:
    checks = _checks(columns, as_of) + [
        (column, f"{_text(column)} IS NULL", expected) for column, expected in REQUIRED.get(file, {}).items()
    ]
    found: list[str] = []
    if checks:
        # One query for every check (a round trip each would cost more than the scans).
        parts = [
            f"(SELECT {k} AS k, rowid + 1 AS r, {identifier(column)} AS v FROM {raw} WHERE {bad} "
            f"ORDER BY rowid LIMIT {PER_CHECK + 1})"
            for k, (column, bad, _) in enumerate(checks)
        ]
        rows = con.execute(f"SELECT k, r, v FROM ({' UNION ALL '.join(parts)}) ORDER BY k, r").fetchall()
        shown: dict[int, int] = {}
        for k, row, value in rows:
            column, _, expected = checks[k]
            shown[k] = shown.get(k, 0) + 1
            if shown[k] <= PER_CHECK:
                found.append(f"{file} row {row}, column {column}: value {shortened(value or '')!r} is not {expected}")
            else:
                found.append(f"{file}, column {column}: ... and more rows like these")
    if file == "patients.csv":
        twice = con.execute(
            f"SELECT {_text('patient_id')} AS id, min(rowid) + 1, count(*) FROM {raw} "
            f"GROUP BY id HAVING count(*) > 1 ORDER BY 2 LIMIT {PER_CHECK}"
        ).fetchall()
        for patient, row, count in twice:
            found.append(f"{file} row {row}, column patient_id: value {shortened(patient)!r} appears {count} times")
    return found


def _nul_bytes(con: duckdb.DuckDBPyConnection, raw: str, file: str, header: list[str]) -> list[str]:
    """Cells holding a NUL byte (the screen writes none: the file is damaged), in one pass over the file."""
    cells = [identifier(c) for c in header]
    holds = " OR ".join(f"contains({c}, chr(0))" for c in cells)
    rows = con.execute(
        f"SELECT rowid + 1, {', '.join(cells)} FROM {raw} WHERE {holds} ORDER BY rowid LIMIT {PER_CHECK}"
    ).fetchall()
    return [
        f"{file} row {row}, column {column}: value {shortened(value.replace(chr(0), NUL_SHOWN))!r} holds a NUL "
        "byte: the file is damaged"
        for row, *values in rows
        for column, value in zip(header, values, strict=True)
        if value is not None and "\x00" in value
    ]


def _typed(column: str) -> str:
    """A column of the result with its type, from the checked text."""
    q = identifier(column)
    if column in DATE_COLUMNS:
        return f"CAST(NULLIF({q}, '') AS DATE) AS {q}"
    if column == "line_number":
        return f"CAST(NULLIF({q}, '') AS INTEGER) AS {q}"
    if column == "row":
        return f"CAST(NULLIF({q}, '') AS BIGINT) AS {q}"
    if column == "is_best_event":
        return f"CAST(lower(NULLIF({q}, '')) AS BOOLEAN) AS {q}"
    return f"{_text(column)} AS {q}"
