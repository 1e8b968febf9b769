"""The data cut-off: what the screen may see.

Nothing dated after the cut-off is used (D2): such records are dropped, and end
dates, metastasis, last-treatment and death dates after it read as missing,
each reported as a finding. The baseline's cut-off is 2023-04-20 (S + 50).
"""

from __future__ import annotations

from tests.spec.baseline import AS_OF, S, days_after, imaging_scanned_on
from tests.spec.cases import cases, expect
from tests.spec.harness import Case, baseline_with, baseline_without, case, with_other_tumours
from tests.spec.tables import table
from tests.spec.variations import AMENABLE, CONSENTED


def died_on(date: str, *, scanned_on: str = S) -> Case:
    """The baseline patient dying on `date`, with S on `scanned_on` (its PET at S + 42)."""
    return case(
        patients=table(f"""
            patient_id | site_id | birth_date | sex | death_date
            p1         | AVL     | 1965-03-15 | F   | {date}
        """),
        imaging=imaging_scanned_on(scanned_on),
    )


# S on 2023-03-15: registration no earlier than S + 46 = 2023-04-30, after the cut-off 2023-04-20.
LATE_SCAN = "2023-03-15"


@cases(
    expect(
        "death after the cut-off",
        died_on("2023-04-25", scanned_on=LATE_SCAN),
        only=False,
        inc_imaging_window="pass",
        rule="window_open",
    ),
    expect(
        "death before the cut-off",
        died_on("2023-04-19", scanned_on=LATE_SCAN),
        only=False,
        inc_imaging_window="fail",
        rule="died_before_registration",
    ),
)
def test_a_death_after_the_cut_off_is_not_known(checked, spec):
    """D2: a death date after the cut-off reads as missing, so it cannot close the imaging window."""
    checked(spec)


@cases(
    expect(
        "PET on S + 47, after the cut-off on S + 45: pending",
        case(imaging=imaging_scanned_on(days_after(AS_OF, -45), pet_after_days=47)),
        only=False,
        inc_pet_confirmation="unknown",
        rule="pet_pending",
    ),
    expect(
        "PET on S + 47, before the cut-off on S + 50",
        case(imaging=imaging_scanned_on(days_after(AS_OF, -50), pet_after_days=47)),
        only=False,
        inc_pet_confirmation="pass",
        rule="confirmed",
    ),
)
def test_a_study_after_the_cut_off_is_ignored(checked, spec):
    """D2: a confirmation PET dated after the cut-off is not seen: the confirmation is still pending."""
    checked(spec)


def colon_cancer_on(date: str) -> Case:
    """A palliatively treated colon cancer diagnosed on `date`; S on 2023-03-15, so R = 2023-05-03."""
    return case(
        tumours=baseline_with(
            "tumours",
            f"""
            tumour_id | diagnosis_date | topography | behaviour | treatment_intent | chemotherapy | radiotherapy
            T2        | {date}         | C18.7      | 3         | palliative       | true         | false
            """,
        ),
        imaging=imaging_scanned_on(LATE_SCAN),
    )


@cases(
    expect(
        "diagnosed after the cut-off, before R",
        colon_cancer_on("2023-04-25"),
        only=False,
        exc_other_malignancy="pass",
        rule="none",
    ),
    expect(
        "diagnosed before the cut-off",
        colon_cancer_on("2023-04-17"),
        only=False,
        exc_other_malignancy="fail",
        rule="not_curative",
    ),
)
def test_a_tumour_diagnosed_after_the_cut_off_is_ignored(checked, spec):
    """D2: a second cancer diagnosed after the cut-off (though before R) is not known at the cut-off."""
    checked(spec)


def metastasis_on(date: str) -> Case:
    return case(
        tumours=table(f"""
            tumour_id | diagnosis_date | topography | behaviour | basis_of_diagnosis | tnm_m | metastasis_date
            T1        | 2021-12-01     | C50.4      | 3         | histology_primary  | MX    | {date}
        """)
    )


METASTASIS_AFTER_CUTOFF = metastasis_on("2023-05-10")


@cases(
    expect(
        "metastasis date after the cut-off: missing",
        METASTASIS_AFTER_CUTOFF,
        inc_metastatic="unknown",
        rule="metastasis_not_recorded",
    ),
    expect(
        "metastasis date after S, before the cut-off",
        metastasis_on("2023-03-10"),
        inc_metastatic="fail",
        rule="metastasis_after_screening",
    ),
)
def test_a_metastasis_date_after_the_cut_off_reads_as_missing(checked, spec):
    """D2: a metastasis date after the cut-off is not yet known: with MX the stage is unknown, not 'after S'."""
    checked(spec)


# Colon cancer of 2010: curative, no chemotherapy or radiotherapy, last treated after the cut-off (2023-05-01).
LAST_TREATMENT_AFTER_CUTOFF = case(
    tumours=with_other_tumours("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative | false | false | 2023-05-01")
)


