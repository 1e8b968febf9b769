"""Where validation keeps the typed inputs: in memory, or in a database file in the run's private folder.

Every `stored_<table>` lives in one catalog of the run's DuckDB database, `STORED_CATALOG`, attached before the
first table is typed. Most extracts are stored in memory, as DuckDB holds any table. Where the typed inputs would
take more than `FILE_ABOVE_SHARE` of DuckDB's memory limit, the catalog is a database file instead, in the run's
private spill folder (`database.connect`: readable by the user alone, removed with the run). DuckDB writes the
tables there compressed as it types them, and later reads back only what a query needs. In memory, the stored inputs
crowd the engine at that size: the buffer manager spills its tables and operators to disk, and reads them back.

The choice changes where bytes lie, not a value: every output is the same byte for byte either way
(tests/engines/test_determinism.py).

Measured on this project's 2-core machine with the default memory limit (3.5 GB), on synthetic extracts made as
`make bench` makes them, a screen end to end, file against memory (benchmarks/screen_once.py, one run after the
other; docs/performance.md):
- 100k patients, 7.3 million input rows, 0.58 GB typed (a sixth of the limit): 13.8–14.9 s against 12.1–12.8 s.
  Compressing the inputs and reading them back cost more than memory saves.
- 450k patients, 33 million rows (three quarters of the limit, `FILE_ABOVE_SHARE`): 68.6 and 65.5 s against
  67.0 and 66.2 s: even.
- 600k patients, 44 million rows (the whole limit): 83.8 and 84.9 s against 96.0 and 90.9 s, the engine 42–43 s
  against 52–57 s, spilling 4.5 GB instead of 8.1 GB.
- 1M patients, 73 million rows: 156.4, 145.7 and 138.7 s against 176.7, 152.1 and 156.3 s, spilling 10 GB instead
  of 21 GB.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from oligo_cohort.database import is_private_folder, memory_limit_bytes, spill_folder
from oligo_cohort.sql_text import literal

STORED_CATALOG = "validated"
STORED_FILE = "typed-inputs.duckdb"  # in the run's private folder
# What a typed input row takes in memory, on average over the tables of an extract: 79 bytes (DuckDB's
# IN_MEMORY_TABLE bytes after validating `make bench`'s 100k extract, 579 MB for 7.34 million rows; lesions,
# three text ids and two numbers a row, are three rows in five).
BYTES_PER_INPUT_ROW = 79
# The share of DuckDB's memory limit above which the typed inputs go to a file.
FILE_ABOVE_SHARE = 0.75
_KIND_VARIABLE = "oligo_cohort_typed_inputs"  # a DuckDB variable: where they went, "file" or "memory"


def stored_table(table: str) -> str:
    """The name, qualified by its catalog, of the table holding `table`'s typed values."""
    return f"{STORED_CATALOG}.stored_{table}"


def inputs_in_file(input_rows: int, limit_bytes: int) -> bool:
    """Whether `input_rows` typed rows would take more than `FILE_ABOVE_SHARE` of a memory limit of `limit_bytes`."""
    return input_rows * BYTES_PER_INPUT_ROW > FILE_ABOVE_SHARE * limit_bytes


def attach_storage(con: duckdb.DuckDBPyConnection, input_rows: int) -> None:
    """Attach `STORED_CATALOG` for the typed inputs of `input_rows` rows: a file in the run's private folder when they
    would crowd DuckDB's memory (`inputs_in_file`), else memory. A connection not made by `database.connect` has no
    private folder, so its inputs stay in memory. A connection that has the catalog already keeps it as it is (a
    second extract loaded into it replaces the first one's tables)."""
    if _attached_path(con) is not None:
        return
    folder = spill_folder(con)
    # Only a folder of this run's own making, removed with it, ever holds the file.
    in_file = inputs_in_file(input_rows, memory_limit_bytes()) and is_private_folder(folder)
    target = literal(str(folder / STORED_FILE)) if in_file else "':memory:'"
    con.execute(f"ATTACH {target} AS {STORED_CATALOG}")
    con.execute(f"SET VARIABLE {_KIND_VARIABLE} = ?", ["file" if in_file else "memory"])


def storage_kind(con: duckdb.DuckDBPyConnection) -> str:
    """Where validation kept the typed inputs: "file" or "memory", also once they are released (`make bench` notes
    it beside its screens; the tests ask)."""
    kind = con.execute(f"SELECT getvariable('{_KIND_VARIABLE}')").fetchall()[0][0]
    return kind or "memory"


def release_storage(con: duckdb.DuckDBPyConnection) -> None:
    """Once validation's tables are dropped: a file holding the typed inputs detached and deleted now, not when the
    run ends, so that the typed patient data (at a million patients, gigabytes) leaves the temporary folder as soon
    as nothing reads it. It changes no time (docs/performance.md). Memory needs nothing: the dropped tables freed
    it."""
    path = _attached_path(con)
    if not path:
        return
    con.execute(f"DETACH {STORED_CATALOG}")
    for file in (Path(path), Path(path + ".wal")):
        file.unlink(missing_ok=True)


def _attached_path(con: duckdb.DuckDBPyConnection) -> str | None:
    """What `STORED_CATALOG` is attached from: its file's path, "" for memory, None when it is not attached."""
    found = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = ?", [STORED_CATALOG]).fetchall()
    return (found[0][0] or "") if found else None
