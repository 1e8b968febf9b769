"""Where each canonical column of an OMOP import comes from: the `column` rows of the mapping report.

Declared once per canonical table, beside no code that fills it, so that the report's wording can be read (and
changed) in one place; each domain records its table's lineage when it maps that table. docs/importers.md gives
the reasons for each choice.
"""

from __future__ import annotations

from oligo_cohort.importers.report import MappingReport

# canonical table -> column -> the source fields that fill it ({gap_days}: the import's episode gap).
LINEAGE: dict[str, dict[str, str]] = {
    "patients": {
        "patient_id": "person.person_id",
        "site_id": (
            "person.care_site_id → care_site.care_site_source_value (else care_site_name, else the id); "
            "else person.location_id → location.location_source_value (else city)"
        ),
        "birth_date": "person.birth_datetime, else year/month/day_of_birth (last possible day)",
        "sex": "person.gender_concept_id (8532 F, 8507 M), else gender_source_value",
        "death_date": "death.death_date (earliest per person)",
    },
    "tumours": {
        "tumour_id": "person_id + '-co' + condition_occurrence_id of the earliest record of the primary",
        "patient_id": "condition_occurrence.person_id",
        "diagnosis_date": "condition_occurrence.condition_start_date (earliest record of the primary)",
        "topography": (
            "ICD-O-3 site of condition_source_value / source concept code (8500/3-C50.9); ICD-10 code; C50.9 for "
            "SNOMED breast cancer; C80.9 for other malignancies named without a code"
        ),
        "morphology": "ICD-O-3 histology; D05.0 → 8520, D05.1 → 8500; 'lobular'/'duct' in a SNOMED name",
        "behaviour": "ICD-O-3 behaviour; ICD-10 C → 3, D05 → 2; SNOMED malignant → 3, in situ → 2",
        "basis_of_diagnosis": (
            "measurement/observation NAACCR item 490 (Diagnostic Confirmation, codes 490@1..9); the most valid of "
            "several"
        ),
        "tnm_m": (
            "measurement Cancer Modifier M category linked by measurement_event_id + meas_event_field_concept_id "
            "1147127 (or modifier_of_event_id), or unlinked within -31..+120 days of diagnosis; source values "
            "cM0/cM1/pM1/MX"
        ),
        "metastasis_date": (
            "earliest of: Metastasis measurements (Cancer Modifier class Metastasis / 'metastasis to ...'), "
            "secondary malignant neoplasm conditions (ICD-10 C77-C79 except regional nodes C77.0/.1/.3, ICD-O-3 /6, "
            "SNOMED 'secondary'), a later M1 modifier, the diagnosis date when M1"
        ),
    },
    "systemic_therapy": {
        "drug": (
            "drug_exposure.drug_concept_id → concept_ancestor Ingredient (RxNorm) name, else concept name, "
            "else drug_source_value (name, alias or ATC); matched to drugs.csv / drug_aliases.csv"
        ),
        "patient_id": "drug_exposure.person_id",
        "start_date": "drug_exposure_start_date (first exposure of the episode)",
        "end_date": (
            "drug_exposure_end_date, else start + days_supply - 1, else start (last exposure of the episode); "
            "empty (ongoing) when within {gap_days} days of the person's data end"
        ),
        "setting": "episode (Treatment Regimen) linked by episode_event; else unknown",
    },
    "performance_status": {
        "patient_id": "measurement/observation.person_id",
        "assessment_date": "measurement_date / observation_date",
        "scale": "LOINC 89247-1 or 'ECOG' → ECOG; 89243-0 or 'Karnofsky' → KPS; 'WHO performance' → WHO",
        "score": (
            "value_as_number, else value_as_concept_id LOINC answer LA9622-7..LA9627-6 → 0..5, else digits of the value"
        ),
    },
    "response_assessments": {
        "patient_id": "episode / measurement / observation person_id",
        "assessment_date": "episode_start_date / measurement_date / observation_date",
        "response": (
            "disease-status concepts 32946 CR, 32947 PR, 32948 SD, 32949 PD (episode or value concept), "
            "or a response record whose value names complete/partial response, stable or progressive disease"
        ),
    },
}


def record_lineage(report: MappingReport, table: str, *, gap_days: int = 0) -> None:
    """Record in `report` where each column of `table` comes from."""
    for column, fields in LINEAGE[table].items():
        report.source_of(table, column, fields.format(gap_days=gap_days))
