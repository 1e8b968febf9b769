"""Ctrl-C, SIGTERM and closed pipes, sent to real processes: one line, exit 130 / 143 / 141, nothing half-written.

Each run announces its stages on stderr (tests/safety/stage_pause.py) and pauses at
a chosen one; the test sends the signal there: while reading, while the
engine's connection runs a DuckDB query (one that never ends, before a chosen
model), while the files are written side by side, once every file is staged but
before the folder is moved into place, inside the report's nested screen folder,
and with a line left unfinished on stderr. An earlier output at the destination
must stay exactly as it was; the run's last message stands on a line of its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oligo_cohort.destination import MARKER
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.synth.generate import generate_extract
from tests.processes import DEADLINE_SECONDS, Run

ROOT = Path(__file__).resolve().parents[2]
RUNNER = [sys.executable, str(ROOT / "tests" / "safety" / "stage_pause.py")]
COMMAND = [sys.executable, "-m", "oligo_cohort"]
ENV = dict(os.environ, OLIGO_COHORT_THREADS="1", PYTHONPATH=str(ROOT))


def contents(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
        for p in sorted(folder.rglob("*"))
    }


def start(pause_at: str, when: str, argv: list[str], env: dict[str, str] = ENV) -> Run:
    return Run([*RUNNER, pause_at, when, "--", *argv], cwd=ROOT, env=env)


# A whole stage announcement of tests/safety/stage_pause.py, and nothing more: a line that holds more than one (the
# run's message glued to it) is kept, so that a test shows it.
ANNOUNCEMENT = re.compile(r"STAGE .+ (enter|exit)")


def stopped(run: Run, signum: int) -> tuple[int, list[str]]:
    """Send `signum`; the exit code and the lines printed after it (stage announcements left out)."""
    run.send(signum)
    code, rest = run.end(timeout=60)
    return code, [line for line in rest if not ANNOUNCEMENT.fullmatch(line)]


def nothing_partial(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """Large enough that validation's typing of its Parquet tables, side by side on two threads, takes a moment."""
    return generate_extract(tmp_path_factory.mktemp("signals") / "extract", patients=6000, sites=4, seed=3)


@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> Path:
    """An earlier screen result, copied to each test's destination."""
    from oligo_cohort.cli import main

    out = tmp_path_factory.mktemp("earlier") / "out"
    assert main(["screen", str(demo_extract_dir()), "--out", str(out), "--quiet"]) == 0
    return out


CASES = [
    # (stage, enter/exit, signal, exit code)
    ("read", "enter", signal.SIGINT, 130),
    ("write outputs", "enter", signal.SIGINT, 130),
    ("write outputs", "exit", signal.SIGTERM, 143),  # every file staged, the folder not yet moved into place
]


@pytest.mark.parametrize(("pause_at", "when", "signum", "code"), CASES)
def test_a_signal_at_any_stage_of_a_screen_leaves_the_earlier_output_untouched(
    tmp_path, earlier, pause_at, when, signum, code
):
    out = tmp_path / "out"
    shutil.copytree(earlier, out)
    before = contents(out)
    with start(pause_at, when, ["screen", str(demo_extract_dir()), "--out", str(out), "--worklist"]) as run:
        run.wait_for(f"STAGE {pause_at} {when}")
        exit_code, lines = stopped(run, signum)
    assert exit_code == code
    assert len(lines) == 1 and "no output folder or file was left half-written" in lines[0], lines
    assert ("terminated" if signum == signal.SIGTERM else "interrupted") in lines[0]
    assert contents(out) == before
    assert nothing_partial(tmp_path) == []


@pytest.mark.parametrize("file", ["reasons.csv", "findings.csv"])
def test_ctrl_c_while_the_files_are_written_side_by_side(tmp_path, earlier, file):
    """The result's files are written side by side, each on a connection of its own (oligo_cohort.outputs): Ctrl-C
    while one is being written stops them all, and the earlier output stays as it was."""
    out = tmp_path / "out"
    shutil.copytree(earlier, out)
    before = contents(out)
    env = ENV | {"OLIGO_COHORT_THREADS": "2", "STAGE_PAUSE_IN_FILE": file}
    with start("-", "-", ["screen", str(demo_extract_dir()), "--out", str(out), "--worklist"], env=env) as run:
        run.wait_for(f"WRITING {file}")
        exit_code, lines = stopped(run, signal.SIGINT)
    assert exit_code == 130
    assert lines == ["oligo-cohort: interrupted; no output folder or file was left half-written"]
    assert contents(out) == before
    assert nothing_partial(tmp_path) == []


