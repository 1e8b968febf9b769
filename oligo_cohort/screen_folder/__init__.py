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
  refused rather than counted), and where it records patients per status,
  `patients.csv` must hold that many;
- each CSV file must be UTF-8 CSV with whole records and commas between its
  fields, hold the result's columns (in any order, names in any case or
  spacing; others are ignored; none named twice), no NUL byte, and its values
  must be of their kind: statuses, outcomes and criterion names from their
  lists, dates as YYYY-MM-DD, whole numbers, booleans, a patient listed once,
  an event with its id and dates;
- every fact the screen derives from others in the folder must follow from
  them, as the screen wrote it (criteria.md "Outcomes" and "Time"): a
  patient's or event's status from its criteria; which of a patient's events
  is best (`is_best_event`) from the events; a patient's row (event, screening
  date, criteria) from their best event's, and for a patient without one no
  screening date and the imaging criteria failed; a registration date from the
  screening date and the protocol's `registration_days`; an event listed once;
  every patient of `events.csv` and `reasons.csv` in `patients.csv`, an event at
  its patient's site; a reason's outcome from its rule and from its
  criterion's outcome in `patients.csv` or `events.csv`, one reason per
  criterion for each event explained, and reasons for every patient's best
  event. These are checked in DuckDB over whole tables (`_facts`);
- in worklist mode, `worklist.csv` must list each patient once, with their
  best event, and only patients whose registration window is open at the
  cut-off and who are not ineligible (`_worklist_problems`). The folder holds
  no death dates, so its worklist is the one that file lists: written again,
  it leaves off whoever the screen left off (docs/decisions.md D78).

Text cells are read back as written before the spreadsheet-safety mark
(`csv_output.read_back`), so a site named `=X` is `=X` again.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

import duckdb

from oligo_cohort.counts_in_words import counted, names_of
from oligo_cohort.criteria import CRITERIA, CRITERION_IDS, FAILED_WITHOUT_EVENT
from oligo_cohort.csv_output import INERT_MARK
from oligo_cohort.database import connect
from oligo_cohort.dictionary import EARLIEST_PLAUSIBLE_DATE
from oligo_cohort.errors import UsageError
from oligo_cohort.file_kinds import file_kind, with_article
from oligo_cohort.problems import shortened
from oligo_cohort.protocol import Parameters, Protocol, load_protocol
from oligo_cohort.screening_result import ScreeningResult
from oligo_cohort.sql_text import identifier, literal, literals
from oligo_cohort.user_files import UserFileProblem, decode_text, file_bytes, header_names
from oligo_cohort.worklist import WORKLIST_AS_WRITTEN, worklist_relation

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
# What is read back of a worklist.csv (written in worklist mode): who is listed, for which event. The other columns
# follow from patients.csv and the protocol, and are written from them again.
_WORKLIST_KEYS = ("patient_id", "event_id")


class ScreenFolderError(UsageError):
    """A folder given as a screen result is missing, damaged or edited (exit 2); the message lists every problem."""


