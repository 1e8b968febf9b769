"""Disclosure control: 1–7 suppressed to 0, the rest rounded to the nearest 5; stated in a file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oligo_cohort.disclosure import apply_to_frame, round_count, write_statement


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, 0), (1, 0), (5, 0), (7, 0), (8, 10), (10, 10), (12, 10), (13, 15), (22, 20), (23, 25), (1234, 1235)],
)
def test_round_count_suppresses_small_counts_and_rounds_to_5(count, shown):
    assert round_count(count) == shown


@given(st.integers(min_value=0, max_value=10**9))
def test_round_count_is_a_multiple_of_5_within_2_of_any_count_above_7(count):
    shown = round_count(count)
    assert shown % 5 == 0
    if count <= 7:
        assert shown == 0
    else:
        assert abs(shown - count) <= 2


@pytest.mark.parametrize("bad", [-1, 2.5])
def test_round_count_refuses_what_is_not_a_count(bad):
    with pytest.raises(ValueError):
        round_count(bad)


def test_apply_to_frame_rounds_only_the_named_columns_and_keeps_missing_values():
    frame = pd.DataFrame({"label": ["a", "b", "c", "d"], "n": [0, 7, 8, 13], "m": [3.0, np.nan, 7.6, 7.4], "x": 1})
    out = apply_to_frame(frame, ["n", "m"])
    assert out["n"].tolist() == [0, 0, 10, 15]
    # Non-integers are rounded to whole numbers first: 7.6 → 8 → 10, 7.4 → 7 → 0.
    assert out["m"].tolist()[0] == 0 and pd.isna(out["m"].iloc[1]) and out["m"].tolist()[2:] == [10, 0]
    assert out["x"].tolist() == [1, 1, 1, 1] and out["label"].tolist() == ["a", "b", "c", "d"]
    assert frame["n"].tolist() == [0, 7, 8, 13], "the input frame is not changed"


def test_apply_to_frame_refuses_negative_counts():
    with pytest.raises(ValueError):
        apply_to_frame(pd.DataFrame({"n": [3, -1]}), ["n"])


def test_statement_files_say_what_applied(tmp_path):
    write_statement(tmp_path, applied=True, files=["attrition.csv"], notes=["rounded"])
    info = json.loads((tmp_path / "disclosure.json").read_text())
    assert info["disclosure_control"] is True and info["suppress_up_to"] == 7 and info["round_to"] == 5
    assert info["files"] == ["attrition.csv"]
    text = (tmp_path / "disclosure.md").read_text()
    assert "applied" in text and "`attrition.csv`" in text and "0 to 7" in text

    write_statement(tmp_path, applied=False, files=["attrition.csv"])
    assert json.loads((tmp_path / "disclosure.json").read_text())["disclosure_control"] is False
    assert "NOT applied" in (tmp_path / "disclosure.md").read_text()
