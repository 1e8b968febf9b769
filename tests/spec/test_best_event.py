"""Events and the best event: which scans are screened, and which one speaks for the patient.

Every imaging study during an active metastatic line (after its reference
window) with a progressive or undetermined lesion is an event. The patient's
result is that of the best event: fewest fail, then fewest unknown, then
earliest S, then smallest study_id (review outcomes do not count). A patient
without an event still gets a row, evaluated at the cut-off.
"""

from __future__ import annotations

from oligo_cohort.criteria import CRITERION_IDS, FAILED_WITHOUT_EVENT
from tests.spec.baseline import LINE_START, R, S, days_after
from tests.spec.cases import cases, expect
from tests.spec.harness import Case, assert_only_changes, baseline_with, baseline_without, case, kleene_status
from tests.spec.tables import table

BASELINE_CASE = case()
# The rule each criterion takes on the baseline's screening scan.
BASELINE_RULES = {
    "inc_invasive_breast_cancer": "histological",
    "inc_metastatic": "m1_at_diagnosis",
    "inc_oligoprogression": "oligoprogressive",
    "inc_therapy_class": "treatment_class",
    "inc_line_1_or_2": "allowed_line",
    "inc_disease_control_6m": "disease_controlled",
    "inc_same_modality": "same_modality",
    "inc_imaging_window": "window_open",
    "inc_pet_confirmation": "confirmed",
    "inc_lat_amenable": "recorded_true",
    "inc_age_18": "adult",
    "inc_who_ps_0_1": "good",
    "inc_informed_consent": "recorded_true",
    "exc_more_than_two_lines": "within_limit",
    "exc_other_malignancy": "none",
    "exc_pregnancy": "none_current",
    "exc_medical_risk": "not_recorded",
    "exc_psychosocial": "not_recorded",
}


@cases(
    expect(
        "the baseline",
        BASELINE_CASE,
        best="S",
        columns={"registration_date": R, "line_number": 1, "reference_study_id": "ref", "status": "eligible"},
        rule=BASELINE_RULES,
    )
)
def test_the_baseline_patient_is_eligible_on_its_screening_scan(checked, spec):
    """The baseline passes every computable criterion on S, registered at S + 49 on line 1 against the CT `ref`."""
    result = checked(spec)
    assert (result.patient["status"], result.patient["screening_date"]) == ("eligible", S)


@cases(
    expect(
        "the baseline's confirmation PET",
        BASELINE_CASE,
        at="pet",
        only=False,
        events=["S", "pet"],
        best="S",
        inc_same_modality="fail",
        inc_pet_confirmation="unknown",
        inc_oligoprogression="pass",
        rule={"inc_same_modality": "other_modality", "inc_pet_confirmation": "pet_pending"},
    )
)
def test_the_confirmation_pet_is_an_event_of_its_own(checked, spec):
    """The PET at S + 42 shows a progressive lesion on the line too, so it is an event; its reference is a CT (no
    PET in the reference window), and its own confirmation is still pending."""
    checked(spec)


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


@cases(
    expect(
        "an earlier scan with two organs progressing",
        FEWER_FAILS_LATER,
        at="E1",
        only=False,
        best="S",
        inc_oligoprogression="fail",
    )
)
def test_fewest_fails_beat_an_earlier_scan(checked, spec):
    """An earlier scan with two organs progressing and no confirmation PET loses to a later scan failing nothing."""
    checked(spec)


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


@cases(
    expect(
        "an earlier confirmed scan with an undetermined lesion",
        FEWER_UNKNOWNS_LATER,
        at="E1",
        only=False,
        best="S",
        inc_oligoprogression="unknown",
        inc_pet_confirmation="pass",
    )
)
def test_fewest_unknowns_beat_an_earlier_scan(checked, spec):
    """With no fail on either, a scan with an undetermined lesion loses to a later one with nothing unknown."""
    checked(spec)


