"""Write a screening result: CSV (and Parquet) files, the worklist, a manifest — all or nothing.

Files are written into a temporary folder beside the destination and moved
into place only when every one is complete, so an interrupted or failed run
never leaves a half-written result. DuckDB writes the files directly from its
tables (a million-patient result never passes through pandas).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from oligo_cohort.errors import UsageError
from oligo_cohort.progress import stage
from oligo_cohort.results import RESULT_TABLES
from oligo_cohort.worklist import WORKLIST_COLUMNS, worklist_relation

if TYPE_CHECKING:
    from oligo_cohort.api import ScreeningResult

MANIFEST = "manifest.json"


def write_result(result: ScreeningResult, out_dir: Path, *, parquet: bool = False) -> Path:
    """Write patients, events, reasons, findings (+ worklist in worklist mode) and a manifest into `out_dir`."""
    with staged_folder(out_dir, MANIFEST, "result") as staging:
        _write_files(result, staging, parquet=parquet)
    return out_dir


def _write_files(result: ScreeningResult, staging: Path, *, parquet: bool) -> None:
    with stage("write outputs"):
        relations = {name: result.query(name) for name in ("patients", "events", "reasons", "findings")}
        if result.worklist:
            relations["worklist"] = worklist_relation(result)
        for name, relation in relations.items():
            table = RESULT_TABLES.get(name)
            order = table.order if table and not table.stored_in_order else ""
            _spreadsheet_safe(relation, order).write_csv(str(staging / f"{name}.csv"), header=True)
            if parquet:
                relation.write_parquet(str(staging / f"{name}.parquet"))
        manifest = result.manifest()
        manifest["input_files"] = {str(p): _sha256(p) for p in result.input_files}
        manifest["source"] = result.source
        manifest["files"] = sorted(p.name for p in staging.iterdir())
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")


def _spreadsheet_safe(relation: duckdb.DuckDBPyRelation, order: str = "") -> duckdb.DuckDBPyRelation:
    """Text starting with = + - @ (or a tab/CR) gets a leading apostrophe in CSV files.

    Spreadsheets run such cells as formulas; ids and drug names from an
    extract end up in the outputs, so a crafted value must not execute when an
    analyst opens the CSV. Parquet twins keep the values unchanged.
    """
    columns = []
    for name, dtype in zip(relation.columns, relation.dtypes, strict=True):
        quoted = '"' + name.replace('"', '""') + '"'
        if str(dtype) == "VARCHAR":
            risky = f"left({quoted}, 1) IN ('=', '+', '-', '@', chr(9), chr(13))"
            columns.append(f"CASE WHEN {risky} THEN chr(39) || {quoted} ELSE {quoted} END AS {quoted}")
        else:
            columns.append(quoted)
    # The ORDER BY is repeated here: an ORDER BY inside a subquery does not order the rows written.
    order_by = f" ORDER BY {order}" if order else ""
    return relation.query("unsafe", f"SELECT {', '.join(columns)} FROM unsafe{order_by}")


def check_destination(out_dir: Path, marker: str, what: str) -> None:
    """Refuse to replace a folder that is not an earlier output of the same kind (it holds `marker`), nor a file:
    a user's files must never be lost."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file, not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / marker).is_file():
        raise UsageError(f"--out {out_dir} is a non-empty folder that is not an earlier {what}; choose another")


@contextmanager
def staged_folder(out_dir: Path, marker: str, what: str = "output") -> Iterator[Path]:
    """A temporary folder beside `out_dir` that replaces it when the block succeeds: every command's outputs are
    all there or not at all, and an interrupted run never leaves a half-written folder."""
    out_dir = Path(out_dir)
    check_destination(out_dir, marker, what)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    try:
        yield staging
        if out_dir.exists():
            previous = out_dir.with_name(f".{out_dir.name}.previous")
            shutil.rmtree(previous, ignore_errors=True)
            out_dir.rename(previous)
            staging.rename(out_dir)
            shutil.rmtree(previous, ignore_errors=True)
        else:
            staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["MANIFEST", "WORKLIST_COLUMNS", "check_destination", "staged_folder", "write_result"]
