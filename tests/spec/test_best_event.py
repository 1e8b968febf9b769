"""Events and the best event: which scans are screened, and which one speaks for the patient.

Every imaging study during an active metastatic line (after its reference
window) with a progressive or undetermined lesion is an event. The patient's
result is that of the best event: fewest fail, then fewest unknown, then
earliest S, then smallest study_id (review outcomes do not count). A patient
without an event still gets a row, evaluated at the cut-off.
"""

from __future__ import annotations

import pytest

from oligo_cohort.criteria import CRITERION_IDS, FAILED_WITHOUT_EVENT
from tests.spec.baseline import LINE_START, R, S, days_after
from tests.spec.harness import (
    Case,
    assert_only_changes,
    assert_outcomes,
    baseline_with,
    baseline_without,
    case,
    kleene_status,
)
from tests.spec.tables import table

BASELINE_CASE = case()


def test_the_baseline_patient_is_eligible_on_its_screening_scan(screened):
    """The baseline passes every computable criterion on S, registered at S + 49 on line 1 against the CT `ref`."""
    result = screened(BASELINE_CASE)
    assert_only_changes(result.patient)
    assert (result.patient["status"], result.patient["event_id"], result.patient["screening_date"]) == (
        "eligible",
        "S",
        S,
    )
    event = result.event("S")
    assert (event["registration_date"], event["line_number"], event["reference_study_id"]) == (R, 1, "ref")
    assert bool(event["is_best_event"])


def test_the_confirmation_pet_is_an_event_of_its_own(screened):
    """The PET at S + 42 shows a progressive lesion on the line too, so it is an event; its reference is a CT."""
    result = screened(BASELINE_CASE)
    assert result.event_ids() == ["S", "pet"]
    pet = result.event("pet")
    assert not bool(pet["is_best_event"])
    # No PET in the reference window: the CT is the reference; its own confirmation is still pending.
    assert_outcomes(pet, inc_same_modality="fail", inc_pet_confirmation="unknown", inc_oligoprogression="pass")


FEWER_FAILS_LATER = case(
    imaging=baseline_with("imaging", "study_id | study_date | modality\nE1 | 2023-01-10 | CT"),
    lesions=baseline_with(
        "lesions",
        """
        study_id | lesion_id | location | organ | size_mm
        E1       | L1        | distant  | liver | 30
        E1       | L2        | distant  | lung  | 20
        """,
    ),
)


def test_fewest_fails_beat_an_earlier_scan(screened):
    """An earlier scan with two organs progressing and no confirmation PET loses to a later scan failing nothing."""
    result = screened(FEWER_FAILS_LATER)
    assert result.event("E1")["inc_oligoprogression"] == "fail"
    assert result.patient["event_id"] == "S"


def earlier_confirmed_scan(l2_on_e1: bool) -> Case:
    """E1 on 2023-01-10 with its own confirmation PET on E1 + 42; with `l2_on_e1` a lung lesion undetermined on E1."""
    lesions = """
        study_id | lesion_id | location | organ | size_mm
        E1       | L1        | distant  | liver | 30
        pet-e1   | L1        | distant  | liver | 30
    """
    if l2_on_e1:
        lesions += "ref | L2 | distant | lung | 20\nE1 | L2 | distant | lung |"
    return case(
        imaging=baseline_with(
            "imaging", "study_id | study_date | modality\nE1 | 2023-01-10 | CT\npet-e1 | 2023-02-21 | FDG-PET-CT"
        ),
        lesions=baseline_with("lesions", lesions),
    )


FEWER_UNKNOWNS_LATER = earlier_confirmed_scan(l2_on_e1=True)
TIE_EARLIER_WINS = earlier_confirmed_scan(l2_on_e1=False)


def test_fewest_unknowns_beat_an_earlier_scan(screened):
    """With no fail on either, a scan with an undetermined lesion loses to a later one with nothing unknown."""
    result = screened(FEWER_UNKNOWNS_LATER)
    assert_outcomes(result.event("E1"), inc_oligoprogression="unknown", inc_pet_confirmation="pass")
    assert result.patient["event_id"] == "S"


def test_with_fails_and_unknowns_tied_the_earliest_scan_wins(screened):
    """Two scans with no fail and no unknown: the earlier one is the best event, though it leaves more to review."""
    result = screened(TIE_EARLIER_WINS)
    e1 = result.event("E1")
    assert_outcomes(e1, inc_lat_amenable="review", inc_informed_consent="review")
    assert result.patient["event_id"] == "E1"
    assert result.patient["screening_date"] == "2023-01-10"


SAME_DAY_SCANS = case(
    imaging=table("""
        study_id | study_date | modality
        ref      | 2021-12-20 | CT
        S-b      | 2023-03-01 | CT
        S-a      | 2023-03-01 | CT
        pet      | 2023-04-12 | FDG-PET-CT
    """),
    lesions=table("""
        study_id | lesion_id | location | organ | size_mm
        ref      | L1        | distant  | liver | 20
        S-b      | L1        | distant  | liver | 30
        S-a      | L1        | distant  | liver | 30
        pet      | L1        | distant  | liver | 31
    """),
)


