"""Rules for the whole test session: nothing is left in the temporary folder.

Screens write patient-level data, so the suite must not leave any of it behind. For the session, `TMPDIR` names a
folder of its own inside pytest's base temporary folder: every `tempfile` call of this process and of every process
it starts (command-line runs, notebook kernels, DuckDB's spill folders) lands there. At the end of the session that
folder must be empty (but for the spill folders of connections still open, which the package removes at exit), or
the session fails naming what was left; pytest's own temporary folders (`tmp_path`) are where tests keep their
files.
"""

from __future__ import annotations

import gc
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from oligo_cohort.engines import ENGINES

_TEMPORARY_VARIABLES = ("TMPDIR", "TEMP", "TMP")

# The generated tests draw new examples at every run on a developer's machine, where a failure found is shrunk,
# kept in .hypothesis/ and replayed; CI (`.ci/run`) draws the same examples every time, so that whether a commit
# lands does not depend on the draw. A failure found by either is a bug, pinned with an @example once fixed.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("OLIGO_COHORT_TEST_PROFILE") == "ci":
    settings.load_profile("ci")


@pytest.fixture(scope="session", autouse=True)
def temporary_folder_left_empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point the temporary folder at a session folder of its own; fail the session if anything is left in it."""
    folder = tmp_path_factory.mktemp("temporary-folder", numbered=False)
    saved = {name: os.environ.get(name) for name in _TEMPORARY_VARIABLES}
    for name in _TEMPORARY_VARIABLES:
        os.environ.pop(name, None)
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again
    try:
        yield folder
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        tempfile.tempdir = None
    gc.collect()  # results still referenced only by finished tests close their DuckDB spill folders now
    # A connection still open (held by a failed test's traceback, say) keeps its spill folder until the process
    # exits, when oligo_cohort.database removes it: not a leak.
    from oligo_cohort.database import _open_folders

    open_now = {Path(name) for name, connection in _open_folders.items() if connection() is not None}
    left = sorted(path.name for path in folder.iterdir() if path not in open_now)
    assert not left, f"the test session left {len(left)} file(s) in the temporary folder {folder}: {left[:20]}"


# How the suite is shared out between processes (`make test` runs `pytest -n auto --dist loadscope`): a test module
# goes whole to one process, so that its module-scoped fixtures (a screened extract, an exported review) are made
# once, not once in each process; and the spec tests, whose cases each engine screens in one session-wide batch
# (tests/spec/conftest.py), go to one process per engine, so that each batch is screened once. The grouping is
# xdist's scope of a test (`_split_scope`), which its own file and group schedulers refine the same way.
_SPEC_TESTS = "tests/spec/"
_ENGINE_IN_ID = re.compile(rf"[\[-]({'|'.join(map(re.escape, ENGINES))})[\]-]")  # the engine's parameter id


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """pytest-xdist's module-by-module sharing (`--dist loadscope`), with the spec tests grouped by engine."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByModuleSpecByEngine(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            engine = _ENGINE_IN_ID.search(nodeid) if nodeid.startswith(_SPEC_TESTS) else None
            return f"{_SPEC_TESTS} [{engine[1]}]" if engine else super()._split_scope(nodeid)

    return ByModuleSpecByEngine(config, log)
