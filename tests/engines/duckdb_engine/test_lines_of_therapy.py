"""Lines of therapy (sql/derived/metastatic_episodes.sql, lines_of_therapy.sql): the regimen/line algorithm.

criteria.md "Derived: lines of therapy" and docs/decisions.md D4-D10. Each test
builds one patient's episodes and reads the lines back as
(line_number, line_start, line_end, drugs).
"""

from __future__ import annotations

import pytest

from tests.engines.duckdb_engine.loaded import Registry, build, days_after, rows

START = "2022-01-03"  # the first metastatic episode
AS_OF = "2024-12-31"


def lines_of(registry: Registry, *, as_of: str = AS_OF, **parameters: object) -> list[tuple[object, ...]]:
    """The patient's lines in the context of their (only) breast tumour."""
    con = build(registry.connect(as_of, **parameters), until="lines_of_therapy")
    return rows(
        con,
        "SELECT line_number, line_start, line_end, drugs FROM lines_of_therapy "
        "WHERE context_no = 1 ORDER BY line_number",
    )


def patient(**tumour: object) -> Registry:
    return Registry().patient().breast_tumour(**tumour)


def test_de_escalation_is_one_line() -> None:
    # The protocol's example: pertuzumab/trastuzumab+docetaxel followed by pertuzumab/trastuzumab.
    registry = (
        patient()
        .episode("pertuzumab", START)
        .episode("trastuzumab", START)
        .episode("docetaxel", START, days_after(START, 126))
    )
    assert lines_of(registry) == [(1, START, None, "docetaxel, pertuzumab, trastuzumab")]


def test_fixed_combination_after_separate_antibodies_is_the_same_line() -> None:
    registry = (
        patient()
        .episode("pertuzumab", START, "2022-06-30")
        .episode("trastuzumab", START, "2022-06-30")
        .episode("docetaxel", START, "2022-05-01")
        .episode("pertuzumab+trastuzumab", "2022-07-01")
    )
    assert lines_of(registry) == [(1, START, None, "docetaxel, pertuzumab, pertuzumab+trastuzumab, trastuzumab")]


def test_one_antibody_after_the_fixed_combination_is_de_escalation() -> None:
    registry = patient().episode("pertuzumab+trastuzumab", START, "2022-09-30").episode("trastuzumab", "2022-10-01")
    assert [line[:3] for line in lines_of(registry)] == [(1, START, None)]


def test_added_drug_starts_a_new_line_and_carries_the_running_one() -> None:
    added = days_after(START, 90)
    registry = patient().episode("letrozole", START).episode("palbociclib", added)
    assert lines_of(registry) == [
        (1, START, added, "letrozole"),
        (2, added, None, "letrozole, palbociclib"),
    ]


def test_drug_added_on_the_last_day_of_the_regimen_window_joins_the_line() -> None:
    registry = patient().episode("letrozole", START).episode("palbociclib", days_after(START, 28))
    assert lines_of(registry) == [(1, START, None, "letrozole, palbociclib")]


def test_drug_added_the_day_after_the_regimen_window_starts_a_new_line() -> None:
    registry = patient().episode("letrozole", START).episode("palbociclib", days_after(START, 29))
    assert [line[0] for line in lines_of(registry)] == [1, 2]


def test_regimen_window_is_a_protocol_parameter() -> None:
    registry = patient().episode("letrozole", START).episode("palbociclib", days_after(START, 29))
    assert [line[0] for line in lines_of(registry, regimen_window_days=30)] == [1]


def test_switch_starts_a_new_line() -> None:
    registry = patient().episode("letrozole", START, "2023-01-10").episode("fulvestrant", "2023-01-20")
    assert lines_of(registry) == [
        (1, START, "2023-01-10", "letrozole"),
        (2, "2023-01-20", None, "fulvestrant"),
    ]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("paclitaxel", "nab-paclitaxel"),
        ("nab-paclitaxel", "paclitaxel"),
        ("carboplatin", "cisplatin"),
        ("cisplatin", "carboplatin"),
        ("capecitabine", "fluorouracil"),
        ("fluorouracil", "capecitabine"),
    ],
)
def test_substitution_stays_in_the_line(first: str, second: str) -> None:
    registry = patient().episode(first, START, "2022-04-01").episode(second, "2022-04-15")
    assert [line[:3] for line in lines_of(registry)] == [(1, START, None)]


