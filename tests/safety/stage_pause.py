"""Run `oligo-cohort` announcing each stage on stderr, optionally pausing in one: for the signal tests.

    python tests/safety/stage_pause.py STAGE WHEN -- ARGS...

prints `STAGE <name> enter` / `STAGE <name> exit` on stderr as stages start
and end, and sleeps at the start (WHEN=enter) or the end (WHEN=exit) of the
first stage whose name starts with STAGE, so a test can send a signal at a
known point of the run (`-` pauses nowhere). Every command is tracked, not
only those that track their own progress.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager

from oligo_cohort import progress
from oligo_cohort.cli import main

PAUSE_SECONDS = 60


def announcing(pause_at: str, when: str):
    original = progress.RunProgress.stage

    @contextmanager
    def stage(self, name):
        with original(self, name):
            print(f"STAGE {name} enter", file=sys.__stderr__, flush=True)
            if when == "enter" and name.startswith(pause_at):
                time.sleep(PAUSE_SECONDS)
            yield
            print(f"STAGE {name} exit", file=sys.__stderr__, flush=True)
            if when == "exit" and name.startswith(pause_at):
                time.sleep(PAUSE_SECONDS)

    return stage


if __name__ == "__main__":
    pause_at, when, separator, *argv = sys.argv[1:]
    assert separator == "--"
    progress.RunProgress.stage = announcing(pause_at, when)
    progress._current.set(progress.RunProgress(quiet=True))
    sys.exit(main(argv))