@cases(
    expect(
        "an earlier confirmed scan, before amenability and consent were recorded",
        TIE_EARLIER_WINS,
        at="E1",
        only=False,
        best="E1",
        inc_lat_amenable="review",
        inc_informed_consent="review",
    )
)
def test_with_fails_and_unknowns_tied_the_earliest_scan_wins(checked, spec):
    """Two scans with no fail and no unknown: the earlier one is the best event, though it leaves more to review."""
    assert checked(spec).patient["screening_date"] == "2023-01-10"


# E1 (2023-01-10) has no confirmation PET: one fail and no unknown. On S, and on the PET after it, a lung lesion's
# size is missing: S has no fail and two unknowns (oligoprogression and its confirmation).
ONE_FAIL_EARLIER_TWO_UNKNOWNS_LATER = case(
    imaging=baseline_with("imaging", "study_id | study_date | modality\nE1 | 2023-01-10 | CT"),
    lesions=baseline_with(
        "lesions",
        """
        study_id | lesion_id | location | organ | size_mm
        E1       | L1        | distant  | liver | 30
        ref      | L2        | distant  | lung  | 20
        S        | L2        | distant  | lung  |
        pet      | L2        | distant  | lung  |
        """,
    ),
)


@cases(
    expect(
        "an earlier scan with one fail, a later one with two unknowns",
        ONE_FAIL_EARLIER_TWO_UNKNOWNS_LATER,
        at="E1",
        only=False,
        events=["E1", "S", "pet"],
        best="S",
        inc_pet_confirmation="fail",
        inc_oligoprogression="pass",
        rule={"inc_pet_confirmation": "no_pet"},
    )
)
def test_fewest_fails_come_before_fewest_unknowns(checked, spec):
    """criteria.md "Time": the best event has the fewest fail, and only then the fewest unknown. One fail and no
    unknown on an earlier scan loses to no fail and two unknowns on a later one (counting both together, or unknowns
    first, would choose the earlier scan)."""
    result = checked(spec)
    assert {c: result.patient[c] for c in ("inc_oligoprogression", "inc_pet_confirmation")} == {
        "inc_oligoprogression": "unknown",
        "inc_pet_confirmation": "unknown",
    }
    assert result.patient["status"] == "unknown"


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


@cases(expect("two scans on one day, S-b written first", SAME_DAY_SCANS, at=None, best="S-a"))
def test_with_everything_tied_the_smallest_study_id_wins(checked, spec):
    """Two equally good scans on the same day: the smaller study_id is the best event, whatever the row order."""
    checked(spec)


STABLE_EVERYWHERE = case(
    lesions=table("""
        study_id | lesion_id | location | organ | size_mm
        ref      | L1        | distant  | liver | 20
        S        | L1        | distant  | liver | 20
        pet      | L1        | distant  | liver | 20
    """)
)


@cases(
    expect(
        "the liver lesion stable on every scan",
        STABLE_EVERYWHERE,
        at=None,
        events=[],
        columns={"event_id": None, "screening_date": None},
        rule=dict.fromkeys(FAILED_WITHOUT_EVENT, "no_candidate_event"),
        **dict.fromkeys(FAILED_WITHOUT_EVENT, "fail"),
    )
)
def test_a_patient_without_events_fails_the_four_imaging_criteria(checked, spec):
    """D21: no scan shows progression: no event, the imaging criteria fail, the rest is evaluated at the cut-off."""
    checked(spec)


NO_LESION_ROWS_ON_S = case(lesions=baseline_without("lesions", study_id="S"))


@cases(expect("no lesion measured on S", NO_LESION_ROWS_ON_S, at=None, only=False, events=["pet"]))
def test_a_study_without_lesion_rows_is_no_event(checked, spec):
    """D12: a scan with no lesion measured on it is not screened; the confirmation PET remains an event."""
    checked(spec)


def early_scan(days_after_line_start: int) -> Case:
    return case(
        imaging=baseline_with(
            "imaging", f"study_id | study_date | modality\nearly | {days_after(LINE_START, days_after_line_start)} | CT"
        ),
        lesions=baseline_with(
            "lesions", "study_id | lesion_id | location | organ | size_mm\nearly | L1 | distant | liver | 25"
        ),
    )


