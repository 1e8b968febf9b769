"""The OMOP importer's concept rules, domain by domain, as functions: each rule without a whole CDM around it.

`tests/importers/test_import_omop.py` checks whole sources end to end; these pin the rules each domain module declares
(conditions, facts) and the seams between the modules (the lineage names canonical columns only; what the
shared import context drops and counts).
"""

from __future__ import annotations

import pytest

from oligo_cohort.dictionary import tables
from oligo_cohort.importers.common import SourceProblems
from oligo_cohort.importers.omop.conditions import classify_condition
from oligo_cohort.importers.omop.context import OmopImport
from oligo_cohort.importers.omop.facts import m_category, response_of
from oligo_cohort.importers.omop.lineage import LINEAGE
from oligo_cohort.importers.report import MappingReport

CONDITIONS = [
    # ICD-O-3 (the Oncology extension's format): morphology/behaviour-topography
    (["8500/3-C50.9"], [], ("breast", "C50.9", "8500", "3")),
    (["8500/2-C50.4"], [], ("breast", "C50.4", "8500", "2")),
    (["8140/3-C18.7"], [], ("other", "C18.7", "8140", "3")),
    (["8500/6-C77.3"], [], ("regional", None, None, None)),
    (["8500/6-C22.0"], [], ("metastasis", "C22.0", "8500", "6")),
    # ICD-10
    (["C50.4"], [], ("breast", "C50.4", None, "3")),
    (["C50"], [], ("breast", "C50.9", None, "3")),
    (["C77.1"], [], ("regional", None, None, None)),
    (["C78.7"], [], ("metastasis", None, None, None)),
    (["C80.9"], [], ("unknown_primary", None, None, None)),
    (["C91.0"], [], ("other", "C42.4", None, "3")),
    (["C18.7"], [], ("other", "C18.7", None, "3")),
    (["D05.1"], [], ("breast", "C50.9", "8500", "2")),
    (["D03.5"], [], ("in_situ_other", None, None, None)),
    # SNOMED without a vocabulary, then concept names
    (["254837009"], [], ("breast", "C50.9", None, "3")),
    ([], ["Infiltrating lobular carcinoma of breast"], ("breast", "C50.9", "8520", "3")),
    ([], ["Ductal carcinoma in situ of breast"], ("breast", "C50.9", "8500", "2")),
    ([], ["Secondary malignant neoplasm of liver"], ("metastasis", None, None, None)),
    ([], ["Metastasis to axillary lymph node"], ("regional", None, None, None)),
    ([], ["Malignant melanoma of skin"], ("other", "C80.9", None, "3")),
]


@pytest.mark.parametrize(("codes", "names", "expected"), CONDITIONS, ids=lambda v: str(v))
def test_conditions_are_classified_by_code_then_by_name(codes, names, expected) -> None:
    found = classify_condition(codes, names, [])
    assert found is not None
    assert (found.kind, found.topography, found.morphology, found.behaviour) == expected


@pytest.mark.parametrize(
    "names", [["History of malignant neoplasm of breast"], ["Screening for breast cancer"], ["Hypertension"]]
)
def test_histories_screenings_and_other_conditions_are_not_tumours(names) -> None:
    assert classify_condition([], names, []) is None


def test_the_first_code_that_matches_wins_over_a_name() -> None:
    found = classify_condition(["C18.7"], ["Malignant neoplasm of breast"], [])
    assert found is not None and found.topography == "C18.7"


@pytest.mark.parametrize(
    ("texts", "tnm_context", "expected"),
    [
        (["cM0(i+)"], False, "M0"),
        (["pM1a"], False, "M1"),
        (["MX"], False, "MX"),
        (["c-8th_AJCC/UICC-M1"], False, "M1"),  # AJCC/UICC in the text: the M inside counts
        (["stage-M1"], False, None),  # no TNM context: an M inside a text is not read
        (["stage-M1"], True, "M1"),
        (["Metastasis to bone"], True, None),
    ],
)
def test_m_category(texts, tnm_context, expected) -> None:
    assert m_category(texts, tnm_context=tnm_context) == expected


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["sd"], "SD"),
        (["Complete remission"], "CR"),
        (["Partial response"], "PR"),
        (["Disease progression"], "PD"),
        (["not evaluable"], "NE"),
        (["tumour response", "Stable disease"], "SD"),
        (["weight"], None),
    ],
)
def test_response_of(texts, expected) -> None:
    assert response_of(texts) == expected


def test_the_lineage_names_only_canonical_columns() -> None:
    for table, columns in LINEAGE.items():
        assert set(columns) <= set(tables()[table].column_names), table


class _NoSource:
    """A stand-in for an opened source: the import context only keeps it."""

    def concepts(self, ids):  # pragma: no cover - not reached here
        raise AssertionError("no concept is looked up")


def test_the_import_context_drops_unknown_persons_and_repeats_counting_them() -> None:
    report = MappingReport("OMOP CDM v5.4", "test")
    run = OmopImport(_NoSource(), report, SourceProblems(), gap_days=60)  # type: ignore[arg-type]
    run.persons = {"1"}
    assert run.known_person("measurement", "1", "performance_status")
    assert not run.known_person("measurement", "9", "performance_status")
    rows = [{"patient_id": "1", "day": "2024-01-02"}, {"patient_id": "1", "day": "2024-01-01"}] * 2
    assert run.unique(rows, ("patient_id", "day"), "response_assessments") == [rows[1], rows[0]]
    drops = {(table, reason): n for (_, table, reason), n in report.drops.items()}
    assert drops[("performance_status", "person_id not in person")] == 1
    assert drops[("response_assessments", "duplicate of another record (same patient, date and value)")] == 2
