"""Oligoprogression confirmed on an FDG-PET-CT 6 weeks (42 days) after the first screening scan.

A PET dated S + 35 to S + 49 confirms when the oligoprogression rule passes on
it, compared with S's reference study (D17). Baseline: screening CT S on
2023-03-01, confirmation FDG-PET-CT `pet` on S + 42 with the liver lesion L1 at
31 mm (20 mm on the reference CT), cut-off 2023-04-20 (S + 50).
"""

from __future__ import annotations

import pandas as pd

from tests.spec.baseline import AS_OF, S, days_after, imaging_scanned_on
from tests.spec.cases import cases, expect
from tests.spec.harness import Case, baseline_with, baseline_without, case
from tests.spec.tables import concat, table


def pet_on(days_after_s: int, modality: str = "FDG-PET-CT", **settings: object) -> Case:
    return case(
        imaging=concat(
            baseline_without("imaging", study_id="pet"),
            table(f"study_id | study_date | modality\npet | {days_after(S, days_after_s)} | {modality}"),
        ),
        **settings,  # type: ignore[arg-type]
    )


@cases(
    expect("PET on S + 34", pet_on(34), inc_pet_confirmation="fail", rule="no_pet"),
    expect("PET on S + 35", pet_on(35), inc_pet_confirmation="pass", rule="confirmed"),
    expect("PET on S + 42", pet_on(42), inc_pet_confirmation="pass", rule="confirmed"),
    expect("PET on S + 49", pet_on(49), inc_pet_confirmation="pass", rule="confirmed"),
    expect("PET on S + 50", pet_on(50), inc_pet_confirmation="fail", rule="no_pet"),
    expect("a CT on S + 42", pet_on(42, modality="CT"), inc_pet_confirmation="fail", rule="no_pet"),
)
def test_confirmation_pet_window_is_s_plus_35_to_49(checked, spec):
    """Only an FDG-PET-CT dated S + 35 to S + 49 can confirm; with none and the cut-off past S + 49, it fails."""
    checked(spec)


@cases(
    expect(
        "PET on S + 35, tolerance 3 days",
        pet_on(35, parameters={"pet_confirmation_tolerance_days": 3}),
        inc_pet_confirmation="fail",
        rule="no_pet",
    ),
    expect(
        "PET on S + 42, tolerance 3 days",
        pet_on(42, parameters={"pet_confirmation_tolerance_days": 3}),
        inc_pet_confirmation="pass",
        rule="confirmed",
    ),
)
def test_the_confirmation_window_comes_from_the_protocol(checked, spec):
    """The window is the protocol's `pet_confirmation_days` (42) +/- `pet_confirmation_tolerance_days` (7): with a
    tolerance of 3 days it is S + 39 to S + 45, so a PET on S + 35 no longer confirms."""
    checked(spec)


def confirmation_lesions(rows: str, *, imaging: pd.DataFrame | None = None) -> Case:
    """The baseline with the PET's lesion rows replaced (`study_id | lesion_id | location | organ | size_mm`)."""
    lesions = concat(
        baseline_without("lesions", study_id="pet"),
        table("study_id | lesion_id | location | organ | size_mm\n" + rows),
    )
    return case(lesions=lesions) if imaging is None else case(lesions=lesions, imaging=imaging)


TWO_PETS = baseline_with("imaging", "study_id | study_date | modality\npet-2 | 2023-04-16 | FDG-PET-CT")


@cases(
    expect(
        "same size as on S",
        confirmation_lesions("pet | L1 | distant | liver | 30"),
        inc_pet_confirmation="pass",
        rule="confirmed",
    ),
    expect(
        "back to the reference size",
        confirmation_lesions("pet | L1 | distant | liver | 20"),
        inc_pet_confirmation="fail",
        rule="not_confirmed",
    ),
    expect(
        "new lung lesion: two organs",
        confirmation_lesions("pet | L1 | distant | liver | 31\npet | L2 | distant | lung | 25"),
        inc_pet_confirmation="fail",
        rule="not_confirmed",
    ),
    expect(
        "lung lesion undetermined",
        confirmation_lesions(
            "pet | L1 | distant | liver | 31\nref | L2 | distant | lung | 20\npet | L2 | distant | lung |"
        ),
        inc_pet_confirmation="unknown",
        rule="confirmation_undecided",
    ),
    expect(
        "one PET fails, another passes",
        confirmation_lesions(
            "pet | L1 | distant | liver | 31\npet | L2 | distant | lung | 25\npet-2 | L1 | distant | liver | 31",
            imaging=TWO_PETS,
        ),
        inc_pet_confirmation="pass",
        rule="confirmed",
    ),
    expect(
        "one PET fails, another is undetermined",
        confirmation_lesions(
            "pet | L1 | distant | liver | 31\npet | L2 | distant | lung | 25\n"
            "ref | L3 | distant | bone | 5\npet-2 | L1 | distant | liver | 31\npet-2 | L3 | distant | bone |",
            imaging=TWO_PETS,
        ),
        inc_pet_confirmation="unknown",
        rule="confirmation_undecided",
    ),
)
def test_the_confirmation_pet_must_pass_the_oligoprogression_rule(checked, spec):
    """D17: a PET in the window confirms when the oligoprogression rule passes on it, compared with S's reference."""
    checked(spec)


