"""The oracle of what a screen folder says of itself: each fact that follows from others, recomputed in Python from
the files as written, independently of the reader (`oligo_cohort.screen_folder`, which checks them in DuckDB).

`contradictions(folder)` lists the cells where the folder contradicts itself ("patients.csv row 2, column status"),
as a screen never writes it: a status not the one its criteria give (criteria.md "Outcomes": ineligible if any
criterion fails, else unknown if any is unknown, else eligible); a best event not the one criteria.md "Time" picks
(fewest fail, then fewest unknown, then earliest screening date, then smallest event id); a patient's row not their
best event's; a patient without an event with a screening date or an imaging criterion other than fail; a
registration date other than the screening date plus the protocol's registration_days; an event or a patient listed
twice; an event or reason of a patient not in patients.csv, or an event at another site; a reason whose outcome is
not its rule's, or not its criterion's outcome, an event explained with other than one reason per criterion, a
patient whose best event has no reasons; status counts in manifest.json other than patients.csv holds.

The values are taken as the reader takes them (`read_back`: the spreadsheet-safety apostrophe removed, an empty
cell missing; booleans in any case), and only for a folder whose every value is one the result can hold.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path

from oligo_cohort.criteria import CRITERIA, CRITERION_IDS, FAILED_WITHOUT_EVENT
from tests.commands.folder_reading import rows_of


def read_back(value: str) -> str | None:
    """A text cell as the result holds it: without the spreadsheet-safety apostrophe, empty as missing."""
    return (value[1:] if value.startswith("'") else value) or None


def records(folder: Path, name: str) -> list[dict[str, str | None]]:
    rows = rows_of(folder / f"{name}.csv")
    header = [h.strip().lower() for h in rows[0]]
    return [{c: read_back(v) for c, v in zip(header, row, strict=True)} for row in rows[1:]]


def status_of(row: dict) -> str:
    outcomes = [row[c] for c in CRITERION_IDS]
    return "ineligible" if "fail" in outcomes else "unknown" if "unknown" in outcomes else "eligible"


def rank(event: dict) -> tuple:
    outcomes = [event[c] for c in CRITERION_IDS]
    return (outcomes.count("fail"), outcomes.count("unknown"), event["screening_date"], event["event_id"])


RULE_OUTCOMES = {(c.id, r.name): r.outcome for c in CRITERIA for r in c.rules}


def contradictions(folder: Path, *, reasons: bool = True) -> list[str]:
    """Every cell (file row N, column C) where the folder contradicts itself, as a screen never writes it."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8-sig"))
    days = manifest["parameters"]["registration_days"]
    patients, events = records(folder, "patients"), records(folder, "events")
    found: list[str] = []

    def at(file: str, k: int, column: str) -> None:
        found.append(f"{file} row {k}, column {column}")

    # A patient listed twice, or an event without its id or dates, is a value the result cannot hold: the reader
    # names it and checks nothing further.
    ids = Counter(p["patient_id"] for p in patients)
    patient_at = {p["patient_id"]: (k, p) for k, p in reversed(list(enumerate(patients, start=1)))}
    for k, p in enumerate(patients, start=1):
        if ids[p["patient_id"]] > 1 and patient_at[p["patient_id"]][0] == k:
            at("patients.csv", k, "patient_id")
    for k, e in enumerate(events, start=1):
        for column in ("event_id", "screening_date", "registration_date"):
            if e[column] is None:
                at("events.csv", k, column)
    if found:
        return found

    for k, p in enumerate(patients, start=1):
        if p["status"] != status_of(p):
            at("patients.csv", k, "status")
        if p["event_id"] is None:
            if p["screening_date"] is not None:
                at("patients.csv", k, "screening_date")
            for c in FAILED_WITHOUT_EVENT:
                if p[c] != "fail":
                    at("patients.csv", k, c)

    by_patient: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    event_ids = Counter(e["event_id"] for e in events)
    first_at: dict[str, int] = {}
    for k, e in enumerate(events, start=1):
        by_patient[e["patient_id"]].append((k, e))
        first_at.setdefault(e["event_id"], k)
        if e["status"] != status_of(e):
            at("events.csv", k, "status")
        registration = dt.date.fromisoformat(e["screening_date"]) + dt.timedelta(days=days)
        if e["registration_date"] != registration.isoformat():
            at("events.csv", k, "registration_date")
        if event_ids[e["event_id"]] > 1:
            at("events.csv", first_at[e["event_id"]], "event_id")
        if e["patient_id"] not in patient_at:
            at("events.csv", k, "patient_id")
        elif e["site_id"] != patient_at[e["patient_id"]][1]["site_id"]:
            at("events.csv", k, "site_id")
    best: dict[str, tuple[int, dict]] = {}
    for patient, listed in by_patient.items():
        best[patient] = min(listed, key=lambda item: rank(item[1]))
        for k, e in listed:
            if (e["is_best_event"].lower() == "true") != (k == best[patient][0]):
                at("events.csv", k, "is_best_event")
    for k, p in enumerate(patients, start=1):
        _, b = best.get(p["patient_id"], (None, None))
        if p["event_id"] != (b["event_id"] if b else None):
            at("patients.csv", k, "event_id")
        elif b:
            for c in ("screening_date", *CRITERION_IDS):
                if p[c] != b[c]:
                    at("patients.csv", k, c)

    statuses = manifest.get("status")
    if statuses is not None and Counter(p["status"] for p in patients) != Counter(statuses):
        found.append("but manifest.json records")
    if reasons:
        found += _reason_contradictions(folder, patients, events, patient_at)
    return found


def _reason_contradictions(folder: Path, patients: list[dict], events: list[dict], patient_at: dict) -> list[str]:
    found = []
    units: dict[tuple, list[tuple[int, dict]]] = defaultdict(list)
    wrong: set[tuple] = set()
    for k, r in enumerate(records(folder, "reasons"), start=1):
        unit = (r["patient_id"], r["event_id"])
        units[unit].append((k, r))
        if r["patient_id"] not in patient_at:
            found.append(f"reasons.csv row {k}, column patient_id")
        outcome = RULE_OUTCOMES.get((r["criterion"], r["rule"]))
        if outcome != r["outcome"]:
            wrong.add(unit)
            found.append(f"reasons.csv row {k}, column {'rule' if outcome is None else 'outcome'}")
    explained = {(p["patient_id"], p["event_id"]): p for p in patients}
    explained_too = {(e["patient_id"], e["event_id"]): e for e in events}
    for unit, listed in units.items():
        if unit in wrong:
            continue
        first = listed[0][0]
        outcomes = explained.get(unit) or explained_too.get(unit)
        if outcomes is None:
            found.append(f"reasons.csv row {first}, column event_id")
            continue
        given = Counter(r["criterion"] for _, r in listed)
        for k, r in listed:
            if r["outcome"] != outcomes[r["criterion"]]:
                found.append(f"reasons.csv row {k}, column outcome")
            if given[r["criterion"]] > 1:
                found.append(f"reasons.csv row {k}, column criterion")
        if set(given) != set(CRITERION_IDS):
            found.append(f"reasons.csv row {first}, column event_id")
    for k, p in enumerate(patients, start=1):
        if (p["patient_id"], p["event_id"]) not in units:
            found.append(f"patients.csv row {k}, column patient_id")
    return found
