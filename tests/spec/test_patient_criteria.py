"""Patient criteria: age 18 or over, WHO performance status 0-1, and no other malignancy.

S is 2023-03-01 and R = S + 49 = 2023-04-19, so the performance status window
is [S - 60, R] = [2022-12-31, 2023-04-19] and "treated 5 years before R"
means on or before 2018-04-19.
"""

from __future__ import annotations

import pytest

from tests.spec.baseline import WITHOUT_OPTIONAL_TABLES
from tests.spec.harness import (
    Case,
    assert_only_changes,
    assert_outcomes,
    case,
    with_other_tumours,
)
from tests.spec.tables import table


def born(birth_date: str) -> Case:
    return case(
        patients=table(f"""
            patient_id | site_id | birth_date   | sex
            p1         | AVL     | {birth_date} | F
        """)
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(born("2005-04-19"), "pass", id="18th birthday on R"),
        pytest.param(born("2005-04-20"), "fail", id="18th birthday the day after R"),
        pytest.param(born(""), "unknown", id="no birth date"),
    ],
)
def test_age_at_registration_is_at_least_18(screened, spec, expected):
    """Full years of age at R: 18 or more passes, less fails, no birth date is unknown."""
    assert_only_changes(screened(spec).event("S"), inc_age_18=expected)


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


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(leap_day_child_scanned_on("2022-01-10"), "fail", id="R on 28 February 2022"),
        pytest.param(leap_day_child_scanned_on("2022-01-11"), "pass", id="R on 1 March 2022"),
    ],
)
def test_a_29_february_birthday_is_reached_on_1_march(screened, spec, expected):
    """D3: born 29 February 2004, a patient is 18 only from 1 March 2022 (R = S + 49)."""
    assert_outcomes(screened(spec).event("S"), inc_age_18=expected)


def performance(rows: str) -> Case:
    """The baseline with these assessments (`assessment_date | scale | score` per line)."""
    return case(performance_status=table("assessment_date | scale | score\n" + rows))


SCORE_CASES = [
    pytest.param(performance("2023-02-20 | WHO | 0"), "pass", id="WHO 0"),
    pytest.param(performance("2023-02-20 | WHO | 1"), "pass", id="WHO 1"),
    pytest.param(performance("2023-02-20 | ECOG | 1"), "pass", id="ECOG 1"),
    pytest.param(performance("2023-02-20 | WHO | 2"), "fail", id="WHO 2"),
    pytest.param(performance("2023-02-20 | ECOG | 3"), "fail", id="ECOG 3"),
    pytest.param(performance("2023-02-20 | KPS | 100"), "pass", id="KPS 100"),
    pytest.param(performance("2023-02-20 | KPS | 80"), "pass", id="KPS 80"),
    pytest.param(performance("2023-02-20 | KPS | 70"), "unknown", id="KPS 70"),
    pytest.param(performance("2023-02-20 | KPS | 60"), "fail", id="KPS 60"),
    pytest.param(performance("2023-02-20 | KPS | 40"), "fail", id="KPS 40"),
    pytest.param(performance("2023-02-20 | KPS | 75"), "unknown", id="KPS 75 (D19)"),
    pytest.param(performance("2023-02-20 | KPS | 65"), "unknown", id="KPS 65 (D19)"),
]


@pytest.mark.parametrize(("spec", "expected"), SCORE_CASES)
def test_performance_status_scores(screened, spec, expected):
    """WHO/ECOG 0-1 or KPS 80+ pass; WHO/ECOG 2+ or KPS 60 or less fail; KPS between them is unknown (D19)."""
    assert_only_changes(screened(spec).event("S"), inc_who_ps_0_1=expected)


