"""Tables typed side by side: the same problems, in the same order, whatever the threads and row groups.

Validation types the tables DuckDB would read on one thread (a Parquet file of one row group, a small table)
side by side, each on a connection of its own (`oligo_cohort.side_by_side`). Whether a table is typed alone or
beside others then depends on the thread count and on how its file was written, and neither may change what is
found. Generated extracts (the demo with junk in a few cells of a few tables, each table written as CSV or as
Parquet of one or of many row groups) are validated with one thread and with two, and the problems compared
field by field, order included.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.database import THREADS_ENV, close, connect
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.side_by_side import run_side_by_side
from oligo_cohort.sources import read_source
from oligo_cohort.validate import create_vocabulary, validate_and_type
from tests.draws import costly_draws

DEMO = demo_extract_dir()
NAMES = sorted(path.stem for path in DEMO.glob("*.csv"))
RUN_DAY = dt.date(2025, 1, 1)
JUNK = st.sampled_from(["", "x", "-1", "1e308", "2024-02-30", "9999-12-31", "P9999", "  padded  ", "NaN"])


def demo_rows(name: str) -> list[list[str]]:
    with (DEMO / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@st.composite
def extract_layouts(draw) -> tuple[dict[str, list[list[str]]], dict[str, str]]:
    """The demo's tables with junk in a few cells, and how each is written: CSV, or Parquet of 1 or 3+ groups."""
    tables = {name: demo_rows(name) for name in NAMES}
    for _ in range(draw(st.integers(0, 6))):
        rows = tables[draw(st.sampled_from(NAMES))]
        if len(rows) > 1:
            row = rows[draw(st.integers(1, len(rows) - 1))]
            row[draw(st.integers(0, len(row) - 1))] = draw(JUNK)
    layouts = {name: draw(st.sampled_from(["csv", "one row group", "row groups"])) for name in NAMES}
    return tables, layouts