@cases(
    expect("line start + 30", early_scan(30), at=None, only=False, events=["S", "pet"]),
    expect("line start + 31", early_scan(31), at=None, only=False, events=["S", "early", "pet"]),
)
def test_scans_in_the_reference_window_are_no_events(checked, spec):
    """D12: a scan counts as an event only after line start + 30 days, the end of the reference window."""
    checked(spec)


SECOND_PATIENT_WITHOUT_RECORDS = case(
    patients=baseline_with(
        "patients",
        """
        patient_id | site_id | birth_date | sex | death_date
        p2         | UMCU    | 1970-07-07 | F   |
        """,
    )
)


@cases(
    expect(
        "a second patient, p2, with no other record",
        SECOND_PATIENT_WITHOUT_RECORDS,
        patient="p2",
        at=None,
        only=False,
        events=[],
        columns={"site_id": "UMCU", "event_id": None, "status": "ineligible"},
        inc_invasive_breast_cancer="fail",
        inc_metastatic="fail",
        inc_oligoprogression="fail",
        inc_therapy_class="fail",
        inc_line_1_or_2="fail",
        inc_disease_control_6m="fail",
        inc_same_modality="fail",
        inc_imaging_window="fail",
        inc_pet_confirmation="fail",
        inc_lat_amenable="review",
        inc_age_18="pass",
        inc_who_ps_0_1="unknown",
        inc_informed_consent="review",
        exc_more_than_two_lines="pass",
        exc_other_malignancy="pass",
        exc_pregnancy="pass",
        exc_medical_risk="review",
        exc_psychosocial="review",
        rule={
            "inc_invasive_breast_cancer": "no_index_tumour",
            "inc_metastatic": "no_index_tumour",
            "inc_oligoprogression": "no_candidate_event",
            "inc_therapy_class": "no_active_line",
            "inc_line_1_or_2": "no_active_line",
            "inc_disease_control_6m": "no_active_line",
            "inc_same_modality": "no_candidate_event",
            "inc_imaging_window": "no_candidate_event",
            "inc_pet_confirmation": "no_candidate_event",
            "inc_lat_amenable": "not_recorded",
            "inc_age_18": "adult",
            "inc_who_ps_0_1": "none_in_window",
            "inc_informed_consent": "not_recorded",
            "exc_more_than_two_lines": "within_limit",
            "exc_other_malignancy": "none",
            "exc_pregnancy": "none_current",
            "exc_medical_risk": "not_recorded",
            "exc_psychosocial": "not_recorded",
        },
    )
)
def test_every_patient_gets_a_row_even_without_any_record(checked, spec):
    """D21: a patient with no tumour, therapy or imaging is still screened, at the cut-off, and is ineligible;
    p1 beside it is screened as if alone."""
    result = checked(spec)
    assert set(spec.outcomes) == set(CRITERION_IDS)
    assert_only_changes(result.patient)


@cases(
    expect("baseline", BASELINE_CASE, at=None, only=False),
    expect("an earlier failing scan", FEWER_FAILS_LATER, at=None, only=False),
    expect("an earlier scan with an unknown", FEWER_UNKNOWNS_LATER, at=None, only=False),
    expect("two good scans", TIE_EARLIER_WINS, at=None, only=False),
)
def test_one_best_event_per_patient_and_every_status_follows_its_outcomes(checked, spec):
    """One best event per patient, the one its row shows; every event's status follows the Kleene rule."""
    result = checked(spec)
    best = [e for e, flag in zip(result.events["event_id"], result.events["is_best_event"], strict=True) if flag]
    assert best == [result.patient["event_id"]]
    for _, event in result.events.iterrows():
        assert event["status"] == kleene_status(event)
    best_row = result.event(best[0])
    assert {c: best_row[c] for c in CRITERION_IDS} == {c: result.patient[c] for c in CRITERION_IDS}
    assert best_row["status"] == result.patient["status"]
