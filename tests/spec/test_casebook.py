"""The casebook is complete and current: every criterion, every parameter it reads, every rule, every case.

The casebook (docs/casebook.md) is rendered from the spec cases, so what it
shows is what the spec tests assert. These tests hold the spec cases to covering
the criteria: each has cases of its own, at least one of them varying a protocol
parameter it reads, and each rule of each criterion is taken in at least one
case on the DuckDB engine (read from the rules the screen records in reasons).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from oligo_cohort.criteria import CRITERIA, CRITERION_IDS
from tests.spec import test_harness
from tests.spec.casebook import CASEBOOK, SECTIONS, changed_parameters, render, section_cases, section_groups
from tests.spec.harness import Case, registered_cases

SPEC = Path(__file__).resolve().parent
# Spec test modules that are not chapters of the casebook: the harness's own tests, and these.
NOT_CHAPTERS = {"tests.spec.test_harness", "tests.spec.test_casebook"}

# The criteria that read no protocol parameter, and why, so that none needs a case varying one.
READS_NO_PARAMETER = {
    "inc_invasive_breast_cancer": "the basis of diagnosis is a code list, no number",
    "inc_metastatic": "TNM M category and metastasis date against S, no number",
    "inc_therapy_class": "the drug vocabulary's classes, no number",
    "inc_lat_amenable": "the latest observation on or before R, no number",
    "inc_informed_consent": "the latest observation on or before R, no number",
    "exc_pregnancy": "an observation current between S and R, no number",
    "exc_medical_risk": "the latest observation on or before R, no number",
    "exc_psychosocial": "the latest observation on or before R, no number",
}

# Rules no spec case can take, and why. Empty: a record the loader refuses is still reached with a NULL cell.
UNREACHABLE_RULES: dict[tuple[str, str], str] = {}


def test_the_casebook_is_current():
    """docs/casebook.md is exactly what the spec cases render."""
    committed = CASEBOOK.read_text(encoding="utf-8") if CASEBOOK.exists() else ""
    assert committed == render(), "docs/casebook.md is stale: run make casebook"


def test_every_spec_test_module_is_a_chapter_of_the_casebook():
    """A spec test file added beside the others is rendered too (or named here as not a chapter)."""
    found = {
        ".".join(("tests", *path.relative_to(SPEC.parent).with_suffix("").parts)) for path in SPEC.rglob("test_*.py")
    }
    assert found - NOT_CHAPTERS == {section.module for section in SECTIONS}


def test_every_test_of_a_chapter_declares_its_cases():
    """Each test function of a chapter runs declared cases, so the casebook shows everything the chapter tests."""
    bare = [
        f"{section.module}.{group.test}" for section in SECTIONS for group in section_groups(section) if not group.cases
    ]
    assert bare == []


def test_every_declared_case_is_in_the_casebook():
    """A case declared but not run by any test would be screened and asserted nowhere."""
    for section in SECTIONS:
        importlib.import_module(section.module)
    shown = {id(spec.given) for section in SECTIONS for spec in section_cases(section)}
    harness_cases = {id(value) for value in vars(test_harness).values() if isinstance(value, Case)}
    stray = [one for one in registered_cases() if id(one) not in shown | harness_cases]
    assert stray == []


def test_case_titles_are_unique_within_a_chapter():
    """A case is named by its chapter and title (test ids, casebook headings)."""
    for section in SECTIONS:
        titles = [spec.title for spec in section_cases(section)]
        assert len(titles) == len(set(titles)), section.module


def test_every_criterion_has_cases_and_one_varying_a_parameter_it_reads():
    """Each criterion's chapter has cases; one of them changes a protocol parameter the criterion reads and states
    its outcome, unless the criterion reads none (READS_NO_PARAMETER, with the reason)."""
    chapters = {section.criterion: section for section in SECTIONS if section.criterion}
    assert set(chapters) == set(CRITERION_IDS)
    lacking = []
    for criterion in CRITERIA:
        specs = section_cases(chapters[criterion.id])
        assert specs, f"{criterion.id} has no spec cases"
        if not criterion.parameters:
            assert criterion.id in READS_NO_PARAMETER, f"{criterion.id} reads no parameter: say why"
            continue
        assert criterion.id not in READS_NO_PARAMETER, f"{criterion.id} reads {criterion.parameters}"
        varying = [
            spec
            for spec in specs
            if criterion.id in spec.outcomes and set(changed_parameters(spec.given)) & set(criterion.parameters)
        ]
        if not varying:
            lacking.append(criterion.id)
    assert lacking == [], "criteria without a case varying a parameter they read"


def test_every_rule_is_taken_by_a_spec_case_on_duckdb(spec_runner):
    """Every rule of every criterion is recorded (reasons' `rule`) for some event of some case on DuckDB."""
    taken: set[tuple[str, str]] = set()
    for section in SECTIONS:
        for spec in section_cases(section):
            reasons = spec_runner.result("duckdb", spec.given).reasons
            taken |= set(zip(reasons["criterion"], reasons["rule"], strict=True))
    never = [
        (criterion.id, rule.name)
        for criterion in CRITERIA
        for rule in criterion.rules
        if (criterion.id, rule.name) not in taken and (criterion.id, rule.name) not in UNREACHABLE_RULES
    ]
    assert never == []
    assert not set(UNREACHABLE_RULES) & taken, "a rule listed as unreachable is taken: take it off the list"