def test_ctrl_c_while_duckdb_runs_a_query(tmp_path):
    """Ctrl-C while the engine's connection runs a query in the run's main thread. The query is one that never ends
    (tests/safety/stage_pause.py): a signal timed into the engine's own queries would come too late on a host slow
    enough to let the run finish first."""
    out = tmp_path / "out"
    env = ENV | {"STAGE_PAUSE_IN_MODEL": "progressing_lesions"}
    with start("-", "-", ["screen", str(demo_extract_dir()), "--out", str(out)], env=env) as run:
        run.wait_for("BUILDING progressing_lesions")
        exit_code, lines = stopped(run, signal.SIGINT)
    assert exit_code == 130
    assert lines == ["oligo-cohort: interrupted; no output folder or file was left half-written"]
    assert not out.exists() and nothing_partial(tmp_path) == []


def test_ctrl_c_while_tables_are_typed_side_by_side(tmp_path, synthetic):
    """With two threads, validation types the extract's one-row-group Parquet tables side by side, each on a
    connection of its own (oligo_cohort.side_by_side): Ctrl-C interrupts them all, and the run ends as ever."""
    assert {p.suffix for p in synthetic.iterdir()} >= {".parquet"}
    out = tmp_path / "out"
    with start("-", "-", ["screen", str(synthetic), "--out", str(out)], env=ENV | {"OLIGO_COHORT_THREADS": "2"}) as run:
        run.wait_for("STAGE validate enter")
        time.sleep(0.1)  # inside the typing of the tables
        exit_code, lines = stopped(run, signal.SIGINT)
    assert exit_code == 130
    assert lines == ["oligo-cohort: interrupted; no output folder or file was left half-written"]
    assert not out.exists() and nothing_partial(tmp_path) == []


def test_sigterm_while_a_report_screens_leaves_nothing(tmp_path):
    out = tmp_path / "new" / "report"
    with start("screen", "enter", ["report", str(demo_extract_dir()), "--out", str(out)]) as run:
        run.wait_for("STAGE screen (duckdb engine) enter")  # the destination is claimed (locked) by now
        exit_code, lines = stopped(run, signal.SIGTERM)
    assert exit_code == 143 and len(lines) == 1
    assert not (tmp_path / "new").exists(), "the folder made for the report is removed again"
    assert nothing_partial(tmp_path) == []


@pytest.mark.slow
def test_sigterm_inside_the_reports_nested_screen_folder(tmp_path):
    """Figures are drawn before the nested screen folder: about 10 s, so kept out of the default run."""
    out = tmp_path / "report"
    with start("write outputs", "exit", ["report", str(demo_extract_dir()), "--out", str(out)]) as run:
        run.wait_for("STAGE write outputs exit")  # the report's screen/ is staged inside the report's staging
        exit_code, lines = stopped(run, signal.SIGTERM)
    assert exit_code == 143 and len(lines) == 1
    assert not out.exists() and nothing_partial(tmp_path) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_last_line_stands_alone_after_a_line_left_open(tmp_path, signum):
    """A signal while stderr holds an unfinished line (a progress counter; a line whose newline a signal cut off):
    the line is kept, and the run's last message follows on a line of its own, not glued to it."""
    ready = tmp_path / "ready"
    env = ENV | {"STAGE_PAUSE_OPEN_LINE": "  40,000 / 90,000 patients", "STAGE_PAUSE_READY": str(ready)}
    out = tmp_path / "out"
    with start("validate", "enter", ["screen", str(demo_extract_dir()), "--out", str(out)], env=env) as run:
        run.wait_for("STAGE validate enter")
        until = time.monotonic() + DEADLINE_SECONDS
        while not ready.exists() and time.monotonic() < until:
            time.sleep(0.01)
        exit_code, lines = stopped(run, signum)
    assert exit_code == {signal.SIGINT: 130, signal.SIGTERM: 143}[signum]
    from oligo_cohort import interruption

    assert lines == ["  40,000 / 90,000 patients", interruption.ending_message(signum)]
    assert not out.exists()


