"""Run independent pieces of SQL work at the same time, each on a DuckDB connection of its own.

DuckDB shares a query's rows out among its threads by row group (`ROW_GROUP_ROWS` rows; a Parquet file's
own row groups when it reads one). A query over a table of one row group therefore keeps one core busy however
many the machine has: a 4-million-row lesion file written as one row group is typed on one core. Independent
pieces of such work (explain's parts, the typing of an extract's tables, the result's files) run side by side
instead, each on a cursor (a connection of its own to the same database, sharing its tables and its memory limit),
so every core works. An error in one piece, or Ctrl-C at any moment, interrupts every piece until each has ended;
the first error is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

import duckdb

from oligo_cohort.interruption import WAKE_EVERY_SECONDS, deferred, results_or_first_error

# DuckDB's row group: the unit of work its threads share out when reading one of its own tables.
ROW_GROUP_ROWS = 122_880

Result = TypeVar("Result")
Work = Callable[[duckdb.DuckDBPyConnection], Result]


def row_groups(rows: int) -> int:
    """The row groups a DuckDB table of `rows` rows holds: how many threads can share out a scan of it."""
    return -(-rows // ROW_GROUP_ROWS)


def thread_count(con: duckdb.DuckDBPyConnection) -> int:
    """The worker threads the database runs a query on."""
    return int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])


def run_side_by_side(con: duckdb.DuckDBPyConnection, work: Sequence[Work[Result]], workers: int) -> list[Result]:
    """Run each piece of `work` on a cursor of its own, `workers` at a time; the results in the order given.

    A piece's temporary views and registered tables live on its cursor and end with it. With one worker the
    pieces run one after the other, on cursors all the same, so the two ways differ only in time.

    Even one piece at a time runs on a thread of the pool, never on the calling thread: that thread waits where it
    sees Ctrl-C at once, and interrupts the cursors. A statement the main thread runs itself answers a signal only
    when DuckDB next looks for one, between its tasks: typing a 600,000-patient extract's lesions into a database
    file answered Ctrl-C 6–12 s late that way, and within a second on a thread of the pool.
    """
    cursors = [con.cursor() for _ in work]
    try:
        with ThreadPoolExecutor(max(1, min(workers, len(work)))) as pool:
            running: list[Future[Result]] = []
            try:
                # A signal while the pieces are handed out waits until every one is listed here: a piece running
                # but not yet listed would be neither interrupted nor awaited, and the pool's end would wait for it.
                with deferred():
                    running = [pool.submit(piece, cursor) for piece, cursor in zip(work, cursors, strict=True)]
                return results_or_first_error(running)
            except BaseException:  # an error in one piece, or Ctrl-C: the others stop too
                for future in running:
                    future.cancel()
                _interrupt_until_done(running, cursors)
                raise
    finally:
        for cursor in cursors:
            cursor.close()


def _interrupt_until_done(running: Sequence[Future], cursors: Sequence[duckdb.DuckDBPyConnection]) -> None:
    """Interrupt every cursor, again and again, until each piece has ended.

    An interrupt stops the query a cursor runs at that moment, not the next: a piece between two of its queries, or
    one whose query had not begun yet, would otherwise run on to its end (at a million patients the lesion table's
    typing and rules go on for some 17 s after its first query). Repeated, the interrupt reaches each of them.
    """
    while not all(future.done() for future in running):
        for cursor in cursors:
            cursor.interrupt()
        wait(running, timeout=WAKE_EVERY_SECONDS)
