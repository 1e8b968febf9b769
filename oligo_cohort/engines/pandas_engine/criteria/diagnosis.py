"""The index tumour's criteria, as sql/criteria/diagnosis.sql decides them: inc_invasive_breast_cancer and
inc_metastatic.
"""

from __future__ import annotations

from oligo_cohort.engines.pandas_engine.criteria.context import CODES, Context, record
from oligo_cohort.engines.pandas_engine.decisions import Decision, choose_rule


def invasive_breast_cancer(c: Context) -> Decision:
    """Index tumour with a histological basis -> pass; none, or a non-histological basis -> fail; else unknown."""
    basis = c.breast["basis_of_diagnosis"]
    rule = choose_rule(
        "inc_invasive_breast_cancer",
        [
            (~c.has_tumour, "no_index_tumour"),
            (c.tumour_flag(basis.isin(CODES.histological_bases)), "histological"),
            (c.tumour_flag(basis.isin(CODES.non_histological_bases)), "not_histological"),
        ],
        "basis_not_recorded",
    )
    return record(c, "inc_invasive_breast_cancer", rule)


def metastatic(c: Context) -> Decision:
    """M1 (D23: whatever the metastasis date), or metastasis by S -> pass; none, later, or M0 undated -> fail."""
    met, s, tnm_m = c.metastasis_date, c.screening_date, c.breast["tnm_m"]
    rule = choose_rule(
        "inc_metastatic",
        [
            (~c.has_tumour, "no_index_tumour"),
            (c.tumour_flag(tnm_m == CODES.metastatic_at_diagnosis), "m1_at_diagnosis"),
            (met <= s, "metastasis_by_screening"),
            (met > s, "metastasis_after_screening"),
            (c.tumour_flag(tnm_m == CODES.non_metastatic_at_diagnosis), "m0_without_metastasis"),
        ],
        "metastasis_not_recorded",
    )
    return record(c, "inc_metastatic", rule)
