"""The criteria definitions hold together: every rule, fact, parameter and model pointer is real.

oligo_cohort/criteria.py is where a reader starts ("where is X decided, and what does the reason say?"); these
tests keep its pointers true: the model named as deciding a criterion says so in its header, the model recording
it records exactly the rule and facts the definitions list, with the facts' types.
"""

from __future__ import annotations

import re

import pytest

from oligo_cohort.api import screen
from oligo_cohort.criteria import CRITERIA, CRITERION_IDS, OUTCOMES
from oligo_cohort.explain import reasons_sql
from oligo_cohort.facts import FACTS
from oligo_cohort.paths import demo_extract_dir, sql_dir
from oligo_cohort.protocol import Parameters

HEADER_LINE = re.compile(r"^-- (Decides|Records): (.*)$", re.MULTILINE)


def header_names(model: str, kind: str) -> set[str]:
    """The criterion ids a model's header says it decides (or records)."""
    text = (sql_dir() / f"{model}.sql").read_text(encoding="utf-8")
    names: set[str] = set()
    for found_kind, listed in HEADER_LINE.findall(text):
        if found_kind == kind:
            names |= {name for name in re.findall(r"\b(?:inc|exc)_[a-z0-9_]+", listed.split("(")[0])}
    return names


@pytest.mark.parametrize("criterion", CRITERIA, ids=lambda c: c.id)
def test_the_deciding_model_says_it_decides_the_criterion(criterion) -> None:
    assert criterion.id in header_names(criterion.decided_in, "Decides")
    assert criterion.id in header_names(criterion.recorded_in, "Records")


def test_every_model_header_names_only_criteria_pointing_back_at_it() -> None:
    for path in sql_dir().rglob("*.sql"):
        model = str(path.relative_to(sql_dir()).with_suffix(""))
        decided = {c.id for c in CRITERIA if c.decided_in == model}
        recorded = {c.id for c in CRITERIA if c.recorded_in == model}
        assert header_names(model, "Decides") == decided, model
        assert header_names(model, "Records") == recorded, model


@pytest.mark.parametrize("criterion", CRITERIA, ids=lambda c: c.id)
def test_rules_are_named_once_and_give_outcomes(criterion) -> None:
    names = [rule.name for rule in criterion.rules]
    assert len(names) == len(set(names))
    assert all(rule.outcome in OUTCOMES for rule in criterion.rules)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in names)


def test_every_fact_is_recorded_by_some_criterion() -> None:
    recorded = set().union(*(c.facts for c in CRITERIA))
    assert recorded == set(FACTS), set(FACTS) - recorded


def test_words_quote_only_protocol_parameters() -> None:
    known = set(Parameters.__dataclass_fields__) | {"pet_window_start_days", "pet_window_end_days"}
    for criterion in CRITERIA:
        for rule in criterion.rules:
            assert rule.says.parameters() <= known, (criterion.id, rule.name)


@pytest.fixture(scope="module")
def demo_result():
    """The DuckDB engine's result on the demo extract, every event explained."""
    return screen(demo_extract_dir(), explain="all-events")


@pytest.fixture(scope="module")
def facts_types(demo_result) -> dict[str, str]:
    """Each criterion's struct type in result_facts."""
    described = demo_result.con.execute("DESCRIBE result_facts").fetchall()
    return {name: kind for name, kind, *_ in described}


@pytest.mark.parametrize("criterion", CRITERIA, ids=lambda c: c.id)
def test_the_sql_records_exactly_the_rule_and_the_facts_the_definition_lists(facts_types, criterion) -> None:
    expected = ", ".join(["rule VARCHAR", *(f"{name} {FACTS[name].sql_type}" for name in criterion.facts)])
    assert facts_types[criterion.id].replace('"rule"', "rule") == f"STRUCT({expected})"


def test_result_facts_hold_the_unit_keys_then_the_criteria_in_protocol_order(facts_types) -> None:
    assert list(facts_types) == ["unit_id", "patient_id", "event_id", "is_best", *CRITERION_IDS]


@pytest.mark.parametrize("criterion", CRITERIA, ids=lambda c: c.id)
def test_every_rule_says_something_of_any_facts(demo_result, criterion) -> None:
    """Each rule's words, forced onto every unit of the demo, give a sentence (missing facts say so)."""
    con = demo_result.con.cursor()
    for rule in criterion.rules:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE forced_facts AS SELECT * REPLACE "
            f"(struct_update({criterion.id}, rule := ?) AS {criterion.id}) FROM result_facts ORDER BY unit_id LIMIT 40",
            [rule.name],
        )
        said = con.execute(
            f"SELECT DISTINCT outcome, reason FROM ({reasons_sql('forced_facts', [criterion])})"
        ).fetchall()
        assert said, rule.name
        assert {outcome for outcome, _ in said} == {rule.outcome}
        assert all(reason and reason.strip() and "None" not in reason for _, reason in said), rule.name
