"""Diagnosis: histologically confirmed invasive breast cancer, and metastatic breast cancer by TNM.

The index breast tumour of a scan is the latest tumour with topography C50.x and
behaviour 3 diagnosed on or before it. The baseline's T1 is an invasive ductal
carcinoma, histology of the primary, M1 at diagnosis on 2021-12-01.
"""

from __future__ import annotations

import pytest

from tests.spec.harness import Case, assert_only_changes, case
from tests.spec.tables import table


def breast_tumour(basis: str) -> Case:
    return case(
        tumours=table(f"""
            tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m
            T1        | 2021-12-01     | C50.4      | 8500       | 3         | {basis}            | M1
        """)
    )


BASIS_CASES = [
    pytest.param(breast_tumour("histology_primary"), "pass", id="histology of the primary"),
    pytest.param(breast_tumour("histology_metastasis"), "pass", id="histology of a metastasis"),
    pytest.param(breast_tumour("cytology"), "fail", id="cytology"),
    pytest.param(breast_tumour("clinical"), "fail", id="clinical"),
    pytest.param(breast_tumour("death_certificate"), "fail", id="death certificate"),
    pytest.param(breast_tumour("unknown"), "unknown", id="basis unknown"),
    pytest.param(breast_tumour(""), "unknown", id="basis missing"),
]


@pytest.mark.parametrize(("spec", "expected"), BASIS_CASES)
def test_invasive_breast_cancer_needs_a_histological_basis(screened, spec, expected):
    """Histology of the primary or a metastasis passes; cytology, clinical or death certificate fails; else unknown."""
    assert_only_changes(screened(spec).event("S"), inc_invasive_breast_cancer=expected)


ONLY_IN_SITU = case(
    tumours=table("""
        tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m
        T1        | 2021-12-01     | C50.4      | 8500       | 2         | histology_primary  | M1
    """)
)


def test_without_an_invasive_breast_tumour_both_diagnosis_criteria_fail(screened):
    """A breast carcinoma in situ (behaviour 2) is no index tumour: invasive and metastatic breast cancer both fail."""
    assert_only_changes(screened(ONLY_IN_SITU).event("S"), inc_invasive_breast_cancer="fail", inc_metastatic="fail")


BREAST_TUMOUR_AFTER_S = case(
    tumours=table("""
        tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m
        T1        | 2023-03-10     | C50.4      | 8500       | 3         | histology_primary  | M1
    """)
)


def test_a_breast_tumour_diagnosed_after_the_scan_is_not_its_index_tumour(screened):
    """The index tumour is diagnosed on or before S: one diagnosed nine days after S does not count for S."""
    event = screened(BREAST_TUMOUR_AFTER_S).event("S")
    assert event["inc_invasive_breast_cancer"] == "fail"
    assert event["inc_metastatic"] == "fail"


LATEST_BREAST_TUMOUR_BY_CYTOLOGY = case(
    tumours=table("""
        tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m | metastasis_date
        T0        | 2015-06-01     | C50.2      | 8500       | 3         | histology_primary  | M0    |
        T1        | 2021-12-01     | C50.4      | 8520       | 3         | cytology           | M1    |
    """)
)


def test_the_latest_breast_tumour_decides_the_basis(screened):
    """With two invasive breast primaries, the latest one diagnosed on or before S is the index tumour."""
    assert_only_changes(screened(LATEST_BREAST_TUMOUR_BY_CYTOLOGY).event("S"), inc_invasive_breast_cancer="fail")


def staged(tnm_m: str, metastasis_date: str) -> Case:
    return case(
        tumours=table(f"""
            tumour_id | diagnosis_date | topography | behaviour | basis_of_diagnosis | tnm_m   | metastasis_date
            T1        | 2021-10-01     | C50.4      | 3         | histology_primary  | {tnm_m} | {metastasis_date}
        """)
    )


STAGE_CASES = [
    pytest.param(staged("M1", ""), "pass", id="M1 at diagnosis"),
    # M1 states metastases at diagnosis (before S); a later metastasis date cannot undo that (decision D23).
    pytest.param(staged("M1", "2023-03-02"), "pass", id="M1, metastasis date after S"),
    pytest.param(staged("M0", "2021-12-15"), "pass", id="M0, metastasis before S"),
    pytest.param(staged("M0", "2023-03-01"), "pass", id="M0, metastasis on S"),
    pytest.param(staged("", "2021-12-15"), "pass", id="M missing, metastasis before S"),
    pytest.param(staged("M0", "2023-03-02"), "fail", id="M0, metastasis the day after S"),
    pytest.param(staged("MX", "2023-03-02"), "fail", id="MX, metastasis the day after S"),
    pytest.param(staged("M0", ""), "fail", id="M0, no metastasis date"),
    pytest.param(staged("MX", ""), "unknown", id="MX, no metastasis date"),
    pytest.param(staged("", ""), "unknown", id="M missing, no metastasis date"),
]


@pytest.mark.parametrize(("spec", "expected"), STAGE_CASES)
def test_metastatic_by_tnm_or_a_metastasis_date_on_or_before_the_scan(screened, spec, expected):
    """M1, or a metastasis date on or before S, passes; a later date or M0 without one fails; otherwise unknown."""
    # The therapy is recorded as metastatic, so the lines do not depend on the staging.
    assert_only_changes(screened(spec).event("S"), inc_metastatic=expected)


INDEX_TUMOUR_PER_SCAN = case(
    tumours=table("""
        tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m | metastasis_date
        T_old     | 2015-05-04     | C50.1      | 8500       | 3         | histology_primary  | M0    | 2021-11-22
        T_new     | 2023-03-10     | C50.8      | 8520       | 3         | histology_primary  | M0    |
    """),
    systemic_therapy=table("""
        drug        | start_date | end_date | setting
        letrozole   | 2022-01-03 |          |
        palbociclib | 2022-01-03 |          |
    """),
)


def test_each_scan_uses_the_index_tumour_it_has(screened):
    """D4: a breast tumour diagnosed after S changes nothing for S; S's index tumour dates the metastatic therapy."""
    result = screened(INDEX_TUMOUR_PER_SCAN)
    # For S the index tumour is T_old (metastatic since 2021-11-22), so the unlabelled therapy is line 1.
    assert_only_changes(result.event("S"))
    assert result.event("S")["line_number"] == 1
