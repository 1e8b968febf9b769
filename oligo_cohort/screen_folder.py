"""Read a screen output folder back (for `attrition`, `accrual` and the API), checking every file on the way.

A screen folder may have been copied, truncated, edited in a spreadsheet or
put together by hand. Whatever is wrong is reported at once, each problem
with its file, row (1 = first data row), column and value, as one
`ScreenFolderError` (exit 2) — never a traceback, and never a result quietly
computed from a damaged file. The files are read and checked as the folder is
read, but for `reasons.csv` (four fifths of a folder, and read only by
`review export`): its presence and header are checked with the folder, its
rows when a command first asks for the reasons (`READ_WHEN_ASKED`), with the
same checks and the same error. A command never reads a file it does not use:
`attrition` and `accrual` answer from the other files.

- every file must be a file: a folder, FIFO or broken link in its place is
  named (`oligo_cohort.file_kinds`), never opened;
- `manifest.json` must be JSON (no key given twice) with the protocol (name,
  version, source), all of its parameters (checked as a protocol file's are),
  the cut-off date (from 1900-01-01 to the day of the run, as `--as-of`), the
  engine and the worklist flag; where it records row counts, the files must
  hold exactly that many rows (a file cut short at a line end is otherwise
  indistinguishable from a complete one, so a filtered or truncated result is
  refused rather than counted);
- each CSV file must be UTF-8 CSV with whole records and commas between its
  fields, hold the result's columns (in any order, names in any case or
  spacing; others are ignored; none named twice), no NUL byte, and its values
  must be of their kind: statuses, outcomes and criterion names from their
  lists, dates as YYYY-MM-DD, whole numbers, booleans, a patient listed once;
- the files must agree with each other, as the screen wrote them: every
  patient of `events.csv` and `reasons.csv` is in `patients.csv`, at the same
  site, and a patient's event in `patients.csv` is their best event in
  `events.csv`.

Text cells are read back as written before the spreadsheet-safety mark
(`csv_output.read_back`), so a site named `=X` is `=X` again.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
from functools import partial
from pathlib import Path

import duckdb

from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.csv_output import INERT_MARK
from oligo_cohort.database import connect
from oligo_cohort.dictionary import EARLIEST_PLAUSIBLE_DATE
from oligo_cohort.errors import UsageError
from oligo_cohort.file_kinds import file_kind
from oligo_cohort.problems import shortened
from oligo_cohort.protocol import Parameters, Protocol, load_protocol
from oligo_cohort.screening_result import ScreeningResult
from oligo_cohort.sql_text import identifier, literal, literals
from oligo_cohort.user_files import UserFileProblem, decode_text, file_bytes, header_names

MANIFEST = "manifest.json"
STATUSES = ("eligible", "ineligible", "unknown")
OUTCOMES = ("pass", "fail", "unknown", "review")
DATE_COLUMNS = ("screening_date", "registration_date")
EARLIEST = EARLIEST_PLAUSIBLE_DATE.isoformat()
MAX_LISTED = 20  # problems listed in the message
PER_CHECK = 5  # rows listed per column and kind of problem
NUL_SHOWN = "\\x00"  # a NUL byte as a message shows it
HEADER_BYTES = 1 << 20  # read to find the header line: far more than the widest result's header
# Files read (and checked) when a command first asks for their table, not with the folder: only `review export`,
# `.reasons` and writing the result again read the reasons, and reasons.csv is four fifths of a folder (270 MB of
# 340 MB at 100,000 patients, 1.9 s of the 3.9 s it took to read the folder). Its header is checked with the rest.
READ_WHEN_ASKED = frozenset({"reasons"})


class ScreenFolderError(UsageError):
    """A folder given as a screen result is missing, damaged or edited (exit 2); the message lists every problem."""


def read_screen_folder(path: str | Path) -> ScreeningResult:
    """The ScreeningResult held by a folder `oligo-cohort screen` wrote; every problem in it is a ScreenFolderError,
    raised here, or for a file of READ_WHEN_ASKED when its table is first asked for."""
    from oligo_cohort.results import RESULT_TABLES

    folder = Path(path)
    if not folder.is_dir():
        raise ScreenFolderError(f"{folder} is not a folder written by `oligo-cohort screen`")
    manifest_path = folder / MANIFEST
    kind = file_kind(manifest_path)
    if kind == "missing":
        raise ScreenFolderError(f"{folder} is not a screen output folder (no {MANIFEST})")
    problems: list[str] = []
    manifest = _read_manifest(manifest_path, problems)
    con = connect()
    # The files are in output order, and the reasons are read back in the order stored (`stored_in_order`): DuckDB
    # reads a large CSV file in parallel, and keeps its rows in file order only when asked to.
    con.execute("SET preserve_insertion_order = true")
    as_of = manifest["as_of"] if manifest else None
    rows: dict[str, int] = {}
    for name, result_table in RESULT_TABLES.items():
        if name in READ_WHEN_ASKED:
            _checked_header(folder / f"{name}.csv", result_table.columns, problems)
            continue
        count = _load_table(con, folder / f"{name}.csv", result_table.table, result_table.columns, problems, as_of)
        if count is not None:
            rows[name] = count
    if not problems:
        problems += _disagreements(con, loaded=set(rows), new=set(rows))
    problems += _row_count_problems(manifest, rows)
    if problems or manifest is None:
        con.close()
        raise _refusal(folder, problems)
    return ScreeningResult(
        con,
        protocol=manifest["protocol"],
        as_of=manifest["as_of"],
        engine=manifest["engine"],
        worklist=manifest["worklist"],
        source=str(folder),
        input_checksums=manifest["input_checksums"],
        screened_source=manifest["screened_source"],
        unread={name: partial(_read_when_asked, con, folder, name, manifest) for name in READ_WHEN_ASKED},
    )


def _read_when_asked(con: duckdb.DuckDBPyConnection, folder: Path, name: str, manifest: dict) -> None:
    """Read and check one of READ_WHEN_ASKED as the folder's other files were read: a ScreenFolderError when
    anything is wrong with it, or it contradicts the files read before it."""
    from oligo_cohort.results import RESULT_TABLES

    problems: list[str] = []
    table = RESULT_TABLES[name]
    count = _load_table(con, folder / f"{name}.csv", table.table, table.columns, problems, manifest["as_of"])
    if count is not None:
        problems += _disagreements(con, loaded=set(RESULT_TABLES), new={name})
        problems += _row_count_problems(manifest, {name: count})
    if problems:
        con.execute(f"DROP TABLE IF EXISTS {table.table}")
        raise _refusal(folder, problems)


def _row_count_problems(manifest: dict | None, rows: dict[str, int]) -> list[str]:
    """A file holding another number of rows than the manifest records (cut short, or edited)."""
    recorded = manifest.get("rows") if manifest else None
    if not isinstance(recorded, dict):
        return []
    problems = []
    for name, count in rows.items():
        expected = recorded.get(name)
        if isinstance(expected, int) and not isinstance(expected, bool) and expected != count:
            problems.append(
                f"{name}.csv holds {count:,} rows but {MANIFEST} records {expected:,}: the file was cut short "
                "or edited; screen the extract again"
            )
    return problems


def _refusal(folder: Path, problems: list[str]) -> ScreenFolderError:
    shown = "\n".join(f"  {p}" for p in problems[:MAX_LISTED])
    more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    return ScreenFolderError(
        f"{folder} is not a usable screen result ({len(problems)} problem(s)):\n{shown}{more}\n"
        "Screen the extract again into a new folder (`oligo-cohort screen EXTRACT --out DIR`)."
    )


# --- manifest.json ----------------------------------------------------------------------------------------------


def _manifest_json(path: Path, problems: list[str]) -> dict | None:
    """The manifest as a JSON object (UTF-8, no key twice), or None with the problem listed."""
    where = MANIFEST
    try:
        text = decode_text(file_bytes(path), latin1=False).text
    except UserFileProblem as exc:
        problems.append(f"{where}: {exc.reason}")
        return None
    try:
        info = json.loads(text, object_pairs_hook=_no_key_twice)
    except json.JSONDecodeError as exc:
        problems.append(f"{where} line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})")
        return None
    except _KeyTwice as exc:
        problems.append(f"{where}: key {str(exc)!r} is given twice")
        return None
    except (RecursionError, ValueError) as exc:  # nested thousands deep; an integer of thousands of digits
        problems.append(f"{where}: a value cannot be read ({shortened(' '.join(str(exc).split()), 120)})")
        return None
    if not isinstance(info, dict):
        problems.append(f"{where}: expected a JSON object, found {type(info).__name__}")
        return None
    return info


def _read_manifest(path: Path, problems: list[str]) -> dict | None:
    """The manifest's values as the result needs them (Protocol, date, …), or None with the problems listed."""
    where = MANIFEST
    info = _manifest_json(path, problems)
    if info is None:
        return None
    before = len(problems)
    protocol_info = info.get("protocol")
    if not isinstance(protocol_info, dict):
        problems.append(f"{where}: 'protocol' is missing or not an object")
        protocol_info = {}
    for key in ("name", "version", "source"):
        if not isinstance(protocol_info.get(key), str) or (key != "source" and not protocol_info.get(key)):
            problems.append(f"{where}: protocol.{key} is missing or not text (found {_shown(protocol_info.get(key))})")
    parameters = _parameters(info.get("parameters"), problems)
    as_of = _date(info.get("as_of"))
    today = dt.date.today()
    if as_of is None:
        problems.append(f"{where}: as_of {_shown(info.get('as_of'))} is not a date YYYY-MM-DD")
    elif not EARLIEST_PLAUSIBLE_DATE <= as_of <= today:
        # The screen refuses any other cut-off (docs/decisions.md D36): this one was edited.
        problems.append(f"{where}: as_of {as_of} is not a cut-off from {EARLIEST_PLAUSIBLE_DATE} to today ({today})")
    if not isinstance(info.get("engine"), str):
        problems.append(f"{where}: engine is missing or not text (found {_shown(info.get('engine'))})")
    if not isinstance(info.get("worklist"), bool):
        problems.append(f"{where}: worklist is missing or not true/false (found {_shown(info.get('worklist'))})")
    rows = info.get("rows")
    if rows is not None and not (isinstance(rows, dict) and all(_whole(v) for v in rows.values())):
        problems.append(f"{where}: rows {_shown(rows)} is not an object of row counts")
    checksums = _input_checksums(info, problems)
    source = info.get("source")
    if source is not None and not isinstance(source, str):
        problems.append(f"{where}: source {_shown(source)} is not the path of an extract")
    if len(problems) > before or parameters is None:
        return None
    protocol = Protocol(
        name=protocol_info["name"],
        version=protocol_info["version"],
        title=protocol_info["name"],
        parameters=parameters,
        source=protocol_info["source"],
    )
    return {
        "protocol": protocol,
        "as_of": as_of,
        "engine": info["engine"],
        "worklist": info["worklist"],
        "rows": rows,
        "input_checksums": checksums,
        "screened_source": source or "",
    }