def test_a_drug_that_is_not_a_substitute_starts_a_new_line() -> None:
    # Docetaxel shares the taxane class with paclitaxel but is no substitute for it.
    registry = patient().episode("paclitaxel", START, "2022-04-01").episode("docetaxel", "2022-04-15")
    assert [line[0] for line in lines_of(registry)] == [1, 2]


def test_restart_within_the_gap_is_the_same_line() -> None:
    ended = "2023-01-16"
    registry = patient().episode("fulvestrant", START, ended).episode("fulvestrant", days_after(ended, 120))
    assert lines_of(registry) == [(1, START, None, "fulvestrant")]


def test_restart_after_more_than_the_gap_is_a_new_line() -> None:
    ended = "2023-01-16"
    restart = days_after(ended, 121)
    registry = patient().episode("fulvestrant", START, ended).episode("fulvestrant", restart)
    assert lines_of(registry) == [(1, START, ended, "fulvestrant"), (2, restart, None, "fulvestrant")]


def test_the_gap_counts_from_the_latest_end_of_any_episode_of_the_line() -> None:
    # Palbociclib stopped early; letrozole ran on, so palbociclib's restart 200 days later is within 120 days of
    # the line's latest end.
    registry = (
        patient()
        .episode("letrozole", START, "2023-03-01")
        .episode("palbociclib", START, "2022-08-01")
        .episode("palbociclib", "2023-04-01")
    )
    assert [line[:3] for line in lines_of(registry)] == [(1, START, None)]


def test_adjuvant_and_neoadjuvant_episodes_never_count() -> None:
    registry = (
        patient()
        .episode("epirubicin", "2018-02-01", "2018-05-01", setting="neoadjuvant")
        .episode("tamoxifen", "2018-07-01", "2021-06-30", setting="adjuvant")
        .episode("letrozole", START)
        .episode("anastrozole", "2022-03-01", setting="adjuvant")  # adjuvant by its record, even when late
    )
    assert lines_of(registry) == [(1, START, None, "letrozole")]


def test_supportive_drugs_never_start_or_define_a_line() -> None:
    registry = (
        patient()
        .episode("denosumab", "2021-12-15")
        .episode("letrozole", START)
        .episode("goserelin", days_after(START, 100))
        .episode("zoledronic acid", days_after(START, 200))
    )
    assert lines_of(registry) == [(1, START, None, "letrozole")]


def test_supportive_drugs_alone_make_no_line() -> None:
    assert lines_of(patient().episode("denosumab", START).episode("goserelin", START)) == []


def test_unknown_setting_is_inferred_from_the_metastasis_date() -> None:
    registry = (
        patient(metastasis_date="2021-12-01")
        .episode("tamoxifen", "2019-01-01", "2021-06-30", setting=None)  # before metastasis: not metastatic
        .episode("letrozole", "2021-12-01", setting="unknown")  # on the metastasis date: metastatic
    )
    assert lines_of(registry) == [(1, "2021-12-01", None, "letrozole")]


def test_unknown_setting_of_an_m1_tumour_counts_from_the_diagnosis_date() -> None:
    registry = patient(diagnosis_date="2021-11-20", tnm_m="M1", metastasis_date=None).episode(
        "letrozole", "2021-11-20", setting=None
    )
    assert lines_of(registry) == [(1, "2021-11-20", None, "letrozole")]


def test_unknown_setting_without_metastasis_date_is_not_metastatic() -> None:
    # docs/decisions.md D10.
    registry = patient(tnm_m="MX", metastasis_date=None).episode("tamoxifen", START, setting="unknown")
    assert lines_of(registry) == []