def write(folder: Path, tables: dict[str, list[list[str]]], layouts: dict[str, str]) -> Path:
    folder.mkdir()
    for name, rows in tables.items():
        if layouts[name] == "csv":
            with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle, lineterminator="\n").writerows(rows)
            continue
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        options = pa_csv.ConvertOptions(column_types=dict.fromkeys(rows[0], pa.string()), strings_can_be_null=True)
        table = pa_csv.read_csv(io.BytesIO(text.getvalue().encode()), convert_options=options)
        group = max(1, table.num_rows // 3) if layouts[name] == "row groups" else max(1, table.num_rows)
        pq.write_table(table, folder / f"{name}.parquet", row_group_size=group)
    return folder


def problems(folder: Path, threads: int, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    monkeypatch.setenv(THREADS_ENV, str(threads))
    con = connect()
    try:
        create_vocabulary(con)
        return [tuple(vars(p).values()) for p in validate_and_type(con, read_source(folder), run_day=RUN_DAY)]
    finally:
        close(con)


@settings(
    max_examples=costly_draws(15),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(extract_layouts())
def test_the_problems_found_do_not_depend_on_threads_or_row_groups(monkeypatch, extract):
    tables, layouts = extract
    with tempfile.TemporaryDirectory() as folder:
        written = write(Path(folder) / "extract", tables, layouts)
        one = problems(written, 1, monkeypatch)
        assert problems(written, 2, monkeypatch) == one


def test_the_examples_find_problems(monkeypatch, tmp_path):
    """Junk in a cell is found whichever way its table is written (else the comparison above proves little)."""
    tables = {name: demo_rows(name) for name in NAMES}
    tables["lesions"][1][tables["lesions"][0].index("size_mm")] = "x"
    tables["imaging"][2][tables["imaging"][0].index("study_date")] = "2024-02-30"
    layouts = dict.fromkeys(NAMES, "one row group") | {"imaging": "csv"}
    found = problems(write(tmp_path / "extract", tables, layouts), 2, monkeypatch)
    assert {(p[1], p[2], p[5]) for p in found} >= {("lesions", "size_mm", "x"), ("imaging", "study_date", "2024-02-30")}


def test_results_come_in_the_order_given():
    con = duckdb.connect(config={"threads": 2})
    work = [
        lambda cursor, n=n: cursor.execute(f"SELECT {n} + count(*) FROM range({n * 1000})").fetchall()[0][0]
        for n in range(6)
    ]
    assert run_side_by_side(con, work, workers=2) == [n + n * 1000 for n in range(6)]
    assert run_side_by_side(con, work, workers=1) == [n + n * 1000 for n in range(6)]


def test_an_error_in_one_piece_stops_the_others():
    """The first error is raised, and a long query beside it is interrupted rather than waited for."""
    con = duckdb.connect(config={"threads": 2})
    started = threading.Event()

    def long_query(cursor: duckdb.DuckDBPyConnection) -> int:
        started.set()
        return cursor.execute("SELECT count(*) FROM range(10000000000) AS a(x) WHERE x % 7 = 3").fetchall()[0][0]

    def failing(cursor: duckdb.DuckDBPyConnection) -> int:
        started.wait(10)
        time.sleep(0.2)
        cursor.execute("SELECT * FROM no_such_table")
        return 0

    began = time.perf_counter()
    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        run_side_by_side(con, [long_query, failing], workers=2)
    assert time.perf_counter() - began < 20  # the long query alone takes minutes


# --- stopping: Ctrl-C or an error, whenever it comes, stops every piece ------------------------------------------
# The long query takes minutes; a run that stops it does so in well under a second.
LONG_QUERY = "SELECT count(*) FROM range(10000000000) AS a(x) WHERE x % 7 = 3"
STOPPED_WITHIN_SECONDS = 5


@st.composite
def stops(draw) -> tuple[int, int, int, int, str]:
    """How many pieces, how many run at once, which piece runs the long query, which one stops the run, and how:
    by sending Ctrl-C as it starts (while the main thread may still be handing out the others), or by failing."""
    pieces = draw(st.integers(2, 5))
    return (
        pieces,
        draw(st.integers(2, 3)),
        draw(st.integers(0, pieces - 1)),
        draw(st.integers(0, pieces - 1)),
        draw(st.sampled_from(["ctrl-c", "error"])),
    )


@st.composite
def stops_one_at_a_time(draw) -> tuple[int, int, int, int, str]:
    """As `stops`, one piece at a time: the stop comes from the long query's piece or one before it (a piece after
    it would start only once the long query ended, minutes later)."""
    pieces = draw(st.integers(1, 4))
    long_one = draw(st.integers(0, pieces - 1))
    return (pieces, 1, long_one, draw(st.integers(0, long_one)), draw(st.sampled_from(["ctrl-c", "error"])))


@settings(max_examples=12, deadline=None)
@given(stops())
def test_a_stop_at_any_moment_ends_every_piece(stop):
    """Whether the stop comes before, during or after the long query starts, and whether the main thread is still
    handing out pieces then, the call ends at once: no piece is left running unasked (the pool's end would wait
    for it), and a piece between two of its queries is stopped at its next one."""
    stop_and_time(*stop)


@settings(max_examples=8, deadline=None)
@given(stops_one_at_a_time())
def test_a_stop_ends_the_pieces_run_one_at_a_time(stop):
    """One piece at a time runs on a thread of the pool too, so the caller waits where it sees Ctrl-C and
    interrupts the piece's query (run by the caller itself, a query answers a signal only between DuckDB's tasks:
    typing a large table into a database file answered Ctrl-C 6-12 s late)."""
    stop_and_time(*stop)


def test_one_piece_at_a_time_runs_on_a_thread_of_the_pool():
    con = duckdb.connect(config={"threads": 2})
    caller = threading.current_thread()
    work = [lambda cursor: threading.current_thread() is not caller and cursor.execute("SELECT 1").fetchall() == [(1,)]]
    assert run_side_by_side(con, work * 3, workers=1) == [True, True, True]


def stop_and_time(pieces: int, workers: int, long_one: int, stopper: int, how: str) -> None:
    import os
    import signal

    from oligo_cohort.interruption import signals_handled

    con = duckdb.connect(config={"threads": 2})

    def piece(cursor: duckdb.DuckDBPyConnection, number: int) -> int:
        if number == stopper:
            if how == "ctrl-c":
                os.kill(os.getpid(), signal.SIGINT)
            else:
                time.sleep(0.05)
                cursor.execute("SELECT * FROM no_such_table")
        if number == long_one:
            for _ in range(3):  # several queries one after the other: each must be stopped, not only the first
                cursor.execute(LONG_QUERY).fetchall()
        return cursor.execute("SELECT 1").fetchall()[0][0]

    work = [lambda cursor, n=n: piece(cursor, n) for n in range(pieces)]
    expected = KeyboardInterrupt if how == "ctrl-c" else duckdb.CatalogException
    began = time.perf_counter()
    with signals_handled(), pytest.raises(expected):
        run_side_by_side(con, work, workers=workers)
    assert time.perf_counter() - began < STOPPED_WITHIN_SECONDS
    assert not [t for t in threading.enumerate() if t.name.startswith("ThreadPoolExecutor")]


def test_a_stopped_typing_is_not_taken_for_a_damaged_file(tmp_path, monkeypatch):
    """A Parquet table whose typing DuckDB stops (Ctrl-C, or another table's error while typed side by side) is not
    read again value by value, as a file with a damaged page is: at 100,000 patients that reread held Ctrl-C up for
    6 s. The interrupt goes on up, and the run ends as any interrupted run."""
    from oligo_cohort.dictionary import tables
    from oligo_cohort.synth import generate_extract
    from oligo_cohort.validate import typed_tables
    from oligo_cohort.validate.dates import PlausibleDates

    extract = generate_extract(tmp_path / "extract", patients=10, sites=1, seed=3, fmt="parquet")
    con = connect()
    try:
        raw = read_source(extract, con)
        lesions = raw.tables["lesions"]
        assert lesions.query, "a Parquet table streams from its file"

        def stopped(*args, **kwargs):
            raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")

        def reread(*args, **kwargs):
            raise AssertionError("an interrupted typing was taken for a damaged file")

        monkeypatch.setattr(typed_tables, "_create_typed", stopped)
        monkeypatch.setattr(typed_tables, "reread_parquet_as_text", reread)
        with pytest.raises(duckdb.InterruptException):
            typed_tables.create_typed_streaming(
                con, tables()["lesions"], lesions, PlausibleDates(dt.date(2025, 1, 1)), []
            )
    finally:
        close(con)
