"""Write a screening result: CSV (and Parquet) files, the worklist, a manifest — all or nothing.

The folder is written through `oligo_cohort.destination` (replaced only when it
is an earlier screen result, never an input; staged beside the destination and
renamed into place when complete) and every CSV file through
`oligo_cohort.csv_output` (formula-like text made inert). DuckDB writes the
files directly from its tables (a million-patient result never passes through
pandas).
"""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from oligo_cohort.csv_output import write_csv
from oligo_cohort.destination import OutputFolder, staged_output
from oligo_cohort.disclosure import sha256_of
from oligo_cohort.progress import stage
from oligo_cohort.results import RESULT_TABLES
from oligo_cohort.side_by_side import run_side_by_side, thread_count
from oligo_cohort.worklist import WORKLIST_COLUMNS, worklist_relation

if TYPE_CHECKING:
    import duckdb

    from oligo_cohort.results import ScreenResult

MANIFEST = "manifest.json"
KIND = "screen"


def result_inputs(result: ScreenResult) -> list[Path]:
    """The paths a result was read from (the extract folder or file, and its table files)."""
    paths = list(result.input_files)
    if result.source and os.path.exists(result.source):
        paths.append(Path(result.source))
    return paths


def write_result(result: ScreenResult, out_dir: str | Path | OutputFolder, *, parquet: bool = False) -> Path:
    """Write patients, events, reasons, findings (+ worklist in worklist mode) and a manifest into `out_dir`."""
    with staged_output(out_dir, KIND, inputs=result_inputs(result)) as staging:
        _write_files(result, staging, parquet=parquet)
    return out_dir.requested if isinstance(out_dir, OutputFolder) else Path(out_dir)


# The files in the order they are started: the largest first, so that the small ones fill in beside it.
_WRITTEN = ("reasons", "events", "patients", "worklist", "findings")


def _write_files(result: ScreenResult, staging: Path, *, parquet: bool) -> None:
    """Write the result's files side by side, as many at once as DuckDB has threads, each on a cursor of its own;
    then the manifest.

    One file's query keeps fewer threads busy than there are when its table is small (a table of one row group is
    read by one thread) or while the CSV writer keeps its rows in order: side by side, the files of a 10,000-patient
    screen took 0.14 s against 0.19 s one after the other, of a 100,000-patient screen 1.02 s against 1.23 s
    (docs/design.md).
    """
    with stage("write outputs"):
        names = [name for name in _WRITTEN if name != "worklist" or result.worklist]
        for name in names:
            if name != "worklist":
                result.query(name, ordered=False)  # reads in, here, a table not read yet (a screen folder's reasons)
        work = [partial(_write_file, result=result, name=name, staging=staging, parquet=parquet) for name in names]
        written = dict(zip(names, run_side_by_side(result.con, work, workers=thread_count(result.con)), strict=True))
        manifest = result.manifest(worklist_rows=written.get("worklist"))
        manifest["input_files"] = {str(p): sha256_of(p) for p in result.input_files}
        manifest["source"] = result.source
        manifest["files"] = sorted(p.name for p in staging.iterdir())
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")


def _write_file(
    cursor: duckdb.DuckDBPyConnection, *, result: ScreenResult, name: str, staging: Path, parquet: bool
) -> int | None:
    """Write one output table as CSV (and Parquet when asked), reading it on `cursor`; the worklist's rows written
    (None for the other tables, which the manifest counts in their tables)."""
    rows = None
    if name == "worklist":
        relation, rows = _worklist_once(result, cursor)
        order, own = "", ()
    else:
        # Unordered here: the writer's own ORDER BY orders the rows written (one sort, not two).
        relation = result.query(name, ordered=False, con=cursor)
        table = RESULT_TABLES[name]
        order = "" if table.stored_in_order else table.order
        own = table.own_columns
    write_csv(relation, staging / f"{name}.csv", order=order, own_columns=own)
    if parquet:
        (relation.order(order) if order else relation).write_parquet(str(staging / f"{name}.parquet"))
    return rows


# The worklist's rows as its query gave them, a temporary table of the cursor writing them (it ends with the cursor).
WORKLIST_WRITTEN = "worklist_written"


def _worklist_once(result: ScreenResult, cursor: duckdb.DuckDBPyConnection) -> tuple[duckdb.DuckDBPyRelation, int]:
    """The worklist's rows, in order, and how many: its query is run once, into a table that worklist.csv, its
    Parquet file and the manifest's count all read (each read the query anew before, the count a second time)."""
    create = f"CREATE TEMPORARY TABLE {WORKLIST_WRITTEN} AS SELECT * FROM worklist"
    ((rows,),) = worklist_relation(result, cursor).query("worklist", create).fetchall()
    return cursor.table(WORKLIST_WRITTEN), int(rows)


__all__ = ["KIND", "MANIFEST", "WORKLIST_COLUMNS", "result_inputs", "write_result"]
