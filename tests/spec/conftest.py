"""Fixtures of the spec tests: every test runs once per engine, cases screened in session-wide batches."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from oligo_cohort.engines import CORE_ENGINES, OPTIONAL_ENGINES
from tests.spec.cases import SpecCase, check
from tests.spec.harness import Case, Screened, SpecRunner

# Optional engines (Spark) run only when selected by their marker: `pytest -m spark tests/spec`.
ENGINE_PARAMS = [
    *CORE_ENGINES,
    *(pytest.param(name, marks=getattr(pytest.mark, extra)) for name, extra in OPTIONAL_ENGINES.items()),
]


@pytest.fixture(params=ENGINE_PARAMS)
def engine(request: pytest.FixtureRequest) -> str:
    """The engine under test: each spec holds for every engine."""
    return request.param


@pytest.fixture(scope="session")
def spec_runner() -> SpecRunner:
    """One runner per test session: each engine screens all declared cases once."""
    return SpecRunner()


@pytest.fixture
def screened(engine: str, spec_runner: SpecRunner) -> Callable[[Case], Screened]:
    """`screened(case)`: the case's result with the engine under test."""
    return lambda one: spec_runner.result(engine, one)


@pytest.fixture
def checked(engine: str, spec_runner: SpecRunner) -> Callable[[SpecCase], Screened]:
    """`checked(spec)`: the case screened with the engine under test, its expectations asserted; the result."""

    def run(spec: SpecCase) -> Screened:
        result = spec_runner.result(engine, spec.given)
        check(result, spec)
        return result

    return run
