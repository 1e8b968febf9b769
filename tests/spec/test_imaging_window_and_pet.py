"""The imaging criteria: same modality as at the line start, the imaging window, and PET confirmation.

Baseline: line start 2022-01-03, so the reference window is [2021-11-04,
2022-02-02]; reference CT `ref` on 2021-12-20; screening CT S on 2023-03-01
(R = S + 49 = 2023-04-19); confirmation FDG-PET-CT `pet` on S + 42; cut-off
2023-04-20 (S + 50).
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.spec.baseline import AS_OF, LINE_START, S, days_after, imaging_scanned_on
from tests.spec.harness import Case, assert_only_changes, assert_outcomes, baseline_with, baseline_without, case
from tests.spec.tables import concat, table


def studies(rows: str) -> pd.DataFrame:
    """Baseline S and pet plus the given reference-window studies (`study_id | study_date | modality`)."""
    return concat(table("study_id | study_date | modality\n" + rows), baseline_without("imaging", study_id="ref"))


def reference_lesions(*study_ids: str) -> pd.DataFrame:
    """The baseline lesions with the reference row of L1 (20 mm) on each of these studies instead of `ref`."""
    rows = "\n".join(f"{study} | L1 | distant | liver | 20" for study in study_ids)
    return concat(
        table("study_id | lesion_id | location | organ | size_mm\n" + rows), baseline_without("lesions", study_id="ref")
    )


REFERENCE_IS_MRI = case(
    imaging=studies("ref | 2021-12-20 | MRI"),
)


def test_a_reference_of_another_modality_fails_same_modality(screened):
    """Without a CT in the reference window, the latest study of another modality is the reference: S fails."""
    event = screened(REFERENCE_IS_MRI).event("S")
    assert event["reference_study_id"] == "ref"
    assert_only_changes(event, inc_same_modality="fail")


SAME_MODALITY_PREFERRED = case(
    imaging=studies("ref | 2021-12-20 | CT\nmri | 2021-12-28 | MRI"),
    lesions=reference_lesions("ref", "mri"),
)
LATEST_OF_TWO = case(
    imaging=studies("early | 2021-11-15 | CT\nref | 2021-12-20 | CT"),
    lesions=reference_lesions("early", "ref"),
)
SAME_DAY_TIE = case(
    imaging=studies("ref-b | 2021-12-20 | CT\nref-a | 2021-12-20 | CT"),
    lesions=reference_lesions("ref-b", "ref-a"),
)


@pytest.mark.parametrize(
    ("spec", "reference"),
    [
        pytest.param(SAME_MODALITY_PREFERRED, "ref", id="same modality before a later MRI"),
        pytest.param(LATEST_OF_TWO, "ref", id="latest of two CTs"),
        pytest.param(SAME_DAY_TIE, "ref-a", id="two CTs on one day: smallest study_id (D11)"),
    ],
)
def test_the_reference_is_the_latest_same_modality_study_in_the_window(screened, spec, reference):
    """D11: the reference is the latest study of S's modality in the window; on a tie the smallest study_id."""
    event = screened(spec).event("S")
    assert event["reference_study_id"] == reference
    assert_only_changes(event)


def reference_on(date: str) -> Case:
    return case(imaging=studies(f"ref | {date} | CT"))


@pytest.mark.parametrize(
    ("spec", "in_window"),
    [
        pytest.param(reference_on(days_after(LINE_START, -60)), True, id="line start - 60"),
        pytest.param(reference_on(days_after(LINE_START, 30)), True, id="line start + 30"),
        pytest.param(reference_on(days_after(LINE_START, -61)), False, id="line start - 61"),
        pytest.param(reference_on(days_after(LINE_START, 31)), False, id="line start + 31"),
    ],
)
def test_reference_window_bounds(screened, spec, in_window):
    """A study on line start - 60 or + 30 days is in the window; a day further out there is no reference."""
    event = screened(spec).event("S")
    if in_window:
        assert event["reference_study_id"] == "ref"
        assert_only_changes(event)
    else:
        # No reference: every lesion is undetermined, on S and on the confirmation PET alike.
        assert event["reference_study_id"] is None
        assert_only_changes(
            event, inc_same_modality="unknown", inc_oligoprogression="unknown", inc_pet_confirmation="unknown"
        )


