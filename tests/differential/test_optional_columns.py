"""An extract may leave out optional columns altogether: they read as missing, and the engines still agree.

Found by the differential test: a cut-off rule on an absent optional date
column (`death_date`, `end_date`) stopped loading with a binder error.
"""

from __future__ import annotations

from oligo_cohort.load import load_extract
from tests.differential.compare import differences, screen_both
from tests.differential.extracts import DROPPABLE_COLUMNS, GeneratedExtract
from tests.spec.harness import build_case


def test_absent_optional_columns_read_as_missing_on_both_engines() -> None:
    tables = dict(build_case().tables)
    for name, column in DROPPABLE_COLUMNS:
        tables[name] = tables[name].drop(columns=column)  # type: ignore[union-attr]
    extract = GeneratedExtract(tables, "2023-04-20", "cosmo", (), worklist=False)
    findings = load_extract(extract.source(), as_of=extract.as_of).findings
    absent = {(f.table, f.column) for f in findings if f.message == "optional column is absent: read as missing"}
    assert absent == set(DROPPABLE_COLUMNS)
    outputs = screen_both(extract)
    assert not differences(outputs)
    patients = outputs["duckdb"]["patients.csv"]
    assert len(patients) == 3  # header, types, p1
