"""The baseline extract: one patient, p1, who passes every computable COSMO criterion.

Every spec test starts from these tables and replaces or adds only the rows
that matter for its criterion, so the reader sees exactly the fact under test.
A table without a `patient_id` column belongs to p1.

The story: de novo metastatic (M1) invasive ductal breast cancer diagnosed
2021-12-01; first-line letrozole + palbociclib since 2022-01-03 (ongoing), with
a baseline CT (`ref`) two weeks before; stable disease on two assessments; on
the screening CT `S` (2023-03-01) one liver lesion grew from 20 to 30 mm; the
confirmation FDG-PET-CT `pet` at S + 42 days shows the same lesion still
progressive; the patient was judged amenable to local therapy and signed
consent in March. Registration is planned at R = S + 49 days; the cut-off is
R + 1.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from oligo_cohort.criteria import CRITERION_IDS
from tests.spec.tables import table

PATIENT = "p1"
LINE_START = "2022-01-03"
S = "2023-03-01"  # the screening scan (the baseline's best event)
PET = "2023-04-12"  # S + 42: the confirmation FDG-PET-CT
R = "2023-04-19"  # S + 49: planned registration
AS_OF = "2023-04-20"  # data cut-off: R + 1, inside the registration window (S + 52 = 2023-04-22)


def days_after(date: str, days: int) -> str:
    """The ISO date `days` days after `date` (negative: before), so that tests state offsets, not arithmetic."""
    return (dt.date.fromisoformat(date) + dt.timedelta(days=days)).isoformat()


def imaging_scanned_on(s_date: str, *, pet_after_days: int | None = 42) -> pd.DataFrame:
    """The baseline studies with S moved to `s_date` and the PET to S + `pet_after_days` (None: no PET)."""
    rows = f"ref | 2021-12-20 | CT\nS | {s_date} | CT"
    if pet_after_days is not None:
        rows += f"\npet | {days_after(s_date, pet_after_days)} | FDG-PET-CT"
    return table("study_id | study_date | modality\n" + rows)


BASELINE = {
    "patients": table("""
        patient_id | site_id | birth_date | sex | death_date
        p1         | AVL     | 1965-03-15 | F   |
    """),
    "tumours": table("""
        tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m
        T1        | 2021-12-01     | C50.4      | 8500       | 3         | histology_primary  | M1
    """),
    "systemic_therapy": table("""
        drug        | start_date | end_date | setting
        letrozole   | 2022-01-03 |          | metastatic
        palbociclib | 2022-01-03 |          | metastatic
    """),
    "imaging": table("""
        study_id | study_date | modality
        ref      | 2021-12-20 | CT
        S        | 2023-03-01 | CT
        pet      | 2023-04-12 | FDG-PET-CT
    """),
    "lesions": table("""
        study_id | lesion_id | location | organ | size_mm | suv_max
        ref      | L1        | distant  | liver | 20      |
        S        | L1        | distant  | liver | 30      |
        pet      | L1        | distant  | liver | 31      | 9.5
    """),
    "response_assessments": table("""
        assessment_date | response
        2022-06-15      | SD
        2022-12-15      | SD
    """),
    "performance_status": table("""
        assessment_date | scale | score
        2023-02-20      | ECOG  | 0
    """),
    "observations": table("""
        code             | start_date | end_date | value
        lat_amenable     | 2023-03-08 |          | true
        informed_consent | 2023-03-22 |          | true
    """),
}

# Without the optional tables: what an extract of only the required tables holds.
WITHOUT_OPTIONAL_TABLES: dict[str, None] = {
    "response_assessments": None,
    "performance_status": None,
    "observations": None,
}

# What the baseline patient's best event (S) gives: every computable criterion passes; the baseline records no
# medical_risk or compliance_risk observation, so those two criteria are left to chart review.
REVIEW_IN_BASELINE = ("exc_medical_risk", "exc_psychosocial")
BASELINE_OUTCOMES: dict[str, str] = {c: ("review" if c in REVIEW_IN_BASELINE else "pass") for c in CRITERION_IDS}