# Modules the command line loads once its signal handlers are in place (about a tenth of a second of imports): a
# signal while each is loading. `python -c` with an import hook that announces the module and pauses there.
LOADING = ("oligo_cohort.cli.running", "oligo_cohort.cli.parser", "oligo_cohort.protocol", "oligo_cohort.destination")
PAUSED_LOADING = """
import importlib.abc, sys, time

class Pause(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == sys.argv[1]:
            print("LOADING", name, file=sys.stderr, flush=True)
            time.sleep(60)
        return None

sys.meta_path.insert(0, Pause())
from oligo_cohort.cli import main
sys.exit(main(["dictionary"]))
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("module", LOADING)
def test_a_signal_while_the_command_line_loads_ends_it_in_one_line(module, signum):
    """Ctrl-C right after pressing Enter: one line and 130 (143 for SIGTERM), not a traceback from an import."""
    from oligo_cohort import interruption

    with Run([sys.executable, "-c", PAUSED_LOADING, module], cwd=ROOT, env=ENV) as run:
        run.wait_for(f"LOADING {module}")
        run.send(signum)
        code, lines = run.end(timeout=60)
    assert code == interruption.EXIT_CODES[signum]
    assert lines == [interruption.ending_message(signum)]


@pytest.mark.parametrize(
    "argv",
    [["dictionary"], ["screen", str(demo_extract_dir()), "--out", "{out}", "--quiet"]],
)
def test_output_into_a_closed_pipe_ends_quietly(tmp_path, argv):
    """`oligo-cohort ... | head -0`: the reader is gone before the first line; no traceback, exit 141."""
    argv = [a.replace("{out}", str(tmp_path / "out")) for a in argv]
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([*COMMAND, *argv], cwd=ROOT, env=ENV, stdout=write, stderr=subprocess.PIPE, text=True,
                              check=False, timeout=DEADLINE_SECONDS)  # fmt: skip
    finally:
        os.close(write)
    assert done.returncode == 141, done.stderr
    assert done.stderr == ""
    if argv[0] == "screen":  # the result was complete before the summary was printed
        assert (tmp_path / "out" / MARKER).is_file()


# --- the mechanism, in this process --------------------------------------------------------------------------


def test_a_signal_in_a_critical_section_is_raised_when_it_ends():
    from oligo_cohort import interruption

    done = []
    with interruption.signals_handled(), pytest.raises(interruption.Terminated), interruption.deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        done.append("the section finished")
    assert done == ["the section finished"]


class Recorded(Exception):
    """Raised by a program's own handler, to show when it ran."""


# Handlers a program calling the package may have in place (the Python API, a notebook, a script of its own).
HANDLERS_OUTSIDE_THE_COMMAND_LINE = {
    "Python's KeyboardInterrupt": (signal.SIGINT, signal.default_int_handler, KeyboardInterrupt),
    "a handler of the program's own, SIGINT": (signal.SIGINT, "own", Recorded),
    "a handler of the program's own, SIGTERM": (signal.SIGTERM, "own", Recorded),
    "ignored": (signal.SIGINT, signal.SIG_IGN, None),
}


@pytest.mark.parametrize("nesting", [1, 2])
@pytest.mark.parametrize("previous", HANDLERS_OUTSIDE_THE_COMMAND_LINE)
def test_outside_the_command_line_a_critical_section_hands_its_signal_on_when_it_ends(previous, nesting):
    """Without the command line's handlers, a critical section still holds a signal: the handler that was in place
    gets it once the outermost section ends, and is in place again."""
    from oligo_cohort import interruption

    signum, handler, expected = HANDLERS_OUTSIDE_THE_COMMAND_LINE[previous]
    calls = []

    def own(received, frame):
        calls.append(received)
        raise Recorded(received)

    installed = own if handler == "own" else handler
    saved = signal.signal(signum, installed)
    done = []
    try:
        raised = pytest.raises(expected) if expected is not None else contextlib.nullcontext()
        with raised, contextlib.ExitStack() as sections:
            for _ in range(nesting):
                sections.enter_context(interruption.deferred())
            os.kill(os.getpid(), signum)
            time.sleep(0.05)
            done.append("the section finished")
        assert done == ["the section finished"]
        assert calls == ([signum] if handler == "own" else [])
        assert signal.getsignal(signum) is installed
    finally:
        signal.signal(signum, saved)


def test_a_swallowed_interrupt_still_stops_the_run_at_the_next_stage():
    from oligo_cohort import interruption
    from oligo_cohort.progress import stage

    with interruption.signals_handled():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        except KeyboardInterrupt:
            pass  # what a careless caller might do with DuckDB's "query interrupted"
        with pytest.raises(KeyboardInterrupt), stage("next"):
            pass
        assert interruption.stopped_by(RuntimeError("Query interrupted")) == signal.SIGINT
    with stage("outside a run"):  # the next run starts afresh
        pass


def test_a_second_signal_while_the_run_reports_its_end_is_ignored():
    from oligo_cohort import interruption

    with interruption.signals_handled(), interruption.ignored():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        assert interruption.received() == signal.SIGINT
