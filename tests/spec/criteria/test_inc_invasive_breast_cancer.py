"""Histologically confirmed invasive breast cancer.

The index breast tumour of a scan is the latest tumour with topography C50.x and
behaviour 3 diagnosed on or before it. The baseline's T1 is an invasive ductal
carcinoma, histology of the primary, M1 at diagnosis on 2021-12-01.
"""

from __future__ import annotations

from tests.spec.cases import cases, expect
from tests.spec.harness import Case, case
from tests.spec.tables import table


def breast_tumour(basis: str) -> Case:
    return case(
        tumours=table(f"""
            tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m
            T1        | 2021-12-01     | C50.4      | 8500       | 3         | {basis}            | M1
        """)
    )


@cases(
    expect(
        "histology of the primary",
        breast_tumour("histology_primary"),
        inc_invasive_breast_cancer="pass",
        rule="histological",
    ),
    expect(
        "histology of a metastasis",
        breast_tumour("histology_metastasis"),
        inc_invasive_breast_cancer="pass",
        rule="histological",
    ),
    expect("cytology", breast_tumour("cytology"), inc_invasive_breast_cancer="fail", rule="not_histological"),
    expect("clinical", breast_tumour("clinical"), inc_invasive_breast_cancer="fail", rule="not_histological"),
    expect(
        "death certificate",
        breast_tumour("death_certificate"),
        inc_invasive_breast_cancer="fail",
        rule="not_histological",
    ),
    expect("basis unknown", breast_tumour("unknown"), inc_invasive_breast_cancer="unknown", rule="basis_not_recorded"),
    expect("basis missing", breast_tumour(""), inc_invasive_breast_cancer="unknown", rule="basis_not_recorded"),
)
def test_invasive_breast_cancer_needs_a_histological_basis(checked, spec):
    """Histology of the primary or a metastasis passes; cytology, clinical or death certificate fails; else unknown."""
    checked(spec)


ONLY_IN_SITU = case(
    tumours=table("""
        tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m
        T1        | 2021-12-01     | C50.4      | 8500       | 2         | histology_primary  | M1
    """)
)


@cases(
    expect(
        "a breast carcinoma in situ only",
        ONLY_IN_SITU,
        inc_invasive_breast_cancer="fail",
        inc_metastatic="fail",
        rule={"inc_invasive_breast_cancer": "no_index_tumour", "inc_metastatic": "no_index_tumour"},
    )
)
def test_without_an_invasive_breast_tumour_both_diagnosis_criteria_fail(checked, spec):
    """A breast carcinoma in situ (behaviour 2) is no index tumour: invasive and metastatic breast cancer both fail."""
    checked(spec)


BREAST_TUMOUR_AFTER_S = case(
    tumours=table("""
        tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m
        T1        | 2023-03-10     | C50.4      | 8500       | 3         | histology_primary  | M1
    """)
)


@cases(
    expect(
        "the only breast tumour diagnosed nine days after S",
        BREAST_TUMOUR_AFTER_S,
        only=False,
        inc_invasive_breast_cancer="fail",
        inc_metastatic="fail",
        rule={"inc_invasive_breast_cancer": "no_index_tumour", "inc_metastatic": "no_index_tumour"},
    )
)
def test_a_breast_tumour_diagnosed_after_the_scan_is_not_its_index_tumour(checked, spec):
    """The index tumour is diagnosed on or before S: one diagnosed nine days after S does not count for S."""
    checked(spec)


BREAST_TUMOUR_ON_S = case(
    tumours=table("""
        tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m
        T1        | 2023-03-01     | C50.4      | 8500       | 3         | histology_primary  | M1
    """)
)


@cases(
    expect(
        "the only breast tumour diagnosed on the day of S",
        BREAST_TUMOUR_ON_S,
        inc_invasive_breast_cancer="pass",
        rule="histological",
    )
)
def test_a_breast_tumour_diagnosed_on_the_day_of_the_scan_is_its_index_tumour(checked, spec):
    """criteria.md: the index tumour is the latest C50 behaviour 3 tumour diagnosed on or before S, so one diagnosed
    on the day of S itself counts (nine days after S it does not)."""
    checked(spec)


LATEST_BREAST_TUMOUR_BY_CYTOLOGY = case(
    tumours=table("""
        tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m | metastasis_date
        T0        | 2015-06-01     | C50.2      | 8500       | 3         | histology_primary  | M0    |
        T1        | 2021-12-01     | C50.4      | 8520       | 3         | cytology           | M1    |
    """)
)


@cases(
    expect(
        "an earlier primary by histology, the latest by cytology",
        LATEST_BREAST_TUMOUR_BY_CYTOLOGY,
        inc_invasive_breast_cancer="fail",
        rule="not_histological",
    )
)
def test_the_latest_breast_tumour_decides_the_basis(checked, spec):
    """With two invasive breast primaries, the latest one diagnosed on or before S is the index tumour."""
    checked(spec)