def test_carried_over_drug_keeps_the_new_line_open_and_may_restart_in_it() -> None:
    # Letrozole (line 1) runs into line 2 (palbociclib added), stops, and restarts within the gap: still line 2.
    line_2 = days_after(START, 90)
    registry = (
        patient()
        .episode("letrozole", START, "2022-12-31")
        .episode("palbociclib", line_2, "2022-10-01")
        .episode("letrozole", "2023-03-01")
    )
    assert lines_of(registry) == [
        (1, START, line_2, "letrozole"),
        (2, line_2, None, "letrozole, palbociclib"),
    ]


def test_carried_over_episode_counts_for_the_new_line_end() -> None:
    line_2 = days_after(START, 90)
    registry = patient().episode("letrozole", START, "2022-12-31").episode("palbociclib", line_2, "2022-10-01")
    assert lines_of(registry)[1] == (2, line_2, "2022-12-31", "letrozole, palbociclib")


def test_line_ends_with_its_last_episode_when_that_is_before_the_next_line() -> None:
    registry = patient().episode("letrozole", START, "2022-09-30").episode("fulvestrant", "2023-01-02")
    assert [line[:3] for line in lines_of(registry)] == [(1, START, "2022-09-30"), (2, "2023-01-02", None)]


def test_drug_missing_from_the_vocabulary_defines_a_line() -> None:
    registry = patient().episode("letrozole", START, "2023-03-31").episode("azd9833", "2023-04-03")
    con = build(registry.connect(AS_OF), until="lines_of_therapy")
    assert rows(con, "SELECT line_number, drugs, has_known_drug FROM lines_of_therapy ORDER BY line_number") == [
        (1, "letrozole", True),
        (2, "azd9833", False),
    ]


def test_row_order_of_the_input_never_matters() -> None:
    # docs/decisions.md D5: episodes are processed by start date, drug, end date.
    episodes = [
        ("letrozole", START, "2022-12-31"),
        ("palbociclib", days_after(START, 90), "2022-10-01"),
        ("letrozole", "2023-03-01", None),
        ("fulvestrant", "2024-01-01", None),
    ]
    forward, backward = patient(), patient()
    for drug, start, end in episodes:
        forward.episode(drug, start, end)
    for drug, start, end in reversed(episodes):
        backward.episode(drug, start, end)
    assert lines_of(forward) == lines_of(backward)
    assert len(lines_of(forward)) == 3


def test_lines_are_computed_per_index_tumour() -> None:
    # docs/decisions.md D4: a second breast tumour (diagnosed later) has its own metastasis date for inference.
    registry = (
        Registry()
        .patient()
        .breast_tumour(tumour_id="T1", diagnosis_date="2010-03-01", metastasis_date=None, tnm_m="M0")
        .breast_tumour(tumour_id="T2", diagnosis_date="2021-06-01", metastasis_date="2021-12-01")
        .episode("letrozole", START, setting=None)
    )
    con = build(registry.connect(AS_OF), until="lines_of_therapy")
    assert rows(con, "SELECT context_no, line_number, line_start FROM lines_of_therapy ORDER BY context_no") == [
        (2, 1, START)
    ]


def test_every_patient_advances_in_the_same_recursion() -> None:
    # Two patients with different numbers of episodes: the set-based recursion keeps them apart.
    registry = (
        Registry()
        .patient("a")
        .breast_tumour("a")
        .patient("b")
        .breast_tumour("b")
        .episode("letrozole", START, "2022-06-30", patient_id="a")
        .episode("fulvestrant", "2022-07-04", "2023-01-31", patient_id="a")
        .episode("capecitabine", "2023-02-06", patient_id="a")
        .episode("tamoxifen", START, patient_id="b")
    )
    con = build(registry.connect(AS_OF), until="lines_of_therapy")
    assert rows(con, "SELECT patient_id, count(*) FROM lines_of_therapy GROUP BY ALL ORDER BY 1") == [
        ("a", 3),
        ("b", 1),
    ]
