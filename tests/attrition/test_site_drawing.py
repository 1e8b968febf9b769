"""The sites' CONSORT diagrams drawn in worker processes: the same files as drawn one at a time, stopped cleanly.

`oligo_cohort.attrition.site_drawing` starts a worker per core when the diagrams are many enough to pay for the
workers' start-up. Whichever way they are drawn, every file must be the same byte for byte; an error in a worker
must reach the run as that error; Ctrl-C during the drawing must stop the run as it stops any other (exit 130,
nothing half-written) and leave no worker behind. Only the command line starts workers: a worker runs the
program's main file again, and an analyst's script that calls the package unguarded must still run, once.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import resource_tracker
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oligo_cohort import interruption
from oligo_cohort.attrition import site_drawing
from oligo_cohort.attrition.bundle import site_stems
from oligo_cohort.attrition.histogram import build_histogram
from oligo_cohort.attrition.tables import attrition_table
from tests.attrition.test_attrition_fixtures import random_patients, write_screen_dir
from tests.processes import Run, group_members

ROOT = Path(__file__).resolve().parents[2]


def site_table(sites: int, patients: int = 600, seed: int = 8):
    units = random_patients(patients, seed=seed)
    units["site_id"] = [f"S{i % sites:02d}" for i in range(len(units))]
    return attrition_table(build_histogram(units, by="site"))


def written_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_workers_write_the_same_files_as_one_process(tmp_path, monkeypatch):
    table = site_table(6)
    stems = site_stems([f"S{i:02d}" for i in range(6)], "consort_site")
    here = site_drawing.write_site_diagrams(table, stems, tmp_path / "here", ("png", "svg"), unit="patients", note="n")
    monkeypatch.setattr(site_drawing, "worker_count", lambda sites, formats, cores: 2)
    pool = site_drawing.write_site_diagrams(table, stems, tmp_path / "pool", ("png", "svg"), unit="patients", note="n")
    assert list(here) == list(pool) == stems  # in site order
    assert [p.name for paths in pool.values() for p in paths] == [p.name for paths in here.values() for p in paths]
    assert written_bytes(tmp_path / "pool") == written_bytes(tmp_path / "here")
    assert len(written_bytes(tmp_path / "here")) == 12
    assert not multiprocessing.active_children()
    assert resource_tracker._resource_tracker._pid is None  # the pool's semaphore tracker stopped and reaped


def test_an_error_in_a_worker_is_the_run_s_error_and_no_worker_is_left(tmp_path, monkeypatch):
    table = site_table(4)
    stems = site_stems([f"S{i:02d}" for i in range(4)], "consort_site")
    monkeypatch.setattr(site_drawing, "worker_count", lambda sites, formats, cores: 2)
    with pytest.raises(ValueError, match="bmp"):
        site_drawing.write_site_diagrams(table, stems, tmp_path / "pool", ("bmp",), unit="patients", note=None)
    assert not multiprocessing.active_children()


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_every_worker_starts_with_ctrl_c_blocked(tmp_path, monkeypatch):
    """A worker inherits the signal mask of the thread that starts it: Ctrl-C must be blocked there for each one,
    or a Ctrl-C reaching a worker still loading Python breaks its start with a traceback. (Starting the pool's
    semaphore tracker unblocks it: the tracker must be running before the block.)"""
    original = ProcessPoolExecutor._spawn_process
    masks = []
    blocked_before = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])

    def spawn(self):
        masks.append(signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []))
        return original(self)

    monkeypatch.setattr(ProcessPoolExecutor, "_spawn_process", spawn)
    monkeypatch.setattr(site_drawing, "worker_count", lambda sites, formats, cores: 2)
    table = site_table(4)
    stems = site_stems([f"S{i:02d}" for i in range(4)], "consort_site")
    site_drawing.write_site_diagrams(table, stems, tmp_path / "pool", ("svg",), unit="patients", note=None)
    assert masks == [True, True]
    assert (signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])) == blocked_before, "the mask is restored"


# Where a signal can arrive while the pool starts: the executor's step, and whether it comes just before or after it.
STARTING_MOMENTS = {
    "a worker just started": ("_spawn_process", "after"),
    "before the pool's manager thread": ("_start_executor_manager_thread", "before"),
    "the first job handed over": ("submit", "after"),
}


@contextmanager
def python_s_own_ctrl_c():
    """SIGINT handled as a plain Python program (or a notebook's kernel) handles it: KeyboardInterrupt."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("moment", STARTING_MOMENTS)
@pytest.mark.parametrize(
    ("handlers", "signum"),
    [("command line", signal.SIGINT), ("command line", signal.SIGTERM), ("python", signal.SIGINT)],
)
def test_a_signal_while_the_pool_starts_stops_the_drawing_and_leaves_no_process(
    tmp_path, monkeypatch, moment, handlers, signum
):
    """A signal taken between starting a worker and starting the pool's manager once left the worker waiting for
    work for ever, and the run waiting for it. Wherever it arrives, the drawing stops with the signal's exception,
    every worker ends and the semaphore tracker is reaped."""
    method, when = STARTING_MOMENTS[moment]
    original = getattr(ProcessPoolExecutor, method)
    sent = []

    def send_once() -> None:
        if not sent:
            sent.append(signum)
            os.kill(os.getpid(), signum)

    def signalled(self, *args, **kwargs):
        if when == "before":
            send_once()
        result = original(self, *args, **kwargs)
        if when == "after":
            send_once()
        return result

    monkeypatch.setattr(ProcessPoolExecutor, method, signalled)
    monkeypatch.setattr(site_drawing, "worker_count", lambda sites, formats, cores: 2)
    table = site_table(4)
    stems = site_stems([f"S{i:02d}" for i in range(4)], "consort_site")
    # A thread that takes the signal while this one blocks it, as the progress sampler does in a run.
    idle = threading.Event()
    threading.Thread(target=idle.wait, daemon=True).start()
    expected = interruption.Terminated if signum == signal.SIGTERM else KeyboardInterrupt
    handling = interruption.signals_handled() if handlers == "command line" else python_s_own_ctrl_c()
    try:
        with handling, pytest.raises(expected):
            site_drawing.write_site_diagrams(table, stems, tmp_path / "pool", ("svg",), unit="patients", note=None)
    finally:
        idle.set()
    assert sent, "the signal was sent"
    assert not multiprocessing.active_children()
    assert resource_tracker._resource_tracker._pid is None


@given(
    sites=st.integers(0, 2_000),
    formats=st.lists(st.sampled_from(["png", "svg", "pdf"]), min_size=1, max_size=3, unique=True),
    cores=st.integers(1, 64),
)
def test_workers_are_started_only_when_they_pay_for_themselves(sites, formats, cores):
    workers = site_drawing.worker_count(sites, formats, cores)
    assert 1 <= workers <= max(1, min(cores, sites))
    drawing = sites * (site_drawing.LAYOUT_SECONDS + sum(site_drawing.SECONDS_PER_FORMAT[f] for f in formats))
    if workers > 1:  # each has at least twice its start-up of drawing to do
        assert drawing / workers >= 2 * site_drawing.WORKER_START_SECONDS
    assert site_drawing.worker_count(sites + 50, formats, cores) >= workers  # more sites, never fewer workers


def test_one_core_or_a_thread_cap_of_one_draws_here(monkeypatch):
    monkeypatch.setenv("OLIGO_COHORT_THREADS", "1")
    assert site_drawing.usable_cores() == 1
    assert site_drawing.worker_count(1_000, ("png",), 1) == 1


SCRIPT_FORMATS = ("png", "svg")
# The fewest sites whose diagrams the command line draws in workers on two cores: the script below draws that many,
# enough for workers to be started were it allowed to start them.
SCRIPT_SITES = next(n for n in range(1, 10_000) if site_drawing.worker_count(n, SCRIPT_FORMATS, 2) > 1)

UNGUARDED_SCRIPT = """
from pathlib import Path
import sys

from oligo_cohort.attrition import site_drawing
from oligo_cohort.attrition.bundle import site_stems
from tests.attrition.test_site_drawing import SCRIPT_FORMATS, SCRIPT_SITES, site_table

# An analyst's script: the package called at the top level, without `if __name__ == "__main__"`.
table = site_table(SCRIPT_SITES)
stems = site_stems([f"S{i:02d}" for i in range(SCRIPT_SITES)], "consort_site")
written = site_drawing.write_site_diagrams(table, stems, Path(sys.argv[1]), SCRIPT_FORMATS, unit="patients", note=None)
print(site_drawing.usable_cores(), len(written))
"""


def test_a_script_that_calls_the_package_unguarded_draws_in_its_own_process(tmp_path):
    """A spawned worker runs the program's main file again: such a script would run again in every worker."""
    assert site_drawing.worker_count(SCRIPT_SITES, SCRIPT_FORMATS, cores=2) == 2, "workers would pay off"
    script = tmp_path / "analysis.py"
    script.write_text(UNGUARDED_SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "figures")],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", str(SCRIPT_SITES)]
    assert len(list((tmp_path / "figures").glob("*.png"))) == SCRIPT_SITES


