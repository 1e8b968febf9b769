"""Metastatic breast cancer according to TNM staging.

M1 at diagnosis, or a metastasis date on or before the screening scan S
(2023-03-01), makes the index tumour metastatic. The baseline's T1 is M1 at
diagnosis; the therapy is recorded as metastatic, so the lines of therapy do
not depend on the staging.
"""

from __future__ import annotations

from tests.spec.cases import cases, expect
from tests.spec.harness import Case, case
from tests.spec.tables import table


def staged(tnm_m: str, metastasis_date: str) -> Case:
    return case(
        tumours=table(f"""
            tumour_id | diagnosis_date | topography | behaviour | basis_of_diagnosis | tnm_m   | metastasis_date
            T1        | 2021-10-01     | C50.4      | 3         | histology_primary  | {tnm_m} | {metastasis_date}
        """)
    )


@cases(
    expect("M1 at diagnosis", staged("M1", ""), inc_metastatic="pass", rule="m1_at_diagnosis"),
    # M1 states metastases at diagnosis (before S); a later metastasis date cannot undo that (decision D23).
    expect("M1, metastasis date after S", staged("M1", "2023-03-02"), inc_metastatic="pass", rule="m1_at_diagnosis"),
    expect(
        "M0, metastasis before S", staged("M0", "2021-12-15"), inc_metastatic="pass", rule="metastasis_by_screening"
    ),
    expect("M0, metastasis on S", staged("M0", "2023-03-01"), inc_metastatic="pass", rule="metastasis_by_screening"),
    expect(
        "M missing, metastasis before S",
        staged("", "2021-12-15"),
        inc_metastatic="pass",
        rule="metastasis_by_screening",
    ),
    expect(
        "M0, metastasis the day after S",
        staged("M0", "2023-03-02"),
        inc_metastatic="fail",
        rule="metastasis_after_screening",
    ),
    expect(
        "MX, metastasis the day after S",
        staged("MX", "2023-03-02"),
        inc_metastatic="fail",
        rule="metastasis_after_screening",
    ),
    expect("M0, no metastasis date", staged("M0", ""), inc_metastatic="fail", rule="m0_without_metastasis"),
    expect("MX, no metastasis date", staged("MX", ""), inc_metastatic="unknown", rule="metastasis_not_recorded"),
    expect("M missing, no metastasis date", staged("", ""), inc_metastatic="unknown", rule="metastasis_not_recorded"),
)
def test_metastatic_by_tnm_or_a_metastasis_date_on_or_before_the_scan(checked, spec):
    """M1, or a metastasis date on or before S, passes; a later date or M0 without one fails; otherwise unknown."""
    checked(spec)
