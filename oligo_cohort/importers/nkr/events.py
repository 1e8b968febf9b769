"""An NKR file's dated records of a breast cancer's course: the drugs given (`syst_code{n}`), WHO performance
status and tumour response, each dated by a date item or by days from the tumour's incidence date."""

from __future__ import annotations

import re

from oligo_cohort.importers.common import add_days, to_int
from oligo_cohort.importers.nkr.reader import NkrFile

RESPONSE = {"CR": "CR", "PR": "PR", "SD": "SD", "PD": "PD", "NE": "NE", "MR": "SD"}  # minor response: SD in RECIST
RESPONSE_PROBLEM = "not a tumour response code (CR, PR, SD, PD, MR, NE)"


def add_drugs(nkr: NkrFile, record: dict, pid: str, tumour: dict, therapy: list[dict]) -> None:
    incidence = tumour["diagnosis_date"]
    for n in nkr.numbers("drug_code"):
        code = nkr.get(record, "drug_code", n)
        if code is None:
            continue
        match = nkr.matcher.by_atc(code) or nkr.matcher.by_name(code) or nkr.matcher.by_contained_name(code)
        drug = match.drug if match else re.sub(r"\s+", " ", code.strip().lower())
        start, _ = nkr.dated(record, incidence, "drug_start_date", "drug_start_interval", n)
        stop, stop_item = nkr.dated(record, incidence, "drug_stop_date", "drug_stop_interval", n)
        if start is None:
            nkr.report.drop(nkr.table, "systemic_therapy", "drug without a start date or interval")
            continue
        if stop is not None and stop < start:
            nkr.bad(
                record,
                stop_item,
                nkr.get(record, stop_item, n),
                f"the stop ({stop.isoformat()}) is before the start ({start.isoformat()}) of the same drug",
                n,
            )
            continue
        if not tumour["_breast"]:
            tumour["last_treatment_date"] = max(filter(None, [tumour.get("last_treatment_date"), stop or start]))
            nkr.report.drop(
                nkr.table, "systemic_therapy", "drug for another primary (kept only as that tumour's treatment)"
            )
            continue
        therapy.append({"patient_id": pid, "drug": drug, "start_date": start, "end_date": stop, "setting": "unknown"})


def add_performance_status(nkr: NkrFile, record: dict, pid: str, tumour: dict, rows: list[dict]) -> None:
    if not nkr.has("performance_status"):
        return
    value = nkr.get(record, "performance_status")
    if value is None:
        return
    score = to_int(value)
    if score == 9:
        nkr.report.drop(nkr.table, "performance_status", "performance status unknown (9)")
        return
    if score is None or not 0 <= score <= 5:
        nkr.bad(record, "performance_status", value, "not a WHO performance status (0-5, 9 unknown)")
        return
    incidence = tumour["diagnosis_date"]
    interval = nkr.interval(record, "performance_status_interval") if nkr.has("performance_status_interval") else None
    day = add_days(incidence, interval)
    if day is None:
        # The status at the start of the record's episode: its first metastasis on a follow-up record.
        episode = [
            add_days(incidence, nkr.interval(record, "metastasis_interval", n))
            for n in nkr.numbers("metastasis_interval")
            if nkr.get(record, "metastasis_interval", n) is not None
        ]
        day = min([d for d in episode if d is not None], default=incidence)
        nkr.approximate("performance status dated at the start of the record's episode (no interval item)")
    rows.append({"patient_id": pid, "assessment_date": day, "scale": "WHO", "score": score})


def add_response(nkr: NkrFile, record: dict, pid: str, tumour: dict, rows: list[dict]) -> None:
    if not nkr.has("response"):
        return
    # A code the list does not hold is a problem, as every other coded item's is: dropping a mistyped PD would
    # silently change who is eligible (progressive disease decides the screen). An empty cell is no response.
    response = nkr.read(record, "response", None, lambda value: RESPONSE.get(value.strip().upper()), RESPONSE_PROBLEM)
    if response is None:
        return
    day, _ = nkr.dated(record, tumour["diagnosis_date"], "response_date", "response_interval")
    if day is None:
        nkr.report.drop(nkr.table, "response_assessments", "response without a date or interval")
        return
    rows.append({"patient_id": pid, "assessment_date": day, "response": response})


# --- patients ------------------------------------------------------------------------------------------------