def test_the_command_line_may_start_workers(monkeypatch):
    import types

    from oligo_cohort.cli import main

    monkeypatch.setitem(sys.modules, "__main__", types.SimpleNamespace(__file__="/usr/bin/oligo-cohort", main=main))
    assert site_drawing.workers_may_start()
    monkeypatch.setitem(sys.modules, "__main__", types.SimpleNamespace(__file__="analysis.py", main=print))
    assert not site_drawing.workers_may_start()
    monkeypatch.setitem(sys.modules, "__main__", types.SimpleNamespace())  # an interactive session
    assert site_drawing.workers_may_start()


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists() or (os.cpu_count() or 1) < 2, reason="Linux, 2 cores")
def test_ctrl_c_while_workers_draw_stops_the_run_cleanly(tmp_path):
    units = random_patients(2_000, seed=12)
    units["site_id"] = [f"S{i % 60:02d}" for i in range(len(units))]
    screen_dir = write_screen_dir(tmp_path / "screen", units)
    out = tmp_path / "attrition"
    with Run(
        [sys.executable, "-m", "oligo_cohort", "attrition", str(screen_dir), "--out", str(out), "--by", "site"],
        cwd=ROOT,
        env=dict(os.environ, OLIGO_COHORT_THREADS="2", PYTHONPATH=str(ROOT)),
    ) as run:  # its own process group: Ctrl-C reaches the run and its workers, as in a terminal
        # The signal goes as soon as the pool's processes exist (its semaphore tracker and two workers): the
        # workers are then still starting Python, before any code of theirs could ignore Ctrl-C.
        deadline = time.monotonic() + 120
        while len(children(run.pid)) < 3 and time.monotonic() < deadline and run.process.poll() is None:
            time.sleep(0.01)
        assert len(children(run.pid)) >= 3, "the run ended or stalled before starting its workers"
        run.send_to_group(signal.SIGINT)
        code, lines = run.end()
        lines = [line for line in lines if line.strip()]
        time.sleep(0.5)
        left = group_members(run.pid)
    assert code == 130
    assert lines[-1] == "oligo-cohort: interrupted; no output folder or file was left half-written", lines
    assert not [line for line in lines if "Traceback" in line or "KeyboardInterrupt" in line], lines
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["screen"]
    assert not left, "a process of the run outlived it (a worker, or a zombie)"
