"""The 18 COSMO criteria: id, protocol text, kind and outcome rules, in protocol order.

This is the one place both engines take their definitions from. The SQL in
`sql/criteria/` and the pandas twin in `oligo_cohort/engines/pandas_engine/`
each implement `decided_as` independently; the spec tests hold them to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["pass", "fail", "unknown", "review"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "fail", "unknown", "review")
STATUSES = ("eligible", "ineligible", "unknown")


@dataclass(frozen=True)
class Criterion:
    """One eligibility criterion as the protocol states it and as the spec decides it."""

    id: str
    kind: Literal["inclusion", "exclusion"]
    protocol_text: str
    decided_as: str
    parameters: tuple[str, ...] = ()
    outcomes: tuple[Outcome, ...] = ("pass", "fail", "unknown")
    level: Literal["event", "patient"] = "patient"  # event: depends on the screening scan itself
    sql: str = ""  # file in sql/criteria/ that decides it


CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        id="inc_invasive_breast_cancer",
        kind="inclusion",
        protocol_text="Histologically confirmed invasive breast cancer",
        decided_as=(
            "Index tumour exists and basis_of_diagnosis is histology_primary/histology_metastasis -> pass; "
            "no index tumour, or basis cytology/clinical/death_certificate -> fail; basis missing/unknown -> unknown."
        ),
        sql="criteria/diagnosis.sql",
    ),
    Criterion(
        id="inc_metastatic",
        kind="inclusion",
        protocol_text="MBC according to TNM-staging",
        decided_as=(
            "tnm_m = M1, or metastasis_date <= S -> pass; no index tumour, a metastasis date after S, "
            "or tnm_m = M0 with no metastasis date -> fail; else unknown."
        ),
        sql="criteria/diagnosis.sql",
    ),
    Criterion(
        id="inc_oligoprogression",
        kind="inclusion",
        protocol_text=(
            "Oligoprogression defined as one or two distant metastatic lesions, limited to one organ, or the "
            "primary tumor or locoregional lymph nodes, increasing >=20% in size and be larger than 15 mm or if "
            "metabolic activity increases (with 20% in SUVmax) on FDG-PET-CT. Bone metastases are classified as "
            "progressive if the lytic component of the lesion increases by >=20% or the FDG-uptake increases by "
            ">=20% on FDG-PET-CT"
        ),
        decided_as=(
            "Progressive lesions on S are 1-2 distant lesions in one organ with no progressive primary/locoregional "
            "lesion, or only primary/locoregional lesions -> pass; none, 3+ distant, 2+ organs, or distant with "
            "primary/locoregional -> fail; undetermined lesions decide only when every resolution agrees, else unknown."
        ),
        parameters=(
            "size_increase_pct",
            "size_floor_mm",
            "suv_increase_pct",
            "max_progressive_distant_lesions",
            "max_progressive_organs",
        ),
        level="event",
        sql="criteria/imaging.sql",
    ),
    Criterion(
        id="inc_therapy_class",
        kind="inclusion",
        protocol_text="Systemic treatment can be either endocrine, targeted, chemotherapy or immune-checkpoint blockade",
        decided_as=(
            "The line active at S holds a drug of one of those classes -> pass; no active line -> fail; "
            "only drugs missing from the vocabulary -> unknown."
        ),
        sql="criteria/therapy.sql",
    ),
    Criterion(
        id="inc_line_1_or_2",
        kind="inclusion",
        protocol_text="Oligoprogression should occur during first- or second-line systemic therapy",
        decided_as="Active line number 1 or 2 -> pass; 3 or more, or no active line -> fail.",
        parameters=("max_line_number",),
        outcomes=("pass", "fail"),
        sql="criteria/therapy.sql",
    ),
    Criterion(
        id="inc_disease_control_6m",
        kind="inclusion",
        protocol_text=(
            "Patients should be on systemic therapy for at least six months. Status should be stable disease or "
            "partial or complete response for at least 6 months."
        ),
        decided_as=(
            "S < line start + 6 months, or any PD assessment strictly between line start and S -> fail; "
            "else at least one CR/PR/SD strictly between them -> pass; else unknown."
        ),
        parameters=("min_months_on_line",),
        sql="criteria/therapy.sql",
    ),
    Criterion(
        id="inc_same_modality",
        kind="inclusion",
        protocol_text=(
            "Oligoprogression has to be detected with radiological imaging comparing the lesion on the same type "
            "of imaging modality as has been used at the start of systemic therapy."
        ),
        decided_as=(
            "Reference study has the modality of S -> pass; studies in the reference window but none of that "
            "modality -> fail; no study in the window -> unknown."
        ),
        parameters=("reference_window_before_days", "reference_window_after_days"),
        level="event",
        sql="criteria/imaging.sql",
    ),
    Criterion(
        id="inc_imaging_window",
        kind="inclusion",
        protocol_text="The radiological imaging that shows progression must be performed within 49 (+/- 3) days prior to registration.",
        decided_as="Death before S + 46 -> fail; in worklist mode also as_of > S + 52 (window closed) -> fail; else pass.",
        parameters=("registration_days", "imaging_window_earliest_days", "imaging_window_latest_days"),
        outcomes=("pass", "fail"),
        level="event",
        sql="criteria/imaging.sql",
    ),
    Criterion(
        id="inc_pet_confirmation",
        kind="inclusion",
        protocol_text="Oligo-progression has to be confirmed with a FDG-PET-CT-scan 6 weeks (42 days) after the first screening scan.",
        decided_as=(
            "An FDG-PET-CT study in [S + 35, S + 49] on which the oligoprogression rule (same reference as S) "
            "passes -> pass; only ones on which it fails, or none while as_of >= S + 49 -> fail; one on which it "
            "is unknown (none passing), or none yet while as_of < S + 49 -> unknown (pending)."
        ),
        parameters=("pet_confirmation_days", "pet_confirmation_tolerance_days"),
        level="event",
        sql="criteria/imaging.sql",
    ),
    Criterion(
        id="inc_lat_amenable",
        kind="inclusion",
        protocol_text=(
            "Lesion(s) must be amenable to resection, radiotherapy or radiofrequency ablation with the intent of "
            "local obliteration"
        ),
        decided_as="Latest lat_amenable observation on or before R: true -> pass, false -> fail; none -> review.",
        outcomes=("pass", "fail", "review"),
        sql="criteria/observations.sql",
    ),
    Criterion(
        id="inc_age_18",
        kind="inclusion",
        protocol_text="Age >=18",
        decided_as="Full years at R >= 18 -> pass; < 18 -> fail; no birth date -> unknown.",
        parameters=("min_age_years",),
        sql="criteria/patient.sql",
    ),
    Criterion(
        id="inc_who_ps_0_1",
        kind="inclusion",
        protocol_text="World Health Organization (WHO) Performance Status 0 or 1",
        decided_as=(
            "Latest assessment in [S - 60 days, R]: WHO/ECOG <= 1 or KPS >= 80 -> pass; WHO/ECOG >= 2 or "
            "KPS <= 60 -> fail; KPS 70 (or another value between 60 and 80), or none -> unknown."
        ),
        parameters=("performance_status_window_days",),
        sql="criteria/patient.sql",
    ),
    Criterion(
        id="inc_informed_consent",
        kind="inclusion",
        protocol_text=(
            "Signed written informed consent before patient registration according to ICH/GCP, and "
            "national/local regulations"
        ),
        decided_as="informed_consent observation on or before R: true -> pass, false -> fail; none -> review.",
        outcomes=("pass", "fail", "review"),
        sql="criteria/observations.sql",
    ),
    Criterion(
        id="exc_more_than_two_lines",
        kind="exclusion",
        protocol_text=(
            "Having received more than two lines of systemic therapy for MBC. If a treatment regimen has been "
            "de-escalated without adding other therapies, this is seen as one line of therapy."
        ),
        decided_as="More than 2 metastatic lines started on or before S -> fail; else pass.",
        parameters=("max_lines_before_scan", "regimen_window_days", "line_gap_days"),
        outcomes=("pass", "fail"),
        sql="criteria/therapy.sql",
    ),
    Criterion(
        id="exc_other_malignancy",
        kind="exclusion",
        protocol_text=(
            "Other malignancy except carcinoma in situ and basal-cell and squamous cell carcinoma of the skin, "
            "unless the other malignancy was treated >=5 years ago with curative intent without the use of "
            "chemotherapy or radiation therapy"
        ),
        decided_as=(
            "Other malignancy = behaviour 3, not C50, diagnosed on or before R, not skin C44 with BCC (8090-8098) "
            "or SCC (8050-8084). Exempt when intent curative, no chemotherapy, no radiotherapy and last treatment "
            "on or before R - 5 years. Any non-exempt -> fail; else any undecidable -> unknown; else pass."
        ),
        parameters=("other_malignancy_years",),
        sql="criteria/patient.sql",
    ),
    Criterion(
        id="exc_pregnancy",
        kind="exclusion",
        protocol_text="Current pregnancy or breastfeeding.",
        decided_as=(
            "No observations table -> review; a true pregnant/breastfeeding observation starting on or before R "
            "and not ended before S -> fail; else pass."
        ),
        outcomes=("pass", "fail", "review"),
        sql="criteria/observations.sql",
    ),
    Criterion(
        id="exc_medical_risk",
        kind="exclusion",
        protocol_text=(
            "Presence of any medical condition that would place the patient at unusual risk, up to the "
            "discretion of the clinician"
        ),
        decided_as=(
            "Latest medical_risk observation on or before R: true -> fail, false -> pass, missing value -> unknown; "
            "none (or no observations table) -> review."
        ),
        outcomes=("pass", "fail", "unknown", "review"),
        sql="criteria/observations.sql",
    ),
    Criterion(
        id="exc_psychosocial",
        kind="exclusion",
        protocol_text=(
            "Presence of any psychological, familial, sociological, or geographical condition potentially "
            "hampering compliance with the study protocol and follow-up schedule"
        ),
        decided_as=(
            "Latest compliance_risk observation on or before R: true -> fail, false -> pass, missing value -> "
            "unknown; none (or no observations table) -> review."
        ),
        outcomes=("pass", "fail", "unknown", "review"),
        sql="criteria/observations.sql",
    ),
)

CRITERION_IDS: tuple[str, ...] = tuple(c.id for c in CRITERIA)
BY_ID: dict[str, Criterion] = {c.id: c for c in CRITERIA}

# Criteria every patient without a candidate event fails (criteria.md, "Time").
FAILED_WITHOUT_EVENT: tuple[str, ...] = (
    "inc_oligoprogression",
    "inc_same_modality",
    "inc_imaging_window",
    "inc_pet_confirmation",
)


def criterion(criterion_id: str) -> Criterion:
    """The definition of one criterion by id."""
    return BY_ID[criterion_id]
