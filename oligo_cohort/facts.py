"""The facts a criterion records beside its outcome: one typed vocabulary for every engine.

A criterion decides by taking one of its rules (`oligo_cohort.criteria.Rule`)
and records the facts that made it take that rule: dates, counts, ids,
measured values. Every engine records the same facts under the same names and
types, so that the differential tests compare facts as well as outcomes and one
shared step (`oligo_cohort.explain`) turns them into the same sentence
whichever engine decided.

A fact's name means one thing in every criterion that records it (the index
tumour's id is `tumour_id` wherever it appears); a criterion records only the
facts its rules speak of (`Criterion.facts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from oligo_cohort.clinical_codes import clinical_codes

FactType = Literal["date", "integer", "text", "boolean", "text_list"]

CODES = clinical_codes()
# An invasive breast tumour, and every other invasive one, as the clinical codes define them.
BREAST = f"{CODES.breast_topography}, behaviour {CODES.invasive_behaviour}"
OTHER = f"behaviour {CODES.invasive_behaviour}, not {CODES.breast_topography}"

# How each type is held in SQL (DuckDB; Spark's types follow from the transpiled casts).
SQL_TYPES: dict[FactType, str] = {
    "date": "DATE",
    "integer": "BIGINT",
    "text": "VARCHAR",
    "boolean": "BOOLEAN",
    "text_list": "VARCHAR[]",
}


@dataclass(frozen=True)
class Fact:
    """One kind of fact: its name, type and meaning."""

    name: str
    type: FactType
    description: str

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


_FACTS: tuple[Fact, ...] = (
    # The screening unit (an event, or a patient without one evaluated at the cut-off).
    Fact("has_event", "boolean", "whether the unit is a candidate event (false: a patient evaluated at the cut-off)"),
    Fact("screening_date", "date", "S: the date of the screening scan, or the cut-off for a patient without an event"),
    Fact(
        "registration_date",
        "date",
        "R: the planned registration date (S + registration_days; the cut-off without event)",
    ),
    Fact("cutoff_date", "date", "the data cut-off of the run"),
    Fact("scan_study_id", "text", "study_id of the screening scan S"),
    Fact("scan_modality", "text", "modality of the screening scan S"),
    # The index breast tumour.
    Fact("tumour_id", "text", f"the index breast tumour (latest {BREAST}, diagnosed on or before S)"),
    Fact("tumour_topography", "text", "its topography"),
    Fact("tumour_diagnosis_date", "date", "its diagnosis date"),
    Fact("basis_of_diagnosis", "text", "its most valid basis of diagnosis"),
    Fact("tnm_m", "text", "its M category at diagnosis"),
    Fact("metastasis_date", "date", "its date of first distant metastasis"),
    # The line of therapy active at S.
    Fact("line_number", "integer", "number of the metastatic line active at S"),
    Fact("line_start", "date", "start date of that line"),
    Fact("line_drugs", "text", "the drugs of that line's regimen"),
    Fact("line_drug_classes", "text", "the treatment classes of those drugs"),
    Fact("lines_started", "integer", "metastatic lines started on or before S"),
    Fact("enough_months_date", "date", "the day the minimum months on the line are reached (line start + months)"),
    Fact("first_progression_date", "date", "the first PD assessment strictly between the line start and S"),
    Fact("control_date", "date", "the latest CR/PR/SD assessment strictly between the line start and S"),
    Fact("control_response", "text", "its response (CR, PR or SD)"),
    # Imaging: the reference of S and the lesions.
    Fact("reference_basis", "text", "how the reference was chosen: line_start, nadir, or missing (no reference)"),
    Fact("reference_study_id", "text", "study_id of the reference study"),
    Fact("reference_modality", "text", "modality of the reference study"),
    Fact("reference_date", "date", "date of the reference study"),
    Fact("window_start", "date", "first day of the reference window around the line start"),
    Fact("window_end", "date", "last day of the reference window"),
    Fact("window_modalities", "text", "the modalities of the studies in the reference window"),
    Fact("distant_lesions", "text_list", "progressive distant lesions on S ('organ lesion_id')"),
    Fact("local_lesions", "text_list", "progressive primary or locoregional lesions on S"),
    Fact("undetermined_lesions", "text_list", "lesions on S whose progression cannot be decided"),
    Fact("death_date", "date", "the patient's death date"),
    Fact("earliest_registration", "date", "first day of the registration window (S + imaging_window_earliest_days)"),
    Fact("latest_registration", "date", "last day of the registration window (S + imaging_window_latest_days)"),
    Fact("pet_study_id", "text", "the confirmation FDG-PET-CT that decides (passing, else undecided, else failing)"),
    Fact("pet_date", "date", "its date"),
    Fact("pet_days_after_scan", "integer", "days from S to it"),
    Fact("pet_distant_lesions", "text_list", "progressive distant lesions on it"),
    Fact("pet_local_lesions", "text_list", "progressive primary or locoregional lesions on it"),
    Fact("pet_undetermined_lesions", "text_list", "undetermined lesions on it"),
    Fact("pet_window_start", "date", "first day a confirmation PET counts (S + pet_window_start_days)"),
    Fact("pet_window_end", "date", "last day a confirmation PET counts (S + pet_window_end_days)"),
    # The patient.
    Fact("birth_date", "date", "the patient's birth date"),
    Fact("age_years", "integer", "full years of age at R"),
    Fact("ps_window_start", "date", "first day a performance status counts (S - performance_status_window_days)"),
    Fact("ps_date", "date", "date of the performance status that decides"),
    Fact("ps_scale", "text", "its scale (WHO, ECOG or KPS)"),
    Fact("ps_score", "integer", "its score"),
    Fact("exemption_date", "date", "R - other_malignancy_years: treated on or before it counts as long enough ago"),
    Fact("other_tumour_id", "text", "the other tumour that decides exc_other_malignancy"),
    Fact("other_topography", "text", "its topography"),
    Fact("other_morphology", "text", "its morphology"),
    Fact("other_diagnosis_date", "date", "its diagnosis date"),
    Fact("other_treatment_intent", "text", "its treatment intent"),
    Fact("other_last_treatment_date", "date", "the end of its last treatment"),
    Fact("other_tumours", "integer", f"other tumours ({OTHER}) diagnosed on or before R"),
    # Observations.
    Fact("observation_date", "date", "start date of the latest observation of the criterion's code on or before R"),
    Fact("pregnancy_code", "text", "pregnant or breastfeeding: the current observation that decides"),
    Fact("pregnancy_start", "date", "its start date"),
    Fact("pregnancy_end", "date", "its end date (missing: not ended)"),
)

FACTS: dict[str, Fact] = {fact.name: fact for fact in _FACTS}
assert len(FACTS) == len(_FACTS), "fact names are unique"
