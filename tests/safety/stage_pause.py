"""Run `oligo-cohort` announcing each stage on stderr, optionally pausing in one: for the signal tests.

    python tests/safety/stage_pause.py STAGE WHEN -- ARGS...

prints `STAGE <name> enter` / `STAGE <name> exit` on stderr as stages start
and end, and sleeps at the start (WHEN=enter) or the end (WHEN=exit) of the
first stage whose name starts with STAGE, so a test can send a signal at a
known point of the run (`-` pauses nowhere). Every command is tracked, not
only those that track their own progress.

With STAGE_PAUSE_OPEN_LINE=<text>, the pause begins by leaving `text` on stderr as an unfinished line.

With STAGE_PAUSE_IN_FILE=<name> in the environment, the writing of that file of a screen's result prints
`WRITING <name>` and then runs a DuckDB query that never ends on the file's own connection, while the other files
are written beside it (oligo_cohort.outputs): a signal sent then arrives in the middle of the writing, and the
query stops only when the run interrupts it, as a real write would. With STAGE_PAUSE_IN_MODEL=<table>, the same
before the DuckDB engine builds that table, on the engine's connection: `BUILDING <table>`, then the endless query.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from oligo_cohort import progress
from oligo_cohort.cli import main

PAUSE_SECONDS = 60
# A DuckDB query that runs until it is interrupted: where a test needs the run inside a query when it signals.
ENDLESS_QUERY = "SELECT count(*) FROM range(1000000000000000) AS r(i) WHERE i % 7 = 3"


def announce(line: str) -> None:
    """`line` on stderr in one write: `print` writes a line's text and its newline one after the other, and a signal
    that comes between the two would leave the line open, so the run's last message would be glued to it."""
    sys.__stderr__.write(line + "\n")
    sys.__stderr__.flush()


def announcing(pause_at: str, when: str):
    original = progress.RunProgress.stage

    @contextmanager
    def stage(self, name):
        with original(self, name):
            announce(f"STAGE {name} enter")
            if when == "enter" and name.startswith(pause_at):
                leave_a_line_open()
                time.sleep(PAUSE_SECONDS)
            yield
            announce(f"STAGE {name} exit")
            if when == "exit" and name.startswith(pause_at):
                time.sleep(PAUSE_SECONDS)

    return stage


def leave_a_line_open() -> None:
    """With STAGE_PAUSE_OPEN_LINE=<text>: print `text` on the run's stderr without ending the line, as a progress
    counter does, then create the file STAGE_PAUSE_READY names, so the test knows the line is there."""
    if text := os.environ.get("STAGE_PAUSE_OPEN_LINE"):
        print(text, end="", file=sys.stderr, flush=True)
        Path(os.environ["STAGE_PAUSE_READY"]).touch()


def pause_in_file(name: str) -> None:
    from oligo_cohort import outputs

    original = outputs.write_csv

    def write_csv(relation, path, **kwargs):
        if path.name == name:
            announce(f"WRITING {name}")
            # Runs until interrupted; on the relation's own connection, as the file's writing would.
            relation.query("endless", ENDLESS_QUERY).fetchall()
        original(relation, path, **kwargs)

    outputs.write_csv = write_csv


def pause_in_model(table: str) -> None:
    """Before the engine builds `table`, print `BUILDING <table>` and run a DuckDB query that never ends on the
    engine's connection, in the run's main thread: a signal sent then arrives while DuckDB runs a query, however
    fast the engine's own queries are."""
    from oligo_cohort.engines import duckdb_engine

    original = duckdb_engine.build_models

    def build_models(con, models=None):
        if models is not None and table in [model.table for model in models]:
            announce(f"BUILDING {table}")
            con.execute(ENDLESS_QUERY).fetchall()
        original(con, models)

    duckdb_engine.build_models = build_models


if __name__ == "__main__":
    pause_at, when, separator, *argv = sys.argv[1:]
    assert separator == "--"
    progress.RunProgress.stage = announcing(pause_at, when)
    if os.environ.get("STAGE_PAUSE_IN_FILE"):
        pause_in_file(os.environ["STAGE_PAUSE_IN_FILE"])
    if os.environ.get("STAGE_PAUSE_IN_MODEL"):
        pause_in_model(os.environ["STAGE_PAUSE_IN_MODEL"])
    progress._current.set(progress.RunProgress(quiet=True))
    sys.exit(main(argv))
