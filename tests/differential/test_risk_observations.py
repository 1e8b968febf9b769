"""exc_medical_risk and exc_psychosocial from medical_risk / compliance_risk observations, on both engines.

criteria.md: "latest medical_risk observation on or before R: true -> fail, false -> pass, missing value ->
unknown; none (or no observations table) -> review"; exc_psychosocial the same of compliance_risk; D18: true
and false on the latest date -> review. The loader does not accept these codes, nor an observation without a
value, yet, so the rows are put straight into the loaded `observations` table: this holds the engines to the
rule (and to each other) for the data they will be given.
"""

from __future__ import annotations

import pytest

from oligo_cohort.load import load_extract, materialise
from oligo_cohort.protocol import load_protocol
from tests.differential.compare import differences, facts_rows, screen_loaded_both
from tests.differential.extracts import baseline_patient, extract_of

R = "2023-04-19"  # the baseline's registration date; the cut-off is a day later

# patient -> observation rows (code, start_date, value; None = no value), added to the baseline's.
OBSERVED: dict[str, list[tuple[str, str, bool | None]]] = {
    "present": [("medical_risk", "2023-03-10", True), ("compliance_risk", "2023-03-10", False)],
    "latest_decides": [("medical_risk", "2022-12-01", True), ("medical_risk", "2023-03-10", False)],
    "without_value": [("medical_risk", "2023-03-10", None), ("compliance_risk", "2023-03-10", None)],
    "value_beside_none": [("medical_risk", "2023-03-10", None), ("medical_risk", "2023-03-10", True)],
    "conflicting": [("compliance_risk", "2023-03-10", True), ("compliance_risk", "2023-03-10", False)],
    "after_registration": [("medical_risk", "2023-04-20", True)],
    # An inclusion criterion has no "unknown": a latest amenability record without a value is none (review).
    "amenability_without_value": [("lat_amenable", "2023-03-20", None)],
}

EXPECTED = {
    ("present", "exc_medical_risk"): ("recorded_true", "fail", "2023-03-10"),
    ("present", "exc_psychosocial"): ("recorded_false", "pass", "2023-03-10"),
    ("latest_decides", "exc_medical_risk"): ("recorded_false", "pass", "2023-03-10"),
    ("latest_decides", "exc_psychosocial"): ("not_recorded", "review", ""),
    ("without_value", "exc_medical_risk"): ("recorded_without_value", "unknown", "2023-03-10"),
    ("without_value", "exc_psychosocial"): ("recorded_without_value", "unknown", "2023-03-10"),
    ("value_beside_none", "exc_medical_risk"): ("recorded_true", "fail", "2023-03-10"),
    ("conflicting", "exc_psychosocial"): ("conflicting", "review", "2023-03-10"),
    ("after_registration", "exc_medical_risk"): ("not_recorded", "review", ""),
    ("amenability_without_value", "inc_lat_amenable"): ("not_recorded", "review", "2023-03-20"),
}


@pytest.fixture(scope="module")
def outputs():
    extract = extract_of([baseline_patient(name) for name in OBSERVED])
    loaded = load_extract(extract.source(), as_of=extract.as_of)
    rows = [(patient, *row) for patient, observed in OBSERVED.items() for row in observed]
    materialise(loaded.con, "observations")  # a loaded table may be a view of its typed table
    loaded.con.executemany(
        "INSERT INTO observations (patient_id, code, start_date, end_date, value) VALUES (?, ?, CAST(? AS DATE), NULL, ?)",
        rows,
    )
    try:
        return screen_loaded_both(loaded, load_protocol("cosmo"))
    finally:
        loaded.con.close()


def test_the_engines_agree(outputs) -> None:
    found = differences(outputs)
    assert not found, "\n".join(d.render() for d in found)


@pytest.mark.parametrize(("patient", "criterion"), sorted(EXPECTED))
def test_the_latest_risk_observation_decides(outputs, patient: str, criterion: str) -> None:
    rule, outcome, date = EXPECTED[(patient, criterion)]
    for engine, output in outputs.items():
        row = facts_rows(output)[(patient, f"{patient}-S", criterion)]
        assert (row["rule"], row["observation_date"], row["registration_date"]) == (rule, date, R), engine
        reasons = [line for line in output["reasons.csv"] if line.startswith(f"{patient},{patient}-S,{criterion},")]
        assert len(reasons) == 1 and reasons[0].split(",")[3:5] == [outcome, rule], engine