def without_pet(cut_off_days_after_s: int) -> Case:
    """No confirmation PET, S moved so that the cut-off falls `cut_off_days_after_s` days after it."""
    return case(
        imaging=imaging_scanned_on(days_after(AS_OF, -cut_off_days_after_s), pet_after_days=None),
        lesions=baseline_without("lesions", study_id="pet"),
    )


@cases(
    expect(
        "no PET yet, cut-off S + 48 (pending)",
        without_pet(48),
        only=False,
        inc_pet_confirmation="unknown",
        rule="pet_pending",
    ),
    expect("no PET, cut-off S + 49", without_pet(49), only=False, inc_pet_confirmation="fail", rule="no_pet"),
)
def test_a_missing_confirmation_pet_is_pending_until_s_plus_49(checked, spec):
    """With no confirmation PET, the outcome is unknown while the cut-off is before S + 49, and fail from then on."""
    checked(spec)


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


@cases(
    expect(
        "CT reference: SUVmax cannot confirm",
        SUV_ONLY_AGAINST_A_CT_REFERENCE,
        only=False,
        inc_pet_confirmation="fail",
        rule="not_confirmed",
    ),
    expect(
        "PET reference: SUVmax +20 % confirms",
        PET_REFERENCE,
        only=False,
        inc_pet_confirmation="pass",
        rule="confirmed",
    ),
)
def test_the_confirmation_pet_uses_suv_only_against_a_pet_reference(checked, spec):
    """D17/D14: on the confirmation PET the SUVmax rule applies only when S's reference is an FDG-PET-CT too."""
    checked(spec)


def cut_off_45_days_after_s(pet_lesions: str | None = None) -> Case:
    """S moved so that the cut-off falls on S + 45, its PET on S + 42; `pet_lesions` replaces the PET's rows."""
    imaging = imaging_scanned_on(days_after(AS_OF, -45))
    if pet_lesions is None:
        return case(imaging=imaging)
    lesions = concat(
        baseline_without("lesions", study_id="pet"),
        table("study_id | lesion_id | location | organ | size_mm\n" + pet_lesions),
    )
    return case(imaging=imaging, lesions=lesions)


@cases(
    expect(
        "PET on S + 42 confirms, cut-off S + 45",
        cut_off_45_days_after_s(),
        inc_pet_confirmation="pass",
        rule="confirmed",
    ),
    expect(
        "PET on S + 42 back to the reference size, cut-off S + 45",
        cut_off_45_days_after_s("pet | L1 | distant | liver | 20"),
        inc_pet_confirmation="fail",
        rule="not_confirmed",
    ),
)
def test_a_pet_in_the_window_decides_before_the_window_closes(checked, spec):
    """criteria.md: a PET in [S + 35, S + 49] on which the rule passes -> pass; only ones on which it fails -> fail
    (D29); "pending" is only for no PET yet while as_of < S + 49. With the cut-off on S + 45 a PET of S + 42 decides
    either way."""
    checked(spec)


@cases(
    expect(
        "a PET on S + 42 without lesion rows",
        case(lesions=baseline_without("lesions", study_id="pet")),
        events=["S"],
        inc_pet_confirmation="fail",
        rule="not_confirmed",
    )
)
def test_a_confirmation_pet_without_lesion_rows_fails(checked, spec):
    """D29: a PET in the window with no lesion measured on it shows no progressive lesion, so the oligoprogression
    rule fails on it (criteria.md: "None ... -> fail"), and so does the confirmation."""
    checked(spec)
