"""Lesion progression at the exact thresholds (sql/derived/reference_lesions.sql, lesion_progression.sql).

criteria.md: progressive = new, or size_S >= 1.20 x size_ref and (bone, or size_S > 15 mm), or both studies
FDG-PET-CT and suv_S >= 1.20 x suv_ref; docs/decisions.md D13-D15 (Kleene: NULL = undetermined).
"""

from __future__ import annotations

import pytest

from tests.engines.duckdb_engine.loaded import Registry, build, rows

LINE_START = "2022-01-03"
S = "2023-03-01"


def progressive(
    size_ref: str | None,
    size_s: str | None,
    *,
    organ: str = "liver",
    modalities: tuple[str, str] = ("CT", "CT"),
    suv_ref: str | None = None,
    suv_s: str | None = None,
    **parameters: object,
) -> bool | None:
    """Whether lesion L1 on S is progressive against the line-start reference (None = undetermined)."""
    registry = (
        Registry()
        .patient()
        .breast_tumour()
        .episode("letrozole", LINE_START)
        .study("ref", LINE_START, modalities[0])
        .lesion("ref", "L1", size_ref, organ=organ, suv_max=suv_ref)
        .study("S", S, modalities[1])
        .lesion("S", "L1", size_s, organ=organ, suv_max=suv_s)
    )
    con = build(registry.connect("2024-12-31", **parameters), until="lesion_progression")
    return rows(con, "SELECT progressive FROM lesion_progression WHERE assessed_id = 'S'")[0][0]


@pytest.mark.parametrize(
    ("size_ref", "size_s", "expected"),
    [
        ("10.0", "12.0", True),  # exactly +20 %: no floating-point error
        ("10.0", "11.999", False),
        ("9.6", "12.0", True),  # +25 %
    ],
)
def test_bone_size_rule_has_no_floor(size_ref: str, size_s: str, expected: bool) -> None:
    assert progressive(size_ref, size_s, organ="bone") is expected


@pytest.mark.parametrize(
    ("size_ref", "size_s", "expected"),
    [
        ("12.5", "15.0", False),  # +20 % but not larger than 15 mm: the floor is strict
        ("12.5", "15.001", True),
        ("10.0", "12.0", False),  # +20 % below the floor
        ("20.0", "24.0", True),
        ("20.0", "23.999", False),
    ],
)
def test_size_rule_outside_bone_needs_more_than_the_floor(size_ref: str, size_s: str, expected: bool) -> None:
    assert progressive(size_ref, size_s) is expected


def test_size_floor_and_increase_are_protocol_parameters() -> None:
    assert progressive("10.0", "12.0", size_floor_mm=10) is True
    assert progressive("20.0", "24.0", size_increase_pct=25) is False


@pytest.mark.parametrize(
    ("suv_ref", "suv_s", "expected"),
    [("5.0", "6.0", True), ("5.0", "5.999", False)],
)
def test_suv_rule_pet_to_pet(suv_ref: str, suv_s: str, expected: bool) -> None:
    result = progressive("20.0", "20.0", modalities=("FDG-PET-CT", "FDG-PET-CT"), suv_ref=suv_ref, suv_s=suv_s)
    assert result is expected


@pytest.mark.parametrize("modalities", [("CT", "FDG-PET-CT"), ("FDG-PET-CT", "CT")])
def test_suv_rule_only_when_both_studies_are_pet(modalities: tuple[str, str]) -> None:
    assert progressive("20.0", "20.0", modalities=modalities, suv_ref="4.0", suv_s="8.0") is False


def test_missing_size_is_undetermined() -> None:
    assert progressive("20.0", None) is None
    assert progressive(None, "30.0") is None


def test_missing_reference_size_cannot_make_a_small_lesion_progressive() -> None:
    # Kleene: whatever the reference, 12 mm outside bone is not larger than 15 mm.
    assert progressive(None, "12.0") is False


def test_missing_suv_on_pet_is_undetermined_when_size_does_not_decide() -> None:
    pet = ("FDG-PET-CT", "FDG-PET-CT")
    assert progressive("20.0", "20.0", modalities=pet, suv_ref="4.0", suv_s=None) is None
    assert progressive("20.0", "30.0", modalities=pet, suv_ref="4.0", suv_s=None) is True


def lesion_outcomes(registry: Registry, **parameters: object) -> list[tuple[object, ...]]:
    con = build(registry.connect("2024-12-31", **parameters), until="lesion_progression")
    return rows(
        con,
        "SELECT assessed_id, lesion_id, is_new, progressive FROM lesion_progression "
        "WHERE scan_id = 'S' ORDER BY assessed_id, lesion_id",
    )


def on_line() -> Registry:
    return Registry().patient().breast_tumour().episode("letrozole", LINE_START)


def test_lesion_absent_from_the_reference_is_new_and_a_row_without_sizes_is_not() -> None:
    # docs/decisions.md D13.
    registry = (
        on_line()
        .study("ref", LINE_START)
        .lesion("ref", "L1", 20)
        .lesion("ref", "L2", None)
        .study("S", S)
        .lesion("S", "L1", 20)
        .lesion("S", "L2", 20)
        .lesion("S", "L3", 5)
    )
    assert lesion_outcomes(registry) == [
        ("S", "L1", False, False),
        ("S", "L2", False, None),
        ("S", "L3", True, True),
    ]


def test_without_a_reference_study_every_lesion_is_undetermined() -> None:
    registry = on_line().study("old", "2021-01-01").lesion("old", "L1", 20).study("S", S).lesion("S", "L1", 40)
    assert lesion_outcomes(registry) == [("S", "L1", None, None)]


def test_confirmation_pet_is_compared_with_the_reference_of_s() -> None:
    # docs/decisions.md D17: the PET in [S + 35, S + 49] against S's (CT) reference: sizes only, no SUV rule.
    registry = (
        on_line()
        .study("ref", LINE_START)
        .lesion("ref", "L1", 20, suv_max=3)
        .study("S", S)
        .lesion("S", "L1", 30)
        .study("pet_early", "2023-04-04", "FDG-PET-CT")  # S + 34: outside the window
        .lesion("pet_early", "L1", 30)
        .study("pet", "2023-04-05", "FDG-PET-CT")  # S + 35
        .lesion("pet", "L1", 20, suv_max=9)
        .lesion("pet", "L5", 8, organ="bone")
        .study("pet_late", "2023-04-19", "FDG-PET-CT")  # S + 49
        .lesion("pet_late", "L1", 30)
    )
    assert lesion_outcomes(registry) == [
        ("S", "L1", False, True),
        ("pet", "L1", False, False),
        ("pet", "L5", True, True),
        ("pet_late", "L1", False, True),
    ]


def test_nadir_reference_takes_the_smallest_size_since_the_window_start() -> None:
    # docs/decisions.md D15: 20 at the line start, 12 at the nadir, 15.5 on S: +29 % over the nadir.
    registry = (
        on_line()
        .study("ref", LINE_START)
        .lesion("ref", "L1", 20)
        .study("nadir", "2022-09-01")
        .lesion("nadir", "L1", 12)
        .study("S", S)
        .lesion("S", "L1", "15.5")
    )
    assert lesion_outcomes(registry) == [("S", "L1", False, False)]
    assert lesion_outcomes(registry, reference="nadir") == [("S", "L1", False, True)]
