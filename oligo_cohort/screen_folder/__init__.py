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
  event. These are checked in DuckDB over whole tables (`consistency`);
- in worklist mode, `worklist.csv` must list each patient once, with their
  best event, and only patients whose registration window is open at the
  cut-off and who are not ineligible (`_worklist_problems`). The folder holds
  no death dates, so its worklist is the one that file lists: written again,
  it leaves off whoever the screen left off (docs/decisions.md D78).

Text cells are read back as written before the spreadsheet-safety mark
(`csv_output.read_back`), so a site named `=X` is `=X` again.

The folder is read, and refused, here; each kind of check has its module:
`manifest` (manifest.json and its parameters), `csv_files` (each file's
header, records and values, loaded into its result table) and `consistency`
(the facts the files derive from each other, checked in SQL).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import duckdb

from oligo_cohort.counts_in_words import counted
from oligo_cohort.criteria import STATUSES
from oligo_cohort.database import connect
from oligo_cohort.errors import UsageError
from oligo_cohort.file_kinds import file_kind, with_article
from oligo_cohort.screen_folder.consistency import contradictions, shown_value
from oligo_cohort.screen_folder.csv_files import checked_header, load_table
from oligo_cohort.screen_folder.manifest import MANIFEST, read_manifest
from oligo_cohort.screening_result import ScreeningResult
from oligo_cohort.worklist import WORKLIST_AS_WRITTEN, worklist_relation

MAX_LISTED = 20  # problems listed in the message
# Files read (and checked) when a command first asks for their table, not with the folder: only `review export`,
# `.reasons` and writing the result again read the reasons, and reasons.csv is four fifths of a folder (270 MB of
# 340 MB at 100,000 patients, 1.9 s of the 3.9 s it took to read the folder). Its header is checked with the rest.
READ_WHEN_ASKED = frozenset({"reasons"})
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
    manifest = read_manifest(manifest_path, problems)
    con = connect()
    # The files are in output order, and the reasons are read back in the order stored (`stored_in_order`): DuckDB
    # reads a large CSV file in parallel, and keeps its rows in file order only when asked to.
    con.execute("SET preserve_insertion_order = true")
    as_of = manifest["as_of"] if manifest else None
    rows: dict[str, int] = {}
    for name, result_table in RESULT_TABLES.items():
        if name in READ_WHEN_ASKED:
            checked_header(folder / f"{name}.csv", result_table.columns, problems)
            continue
        count = load_table(con, folder / f"{name}.csv", result_table.table, result_table.columns, problems, as_of)
        if count is not None:
            rows[name] = count
    if manifest is not None and manifest["worklist"]:
        count = load_table(con, folder / "worklist.csv", WORKLIST_AS_WRITTEN, _WORKLIST_KEYS, problems, as_of)
        if count is not None:
            rows["worklist"] = count
    if not problems:
        problems += contradictions(con, manifest, loaded=set(rows), new=set(rows))
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
        where = f"worklist.csv row {row}: patient {shown_value(patient_id)}"
        if patient_id in seen:
            problems.append(f"{where} is listed twice (rows {seen[patient_id]} and {row})")
        elif patient_id not in open_windows:
            problems.append(
                f"{where} is not in patients.csv as a patient whose registration window is open at the cut-off "
                f"{result.as_of} and who is not ineligible"
            )
        elif open_windows[patient_id] != event_id:
            problems.append(
                f"{where}, column event_id: value {shown_value(event_id)} is not the patient's best event in "
                f"patients.csv ({shown_value(open_windows[patient_id])})"
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
    count = load_table(con, folder / f"{name}.csv", table.table, table.columns, problems, manifest["as_of"])
    if count is not None:
        problems += contradictions(con, manifest, loaded=set(RESULT_TABLES), new={name})
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
