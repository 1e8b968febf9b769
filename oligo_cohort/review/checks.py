"""Checking answers before anything is written: every problem of every row of every file, at once.

A row counts as answered when anything is typed in `answer`, `answer_date` or `answered_by`; such a row must
name a patient of the extract, one of that patient's screening scans (the event it was asked for), an item that
can be asked, an allowed answer, an answer date that is a date, not after today, not before 1900-01-01 or the
patient's birth (the screen would ignore the one and refuse the other: criteria.md "Time", docs/decisions.md
D35) and not before the start of the line active at the screening scan, and who answered. The same item of a patient answered in two rows (in
one file or in several) is a problem in both, whether the answers agree or not: which one counts would
otherwise depend on the order the files were given in. Rows with nothing typed in are not answered, not wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from oligo_cohort.dictionary import EARLIEST_PLAUSIBLE_DATE
from oligo_cohort.review.answers import CELL_CHARACTERS, AnswerProblem, AnswerRow
from oligo_cohort.review.facts import RegistryFacts
from oligo_cohort.review.items import BY_CODE, ITEMS, Item, normalise_answer
from oligo_cohort.shown_labels import short_label

ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]00:00(?::00)?)?$")
CHECKED_COLUMNS = (
    "patient_id",
    "site_id",
    "event_id",
    "screening_date",
    "item",
    "answer",
    "answer_date",
    "answered_by",
)


@dataclass(frozen=True)
class Answer:
    """A valid answer, with the screening unit it was asked for."""

    source: AnswerRow
    patient_id: str
    event_id: str | None
    item: Item
    answer: str  # canonical spelling
    answer_date: dt.date
    answered_by: str
    note: str
    unit: dict[str, object]


@dataclass(frozen=True)
class Checked:
    """The outcome of checking: valid answers, rows left unanswered, problems (nothing may be written if any)."""

    answers: list[Answer]
    unanswered: list[AnswerRow]
    problems: list[AnswerProblem]


def check_answers(rows: list[AnswerRow], facts: RegistryFacts, *, today: dt.date) -> Checked:
    """Check every answered row; list unanswered rows; find items answered more than once."""
    known_patients = dict(zip(facts.patients["patient_id"], facts.patients["site_id"], strict=True))
    rows = [_whole_ids(row, facts) for row in rows]
    births = dict(zip(facts.patients["patient_id"], facts.patients["birth_date"], strict=True))
    answers: list[Answer] = []
    unanswered: list[AnswerRow] = []
    problems: list[AnswerProblem] = []
    for row in rows:
        if not row.is_answered:
            unanswered.append(row)
            continue
        found = _check_row(row, facts, known_patients, births, today)
        if isinstance(found, Answer):
            answers.append(found)
        else:
            problems += found
    problems += _repeated_items(rows)
    return Checked(answers, unanswered, problems)


def _whole_ids(row: AnswerRow, facts: RegistryFacts) -> AnswerRow:
    """The row with each id a workbook cell could not hold whole read as the registry's id it begins.

    A workbook cell holds at most CELL_CHARACTERS characters, so the export's workbook holds a longer id (the
    extract's contract sets no length) cut to that; an id of exactly that length is the registry's id it begins,
    when exactly one does. Otherwise it stays as it is, and is checked as any other.
    """
    if row.sheet is None or all(len(row.get(c)) != CELL_CHARACTERS for c in _IDS):
        return row
    whole = dict(row.values)
    for column in _IDS:
        cut = row.get(column)
        if len(cut) != CELL_CHARACTERS:
            continue
        known = facts.units["event_id"].dropna() if column == "event_id" else facts.patients[column]
        begun = {value for value in known if value.startswith(cut)}
        if len(begun) == 1:
            whole[column] = begun.pop()
    return replace(row, values=whole)


_IDS = ("patient_id", "site_id", "event_id")


def _check_row(
    row: AnswerRow,
    facts: RegistryFacts,
    known_patients: dict[str, str],
    births: dict[str, dt.date | None],
    today: dt.date,
) -> Answer | list[AnswerProblem]:
    problems = [
        row.problem(c, "a formula, not a value: type the value itself") for c in CHECKED_COLUMNS if c in row.formulas
    ]
    problems += [
        row.problem(c, "an error value of the spreadsheet, not a value: type the value itself")
        for c in CHECKED_COLUMNS
        if c in row.errors
    ]
    if problems:
        return problems
    patient_id = row.get("patient_id")
    unit = None
    if not patient_id:
        problems.append(row.problem("patient_id", "patient_id missing"))
    elif patient_id not in known_patients:
        problems.append(
            row.problem("patient_id", "not a patient of the extract" + _lost_zeros(patient_id, known_patients))
        )
    else:
        site = row.get("site_id")
        if site and site != known_patients[patient_id]:
            at = short_label(known_patients[patient_id])
            problems.append(row.problem("site_id", f"patient {short_label(patient_id)} is at site {at}"))
        unit, trouble = _unit(row, patient_id, facts)
        problems += trouble
    item = BY_CODE.get(row.get("item").lower())
    if not row.get("item"):
        problems.append(row.problem("item", "item missing"))
    elif item is None:
        problems.append(row.problem("item", f"not an item that can be asked ({', '.join(i.code for i in ITEMS)})"))
    answer = None
    if not row.get("answer"):
        problems.append(row.problem("answer", "answer missing (an answer date or a reviewer is given)"))
    elif item is not None:
        answer = normalise_answer(item, row.get("answer"))
        if answer is None:
            problems.append(row.problem("answer", f"not an allowed answer to {item.code}: {item.allowed_answers}"))
    answer_date = _answer_date(row, unit, births.get(patient_id), today, problems)
    answered_by = row.get("answered_by")
    if not answered_by:
        problems.append(row.problem("answered_by", "answered_by missing: who looked it up in the chart"))
    if problems or unit is None or item is None or answer is None or answer_date is None:
        return problems
    return Answer(
        source=row,
        patient_id=patient_id,
        event_id=row.get("event_id") or None,
        item=item,
        answer=answer,
        answer_date=answer_date,
        answered_by=answered_by,
        note=row.get("note"),
        unit=unit,
    )


def _unit(
    row: AnswerRow, patient_id: str, facts: RegistryFacts
) -> tuple[dict[str, object] | None, list[AnswerProblem]]:
    """The screening unit the row was asked for: the patient's event, or the patient's event-less evaluation."""
    event_id = row.get("event_id")
    unit = facts.unit(patient_id, event_id or None)
    if unit is None and event_id:
        return None, [
            row.problem("event_id", f"not a screening scan of patient {short_label(patient_id)} in the extract")
        ]
    if unit is None:
        events = facts.units.loc[facts.units["patient_id"] == patient_id, "event_id"].dropna()
        return None, [
            row.problem(
                "event_id",
                f"event_id missing (screening scans of {short_label(patient_id)}: "
                f"{', '.join(short_label(event) for event in events)})",
            )
        ]
    shown = row.get("screening_date")
    if shown and unit["event_id"] is not None and _parse_date(shown) != unit["screening_date"]:
        return unit, [row.problem("screening_date", f"scan {short_label(event_id)} is dated {unit['screening_date']}")]
    return unit, []


def _answer_date(
    row: AnswerRow,
    unit: dict[str, object] | None,
    birth: dt.date | None,
    today: dt.date,
    problems: list[AnswerProblem],
) -> dt.date | None:
    text = row.get("answer_date")
    if not text:
        problems.append(row.problem("answer_date", "answer_date missing: the date the chart records the answer"))
        return None
    date = _parse_date(text)
    if date is None:
        problems.append(row.problem("answer_date", "not a date in YYYY-MM-DD form"))
        return None
    if date > today:
        problems.append(row.problem("answer_date", f"after today ({today})"))
        return None
    if date < EARLIEST_PLAUSIBLE_DATE:
        problems.append(row.problem("answer_date", f"before {EARLIEST_PLAUSIBLE_DATE}: not a plausible date"))
        return None
    if birth is not None and date < birth:
        problems.append(row.problem("answer_date", f"before the patient's birth ({birth})"))
        return None
    line_start = unit["line_start"] if unit is not None else None
    if isinstance(line_start, dt.date) and date < line_start:
        problems.append(
            row.problem(
                "answer_date",
                f"before the start of line {unit['line_number']} ({line_start}), the line of the screening scan",  # type: ignore[index]
            )
        )
        return None
    return date


def _parse_date(text: str) -> dt.date | None:
    match = ISO_DATE.match(text.strip())
    if not match:
        return None
    try:
        return dt.date.fromisoformat(match[1])
    except ValueError:
        return None


def _lost_zeros(patient_id: str, known: dict[str, str]) -> str:
    """A hint when a spreadsheet turned an id such as 00107 into the number 107."""
    if not patient_id.isdigit():
        return ""
    matches = sorted(k for k in known if k.isdigit() and k.lstrip("0") == patient_id.lstrip("0") and k != patient_id)
    if not matches:
        return ""
    return f" (did a spreadsheet drop leading zeros? the extract has {', '.join(matches[:3])})"


def _repeated_items(rows: list[AnswerRow]) -> list[AnswerProblem]:
    """Every answered row whose patient and item another answered row also has."""
    by_key: dict[tuple[str, str], list[AnswerRow]] = {}
    for row in rows:
        if row.is_answered and row.get("patient_id") and row.get("item"):
            by_key.setdefault((row.get("patient_id"), row.get("item").lower()), []).append(row)
    problems = []
    for (patient_id, item), group in by_key.items():
        if len(group) < 2:
            continue
        for row in group:
            others = [other for other in group if other is not row]
            agree = all(_said(o) == _said(row) for o in others)
            places = "; ".join(_place(o) + f" ({_said(o)})" for o in others)
            kind = "answered again" if agree else "contradicted"
            problems.append(
                row.problem("item", f"{item} of patient {patient_id} is {kind} in {places}: keep one answer", item)
            )
    return problems


def _said(row: AnswerRow) -> str:
    return f"{row.get('answer') or '?'} on {row.get('answer_date') or '?'}"


def _place(row: AnswerRow) -> str:
    sheet = f", sheet {row.sheet}" if row.sheet is not None else ""
    return f"{row.file}{sheet}, row {row.row}"
