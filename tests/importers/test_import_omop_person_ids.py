"""A row whose person is not in `person`: dropped and counted, unless its id is a person's written otherwise.

OMOP ids are read as text, so `001` in one table and `1` in `person` are two persons. A filtered person table
(a cohort's export) leaves rows of other persons behind, and the import drops them, counting each in the mapping
report. But where the id is a person's but for leading zeros or spaces, dropping it would silently take every
record of that table from the patient (a diagnosis, a death, the drugs' data end), and which patient it belongs to
is not the importer's to guess: it is a problem naming the table, column, row and value (docs/importers.md).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.errors import InputError
from oligo_cohort.importers import import_omop
from tests.draws import costly_draws
from tests.importers.test_import_omop import omop_tables, write_folder

# Every table of the fixture with a person_id beside `person` (the import reads each).
PERSON_TABLES = ("condition_occurrence", "death", "drug_exposure", "episode", "measurement", "observation",
                 "observation_period")  # fmt: skip
# Those whose first row the import carries over, so that a stranger's row there is dropped and counted.
CARRIED = ("condition_occurrence", "death", "drug_exposure", "observation")
# Leading zeros (spaces around an id are trimmed as the table is read, so ` 1` is `1`).
OTHERWISE = st.sampled_from(["0{}", "00{}", "000{}", " 0{} "])


@settings(
    max_examples=costly_draws(20),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(table=st.sampled_from(PERSON_TABLES), spelling=OTHERWISE, data=st.data())
def test_a_person_id_written_otherwise_is_named_not_dropped(tmp_path_factory, table, spelling, data):
    tables = omop_tables()
    frame = tables[table]
    index = data.draw(st.integers(0, len(frame) - 1), label="row")
    pid = str(frame.loc[index, "person_id"])
    written = spelling.format(pid)
    frame.loc[index, "person_id"] = written
    folder = write_folder(tables, tmp_path_factory.mktemp("omop") / "cdm")
    with pytest.raises(InputError) as refused:
        import_omop(folder)
    named = [
        p
        for p in refused.value.problems
        if (p.table, p.column, p.row, p.value) == (table, "person_id", index + 1, written.strip())
    ]
    assert named, [p.describe() for p in refused.value.problems]
    assert f"where person_id '{pid}' is" in named[0].message


@pytest.mark.parametrize("table", CARRIED)
def test_a_row_of_a_person_not_in_person_is_dropped_and_counted(tmp_path, table):
    """As a filtered person table leaves them: 99 is nobody's id, however written."""
    tables = omop_tables()
    tables[table].loc[0, "person_id"] = "0099"
    result = import_omop(write_folder(tables, tmp_path / "cdm"))
    dropped = {
        key: n for key, n in result.report.drops.items() if key[0] == table and key[2] == "person_id not in person"
    }
    assert sum(dropped.values()) == 1, result.report.drops
