"""OMOP CDM v5.4 (with the OHDSI Oncology extension) → the canonical extract: every concept choice lives here.

docs/importers.md lists each choice with its reason. Codes are matched through
the `concept` table when the source has it (by vocabulary code, class and
name), and otherwise through the source values (`*_source_value`), so a CDM
exported without its vocabulary still imports. The few concept ids used
directly are OMOP metadata or Oncology-extension concepts that a vocabulary
export may lack.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from oligo_cohort.errors import InputError
from oligo_cohort.importers.common import (
    ANTINEOPLASTIC_ATC_PREFIXES,
    ROW,
    DrugMatcher,
    SourceProblems,
    add_days,
    canonical_frame,
    date_column,
    looks_like_atc,
    to_int,
)
from oligo_cohort.importers.extract import ImportResult, finish_import
from oligo_cohort.importers.omop import OmopSource, open_omop
from oligo_cohort.importers.report import MappingReport

# --- concept choices ---------------------------------------------------------------------------------------------

GENDER_CONCEPTS = {"8532": "F", "8507": "M"}  # OMOP Gender vocabulary: FEMALE, MALE
GENDER_SOURCE_VALUES = {"f": "F", "female": "F", "v": "F", "vrouw": "F", "2": "F", "m": "M", "male": "M", "man": "M"}

# Metadata concepts naming the table/field a modifier or episode event points at.
CONDITION_OCCURRENCE_FIELD = "1147127"  # condition_occurrence.condition_occurrence_id
DRUG_EXPOSURE_FIELD = "1147094"  # drug_exposure.drug_exposure_id

ECOG_LOINC = "89247-1"  # ECOG Performance Status score
KARNOFSKY_LOINC = "89243-0"  # Karnofsky Performance Status score
ECOG_ANSWERS = {"LA9622-7": 0, "LA9623-5": 1, "LA9624-3": 2, "LA9625-0": 3, "LA9626-8": 4, "LA9627-6": 5}

# Oncology extension disease-status (disease dynamic) concepts.
DISEASE_STATUS_CONCEPTS = {"32946": "CR", "32947": "PR", "32948": "SD", "32949": "PD"}
TREATMENT_REGIMEN_EPISODE = "32531"

# Breast cancer concepts matched directly when the source has no concept table (else matched by name).
BREAST_CANCER_CODES = {"254837009"}  # SNOMED CT: malignant neoplasm of breast (the Synthea code)
BREAST_CANCER_CONCEPTS = {"4112853"}  # OMOP: malignant tumor of breast

# NAACCR item 490 "Diagnostic Confirmation" → basis_of_diagnosis.
NAACCR_490 = {
    "1": "histology_primary",  # positive histology (of the primary or a metastasis: both pass)
    "2": "cytology",
    "3": "histology_primary",  # histology plus immunophenotyping / genetics
    "4": "unknown",  # microscopic confirmation, method not specified: histology or cytology?
    "5": "clinical",  # positive laboratory test or marker
    "6": "clinical",  # direct visualisation
    "7": "clinical",  # radiography / imaging
    "8": "clinical",  # clinical diagnosis only
    "9": "unknown",
}

# Lymph nodes regional to the breast (TNM N, not M): supraclavicular/head-neck C77.0, intrathoracic
# (internal mammary) C77.1, axillary C77.3.
REGIONAL_C77 = ("0", "1", "3")

ICDO3 = re.compile(r"^(\d{4})/(\d)-C(\d{2})\.?(\d)$", re.IGNORECASE)
ICD10 = re.compile(r"^([CD])(\d{2})(?:\.?(\d)[0-9A-Z]*)?$", re.IGNORECASE)
M_CODE = re.compile(r"^[cpyr]{0,2}\s*M\s*([01X])(?:[abcd]|\(i\+\)|\s*\(i\+\))?$", re.IGNORECASE)
M_IN_TEXT = re.compile(r"(?:^|[-_/ ])[cpyr]{0,2}M([01X])(?:[abcd]|\(i\+\))?(?:$|[-_/ ])", re.IGNORECASE)
RESPONSE_WORDS = (
    (re.compile(r"complete (response|remission)", re.I), "CR"),
    (re.compile(r"partial (response|remission)", re.I), "PR"),
    (re.compile(r"stable disease", re.I), "SD"),
    (re.compile(r"progressi(ve disease|on)", re.I), "PD"),
    (re.compile(r"not evaluable", re.I), "NE"),
)
_ONCOLOGY_FACT = re.compile(
    rf"{re.escape(ECOG_LOINC)}|{re.escape(KARNOFSKY_LOINC)}|ecog|karnofsky|performance|respon|recist|disease status|"
    r"disease dynamic|(?:^|\s)490@|diagnostic confirmation|m category|metasta|tnm|ajcc|uicc",
    re.IGNORECASE,
)
RESPONSE_CODES = {"CR": "CR", "PR": "PR", "SD": "SD", "PD": "PD", "NE": "NE"}


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
            kind = "breast" if site == "50" else "other"
            return ConditionClass(kind, topography, morphology, behaviour, "ICD-O-3")
    for code in codes:
        m = ICD10.match(code.replace(" ", ""))
        if not m:
            continue
        letter, number, sub = m.group(1).upper(), int(m.group(2)), m.group(3)
        if letter == "C":
            if number == 50:
                return ConditionClass("breast", f"C50.{sub or 9}", None, "3", "ICD-10 C50")
            if number == 77 and sub in REGIONAL_C77:
                return ConditionClass("regional", how=f"ICD-10 C77.{sub} (regional nodes of the breast, not M)")
            if number in (77, 78, 79):
                return ConditionClass("metastasis", how=f"ICD-10 C{number}")
            if number in (80, 97):
                return ConditionClass("unknown_primary", how=f"ICD-10 C{number}")
            if 81 <= number <= 96:
                return ConditionClass("other", "C42.4", None, "3", "ICD-10 haematological malignancy")
            return ConditionClass("other", f"C{number:02d}.{sub or 9}", None, "3", "ICD-10")
        if number == 5:
            morphology = {"0": "8520", "1": "8500"}.get(sub or "")
            return ConditionClass("breast", "C50.9", morphology, "2", "ICD-10 D05 (in situ)")
        if number <= 9:
            return ConditionClass("in_situ_other", how=f"ICD-10 D0{number}")
        return None
    if BREAST_CANCER_CODES & set(codes) or BREAST_CANCER_CONCEPTS & set(concept_ids):
        return ConditionClass("breast", "C50.9", None, "3", "SNOMED/OMOP breast cancer concept")
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
            return ConditionClass("breast", "C50.9", morphology, "2", "breast carcinoma in situ (name)")
        if breast and malignant:
            morphology = "8520" if "lobular" in name else "8500" if "duct" in name else None
            return ConditionClass("breast", "C50.9", morphology, "3", "malignant neoplasm of breast (name)")
        if malignant and "in situ" not in name:
            return ConditionClass("other", "C80.9", None, "3", "malignant neoplasm, site from name not coded")
    return None


def m_category(texts: list[str], *, tnm_context: bool) -> str | None:
    """`M0`/`M1`/`MX` from a Cancer Modifier code, name or source value (cM0(i+) is M0)."""
    for text in texts:
        if M_CODE.match(text.strip()):
            return "M" + M_CODE.match(text.strip()).group(1).upper()  # type: ignore[union-attr]
        if tnm_context or re.search(r"AJCC|UICC|TNM", text, re.I):
            m = M_IN_TEXT.search(text)
            if m:
                return "M" + m.group(1).upper()
    return None


def response_of(texts: list[str]) -> str | None:
    for text in texts:
        code = RESPONSE_CODES.get(text.strip().upper())
        if code:
            return code
        for pattern, value in RESPONSE_WORDS:
            if pattern.search(text):
                return value
    return None


# --- the adapter -------------------------------------------------------------------------------------------------


class _Concepts:
    """concept rows by id (text), loaded on demand."""

    def __init__(self, source: OmopSource) -> None:
        self.source = source
        self.rows: dict[str, dict[str, str | None]] = {}

    def load(self, ids) -> None:
        wanted = {str(i) for i in ids if i is not None} - set(self.rows)
        if not wanted:
            return
        for record in self.source.concepts(wanted).to_dict("records"):
            self.rows[str(record["concept_id"])] = record
        for key in wanted:
            self.rows.setdefault(key, {})

    def get(self, concept_id: object) -> dict[str, str | None]:
        return self.rows.get(str(concept_id), {}) if concept_id is not None else {}


def import_omop(source: str | Path, *, imaging: str | Path | None = None, gap_days: int = 60) -> ImportResult:
    """Map an OMOP CDM v5.4 source to a canonical extract (validated), with its mapping report."""
    problems = SourceProblems()
    src = open_omop(source, problems)
    try:
        report = MappingReport("OMOP CDM v5.4", src.origin)
        for table in src.columns:
            report.read(table, src.count(table))
        if problems:
            raise InputError(problems.items)
        adapter = _OmopAdapter(src, report, problems, gap_days)
        frames = adapter.run()
        if problems:
            raise InputError(problems.items)
    finally:
        src.close()
    return finish_import(frames, report, imaging)


class _OmopAdapter:
    def __init__(self, src: OmopSource, report: MappingReport, problems: SourceProblems, gap_days: int) -> None:
        self.src = src
        self.report = report
        self.problems = problems
        self.gap_days = gap_days
        self.concepts = _Concepts(src)
        self.matcher = DrugMatcher()
        self.persons: set[str] = set()

    def run(self) -> dict[str, pd.DataFrame]:
        patients = self.patients()
        facts = self.facts()
        tumours = self.tumours(facts)
        frames = {"patients": patients, "tumours": tumours, "systemic_therapy": self.systemic_therapy()}
        if self.src.has("measurement") or self.src.has("observation"):
            frames["performance_status"] = self.performance_status(facts)
        if self.src.has("measurement") or self.src.has("observation") or self.src.has("episode"):
            frames["response_assessments"] = self.responses(facts)
        self.report.note(
            "observations (pregnancy, breastfeeding, amenability to local therapy, informed consent) have no "
            "OMOP source here: the table is not written."
        )
        return frames

    # --- persons -------------------------------------------------------------------------------------------------

    def patients(self) -> pd.DataFrame:
        person = self.src.frame(
            "person",
            [
                "person_id",
                "year_of_birth",
                "month_of_birth",
                "day_of_birth",
                "birth_datetime",
                "gender_concept_id",
                "gender_source_value",
                "care_site_id",
                "location_id",
            ],
        )
        births = date_column(person, "birth_datetime", table="person", problems=self.problems, id_column="person_id")
        sites = self._sites()
        deaths = self._deaths()
        rows = []
        approximate = 0
        seen: set[str] = set()
        for i, record in enumerate(person.to_dict("records")):
            pid = record["person_id"]
            if pid is None:
                self.problems.add("person", "person_id", record[ROW], None, "person_id is missing")
                continue
            if pid in seen:
                self.problems.add("person", "person_id", record[ROW], pid, "person_id is not unique", pid)
                continue
            seen.add(pid)
            birth = births[i]
            if birth is None and record["year_of_birth"] is not None:
                birth, exact = self._birth_from_parts(record)
                approximate += 0 if exact else 1
            sex = GENDER_CONCEPTS.get(record["gender_concept_id"] or "") or GENDER_SOURCE_VALUES.get(
                (record["gender_source_value"] or "").strip().lower(), "U"
            )
            site = sites.get(("care_site", record["care_site_id"])) or sites.get(("location", record["location_id"]))
            rows.append(
                {
                    "patient_id": pid,
                    "site_id": site or "unknown",
                    "birth_date": birth,
                    "sex": sex,
                    "death_date": deaths.get(pid),
                }
            )
        self.persons = seen
        if approximate:
            self.report.note(
                f"birth_date: {approximate} person(s) have no full birth date; the last possible day of the known "
                "year (or month) is used, so age is never overestimated (inc_age_18 cannot pass wrongly)."
            )
        unknown_sites = sum(1 for r in rows if r["site_id"] == "unknown")
        if unknown_sites:
            self.report.note(f"site_id: {unknown_sites} person(s) have no care site or location; site_id is 'unknown'.")
        self.report.source_of("patients", "patient_id", "person.person_id")
        self.report.source_of(
            "patients",
            "site_id",
            "person.care_site_id → care_site.care_site_source_value (else care_site_name, else the id); "
            "else person.location_id → location.location_source_value (else city)",
        )
        self.report.source_of(
            "patients", "birth_date", "person.birth_datetime, else year/month/day_of_birth (last possible day)"
        )
        self.report.source_of("patients", "sex", "person.gender_concept_id (8532 F, 8507 M), else gender_source_value")
        self.report.source_of("patients", "death_date", "death.death_date (earliest per person)")
        return canonical_frame("patients", rows)

    def _birth_from_parts(self, record: dict) -> tuple[dt.date | None, bool]:
        year = to_int(record["year_of_birth"])
        if year is None or not 1850 <= year <= 2100:
            self.problems.add(
                "person", "year_of_birth", record[ROW], record["year_of_birth"], "not a year", record["person_id"]
            )
            return None, True
        month, day = to_int(record["month_of_birth"]), to_int(record["day_of_birth"])
        if month is None or not 1 <= month <= 12:
            return dt.date(year, 12, 31), False
        last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        if day is None or not 1 <= day <= last:
            return dt.date(year, month, last), False
        return dt.date(year, month, day), True

    def _sites(self) -> dict[tuple[str, str | None], str]:
        sites: dict[tuple[str, str | None], str] = {}
        if self.src.has("care_site"):
            care = self.src.frame("care_site", ["care_site_id", "care_site_source_value", "care_site_name"])
            for r in care.to_dict("records"):
                sites[("care_site", r["care_site_id"])] = (
                    r["care_site_source_value"] or r["care_site_name"] or r["care_site_id"]
                )
        if self.src.has("location"):
            loc = self.src.frame("location", ["location_id", "location_source_value", "city"])
            for r in loc.to_dict("records"):
                sites[("location", r["location_id"])] = r["location_source_value"] or r["city"] or r["location_id"]
        return sites

    def _deaths(self) -> dict[str, dt.date]:
        if not self.src.has("death"):
            self.report.note("death: no death table; death_date is empty.")
            return {}
        death = self.src.frame("death", ["person_id", "death_date"])
        dates = date_column(
            death, "death_date", table="death", problems=self.problems, required=True, id_column="person_id"
        )
        out: dict[str, dt.date] = {}
        for pid, day in zip(death["person_id"], dates, strict=True):
            if day is not None and pid is not None:
                out[pid] = min(day, out.get(pid, day))
        return out

    def _known_person(self, table: str, pid: str | None, target: str) -> bool:
        if pid in self.persons:
            return True
        self.report.drop(table, target, "person_id not in person")
        return False

    # --- measurement + observation -------------------------------------------------------------------------------

    def facts(self) -> pd.DataFrame:
        """measurement and observation rows in one frame, each classified (PS, response, M, metastasis, basis)."""
        parts = []
        if self.src.has("measurement"):
            m = self.src.frame(
                "measurement",
                [
                    "measurement_id",
                    "person_id",
                    "measurement_concept_id",
                    "measurement_date",
                    "value_as_number",
                    "value_as_concept_id",
                    "measurement_source_value",
                    "measurement_source_concept_id",
                    "value_source_value",
                    "measurement_event_id",
                    "meas_event_field_concept_id",
                    "modifier_of_event_id",
                    "modifier_of_field_concept_id",
                ],
            )
            m["date"] = date_column(m, "measurement_date", table="measurement", problems=self.problems, required=True)
            parts.append(
                pd.DataFrame(
                    {
                        "table": "measurement",
                        "row": m[ROW],
                        "person_id": m["person_id"],
                        "date": m["date"],
                        "concept_id": m["measurement_concept_id"],
                        "source_concept_id": m["measurement_source_concept_id"],
                        "source_value": m["measurement_source_value"],
                        "value_number": m["value_as_number"],
                        "value_concept_id": m["value_as_concept_id"],
                        "value_text": m["value_source_value"],
                        "event_id": m["measurement_event_id"].where(
                            m["measurement_event_id"].notna(), m["modifier_of_event_id"]
                        ),
                        "event_field": m["meas_event_field_concept_id"].where(
                            m["meas_event_field_concept_id"].notna(), m["modifier_of_field_concept_id"]
                        ),
                    }
                )
            )
        if self.src.has("observation"):
            o = self.src.frame(
                "observation",
                [
                    "observation_id",
                    "person_id",
                    "observation_concept_id",
                    "observation_date",
                    "value_as_number",
                    "value_as_string",
                    "value_as_concept_id",
                    "observation_source_value",
                    "observation_source_concept_id",
                    "value_source_value",
                    "observation_event_id",
                    "obs_event_field_concept_id",
                ],
            )
            o["date"] = date_column(o, "observation_date", table="observation", problems=self.problems, required=True)
            parts.append(
                pd.DataFrame(
                    {
                        "table": "observation",
                        "row": o[ROW],
                        "person_id": o["person_id"],
                        "date": o["date"],
                        "concept_id": o["observation_concept_id"],
                        "source_concept_id": o["observation_source_concept_id"],
                        "source_value": o["observation_source_value"],
                        "value_number": o["value_as_number"],
                        "value_concept_id": o["value_as_concept_id"],
                        "value_text": o["value_source_value"].where(
                            o["value_source_value"].notna(), o["value_as_string"]
                        ),
                        "event_id": o["observation_event_id"],
                        "event_field": o["obs_event_field_concept_id"],
                    }
                )
            )
        if not parts:
            return pd.DataFrame(columns=["table", "row", "person_id", "date", "kind", "value"])
        facts = pd.concat(parts, ignore_index=True).astype(object)
        facts = facts.where(facts.notna(), None)
        self.concepts.load(set(facts["concept_id"]) | set(facts["source_concept_id"]) | set(facts["value_concept_id"]))
        kinds, values = [], []
        relevant: dict[tuple, bool] = {}
        for record in facts.to_dict("records"):
            key = (
                record["concept_id"],
                record["source_concept_id"],
                record["source_value"],
                record["value_concept_id"],
            )
            if key not in relevant:  # most rows (vital signs, labs) are ruled out once per distinct code
                relevant[key] = self._may_be_oncology_fact(record)
            kind, value = self._classify_fact(record) if relevant[key] else (None, None)
            kinds.append(kind)
            values.append(value)
        facts["kind"] = kinds
        facts["value"] = values
        for (table, kind), n in facts.groupby(["table", facts["kind"].fillna("")]).size().items():
            if not kind:
                self.report.drop(
                    table,
                    "-",
                    "not a performance status, response, TNM M, metastasis or basis-of-diagnosis record",
                    int(n),
                )
        return facts

    def _may_be_oncology_fact(self, r: dict) -> bool:
        if r["concept_id"] in DISEASE_STATUS_CONCEPTS or r["value_concept_id"] in DISEASE_STATUS_CONCEPTS:
            return True
        concept = self.concepts.get(r["concept_id"])
        if (concept.get("vocabulary_id") or "").lower() == "cancer modifier":
            return True
        source_concept = self.concepts.get(r["source_concept_id"])
        texts = [
            concept.get("concept_code"),
            concept.get("concept_name"),
            source_concept.get("concept_code"),
            source_concept.get("concept_name"),
            r["source_value"],
        ]
        text = " ".join(t for t in texts if t)
        return bool(_ONCOLOGY_FACT.search(text) or M_CODE.match(r["source_value"] or ""))

    def _classify_fact(self, r: dict) -> tuple[str | None, object]:
        concept = self.concepts.get(r["concept_id"])
        source_concept = self.concepts.get(r["source_concept_id"])
        value_concept = self.concepts.get(r["value_concept_id"])
        codes = [c for c in (concept.get("concept_code"), source_concept.get("concept_code"), r["source_value"]) if c]
        names = [n for n in (concept.get("concept_name"), source_concept.get("concept_name")) if n]
        texts = codes + names
        lowered = " ".join(texts).lower()
        # Performance status (LOINC 89247-1 ECOG, 89243-0 Karnofsky; WHO by name).
        scale = None
        if ECOG_LOINC in codes or "ecog" in lowered:
            scale = "ECOG"
        elif KARNOFSKY_LOINC in codes or "karnofsky" in lowered:
            scale = "KPS"
        elif re.search(r"\bwho\b.*performance|performance status", lowered):
            scale = "WHO"
        if scale:
            return "performance_status", (scale, self._score(r, value_concept))
        # Disease response.
        status = DISEASE_STATUS_CONCEPTS.get(r["concept_id"] or "") or DISEASE_STATUS_CONCEPTS.get(
            r["value_concept_id"] or ""
        )
        if status:
            return "response", status
        if re.search(r"response|recist|disease status|disease dynamic", lowered):
            found = response_of(
                [
                    x
                    for x in (value_concept.get("concept_name"), value_concept.get("concept_code"), r["value_text"])
                    if x
                ]
            )
            if found:
                return "response", found
        # Basis of diagnosis (NAACCR item 490).
        for code in codes:
            m = re.match(r"^490@(\d)$", code)
            if m:
                return "basis", NAACCR_490.get(m.group(1))
        if "diagnostic confirmation" in lowered:
            digit = next(
                (x for x in (value_concept.get("concept_code"), r["value_text"], r["value_number"]) if x), None
            )
            basis = NAACCR_490.get(str(to_int(str(digit).split("@")[-1]) if digit else ""))
            if basis:
                return "basis", basis
        # TNM M category (Cancer Modifier, or a plain source value such as cM1).
        is_modifier = (concept.get("vocabulary_id") or "").lower() == "cancer modifier"
        tnm_context = bool(re.search(r"\bm category|distant metastas[ie]s \(m\)|tnm m\b", lowered))
        m = m_category(codes + names, tnm_context=is_modifier)
        if m is None and tnm_context:
            m = m_category(
                [
                    x
                    for x in (value_concept.get("concept_code"), value_concept.get("concept_name"), r["value_text"])
                    if x
                ],
                tnm_context=True,
            )
        if m:
            return "tnm_m", m
        # Metastasis (Cancer Modifier class "Metastasis", or a "metastasis to ..." record).
        klass = (concept.get("concept_class_id") or "").lower()
        if klass == "metastasis" or re.search(r"metasta", lowered):
            if re.search(r"axill|regional|lymph node", lowered) and "distant" not in lowered:
                return "regional", None
            negative = (r["value_text"] or "").strip().lower() in ("0", "no", "absent", "negative", "false")
            if negative or to_int(r["value_number"]) == 0:
                return "negative_metastasis", None
            return "metastasis", None
        return None, None

    @staticmethod
    def _score(r: dict, value_concept: dict) -> int | None:
        number = r["value_number"]
        if number is not None:
            try:
                value = float(number)
                return int(value) if value == int(value) else None
            except ValueError:
                pass
        code = value_concept.get("concept_code")
        if code in ECOG_ANSWERS:
            return ECOG_ANSWERS[code]
        for text in (value_concept.get("concept_name"), r["value_text"]):
            if text:
                m = re.search(r"\d+", text)
                if m:
                    return int(m.group(0))
        return None

    # --- tumours -------------------------------------------------------------------------------------------------

    def tumours(self, facts: pd.DataFrame) -> pd.DataFrame:
        if not self.src.has("condition_occurrence"):
            self.report.note(
                "condition_occurrence is absent: no tumours; inc_invasive_breast_cancer fails for everyone."
            )
            return canonical_frame("tumours", [])
        co = self.src.frame(
            "condition_occurrence",
            [
                "condition_occurrence_id",
                "person_id",
                "condition_concept_id",
                "condition_start_date",
                "condition_source_value",
                "condition_source_concept_id",
            ],
        )
        co["date"] = date_column(
            co,
            "condition_start_date",
            table="condition_occurrence",
            problems=self.problems,
            required=True,
            id_column="condition_occurrence_id",
        )
        self.concepts.load(set(co["condition_concept_id"]) | set(co["condition_source_concept_id"]))
        classes: list[ConditionClass | None] = []
        for r in co.to_dict("records"):
            concept = self.concepts.get(r["condition_concept_id"])
            source_concept = self.concepts.get(r["condition_source_concept_id"])
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
            self.report.drop("condition_occurrence", "tumours", reason, n)
        known = co["person_id"].isin(self.persons)
        self.report.drop(
            "condition_occurrence", "tumours", "person_id not in person", int((~known & co["kind"].notna()).sum())
        )
        co = co[known & co["kind"].isin(["breast", "other", "metastasis"]) & co["date"].notna()]

        tumours: list[dict] = []
        condition_to_tumour: dict[str, dict] = {}
        for (pid, kind), group in co[co["kind"].isin(["breast", "other"])].groupby(["person_id", "kind"], sort=True):
            if kind == "breast":
                keys = group["class"].map(lambda c: "invasive" if c.behaviour == "3" else "in_situ")
            else:
                keys = group["class"].map(lambda c: c.topography[:3])
            for _, part in group.groupby(keys, sort=True):
                part = part.sort_values(["date", ROW])
                coded = part[part["class"].map(lambda c: c.how == "ICD-O-3")]
                first = part.iloc[0]
                best = coded.iloc[0]["class"] if len(coded) else first["class"]
                tumour = {
                    "tumour_id": f"{pid}-co{first['condition_occurrence_id'] or first[ROW]}",
                    "patient_id": pid,
                    "diagnosis_date": first["date"],
                    "topography": best.topography,
                    "morphology": best.morphology or next((c.morphology for c in part["class"] if c.morphology), None),
                    "behaviour": best.behaviour,
                    "_breast": kind == "breast" and best.behaviour == "3",
                }
                tumours.append(tumour)
                for cid in part["condition_occurrence_id"]:
                    if cid is not None:
                        condition_to_tumour[cid] = tumour
                self.report.drop(
                    "condition_occurrence", "tumours", "another record of the same primary (merged)", len(part) - 1
                )
        breast_by_person = {t["patient_id"]: t for t in tumours if t["_breast"]}
        self._tnm_and_basis(facts, condition_to_tumour, breast_by_person)
        metastases = co[co["kind"] == "metastasis"][["person_id", "date"]].assign(table="condition_occurrence")
        fact_mets = facts[facts["kind"] == "metastasis"][["person_id", "date", "table"]] if len(facts) else None
        self._metastasis_dates(
            pd.concat([metastases, fact_mets]) if fact_mets is not None else metastases, breast_by_person
        )
        for t in tumours:
            t.pop("_breast")
        self._tumour_lineage()
        return canonical_frame("tumours", tumours)

    def _tnm_and_basis(self, facts: pd.DataFrame, by_condition: dict[str, dict], breast: dict[str, dict]) -> None:
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
                self.report.drop(r["table"], "tumours", reason)
                continue
            linked = r["event_id"] is not None and (r["event_field"] in (None, CONDITION_OCCURRENCE_FIELD))
            tumour = by_condition.get(r["event_id"]) if linked else None
            if tumour is None and not linked:
                tumour = breast.get(r["person_id"])
            if tumour is None:
                self.report.drop(
                    r["table"], "tumours", f"{r['kind']} for no mapped tumour (linked condition or breast primary)"
                )
                continue
            if r["kind"] == "basis":
                if r["value"] and tumour.get("basis_of_diagnosis") in (None, "unknown"):
                    tumour["basis_of_diagnosis"] = r["value"]
                continue
            near = r["date"] is not None and -31 <= (r["date"] - tumour["diagnosis_date"]).days <= 120
            if linked or near:
                if order[r["value"]] > order.get(tumour.get("tnm_m") or "", -1):
                    tumour["tnm_m"] = r["value"]
            elif r["value"] == "M1" and r["date"] is not None:
                tumour["_later_m1"] = min(r["date"], tumour.get("_later_m1", r["date"]))
            else:
                self.report.drop(r["table"], "tumours", "M category recorded long after diagnosis (not 'at diagnosis')")

    def _metastasis_dates(self, events: pd.DataFrame, breast: dict[str, dict]) -> None:
        for tumour in breast.values():
            candidates = [tumour.pop("_later_m1")] if "_later_m1" in tumour else []
            if tumour.get("tnm_m") == "M1":
                candidates.append(tumour["diagnosis_date"])
            tumour["_candidates"] = candidates
        for r in events.to_dict("records"):
            tumour = breast.get(r["person_id"])
            if tumour is None:
                self.report.drop(r["table"], "tumours", "metastasis of a person with no breast primary")
                continue
            if r["date"] is None:
                continue
            if (r["date"] - tumour["diagnosis_date"]).days < -31:
                self.report.drop(
                    r["table"], "tumours", "metastasis dated more than a month before the breast diagnosis"
                )
                continue
            tumour["_candidates"].append(max(r["date"], tumour["diagnosis_date"]))
        for tumour in breast.values():
            candidates = tumour.pop("_candidates")
            tumour["metastasis_date"] = min(candidates) if candidates else None

    def _tumour_lineage(self) -> None:
        s = self.report.source_of
        s("tumours", "tumour_id", "person_id + '-co' + condition_occurrence_id of the earliest record of the primary")
        s("tumours", "patient_id", "condition_occurrence.person_id")
        s("tumours", "diagnosis_date", "condition_occurrence.condition_start_date (earliest record of the primary)")
        s(
            "tumours",
            "topography",
            "ICD-O-3 site of condition_source_value / source concept code (8500/3-C50.9); ICD-10 code; C50.9 for SNOMED breast cancer; C80.9 for other malignancies named without a code",
        )
        s("tumours", "morphology", "ICD-O-3 histology; D05.0 → 8520, D05.1 → 8500; 'lobular'/'duct' in a SNOMED name")
        s("tumours", "behaviour", "ICD-O-3 behaviour; ICD-10 C → 3, D05 → 2; SNOMED malignant → 3, in situ → 2")
        s(
            "tumours",
            "basis_of_diagnosis",
            "measurement/observation NAACCR item 490 (Diagnostic Confirmation, codes 490@1..9)",
        )
        s(
            "tumours",
            "tnm_m",
            "measurement Cancer Modifier M category linked by measurement_event_id + meas_event_field_concept_id 1147127 "
            "(or modifier_of_event_id), or unlinked within -31..+120 days of diagnosis; source values cM0/cM1/pM1/MX",
        )
        s(
            "tumours",
            "metastasis_date",
            "earliest of: Metastasis measurements (Cancer Modifier class Metastasis / 'metastasis to ...'), "
            "secondary malignant neoplasm conditions (ICD-10 C77-C79 except regional nodes C77.0/.1/.3, ICD-O-3 /6, SNOMED 'secondary'), "
            "a later M1 modifier, the diagnosis date when M1",
        )
        self.report.note(
            "tumours: treatment_intent, chemotherapy, radiotherapy and last_treatment_date have no dependable OMOP "
            "source; they stay empty, so exc_other_malignancy is unknown for patients with another primary."
        )

    # --- drugs ---------------------------------------------------------------------------------------------------

    def systemic_therapy(self) -> pd.DataFrame:
        s = self.report.source_of
        s(
            "systemic_therapy",
            "drug",
            "drug_exposure.drug_concept_id → concept_ancestor Ingredient (RxNorm) name, else concept name, "
            "else drug_source_value (name, alias or ATC); matched to drugs.csv / drug_aliases.csv",
        )
        s("systemic_therapy", "patient_id", "drug_exposure.person_id")
        s("systemic_therapy", "start_date", "drug_exposure_start_date (first exposure of the episode)")
        s(
            "systemic_therapy",
            "end_date",
            f"drug_exposure_end_date, else start + days_supply - 1, else start (last exposure of the episode); "
            f"empty (ongoing) when within {self.gap_days} days of the person's data end",
        )
        s("systemic_therapy", "setting", "episode (Treatment Regimen) linked by episode_event; else unknown")
        if not self.src.has("drug_exposure"):
            self.report.note("drug_exposure is absent: systemic_therapy is empty (no line of therapy).")
            return canonical_frame("systemic_therapy", [])
        de = self.src.frame(
            "drug_exposure",
            [
                "drug_exposure_id",
                "person_id",
                "drug_concept_id",
                "drug_exposure_start_date",
                "drug_exposure_end_date",
                "days_supply",
                "drug_source_value",
                "drug_source_concept_id",
            ],
        )
        de["start"] = date_column(
            de,
            "drug_exposure_start_date",
            table="drug_exposure",
            problems=self.problems,
            required=True,
            id_column="drug_exposure_id",
        )
        de["end"] = date_column(
            de, "drug_exposure_end_date", table="drug_exposure", problems=self.problems, id_column="drug_exposure_id"
        )
        resolved = self._resolve_drugs(de)
        settings = self._settings()
        data_end = self._data_end(de)
        exposures: list[dict] = []
        for r, drugs in zip(de.to_dict("records"), resolved, strict=True):
            if not self._known_person("drug_exposure", r["person_id"], "systemic_therapy"):
                continue
            if isinstance(drugs, str):
                self.report.drop("drug_exposure", "systemic_therapy", drugs)
                continue
            if r["start"] is None:
                continue
            end = r["end"]
            if end is None:
                supply = to_int(r["days_supply"])
                end = add_days(r["start"], supply - 1) if supply and supply > 0 else r["start"]
            if end < r["start"]:
                self.problems.add(
                    "drug_exposure",
                    "drug_exposure_end_date",
                    r[ROW],
                    r["drug_exposure_end_date"],
                    "end date before the start date",
                    r["drug_exposure_id"],
                )
                continue
            for drug in drugs:
                exposures.append(
                    {
                        "patient_id": r["person_id"],
                        "drug": drug,
                        "start": r["start"],
                        "end": end,
                        "setting": settings.get(r["drug_exposure_id"]),
                    }
                )
        rows = self._episodes(exposures, data_end)
        return canonical_frame("systemic_therapy", rows)

    def _resolve_drugs(self, de: pd.DataFrame) -> list[list[str] | str]:
        """Per exposure: the drug names (vocabulary, or unknown antineoplastic) or a drop reason."""
        ids = set(de["drug_concept_id"]) | set(de["drug_source_concept_id"])
        self.concepts.load(ids)
        ingredients: dict[str, list[dict]] = {}
        for r in self.src.ancestors(set(de["drug_concept_id"])).to_dict("records"):
            ingredients.setdefault(r["descendant_concept_id"], []).append(r)
        if self.src.has("concept_ancestor"):
            self.report.note("drug_exposure: drugs rolled up to RxNorm ingredients through concept_ancestor.")
        cache: dict[tuple, list[str] | str] = {}
        out: list[list[str] | str] = []
        for r in de[["drug_concept_id", "drug_source_concept_id", "drug_source_value"]].to_dict("records"):
            key = (r["drug_concept_id"], r["drug_source_concept_id"], r["drug_source_value"])
            if key not in cache:
                cache[key] = self._resolve_one(*key, ingredients.get(r["drug_concept_id"] or "", []))
            out.append(cache[key])
        return out

    def _resolve_one(self, concept_id, source_concept_id, source_value, ancestors: list[dict]) -> list[str] | str:
        concept = self.concepts.get(concept_id)
        source_concept = self.concepts.get(source_concept_id)
        ingredient_names = [
            a["concept_name"] for a in ancestors if (a.get("concept_class_id") or "").lower() == "ingredient"
        ]
        if (concept.get("concept_class_id") or "").lower() == "ingredient" and concept.get("concept_name"):
            ingredient_names.append(concept["concept_name"])
        atc_codes = [
            a["concept_code"]
            for a in ancestors
            if (a.get("vocabulary_id") or "").upper() == "ATC" and a.get("concept_code")
        ]
        for c in (concept, source_concept):
            if (c.get("vocabulary_id") or "").upper() == "ATC" and c.get("concept_code"):
                atc_codes.append(c["concept_code"])
        if looks_like_atc(source_value):
            atc_codes.append(source_value.strip().upper())
        known: list[str] = []
        for name in ingredient_names:
            match = self.matcher.by_name(name)
            if match:
                known.append(match.drug)
        if not known:
            for code in atc_codes:
                match = self.matcher.by_atc(code)
                if match:
                    known.append(match.drug)
        if not known:
            for text in (concept.get("concept_name"), source_concept.get("concept_name"), source_value):
                match = self.matcher.by_name(text) or self.matcher.by_contained_name(text)
                if match:
                    known.append(match.drug)
                    break
        cancer_classes = (*ANTINEOPLASTIC_ATC_PREFIXES, "M05")  # M05: bone agents (denosumab, zoledronic acid)
        if known and atc_codes and not any(code.upper().startswith(cancer_classes) for code in atc_codes):
            # e.g. medroxyprogesterone as a contraceptive (G03AC06), methotrexate for arthritis (L04AX03)
            return f"a vocabulary drug in a non-cancer product (ATC {', '.join(sorted(set(atc_codes)))})"
        if known:
            return self.matcher.combine(known)
        antineoplastic = any(code.upper().startswith(ANTINEOPLASTIC_ATC_PREFIXES) for code in atc_codes)
        if antineoplastic:
            name = (ingredient_names[0] if ingredient_names else None) or concept.get("concept_name") or source_value
            return [re.sub(r"\s+", " ", str(name).strip().lower())]
        return "not in the drug vocabulary and not an antineoplastic/endocrine (ATC L01/L02) drug"

    def _settings(self) -> dict[str, str]:
        """drug_exposure_id → setting, from Treatment Regimen episodes (and their parent disease episode)."""
        if not (self.src.has("episode") and self.src.has("episode_event")):
            self.report.note(
                "systemic_therapy.setting: no episode/episode_event tables; every episode's setting is 'unknown' "
                "and the screen infers it from the breast tumour's metastasis date."
            )
            return {}
        ep = self.src.frame(
            "episode",
            [
                "episode_id",
                "person_id",
                "episode_concept_id",
                "episode_parent_id",
                "episode_number",
                "episode_object_concept_id",
                "episode_source_value",
            ],
        )
        ev = self.src.frame("episode_event", ["episode_id", "event_id", "episode_event_field_concept_id"])
        self.concepts.load(set(ep["episode_concept_id"]) | set(ep["episode_object_concept_id"]))
        episodes = {r["episode_id"]: r for r in ep.to_dict("records")}

        def text(r: dict) -> str:
            parts = [r.get("episode_source_value")]
            parts += [
                self.concepts.get(r.get(c)).get("concept_name")
                for c in ("episode_concept_id", "episode_object_concept_id")
            ]
            return " ".join(p for p in parts if p).lower()

        def setting_of(r: dict) -> str | None:
            for candidate in (r, episodes.get(r.get("episode_parent_id"))):
                if not candidate:
                    continue
                words = text(candidate)
                if "neoadjuvant" in words or "neo-adjuvant" in words:
                    return "neoadjuvant"
                if "adjuvant" in words:
                    return "adjuvant"
                if re.search(r"metasta|palliat|recurren|progress|advanced|line", words):
                    return "metastatic"
            return None

        settings: dict[str, str] = {}
        numbered = 0
        for r in ev.to_dict("records"):
            if r["episode_event_field_concept_id"] not in (None, DRUG_EXPOSURE_FIELD):
                continue
            episode = episodes.get(r["episode_id"])
            if episode is None:
                continue
            numbered += episode.get("episode_number") is not None
            setting = setting_of(episode)
            if setting:
                settings[r["event_id"]] = setting
        self.report.note(
            f"systemic_therapy.setting: {len(settings)} drug exposure(s) take their setting from a treatment episode; "
            f"episode_number present on {numbered} linked exposure(s) (a cross-check only: lines are derived by the screen)."
        )
        return settings

    def _data_end(self, de: pd.DataFrame) -> dict[str | None, dt.date]:
        ends: dict[str | None, dt.date] = {}
        if self.src.has("observation_period"):
            op = self.src.frame("observation_period", ["person_id", "observation_period_end_date"])
            dates = date_column(op, "observation_period_end_date", table="observation_period", problems=self.problems)
            for pid, day in zip(op["person_id"], dates, strict=True):
                if day is not None:
                    ends[pid] = max(day, ends.get(pid, day))
        latest = max([d for d in list(de["start"]) + list(de["end"]) if d is not None], default=None)
        if latest is not None:
            ends[None] = latest
        return ends

    def _episodes(self, exposures: list[dict], data_end: dict) -> list[dict]:
        """Collapse exposures of one drug separated by at most gap_days into one episode."""
        rows: list[dict] = []
        merged = 0
        exposures.sort(key=lambda e: (e["patient_id"], e["drug"], e["start"], e["end"]))
        current: dict | None = None
        for e in [*exposures, None]:
            if (
                current is not None
                and e is not None
                and (e["patient_id"], e["drug"]) == (current["patient_id"], current["drug"])
                and (e["start"] - current["end"]).days <= self.gap_days
            ):
                current["end"] = max(current["end"], e["end"])
                current["setting"] = current["setting"] or e["setting"]
                merged += 1
                continue
            if current is not None:
                end = data_end.get(current["patient_id"], data_end.get(None))
                ongoing = end is not None and (end - current["end"]).days <= self.gap_days
                rows.append(
                    {
                        "patient_id": current["patient_id"],
                        "drug": current["drug"],
                        "start_date": current["start"],
                        "end_date": None if ongoing else current["end"],
                        "setting": current["setting"] or "unknown",
                    }
                )
            current = dict(e) if e is not None else None
        self.report.drop(
            "drug_exposure",
            "systemic_therapy",
            f"exposure continuing an episode (merged, gap <= {self.gap_days} days)",
            merged,
        )
        return rows

    # --- performance status and response -------------------------------------------------------------------------

    def performance_status(self, facts: pd.DataFrame) -> pd.DataFrame:
        s = self.report.source_of
        s("performance_status", "patient_id", "measurement/observation.person_id")
        s("performance_status", "assessment_date", "measurement_date / observation_date")
        s(
            "performance_status",
            "scale",
            "LOINC 89247-1 or 'ECOG' → ECOG; 89243-0 or 'Karnofsky' → KPS; 'WHO performance' → WHO",
        )
        s(
            "performance_status",
            "score",
            "value_as_number, else value_as_concept_id LOINC answer LA9622-7..LA9627-6 → 0..5, else digits of the value",
        )
        rows = []
        for r in facts[facts["kind"] == "performance_status"].to_dict("records") if len(facts) else []:
            if not self._known_person(r["table"], r["person_id"], "performance_status"):
                continue
            scale, score = r["value"]
            limit = 100 if scale == "KPS" else 5
            if score is None or not 0 <= score <= limit:
                self.report.drop(r["table"], "performance_status", f"no {scale} score in 0-{limit}")
                continue
            rows.append({"patient_id": r["person_id"], "assessment_date": r["date"], "scale": scale, "score": score})
        return canonical_frame(
            "performance_status",
            _unique(rows, ("patient_id", "assessment_date", "scale"), self.report, "performance_status"),
        )

    def responses(self, facts: pd.DataFrame) -> pd.DataFrame:
        s = self.report.source_of
        s("response_assessments", "patient_id", "episode / measurement / observation person_id")
        s("response_assessments", "assessment_date", "episode_start_date / measurement_date / observation_date")
        s(
            "response_assessments",
            "response",
            "disease-status concepts 32946 CR, 32947 PR, 32948 SD, 32949 PD (episode or value concept), "
            "or a response record whose value names complete/partial response, stable or progressive disease",
        )
        rows = []
        for r in facts[facts["kind"] == "response"].to_dict("records") if len(facts) else []:
            if self._known_person(r["table"], r["person_id"], "response_assessments"):
                rows.append({"patient_id": r["person_id"], "assessment_date": r["date"], "response": r["value"]})
        if self.src.has("episode"):
            ep = self.src.frame(
                "episode",
                [
                    "episode_id",
                    "person_id",
                    "episode_concept_id",
                    "episode_object_concept_id",
                    "episode_start_date",
                    "episode_source_value",
                ],
            )
            ep["date"] = date_column(
                ep, "episode_start_date", table="episode", problems=self.problems, required=True, id_column="episode_id"
            )
            self.concepts.load(set(ep["episode_concept_id"]) | set(ep["episode_object_concept_id"]))
            used = 0
            for r in ep.to_dict("records"):
                status = DISEASE_STATUS_CONCEPTS.get(r["episode_concept_id"] or "") or DISEASE_STATUS_CONCEPTS.get(
                    r["episode_object_concept_id"] or ""
                )
                if not status:
                    names = [
                        self.concepts.get(r[c]).get("concept_name")
                        for c in ("episode_concept_id", "episode_object_concept_id")
                    ]
                    text = " ".join(n for n in [*names, r["episode_source_value"]] if n)
                    if not re.search(r"regimen|cycle|treatment|first occurrence|occurrence", text, re.I):
                        status = response_of([text]) if text else None
                if (
                    status
                    and r["date"] is not None
                    and self._known_person("episode", r["person_id"], "response_assessments")
                ):
                    rows.append({"patient_id": r["person_id"], "assessment_date": r["date"], "response": status})
                    used += 1
            self.report.drop(
                "episode", "response_assessments", "not a disease-dynamic (response) episode", len(ep) - used
            )
        return canonical_frame(
            "response_assessments",
            _unique(rows, ("patient_id", "assessment_date", "response"), self.report, "response_assessments"),
        )


def _unique(rows: list[dict], key: tuple[str, ...], report: MappingReport, table: str) -> list[dict]:
    seen: set[tuple] = set()
    out = []
    for row in sorted(rows, key=lambda r: tuple(str(r[k]) for k in key)):
        k = tuple(row[c] for c in key)
        if k in seen:
            report.drop(
                "measurement/observation/episode", table, "duplicate of another record (same patient, date and value)"
            )
            continue
        seen.add(k)
        out.append(row)
    return out