WINDOW_CASES = [
    pytest.param(performance("2022-12-31 | ECOG | 0"), "pass", id="on S - 60"),
    pytest.param(performance("2022-12-30 | ECOG | 0"), "unknown", id="on S - 61 only"),
    pytest.param(performance("2023-04-19 | ECOG | 0"), "pass", id="on R"),
    pytest.param(performance("2023-04-20 | ECOG | 0"), "unknown", id="after R only"),
    pytest.param(performance("2023-01-10 | ECOG | 2\n2023-03-20 | ECOG | 1"), "pass", id="latest is 1"),
    pytest.param(performance("2023-01-10 | ECOG | 1\n2023-03-20 | ECOG | 2"), "fail", id="latest is 2"),
    pytest.param(performance("2022-11-01 | ECOG | 3\n2023-02-20 | ECOG | 0"), "pass", id="an old 3 before the window"),
    pytest.param(performance("2023-02-20 | ECOG | 1\n2023-02-20 | ECOG | 2"), "fail", id="1 and 2 on one day (D18)"),
    pytest.param(performance("2023-02-20 | ECOG | 1\n2023-02-20 | KPS | 70"), "unknown", id="1 and KPS 70 on one day"),
    pytest.param(performance(""), "unknown", id="table present, no assessment"),
]


@pytest.mark.parametrize(("spec", "expected"), WINDOW_CASES)
def test_latest_performance_status_from_60_days_before_s_to_registration(screened, spec, expected):
    """The latest assessment in [S - 60 days, R] decides; several on that day give the worst (D18); none is unknown."""
    assert_only_changes(screened(spec).event("S"), inc_who_ps_0_1=expected)


ONLY_REQUIRED_TABLES = case(**WITHOUT_OPTIONAL_TABLES)


def test_without_a_performance_status_table_it_is_unknown(screened):
    """An extract without the optional performance_status table cannot show WHO 0-1: unknown."""
    assert_outcomes(screened(ONLY_REQUIRED_TABLES).event("S"), inc_who_ps_0_1="unknown")


def other_tumour(*rows: str) -> Case:
    """The baseline breast cancer plus other tumours, each a row of OTHER_TUMOUR_COLUMNS.

    tumour_id | diagnosis_date | topography | morphology | behaviour | treatment_intent | chemotherapy | radiotherapy
    | last_treatment_date
    """
    return case(tumours=with_other_tumours(*rows))


NOT_ANOTHER_MALIGNANCY = [
    pytest.param(
        other_tumour("T2 | 2022-05-02 | C44.3 | 8090 | 3 | curative | false | false | 2022-06-01"), id="skin BCC"
    ),
    pytest.param(
        other_tumour("T2 | 2022-05-02 | C44.5 | 8098 | 3 | curative | false | false | 2022-06-01"), id="skin BCC 8098"
    ),
    pytest.param(
        other_tumour("T2 | 2022-05-02 | C44.3 | 8070 | 3 | curative | false | false | 2022-06-01"), id="skin SCC"
    ),
    pytest.param(
        other_tumour("T2 | 2022-05-02 | C44.3 | 8050 | 3 | curative | false | false | 2022-06-01"), id="skin SCC 8050"
    ),
    pytest.param(
        other_tumour("T2 | 2022-05-02 | C53.9 | 8070 | 2 | curative | false | false | 2022-06-01"), id="cervix in situ"
    ),
    pytest.param(
        other_tumour("T2 | 2015-03-02 | C50.2 | 8500 | 3 | curative | true | true | 2015-09-01"),
        id="earlier breast cancer",
    ),
    pytest.param(
        other_tumour("T2 | 2023-04-20 | C18.7 | 8140 | 3 | palliative | true | false |"), id="diagnosed after R"
    ),
]


@pytest.mark.parametrize("spec", NOT_ANOTHER_MALIGNANCY)
def test_skin_bcc_scc_in_situ_and_breast_tumours_are_no_other_malignancy(screened, spec):
    """Basal and squamous cell skin cancers, carcinoma in situ, breast cancers and tumours after R do not exclude."""
    assert_only_changes(screened(spec).event("S"), exc_other_malignancy="pass")


