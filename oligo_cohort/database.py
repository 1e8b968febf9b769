"""Every DuckDB connection of the package, made one way: private spill folder, no extensions, no network.

Patient data passes through DuckDB, which spills what does not fit in memory
to files. Those files go into a folder of this run only: made with a random
name under the temporary folder, readable by the user alone (0700), and
removed when the connection is closed or dropped, when the run ends, or when
it fails. DuckDB never installs or loads an extension on its own (a SQLite
file given as an extract once made it try to download one), community
extensions are refused, and stored secrets are never read: a run makes no
network connection. Every `duckdb.connect` of the package goes through
`connect()` (tests/safety/test_input_safety.py checks both the settings on every
connection a run opens and that no other module calls `duckdb.connect`).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from oligo_cohort.errors import UsageError

if TYPE_CHECKING:
    import polars as pl

THREADS_ENV = "OLIGO_COHORT_THREADS"  # DuckDB worker threads of a run (see `connect`)
MEMORY_ENV = "OLIGO_COHORT_MEMORY_LIMIT"  # DuckDB memory limit of a run (see `connect`)
MEMORY_LIMIT = "3.5GB"  # what DuckDB holds in memory before spilling; a 1 M-patient screen peaks at 3.9 GiB RSS
# Below this DuckDB cannot even screen the demo extract; a real registry needs gigabytes.
MIN_MEMORY_BYTES = 128 * 1000**2
SPILL_PREFIX = "oligo-cohort-"  # the private spill folders: <temporary folder>/oligo-cohort-<random>

# Settings on every connection: nothing is fetched or loaded from outside the package.
SAFE_SETTINGS: dict[str, object] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "allow_persistent_secrets": False,
}

_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_MEMORY = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]+)")

# Spill folders of connections still open: removed at exit at the latest.
_open_folders: dict[str, weakref.ref[duckdb.DuckDBPyConnection]] = {}


def connect(database: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (in memory, or `database` opened as given) with the package's settings.

    `OLIGO_COHORT_THREADS=N` caps its worker threads (default: one per core); `OLIGO_COHORT_MEMORY_LIMIT`
    (e.g. `8GB`; default `MEMORY_LIMIT`) caps the memory DuckDB holds before it spills tables and operators to
    its private folder. Row order is never relied on (every output is sorted when written), so DuckDB need not
    preserve insertion order, which lets it stream and spill. Results do not depend on these settings
    (tests/engines/test_determinism.py); they are for large or shared machines.
    """
    config: dict[str, object] = {
        **SAFE_SETTINGS,
        "preserve_insertion_order": False,
        # An in-memory database has nothing to make durable, yet DuckDB checkpoints it every 16 MB of changes,
        # which cost seconds per result table at 100k patients; never.
        "checkpoint_threshold": "1TB",
        "memory_limit": memory_limit(),
    }
    threads = thread_limit()
    if threads is not None:
        config["threads"] = threads
    folder = _private_folder()
    config["temp_directory"] = folder
    try:
        if database is None:
            con = duckdb.connect(config=config)
        else:
            con = duckdb.connect(str(database), read_only=read_only, config=config)
    except BaseException:
        _remove(folder)
        raise
    _open_folders[folder] = weakref.ref(con)
    # Dropped without close() (an error unwinding, a result nobody keeps): the folder goes with it.
    weakref.finalize(con, _remove, folder)
    return con


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the connection holds a table or view of that name (a registered frame is a view)."""
    found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name])
    return bool(found.fetchall()[0][0])


def close(con: duckdb.DuckDBPyConnection) -> None:
    """Close a connection made by `connect()` and remove its spill folder now."""
    con.close()
    for folder, ref in list(_open_folders.items()):
        if ref() is con:
            _remove(folder)


class _ArrowStream:
    """A polars frame as DuckDB reads it: through the Arrow C stream interface, a fresh stream each scan."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self._frame.__arrow_c_stream__(requested_schema)


