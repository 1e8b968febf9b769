"""Writing the reviewed extract: a copy of the extract with the answers' records added, and review_audit.csv.

The input is only read. Every file of an extract folder is copied as it is, except the tables that receive
records: a CSV table is written again with its rows as read (text, columns as found) followed by the new ones; a
Parquet table keeps its schema and gets the new rows cast to it; a table the extract lacks is created in the
format of its `patients` table. The reviewed extract's CSV tables are read without the CSV writer's inert mark (it
is an extract this tool wrote: `sources.TOOL_EXTRACTS`), so a CSV table of an extract the tool did not write is
copied as it is only when the writer would write every value of it as it is; one holding a value that starts
with a formula character or an apostrophe (`=217`, `'00107`) is written again through the writer, like the
tables receiving records, so that every table reads back the values the extract holds. A DuckDB database file is written out as a folder of Parquet tables (the
database itself is not copied): the reviewed extract is always a folder, with the audit beside its tables. An
audit already in the extract (an earlier review round) is kept, the new rows after it.

The folder is written through `oligo_cohort.destination` (all or nothing) and loaded once more, marker
written, before it is moved into place, so a reviewed extract that the screen would refuse is never left behind.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from oligo_cohort.csv_output import read_back, write_csv
from oligo_cohort.database import connect
from oligo_cohort.destination import OutputFolder, staged_output
from oligo_cohort.dictionary import tables
from oligo_cohort.errors import UsageError
from oligo_cohort.review.records import AUDIT_COLUMNS
from oligo_cohort.sources import DUCKDB_FILE, ROW, file_kind, read_source
from oligo_cohort.sources.csv_files import written_as_read
from oligo_cohort.sources.folder import written_by_tool
from oligo_cohort.user_files import UserFileProblem, header_names, nul_cells, read_delimited

AUDIT_FILE = "review_audit.csv"


def write_reviewed_extract(
    extract: Path, out_dir: Path | OutputFolder, records: dict[str, pd.DataFrame], audit: pd.DataFrame
) -> Path:
    """Copy `extract` into `out_dir` with `records` added per table and the audit written; all or nothing (the
    folder is refused when it is, holds or lies inside the extract: oligo_cohort.destination)."""
    extract = Path(extract)
    folder = out_dir
    if not isinstance(folder, OutputFolder):
        folder = OutputFolder(out_dir, "reviewed-extract", inputs=[extract])
    # Loaded once more with its marker written: read as the screen will read it, without the writer's marks.
    with staged_output(folder, "reviewed-extract", check=_check_loads) as staging:
        if extract.is_dir():
            _copy_folder(extract, staging, records)
        elif file_kind(extract) == DUCKDB_FILE:
            _copy_database(extract, staging, records)
        else:
            raise UsageError(f"--extract {extract} is neither a folder nor a DuckDB database file")
        _write_audit(extract, staging / AUDIT_FILE, audit)
    return folder.requested


def _copy_folder(extract: Path, staging: Path, records: dict[str, pd.DataFrame]) -> None:
    model = tables()
    # The reviewed extract's CSV tables are read without the writer's inert mark. Those of an extract this tool
    # wrote carry it already and are copied; those of another may not (see the module notes).
    marked = written_by_tool(extract)
    table_files: dict[str, Path] = {}
    for file in sorted(extract.iterdir()):
        if not file.is_file() or file.name.startswith(".") or file.name == AUDIT_FILE:
            continue
        stem, suffix = file.stem.lower(), file.suffix.lower()
        if stem in model and suffix in (".csv", ".parquet") and (stem in records or (suffix == ".csv" and not marked)):
            table_files[stem] = file
            continue
        shutil.copy2(file, staging / file.name)
    patients_format = next((f.suffix.lower() for f in extract.iterdir() if f.stem.lower() == "patients"), ".csv")
    raw = read_source(extract) if any(f.suffix.lower() == ".csv" for f in table_files.values()) else None
    for name, file in table_files.items():
        new_rows = records.get(name)
        if file.suffix.lower() == ".parquet":
            assert new_rows is not None  # a Parquet table is taken here only to receive records
            _append_parquet(pq.read_table(file), new_rows, staging / file.name)
            continue
        assert raw is not None
        existing = raw.tables[name].data
        if new_rows is None and written_as_read(existing):
            shutil.copy2(file, staging / file.name)  # the writer would write it as it is
        else:
            _append_csv(existing, new_rows, staging / f"{file.stem}.csv")
    for name, new_rows in records.items():
        if name not in table_files:
            _write_new_table(staging, name, new_rows, patients_format)


def _copy_database(extract: Path, staging: Path, records: dict[str, pd.DataFrame]) -> None:
    source = connect(extract, read_only=True)
    try:
        present = {
            name.lower(): name for (name,) in source.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        for name in tables():
            if name not in present:
                continue
            existing = source.table(present[name]).arrow()
            existing = existing.read_all() if isinstance(existing, pa.RecordBatchReader) else existing
            existing = existing.rename_columns([c.lower() for c in existing.column_names])
            if name in records:
                _append_parquet(existing, records[name], staging / f"{name}.parquet")
            else:
                pq.write_table(existing, staging / f"{name}.parquet")
    finally:
        source.close()
    for name, new_rows in records.items():
        if name not in present:
            _write_new_table(staging, name, new_rows, ".parquet")


def _write_new_table(staging: Path, name: str, rows: pd.DataFrame, suffix: str) -> None:
    """A table the extract lacked: the model's columns, the new rows only."""
    columns = tables()[name].column_names
    frame = rows.reindex(columns=columns)
    if suffix == ".parquet":
        text = pa.Table.from_pandas(frame.astype("string"), preserve_index=False)
        pq.write_table(_cast_to_model(text, name), staging / f"{name}.parquet")
    else:
        _write_csv(staging / f"{name}.csv", columns, [_texts(r) for r in frame.itertuples(index=False, name=None)])