def test_with_everything_tied_the_smallest_study_id_wins(screened):
    """Two equally good scans on the same day: the smaller study_id is the best event, whatever the row order."""
    result = screened(SAME_DAY_SCANS)
    assert result.patient["event_id"] == "S-a"
    assert_only_changes(result.patient)


STABLE_EVERYWHERE = case(
    lesions=table("""
        study_id | lesion_id | location | organ | size_mm
        ref      | L1        | distant  | liver | 20
        S        | L1        | distant  | liver | 20
        pet      | L1        | distant  | liver | 20
    """)
)


def test_a_patient_without_events_fails_the_four_imaging_criteria(screened):
    """D21: no scan shows progression: no event, the imaging criteria fail, the rest is evaluated at the cut-off."""
    result = screened(STABLE_EVERYWHERE)
    assert result.event_ids() == []
    assert (result.patient["event_id"], result.patient["screening_date"]) == (None, None)
    assert_only_changes(result.patient, **dict.fromkeys(FAILED_WITHOUT_EVENT, "fail"))


NO_LESION_ROWS_ON_S = case(lesions=baseline_without("lesions", study_id="S"))


def test_a_study_without_lesion_rows_is_no_event(screened):
    """D12: a scan with no lesion measured on it is not screened; the confirmation PET remains an event."""
    assert screened(NO_LESION_ROWS_ON_S).event_ids() == ["pet"]


def early_scan(days_after_line_start: int) -> Case:
    return case(
        imaging=baseline_with(
            "imaging", f"study_id | study_date | modality\nearly | {days_after(LINE_START, days_after_line_start)} | CT"
        ),
        lesions=baseline_with(
            "lesions", "study_id | lesion_id | location | organ | size_mm\nearly | L1 | distant | liver | 25"
        ),
    )


@pytest.mark.parametrize(
    ("spec", "is_event"),
    [
        pytest.param(early_scan(30), False, id="line start + 30"),
        pytest.param(early_scan(31), True, id="line start + 31"),
    ],
)
def test_scans_in_the_reference_window_are_no_events(screened, spec, is_event):
    """D12: a scan counts as an event only after line start + 30 days, the end of the reference window."""
    assert ("early" in screened(spec).event_ids()) is is_event


SECOND_PATIENT_WITHOUT_RECORDS = case(
    patients=baseline_with(
        "patients",
        """
        patient_id | site_id | birth_date | sex | death_date
        p2         | UMCU    | 1970-07-07 | F   |
        """,
    )
)


def test_every_patient_gets_a_row_even_without_any_record(screened):
    """D21: a patient with no tumour, therapy or imaging is still screened, at the cut-off, and is ineligible."""
    result = screened(SECOND_PATIENT_WITHOUT_RECORDS)
    p2 = result.patient_row("p2")
    assert (p2["site_id"], p2["event_id"], p2["status"]) == ("UMCU", None, "ineligible")
    expected = {
        "inc_invasive_breast_cancer": "fail",
        "inc_metastatic": "fail",
        "inc_oligoprogression": "fail",
        "inc_therapy_class": "fail",
        "inc_line_1_or_2": "fail",
        "inc_disease_control_6m": "fail",
        "inc_same_modality": "fail",
        "inc_imaging_window": "fail",
        "inc_pet_confirmation": "fail",
        "inc_lat_amenable": "review",
        "inc_age_18": "pass",
        "inc_who_ps_0_1": "unknown",
        "inc_informed_consent": "review",
        "exc_more_than_two_lines": "pass",
        "exc_other_malignancy": "pass",
        "exc_pregnancy": "pass",
        "exc_medical_risk": "review",
        "exc_psychosocial": "review",
    }
    assert {c: p2[c] for c in CRITERION_IDS} == expected
    assert_only_changes(result.patient)  # p1 is screened as if alone


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(BASELINE_CASE, id="baseline"),
        pytest.param(FEWER_FAILS_LATER, id="an earlier failing scan"),
        pytest.param(FEWER_UNKNOWNS_LATER, id="an earlier scan with an unknown"),
        pytest.param(TIE_EARLIER_WINS, id="two good scans"),
    ],
)
def test_one_best_event_per_patient_and_every_status_follows_its_outcomes(screened, spec):
    """One best event per patient, the one its row shows; every event's status follows the Kleene rule."""
    result = screened(spec)
    best = [e for e, flag in zip(result.events["event_id"], result.events["is_best_event"], strict=True) if flag]
    assert best == [result.patient["event_id"]]
    for _, event in result.events.iterrows():
        assert event["status"] == kleene_status(event)
    best_row = result.event(best[0])
    assert {c: best_row[c] for c in CRITERION_IDS} == {c: result.patient[c] for c in CRITERION_IDS}
    assert best_row["status"] == result.patient["status"]
