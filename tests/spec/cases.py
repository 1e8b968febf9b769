"""Spec cases as data: a title, the input (the baseline with a few tables replaced) and what the screen must give.

    @cases(
        expect("18th birthday on R", born("2005-04-19"), inc_age_18="pass", rule="adult"),
        expect("no birth date", born(""), inc_age_18="unknown", rule="no_birth_date"),
    )
    def test_age_at_registration_is_at_least_18(checked, spec):
        '''Full years of age at R: 18 or more passes, less fails, no birth date is unknown.'''
        checked(spec)

`@cases` runs the test once per case (and per engine, see conftest.py); `checked(spec)` screens the case in the
session's batch and asserts what `expect` states, returning the result for any further assertion. The same
declarations are what the casebook (docs/casebook.md, `python -m tests.spec.casebook`) shows: the test's name and
docstring head a group of cases, each with its tables and its expected outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from inspect import cleandoc
from types import ModuleType
from typing import Any, TypeVar

import numpy as np
import pytest

from oligo_cohort.criteria import BY_ID, CRITERION_IDS, OUTCOMES
from tests.spec.baseline import PATIENT
from tests.spec.harness import Case, Screened, assert_only_changes, assert_outcomes

TestFunction = TypeVar("TestFunction", bound=Callable[..., Any])


@dataclass(frozen=True)
class SpecCase:
    """One case of the casebook: its input and the outcomes (and rules, and other columns) the screen must give.

    The expectations are read from one row of `patient`: the events row of the study `at`, or with `at=None` the
    patients row (the patient's best event, or the cut-off when there is none).
    """

    title: str
    given: Case
    outcomes: Mapping[str, str]
    rules: Mapping[str, str] = field(default_factory=dict)
    only: bool = True  # every criterion not named keeps its baseline outcome
    at: str | None = "S"
    patient: str = PATIENT
    columns: Mapping[str, object] = field(default_factory=dict)  # other columns of that row, e.g. line_number
    events: tuple[str, ...] | None = None  # the patient's candidate events (study ids), when stated
    best: str | None = None  # the patient's best event (study id), when stated
    findings: Mapping[str, int] = field(default_factory=dict)  # "table" (a record) or "table.column": how many
    says: Mapping[str, str] = field(default_factory=dict)  # text each criterion's reason contains

    def __str__(self) -> str:
        return self.title


def expect(
    title: str,
    given: Case,
    *,
    rule: str | Mapping[str, str] | None = None,
    only: bool = True,
    at: str | None = "S",
    patient: str = PATIENT,
    columns: Mapping[str, object] | None = None,
    events: tuple[str, ...] | list[str] | None = None,
    best: str | None = None,
    findings: Mapping[str, int] | None = None,
    says: Mapping[str, str] | None = None,
    **outcomes: str,
) -> SpecCase:
    """A spec case: `given` screened, the named criteria have these outcomes (`inc_age_18="pass"`).

    `rule` names the rule each criterion takes (one name when one criterion is named); `only=False` lets the
    criteria not named differ from the baseline; `at` is the event read (None: the patient's row); `events` the
    patient's candidate events and `best` its best event; `columns` other columns of the row read; `findings` how
    many data-quality findings name a table's record ("table") or one of its values ("table.column"); `says` text
    each named criterion's reason contains.
    """
    unknown = sorted(set(outcomes) - set(CRITERION_IDS))
    if unknown:
        raise TypeError(f"{title}: not criterion ids: {', '.join(unknown)}")
    wrong = {c: o for c, o in outcomes.items() if o not in OUTCOMES}
    if wrong:
        raise TypeError(f"{title}: not outcomes: {wrong}")
    if isinstance(rule, str):
        if len(outcomes) != 1:
            raise TypeError(f"{title}: rule={rule!r} needs exactly one criterion's outcome, or a mapping")
        rule = {next(iter(outcomes)): rule}
    rules = dict(rule or {})
    for criterion, name in rules.items():
        criterion_rules = {r.name: r.outcome for r in BY_ID[criterion].rules}
        if name not in criterion_rules:
            raise TypeError(f"{title}: {criterion} has no rule {name!r}; its rules: {', '.join(criterion_rules)}")
        if criterion in outcomes and outcomes[criterion] != criterion_rules[name]:
            raise TypeError(
                f"{title}: rule {name} of {criterion} gives {criterion_rules[name]}, not {outcomes[criterion]}"
            )
    return SpecCase(
        title,
        given,
        dict(outcomes),
        rules,
        only,
        at,
        patient,
        dict(columns or {}),
        None if events is None else tuple(events),
        best,
        dict(findings or {}),
        dict(says or {}),
    )


def cases(*specs: SpecCase) -> Callable[[TestFunction], TestFunction]:
    """Run the decorated test once per case (argument `spec`), and keep the cases for the casebook."""

    def mark(test: TestFunction) -> TestFunction:
        test.spec_cases = specs  # type: ignore[attr-defined]
        params = [pytest.param(spec, id=spec.title) for spec in specs]
        return pytest.mark.parametrize("spec", params)(test)

    return mark


def check(result: Screened, spec: SpecCase) -> None:
    """The screened result gives what the case expects."""
    if spec.events is not None:
        got = result.event_ids(spec.patient)
        assert got == sorted(spec.events), f"candidate events {got}, expected {sorted(spec.events)}"
    if spec.best is not None:
        assert result.patient_row(spec.patient)["event_id"] == spec.best, "best event"
    row = result.patient_row(spec.patient) if spec.at is None else result.event(spec.at, spec.patient)
    (assert_only_changes if spec.only else assert_outcomes)(row, **spec.outcomes)
    for column, value in spec.columns.items():
        got = row[column]
        if value is None:
            assert got is None or (isinstance(got, float) and np.isnan(got)), f"{column}: {got!r}, expected none"
        else:
            assert got == value, f"{column}: {got!r}, expected {value!r}"
    for place, count in spec.findings.items():
        name, _, column = place.partition(".")
        found = result.findings
        on_column = found["column"].isna() if not column else found["column"] == column
        assert int(((found["table"] == name) & on_column).sum()) == count, f"findings on {place}"
    for criterion, name in spec.rules.items():
        assert result.reason_row(criterion, spec.at, spec.patient)["rule"] == name, f"rule of {criterion}"
    for criterion, text in spec.says.items():
        reason = result.reason_row(criterion, spec.at, spec.patient)["reason"]
        assert text in reason, f"{criterion}: {reason!r} does not say {text!r}"


@dataclass(frozen=True)
class Group:
    """The cases of one test function: its name and docstring head them in the casebook."""

    test: str
    doc: str
    cases: tuple[SpecCase, ...]

    @property
    def heading(self) -> str:
        """The test's name as a sentence: test_suv_rule_between_two_pet_studies -> SUV rule between two PET studies."""
        words = [NAME_WORDS.get(word, word) for word in self.test.removeprefix("test_").split("_")]
        sentence = " ".join(words)
        return sentence[:1].upper() + sentence[1:]


# Words a test's name writes in lower case that its heading spells as they are written elsewhere.
NAME_WORDS = {
    "s": "S",
    "r": "R",
    "pet": "PET",
    "suv": "SUV",
    "tnm": "TNM",
    "bcc": "BCC",
    "scc": "SCC",
    "lat": "LAT",
    "february": "February",
    "march": "March",
}


def groups(module: ModuleType) -> list[Group]:
    """The spec cases of a test module, by test function in the order written."""
    found = []
    for name, value in vars(module).items():
        if name.startswith("test_") and callable(value):
            found.append(Group(name, cleandoc(value.__doc__ or ""), tuple(getattr(value, "spec_cases", ()))))
    return found
