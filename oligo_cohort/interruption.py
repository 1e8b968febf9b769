"""Ctrl-C and SIGTERM: one clean path that stops the run, removes what was half-written and exits 130 / 143.

The command line installs `signals_handled()`: SIGINT raises `KeyboardInterrupt`
and SIGTERM raises `Terminated` (a `KeyboardInterrupt`), so a `kill` takes the
same path as Ctrl-C through every `finally` that removes a staging folder.
While DuckDB runs a query the signal surfaces as DuckDB's own error ("query
interrupted", sometimes a `RuntimeError`), and code may even catch it on the
way; so the signal is also recorded, `main()` asks `received()` whatever
exception arrives, and every `progress.stage()` boundary calls
`raise_if_interrupted()` so a swallowed interrupt still stops the run.

Short critical sections (renaming a finished folder into place, removing a
staging folder, starting worker processes) run inside `deferred()`: a signal
arriving then is held and raised when the section is done, so it can never
leave a folder half-moved or a worker started but unknown to its pool. Outside
the command line (the Python API, a notebook) the section holds the signal all
the same and hands it, when the section ends, to whatever handler was there.

A main thread that waits for work done elsewhere (SQL pieces side by side, site diagrams in worker processes)
waits through `results_or_first_error`, which wakes often enough to see a signal the kernel gave to another
thread.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from oligo_cohort.errors import is_duckdb_error

if TYPE_CHECKING:
    from concurrent.futures import Future

Result = TypeVar("Result")

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
NAMES = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stop as for Ctrl-C."""


_received: list[int] = []
_deferring = 0
_pending = False
_ignoring = 0


def _exception(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _handler(signum: int, frame: object) -> None:
    global _pending
    _received.append(signum)
    if _ignoring:
        return
    if _deferring:
        _pending = True
        return
    raise _exception(signum)


@contextmanager
def signals_handled() -> Iterator[None]:
    """SIGINT and SIGTERM stop the run through exceptions inside this block (main thread only)."""
    global _pending
    _received.clear()
    _pending = False
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.signal(sig, _handler) for sig in EXIT_CODES}
    try:
        yield
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)
        _received.clear()  # the next run (or API call) in this process starts afresh
        _pending = False


def ending_message(signum: int) -> str:
    """The one line a run stopped by `signum` ends with."""
    return f"oligo-cohort: {NAMES[signum]}; no output folder or file was left half-written"


def received() -> int | None:
    """The first signal received by the current run (None if none; read it inside `signals_handled()`)."""
    return _received[0] if _received else None


def stopped_by(exc: BaseException) -> int | None:
    """The signal that stopped the run ending in `exc` (SIGINT for a bare KeyboardInterrupt), or None if none did.

    Asked whatever `exc` is: a signal during a DuckDB query surfaces as DuckDB's error, or as whatever a caller
    made of it.
    """
    if _received:
        return _received[0]
    if isinstance(exc, Terminated):
        return signal.SIGTERM
    if isinstance(exc, KeyboardInterrupt) or is_duckdb_error(exc, "InterruptException"):
        return signal.SIGINT
    return None


def raise_if_interrupted() -> None:
    """Raise the interrupt again if a signal arrived (its exception may have been caught and dropped on the way)."""
    if _received and not _deferring:
        raise _exception(_received[0])


@contextmanager
def ignored() -> Iterator[None]:
    """Record signals without raising them: the run is already ending (a second Ctrl-C must not turn its last
    message into a traceback)."""
    global _ignoring
    _ignoring += 1
    try:
        yield
    finally:
        _ignoring -= 1


@contextmanager
def deferred() -> Iterator[None]:
    """Hold signals during a short critical section; one that arrived is raised when the section ends.

    Inside `signals_handled()` the run's own handler holds it. Elsewhere, in the main thread, the section puts a
    handler of its own in place for its length and afterwards sends the signal again, to the handler that was
    there before (Python's KeyboardInterrupt, a notebook's, or the default that ends the process). Outside the main
    thread no Python handler runs, so there is nothing to hold.
    """
    global _deferring, _pending
    held: list[int] = []
    replaced = _hold_elsewhere(held) if not _deferring else {}
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        for sig, previous in replaced.items():
            signal.signal(sig, previous)
        if not _deferring and _pending:
            _pending = False
            raise _exception(_received[0])
        for sig in dict.fromkeys(held):
            signal.raise_signal(sig)


def _hold_elsewhere(held: list[int]) -> dict[int, object]:
    """Outside `signals_handled()`: record SIGINT and SIGTERM in `held` instead of acting on them; the handlers
    replaced, to be put back."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    replaced = {}
    for sig in EXIT_CODES:
        previous = signal.getsignal(sig)
        if previous is _handler or previous is None:  # the run's own, or one Python cannot put back
            continue
        replaced[sig] = signal.signal(sig, lambda signum, frame: held.append(signum))
    return replaced


# How often a thread waiting for other threads' or processes' work wakes, to see a signal.
WAKE_EVERY_SECONDS = 0.05


def results_or_first_error(running: Sequence[Future[Result]]) -> list[Result]:
    """Every future's result in order, or the first error as soon as one raises it; a signal is seen within
    WAKE_EVERY_SECONDS.

    Python runs a signal's handler in the main thread only, and only once that thread runs again: when the kernel
    gives the signal to another thread (a DuckDB, polars or pool thread), a main thread blocked in a wait without
    end never sees it. Ctrl-C while a screen's files were written side by side went unanswered that way
    (tests/safety/test_signals.py::test_ctrl_c_while_the_files_are_written_side_by_side). Waiting for the first
    error, not for each future in turn, a late piece's error stops an early one.
    """
    from concurrent.futures import FIRST_EXCEPTION, wait

    while True:
        _, pending = wait(running, timeout=WAKE_EVERY_SECONDS, return_when=FIRST_EXCEPTION)
        failed = [future.exception() for future in running if future.done() and future.exception()]
        if failed:
            raise failed[0]
        if not pending:
            return [future.result() for future in running]
