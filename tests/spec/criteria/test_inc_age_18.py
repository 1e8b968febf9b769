"""Age 18 or over at registration.

Full years of age at the planned registration R = S + 49 (2023-04-19 for the
baseline's S on 2023-03-01). The baseline patient was born 1965-03-15.
"""

from __future__ import annotations

from tests.spec.cases import cases, expect
from tests.spec.harness import Case, case
from tests.spec.tables import table
from tests.spec.variations import STABLE_LESIONS, WITHOUT_EVENT


def born(birth_date: str, **settings: object) -> Case:
    return case(
        patients=table(f"""
            patient_id | site_id | birth_date   | sex
            p1         | AVL     | {birth_date} | F
        """),
        **settings,  # type: ignore[arg-type]
    )


@cases(
    expect("18th birthday on R", born("2005-04-19"), inc_age_18="pass", rule="adult"),
    expect("18th birthday the day after R", born("2005-04-20"), inc_age_18="fail", rule="under_age"),
    expect("no birth date", born(""), inc_age_18="unknown", rule="no_birth_date"),
)
def test_age_at_registration_is_at_least_18(checked, spec):
    """Full years of age at R: 18 or more passes, less fails, no birth date is unknown."""
    checked(spec)


def leap_day_child_scanned_on(s_date: str) -> Case:
    """Born 29 February 2004; on letrozole + palbociclib since June 2021; screening scan S on `s_date`."""
    return case(
        patients=table("""
            patient_id | site_id | birth_date | sex
            p1         | AVL     | 2004-02-29 | F
        """),
        tumours=table("""
            tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m
            T1        | 2021-05-03     | C50.4      | 8500       | 3         | histology_primary  | M1
        """),
        systemic_therapy=table("""
            drug        | start_date | end_date | setting
            letrozole   | 2021-06-07 |          | metastatic
            palbociclib | 2021-06-07 |          | metastatic
        """),
        imaging=table(f"""
            study_id | study_date | modality
            ref      | 2021-06-01 | CT
            S        | {s_date}   | CT
        """),
        lesions=table("""
            study_id | lesion_id | location | organ | size_mm
            ref      | L1        | distant  | liver | 20
            S        | L1        | distant  | liver | 30
        """),
    )


@cases(
    expect(
        "R on 28 February 2022",
        leap_day_child_scanned_on("2022-01-10"),
        only=False,
        inc_age_18="fail",
        rule="under_age",
    ),
    expect(
        "R on 1 March 2022",
        leap_day_child_scanned_on("2022-01-11"),
        only=False,
        inc_age_18="pass",
        rule="adult",
    ),
)
def test_a_29_february_birthday_is_reached_on_1_march(checked, spec):
    """D3: born 29 February 2004, a patient is 18 only from 1 March 2022 (R = S + 49)."""
    checked(spec)


@cases(
    expect(
        "20 years old on R, minimum age 21",
        born("2002-04-20", parameters={"min_age_years": 21}),
        inc_age_18="fail",
        rule="under_age",
    ),
    expect(
        "21st birthday on R, minimum age 21",
        born("2002-04-19", parameters={"min_age_years": 21}),
        inc_age_18="pass",
        rule="adult",
    ),
)
def test_the_minimum_age_comes_from_the_protocol(checked, spec):
    """The age required at R is the protocol's `min_age_years`: set to 21, a patient of 20 fails."""
    checked(spec)


@cases(
    expect(
        "no event, 18th birthday on the cut-off",
        born("2005-04-20", lesions=STABLE_LESIONS),
        at=None,
        events=[],
        inc_age_18="pass",
        rule={"inc_age_18": "adult"},
        **WITHOUT_EVENT,
    ),
    expect(
        "no event, 18th birthday the day after the cut-off",
        born("2005-04-21", lesions=STABLE_LESIONS),
        at=None,
        events=[],
        inc_age_18="fail",
        rule={"inc_age_18": "under_age"},
        **WITHOUT_EVENT,
    ),
)
def test_without_an_event_age_is_taken_on_the_cut_off(checked, spec):
    """criteria.md "Time": a patient with no event is evaluated with S = R = as_of, so the age is the one on the
    cut-off itself, not 49 days later (with an event on S, born 2005-04-20 fails: 17 on R = 2023-04-19)."""
    checked(spec)
