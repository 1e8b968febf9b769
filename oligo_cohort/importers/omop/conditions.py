"""OMOP condition_occurrence → tumours: every concept rule of the tumour domain.

A condition is classified by its ICD-O-3 code (the Oncology extension's `8500/3-C50.9`), else its ICD-10 code,
else a SNOMED breast-cancer concept, else its concept name (`classify_condition`). Records of one primary are
merged; the facts (measurement/observation) add each tumour's M category and basis of diagnosis, and the
metastasis evidence of conditions and facts its metastasis date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.importers.common import canonical_frame, date_column, to_int
from oligo_cohort.importers.omop.context import OmopImport
from oligo_cohort.importers.omop.lineage import record_lineage

# Metadata concept naming the table/field a modifier points at.
CONDITION_OCCURRENCE_FIELD = "1147127"  # condition_occurrence.condition_occurrence_id

# Breast cancer concepts matched directly when the source has no concept table (else matched by name).
BREAST_CANCER_CODES = {"254837009"}  # SNOMED CT: malignant neoplasm of breast (the Synthea code)
BREAST_CANCER_CONCEPTS = {"4112853"}  # OMOP: malignant tumor of breast

# Lymph nodes regional to the breast (TNM N, not M): supraclavicular/head-neck C77.0, intrathoracic
# (internal mammary) C77.1, axillary C77.3.
REGIONAL_C77 = ("0", "1", "3")

CODES = clinical_codes()
# The topography of a breast cancer whose subsite is not known (breast, not otherwise specified).
BREAST_NOS = f"{CODES.breast_topography}.9"
INVASIVE, IN_SITU = CODES.invasive_behaviour, "2"

CONDITION_COLUMNS = [  # what is read of condition_occurrence
    "condition_occurrence_id",
    "person_id",
    "condition_concept_id",
    "condition_start_date",
    "condition_source_value",
    "condition_source_concept_id",
]

ICDO3 = re.compile(r"^(\d{4})/(\d)-C(\d{2})\.?(\d)$", re.IGNORECASE)
ICD10 = re.compile(r"^([CD])(\d{2})(?:\.?(\d)[0-9A-Z]*)?$", re.IGNORECASE)


@dataclass(frozen=True)
class ConditionClass:
    """What a condition record is for the screen."""

    kind: str  # breast | other | metastasis | regional | unknown_primary | in_situ_other
    topography: str | None = None
    morphology: str | None = None
    behaviour: str | None = None
    how: str = ""


def classify_condition(codes: list[str], names: list[str], concept_ids: list[str]) -> ConditionClass | None:
    """Classify one condition by its ICD-O-3 / ICD-10 codes, then by SNOMED (name) — first match wins."""
    for code in codes:
        m = ICDO3.match(code)
        if m:
            morphology, behaviour, site, sub = m.groups()
            topography = f"C{site}.{sub}"
            if behaviour == "6" and site == "77" and sub in REGIONAL_C77:
                return ConditionClass("regional", how=f"ICD-O-3 C77.{sub}/6 (regional nodes, not M)")
            if behaviour == "6":
                return ConditionClass("metastasis", topography, morphology, behaviour, "ICD-O-3 behaviour 6")
            kind = "breast" if topography.startswith(CODES.breast_topography) else "other"
            return ConditionClass(kind, topography, morphology, behaviour, "ICD-O-3")
    for code in codes:
        m = ICD10.match(code.replace(" ", ""))
        if not m:
            continue
        letter, number, sub = m.group(1).upper(), int(m.group(2)), m.group(3)
        if letter == "C":
            if f"C{number:02d}" == CODES.breast_topography:  # ICD-10 C50 is ICD-O-3's breast topography
                return ConditionClass("breast", f"{CODES.breast_topography}.{sub or 9}", None, INVASIVE, "ICD-10 C50")
            if number == 77 and sub in REGIONAL_C77:
                return ConditionClass("regional", how=f"ICD-10 C77.{sub} (regional nodes of the breast, not M)")
            if number in (77, 78, 79):
                return ConditionClass("metastasis", how=f"ICD-10 C{number}")
            if number in (80, 97):
                return ConditionClass("unknown_primary", how=f"ICD-10 C{number}")
            if 81 <= number <= 96:
                return ConditionClass("other", "C42.4", None, INVASIVE, "ICD-10 haematological malignancy")
            return ConditionClass("other", f"C{number:02d}.{sub or 9}", None, INVASIVE, "ICD-10")
        if number == 5:
            morphology = {"0": "8520", "1": "8500"}.get(sub or "")
            return ConditionClass("breast", BREAST_NOS, morphology, IN_SITU, "ICD-10 D05 (in situ)")
        if number <= 9:
            return ConditionClass("in_situ_other", how=f"ICD-10 D0{number}")
        return None
    if BREAST_CANCER_CODES & set(codes) or BREAST_CANCER_CONCEPTS & set(concept_ids):
        return ConditionClass("breast", BREAST_NOS, None, INVASIVE, "SNOMED/OMOP breast cancer concept")
    for raw in names:
        name = raw.lower()
        if any(w in name for w in ("history of", "screening", "suspected", "benign", "risk of", "fear of")):
            continue
        if "secondary" in name or "metasta" in name:
            if "axill" in name or "regional" in name:
                return ConditionClass("regional", how="regional lymph node metastasis (name)")
            return ConditionClass("metastasis", how="secondary malignant neoplasm (name)")
        breast = "breast" in name or "mammary" in name
        malignant = any(
            w in name
            for w in (
                "malignant",
                "carcinoma",
                "cancer",
                "sarcoma",
                "lymphoma",
                "leukemia",
                "leukaemia",
                "melanoma",
                "myeloma",
            )
        )
        if breast and "in situ" in name:
            morphology = "8520" if "lobular" in name else "8500" if "duct" in name else None
            return ConditionClass("breast", BREAST_NOS, morphology, IN_SITU, "breast carcinoma in situ (name)")
        if breast and malignant:
            morphology = "8520" if "lobular" in name else "8500" if "duct" in name else None
            return ConditionClass("breast", BREAST_NOS, morphology, INVASIVE, "malignant neoplasm of breast (name)")
        if malignant and "in situ" not in name:
            return ConditionClass("other", "C80.9", None, INVASIVE, "malignant neoplasm, site from name not coded")
    return None


def tumours(run: OmopImport, facts: pd.DataFrame) -> pd.DataFrame:
    """One tumour per primary (records of one primary merged), with its M category, basis and metastasis date."""
    if not run.src.has("condition_occurrence"):
        run.report.note("condition_occurrence is absent: no tumours; inc_invasive_breast_cancer fails for everyone.")
        return canonical_frame("tumours", [])
    co = run.src.frame("condition_occurrence", CONDITION_COLUMNS)
    co["date"] = date_column(
        co,
        "condition_start_date",
        table="condition_occurrence",
        problems=run.problems,
        required=True,
        id_column="condition_occurrence_id",
    )
    run.concepts.load(set(co["condition_concept_id"]) | set(co["condition_source_concept_id"]))
    classes: list[ConditionClass | None] = []
    for r in co.to_dict("records"):
        concept = run.concepts.get(r["condition_concept_id"])
        source_concept = run.concepts.get(r["condition_source_concept_id"])
        codes = [c for c in (r["condition_source_value"], source_concept.get("concept_code")) if c]
        if (concept.get("vocabulary_id") or "").upper().startswith(("ICDO", "ICD10")):
            codes.append(concept["concept_code"])
        names = [
            n
            for n in (concept.get("concept_name"), source_concept.get("concept_name"), r["condition_source_value"])
            if n
        ]
        ids = [i for i in (r["condition_concept_id"], r["condition_source_concept_id"]) if i]
        classes.append(classify_condition(codes, names, ids))
    co["class"] = classes
    co["kind"] = [c.kind if c else None for c in classes]
    reasons = {
        None: "not a cancer diagnosis",
        "regional": "regional (axillary) lymph node metastasis: not distant, not M",
        "unknown_primary": "malignancy of unknown primary site (C80/C97): not mapped to a primary",
        "in_situ_other": "carcinoma in situ of another site: not a malignancy for COSMO",
    }
    for kind, reason in reasons.items():
        n = int((co["kind"].isna() if kind is None else co["kind"] == kind).sum())
        run.report.drop("condition_occurrence", "tumours", reason, n)
    known = co["person_id"].isin(run.persons)
    run.report.drop(
        "condition_occurrence", "tumours", "person_id not in person", int((~known & co["kind"].notna()).sum())
    )
    co = co[known & co["kind"].isin(["breast", "other", "metastasis"]) & co["date"].notna()]

    tumours: list[dict] = []
    condition_to_tumour: dict[str, dict] = {}
    for (pid, kind), group in co[co["kind"].isin(["breast", "other"])].groupby(["person_id", "kind"], sort=True):
        if kind == "breast":
            keys = group["class"].map(lambda c: "invasive" if c.behaviour == INVASIVE else "in_situ")
        else:
            keys = group["class"].map(lambda c: c.topography[:3])
        for _, part in group.groupby(keys, sort=True):
            part = part.iloc[sorted(range(len(part)), key=lambda i: _record_order(part.iloc[i]))]
            coded = part[part["class"].map(lambda c: c.how == "ICD-O-3")]
            first = part.iloc[0]
            best = coded.iloc[0]["class"] if len(coded) else first["class"]
            tumour = {
                "tumour_id": _tumour_id(pid, first, best),
                "patient_id": pid,
                "diagnosis_date": first["date"],
                "topography": best.topography,
                "morphology": best.morphology or next((c.morphology for c in part["class"] if c.morphology), None),
                "behaviour": best.behaviour,
                "_breast": kind == "breast" and best.behaviour == INVASIVE,
            }
            tumours.append(tumour)
            for cid in part["condition_occurrence_id"]:
                if cid is not None:
                    condition_to_tumour[cid] = tumour
            run.report.drop(
                "condition_occurrence", "tumours", "another record of the same primary (merged)", len(part) - 1
            )
    breast_by_person = {t["patient_id"]: t for t in tumours if t["_breast"]}
    _tnm_and_basis(run, facts, condition_to_tumour, breast_by_person)
    metastases = co[co["kind"] == "metastasis"][["person_id", "date"]].assign(table="condition_occurrence")
    fact_mets = facts[facts["kind"] == "metastasis"][["person_id", "date", "table"]] if len(facts) else None
    _metastasis_dates(
        run, pd.concat([metastases, fact_mets]) if fact_mets is not None else metastases, breast_by_person
    )
    for t in tumours:
        t.pop("_breast")
    record_lineage(run.report, "tumours")
    run.report.note(
        "tumours: treatment_intent, chemotherapy, radiotherapy and last_treatment_date have no dependable OMOP "
        "source; they stay empty, so exc_other_malignancy is unknown for patients with another primary."
    )
    return canonical_frame("tumours", tumours)


def _record_order(record: pd.Series) -> tuple:
    """The order of the records of one primary: the earliest first; on one day the lowest condition_occurrence_id
    (as a number when it is one), a record without one last, then by the record's values (the rows' order in the
    source never decides)."""
    cid = record["condition_occurrence_id"]
    number = to_int(cid) if cid is not None else None
    rank = (0, number, "") if number is not None else (1, 0, cid) if cid is not None else (2, 0, "")
    return (record["date"], rank, *("" if record[c] is None else str(record[c]) for c in CONDITION_COLUMNS))


def _tumour_id(pid: str, first: pd.Series, best: ConditionClass) -> str:
    """`<person_id>-co<condition_occurrence_id>` of the primary's first record; without that id, the person, the
    primary's topography and behaviour and its diagnosis date (`3-C50.9/3-2019-04-01`): no row number."""
    if first["condition_occurrence_id"] is not None:
        return f"{pid}-co{first['condition_occurrence_id']}"
    return f"{pid}-{best.topography}/{best.behaviour}-{first['date'].isoformat()}"


