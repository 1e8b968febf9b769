"""Reference studies, lesion progression at exact thresholds, candidate events and confirmation PETs.

Each case is one patient on letrozole from 2022-02-01 (line start); unless a
case says otherwise the reference CT is on 2022-01-20 and the screening scan on
2022-09-01. Outcomes are read from the engine's result tables.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.engines.pandas_engine.builders import Extract, Screened, day, screen

LINE_START = "2022-02-01"
REFERENCE = "2022-01-20"
SCAN = "2022-09-01"
AS_OF = "2023-06-30"

# (patient, reference modality, reference lesions, scan modality, scan lesions, expected inc_oligoprogression or None)
THRESHOLDS = [
    ("exactly_20_pct", "CT", [("L1", "liver", "15")], "CT", [("L1", "liver", "18")], "pass"),
    ("below_20_pct", "CT", [("L1", "liver", "15")], "CT", [("L1", "liver", "17.999")], None),
    ("at_size_floor", "CT", [("L1", "liver", "12.5")], "CT", [("L1", "liver", "15")], None),
    ("above_size_floor", "CT", [("L1", "liver", "12.5")], "CT", [("L1", "liver", "15.001")], "pass"),
    ("bone_no_floor", "CT", [("L1", "bone", "10")], "CT", [("L1", "bone", "12")], "pass"),
    ("bone_below_20_pct", "CT", [("L1", "bone", "10")], "CT", [("L1", "bone", "11.999")], None),
    ("size_missing_on_scan", "CT", [("L1", "liver", "15")], "CT", [("L1", "liver", "")], "unknown"),
    ("new_lesion", "CT", [("L1", "liver", "20")], "CT", [("L1", "liver", "20"), ("L2", "lung", "5")], "pass"),
    ("measured_without_size", "CT", [("L1", "liver", "")], "CT", [("L1", "liver", "30")], "unknown"),
    ("small_and_no_reference_size", "CT", [("L1", "liver", "")], "CT", [("L1", "liver", "10")], None),
    ("suv_20_pct", "FDG-PET-CT", [("L1", "bone", "10", "4")], "FDG-PET-CT", [("L1", "bone", "10", "4.8")], "pass"),
    ("suv_below", "FDG-PET-CT", [("L1", "bone", "10", "4")], "FDG-PET-CT", [("L1", "bone", "10", "4.799")], None),
    ("suv_missing", "FDG-PET-CT", [("L1", "liver", "20", "4")], "FDG-PET-CT", [("L1", "liver", "20")], "unknown"),
    ("suv_on_ct_reference", "CT", [("L1", "liver", "20")], "FDG-PET-CT", [("L1", "liver", "20", "9")], None),
    ("two_lesions_one_organ", "CT", [("L1", "lung", "19"), ("L2", "lung", "13")], "CT",
     [("L1", "lung", "24"), ("L2", "lung", "17")], "pass"),
    ("distant_and_local", "CT", [("L1", "bone", "16"), ("L2", "axillary_node", "14")], "CT",
     [("L1", "bone", "20"), ("L2", "axillary_node", "18")], "fail"),
]  # fmt: skip


def _cases() -> Extract:
    e = Extract()
    for pid, ref_modality, ref_lesions, scan_modality, scan_lesions, _ in THRESHOLDS:
        e.patient(pid).therapy(pid, "letrozole", LINE_START)
        e.study(pid, f"{pid}-ref", REFERENCE, ref_modality, tuple(ref_lesions))
        e.study(pid, f"{pid}-scan", SCAN, scan_modality, tuple(scan_lesions))
    grown = (("L1", "liver", "30"),)
    start = (("L1", "liver", "20"),)
    # No study in [line start - 60, line start + 30]: no reference, every lesion undetermined.
    e.patient("no_reference").therapy("no_reference", "letrozole", LINE_START)
    e.study("no_reference", "no_reference-old", day(LINE_START, -61), "CT", start)
    e.study("no_reference", "no_reference-scan", SCAN, "CT", grown)
    # Window edges: -61 is out, -60 in, +30 in (but MRI), +31 out: the reference is the CT at -60.
    e.patient("edges").therapy("edges", "letrozole", LINE_START)
    e.study("edges", "edges-a", day(LINE_START, -61), "CT", start).study(
        "edges", "edges-b", day(LINE_START, -60), "CT", start
    )
    e.study("edges", "edges-c", day(LINE_START, 30), "MRI", start).study(
        "edges", "edges-d", day(LINE_START, 31), "CT", start
    )
    e.study("edges", "edges-scan", SCAN, "CT", grown)
    # Only an MRI in the window: it is the reference, and the modality criterion fails.
    e.patient("fallback").therapy("fallback", "letrozole", LINE_START)
    e.study("fallback", "fallback-mri", day(LINE_START, 5), "MRI", start).study(
        "fallback", "fallback-scan", SCAN, "CT", grown
    )
    # Two CTs on the latest day: the smallest study_id is the reference (D11).
    e.patient("tie").therapy("tie", "letrozole", LINE_START)
    e.study("tie", "tie-2", day(LINE_START, 10), "CT", start).study("tie", "tie-1", day(LINE_START, 10), "CT", start)
    e.study("tie", "tie-0", day(LINE_START, -30), "CT", start).study("tie", "tie-scan", SCAN, "CT", grown)
    # Events: a study within the reference window (an MRI, so not the reference) is no event; one day later it is.
    e.patient("early").therapy("early", "letrozole", LINE_START).study("early", "early-ref", REFERENCE, "CT", start)
    e.study("early", "early-30", day(LINE_START, 30), "MRI", grown).study(
        "early", "early-31", day(LINE_START, 31), "CT", grown
    )
    # Events: a line ended on 2022-06-01 is active until 2022-07-01; a study without lesions is no event.
    e.patient("ended").therapy("ended", "letrozole", LINE_START, "2022-06-01")
    e.study("ended", "ended-ref", REFERENCE, "CT", start).study("ended", "ended-empty", "2022-05-01", "CT")
    e.study("ended", "ended-in", "2022-07-01", "CT", grown).study("ended", "ended-out", "2022-07-02", "CT", grown)
    # Confirmation PETs at S + 34 / 35 / 49 / 50, and one where the lesion has no size (undetermined).
    for offset in (34, 35, 49, 50):
        pid = f"pet{offset}"
        e.patient(pid).therapy(pid, "letrozole", LINE_START).study(pid, f"{pid}-ref", REFERENCE, "CT", start)
        e.study(pid, f"{pid}-scan", SCAN, "CT", grown).study(pid, f"{pid}-pet", day(SCAN, offset), "FDG-PET-CT", grown)
    e.patient("pet_unsized").therapy("pet_unsized", "letrozole", LINE_START)
    e.study("pet_unsized", "pet_unsized-ref", REFERENCE, "CT", start).study(
        "pet_unsized", "pet_unsized-scan", SCAN, "CT", grown
    )
    e.study("pet_unsized", "pet_unsized-pet", day(SCAN, 42), "FDG-PET-CT", (("L1", "liver", ""),))
    # A PET showing the lesion and a new lung lesion: two organs, the rule fails on it.
    e.patient("pet_spread").therapy("pet_spread", "letrozole", LINE_START)
    e.study("pet_spread", "pet_spread-ref", REFERENCE, "CT", start).study(
        "pet_spread", "pet_spread-scan", SCAN, "CT", grown
    )
    e.study("pet_spread", "pet_spread-pet", day(SCAN, 42), "FDG-PET-CT", (*grown, ("L9", "lung", "8")))
    # Confirmation still pending: the cut-off is before S + 49.
    e.patient("pending").therapy("pending", "letrozole", LINE_START).study(
        "pending", "pending-ref", REFERENCE, "CT", start
    )
    e.study("pending", "pending-scan", day(AS_OF, -40), "CT", grown)
    return e


@pytest.fixture(scope="module")
def screened() -> Screened:
    return screen(_cases(), AS_OF)


@pytest.fixture(scope="module")
def events(screened: Screened) -> pd.DataFrame:
    return screened.events().set_index("event_id")


@pytest.mark.parametrize(("pid", "expected"), [(case[0], case[5]) for case in THRESHOLDS])
def test_lesion_progression_at_thresholds(events: pd.DataFrame, pid: str, expected: str | None) -> None:
    scan = f"{pid}-scan"
    if expected is None:
        assert scan not in events.index, "no progressive or undetermined lesion: no event"
    else:
        assert events.loc[scan, "inc_oligoprogression"] == expected
        assert events.loc[scan, "reference_study_id"] == f"{pid}-ref"


def test_without_a_reference_study_every_lesion_is_undetermined(events: pd.DataFrame) -> None:
    scan = events.loc["no_reference-scan"]
    assert pd.isna(scan["reference_study_id"])
    assert (scan["inc_oligoprogression"], scan["inc_same_modality"]) == ("unknown", "unknown")


def test_reference_window_edges_and_modality(events: pd.DataFrame) -> None:
    assert events.loc["edges-scan", "reference_study_id"] == "edges-b"
    assert events.loc["edges-scan", "inc_same_modality"] == "pass"
    assert events.loc["fallback-scan", "reference_study_id"] == "fallback-mri"
    assert events.loc["fallback-scan", "inc_same_modality"] == "fail"
    assert events.loc["tie-scan", "reference_study_id"] == "tie-1"


def test_candidate_events_need_an_active_line_after_the_reference_window(events: pd.DataFrame) -> None:
    assert "early-30" not in events.index
    assert "early-31" in events.index
    assert "ended-in" in events.index
    assert "ended-out" not in events.index
    assert "ended-empty" not in events.index


@pytest.mark.parametrize(
    ("pid", "expected"),
    [
        ("pet34", "fail"),
        ("pet35", "pass"),
        ("pet49", "pass"),
        ("pet50", "fail"),
        ("pet_unsized", "unknown"),
        ("pet_spread", "fail"),
        ("pending", "unknown"),
    ],
)
def test_confirmation_pet_window_and_rule(events: pd.DataFrame, pid: str, expected: str) -> None:
    assert events.loc[f"{pid}-scan", "inc_pet_confirmation"] == expected


def test_best_event_records_the_lesions_and_the_reason_quotes_them(screened: Screened) -> None:
    patients = screened.patients()
    assert patients.loc["exactly_20_pct", "event_id"] == "exactly_20_pct-scan"
    assert pd.isna(patients.loc["below_20_pct", "event_id"])
    facts = screened.facts("new_lesion", "inc_oligoprogression")
    assert facts == {
        "rule": "oligoprogressive",
        "screening_date": dt.date(2022, 9, 1),
        "scan_study_id": "new_lesion-scan",
        "scan_modality": "CT",
        "reference_basis": "line_start",
        "reference_study_id": "new_lesion-ref",
        "reference_modality": "CT",
        "reference_date": dt.date(2022, 1, 20),
        "distant_lesions": ["lung L2"],  # L1 grew 0 %: not progressive, so not listed
        "local_lesions": None,
        "undetermined_lesions": None,
    }
    reasons = screened.reasons()
    row = reasons[(reasons["patient_id"] == "new_lesion") & (reasons["criterion"] == "inc_oligoprogression")]
    assert row["reason"].item() == (
        "CT new_lesion-scan of 2022-09-01 compared with CT new_lesion-ref of 2022-01-20: "
        "1 progressive distant lesion: lung L2"
    )


def test_lesions_that_cannot_be_assessed_are_listed_apart(screened: Screened) -> None:
    facts = screened.facts("size_missing_on_scan", "inc_oligoprogression")
    assert facts["rule"] == "undecided"
    assert (facts["distant_lesions"], facts["undetermined_lesions"]) == (None, ["liver L1"])


def test_without_a_reference_the_basis_is_missing(screened: Screened) -> None:
    facts = screened.facts("no_reference", "inc_oligoprogression")
    assert facts["reference_basis"] is None and facts["reference_study_id"] is None
    assert facts["undetermined_lesions"] == ["liver L1"]


def test_the_confirmation_pet_quoted_and_its_lesions(screened: Screened) -> None:
    facts = screened.facts("pet_spread", "inc_pet_confirmation")
    assert facts["rule"] == "not_confirmed"
    assert (facts["pet_study_id"], facts["pet_date"], facts["pet_days_after_scan"]) == (
        "pet_spread-pet",
        dt.date(2022, 10, 13),
        42,
    )
    assert facts["pet_distant_lesions"] == ["liver L1", "lung L9"]
    assert (facts["pet_window_start"], facts["pet_window_end"]) == (dt.date(2022, 10, 6), dt.date(2022, 10, 20))
    pending = screened.facts("pending", "inc_pet_confirmation")
    assert pending["rule"] == "pet_pending" and pending["pet_study_id"] is None
    assert pending["pet_window_end"] == dt.date.fromisoformat(day(AS_OF, -40 + 49))


def test_the_modalities_near_the_line_start(screened: Screened) -> None:
    fallback = screened.facts("fallback", "inc_same_modality")
    assert fallback["rule"] == "other_modality"
    assert (fallback["scan_modality"], fallback["reference_study_id"], fallback["window_modalities"]) == (
        "CT",
        "fallback-mri",
        "MRI",
    )
    assert (fallback["window_start"], fallback["window_end"]) == (dt.date(2021, 12, 3), dt.date(2022, 3, 3))
    edges = screened.facts("edges", "inc_same_modality")
    assert (edges["rule"], edges["reference_study_id"], edges["window_modalities"]) == (
        "same_modality",
        "edges-b",
        "CT, MRI",
    )
    missing = screened.facts("no_reference", "inc_same_modality")
    assert (missing["rule"], missing["window_modalities"]) == ("no_study_near_line_start", None)
