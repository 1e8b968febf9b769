"""Read an extract as it arrives — a folder of CSV/Parquet files, a DuckDB file, or DataFrames — into text tables.

Every value is read as text, with its 1-based row number, so that validation
can name the exact row and the value as the provider wrote it, before any
type is imposed. Input files are only read, never written.

One module per kind of source: `folder` reads a folder's files with
`csv_files` and `parquet_files`; `duckdb_file` reads a DuckDB database;
`frames` reads DataFrames and Arrow tables. `text_tables` holds what they all
give (`RawTable`, `RawExtract`) and the rules they share; what a path is,
before anything opens it, is told by `oligo_cohort.file_kinds`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from oligo_cohort.errors import UsageError
from oligo_cohort.file_kinds import DUCKDB_FILE, EXPORT_FIRST, NOT_FILES, UnreadableError, file_kind, with_article
from oligo_cohort.sources.duckdb_file import read_duckdb_file
from oligo_cohort.sources.folder import TOOL_EXTRACTS, read_folder
from oligo_cohort.sources.frames import NumericIdWarning, read_frames
from oligo_cohort.sources.parquet_files import reread_parquet_as_text
from oligo_cohort.sources.text_tables import ROW, RawExtract, RawTable

if TYPE_CHECKING:
    import duckdb
    import pandas as pd  # never imported here: a pandas frame can only arrive when its caller imported pandas
    import polars as pl
    import pyarrow as pa

__all__ = [
    "DUCKDB_FILE",
    "ROW",
    "TOOL_EXTRACTS",
    "ExtractSource",
    "NumericIdWarning",
    "RawExtract",
    "RawTable",
    "UnreadableError",
    "file_kind",
    "read_source",
    "reread_parquet_as_text",
]

# A folder or DuckDB file, or tables by name: pandas or polars DataFrames, or Arrow tables.
ExtractSource = str | Path | Mapping[str, "pd.DataFrame | pl.DataFrame | pa.Table"]


def read_source(source: ExtractSource, con: duckdb.DuckDBPyConnection | None = None) -> RawExtract:
    """Read every table of the model present in `source` as text (Parquet footers on `con`, if given: a connection
    costs a few hundredths of a second to open)."""
    if isinstance(source, Mapping):
        return read_frames(source)
    path = Path(source)
    kind = file_kind(path)
    if kind == "folder":
        return read_folder(path, con)
    if kind == DUCKDB_FILE:
        return read_duckdb_file(path)
    if kind == "missing":
        raise UsageError(f"extract {path} does not exist")
    if kind in NOT_FILES or kind.startswith("unreadable"):
        raise UsageError(f"extract {path} is {with_article(kind)}, not a folder or a DuckDB database file")
    raise UsageError(
        f"{path} is {with_article(kind)}, not a DuckDB database; give the folder holding the extract's tables "
        "(one CSV or Parquet file per table), or a DuckDB database file"
        + (": export the tables as CSV or Parquet first" if kind in EXPORT_FIRST else "")
    )
