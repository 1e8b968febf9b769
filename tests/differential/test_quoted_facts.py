"""Which record a reason quotes when several could: both engines record the same one, the one the decisions name.

A criterion decided by several records quotes one of them in its facts: the
latest CR/PR/SD of the line (D34), the other tumour that decides
exc_other_malignancy (D48), the current pregnancy (D49). Generated extracts
rarely tie on the dates that decide these, so the ties are written out here,
each patient a variant of the spec tests' baseline patient, and both engines
must record the facts named below (and agree on everything else).
"""

from __future__ import annotations

import pytest

from tests.differential.compare import differences, facts_rows, report, screen_both
from tests.differential.extracts import GeneratedExtract, baseline_patient, extract_of
from tests.spec.harness import OTHER_TUMOUR_COLUMNS, baseline_with
from tests.spec.tables import table

# Responses on the line (start 2022-01-03) before S (2023-03-01); the baseline has SD on 2022-06-15 and 2022-12-15.
RESPONSES = {
    "sd_pr_cr_tie": "2022-12-15 | CR\n2022-12-15 | PR",  # with the baseline's SD that day: SD is quoted
    "pr_cr_tie": "2023-01-10 | CR\n2023-01-10 | PR",
    "latest_cr": "2023-01-10 | CR\n2022-12-20 | PR",
}

# Other primaries (OTHER_TUMOUR_COLUMNS); R = 2023-04-19, so R - 5 years = 2018-04-19.
OTHER_TUMOURS = {
    # Excluding ones win over undecidable and exempt ones, the first diagnosed among them.
    "first_excluding": (
        "X1 | 2010-05-01 | C18.7 | 8140 | 3 | curative | false | false | 2011-01-01",  # exempt
        "X2 | 2011-05-01 | C34.1 | 8140 | 3 |          | false | false | 2012-01-01",  # intent missing
        "X3 | 2015-05-01 | C18.7 | 8140 | 3 | palliative | false | false | 2016-01-01",  # not curative
        "X4 | 2012-05-01 | C18.7 | 8140 | 3 | curative | true  | false | 2013-01-01",  # chemotherapy
    ),
    # No excluding one: the first undecidable, here a skin tumour without morphology.
    "first_undecidable": (
        "X1 | 2010-05-01 | C18.7 | 8140 | 3 | curative | false | false | 2011-01-01",
        "X2 | 2014-05-01 | C34.1 | 8140 | 3 | curative |       | false | 2015-01-01",  # chemotherapy missing
        "X3 | 2013-05-01 | C44.3 |      | 3 | curative | false | false | 2019-01-01",  # skin, morphology missing
    ),
    # Diagnosed the same day: the smallest tumour_id (as text) is quoted.
    "same_day": (
        "X9  | 2016-05-01 | C18.7 | 8140 | 3 | none | false | false | 2017-01-01",
        "X10 | 2016-05-01 | C18.7 | 8140 | 3 | curative | false | true | 2017-01-01",
    ),
    # The rule names the first exemption condition that is false: intent, then chemotherapy, then radiotherapy.
    "several_reasons": ("X1 | 2016-05-01 | C18.7 | 8140 | 3 | palliative | true | true | 2017-01-01",),
    "diagnosed_recently": ("X1 | 2020-05-01 | C18.7 | 8140 | 3 | curative | false | false |",),
    "treated_recently": ("X1 | 2012-05-01 | C18.7 | 8140 | 3 | curative | false | false | 2019-01-01",),
    "last_treatment_missing": ("X1 | 2012-05-01 | C18.7 | 8140 | 3 | curative | false | false |",),
    "skin_carcinoma": ("X1 | 2022-05-01 | C44.3 | 8090 | 3 | curative | false | false |",),
}

