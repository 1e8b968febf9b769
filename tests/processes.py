"""Commands run as processes of their own in tests, never waited on without end.

Tests that start the command line as a real process (signals, two runs at once, drawing workers) wait for it
through `Run`, with a deadline on every wait. A run that outlives its deadline is a hang, and a hang must fail one
test in minutes with what the process was doing, not stall the whole suite until CI gives up on it. The process
is started with Python's fault handler on, so SIGABRT makes it print every thread's Python stack before it dies;
those stacks go into the failure, and the run's whole process group (its workers too) is then killed.

stderr is read by a thread of its own from the start, so neither a full pipe nor a line that never comes can block
the test: `wait_for` and `end` take lines from it with the time left.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

# Long enough for a run on a busy two-core machine; a hang is then named within minutes.
DEADLINE_SECONDS = 120.0
# How long a hung process gets to print its stacks after SIGABRT.
STACKS_SECONDS = 10.0
_END = None  # what the reader puts after the last line of stderr


class Hung(AssertionError):
    """A process did not reach the point a test waited for in time."""


class Run:
    """One process started with stderr read line by line as it comes; every wait on it has a deadline."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | str | None = None,
        deadline: float = DEADLINE_SECONDS,
    ) -> None:
        self.argv = list(argv)
        self.deadline = deadline
        self.lines: list[str] = []  # every line read so far
        self._taken = 0  # lines already handed to the test
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._ended = False
        self.process = subprocess.Popen(
            self.argv,
            cwd=cwd,
            env=dict(env if env is not None else os.environ, PYTHONFAULTHANDLER="1"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # a group of its own: a hang is killed with every process it started
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(_END)

    def _next_line(self, until: float) -> str | None:
        """The next line of stderr, `_END` after the last; `Hung` if none comes before `until`."""
        if self._ended:
            return _END
        try:
            line = self._queue.get(timeout=max(0.0, until - time.monotonic()))
        except queue.Empty:
            raise self._hung("no further line on stderr") from None
        if line is _END:
            self._ended = True
        else:
            self.lines.append(line)
        return line

    def wait_for(self, line: str, timeout: float | None = None) -> list[str]:
        """Read stderr until `line` appears (the run is then at that point); the lines read on the way."""
        until = time.monotonic() + (self.deadline if timeout is None else timeout)
        while (text := self._next_line(until)) is not _END:
            if text == line:
                return self._take()
        raise AssertionError(f"{self._name()} ended before {line!r}: {self.lines}")

    def send(self, signum: int) -> None:
        """Send `signum` to the process itself."""
        self.process.send_signal(signum)

    def send_to_group(self, signum: int) -> None:
        """Send `signum` to every process of the run's group, as a terminal's Ctrl-C does."""
        os.killpg(self.process.pid, signum)

    def end(self, timeout: float | None = None) -> tuple[int, list[str]]:
        """Wait for the process to exit and its stderr to close; its exit code and the lines not yet taken."""
        until = time.monotonic() + (self.deadline if timeout is None else timeout)
        while self._next_line(until) is not _END:
            pass
        try:
            code = self.process.wait(timeout=max(0.0, until - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise self._hung("stderr closed, but the process did not exit") from None
        self._reader.join(timeout=1)
        return code, self._take()

    def _take(self) -> list[str]:
        taken, self._taken = self.lines[self._taken :], len(self.lines)
        return taken

    def _name(self) -> str:
        return f"`{' '.join(self.argv)}` (pid {self.process.pid})"

    def _hung(self, what: str) -> Hung:
        """Ask the hung process for its stacks, kill its group, and name it all."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGABRT)
        stacks = []
        until = time.monotonic() + STACKS_SECONDS
        while time.monotonic() < until:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break  # it has died, and printed what it had; a process it started may still hold stderr
                continue
            if line is _END:
                self._ended = True
                break
            stacks.append(line)
        self.kill()
        return Hung(
            f"{self._name()} hung: {what} within its deadline.\nstderr before:\n"
            + "\n".join(self.lines[-40:])
            + "\nits stacks (SIGABRT, fault handler):\n"
            + "\n".join(stacks)
        )

    def kill(self) -> None:
        """Kill every process of the run's group that is still there, and reap the run."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STACKS_SECONDS)
        # The run's own children are not ours to wait for: watch them go (a killed process takes a moment to end).
        until = time.monotonic() + STACKS_SECONDS
        while living(self.process.pid) and time.monotonic() < until:
            time.sleep(0.01)
        self._reader.join(timeout=STACKS_SECONDS)
        if self.process.stderr is not None and not self._reader.is_alive():
            self.process.stderr.close()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        """However the test went, nothing of the run is left running."""
        self.kill()


def group_members(group: int) -> list[str]:
    """Every process, zombies included, whose process group is `group`: its pid, state and name (Linux)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, fields = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        state, _, pgrp = fields.split()[:3]
        if int(pgrp) == group:
            found.append(f"{stat.parent.name} {state} {name.split('(', 1)[1]}")
    return found


def living(group: int) -> list[str]:
    """The processes of `group` that have not ended (a zombie has, though nothing reaped it yet)."""
    return [member for member in group_members(group) if member.split()[1] != "Z"]
