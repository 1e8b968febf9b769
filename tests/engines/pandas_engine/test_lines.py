"""Lines of therapy in the pandas engine (criteria.md "Derived: lines of therapy", D4-D10).

Every case is one patient of a single extract, screened once for the module.
A line is (number, start, end or None while open, drugs including carried ones).
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from oligo_cohort.engines.pandas_engine.lines import line_of_day
from tests.engines.pandas_engine.builders import Extract, Screened, screen

AS_OF = "2024-06-30"


def _cases() -> Extract:
    e = Extract()
    # De-escalation: docetaxel stops, pertuzumab + trastuzumab go on -> one line.
    e.patient("deesc")
    for drug in ("pertuzumab", "trastuzumab"):
        e.therapy("deesc", drug, "2022-02-01")
    e.therapy("deesc", "docetaxel", "2022-02-01", "2022-06-15")
    # The fixed combination substitutes for separate pertuzumab + trastuzumab, and back to trastuzumab alone.
    e.patient("fixed")
    e.therapy("fixed", "pertuzumab", "2022-02-01", "2022-08-31").therapy(
        "fixed", "trastuzumab", "2022-02-01", "2022-08-31"
    )
    e.therapy("fixed", "docetaxel", "2022-02-01", "2022-06-15")
    e.therapy("fixed", "pertuzumab+trastuzumab", "2022-09-01", "2023-05-31")
    e.therapy("fixed", "trastuzumab", "2023-06-01")
    # The fixed combination first, then pertuzumab added to trastuzumab that was part of it: still one line.
    e.patient("fixed_first")
    e.therapy("fixed_first", "pertuzumab+trastuzumab", "2022-02-01", "2022-12-31")
    e.therapy("fixed_first", "pertuzumab", "2023-01-02").therapy("fixed_first", "trastuzumab", "2023-01-02")
    # A drug added after the regimen window starts a new line; the running drug carries over.
    e.patient("added")
    e.therapy("added", "letrozole", "2022-02-01").therapy("added", "palbociclib", "2022-04-01")
    # Regimen window edges: day 28 joins, day 29 starts a line.
    e.patient("window28").therapy("window28", "letrozole", "2022-02-01").therapy(
        "window28", "palbociclib", "2022-03-01"
    )
    e.patient("window29").therapy("window29", "letrozole", "2022-02-01").therapy(
        "window29", "palbociclib", "2022-03-02"
    )
    # A switch: letrozole stops, fulvestrant starts.
    e.patient("switch")
    e.therapy("switch", "letrozole", "2022-02-01", "2022-12-31").therapy("switch", "fulvestrant", "2023-01-15")
    # Restart of the same drug 120 days after the end (same line) and 121 days after (new line).
    e.patient("gap120").therapy("gap120", "letrozole", "2022-02-01", "2022-06-01")
    e.therapy("gap120", "letrozole", "2022-09-29")
    e.patient("gap121").therapy("gap121", "letrozole", "2022-02-01", "2022-06-01")
    e.therapy("gap121", "letrozole", "2022-09-30")
    # Adjuvant treatment never counts, even when it starts after the metastasis date.
    e.patient("adjuvant").therapy("adjuvant", "tamoxifen", "2015-06-01", "2020-06-01", setting="adjuvant")
    e.therapy("adjuvant", "letrozole", "2022-02-01").therapy("adjuvant", "exemestane", "2022-09-01", setting="adjuvant")
    # Supportive drugs never start or define a line.
    e.patient("supportive_only").therapy("supportive_only", "denosumab", "2022-02-01")
    e.patient("supportive_added").therapy("supportive_added", "letrozole", "2022-02-01")
    e.therapy("supportive_added", "goserelin", "2022-06-01").therapy(
        "supportive_added", "zoledronic acid", "2022-07-01"
    )
    # Unknown setting: inferred from the metastasis date (on or after counts).
    e.patient("inferred").therapy("inferred", "tamoxifen", "2021-01-01", "2021-12-01", setting="")
    e.therapy("inferred", "letrozole", "2022-01-10", setting="unknown")
    # D10: no metastasis date and not M1: an unknown setting cannot be inferred.
    e.patient("uninferable", metastasis="").therapy("uninferable", "letrozole", "2022-02-01", setting="")
    # M1 at diagnosis: metastatic from the diagnosis date.
    e.patient("m1", metastasis="", tnm_m="M1").therapy("m1", "letrozole", "2015-04-01", setting="")
    # Carry-over: palbociclib running when fulvestrant starts belongs to line 2 and keeps it open.
    e.patient("carry").therapy("carry", "letrozole", "2022-02-01", "2022-10-01")
    e.therapy("carry", "palbociclib", "2022-02-01").therapy("carry", "fulvestrant", "2022-10-15")
    # A carried drug's restart stays in the new line; a drug missing from the vocabulary defines a line.
    e.patient("unknown_drug").therapy("unknown_drug", "letrozole", "2022-02-01", "2022-12-31")
    e.therapy("unknown_drug", "azd9833", "2023-01-10")
    # Substitutes within one line.
    for pid, first, second in (
        ("taxane", "paclitaxel", "nab-paclitaxel"),
        ("platinum", "carboplatin", "cisplatin"),
        ("fluoropyrimidine", "capecitabine", "fluorouracil"),
    ):
        e.patient(pid).therapy(pid, first, "2022-02-01", "2022-06-01").therapy(pid, second, "2022-06-02", "2022-12-01")
    # Three lines: each ended line's end is the next line's start or its last episode's end.
    e.patient("three").therapy("three", "letrozole", "2022-02-01", "2022-08-01")
    e.therapy("three", "palbociclib", "2022-02-01", "2022-12-01")
    e.therapy("three", "fulvestrant", "2022-11-01", "2023-03-01").therapy(
        "three", "capecitabine", "2023-09-01", "2023-12-01"
    )
    return e


@pytest.fixture(scope="module")
def screened() -> Screened:
    return screen(_cases(), AS_OF)


def test_de_escalation_is_one_line(screened: Screened) -> None:
    assert screened.lines("deesc") == [(1, "2022-02-01", None, ("docetaxel", "pertuzumab", "trastuzumab"))]


def test_fixed_combination_substitutes_for_pertuzumab_and_trastuzumab(screened: Screened) -> None:
    lines = screened.lines("fixed")
    assert [line[0] for line in lines] == [1]
    assert lines[0][3] == ("docetaxel", "pertuzumab", "pertuzumab+trastuzumab", "trastuzumab")
    assert [line[0] for line in screened.lines("fixed_first")] == [1]


def test_added_drug_starts_a_line_and_the_running_drug_carries_over(screened: Screened) -> None:
    assert screened.lines("added") == [
        (1, "2022-02-01", "2022-04-01", ("letrozole",)),
        (2, "2022-04-01", None, ("letrozole", "palbociclib")),
    ]


def test_regimen_window_is_inclusive(screened: Screened) -> None:
    assert len(screened.lines("window28")) == 1
    assert len(screened.lines("window29")) == 2


def test_switch_starts_a_line_and_the_old_line_ends_with_its_episode(screened: Screened) -> None:
    assert screened.lines("switch") == [
        (1, "2022-02-01", "2022-12-31", ("letrozole",)),
        (2, "2023-01-15", None, ("fulvestrant",)),
    ]


def test_restart_within_the_gap_continues_the_line_and_after_it_starts_one(screened: Screened) -> None:
    assert screened.lines("gap120") == [(1, "2022-02-01", None, ("letrozole",))]
    assert [(n, start) for n, start, _, _ in screened.lines("gap121")] == [(1, "2022-02-01"), (2, "2022-09-30")]


def test_adjuvant_episodes_never_count(screened: Screened) -> None:
    assert screened.lines("adjuvant") == [(1, "2022-02-01", None, ("letrozole",))]


def test_supportive_drugs_never_start_or_define_a_line(screened: Screened) -> None:
    assert screened.lines("supportive_only") == []
    assert screened.lines("supportive_added") == [(1, "2022-02-01", None, ("letrozole",))]


def test_unknown_setting_is_inferred_from_the_metastasis_date(screened: Screened) -> None:
    assert screened.lines("inferred") == [(1, "2022-01-10", None, ("letrozole",))]
    assert screened.lines("uninferable") == []
    assert screened.lines("m1") == [(1, "2015-04-01", None, ("letrozole",))]


def test_carried_drug_belongs_to_the_new_line_and_keeps_it_open(screened: Screened) -> None:
    assert screened.lines("carry") == [
        (1, "2022-02-01", "2022-10-15", ("letrozole", "palbociclib")),
        (2, "2022-10-15", None, ("fulvestrant", "palbociclib")),
    ]


def test_drug_missing_from_the_vocabulary_defines_a_line(screened: Screened) -> None:
    assert [line[3] for line in screened.lines("unknown_drug")] == [("letrozole",), ("azd9833",)]


@pytest.mark.parametrize("pid", ["taxane", "platinum", "fluoropyrimidine"])
def test_substitutes_stay_in_the_line(screened: Screened, pid: str) -> None:
    assert [(n, end) for n, _, end, _ in screened.lines(pid)] == [(1, "2022-12-01")]


def test_line_ends_at_the_next_start_or_the_last_episode_end(screened: Screened) -> None:
    assert [(n, start, end) for n, start, end, _ in screened.lines("three")] == [
        (1, "2022-02-01", "2022-11-01"),
        (2, "2022-11-01", "2023-03-01"),
        (3, "2023-09-01", "2023-12-01"),
    ]
    # Palbociclib runs on 2022-11-01, so it carries into line 2.
    assert screened.lines("three")[1][3] == ("fulvestrant", "palbociclib")


def test_row_order_of_the_input_never_matters() -> None:
    extract = _cases()
    random.Random(7).shuffle(extract.rows["systemic_therapy"])
    shuffled = screen(extract, AS_OF)
    original = screen(_cases(), AS_OF)
    for pid in ("fixed", "three", "carry", "gap121", "added"):
        assert shuffled.lines(pid) == original.lines(pid)


def test_active_line_is_the_latest_started_within_its_end_plus_grace() -> None:
    lines = pd.DataFrame(
        {
            "line_id": [0, 1, 2],
            "gid": [7, 7, 8],
            "line_number": [1, 2, 1],
            "start": [100.0, 300.0, 100.0],
            "end": [300.0, 400.0, np.nan],  # group 8's line is open
            "has_known_drug": [True, True, False],
        }
    )
    days = np.array([99.0, 100.0, 299.0, 300.0, 430.0, 431.0, 5000.0])
    found = line_of_day(np.full(len(days), 7), days, lines, grace_days=30)
    assert np.isnan(found["line_number"].to_numpy()[0])
    assert found["line_number"].to_numpy()[1:5].tolist() == [1.0, 1.0, 2.0, 2.0]
    assert not found["active"].to_numpy()[5] and found["lines_started"].to_numpy()[5] == 2
    assert found["lines_started"].tolist() == [0, 1, 1, 2, 2, 2, 2]
    open_line = line_of_day(np.array([8, 8]), np.array([100.0, 9000.0]), lines, grace_days=30)
    assert open_line["active"].tolist() == [True, True]
    assert open_line["line_has_known_drug"].tolist() == [False, False]
