"""Run independent pieces of SQL work at the same time, each on a DuckDB connection of its own.

DuckDB shares a query's rows out among its threads by row group (`ROW_GROUP_ROWS` rows; a Parquet file's
own row groups when it reads one). A query over a table of one row group therefore keeps one core busy however
many the machine has: a 4-million-row lesion file written as one row group is typed on one core. Independent
pieces of such work (explain's parts, the typing of an extract's tables) run side by side instead, each on a
cursor (a connection of its own to the same database, sharing its tables and its memory limit), so every core
works. An error or Ctrl-C in one piece interrupts the others; the first error is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar

import duckdb

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
    """
    cursors = [con.cursor() for _ in work]
    try:
        if workers <= 1 or len(work) <= 1:
            return [piece(cursor) for piece, cursor in zip(work, cursors, strict=True)]
        with ThreadPoolExecutor(min(workers, len(work))) as pool:
            running = [pool.submit(piece, cursor) for piece, cursor in zip(work, cursors, strict=True)]
            try:
                # Waiting for the first error, not for each piece in turn: a late piece's error stops an early one.
                wait(running, return_when=FIRST_EXCEPTION)
                failed = [future.exception() for future in running if future.done() and future.exception()]
                if failed:
                    raise failed[0]
                return [future.result() for future in running]
            except BaseException:  # an error in one piece, or Ctrl-C: the others stop too
                for future in running:
                    future.cancel()
                for cursor in cursors:
                    cursor.interrupt()
                raise
    finally:
        for cursor in cursors:
            cursor.close()