def register_frame(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Make a polars frame readable as view `name` of `con`, without pyarrow.

    DuckDB reads a polars frame itself by converting it with pyarrow, which brings numpy (a tenth of a second of
    start-up) into a screen of CSV files that needs neither. Through the Arrow C stream interface (PyCapsule)
    DuckDB reads the frame's own Arrow buffers, with no copy, as often as a query scans the view.
    """
    con.register(name, _ArrowStream(frame))


def create_table(
    con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, str], rows: Sequence[Sequence[object]]
) -> None:
    """Create (or replace) table `name` holding Python `rows`; `columns` maps each column to "text" or "integer".

    The rows travel as a polars frame (`register_frame`): handing DuckDB a list or building an Arrow array from
    Python values makes pyarrow import pandas, a third of a second of start-up the screen does not otherwise need.
    """
    import polars as pl

    types = {"text": pl.String, "integer": pl.Int64}
    frame = pl.DataFrame([list(row) for row in rows], schema={c: types[t] for c, t in columns.items()}, orient="row")
    view = f"{name}_rows"
    register_frame(con, view, frame)
    try:
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM "{view}"')
    finally:
        con.unregister(view)


def spill_folder(con: duckdb.DuckDBPyConnection) -> Path:
    """The private folder a connection spills to."""
    return Path(str(con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]))


def is_private_folder(folder: Path) -> bool:
    """Whether `folder` is the private spill folder of an open connection made by `connect()` (and so removed with
    it), not a folder a connection made elsewhere was given."""
    return str(folder) in _open_folders


def thread_limit() -> int | None:
    """The threads (and drawing workers) a run may use: `OLIGO_COHORT_THREADS` checked, or None when it is unset."""
    return whole_number_setting(THREADS_ENV, "threads")


def whole_number_setting(name: str, counting: str) -> int | None:
    """The environment variable `name` as a whole number >= 1 (of `counting`, for the message), or None when it
    is unset or blank; anything else is a UsageError naming the variable and its value."""
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"{name}={text!r}: expected a whole number of {counting} >= 1")
    return int(text)


def memory_limit() -> str:
    """The memory limit of a run: `OLIGO_COHORT_MEMORY_LIMIT` checked (an amount with a unit), or the default."""
    amount, unit = _memory_setting()
    return f"{amount}{unit}"


def memory_limit_bytes() -> int:
    """The memory limit of a run (`memory_limit`) in bytes."""
    amount, unit = _memory_setting()
    return int(float(amount) * _UNITS[unit.lower()])


def _memory_setting() -> tuple[str, str]:
    """`OLIGO_COHORT_MEMORY_LIMIT` (else `MEMORY_LIMIT`) as its amount and unit, checked."""
    text = os.environ.get(MEMORY_ENV, "").strip()
    match = _MEMORY.fullmatch(text or MEMORY_LIMIT)
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise UsageError(
            f"{MEMORY_ENV}={text!r}: expected an amount of memory such as 8GB or 512MB "
            "(units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
        )
    if float(match.group(1)) * unit < MIN_MEMORY_BYTES:
        raise UsageError(f"{MEMORY_ENV}={text!r}: too little memory to screen; give at least 128MB (e.g. 4GB)")
    return match.group(1), match.group(2)


def temporary_parent() -> Path:
    """The temporary folder spill folders are made in: `TMPDIR` (or `TEMP`, `TMP`) if set, which must then work.

    Python falls back to /tmp when `TMPDIR` names no usable folder; patient data would then land where the user
    chose it should not, so a `TMPDIR` that is missing, not a folder or not writable stops the run instead.
    """
    for name in ("TMPDIR", "TEMP", "TMP"):
        value = os.environ.get(name, "")
        if not value:
            continue
        path = Path(value)
        if not path.exists():
            raise UsageError(f"{name}={value!r}: the temporary folder does not exist; create it or unset {name}")
        if not path.is_dir():
            raise UsageError(f"{name}={value!r}: not a folder; point {name} at a writable folder or unset it")
        if not os.access(path, os.W_OK | os.X_OK):
            raise UsageError(f"{name}={value!r}: the temporary folder is not writable; choose another or unset {name}")
        return path
    try:
        return Path(tempfile.gettempdir())
    except OSError as exc:
        raise UsageError(f"no usable temporary folder ({exc}); set TMPDIR to a writable folder") from None


def _private_folder() -> str:
    parent = temporary_parent()
    try:
        # mkdtemp: a random name, created atomically, mode 0700 (only the user can list or read the spill files).
        return tempfile.mkdtemp(prefix=SPILL_PREFIX, dir=parent)
    except OSError as exc:
        raise UsageError(f"cannot create a private temporary folder in {parent} ({exc.strerror})") from None


def _remove(folder: str) -> None:
    _open_folders.pop(folder, None)
    shutil.rmtree(folder, ignore_errors=True)


@atexit.register
def _close_all() -> None:
    """At exit, close what is still open and remove every spill folder of this process."""
    for folder, ref in list(_open_folders.items()):
        con = ref()
        if con is not None:
            with contextlib.suppress(duckdb.Error):  # already closed, or closing at exit: the folder goes anyway
                con.close()
        _remove(folder)
