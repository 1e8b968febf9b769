"""Systemic treatment that is endocrine, targeted, chemotherapy or immune-checkpoint blockade.

The class of the line active at the screening scan S (2023-03-01) is read from
the drug vocabulary (data_dictionary/drugs.csv). Each case replaces the
baseline's first-line letrozole + palbociclib, started 2022-01-03.
"""

from __future__ import annotations

from tests.spec.cases import cases, expect
from tests.spec.harness import Case
from tests.spec.variations import therapy


def regimen_of(*drugs: str) -> Case:
    """A line of these drugs, all started on 2022-01-03 and ongoing."""
    rows = "\n".join(f"{drug} | 2022-01-03 | | metastatic" for drug in drugs)
    return therapy("drug | start_date | end_date | setting\n" + rows)


@cases(
    expect(
        "immune checkpoint blockade + chemotherapy",
        regimen_of("pembrolizumab", "paclitaxel"),
        inc_therapy_class="pass",
        rule="treatment_class",
    ),
    expect("chemotherapy", regimen_of("capecitabine"), inc_therapy_class="pass", rule="treatment_class"),
    expect(
        "antibody-drug conjugate",
        regimen_of("trastuzumab deruxtecan"),
        inc_therapy_class="pass",
        rule="treatment_class",
    ),
    expect("endocrine", regimen_of("fulvestrant"), inc_therapy_class="pass", rule="treatment_class"),
    expect("PARP inhibitor", regimen_of("olaparib"), inc_therapy_class="pass", rule="treatment_class"),
)
def test_therapy_class_endocrine_targeted_chemotherapy_or_immunotherapy(checked, spec):
    """A line holding an endocrine, targeted, chemotherapy or immune-checkpoint drug passes the therapy class."""
    checked(spec)


ONLY_INVESTIGATIONAL = therapy("""
    drug           | start_date | end_date | setting
    study drug x01 | 2022-01-03 |          | metastatic
""")


@cases(
    expect(
        "an investigational drug alone",
        ONLY_INVESTIGATIONAL,
        columns={"line_number": 1},
        findings={"systemic_therapy.drug": 1},
        inc_therapy_class="unknown",
        rule="only_unknown_drugs",
    )
)
def test_a_drug_missing_from_the_vocabulary_defines_lines_and_leaves_the_class_unknown(checked, spec):
    """An unknown drug forms a line like any drug; if it is all the line holds, the therapy class is unknown; the
    drug is reported as a finding."""
    checked(spec)


INVESTIGATIONAL_WITH_LETROZOLE = therapy("""
    drug           | start_date | end_date | setting
    letrozole      | 2022-01-03 |          | metastatic
    study drug x01 | 2022-01-03 |          | metastatic
""")


@cases(
    expect(
        "letrozole with an investigational drug",
        INVESTIGATIONAL_WITH_LETROZOLE,
        inc_therapy_class="pass",
        rule="treatment_class",
    )
)
def test_a_known_drug_decides_the_class_next_to_an_unknown_one(checked, spec):
    """Letrozole (endocrine) in the regimen decides the therapy class whatever the unknown drug is."""
    checked(spec)
