"""From valid answers to canonical records, with the audit trail: which answer became which record, who, when.

Answers are added as dated records; registry records are never changed. When the extract already holds a record
of the same kind that says otherwise, the answer is still added and the audit lists the conflict with the rule
that decides which one the screen reads (each criterion's own rule in criteria.md):

- an observation deciding `inc_lat_amenable`, `inc_informed_consent`, `exc_medical_risk` or `exc_psychosocial`:
  the latest on or before R counts; true and false on that same day -> chart review (D18, D43);
- `pregnant` / `breastfeeding`: any true observation current between S and R excludes, whichever is later;
- a performance status: the latest assessment in [S - 60 days, R] counts; on one day, the worst (D18);
- a response: any PD between the line start and S fails the criterion, whatever else is recorded.

A record identical to the one an answer becomes (the answer imported in an earlier round, say) is not added
again, and is not one of the records the answer is weighed against: the same answers imported again get the same
conflicts and the same record that counts, `already in the extract`.

The audit also warns when an answer is dated where the screen does not read it for the event it was asked for
(after R; outside the performance-status window; not between the line start and S; after the cut-off the
reviewed extract is to be screened at, the first screen's): it is kept, as the chart says it, but changes nothing
for that event. An answer that only the cut-off keeps out says from which `--as-of` a screen reads it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.protocol import Parameters
from oligo_cohort.review.answers import AnswerRow
from oligo_cohort.review.checks import Answer, Checked
from oligo_cohort.review.facts import RegistryFacts
from oligo_cohort.review.items import BY_CODE, YES

AUDIT_COLUMNS = (
    "imported_on",
    "file",
    "sheet",
    "row",
    "patient_id",
    "event_id",
    "item",
    "answer",
    "answer_date",
    "answered_by",
    "note",
    "action",
    "table",
    "record",
    "conflict",
    "counts",
    "warning",
)
ADDED, ALREADY, NOT_ANSWERED = "added", "already in the extract", "not answered"
CODES = clinical_codes()
ANSWER_SCALE = "WHO"  # the performance status item asks for a WHO score
PASS, FAIL, UNSURE = "pass", "fail", "unknown"


# Where the cut-off the answers' dates are checked against comes from (`Cutoff.origin`).
GIVEN, SCREEN, EXTRACT = "given", "screen", "extract"


@dataclass(frozen=True)
class Cutoff:
    """The cut-off the reviewed extract is to be screened at, against which the answers' dates are checked.

    The first screen's (`SCREEN`: recorded by `review export` beside the answer files), one the user gives
    (`GIVEN`), or, when neither is known, the extract's default cut-off (`EXTRACT`: its latest date).
    """

    date: dt.date
    origin: str
    where: str | None = None  # the file the first screen's cut-off was read from

    @property
    def label(self) -> str:
        """`the screen's cut-off`, `the cut-off`, `the extract's cut-off`: as the warnings name it."""
        return {SCREEN: "the screen's cut-off", GIVEN: "the cut-off", EXTRACT: "the extract's cut-off"}[self.origin]


@dataclass(frozen=True)
class ReviewRecords:
    """The records to add, per canonical table (text values, the table's columns), and the audit rows.

    `read_later` holds the date of every answer that the screen reads for its event, but only at a cut-off later
    than `cutoff` (it is dated after it).
    """

    tables: dict[str, pd.DataFrame]
    audit: pd.DataFrame
    cutoff: Cutoff
    read_later: tuple[dt.date, ...] = ()

    @property
    def added(self) -> int:
        return int((self.audit["action"] == ADDED).sum())

    @property
    def conflicts(self) -> pd.DataFrame:
        return self.audit[self.audit["conflict"].fillna("") != ""]

    @property
    def warnings(self) -> pd.DataFrame:
        return self.audit[self.audit["warning"].fillna("") != ""]


def answers_to_records(
    checked: Checked, facts: RegistryFacts, parameters: Parameters, *, imported_on: dt.date, cutoff: Cutoff
) -> ReviewRecords:
    """Canonical records and audit rows for every valid answer, and audit rows for the unanswered ones; the
    answers' dates are checked against `cutoff`."""
    tables: dict[str, list[dict[str, object]]] = {}
    audit = []
    read_later = []
    for answer in checked.answers:
        warning, later = _warning(answer, parameters, cutoff)
        if later:
            read_later.append(answer.answer_date)
        record = _record(answer)
        table = answer.item.table
        recorded = facts.records_of(_RECORDS_OF[table], answer.patient_id)
        same = _same_record(answer, record, recorded)
        present = bool(same.any())
        if not present:
            tables.setdefault(table, []).append(record)
        # The answer's own copy (an earlier round's, or the registry's identical record) says what the answer says:
        # the conflicts and the record that counts are decided among the other records.
        conflict, counts = _conflict(answer, recorded[~same], parameters)
        audit.append(
            {
                **_source(answer.source, imported_on),
                "patient_id": answer.patient_id,
                "event_id": answer.event_id,
                "item": answer.item.code,
                "answer": answer.answer,
                "answer_date": answer.answer_date.isoformat(),
                "answered_by": answer.answered_by,
                "note": answer.note or None,
                "action": ALREADY if present else ADDED,
                "table": table,
                "record": describe_record(table, record),
                "conflict": conflict,
                "counts": counts,
                "warning": warning,
            }
        )
    for row in checked.unanswered:
        audit.append(
            {
                **_source(row, imported_on),
                "patient_id": row.get("patient_id") or None,
                "event_id": row.get("event_id") or None,
                "item": row.get("item") or None,
                "note": row.get("note") or None,
                "action": NOT_ANSWERED,
            }
        )
    frames = {name: pd.DataFrame(rows, dtype=object) for name, rows in tables.items()}
    audit_frame = pd.DataFrame(audit, columns=list(AUDIT_COLUMNS), dtype=object)
    return ReviewRecords(frames, audit_frame, cutoff, tuple(read_later))


def _source(row: AnswerRow, imported_on: dt.date) -> dict[str, object]:
    return {"imported_on": imported_on.isoformat(), "file": row.file, "sheet": row.sheet, "row": row.row}


def _record(answer: Answer) -> dict[str, object]:
    """The canonical row an answer becomes (text values, as a CSV extract holds them)."""
    day = answer.answer_date.isoformat()
    if answer.item.table == "observations":
        value = "true" if answer.answer == YES else "false"
        return {
            "patient_id": answer.patient_id,
            "code": answer.item.code,
            "start_date": day,
            "end_date": None,
            "value": value,
        }
    if answer.item.table == "performance_status":
        return {"patient_id": answer.patient_id, "assessment_date": day, "scale": ANSWER_SCALE, "score": answer.answer}
    return {"patient_id": answer.patient_id, "assessment_date": day, "response": answer.answer}


def describe_record(table: str, record: dict[str, object]) -> str:
    """A record in a few words: `observations: medical_risk false from 2024-03-01`."""
    if table == "observations":
        return f"observations: {record['code']} {record['value']} from {record['start_date']}"
    if table == "performance_status":
        return f"performance_status: {record['scale']} {record['score']} on {record['assessment_date']}"
    return f"response_assessments: {record['response']} on {record['assessment_date']}"


# The table an answer becomes -> its records in `RegistryFacts.records_of`.
_RECORDS_OF = {"observations": "observations", "performance_status": "performance", "response_assessments": "responses"}


def _same_record(answer: Answer, record: dict[str, object], frame: pd.DataFrame) -> pd.Series:
    """Which of a patient's records of the answer's kind are exactly the record the answer becomes (the extract
    then holds it already: it is not added twice)."""
    day = answer.answer_date
    if frame.empty:  # most patients: nothing recorded of this kind
        return pd.Series(False, index=frame.index, dtype=bool)
    if answer.item.table == "observations":
        same = (frame["code"] == answer.item.code) & (frame["value"] == (record["value"] == "true"))
        same &= frame["start_date"] == day
    elif answer.item.table == "performance_status":
        same = (
            (frame["scale"] == ANSWER_SCALE)
            & (frame["score"] == int(answer.answer))
            & (frame["assessment_date"] == day)
        )
    else:
        same = (frame["response"] == answer.answer) & (frame["assessment_date"] == day)
    return same.astype(bool)


# --- Conflicts with registry records -------------------------------------------------------------------------------


def _conflict(answer: Answer, rows: pd.DataFrame, parameters: Parameters) -> tuple[str | None, str | None]:
    """The records of the same kind (`rows`: the patient's, but the answer's own) that say otherwise, and which one
    the screen reads."""
    code = answer.item.code
    if answer.item.table == "observations":
        return (
            _observation_conflict(answer, rows)
            if code not in CODES.pregnancy_observations
            else _pregnancy_conflict(answer, rows)
        )
    if answer.item.table == "performance_status":
        return _performance_conflict(answer, rows, parameters)
    return _response_conflict(answer, rows)


def _observation_conflict(answer: Answer, rows: pd.DataFrame) -> tuple[str | None, str | None]:
    code, said = answer.item.code, answer.answer == YES
    if rows.empty:  # most patients: no registry record of this kind, so nothing to conflict with
        return None, None
    rows = rows[rows["code"] == code]
    other = rows[rows["value"] != said]
    if other.empty:
        return None, None
    conflict = "registry: " + "; ".join(
        f"{code} {_bool(v)} on {d}" for d, v in zip(other["start_date"], other["value"], strict=True)
    )
    r = answer.unit["registration_date"]
    read = rows[rows["start_date"] <= r]  # type: ignore[operator]
    if answer.answer_date > r:  # type: ignore[operator]
        return conflict, f"the answer is dated after R {r}: the latest registry record on or before R counts"
    latest = read["start_date"].max() if len(read) else None
    if latest is None or answer.answer_date > latest:
        return conflict, f"the answer counts: the latest {code} observation on or before R {r}"
    if answer.answer_date == latest and (read.loc[read["start_date"] == latest, "value"] != said).any():
        return conflict, f"true and false on {latest}, the latest day on or before R: chart review (D18)"
    return conflict, f"the registry record of {latest} counts: it is later (the latest on or before R {r} counts)"


def _pregnancy_conflict(answer: Answer, rows: pd.DataFrame) -> tuple[str | None, str | None]:
    code, said = answer.item.code, answer.answer == YES
    if rows.empty:  # most patients: no registry record of this kind, so nothing to conflict with
        return None, None
    rows = rows[(rows["code"] == code) & (rows["value"] != said)]
    if rows.empty:
        return None, None
    conflict = "registry: " + "; ".join(
        f"{code} {_bool(v)} from {d}" for d, v in zip(rows["start_date"], rows["value"], strict=True)
    )
    if said:
        return conflict, "the answer counts: a true observation current between S and R excludes"
    s, r = answer.unit["screening_date"], answer.unit["registration_date"]
    current = rows[(rows["value"] == True) & (rows["start_date"] <= r)]  # noqa: E712 - a column of Python bools
    current = current[current["end_date"].isna() | (current["end_date"] >= s)]
    if current.empty:
        return conflict, "the answer counts: no registry record of it is current between S and R"
    return conflict, "the registry record counts: a true observation current between S and R excludes"


def ps_verdict(scale: str, score: int) -> str:
    """inc_who_ps_0_1 on one assessment: WHO/ECOG 0-1 or KPS 80+ pass, WHO/ECOG 2+ or KPS 60- fail (D19)."""
    if scale in CODES.who_scales:
        return PASS if score <= CODES.who_highest_passing_score else FAIL
    if score >= CODES.karnofsky_lowest_passing_score:
        return PASS
    return FAIL if score <= CODES.karnofsky_highest_failing_score else UNSURE


def _performance_conflict(answer: Answer, rows: pd.DataFrame, parameters: Parameters) -> tuple[str | None, str | None]:
    s, r = answer.unit["screening_date"], answer.unit["registration_date"]
    start = s - dt.timedelta(days=parameters.performance_status_window_days)  # type: ignore[operator]
    if rows.empty:  # most patients: no registry record of this kind, so nothing to conflict with
        return None, None
    rows = rows[(rows["assessment_date"] >= start) & (rows["assessment_date"] <= r)]
    said = ps_verdict(ANSWER_SCALE, int(answer.answer))
    verdicts = [ps_verdict(scale, int(score)) for scale, score in zip(rows["scale"], rows["score"], strict=True)]
    other = rows[[v != said for v in verdicts]]
    if other.empty:
        return None, None
    conflict = "registry: " + "; ".join(
        f"{scale} {score} on {d}"
        for scale, score, d in zip(other["scale"], other["score"], other["assessment_date"], strict=True)
    )
    if not start <= answer.answer_date <= r:  # type: ignore[operator]
        return conflict, f"the answer is outside [{start}, {r}]: the latest registry assessment in it counts"
    latest = rows["assessment_date"].max()
    if answer.answer_date > latest:
        return conflict, f"the answer counts: the latest assessment in [{start}, {r}]"
    if answer.answer_date == latest:
        return conflict, f"several assessments on {latest}: the worst counts (D18)"
    return conflict, f"the registry assessment of {latest} counts: it is later (the latest in [{start}, {r}] counts)"


def _response_conflict(answer: Answer, rows: pd.DataFrame) -> tuple[str | None, str | None]:
    start, s = answer.unit["line_start"], answer.unit["screening_date"]
    if start is None:
        return None, None
    if rows.empty:  # most patients: no registry record of this kind, so nothing to conflict with
        return None, None
    rows = rows[(rows["assessment_date"] > start) & (rows["assessment_date"] < s)]  # type: ignore[operator]
    said_pd = answer.answer == CODES.progression_response
    other = rows[(rows["response"] == CODES.progression_response) != said_pd]
    other = other[other["response"] != "NE"]  # NE decides nothing
    if other.empty:
        return None, None
    conflict = "registry: " + "; ".join(
        f"{v} on {d}" for v, d in zip(other["response"], other["assessment_date"], strict=True)
    )
    if said_pd:
        return conflict, "the answer counts: any PD between the line start and S fails the criterion"
    return conflict, "the registry PD counts: any PD between the line start and S fails the criterion"


def _bool(value: object) -> str:
    return "without a value" if value is None else "true" if value else "false"


# --- Dates the screen does not read ----------------------------------------------------------------------------------


def _warning(answer: Answer, parameters: Parameters, cutoff: Cutoff) -> tuple[str | None, bool]:
    """Why the screen will not read this answer for the event it was asked for (None when it will), and whether a
    screen at a later cut-off would: the one place an answer's date is checked against what the screen reads.

    A screen reads no record dated after its cut-off, so an answer dated after `cutoff` but where the criterion
    reads it (on or before R, say) is read once the cut-off reaches its date: the warning names that `--as-of`.
    """
    unit, day = answer.unit, answer.answer_date
    s, r = unit["screening_date"], unit["registration_date"]
    notes = []
    window = BY_CODE[answer.item.code].window
    if window == "R" and day > r:  # type: ignore[operator]
        notes.append(f"dated after the planned registration R {r}: not read for this event")
    elif window == "ps":
        start = s - dt.timedelta(days=parameters.performance_status_window_days)  # type: ignore[operator]
        if not start <= day <= r:  # type: ignore[operator]
            notes.append(f"outside the assessment window [{start}, {r}]: not read for this event")
    elif window == "line" and unit["line_start"] is None:
        notes.append("no line of therapy active at the scan: not read")
    elif window == "line" and not unit["line_start"] < day < s:  # type: ignore[operator]
        notes.append(f"not between the line start {unit['line_start']} and the scan {s}: not read for this event")
    read_later = day > cutoff.date and not notes
    if read_later:
        notes.append(
            f"dated after {cutoff.label} {cutoff.date}: a screen with --as-of {cutoff.date} does not read it, "
            f"one with --as-of {day} or later does"
        )
    elif day > cutoff.date:
        notes.append(f"dated after {cutoff.label} {cutoff.date} too")
    return "; ".join(notes) or None, read_later