@cases(
    expect(
        "colon cancer of 2010, last treated after the cut-off",
        LAST_TREATMENT_AFTER_CUTOFF,
        exc_other_malignancy="unknown",
        rule="last_treatment_missing",
    )
)
def test_a_last_treatment_date_after_the_cut_off_reads_as_missing(checked, spec):
    """D2: a last treatment date after the cut-off is missing; for a tumour diagnosed in 2010 that is undecidable."""
    checked(spec)


RESPONSE_AFTER_CUTOFF = case(
    response_assessments=baseline_with("response_assessments", "assessment_date | response\n2023-04-25 | PD")
)


@cases(
    expect(
        "a response assessment after the cut-off: record dropped",
        RESPONSE_AFTER_CUTOFF,
        at=None,
        only=False,
        findings={"response_assessments": 1},
    ),
    expect(
        "a metastasis date after the cut-off: date read as missing",
        METASTASIS_AFTER_CUTOFF,
        at=None,
        only=False,
        findings={"tumours.metastasis_date": 1},
    ),
)
def test_what_the_cut_off_hides_is_reported(checked, spec):
    """D2: every record dropped and every date cleared by the cut-off is a data-quality finding."""
    checked(spec)


# The baseline without its confirmation PET: its latest date is the consent of 2023-03-22 (S + 21), so with the
# extract's own cut-off the PET is still pending, and with any cut-off from S + 49 on it is missing (fail).
WITHOUT_PET = {
    "imaging": baseline_without("imaging", study_id="pet"),
    "lesions": baseline_without("lesions", study_id="pet"),
}
PENDING_AT_LATEST_DATE = {"inc_pet_confirmation": "after the cut-off 2023-03-22"}


def second_patient(birth_date: str, **replaced: object) -> Case:
    """The baseline without its PET, no cut-off given, and a second patient p2 born on `birth_date`."""
    patients = baseline_with("patients", f"patient_id | site_id | birth_date\np2 | UMCU | {birth_date}")
    return case(as_of=None, **{**WITHOUT_PET, "patients": patients, **replaced})  # type: ignore[arg-type]


@cases(
    expect(
        "no cut-off given: the latest date, the consent of S + 21",
        case(as_of=None, **WITHOUT_PET),
        inc_pet_confirmation="unknown",
        rule="pet_pending",
        says=PENDING_AT_LATEST_DATE,
    ),
    expect(
        "a later birth date (p2, born S + 61) does not count",
        second_patient("2023-05-01"),
        inc_pet_confirmation="unknown",
        rule="pet_pending",
        says=PENDING_AT_LATEST_DATE,
    ),
    expect(
        "a study of p2 typed 9999-12-31 does not count",
        second_patient(
            "1970-07-07",
            imaging=table("""
                patient_id | study_id | study_date | modality
                p1         | ref      | 2021-12-20 | CT
                p1         | S        | 2023-03-01 | CT
                p2         | X1       | 9999-12-31 | CT
            """),
        ),
        findings={"imaging.study_date": 1},
        inc_pet_confirmation="unknown",
        rule="pet_pending",
        says=PENDING_AT_LATEST_DATE,
    ),
    expect(
        "an observation of p2 on S + 61 does count",
        second_patient(
            "1970-07-07",
            observations=table("""
                patient_id | code             | start_date | end_date | value
                p1         | lat_amenable     | 2023-03-08 |          | true
                p1         | informed_consent | 2023-03-22 |          | true
                p2         | lat_amenable     | 2023-05-01 |          | true
            """),
        ),
        inc_pet_confirmation="fail",
        rule="no_pet",
    ),
)
def test_the_default_cut_off_is_the_latest_plausible_date_other_than_a_birth_date(checked, spec):
    """criteria.md "Time": with no cut-off given it is the latest date in the extract (birth dates aside) not
    later than the day of the run; an implausible date (a placeholder such as 9999-12-31) is a finding and never
    moves it, so one patient's typo cannot change another patient's result. Any other patient's plausible date
    does move it."""
    checked(spec)


# S on 2023-03-15 (R = 2023-05-03): both clinician's judgements recorded true after the cut-off, before R.
RISKS_AFTER_THE_CUT_OFF = case(
    imaging=imaging_scanned_on(LATE_SCAN),
    observations=table(f"""
        code            | start_date | end_date | value
        {AMENABLE}
        {CONSENTED}
        medical_risk    | 2023-04-25 |          | true
        compliance_risk | 2023-04-25 |          | true
    """),
)


@cases(
    expect(
        "medical and compliance risk recorded after the cut-off, before R",
        RISKS_AFTER_THE_CUT_OFF,
        only=False,
        findings={"observations": 2},
        exc_medical_risk="review",
        exc_psychosocial="review",
        rule={"exc_medical_risk": "not_recorded", "exc_psychosocial": "not_recorded"},
    )
)
def test_an_observation_after_the_cut_off_is_not_read_though_on_or_before_r(checked, spec):
    """criteria.md "Time": nothing dated after the cut-off is used, though exc_medical_risk and exc_psychosocial
    read observations up to R: a judgement recorded after the cut-off is not yet known, so both stay review."""
    checked(spec)