def died(days_after_s: int) -> Case:
    return case(
        patients=table(f"""
            patient_id | site_id | birth_date | sex | death_date
            p1         | AVL     | 1965-03-15 | F   | {days_after(S, days_after_s)}
        """)
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(died(45), "fail", id="died on S + 45"),
        pytest.param(died(46), "pass", id="died on S + 46 (D22)"),
        pytest.param(died(50), "pass", id="died on S + 50"),
    ],
)
def test_death_before_the_earliest_registration_day_fails_the_imaging_window(screened, spec, expected):
    """D22: a patient who died before S + 46 could not be registered in time; dying on S + 46 itself does not fail."""
    assert_only_changes(screened(spec).event("S"), inc_imaging_window=expected)


def scanned_before_cut_off(days: int, *, worklist: bool) -> Case:
    """S moved to `days` days before the cut-off (with its confirmation PET at S + 42)."""
    return case(imaging=imaging_scanned_on(days_after(AS_OF, -days)), worklist=worklist)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(case(worklist=True), "pass", id="worklist, cut-off S + 50"),
        pytest.param(scanned_before_cut_off(52, worklist=True), "pass", id="worklist, cut-off S + 52"),
        pytest.param(scanned_before_cut_off(53, worklist=True), "fail", id="worklist, cut-off S + 53"),
        pytest.param(scanned_before_cut_off(53, worklist=False), "pass", id="no worklist, cut-off S + 53"),
    ],
)
def test_worklist_mode_closes_the_window_after_s_plus_52(screened, spec, expected):
    """In worklist mode a registration window already closed at the cut-off (cut-off > S + 52) fails."""
    assert_only_changes(screened(spec).event("S"), inc_imaging_window=expected)


def pet_on(days_after_s: int, modality: str = "FDG-PET-CT") -> Case:
    return case(
        imaging=concat(
            baseline_without("imaging", study_id="pet"),
            table(f"study_id | study_date | modality\npet | {days_after(S, days_after_s)} | {modality}"),
        )
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(pet_on(34), "fail", id="PET on S + 34"),
        pytest.param(pet_on(35), "pass", id="PET on S + 35"),
        pytest.param(pet_on(42), "pass", id="PET on S + 42"),
        pytest.param(pet_on(49), "pass", id="PET on S + 49"),
        pytest.param(pet_on(50), "fail", id="PET on S + 50"),
        pytest.param(pet_on(42, modality="CT"), "fail", id="a CT on S + 42"),
    ],
)
def test_confirmation_pet_window_is_s_plus_35_to_49(screened, spec, expected):
    """Only an FDG-PET-CT dated S + 35 to S + 49 can confirm; with none and the cut-off past S + 49, it fails."""
    assert_only_changes(screened(spec).event("S"), inc_pet_confirmation=expected)


def confirmation_lesions(rows: str, *, imaging: pd.DataFrame | None = None) -> Case:
    """The baseline with the PET's lesion rows replaced (`study_id | lesion_id | location | organ | size_mm`)."""
    lesions = concat(
        baseline_without("lesions", study_id="pet"),
        table("study_id | lesion_id | location | organ | size_mm\n" + rows),
    )
    return case(lesions=lesions) if imaging is None else case(lesions=lesions, imaging=imaging)


TWO_PETS = baseline_with("imaging", "study_id | study_date | modality\npet-2 | 2023-04-16 | FDG-PET-CT")