# Most valid first (data-model.md: tumours.basis_of_diagnosis is the most valid basis).
BASIS_RANK = ("histology_primary", "histology_metastasis", "cytology", "clinical", "death_certificate", "unknown")


def _tnm_and_basis(
    run: OmopImport, facts: pd.DataFrame, by_condition: dict[str, dict], breast: dict[str, dict]
) -> None:
    """The M category and basis of diagnosis of the tumour each fact is linked to (else the breast primary)."""
    if not len(facts):
        return
    order = {"M1": 2, "M0": 1, "MX": 0}
    for r in facts[facts["kind"].isin(["tnm_m", "basis", "negative_metastasis", "regional"])].to_dict("records"):
        if r["kind"] in ("negative_metastasis", "regional"):
            reason = (
                "metastasis recorded as absent"
                if r["kind"] == "negative_metastasis"
                else "regional lymph node metastasis: not distant"
            )
            run.report.drop(r["table"], "tumours", reason)
            continue
        linked = r["event_id"] is not None and (r["event_field"] in (None, CONDITION_OCCURRENCE_FIELD))
        tumour = by_condition.get(r["event_id"]) if linked else None
        if tumour is None and not linked:
            tumour = breast.get(r["person_id"])
        if tumour is None:
            run.report.drop(
                r["table"], "tumours", f"{r['kind']} for no mapped tumour (linked condition or breast primary)"
            )
            continue
        if r["kind"] == "basis":  # several records: the most valid basis any gives
            kept = tumour.get("basis_of_diagnosis")
            if r["value"] and (kept is None or BASIS_RANK.index(r["value"]) < BASIS_RANK.index(kept)):
                tumour["basis_of_diagnosis"] = r["value"]
            continue
        near = r["date"] is not None and -31 <= (r["date"] - tumour["diagnosis_date"]).days <= 120
        if linked or near:
            if order[r["value"]] > order.get(tumour.get("tnm_m") or "", -1):
                tumour["tnm_m"] = r["value"]
        elif r["value"] == "M1" and r["date"] is not None:
            tumour["_later_m1"] = min(r["date"], tumour.get("_later_m1", r["date"]))
        else:
            run.report.drop(r["table"], "tumours", "M category recorded long after diagnosis (not 'at diagnosis')")


def _metastasis_dates(run: OmopImport, events: pd.DataFrame, breast: dict[str, dict]) -> None:
    """Each breast primary's metastasis date: the earliest evidence, never before its diagnosis."""
    for tumour in breast.values():
        candidates = [tumour.pop("_later_m1")] if "_later_m1" in tumour else []
        if tumour.get("tnm_m") == "M1":
            candidates.append(tumour["diagnosis_date"])
        tumour["_candidates"] = candidates
    for r in events.to_dict("records"):
        tumour = breast.get(r["person_id"])
        if tumour is None:
            run.report.drop(r["table"], "tumours", "metastasis of a person with no breast primary")
            continue
        if r["date"] is None:
            continue
        if (r["date"] - tumour["diagnosis_date"]).days < -31:
            run.report.drop(r["table"], "tumours", "metastasis dated more than a month before the breast diagnosis")
            continue
        tumour["_candidates"].append(max(r["date"], tumour["diagnosis_date"]))
    for tumour in breast.values():
        candidates = tumour.pop("_candidates")
        tumour["metastasis_date"] = min(candidates) if candidates else None
