"""The pandas engine must not depend on the order in which DuckDB returns a table's rows.

The loader's connection does not preserve insertion order (so DuckDB can stream and spill), and on
large tables two scans of the same table then return its rows in different orders. An engine that
fetched a table twice and matched the two by position read the wrong patient's rows at 100,000
patients while agreeing on small extracts; this test makes every scan return a new random order.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from oligo_cohort.engines import pandas_engine
from oligo_cohort.load import load_extract, write_run_parameters
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.protocol import load_protocol


class ShufflingScans:
    """A connection whose `table(name)` returns the rows in a fresh random order at every call."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.scans: dict[str, int] = {}

    def table(self, name: str) -> duckdb.DuckDBPyRelation:
        self.scans[name] = self.scans.get(name, 0) + 1
        return self._con.table(name).order("random()")

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)


def _screened_patients(shuffle: bool) -> pd.DataFrame:
    loaded = load_extract(demo_extract_dir())
    write_run_parameters(loaded, load_protocol("cosmo"))
    con = loaded.con
    if shuffle:
        con.execute("SELECT setseed(0.42)").fetchall()
        con = ShufflingScans(con)
    pandas_engine.run(con)
    return loaded.con.table("result_events").order("patient_id, event_id").df()


def test_results_do_not_depend_on_the_order_of_scanned_rows():
    assert _screened_patients(shuffle=True).equals(_screened_patients(shuffle=False))
