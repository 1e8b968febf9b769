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
from pathlib import Path
from typing import TYPE_CHECKING

from oligo_cohort.csv_output import write_csv
from oligo_cohort.destination import OutputFolder, staged_output
from oligo_cohort.disclosure import sha256_of
from oligo_cohort.progress import stage
from oligo_cohort.results import RESULT_TABLES
from oligo_cohort.worklist import WORKLIST_COLUMNS, worklist_relation

if TYPE_CHECKING:
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


def _write_files(result: ScreenResult, staging: Path, *, parquet: bool) -> None:
    with stage("write outputs"):
        # Unordered here: the writer's own ORDER BY orders the rows written (one sort, not two).
        relations = {name: result.query(name, ordered=False) for name in ("patients", "events", "reasons", "findings")}
        if result.worklist:
            relations["worklist"] = worklist_relation(result)
        for name, relation in relations.items():
            table = RESULT_TABLES.get(name)
            order = table.order if table and not table.stored_in_order else ""
            own = table.own_columns if table else ()
            write_csv(relation, staging / f"{name}.csv", order=order, own_columns=own)
            if parquet:
                (relation.order(order) if order else relation).write_parquet(str(staging / f"{name}.parquet"))
        manifest = result.manifest()
        manifest["input_files"] = {str(p): sha256_of(p) for p in result.input_files}
        manifest["source"] = result.source
        manifest["files"] = sorted(p.name for p in staging.iterdir())
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")


__all__ = ["KIND", "MANIFEST", "WORKLIST_COLUMNS", "result_inputs", "write_result"]
