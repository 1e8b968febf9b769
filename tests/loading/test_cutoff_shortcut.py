"""The data cut-off, read where the data lies: the shortcut holds exactly the rows staging would.

Loading applies the cut-off through each table's staging SQL (`sql/staging`), which copies the table. A table
the cut-off leaves unchanged (no record dated after it or undated, no other date after it) is instead read
through a view of its typed table (`load._validate_and_stage`), so nothing is copied. Which tables those are is
decided in Python (`load._tables_the_cutoff_changes`), apart from the staging SQL: a second statement of what the
cut-off does, which could drift from the first.

The cut-offs are generated from the data: every table's latest record date, each date one day either side, and
the default (the latest date anywhere). Between them they leave each table unchanged in some cut-off and
change it in another (all but systemic_therapy, which is always staged: its staging reads drug names against the
vocabulary). For every table read through the shortcut, its rows (every column, `_row` included)
must be those its staging SQL gives.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from oligo_cohort.database import close
from oligo_cohort.dictionary import tables
from oligo_cohort.load import STAGED_BEYOND_CUTOFF, _staging_sql, load_extract
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.sql_text import identifier
from oligo_cohort.synth import generate_extract
from oligo_cohort.validate import record_date_columns


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cutoff-shortcut")
    return {
        "demo": demo_extract_dir(),
        # With imperfections (implausible and missing dates among them), and without.
        "imperfect": generate_extract(root / "imperfect", patients=60, sites=3, seed=11, fmt="csv"),
        "clean": generate_extract(root / "clean", patients=60, sites=3, seed=12, fmt="csv", imperfect=False),
    }


def generated_cutoffs(extract: Path) -> list[dt.date | None]:
    """The default cut-off, and every table's latest record date with the days either side of it."""
    loaded = load_extract(extract)
    try:
        latest = []
        for table in tables().values():
            for column in record_date_columns(table):
                found = loaded.con.execute(f"SELECT max({identifier(column)}) FROM {table.name}").fetchall()
                if found[0][0] is not None:
                    latest.append(found[0][0])
    finally:
        close(loaded.con)
    days = {d + dt.timedelta(days=shift) for d in latest for shift in (-1, 0, 1)}
    return [None, *sorted(d for d in days if d <= dt.date.today())]


def shortcut_tables(con) -> list[str]:
    kinds = dict(
        con.execute(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    )
    return [name for name in tables() if kinds.get(name) == "VIEW"]


def differing_rows(con, table: str) -> int:
    """Rows in one of (the table as read, its staging SQL) but not in the other, duplicates counted."""
    columns = ", ".join(["_row", *(identifier(c.name) for c in tables()[table].columns)])
    read = f"SELECT {columns} FROM {table}"
    staged = f"SELECT {columns} FROM ({_staging_sql(table)})"
    query = f"SELECT count(*) FROM (({read} EXCEPT ALL {staged}) UNION ALL ({staged} EXCEPT ALL {read}))"
    return con.execute(query).fetchall()[0][0]


@pytest.mark.parametrize("name", ["demo", "imperfect", "clean"])
def test_a_table_read_where_it_lies_holds_the_rows_its_staging_gives(extracts, name):
    extract = extracts[name]
    seen_read_in_place: set[str] = set()
    seen_staged: set[str] = set()
    for as_of in generated_cutoffs(extract):
        loaded = load_extract(extract, as_of=as_of)
        try:
            in_place = shortcut_tables(loaded.con)
            for table in in_place:
                assert differing_rows(loaded.con, table) == 0, (name, as_of, table)
            seen_read_in_place.update(in_place)
            seen_staged.update(set(tables()) - set(in_place))
        finally:
            close(loaded.con)
    if name == "clean":
        # The generated cut-offs exercised both paths for every table the shortcut can apply to.
        assert seen_read_in_place == set(tables()) - STAGED_BEYOND_CUTOFF
        assert seen_staged == set(tables())
    else:
        assert seen_read_in_place, name
