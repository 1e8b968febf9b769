"""The costly generated tests draw half their examples in the default suite and all of them in `make
test-thorough` (tests/draws.py)."""

from __future__ import annotations

import importlib

import pytest

import tests.draws


@pytest.fixture
def draws(monkeypatch: pytest.MonkeyPatch):
    """tests.draws as loaded under a given OLIGO_COHORT_TEST_DRAWS; the suite's own loading restored after."""

    def loaded(setting: str | None):
        if setting is None:
            monkeypatch.delenv("OLIGO_COHORT_TEST_DRAWS", raising=False)
        else:
            monkeypatch.setenv("OLIGO_COHORT_TEST_DRAWS", setting)
        return importlib.reload(tests.draws)

    yield loaded
    monkeypatch.undo()
    importlib.reload(tests.draws)


def test_the_default_suite_draws_half_never_fewer_than_three_or_than_asked(draws) -> None:
    costly_draws = draws(None).costly_draws
    assert [costly_draws(n) for n in (1, 2, 3, 4, 6, 7, 25, 60)] == [1, 2, 3, 3, 3, 4, 13, 30]


@pytest.mark.parametrize("setting", ["", "half", "1", "yes"])
def test_another_setting_draws_half(draws, setting: str) -> None:
    assert draws(setting).costly_draws(25) == 13


@pytest.mark.parametrize("setting", ["all", "ALL", " all "])
def test_all_draws_every_example(draws, setting: str) -> None:
    assert [draws(setting).costly_draws(n) for n in (1, 4, 25)] == [1, 4, 25]
