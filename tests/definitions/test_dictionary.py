"""The data dictionary: the spec's contract, the rendered copy in docs/, and the drug vocabulary."""

from __future__ import annotations

import re
from pathlib import Path

from oligo_cohort.dictionary import drug_aliases, drugs, render_markdown, tables

ROOT = Path(__file__).resolve().parents[2]

# Every table and column of the shared data model (data-model.md), in its order.
CONTRACT = {
    "patients": ["patient_id", "site_id", "birth_date", "sex", "death_date"],
    "tumours": [
        "tumour_id", "patient_id", "diagnosis_date", "topography", "morphology", "behaviour",
        "basis_of_diagnosis", "tnm_m", "metastasis_date", "treatment_intent", "chemotherapy",
        "radiotherapy", "last_treatment_date",
    ],
    "systemic_therapy": ["patient_id", "drug", "start_date", "end_date", "setting"],
    "imaging": ["study_id", "patient_id", "study_date", "modality"],
    "lesions": ["study_id", "patient_id", "lesion_id", "location", "organ", "size_mm", "suv_max"],
    "response_assessments": ["patient_id", "assessment_date", "response"],
    "performance_status": ["patient_id", "assessment_date", "scale", "score"],
    "observations": ["patient_id", "code", "start_date", "end_date", "value"],
}  # fmt: skip
REQUIRED_TABLES = {"patients", "tumours", "systemic_therapy", "imaging", "lesions"}


def test_dictionary_implements_the_data_model_without_renaming():
    model = tables()
    for name, columns in CONTRACT.items():
        assert list(model[name].column_names[: len(columns)]) == columns
        assert model[name].required == (name in REQUIRED_TABLES)


def test_rendered_dictionary_in_docs_is_current():
    committed = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), "run: oligo-cohort dictionary --out docs/data-dictionary.md"


def test_vocabulary_covers_every_drug_named_in_the_domain_facts():
    names = {d.drug for d in drugs()}
    for expected in [
        "tamoxifen", "toremifene", "fulvestrant", "elacestrant", "anastrozole", "letrozole", "exemestane",
        "megestrol", "medroxyprogesterone", "goserelin", "leuprorelin", "triptorelin", "denosumab",
        "zoledronic acid", "palbociclib", "ribociclib", "abemaciclib", "everolimus", "alpelisib", "capivasertib",
        "trastuzumab", "pertuzumab", "pertuzumab+trastuzumab", "margetuximab", "lapatinib", "neratinib",
        "tucatinib", "trastuzumab emtansine", "trastuzumab deruxtecan", "sacituzumab govitecan", "olaparib",
        "talazoparib", "bevacizumab", "pembrolizumab", "atezolizumab", "nivolumab", "durvalumab", "paclitaxel",
        "nab-paclitaxel", "docetaxel", "eribulin", "capecitabine", "fluorouracil", "gemcitabine", "vinorelbine",
        "carboplatin", "cisplatin", "doxorubicin", "epirubicin", "cyclophosphamide", "methotrexate", "ixabepilone",
    ]:  # fmt: skip
        assert expected in names, expected


def test_vocabulary_classes_atc_codes_and_substitution_groups():
    by_name = {d.drug: d for d in drugs()}
    assert {d.drug_class for d in drugs()} == {"endocrine", "targeted", "chemotherapy", "immunotherapy", "supportive"}
    for drug in drugs():
        assert re.fullmatch(r"[LM][0-9]{2}[A-Z]{2}[0-9]{2}", drug.atc), drug
    # Substitutes share a regimen component; the fixed combination covers both antibodies.
    assert by_name["nab-paclitaxel"].regimen_components == by_name["paclitaxel"].regimen_components
    assert by_name["carboplatin"].regimen_components == by_name["cisplatin"].regimen_components
    assert by_name["capecitabine"].regimen_components == by_name["fluorouracil"].regimen_components
    assert set(by_name["pertuzumab+trastuzumab"].regimen_components) == {"pertuzumab", "trastuzumab"}
    assert by_name["goserelin"].drug_class == by_name["denosumab"].drug_class == "supportive"
    assert all(alias == alias.lower() and target in by_name for alias, target in drug_aliases().items())


def test_every_number_column_is_bounded_both_ways():
    """A number too large for the type it is kept in (DECIMAL(12, 3), INTEGER) is judged by the column's bounds
    (`validate.rules`): without a lower bound and an upper one (max, or plausible_max), it would read as missing
    with no word."""
    for table in tables().values():
        for column in table.columns:
            if column.type in ("number", "integer"):
                assert column.min is not None, (table.name, column.name)
                assert column.max is not None or column.plausible_max is not None, (table.name, column.name)
