"""Output files are in their documented order at any size.

The screen runs with DuckDB's insertion order off (so that large extracts stream and spill); its parallel
writers then wrote 2,048-row chunks in whatever order threads finished them (seen at 100,000 patients, not
reliably at sizes this suite can afford). The writer now orders the final query and turns insertion order
back on; this checks the order beyond one chunk of rows. Beyond one row group (122,880 rows, each read by a
thread of its own), where reasons of 10,000 patients were once written out of order, the writer is checked on
a table of its own (tests/safety/test_formula_cells.py), and the explain query is checked for a hash join,
which may reorder rows.
"""

from __future__ import annotations

import pandas as pd
import pytest

from oligo_cohort.api import screen
from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.synth import generate_extract


@pytest.mark.parametrize("explain", ["best-event", "all-events"])
def test_files_are_sorted_beyond_one_chunk_of_rows(tmp_path, explain):
    extract = generate_extract(tmp_path / "extract", patients=1500, sites=3, seed=5, fmt="parquet")
    out = screen(extract, explain=explain).write(tmp_path / "out")
    events = pd.read_csv(out / "events.csv", dtype=str, keep_default_na=False)
    reasons = pd.read_csv(out / "reasons.csv", dtype=str, keep_default_na=False)
    assert len(events) > 2048 and len(reasons) > 2048
    key = events[["patient_id", "screening_date", "event_id"]]
    assert key.equals(key.sort_values(list(key.columns)).reset_index(drop=True))
    # Reasons are stored in this order (oligo_cohort.explain), not sorted when written: the order is checked here.
    rank = reasons["criterion"].map({c: i for i, c in enumerate(CRITERION_IDS)})
    order = pd.DataFrame({"patient": reasons["patient_id"], "event": reasons["event_id"], "rank": rank})
    assert order.equals(order.sort_values(["patient", "event", "rank"]).reset_index(drop=True))
    events_explained = reasons.groupby("patient_id")["event_id"].nunique()
    if explain == "all-events":
        assert (events_explained > 1).any()
    else:
        assert (events_explained == 1).all()


def test_explaining_in_parts_gives_the_same_rows_in_the_same_order(tmp_path, monkeypatch):
    """A facts table smaller than a row group is explained in parts, one per thread (oligo_cohort.explain): the
    parts' rows, stored one after another, are the rows and the order of one query."""
    from oligo_cohort import explain

    extract = generate_extract(tmp_path / "extract", patients=300, sites=2, seed=8, fmt="parquet")
    result = screen(extract, explain="all-events")
    con = result.con

    def reasons(threads: int, min_units: int) -> list[tuple]:
        monkeypatch.setattr(explain, "PARALLEL_MIN_UNITS", min_units)
        con.execute(f"SET threads = {threads}")
        explain.explain_reasons(con)
        return con.execute("SELECT * FROM result_reasons").fetchall()

    one_query = reasons(threads=2, min_units=10**9)
    assert len(one_query) > 2048
    for threads in (2, 3, 7):
        assert reasons(threads=threads, min_units=1) == one_query, threads
    parts_left = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'result_reasons_part%'")
    assert parts_left.fetchall() == [(0,)]


def test_the_reasons_query_passes_the_sorted_units_on_as_they_come(tmp_path):
    """The reasons are stored in the order the sorted units come through the explain query (no sort of the
    reason rows): nothing in it may reorder rows, such as a hash join (which DuckDB makes of an IN list of five
    values or more). The one-row `params` is crossed with the units, which keeps their order."""
    from oligo_cohort.explain import reasons_sql

    result = screen(generate_extract(tmp_path / "extract", patients=40, sites=2, seed=3, fmt="parquet"))
    plan = result.con.execute(f"EXPLAIN {reasons_sql()}").fetchall()[0][1].upper()
    assert "ORDER_BY" in plan.replace(" ", "_") and "HASH JOIN" not in plan and "HASH_JOIN" not in plan, plan
