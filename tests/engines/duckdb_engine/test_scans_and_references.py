"""Active line per scan, reference study choice and candidate events (sql/derived/scan_lines.sql,
reference_studies.sql, candidate_events.sql, screening_units.sql).

criteria.md "Derived: candidate events and lesion progression" and docs/decisions.md D11, D12, D15, D21.
"""

from __future__ import annotations

from tests.engines.duckdb_engine.loaded import Registry, build, days_after, rows

LINE_START = "2022-01-03"
AS_OF = "2024-12-31"


def on_line(*, end: str | None = None) -> Registry:
    """One patient on letrozole since LINE_START (ended on `end`, or ongoing)."""
    return Registry().patient().breast_tumour().episode("letrozole", LINE_START, end)


def active_line(registry: Registry, study_id: str, **parameters: object) -> tuple[object, ...]:
    con = build(registry.connect(AS_OF, **parameters), until="scan_lines")
    return rows(con, f"SELECT line_number, lines_started FROM scan_lines WHERE study_id = '{study_id}'")[0]


def reference_of(registry: Registry, study_id: str, **parameters: object) -> tuple[object, ...]:
    con = build(registry.connect(AS_OF, **parameters), until="reference_studies")
    found = rows(
        con, f"SELECT reference_study_id, reference_basis FROM reference_studies WHERE study_id = '{study_id}'"
    )
    return found[0] if found else ()


def test_line_is_active_until_thirty_days_after_its_end() -> None:
    end = "2023-06-30"
    registry = on_line(end=end).study("grace", days_after(end, 30)).study("late", days_after(end, 31))
    assert active_line(registry, "grace") == (1, 1)
    assert active_line(registry, "late") == (None, 1)


def test_line_end_grace_is_a_protocol_parameter() -> None:
    end = "2023-06-30"
    registry = on_line(end=end).study("late", days_after(end, 31))
    assert active_line(registry, "late", line_end_grace_days=31) == (1, 1)


def test_the_latest_started_line_is_active_when_two_are() -> None:
    # Line 1 ended the day line 2 started; within the grace days both hold, the later one is active.
    registry = (
        on_line(end="2023-01-10")
        .episode("fulvestrant", "2023-01-10")
        .study("s", "2023-01-20")
        .study("before", "2021-12-31")
    )
    assert active_line(registry, "s") == (2, 2)
    assert active_line(registry, "before") == (None, 0)


def test_reference_is_the_latest_same_modality_study_in_the_window() -> None:
    registry = (
        on_line()
        .study("too_early", days_after(LINE_START, -61))
        .study("first_day", days_after(LINE_START, -60))
        .study("mri", days_after(LINE_START, 20), "MRI")
        .study("last_day", days_after(LINE_START, 30))
        .study("too_late", days_after(LINE_START, 31))
        .study("S", "2023-03-01")
    )
    assert reference_of(registry, "S") == ("last_day", "line_start")


def test_reference_window_bounds_are_inclusive() -> None:
    registry = on_line().study("first_day", days_after(LINE_START, -60)).study("S", "2023-03-01")
    assert reference_of(registry, "S") == ("first_day", "line_start")
    registry = on_line().study("too_early", days_after(LINE_START, -61)).study("S", "2023-03-01")
    assert reference_of(registry, "S") == (None, None)


def test_reference_ties_go_to_the_smallest_study_id() -> None:
    # docs/decisions.md D11.
    day = days_after(LINE_START, -5)
    registry = on_line().study("b", day).study("a", day).study("S", "2023-03-01")
    assert reference_of(registry, "S") == ("a", "line_start")


def test_without_a_same_modality_study_the_latest_of_any_modality_is_the_reference() -> None:
    registry = (
        on_line()
        .study("mri", days_after(LINE_START, -10), "MRI")
        .study("bone", days_after(LINE_START, -3), "bone_scan")
        .study("S", "2023-03-01", "CT")
    )
    assert reference_of(registry, "S") == ("bone", "line_start")


def test_scan_inside_the_reference_window_is_no_candidate() -> None:
    # docs/decisions.md D12: only scans after line start + 30 days can be events.
    registry = on_line().study("ref", LINE_START).study("early", days_after(LINE_START, 30))
    assert reference_of(registry, "early") == ()


def test_nadir_option_applies_when_a_same_modality_study_precedes_the_scan() -> None:
    # docs/decisions.md D15: the nadir needs a study of S's modality in [window start, S).
    registry = on_line().study("ref", LINE_START).study("mid", "2022-09-01").study("S", "2023-03-01")
    assert reference_of(registry, "S", reference="nadir") == ("ref", "nadir")
    registry = on_line().study("ref", LINE_START, "MRI").study("S", "2023-03-01", "CT")
    assert reference_of(registry, "S", reference="nadir") == ("ref", "line_start")


def events_of(registry: Registry, as_of: str = AS_OF) -> list[tuple[object, ...]]:
    con = build(registry.connect(as_of), until="screening_units")
    return rows(con, "SELECT event_id, screening_date, registration_date, line_number FROM screening_units ORDER BY 1")


def test_candidate_events_need_a_progressive_or_undetermined_lesion() -> None:
    registry = (
        on_line()
        .study("ref", LINE_START)
        .lesion("ref", "L1", 20)
        .study("stable", "2022-09-01")
        .lesion("stable", "L1", 19)
        .study("grown", "2023-03-01")
        .lesion("grown", "L1", 30)
        .study("unmeasured", "2023-06-01")
        .lesion("unmeasured", "L1", None)
        .study("no_lesion_rows", "2023-09-01")
    )
    assert events_of(registry) == [
        ("grown", "2023-03-01", "2023-04-19", 1),
        ("unmeasured", "2023-06-01", "2023-07-20", 1),
    ]


def test_progression_inside_the_reference_window_or_off_therapy_is_no_event() -> None:
    registry = (
        on_line(end="2022-12-31")
        .study("ref", LINE_START)
        .lesion("ref", "L1", 20)
        .study("in_window", days_after(LINE_START, 30))
        .lesion("in_window", "L1", 40)
        .study("off_therapy", "2023-03-01")
        .lesion("off_therapy", "L1", 40)
    )
    assert events_of(registry) == [(None, AS_OF, AS_OF, None)]


def test_patient_without_an_event_is_one_unit_at_the_cut_off() -> None:
    # criteria.md "Time" and docs/decisions.md D21: S = R = as_of, with the line active then.
    registry = on_line().study("ref", LINE_START).lesion("ref", "L1", 20)
    assert events_of(registry, as_of="2024-06-30") == [(None, "2024-06-30", "2024-06-30", 1)]


def test_scan_before_any_breast_tumour_has_no_index_tumour() -> None:
    # docs/decisions.md D4: context 0 holds only episodes recorded as metastatic.
    registry = (
        Registry()
        .patient()
        .breast_tumour(diagnosis_date="2023-01-01", metastasis_date="2023-01-01")
        .episode("letrozole", LINE_START)
        .episode("tamoxifen", "2021-06-01", setting=None)
        .study("ref", LINE_START)
        .lesion("ref", "L1", 20)
        .study("S", "2022-09-01")
        .lesion("S", "L1", 30)
    )
    con = build(registry.connect(AS_OF), until="screening_units")
    assert rows(con, "SELECT event_id, context_no, tumour_id, line_number FROM screening_units") == [("S", 0, None, 1)]
