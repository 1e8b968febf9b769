"""Reference point: a straightforward row-wise screen, the way an analyst writes it first.

Per-patient Python over pandas groups: every table is read with pandas and
grouped by `patient_id`; then, patient by patient, the script takes the
patient's tumours, therapy episodes, imaging studies, lesions, responses,
performance statuses and observations from the groups and decides the main
criteria in plain Python loops over their rows.

It is NOT a faithful screen and its outcomes are not compared with the
package's: it skips input validation, the data cut-off's findings, the
three-valued resolution of undetermined lesions (an undetermined lesion simply
makes the rule `unknown`), the nadir reference option, worklist mode and the
reasons text. It does the work that dominates a real screen, per patient:

- index breast tumour per scan and the metastatic episodes for it;
- lines of therapy (regimen window, drug substitution through regimen
  components, the restart gap, carried-over drugs, line ends and numbering);
- the active line at each scan, its reference study (same modality, else any,
  in the window around the line start) and lesion-by-lesion progression against
  it (size ≥ +20 % and > 15 mm except bone, SUV +20 % on PET–PET, new lesions);
- candidate events and the per-event criteria: index tumour (histology,
  metastatic), oligoprogression (1–2 distant lesions in one organ, or local
  only), therapy class, line 1 or 2, 6 months' disease control, same modality,
  death in the imaging window, PET confirmation (the rule again on each PET in
  [S+35, S+49]), age, performance status, other malignancy, lat_amenable /
  informed consent / pregnancy observations, more than two lines;
- status per event and the best event per patient (a patient without an event
  is evaluated at the cut-off).

Only a sample of patients is screened (default 2,000, drawn with a fixed seed);
the time per patient is extrapolated to the whole extract. The figure reported
as `seconds` is reading the whole extract (measured) plus the per-patient time
(splitting the sample's rows into per-patient pandas groups, then the loop)
times the number of patients.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from oligo_cohort.dictionary import tables
from oligo_cohort.paths import dictionary_dir
from oligo_cohort.protocol import load_protocol

TABLES = tuple(tables())  # the data model's tables, in its order
TREATMENT_CLASSES = {"endocrine", "targeted", "chemotherapy", "immunotherapy"}


def read_vocabulary() -> tuple[dict[str, str], dict[str, set[str]], dict[str, str]]:
    """drug → class, drug → regimen components, alias → drug."""
    classes, components = {}, {}
    with (dictionary_dir() / "drugs.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            classes[row["drug"]] = row["drug_class"]
            components[row["drug"]] = set(row["regimen_components"].split(";"))
    with (dictionary_dir() / "drug_aliases.csv").open(encoding="utf-8", newline="") as handle:
        aliases = {row["alias"]: row["drug"] for row in csv.DictReader(handle)}
    return classes, components, aliases


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def full_years(birth: dt.date, at: dt.date) -> int:
    return at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


class RowwiseScreen:
    """The per-patient screen (see the module docstring)."""

    def __init__(self, as_of: dt.date) -> None:
        self.p = load_protocol("cosmo").parameters
        self.as_of = as_of
        self.classes, self.components, self.aliases = read_vocabulary()

    def drug(self, name) -> str:
        name = str(name).strip().lower()
        return self.aliases.get(name, name)

    # -- lines of therapy -------------------------------------------------------------------------------------------

    def lines(self, episodes: list[dict], tumour: dict | None) -> list[dict]:
        onset = None
        if tumour is not None:
            dates = [tumour["metastasis_date"]] if not missing(tumour["metastasis_date"]) else []
            if tumour["tnm_m"] == "M1":
                dates.append(tumour["diagnosis_date"])
            onset = min(dates) if dates else None
        chosen = []
        for e in episodes:
            drug = self.drug(e["drug"])
            if self.classes.get(drug) == "supportive":
                continue
            setting = e["setting"]
            if setting == "metastatic" or (
                tumour is not None and (missing(setting) or setting == "unknown") and onset and e["start_date"] >= onset
            ):
                end = e["end_date"] if not missing(e["end_date"]) else dt.date.max
                chosen.append({"drug": drug, "start": e["start_date"], "end": end})
        chosen.sort(key=lambda e: (e["start"], e["drug"], e["end"]))
        lines: list[dict] = []
        for i, e in enumerate(chosen):
            parts = self.components.get(e["drug"], {e["drug"]})
            line = lines[-1] if lines else None
            if line is not None:
                in_window = (e["start"] - line["start"]).days <= self.p.regimen_window_days
                in_regimen = parts <= line["regimen"]
                in_gap = line["max_end"] == dt.date.max or (e["start"] - line["max_end"]).days <= self.p.line_gap_days
                if in_window or (in_regimen and in_gap):
                    line["regimen"] |= parts
                    line["max_end"] = max(line["max_end"], e["end"])
                    line["drugs"].add(e["drug"])
                    continue
            new = {"start": e["start"], "regimen": set(parts), "max_end": e["end"], "drugs": {e["drug"]}}
            for earlier in chosen[:i]:  # carried over: still running on the new line's start
                if earlier["end"] >= e["start"]:
                    new["regimen"] |= self.components.get(earlier["drug"], {earlier["drug"]})
                    new["max_end"] = max(new["max_end"], earlier["end"])
                    new["drugs"].add(earlier["drug"])
            lines.append(new)
        for number, line in enumerate(lines, start=1):
            line["number"] = number
            following = lines[number]["start"] if number < len(lines) else dt.date.max
            line["end"] = min(line["max_end"], following)
        return lines

    def active_line(self, lines: list[dict], day: dt.date) -> tuple[dict | None, int]:
        started = [line for line in lines if line["start"] <= day]
        if not started:
            return None, 0
        line = started[-1]
        grace = line["end"] == dt.date.max or day <= line["end"] + dt.timedelta(days=self.p.line_end_grace_days)
        return (line if grace else None), len(started)

    # -- imaging ----------------------------------------------------------------------------------------------------

    def reference(self, studies: list[dict], line: dict, modality: str) -> tuple[dict | None, bool]:
        low = line["start"] - dt.timedelta(days=self.p.reference_window_before_days)
        high = line["start"] + dt.timedelta(days=self.p.reference_window_after_days)
        window = [s for s in studies if low <= s["study_date"] <= high]
        same = [s for s in window if s["modality"] == modality]
        pool = same or window
        if not pool:
            return None, False
        best = max(pool, key=lambda s: (s["study_date"], [-ord(c) for c in s["study_id"]]))
        return best, bool(same)

    def progression(self, scan: dict, ref: dict | None, lesions_by_study: dict) -> list[tuple[dict, bool | None]]:
        p = self.p
        on_ref = {x["lesion_id"]: x for x in lesions_by_study.get(ref["study_id"], [])} if ref else {}
        both_pet = ref is not None and scan["modality"] == "FDG-PET-CT" and ref["modality"] == "FDG-PET-CT"
        verdicts = []
        for lesion in lesions_by_study.get(scan["study_id"], []):
            if ref is None:
                verdicts.append((lesion, None))
                continue
            before = on_ref.get(lesion["lesion_id"])
            if before is None:
                verdicts.append((lesion, True))
                continue
            size, size_ref = lesion["size_mm"], before["size_mm"]
            verdict: bool | None = False
            if missing(size) or missing(size_ref):
                verdict = None
            elif size >= size_ref * (1 + p.size_increase_pct / 100) and (
                lesion["organ"] == "bone" or size > p.size_floor_mm
            ):
                verdict = True
            if both_pet and verdict is not True:
                suv, suv_ref = lesion["suv_max"], before["suv_max"]
                if missing(suv) or missing(suv_ref):
                    verdict = None
                elif suv >= suv_ref * (1 + p.suv_increase_pct / 100):
                    verdict = True
            verdicts.append((lesion, verdict))
        return verdicts

    def oligo_rule(self, verdicts: list[tuple[dict, bool | None]]) -> str:
        if any(v is None for _, v in verdicts):
            return "unknown"
        progressive = [lesion for lesion, v in verdicts if v]
        distant = [x for x in progressive if x["location"] == "distant"]
        local = [x for x in progressive if x["location"] in ("primary", "locoregional_node")]
        if local and not distant:
            return "pass"
        organs = {x["organ"] for x in distant}
        if (
            distant
            and not local
            and len(distant) <= self.p.max_progressive_distant_lesions
            and len(organs) <= self.p.max_progressive_organs
        ):
            return "pass"
        return "fail"

    # -- criteria ---------------------------------------------------------------------------------------------------

    def patient_criteria(self, s: dt.date, r: dt.date, rec: dict, line: dict | None, lines_started: int) -> dict:
        p = self.p
        out = {}
        person = rec["patient"]
        out["inc_age_18"] = (
            "unknown"
            if missing(person["birth_date"])
            else ("pass" if full_years(person["birth_date"], r) >= p.min_age_years else "fail")
        )
        latest, verdict = None, "unknown"
        for a in rec["performance_status"]:
            in_window = s - dt.timedelta(days=p.performance_status_window_days) <= a["assessment_date"] <= r
            if in_window and (latest is None or a["assessment_date"] >= latest):
                latest = a["assessment_date"]
                if a["scale"] in ("WHO", "ECOG"):
                    verdict = "pass" if a["score"] <= 1 else "fail"
                else:
                    verdict = "pass" if a["score"] >= 80 else ("fail" if a["score"] <= 60 else "unknown")
        out["inc_who_ps_0_1"] = verdict
        for criterion, code in (("inc_lat_amenable", "lat_amenable"), ("inc_informed_consent", "informed_consent")):
            values = [o for o in rec["observations"] if o["code"] == code and o["start_date"] <= r]
            if not values:
                out[criterion] = "review"
            else:
                last = max(values, key=lambda o: o["start_date"])
                out[criterion] = "pass" if last["value"] else "fail"
        pregnant = any(
            o["code"] in ("pregnant", "breastfeeding")
            and o["value"]
            and o["start_date"] <= r
            and (missing(o["end_date"]) or o["end_date"] >= s)
            for o in rec["observations"]
        )
        out["exc_pregnancy"] = "fail" if pregnant else "pass"
        other = "pass"
        cutoff = add_months(r, -12 * p.other_malignancy_years)
        for t in rec["tumours"]:
            if t["behaviour"] != "3" or str(t["topography"]).upper().startswith("C50") or t["diagnosis_date"] > r:
                continue
            morphology = int(t["morphology"]) if str(t["morphology"]).isdigit() else None
            if (
                str(t["topography"]).upper().startswith("C44")
                and morphology
                and (8090 <= morphology <= 8098 or 8050 <= morphology <= 8084)
            ):
                continue
            exempt = (
                t["treatment_intent"] == "curative"
                and t["chemotherapy"] is False
                and t["radiotherapy"] is False
                and not missing(t["last_treatment_date"])
                and t["last_treatment_date"] <= cutoff
            )
            if not exempt:
                other = "fail"
        out["exc_other_malignancy"] = other
        out["exc_more_than_two_lines"] = "fail" if lines_started > p.max_lines_before_scan else "pass"
        out["inc_line_1_or_2"] = "pass" if line and line["number"] <= p.max_line_number else "fail"
        if line is None:
            out["inc_therapy_class"] = "fail"
            out["inc_disease_control_6m"] = "fail"
        else:
            known = any(self.classes.get(d) in TREATMENT_CLASSES for d in line["drugs"])
            out["inc_therapy_class"] = "pass" if known else "unknown"
            responses = [a for a in rec["response_assessments"] if line["start"] < a["assessment_date"] < s]
            if s < add_months(line["start"], p.min_months_on_line) or any(a["response"] == "PD" for a in responses):
                out["inc_disease_control_6m"] = "fail"
            elif any(a["response"] in ("CR", "PR", "SD") for a in responses):
                out["inc_disease_control_6m"] = "pass"
            else:
                out["inc_disease_control_6m"] = "unknown"
        return out

    def tumour_criteria(self, tumour: dict | None, s: dt.date) -> dict:
        if tumour is None:
            return {"inc_invasive_breast_cancer": "fail", "inc_metastatic": "fail"}
        basis = tumour["basis_of_diagnosis"]
        histology = (
            "pass"
            if basis in ("histology_primary", "histology_metastasis")
            else ("fail" if basis in ("cytology", "clinical", "death_certificate") else "unknown")
        )
        met = tumour["metastasis_date"]
        if tumour["tnm_m"] == "M1" or (not missing(met) and met <= s):
            metastatic = "pass"
        elif not missing(met) or tumour["tnm_m"] == "M0":
            metastatic = "fail"
        else:
            metastatic = "unknown"
        return {"inc_invasive_breast_cancer": histology, "inc_metastatic": metastatic}

    def screen_patient(self, rec: dict) -> dict:
        p = self.p
        breast = sorted(
            (t for t in rec["tumours"] if str(t["topography"]).upper().startswith("C50") and t["behaviour"] == "3"),
            key=lambda t: (t["diagnosis_date"], t["tumour_id"]),
        )
        studies = sorted(rec["imaging"], key=lambda s: (s["study_date"], s["study_id"]))
        lesions_by_study: dict[str, list[dict]] = {}
        for lesion in rec["lesions"]:
            lesions_by_study.setdefault(lesion["study_id"], []).append(lesion)
        episodes = sorted(rec["systemic_therapy"], key=lambda e: e["start_date"])
        lines_of: dict[str, list[dict]] = {}

        def index_tumour(day: dt.date) -> dict | None:
            found = [t for t in breast if t["diagnosis_date"] <= day]
            return found[-1] if found else None

        def lines_for(tumour: dict | None) -> list[dict]:
            key = tumour["tumour_id"] if tumour else ""
            if key not in lines_of:
                lines_of[key] = self.lines(episodes, tumour)
            return lines_of[key]

        events = []
        for scan in studies:
            s = scan["study_date"]
            tumour = index_tumour(s)
            line, lines_started = self.active_line(lines_for(tumour), s)
            if line is None or (s - line["start"]).days <= p.reference_window_after_days:
                continue
            ref, same = self.reference(studies, line, scan["modality"])
            verdicts = self.progression(scan, ref, lesions_by_study)
            if not any(v is not False for _, v in verdicts):
                continue
            r = s + dt.timedelta(days=p.registration_days)
            outcome = {"inc_oligoprogression": self.oligo_rule(verdicts)}
            outcome["inc_same_modality"] = "pass" if same else ("fail" if ref is not None else "unknown")
            death = rec["patient"]["death_date"]
            dies = not missing(death) and death < s + dt.timedelta(days=p.imaging_window_earliest_days)
            outcome["inc_imaging_window"] = "fail" if dies else "pass"
            pets = [
                x
                for x in studies
                if x["modality"] == "FDG-PET-CT"
                and p.pet_window_start_days <= (x["study_date"] - s).days <= p.pet_window_end_days
            ]
            rules = [self.oligo_rule(self.progression(pet, ref, lesions_by_study)) for pet in pets]
            if "pass" in rules:
                outcome["inc_pet_confirmation"] = "pass"
            elif "unknown" in rules or (not rules and self.as_of < s + dt.timedelta(days=p.pet_window_end_days)):
                outcome["inc_pet_confirmation"] = "unknown"
            else:
                outcome["inc_pet_confirmation"] = "fail"
            outcome.update(self.tumour_criteria(tumour, s))
            outcome.update(self.patient_criteria(s, r, rec, line, lines_started))
            events.append((scan, outcome))
        if not events:
            s = self.as_of
            tumour = index_tumour(s)
            line, started = self.active_line(lines_for(tumour), s)
            outcome = {c: "fail" for c in ("inc_oligoprogression", "inc_same_modality", "inc_imaging_window")}
            outcome["inc_pet_confirmation"] = "fail"
            outcome.update(self.tumour_criteria(tumour, s))
            outcome.update(self.patient_criteria(s, s, rec, line, started))
            events.append(({"study_id": None, "study_date": s}, outcome))

        def rank(event):
            values = list(event[1].values())
            return (values.count("fail"), values.count("unknown"), event[0]["study_date"], event[0]["study_id"] or "")

        scan, outcome = min(events, key=rank)
        values = list(outcome.values())
        status = "ineligible" if "fail" in values else ("unknown" if "unknown" in values else "eligible")
        return {"status": status, "events": len(events), "event_id": scan["study_id"]}


def records(frame: pd.DataFrame) -> dict[str, list[dict]]:
    """Rows grouped by patient: what the analyst's `groupby("patient_id")` gives, as lists of row dicts."""
    out: dict[str, list[dict]] = {}
    for patient_id, group in frame.groupby("patient_id", sort=False):
        out[patient_id] = group.to_dict("records")
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("extract", type=Path)
    parser.add_argument("--sample", type=int, default=2000, help="patients screened row by row (default 2,000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    cpu_started = time.process_time()
    arrow = {
        name: pq.read_table(args.extract / f"{name}.parquet")
        for name in TABLES
        if (args.extract / f"{name}.parquet").exists()
    }
    read_seconds = time.perf_counter() - started
    read_cpu = time.process_time() - cpu_started
    n_patients = arrow["patients"].num_rows
    as_of = max(
        pc.max(arrow[t].column(c)).as_py()
        for t, c in (("imaging", "study_date"), ("systemic_therapy", "start_date"), ("tumours", "diagnosis_date"))
    )
    ids = arrow["patients"].column("patient_id")
    rng = np.random.default_rng(args.seed)
    sample = ids.take(np.sort(rng.choice(n_patients, size=min(args.sample, n_patients), replace=False)))

    # The sample's rows, grouped by patient: a pandas group per patient and table, as row dicts.
    started = time.perf_counter()
    cpu_started = time.process_time()
    frames = {
        name: table.filter(pc.is_in(table.column("patient_id"), value_set=sample)).to_pandas(
            date_as_object=True, types_mapper=None
        )
        for name, table in arrow.items()
    }
    frames = {name: frame.astype(object).where(frame.notna(), None) for name, frame in frames.items()}
    grouped = {name: records(frame) for name, frame in frames.items()}
    group_seconds = time.perf_counter() - started
    group_cpu = time.process_time() - cpu_started

    screen = RowwiseScreen(as_of)
    started = time.perf_counter()
    cpu_started = time.process_time()
    statuses: dict[str, int] = {}
    for patient in grouped["patients"].values():
        patient_id = patient[0]["patient_id"]
        rec = {name: grouped[name].get(patient_id, []) for name in TABLES if name in grouped}
        rec["patient"] = patient[0]
        for name in TABLES:
            rec.setdefault(name, [])
        result = screen.screen_patient(rec)
        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    loop_seconds = time.perf_counter() - started
    loop_cpu = time.process_time() - cpu_started
    screened = len(grouped["patients"])
    per_patient = (loop_seconds + group_seconds) / screened
    json.dump(
        {
            "patients": n_patients,
            "sample": screened,
            "read_seconds": read_seconds,
            "group_seconds": group_seconds,
            "loop_seconds": loop_seconds,
            "per_patient_seconds": per_patient,
            "seconds": read_seconds + per_patient * n_patients,
            "cpu_seconds": read_cpu + ((group_cpu + loop_cpu) / screened) * n_patients,
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "statuses": statuses,
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
