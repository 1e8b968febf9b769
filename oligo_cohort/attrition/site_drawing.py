"""Every site's CONSORT diagram written to its files, on every core the run may use.

A diagram costs Matplotlib about a quarter of a second as a 300-dpi PNG and an SVG, nearly all of it drawing
text, on one core: 300 sites took over a minute. The diagrams are independent, so above a few sites they are drawn
in worker processes, one per core (Matplotlib is not thread-safe: its settings are global), when the command line
runs (`workers_may_start`). A worker starts a
fresh Python and imports Matplotlib and pandas (about 0.9 s), so workers are started only when each has at least
twice that of drawing to do; below that, and with one core, the diagrams are drawn here, one at a time.

Either way the files are the same, byte for byte: each diagram depends on its own rows, heading and note only, and
`figure_style` sets what it draws with. Workers ignore Ctrl-C; the run's own process stops them (the diagrams
already being drawn finish, the rest are never started) and removes its half-written folder as ever.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from oligo_cohort.attrition.charts import save_figure
from oligo_cohort.attrition.consort import consort_figure, site_diagrams
from oligo_cohort.interruption import deferred, results_or_first_error

WORKER_START_SECONDS = 0.9  # a fresh Python importing Matplotlib, pandas and this package
# Drawing one site's diagram: its layout, then each format (PNG at 300 dpi), measured on a 300-site extract's.
LAYOUT_SECONDS = 0.05
SECONDS_PER_FORMAT = {"png": 0.17, "svg": 0.03, "pdf": 0.35}
# How long a worker or the semaphore tracker gets to end once asked to.
ENDING_SECONDS = 5.0


def write_site_diagrams(
    table: pd.DataFrame,
    stems: Sequence[str],
    folder: Path,
    formats: Sequence[str],
    *,
    unit: str,
    note: str | None,
) -> dict[str, list[Path]]:
    """Write the diagram of each group of a grouped attrition table as `<stem>.<format>` in `folder`; the paths per
    stem, in table order."""
    diagrams = site_diagrams(table, unit=unit)
    if len(diagrams) != len(stems):
        raise ValueError(f"{len(diagrams)} site diagrams but {len(stems)} file stems")
    jobs = [(d.rows, d.heading, stem) for d, stem in zip(diagrams, stems, strict=True)]
    workers = worker_count(len(jobs), formats, usable_cores())
    if workers <= 1:
        return {stem: _write(rows, heading, stem, folder, formats, unit, note) for rows, heading, stem in jobs}
    folder.mkdir(parents=True, exist_ok=True)
    others = set(multiprocessing.active_children())
    pool = None
    running = []
    try:
        # Ctrl-C and SIGTERM wait until every job is handed to the pool: a signal taken in the middle would leave
        # a worker started before the pool's manager, which alone tells workers to stop, and that worker would wait
        # for work for ever.
        with deferred():
            # The pool starts its semaphore tracker here, which unblocks Ctrl-C once it has: so before the block.
            pool = ProcessPoolExecutor(
                workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_start
            )
            with _ctrl_c_blocked_in_workers():  # the workers start here, with the first jobs
                running += [
                    pool.submit(_write, rows, heading, stem, folder, formats, unit, note)
                    for rows, heading, stem in jobs
                ]
        drawn = results_or_first_error(running)  # wakes to see Ctrl-C, whichever thread the kernel gives it to
        return {stem: files for (_, _, stem), files in zip(jobs, drawn, strict=True)}
    finally:
        # Done, an error in one diagram, or Ctrl-C: the diagrams not yet started never are, and no process of the
        # pool outlives this call.
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        _end_workers(set(multiprocessing.active_children()) - others)
        del pool, running
        _stop_resource_tracker()


def _end_workers(workers: set[multiprocessing.process.BaseProcess]) -> None:
    """End the workers a pool shut down without stopping (none, unless a way out of the pool was missed)."""
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(ENDING_SECONDS)
        if worker.is_alive():
            worker.kill()
            worker.join()


def _stop_resource_tracker() -> None:
    """Stop the process multiprocessing starts beside a pool to track its semaphores, and reap it.

    Left alone it ends only after the run, and stays a zombie where nothing reaps orphans (in a container whose
    first process does not). It ends when every process holding its pipe has closed it: ours here, the workers when
    they end. One that another pool of the program still uses is not waited for beyond `ENDING_SECONDS`.
    """
    from multiprocessing import resource_tracker

    tracker = resource_tracker._resource_tracker
    gc.collect()  # the pool's queues: their semaphores would otherwise be reported leaked
    with tracker._lock:
        if tracker._fd is None or tracker._pid is None:
            return
        os.close(tracker._fd)  # its end of the pipe: the tracker stops at the last one
        pid, tracker._fd, tracker._pid = tracker._pid, None, None
    deadline = time.monotonic() + ENDING_SECONDS
    while True:
        try:
            ended = os.waitpid(pid, os.WNOHANG)[0] != 0
        except ChildProcessError:  # reaped already
            return
        if ended or time.monotonic() >= deadline:
            return
        time.sleep(0.01)


def worker_count(sites: int, formats: Sequence[str], cores: int) -> int:
    """Workers worth starting for `sites` diagrams in `formats` on `cores`: each must have at least twice its
    start-up of drawing to do (1: draw them here)."""
    drawing = sites * (LAYOUT_SECONDS + sum(SECONDS_PER_FORMAT.get(fmt, 0.2) for fmt in formats))
    return max(1, min(cores, sites, int(drawing // (2 * WORKER_START_SECONDS))))


def usable_cores() -> int:
    """The cores this process may run on, at most `OLIGO_COHORT_THREADS` when it is set; 1 when workers may not
    start (`workers_may_start`)."""
    from oligo_cohort.database import thread_limit  # here: a worker need not import DuckDB

    if not workers_may_start():
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    cap = thread_limit()
    return cores if cap is None else min(cores, cap)


def workers_may_start() -> bool:
    """Whether starting a worker is safe here: a spawned worker first runs the program's main file again.

    That is harmless for the command line (`oligo-cohort`, `python -m oligo_cohort`: both call `main()` only under
    `if __name__ == "__main__"`) and where there is no main file (an interactive session, `python -c`). An analyst's
    script that calls the package at its top level, unguarded, would run again in every worker, and fail there;
    such a script, a notebook or any other program draws in its own process instead.
    """
    program = sys.modules.get("__main__")
    if program is None or getattr(program, "__file__", None) is None:
        return True
    entry = getattr(program, "main", None)
    return getattr(entry, "__module__", None) == "oligo_cohort.cli" and getattr(entry, "__name__", None) == "main"


@contextmanager
def _ctrl_c_blocked_in_workers() -> Iterator[None]:
    """Block SIGINT in this thread while workers start: a started process inherits the block, so a Ctrl-C that
    arrives while a worker is still starting Python waits instead of breaking its start with a traceback (as
    multiprocessing does for its own semaphore tracker). The worker then ignores it (`_worker_start`); here,
    `deferred()` holds it until the pool has every job."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _worker_start() -> None:
    # Ctrl-C reaches every process of the terminal's group; the run's own process handles it for all. A worker is
    # born with it blocked (`_ctrl_c_blocked_in_workers`): ignored from here on, a Ctrl-C that came meanwhile is
    # dropped.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _write(
    rows: pd.DataFrame,
    heading: str,
    stem: str,
    folder: Path,
    formats: Sequence[str],
    unit: str,
    note: str | None,
) -> list[Path]:
    figure = consort_figure(rows, unit=unit, note=note, heading=heading)
    return save_figure(figure, folder, stem, formats, exact_size=True)