# Pregnancy or breastfeeding current between S (2023-03-01) and R (2023-04-19).
PREGNANCIES = {
    "earliest_start": "pregnant | 2023-03-10 | | true\nbreastfeeding | 2023-02-01 | 2023-03-05 | true",
    "code_tie": "pregnant | 2023-03-10 | 2023-03-20 | true\nbreastfeeding | 2023-03-10 | | true",
    "not_ended_first": "pregnant | 2023-03-10 | 2023-04-01 | true\npregnant | 2023-03-10 | | true",
    "latest_end": "pregnant | 2023-02-10 | 2023-03-02 | true\npregnant | 2023-02-10 | 2023-04-02 | true",
    "not_current": "pregnant | 2023-04-20 | | true\nbreastfeeding | 2023-01-01 | 2023-02-28 | true\n"
    "pregnant | 2023-03-10 | | false",
}


def _extract() -> GeneratedExtract:
    patients = [
        *(
            baseline_patient(
                name, response_assessments=baseline_with("response_assessments", "assessment_date | response\n" + rows)
            )
            for name, rows in RESPONSES.items()
        ),
        *(
            baseline_patient(name, tumours=baseline_with("tumours", "\n".join([OTHER_TUMOUR_COLUMNS, *rows])))
            for name, rows in OTHER_TUMOURS.items()
        ),
        *(
            baseline_patient(name, observations=table("code | start_date | end_date | value\n" + rows))
            for name, rows in PREGNANCIES.items()
        ),
    ]
    return extract_of(patients)


@pytest.fixture(scope="module")
def facts() -> dict[tuple[str, str], dict[str, str]]:
    """The facts of each patient's explained units (both engines agreeing), by (patient, criterion)."""
    extract = _extract()
    outputs = screen_both(extract)
    found = differences(outputs)
    assert not found, report(extract, found)
    rows = facts_rows(outputs["duckdb"])
    return {(patient, criterion): row for (patient, event, criterion), row in rows.items() if event == f"{patient}-S"}


@pytest.mark.parametrize(
    ("patient", "date", "response"),
    [("sd_pr_cr_tie", "2022-12-15", "SD"), ("pr_cr_tie", "2023-01-10", "PR"), ("latest_cr", "2023-01-10", "CR")],
)
def test_the_response_quoted_is_the_latest_and_the_least_on_a_tie(facts, patient: str, date: str, response: str):
    row = facts[(patient, "inc_disease_control_6m")]
    assert (row["rule"], row["control_date"], row["control_response"]) == ("disease_controlled", date, response)


@pytest.mark.parametrize(
    ("patient", "rule", "tumour", "count"),
    [
        ("first_excluding", "chemotherapy", "X4", "4"),
        ("first_undecidable", "skin_morphology_missing", "X3", "3"),
        ("same_day", "radiotherapy", "X10", "2"),
        ("several_reasons", "not_curative", "X1", "1"),
        ("diagnosed_recently", "diagnosed_recently", "X1", "1"),
        ("treated_recently", "treated_recently", "X1", "1"),
        ("last_treatment_missing", "last_treatment_missing", "X1", "1"),
        ("skin_carcinoma", "skin_carcinoma", "X1", "1"),
    ],
)
def test_the_other_tumour_quoted_decides_and_was_diagnosed_first(facts, patient: str, rule: str, tumour, count):
    row = facts[(patient, "exc_other_malignancy")]
    assert (row["rule"], row["other_tumour_id"], row["other_tumours"]) == (rule, f"{patient}-{tumour}", count)
    assert row["exemption_date"] == "2018-04-19"


@pytest.mark.parametrize(
    ("patient", "rule", "code", "start", "end"),
    [
        ("earliest_start", "current", "breastfeeding", "2023-02-01", "2023-03-05"),
        ("code_tie", "current", "breastfeeding", "2023-03-10", ""),
        ("not_ended_first", "current", "pregnant", "2023-03-10", ""),
        ("latest_end", "current", "pregnant", "2023-02-10", "2023-04-02"),
        ("not_current", "none_current", "", "", ""),
    ],
)
def test_the_pregnancy_quoted_is_the_earliest_current_one(facts, patient: str, rule, code, start, end) -> None:
    row = facts[(patient, "exc_pregnancy")]
    assert (row["rule"], row["pregnancy_code"], row["pregnancy_start"], row["pregnancy_end"]) == (
        rule,
        code,
        start,
        end,
    )