def _input_checksums(info: dict, problems: list[str]) -> dict[str, str]:
    """The manifest's `input_files` (file -> SHA-256), empty when absent; anything else is a problem listed."""
    files = info.get("input_files")
    if files is None:
        return {}
    if not (isinstance(files, dict) and all(isinstance(v, str) for v in files.values())):
        problems.append(f"{MANIFEST}: input_files {_shown(files)} is not an object of file checksums")
        return {}
    return dict(files)


class _KeyTwice(ValueError):
    """A JSON object naming one key twice (json keeps the last silently)."""


def _no_key_twice(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise _KeyTwice(key)
    return dict(pairs)


def _shown(value: object) -> str:
    return shortened(repr(value), 80)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _date(value: object) -> dt.date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _parameters(values: object, problems: list[str]) -> Parameters | None:
    """The protocol parameters recorded, checked exactly as a protocol file's are."""
    if not isinstance(values, dict):
        problems.append(f"{MANIFEST}: 'parameters' is missing or not an object")
        return None
    names = [f.name for f in dataclasses.fields(Parameters)]
    missing = [n for n in names if n not in values]
    if missing:
        problems.append(f"{MANIFEST}: parameters lack {', '.join(missing)}")
        return None
    try:
        # The derived window bounds (pet_window_*) are recorded too; they follow from the others.
        return load_protocol("cosmo").with_overrides({n: values[n] for n in names}).parameters
    except UsageError as exc:
        problems.append(f"{MANIFEST}: {str(exc).replace('protocol file --set: ', 'parameters: ')}")
        return None


# --- the CSV files ----------------------------------------------------------------------------------------------


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


def _checked_header(path: Path, columns: tuple[str, ...], problems: list[str]) -> list[str] | None:
    """The header of a result file that is there and names the result's columns; None with the problems listed."""
    if file_kind(path) == "missing":
        problems.append(f"{path.name} is missing")
        return None
    header = _read_header(path, problems)
    if header is None:
        return None
    missing = [c for c in columns if c not in header]
    if missing:
        problems.append(f"{path.name}: column(s) {', '.join(missing)} are missing from the header")
        return None
    return header


def _load_table(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    columns: tuple[str, ...],
    problems: list[str],
    as_of: dt.date | None,
) -> int | None:
    """Read one CSV file into `table` with the result's types; its row count, or None with the problems listed."""
    header = _checked_header(path, columns, problems)
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
        problems.append(f"{path.name}: {_csv_error(exc)}")
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


def _csv_error(exc: duckdb.Error) -> str:
    """DuckDB's CSV error in one line: where, and what (without its advice on reader options)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    kept = []
    for line in lines:
        if line.startswith(("Possible", "*", "file =")) or "(Set By User)" in line or "(Auto-Detected)" in line:
            break
        kept.append(line.replace("Invalid Input Error: ", "").replace("Original Line:", "the line reads:"))
    if len(kept) > 3:  # the line quoted runs over several (a quote left open): where, the line cut short, what
        kept = [kept[0], shortened("; ".join(kept[1:-1]), 160), kept[-1]]
    return "; ".join(shortened(line, 300) for line in kept) or "cannot be read as CSV"


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
    checks = _checks(columns, as_of)
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


def _disagreements(con: duckdb.DuckDBPyConnection, *, loaded: set[str], new: set[str]) -> list[str]:
    """Where the files contradict each other, as a screen never writes them (each named by file, row, column).

    Only the checks between files `loaded`, and of at least one `new` file among them, are made: a file read when
    first asked for is checked against the others then.
    """
    checks = (
        (
            {"events", "patients"},
            "events.csv",
            "patient_id",
            "is not a patient of patients.csv",
            "SELECT e.rowid + 1, e.patient_id FROM result_events AS e "
            "WHERE e.patient_id NOT IN (SELECT patient_id FROM result_patients)",
        ),
        (
            {"reasons", "patients"},
            "reasons.csv",
            "patient_id",
            "is not a patient of patients.csv",
            "SELECT r.rowid + 1, r.patient_id FROM result_reasons AS r "
            "WHERE r.patient_id NOT IN (SELECT patient_id FROM result_patients)",
        ),
        (
            {"events", "patients"},
            "events.csv",
            "site_id",
            "is not the patient's site in patients.csv",
            "SELECT e.rowid + 1, e.site_id FROM result_events AS e JOIN result_patients AS p USING (patient_id) "
            "WHERE e.site_id IS DISTINCT FROM p.site_id",
        ),
        (
            {"patients", "events"},
            "patients.csv",
            "event_id",
            "is not the patient's best event in events.csv",
            "SELECT p.rowid + 1, p.event_id FROM result_patients AS p WHERE p.event_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM result_events AS e WHERE e.patient_id = p.patient_id AND e.event_id = p.event_id "
            "AND e.is_best_event)",
        ),
    )
    found = []
    for files, file, column, what, sql in checks:
        if not files <= loaded or not files & new:
            continue
        for row, value in con.execute(f"{sql} ORDER BY 1 LIMIT {PER_CHECK}").fetchall():
            found.append(f"{file} row {row}, column {column}: value {shortened(value or '')!r} {what}")
    return found


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
