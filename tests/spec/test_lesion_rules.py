"""When is a lesion on the screening scan progressive? Size, size floor, bone, SUVmax, new and undetermined lesions.

A lesion on S is progressive when it is new (no row on the reference study),
or `size_S >= 1.20 x size_ref` and (bone, or `size_S > 15 mm`), or both
studies are FDG-PET-CT and `suv_S >= 1.20 x suv_ref`. Missing values make it
undetermined, in three-valued logic (D14).

Most tests here add a second lesion, L2 in the lung, next to the baseline's
progressive liver lesion L1: if L2 is progressive, progression spans two organs
and `inc_oligoprogression` fails; if not, it passes; if L2 is undetermined, the
outcome is unknown. So the outcome on S tells exactly how L2 was classified.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.spec.harness import Case, assert_only_changes, assert_outcomes, baseline_with, case
from tests.spec.tables import table

TWO_ORGANS = "fail"  # L2 progressive: liver and lung
ONE_ORGAN = "pass"  # L2 not progressive: only the liver lesion
EITHER = "unknown"  # L2 undetermined: one or two organs


def with_lung_lesion(ref_size: str | None, s_size: str, organ: str = "lung") -> Case:
    """Baseline plus lesion L2 sized `ref_size` on the reference CT (None: no row) and `s_size` on S ("" = missing)."""
    rows = ["study_id | lesion_id | location | organ | size_mm"]
    if ref_size is not None:
        rows.append(f"ref | L2 | distant | {organ} | {ref_size}")
    rows.append(f"S | L2 | distant | {organ} | {s_size}")
    return case(lesions=baseline_with("lesions", "\n".join(rows)))


SIZE_CASES = [
    pytest.param(with_lung_lesion("20", "24"), TWO_ORGANS, id="exactly +20 % and above 15 mm"),
    pytest.param(with_lung_lesion("20", "23.999"), ONE_ORGAN, id="just below +20 %"),
    pytest.param(with_lung_lesion("12.5", "15"), ONE_ORGAN, id="+20 % to exactly 15 mm (floor is strict)"),
    pytest.param(with_lung_lesion("12.5", "15.001"), TWO_ORGANS, id="+20 % to just above 15 mm"),
    pytest.param(with_lung_lesion("5", "6"), ONE_ORGAN, id="+20 % but below the floor"),
    pytest.param(with_lung_lesion("5", "6", organ="bone"), TWO_ORGANS, id="bone +20 %, no size floor"),
    pytest.param(with_lung_lesion("5", "5.999", organ="bone"), ONE_ORGAN, id="bone just below +20 %"),
    pytest.param(with_lung_lesion("20", "10"), ONE_ORGAN, id="shrinking"),
    pytest.param(with_lung_lesion(None, "8"), TWO_ORGANS, id="new lesion, any size"),
]


@pytest.mark.parametrize(("spec", "expected"), SIZE_CASES)
def test_size_rule(screened, spec, expected):
    """Progressive by size: at least 20 % larger than on the reference and larger than 15 mm (bone: no floor)."""
    assert_only_changes(screened(spec).event("S"), inc_oligoprogression=expected)


UNDETERMINED_CASES = [
    pytest.param(with_lung_lesion("20", ""), EITHER, id="size missing on S"),
    pytest.param(with_lung_lesion("", "30"), EITHER, id="size missing on the reference (D13: measured, not new)"),
    pytest.param(with_lung_lesion("", "12"), ONE_ORGAN, id="size missing on the reference, 12 mm on S (D14)"),
    pytest.param(with_lung_lesion("", "12", organ="bone"), EITHER, id="bone, size missing on the reference"),
]


@pytest.mark.parametrize(("spec", "expected"), UNDETERMINED_CASES)
def test_missing_sizes_make_a_lesion_undetermined_only_when_they_could_change_it(screened, spec, expected):
    """D13/D14: a missing size leaves a lesion undetermined unless the known values decide (12 mm is never > 15)."""
    assert_only_changes(screened(spec).event("S"), inc_oligoprogression=expected)


SEEN_ONLY_ON_A_LATER_SCAN = case(
    imaging=baseline_with(
        "imaging",
        """
        study_id | study_date | modality
        mid      | 2022-09-01 | CT
        """,
    ),
    lesions=baseline_with(
        "lesions",
        """
        study_id | lesion_id | location | organ | size_mm
        mid      | L2        | distant  | lung  | 25
        S        | L2        | distant  | lung  | 25
        """,
    ),
)


def test_a_lesion_without_a_row_on_the_reference_study_is_new(screened):
    """A lesion with no measurement on the reference study is new on S, even if an intermediate scan saw it."""
    assert_only_changes(screened(SEEN_ONLY_ON_A_LATER_SCAN).event("S"), inc_oligoprogression=TWO_ORGANS)


LESION_ONLY_ON_ANOTHER_SCAN = case(
    imaging=baseline_with(
        "imaging",
        """
        study_id | study_date | modality
        mid      | 2022-09-01 | CT
        """,
    ),
    lesions=baseline_with(
        "lesions",
        """
        study_id | lesion_id | location | organ | size_mm
        ref      | L2        | distant  | lung  | 10
        mid      | L2        | distant  | lung  | 40
        """,
    ),
)


def test_only_lesion_rows_of_the_screening_scan_count(screened):
    """D13: a lesion that grew on an intermediate scan but has no row on S does not count for S."""
    result = screened(LESION_ONLY_ON_ANOTHER_SCAN)
    assert_only_changes(result.event("S"), inc_oligoprogression=ONE_ORGAN)


PET_STUDIES = table("""
    study_id | study_date | modality
    ref      | 2021-12-20 | FDG-PET-CT
    S        | 2023-03-01 | FDG-PET-CT
