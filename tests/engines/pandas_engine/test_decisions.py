"""A decision names a rule of its criterion, takes its outcome from the shared definitions and records its facts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from oligo_cohort.criteria import BY_ID
from oligo_cohort.engines.pandas_engine.decisions import Decision, choose_rule
from oligo_cohort.engines.pandas_engine.grouped_text import joined_per_key, lists_per_key, take_text

AGE = BY_ID["inc_age_18"]


def _age_decision(**facts: object) -> Decision:
    rule = choose_rule(
        "inc_age_18", [(np.array([True, False, False]), "no_birth_date"), (np.array([0, 1, 0]), "adult")], "under_age"
    )
    return Decision(AGE, rule, facts)


def test_the_first_rule_that_holds_is_taken_and_gives_its_outcome() -> None:
    decision = _age_decision(
        registration_date=np.array([19000.0, 19000.0, np.nan]),
        birth_date=np.array([np.nan, 0.0, 10000.0]),
        age_years=np.array([np.nan, 52.0, 17.0]),
    )
    assert list(decision.rule) == ["no_birth_date", "adult", "under_age"]
    assert list(decision.outcome) == ["unknown", "pass", "fail"]  # as oligo_cohort.criteria maps the rules


def test_the_struct_holds_the_rule_then_the_facts_in_order_and_typed() -> None:
    decision = _age_decision(
        registration_date=np.array([19000.0, 19000.0, np.nan]),
        birth_date=np.array([np.nan, 0.0, 10000.0]),
        age_years=np.array([np.nan, 52.0, 17.0]),
    )
    struct = decision.struct(np.array([2, 1]))
    assert struct.type == pa.struct(
        [
            ("rule", pa.string()),
            ("registration_date", pa.date32()),
            ("birth_date", pa.date32()),
            ("age_years", pa.int64()),
        ]
    )
    assert struct.to_pylist() == [
        {"rule": "under_age", "registration_date": None, "birth_date": dt.date(1997, 5, 19), "age_years": 17},
        {"rule": "adult", "registration_date": dt.date(2022, 1, 8), "birth_date": dt.date(1970, 1, 1), "age_years": 52},
    ]


def test_a_decision_records_exactly_the_facts_its_rules_speak_of() -> None:
    with pytest.raises(ValueError, match="inc_age_18 records"):
        _age_decision(registration_date=np.zeros(3), birth_date=np.zeros(3))


def test_only_the_criterions_own_rules_can_be_taken() -> None:
    with pytest.raises(ValueError, match="not its rules"):
        choose_rule("inc_age_18", [(np.array([True]), "histological")], "adult")


def test_values_are_joined_and_listed_per_key_in_text_order() -> None:
    drugs = np.array(["palbociclib", "x", "letrozole", "palbociclib"], dtype=object)
    joined = joined_per_key(np.array([4, 1, 4, 4]), drugs, 5)
    assert joined.to_pylist() == [None, "x", None, None, "letrozole, palbociclib"]  # distinct, sorted
    lists = lists_per_key(np.array([2, 0, 2]), np.array(["lung L2", "bone L9", "liver L1"], dtype=object), 4)
    assert lists.to_pylist() == [["bone L9"], None, ["liver L1", "lung L2"], None]
    assert take_text(joined, np.array([4, -1, 1])).to_pylist() == ["letrozole, palbociclib", None, "x"]
