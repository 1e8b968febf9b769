"""A process that hangs fails its test within the deadline, with its stacks, and leaves nothing running.

Every test that runs the command line as a process of its own waits through `tests.processes.Run`. These tests
hold that mechanism to its word for every kind of hang: each way a process can stop making progress (asleep,
blocked on a lock, spinning), at each point a test waits (for a line, for the end after a signal, for stderr to
close while a process the run started still holds it).
"""

from __future__ import annotations

import signal
import sys
import time

import pytest

from tests.processes import STACKS_SECONDS, Hung, Run, living

# How a process can stop making progress: Python code that never returns.
HANGS = {
    "asleep": "time.sleep(600)",
    "blocked on a lock": "lock = threading.Lock(); lock.acquire(); lock.acquire()",
    "spinning": "while True: pass",
}

# Where the test is waiting when it does. Each program prints `ready` once it is where the test expects it.
PROGRAMS = {
    # The line the test waits for never comes.
    "before the awaited line": "{hang}",
    # The run ignores the signal the test sends and goes on (the hang) instead of ending.
    "after a signal": "signal.signal(signal.SIGTERM, lambda *_: None)\nsay('ready')\n{hang}",
    # The run exits, but a process it started keeps stderr open: the end of its output never comes.
    "a process it started holds stderr": (
        "subprocess.Popen([sys.executable, '-c', 'import threading, time\\n' + {hang!r}])\nsay('ready')"
    ),
}
PRELUDE = (
    "import signal, subprocess, sys, threading, time\n"
    "def say(text): print(text, file=sys.stderr, flush=True)\n"
    "say('started')\n"
)
TIMEOUT = 1.5


def program(where: str, how: str) -> list[str]:
    return [sys.executable, "-c", PRELUDE + PROGRAMS[where].format(hang=HANGS[how])]


@pytest.mark.parametrize("how", HANGS)
@pytest.mark.parametrize("where", PROGRAMS)
def test_a_hung_process_fails_the_test_in_time_with_its_stacks(where, how):
    started = time.monotonic()
    with Run(program(where, how)) as run, pytest.raises(Hung) as caught:
        if where == "before the awaited line":
            run.wait_for("ready", timeout=TIMEOUT)
        else:
            run.wait_for("ready")
            if where == "after a signal":
                run.send(signal.SIGTERM)
            run.end(timeout=TIMEOUT)
    took = time.monotonic() - started
    said = str(caught.value)
    assert f"(pid {run.pid}) hung" in said
    assert "started" in said, "what the process printed before it hung"
    if where != "a process it started holds stderr":  # the run itself is the hung process: its stack is shown
        assert 'File "<string>", line' in said, said
        assert took < TIMEOUT + STACKS_SECONDS, took
    # A process of the run that ended is reaped by the machine's first process, which in a container may never do
    # it: a zombie is gone all but in name.
    assert not living(run.pid), "the hung run's processes are all gone"


def test_a_run_that_ends_gives_its_exit_code_and_lines():
    code = "import sys; print('one', file=sys.stderr); print('two', file=sys.stderr); print('three', file=sys.stderr)"
    with Run([sys.executable, "-c", code + "; sys.exit(3)"]) as run:
        assert run.wait_for("two") == ["one", "two"]
        assert run.end() == (3, ["three"])


def test_a_run_that_ends_before_the_awaited_line_says_so():
    with Run([sys.executable, "-c", "import sys; print('only', file=sys.stderr)"]) as run:
        with pytest.raises(AssertionError, match="ended before 'ready'") as caught:
            run.wait_for("ready")
        assert not isinstance(caught.value, Hung)