""")


def pet_to_pet(l2_rows: str, imaging: pd.DataFrame = PET_STUDIES) -> Case:
    """Reference and S as given (both PET by default); L1 progressive by size, plus the L2 rows given."""
    lesions = table(f"""
        study_id | lesion_id | location | organ | size_mm | suv_max
        ref      | L1        | distant  | liver | 20      | 4.0
        S        | L1        | distant  | liver | 30      | 4.0
        {l2_rows}
    """)
    return case(imaging=imaging, lesions=lesions)


def l2(ref: str, s: str) -> str:
    """Two rows of lesion L2 (lung): `size | suv` on the reference and on S."""
    return f"ref | L2 | distant | lung | {ref}\nS | L2 | distant | lung | {s}"


SUV_CASES = [
    pytest.param(pet_to_pet(l2("20 | 5.0", "20 | 6.0")), TWO_ORGANS, id="SUVmax exactly +20 %"),
    pytest.param(pet_to_pet(l2("20 | 5.0", "20 | 5.999")), ONE_ORGAN, id="SUVmax just below +20 %"),
    pytest.param(pet_to_pet(l2(" | 5.0", " | 6.0")), TWO_ORGANS, id="sizes missing, SUVmax +20 % decides"),
    pytest.param(pet_to_pet(l2("20 | 5.0", "20 | ")), EITHER, id="size stable, SUVmax missing on S"),
    pytest.param(pet_to_pet(l2("5 | 5.0", "5 | 6.0").replace("lung", "bone")), TWO_ORGANS, id="bone FDG uptake +20 %"),
]


@pytest.mark.parametrize(("spec", "expected"), SUV_CASES)
def test_suv_rule_between_two_pet_studies(screened, spec, expected):
    """Progressive by metabolism: both studies FDG-PET-CT and SUVmax at least 20 % higher on S."""
    assert_outcomes(screened(spec).event("S"), inc_oligoprogression=expected)


CT_REFERENCE_PET_SCAN = table("""
    study_id | study_date | modality
    ref      | 2021-12-20 | CT
    S        | 2023-03-01 | FDG-PET-CT
""")
PET_REFERENCE_CT_SCAN = table("""
    study_id | study_date | modality
    ref      | 2021-12-20 | FDG-PET-CT
    S        | 2023-03-01 | CT
""")

NOT_PET_TO_PET_CASES = [
    pytest.param(pet_to_pet(l2("20 | 5.0", "20 | 8.0"), CT_REFERENCE_PET_SCAN), id="CT reference, PET scan"),
    pytest.param(pet_to_pet(l2("20 | 5.0", "20 | 8.0"), PET_REFERENCE_CT_SCAN), id="PET reference, CT scan"),
    pytest.param(pet_to_pet(l2("20 | ", "20 | 8.0"), CT_REFERENCE_PET_SCAN), id="CT reference without SUV (D14)"),
]


@pytest.mark.parametrize("spec", NOT_PET_TO_PET_CASES)
def test_suv_counts_only_from_pet_to_pet(screened, spec):
    """D14: SUVmax +60 % makes a lesion progressive only if both studies are FDG-PET-CT (else the rule is false)."""
    event = screened(spec).event("S")
    assert_outcomes(event, inc_oligoprogression=ONE_ORGAN)
    assert event["reference_study_id"] == "ref"
