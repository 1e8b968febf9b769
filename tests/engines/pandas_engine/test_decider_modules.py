"""The pandas twin of each criterion lies where its SQL lies: the decider of a criterion recorded in
`sql/criteria/<group>.sql` is in `oligo_cohort/engines/pandas_engine/criteria/<group>.py`.

A reader who has a criterion's SQL open finds its pandas decider by the same name (and the other way round);
the two engines share the definitions in `oligo_cohort.criteria`, not code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oligo_cohort.criteria import CRITERIA
from oligo_cohort.engines.pandas_engine import criteria as pandas_criteria
from oligo_cohort.engines.pandas_engine.criteria import DECIDERS
from oligo_cohort.paths import sql_dir

PACKAGE = pandas_criteria.__name__


@pytest.mark.parametrize("criterion", CRITERIA, ids=lambda c: c.id)
def test_each_decider_is_in_the_module_named_as_its_sql_model(criterion):
    folder, group = criterion.recorded_in.split("/")
    assert folder == "criteria"
    assert (sql_dir() / folder / f"{group}.sql").is_file()
    assert DECIDERS[criterion.id].__module__ == f"{PACKAGE}.{group}"


def test_every_decider_module_has_its_sql_model_and_decides_something():
    modules = {p.stem for p in Path(pandas_criteria.__file__).parent.glob("*.py")} - {"__init__", "context"}
    assert modules == {p.stem for p in (sql_dir() / "criteria").glob("*.sql")}
    assert modules == {decide.__module__.rsplit(".", 1)[1] for decide in DECIDERS.values()}