OTHER_MALIGNANCY_CASES = [
    pytest.param(
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative | false | false | 2010-05-01"),
        "pass",
        id="colon, treated 2010",
    ),
    pytest.param(
        other_tumour("T2 | 2018-03-01 | C18.7 | 8140 | 3 | curative | false | false | 2018-04-19"),
        "pass",
        id="treated exactly 5 years before R",
    ),
    pytest.param(
        other_tumour("T2 | 2018-03-01 | C18.7 | 8140 | 3 | curative | false | false | 2018-04-20"),
        "fail",
        id="treated 5 years less a day before R",
    ),
    pytest.param(
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative | true | false | 2010-09-01"),
        "fail",
        id="with chemotherapy",
    ),
    pytest.param(
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative | false | true | 2010-09-01"),
        "fail",
        id="with radiotherapy",
    ),
    pytest.param(
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | palliative | false | false | 2010-09-01"),
        "fail",
        id="palliative intent",
    ),
    pytest.param(other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | none | false | false |"), "fail", id="untreated"),
    pytest.param(
        other_tumour("T2 | 2010-03-01 | C44.6 | 8720 | 3 | curative | false | false | 2021-06-01"),
        "fail",
        id="skin melanoma, recent",
    ),
    pytest.param(
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative |  | false | 2010-05-01"),
        "unknown",
        id="chemotherapy missing",
    ),
    pytest.param(
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative | false |  | 2010-05-01"),
        "unknown",
        id="radiotherapy missing",
    ),
    pytest.param(
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 |  | false | false | 2010-05-01"),
        "unknown",
        id="intent missing",
    ),
    pytest.param(
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative |  | true | 2010-05-01"),
        "fail",
        id="chemotherapy missing, radiotherapy given",
    ),
    pytest.param(
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative | false | false |"),
        "unknown",
        id="no last treatment date, old diagnosis",
    ),
    pytest.param(
        other_tumour("T2 | 2018-04-19 | C18.7 | 8140 | 3 | curative | false | false |"),
        "unknown",
        id="no last treatment date, diagnosed on R - 5 years",
    ),
    pytest.param(
        other_tumour("T2 | 2018-04-20 | C18.7 | 8140 | 3 | curative | false | false |"),
        "fail",
        id="no last treatment date, diagnosed after R - 5 years",
    ),
    pytest.param(
        other_tumour("T2 | 2020-01-06 | C18.7 | 8140 | 3 | curative | false | false |"),
        "fail",
        id="no last treatment date, recent diagnosis",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), OTHER_MALIGNANCY_CASES)
def test_other_malignancy_excludes_unless_treated_curatively_5_years_before_without_chemo_or_radiotherapy(
    screened, spec, expected
):
    """Exempt: curative, no chemotherapy or radiotherapy, last treated by R - 5 years; undecidable → unknown."""
    assert_only_changes(screened(spec).event("S"), exc_other_malignancy=expected)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            other_tumour("T2 | 2010-03-01 | C44.3 |  | 3 | curative | false | false | 2010-05-01"),
            "pass",
            id="treated curatively in 2010: exempt either way",
        ),
        pytest.param(
            other_tumour("T2 | 2021-03-01 | C44.3 |  | 3 | curative | false | false | 2021-05-01"),
            "unknown",
            id="treated in 2021: excluded unless it is a BCC/SCC",
        ),
    ],
)
def test_a_skin_cancer_without_morphology_may_be_another_malignancy(screened, spec, expected):
    """D20: skin cancer without morphology may or may not be a BCC/SCC, so it excludes only as 'unknown'."""
    assert_only_changes(screened(spec).event("S"), exc_other_malignancy=expected)


UNKNOWN_INTENT = other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | unknown | false | false | 2010-05-01")


def test_an_unknown_treatment_intent_leaves_the_exemption_undecided(screened):
    """Decision: treatment_intent 'unknown' is read like a missing intent, so an otherwise exempt tumour is unknown."""
    assert_only_changes(screened(UNKNOWN_INTENT).event("S"), exc_other_malignancy="unknown")


ONE_EXCLUDING_ONE_UNDECIDED = other_tumour(
    "T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative   |      | false | 2010-05-01",
    "T3 | 2020-02-03 | C34.1 | 8140 | 3 | palliative | true | true  | 2020-08-01",
)


def test_any_non_exempt_malignancy_excludes_even_next_to_an_undecided_one(screened):
    """Any non-exempt other malignancy fails the exclusion, whatever the undecided ones would turn out to be."""
    assert_only_changes(screened(ONE_EXCLUDING_ONE_UNDECIDED).event("S"), exc_other_malignancy="fail")