def _append_csv(existing: pl.DataFrame, rows: pd.DataFrame | None, target: Path) -> None:
    """The table's rows as read (text, columns as found) and the new rows (if any) in those columns."""
    columns = [c for c in existing.columns if c != ROW]
    body = [[value or "" for value in record] for record in existing.select(columns).iter_rows()]
    if rows is not None:
        body += [_texts(r) for r in rows.reindex(columns=columns).itertuples(index=False, name=None)]
    _write_csv(target, columns, body)


def _append_parquet(existing: pa.Table, rows: pd.DataFrame, target: Path) -> None:
    """The new rows cast to the existing table's schema (columns it lacks are left out), appended."""
    schema = existing.schema
    arrays = []
    for field in schema:
        values = rows[field.name].tolist() if field.name in rows else [None] * len(rows)
        text = pa.array([None if v is None or v == "" else str(v) for v in values], pa.string())
        arrays.append(text if pa.types.is_string(field.type) else pc.cast(text, field.type))
    added = pa.Table.from_arrays(arrays, schema=schema)
    pq.write_table(pa.concat_tables([existing, added]), target)


def _cast_to_model(text: pa.Table, name: str) -> pa.Table:
    """Text columns typed as the dictionary says (dates, booleans, integers), for a new Parquet table."""
    kinds = {c.name: c.type for c in tables()[name].columns}
    arrow = {"date": pa.date32(), "boolean": pa.bool_(), "integer": pa.int32()}
    columns = [pc.cast(text[c], arrow[kinds[c]]) if kinds.get(c) in arrow else text[c] for c in text.column_names]
    return pa.Table.from_arrays(columns, names=text.column_names)


def _texts(values: tuple[object, ...]) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v) for v in values]


def _write_csv(path: Path, columns: list[str], rows: list[list[str]]) -> None:
    """Text rows through the one CSV writer (formula-like text marked inert; the loader takes the mark off again
    for an extract this tool wrote: sources.TOOL_EXTRACTS)."""
    write_csv(pd.DataFrame(rows, columns=columns, dtype=object), path)


def read_audit(path: Path) -> pd.DataFrame:
    """A review_audit.csv as written (text cells read back without their formula-safe apostrophe, empty as '').

    The audit is the record of who answered what: one that cannot be read whole (another encoding, a quote left
    open, a row of more or fewer fields, a NUL byte, a column missing) is refused naming it and the line, never
    carried into the next round in part.
    """
    label = f"the review audit {path}"
    try:
        read = read_delimited(path, delimiters=(",",))
    except UserFileProblem as exc:
        raise UsageError(f"{label}: {exc.reason}") from None
    names, twice = header_names(read.header)
    missing = [c for c in AUDIT_COLUMNS if c not in names]
    problems = [f"column {name!r} named twice" for name, _, _ in twice]
    problems += [f"column(s) {', '.join(missing)} missing"] if missing else []
    problems += [f"line {r.line} has {len(r.fields)} fields, the header {len(names)}" for r in read.records
                 if len(r.fields) != len(names)]  # fmt: skip
    problems += [f"line {r.line}, column {column}: a NUL byte" for r, column, _ in nul_cells(read.records, names)]
    if problems:
        shown = "; ".join(problems[:10]) + (f"; ... and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise UsageError(f"{label} cannot be read: {shown} (an earlier review round's audit: restore it as written)")
    rows = [[read_back(value) for value in r.fields] for r in read.records]
    return pd.DataFrame(rows, columns=names, dtype=object)


def _write_audit(extract: Path, target: Path, audit: pd.DataFrame) -> None:
    """The audit of this import after that of earlier review rounds (kept as they are)."""
    earlier = extract / AUDIT_FILE if extract.is_dir() else None
    frame = audit.reindex(columns=list(AUDIT_COLUMNS))
    if earlier is not None and file_kind(earlier) != "missing":
        before = read_audit(earlier).replace("", None)
        frame = pd.concat([before.reindex(columns=list(AUDIT_COLUMNS)), frame], ignore_index=True)
    text = frame.astype(object).where(frame.notna(), None)
    rows = [_texts(r) for r in text.itertuples(index=False, name=None)]
    _write_csv(target, list(AUDIT_COLUMNS), rows)  # notes are free text: formula-safe for a spreadsheet


def _check_loads(folder: Path) -> None:
    """The reviewed extract must load as the screen would load it (fatal problems raise InputError)."""
    from oligo_cohort.load import load_extract

    load_extract(folder).con.close()
