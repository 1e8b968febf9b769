"""The data cut-off: what the screen may see.

Nothing dated after the cut-off is used (D2): such records are dropped, and end
dates, metastasis, last-treatment and death dates after it read as missing,
each reported as a finding. The baseline's cut-off is 2023-04-20 (S + 50).
"""

from __future__ import annotations

from tests.spec.baseline import AS_OF, S, days_after, imaging_scanned_on
from tests.spec.cases import cases, expect
from tests.spec.harness import Case, baseline_with, case, with_other_tumours
from tests.spec.tables import table


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