def read_screen_folder(path: str | Path) -> ScreeningResult:
    """The ScreeningResult held by a folder `oligo-cohort screen` wrote; every problem in it is a ScreenFolderError,
    raised here, or for a file of READ_WHEN_ASKED when its table is first asked for."""
    from oligo_cohort.results import RESULT_TABLES

    folder = Path(path)
    # What the path is, named: a mistyped path is told apart from a file given where the folder belongs.
    folder_kind = file_kind(folder)
    if folder_kind == "missing":
        raise ScreenFolderError(f"{folder} does not exist: give the folder `oligo-cohort screen --out` wrote")
    if folder_kind != "folder":
        raise ScreenFolderError(
            f"{folder} is {with_article(folder_kind)}, not a folder written by `oligo-cohort screen`"
        )
    manifest_path = folder / MANIFEST
    kind = file_kind(manifest_path)
    if kind == "missing":
        raise ScreenFolderError(f"{folder} is not a screen output folder (no {MANIFEST}){_what_it_is(folder)}")
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
    if manifest is not None and manifest["worklist"]:
        count = _load_table(con, folder / "worklist.csv", WORKLIST_AS_WRITTEN, _WORKLIST_KEYS, problems, as_of)
        if count is not None:
            rows["worklist"] = count
    if not problems:
        problems += _contradictions(con, manifest, loaded=set(rows), new=set(rows))
        problems += _status_count_problems(con, manifest)
    problems += _row_count_problems(manifest, rows)
    if manifest is None:
        con.close()
        raise _refusal(folder, problems)
    result = ScreeningResult(
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
    if not problems and "worklist" in rows:
        problems += _worklist_problems(result)
    if problems:
        con.close()
        raise _refusal(folder, problems)
    return result


def _worklist_problems(result: ScreeningResult) -> list[str]:
    """The rows of worklist.csv that are not a patient whose registration window is open at the cut-off, with their
    best event, as patients.csv has them (an edited file), and a patient listed twice. A patient whose window is open
    and who is not listed is no contradiction: the screen leaves off those dead by the cut-off (D78), and the
    folder holds no death dates."""
    open_windows = dict(worklist_relation(result, every_open_window=True).project("patient_id, event_id").fetchall())
    listed = result.con.execute(
        f"SELECT rowid + 1, patient_id, event_id FROM {WORKLIST_AS_WRITTEN} ORDER BY rowid"
    ).fetchall()
    problems: list[str] = []
    seen: dict[str, int] = {}
    for row, patient_id, event_id in listed:
        where = f"worklist.csv row {row}: patient {_shown_value(patient_id)}"
        if patient_id in seen:
            problems.append(f"{where} is listed twice (rows {seen[patient_id]} and {row})")
        elif patient_id not in open_windows:
            problems.append(
                f"{where} is not in patients.csv as a patient whose registration window is open at the cut-off "
                f"{result.as_of} and who is not ineligible"
            )
        elif open_windows[patient_id] != event_id:
            problems.append(
                f"{where}, column event_id: value {_shown_value(event_id)} is not the patient's best event in "
                f"patients.csv ({_shown_value(open_windows[patient_id])})"
            )
        seen.setdefault(patient_id, row)
        if len(problems) >= MAX_LISTED:
            break
    return problems


def _what_it_is(folder: Path) -> str:
    """What a folder given as a screen result is instead, when this tool wrote it: the folder of a report (whose
    screen/ is one), an extract or another command's output; the usual mistakes, each named."""
    from oligo_cohort.destination.markers import EXTRACT_WRITERS, Marker, what_was_written

    marker = Marker.read(folder)  # None when there is none, or a damaged one: nothing to say then
    if marker is None:
        return ""
    if marker.kind == "report" and file_kind(folder / "screen" / MANIFEST) != "missing":
        return f": it is a report; its patient-level screen result is {folder / 'screen'}"
    if marker.kind in EXTRACT_WRITERS:
        return f": it is {what_was_written(marker)}; screen it first"
    return f": it is {what_was_written(marker)}"


def _read_when_asked(con: duckdb.DuckDBPyConnection, folder: Path, name: str, manifest: dict) -> None:
    """Read and check one of READ_WHEN_ASKED as the folder's other files were read: a ScreenFolderError when
    anything is wrong with it, or it contradicts the files read before it."""
    from oligo_cohort.results import RESULT_TABLES

    problems: list[str] = []
    table = RESULT_TABLES[name]
    count = _load_table(con, folder / f"{name}.csv", table.table, table.columns, problems, manifest["as_of"])
    if count is not None:
        problems += _contradictions(con, manifest, loaded=set(RESULT_TABLES), new={name})
        problems += _row_count_problems(manifest, {name: count})
    if problems:
        con.execute(f"DROP TABLE IF EXISTS {table.table}")
        raise _refusal(folder, problems)


def _status_count_problems(con: duckdb.DuckDBPyConnection, manifest: dict) -> list[str]:
    """Patients per status other than the manifest records (a status edited in patients.csv, or in the manifest)."""
    recorded = manifest.get("status")
    if recorded is None:
        return []
    held = dict(con.execute("SELECT status, count(*) FROM result_patients GROUP BY status").fetchall())
    if all(held.get(s, 0) == recorded.get(s, 0) for s in STATUSES):
        return []

    def listed(counts: dict) -> str:
        return ", ".join(f"{counts.get(s, 0):,} {s}" for s in STATUSES)

    return [
        f"patients.csv holds {listed(held)} patients but {MANIFEST} records {listed(recorded)}: one of them was "
        "edited; screen the extract again"
    ]


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
        f"{folder} is not a usable screen result ({counted(len(problems), 'problem')}):\n{shown}{more}\n"
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
    title = protocol_info.get("title")  # recorded since the report's provenance reads it; an older folder's is its name
    if title is not None and not (isinstance(title, str) and title.strip()):
        problems.append(f"{where}: protocol.title is not text (found {_shown(title)})")
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
    statuses = info.get("status")
    if statuses is not None and not (
        isinstance(statuses, dict) and set(statuses) <= set(STATUSES) and all(_whole(v) for v in statuses.values())
    ):
        problems.append(f"{where}: status {_shown(statuses)} is not an object of patients per status")
    checksums = _input_checksums(info, problems)
    source = info.get("source")
    if source is not None and not isinstance(source, str):
        problems.append(f"{where}: source {_shown(source)} is not the path of an extract")
    if len(problems) > before or parameters is None:
        return None
    protocol = Protocol(
        name=protocol_info["name"],
        version=protocol_info["version"],
        title=title or protocol_info["name"],
        parameters=parameters,
        source=protocol_info["source"],
    )
    return {
        "protocol": protocol,
        "as_of": as_of,
        "engine": info["engine"],
        "worklist": info["worklist"],
        "rows": rows,
        "status": statuses,
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
        are = "is" if len(missing) == 1 else "are"
        problems.append(f"{path.name}: {names_of('column', missing)} {are} missing from the header")
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


# --- what the files say of themselves and of each other -----------------------------------------------------------
#
# Much of a screen folder follows from the rest of it (criteria.md "Outcomes" and "Time"): a status from its
# criteria; which of a patient's events is best, from the events; the patient's row from their best event's row; a
# registration date from the screening date; a reason's outcome from its rule and from the criterion's outcome; the
# manifest's counts from the files. An edited cell breaks one of these facts. Each is checked here, over whole
# tables in DuckDB (no row passes through Python), and a contradiction is named by file, row, column and value, as
# any other problem is. The events' 18 criterion columns are read once for every check of them (`EVENT_RANKS`), and
# reasons.csv once for every check of it (`REASON_UNITS`); where a check finds something, the few rows named are
# read again for the message.

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


def _shown_value(value: object) -> str:
    return repr(shortened("" if value is None else str(value)))


def _status_says(column: str, value: str, status: str, criterion: str | None) -> str:
    because = {"ineligible": f"{criterion} fails", "unknown": f"{criterion} is unknown"}.get(
        status, "no criterion fails or is unknown"
    )
    return f"is not the status its criteria give: {status} ({because})"


def _best_flag_says(column: str, value: str, best_row: int, best_event: str) -> str:
    if value == "true":
        return (
            f"is wrong: the patient's best event is events.csv row {best_row} ({_shown_value(best_event)}; "
            f"{BEST_EVENT_RULE})"
        )
    return f"is wrong: this is the patient's best event ({BEST_EVENT_RULE})"


def _patient_of_event_says(column: str, value: str, row: int | None, site: str | None) -> str:
    if column == "patient_id":
        return "is not a patient of patients.csv"
    return f"is not the patient's site in patients.csv (row {row} holds {_shown_value(site)})"


def _patient_event_says(column: str, value: str, other: str | None, best_row: int | None) -> str:
    if column == "event_id":
        where = f"that is row {best_row}, {_shown_value(other)}" if best_row else "the patient has none"
        return f"is not the patient's best event in events.csv ({where})"
    return f"is not that of the patient's best event (events.csv row {best_row} holds {_shown_value(other)})"


def _rule_says(column: str, value: str, criterion: str, rule: str, outcome: str | None) -> str:
    if column == "rule":
        return f"is not a rule of {criterion}"
    return f"is not the outcome of {criterion}'s rule {_shown_value(rule)} ({outcome})"


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


def _contradictions(con: duckdb.DuckDBPyConnection, manifest: dict, *, loaded: set[str], new: set[str]) -> list[str]:
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
                found.setdefault(cell, f"{cell}: value {_shown_value(value)} {fact.says(column, value, *details)}")
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
                f"is not a candidate event of patient {_shown_value(patient)} in events.csv"
                if event is not None
                else f"names no event, but patient {_shown_value(patient)} has candidate events in events.csv"
            )
            found.append((cell, f"{cell}: value {_shown_value(event)} {said}"))
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
                        f"{cell}: value {_shown_value(outcome)} is not {criterion}'s outcome in {where} "
                        f"({_shown_value(expected[criterion])})",
                    )
                )
        for criterion, at in given.items():
            if len(at) > 1:
                cell = f"reasons.csv row {at[1]}, column criterion"
                found.append(
                    (
                        cell,
                        f"{cell}: value {_shown_value(criterion)} is given {len(at)} times for this event "
                        f"(rows {', '.join(map(str, at[:3]))}): a reason per criterion",
                    )
                )
        missing = [c for c in CRITERION_IDS if c not in given]
        if missing:
            cell = f"reasons.csv row {first + 1}, column event_id"
            found.append(
                (
                    cell,
                    f"{cell}: value {_shown_value(event)} has no reason for {_listed_briefly(missing)} (patient "
                    f"{_shown_value(patient)}): an event explained has one per criterion",
                )
            )
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