CONFIRMATION_CASES = [
    pytest.param(confirmation_lesions("pet | L1 | distant | liver | 30"), "pass", id="same size as on S"),
    pytest.param(confirmation_lesions("pet | L1 | distant | liver | 20"), "fail", id="back to the reference size"),
    pytest.param(
        confirmation_lesions("pet | L1 | distant | liver | 31\npet | L2 | distant | lung | 25"),
        "fail",
        id="new lung lesion: two organs",
    ),
    pytest.param(
        confirmation_lesions(
            "pet | L1 | distant | liver | 31\nref | L2 | distant | lung | 20\npet | L2 | distant | lung |"
        ),
        "unknown",
        id="lung lesion undetermined",
    ),
    pytest.param(
        confirmation_lesions(
            "pet | L1 | distant | liver | 31\npet | L2 | distant | lung | 25\npet-2 | L1 | distant | liver | 31",
            imaging=TWO_PETS,
        ),
        "pass",
        id="one PET fails, another passes",
    ),
    pytest.param(
        confirmation_lesions(
            "pet | L1 | distant | liver | 31\npet | L2 | distant | lung | 25\n"
            "ref | L3 | distant | bone | 5\npet-2 | L1 | distant | liver | 31\npet-2 | L3 | distant | bone |",
            imaging=TWO_PETS,
        ),
        "unknown",
        id="one PET fails, another is undetermined",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), CONFIRMATION_CASES)
def test_the_confirmation_pet_must_pass_the_oligoprogression_rule(screened, spec, expected):
    """D17: a PET in the window confirms when the oligoprogression rule passes on it, compared with S's reference."""
    assert_only_changes(screened(spec).event("S"), inc_pet_confirmation=expected)


def without_pet(cut_off_days_after_s: int) -> Case:
    """No confirmation PET, S moved so that the cut-off falls `cut_off_days_after_s` days after it."""
    return case(
        imaging=imaging_scanned_on(days_after(AS_OF, -cut_off_days_after_s), pet_after_days=None),
        lesions=baseline_without("lesions", study_id="pet"),
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(without_pet(48), "unknown", id="no PET yet, cut-off S + 48 (pending)"),
        pytest.param(without_pet(49), "fail", id="no PET, cut-off S + 49"),
    ],
)
def test_a_missing_confirmation_pet_is_pending_until_s_plus_49(screened, spec, expected):
    """With no confirmation PET, the outcome is unknown while the cut-off is before S + 49, and fail from then on."""
    assert_outcomes(screened(spec).event("S"), inc_pet_confirmation=expected)


SUV_ONLY_AGAINST_A_CT_REFERENCE = case(
    lesions=concat(
        baseline_without("lesions", study_id="pet"),
        table("""
            study_id | lesion_id | location | organ | size_mm | suv_max
            pet      | L1        | distant  | liver | 20      | 12.0
        """),
    )
)
PET_REFERENCE = case(
    imaging=table("""
        study_id | study_date | modality
        ref      | 2021-12-20 | FDG-PET-CT
        S        | 2023-03-01 | FDG-PET-CT
        pet      | 2023-04-12 | FDG-PET-CT
    """),
    lesions=table("""
        study_id | lesion_id | location | organ | size_mm | suv_max
        ref      | L1        | distant  | liver | 20      | 4.0
        S        | L1        | distant  | liver | 30      | 4.0
        pet      | L1        | distant  | liver | 20      | 4.8
    """),
)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(SUV_ONLY_AGAINST_A_CT_REFERENCE, "fail", id="CT reference: SUVmax cannot confirm"),
        pytest.param(PET_REFERENCE, "pass", id="PET reference: SUVmax +20 % confirms"),
    ],
)
def test_the_confirmation_pet_uses_suv_only_against_a_pet_reference(screened, spec, expected):
    """D17/D14: on the confirmation PET the SUVmax rule applies only when S's reference is an FDG-PET-CT too."""
    assert screened(spec).event("S")["inc_pet_confirmation"] == expected
