"""Patient data stays where it belongs: private spill folders, removed; no extension, no network; usable settings.

Every DuckDB connection of the package comes from `oligo_cohort.database.connect`:
its spill folder is made with a random name under the temporary folder,
readable by the user alone, and removed when the run ends, fails or is
interrupted; no extension is installed or loaded on its own, so a SQLite file
given as an extract is refused instead of making DuckDB download one. An
unusable `TMPDIR` or memory limit stops the run with exit code 2.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from oligo_cohort import database
from oligo_cohort.cli import main
from oligo_cohort.database import SAFE_SETTINGS, SPILL_PREFIX, close, connect, spill_folder
from oligo_cohort.errors import UsageError
from oligo_cohort.paths import demo_extract_dir

PACKAGE = Path(database.__file__).parent
DEMO = demo_extract_dir()


@pytest.fixture
def tmpdir_env(tmp_path, monkeypatch) -> Path:
    """A temporary folder of the test's own, so that every spill folder made in it can be counted."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    for name in ("TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


@pytest.fixture
def opened(monkeypatch) -> list[dict[str, object]]:
    """The settings of every DuckDB connection opened, read as it is made."""
    seen: list[dict[str, object]] = []
    real = duckdb.connect

    def spy(*args, **kwargs):
        con = real(*args, **kwargs)
        names = [*SAFE_SETTINGS, "temp_directory"]
        values = con.execute("SELECT " + ", ".join(f"current_setting('{name}')" for name in names)).fetchall()[0]
        settings = dict(zip(names, values, strict=True))
        folder = Path(str(settings["temp_directory"]))
        settings["mode"] = stat.S_IMODE(folder.stat().st_mode) if folder.is_dir() else None
        settings["database"] = args[0] if args else kwargs.get("database")
        seen.append(settings)
        return con

    monkeypatch.setattr(duckdb, "connect", spy)
    return seen


def spill_folders(parent: Path) -> list[Path]:
    return sorted(parent.glob(f"{SPILL_PREFIX}*"))


# `duckdb.connect(...)`, and the module-level functions that run on DuckDB's default connection (which has none
# of the package's settings: it would load extensions on its own).
OPENS_DUCKDB = re.compile(
    r"\bduckdb\.(connect|sql|query|execute|table|values|df|arrow|default_connection|read_\w+|from_\w+)\("
)


def test_no_module_opens_duckdb_but_the_connection_factory():
    callers = [
        path.relative_to(PACKAGE).as_posix()
        for path in sorted(PACKAGE.rglob("*.py"))
        if OPENS_DUCKDB.search(path.read_text(encoding="utf-8"))
    ]
    assert callers == ["database.py"]


def test_every_connection_of_a_run_is_private_and_loads_no_extension(tmp_path, tmpdir_env, opened, capsys):
    database_file = tmp_path / "extract.duckdb"
    with duckdb.connect(str(database_file)) as con:  # the test's own connection: spied on, not the package's
        for csv in sorted(DEMO.glob("*.csv")):
            con.execute(f"CREATE TABLE {csv.stem} AS SELECT * FROM read_csv('{csv}', all_varchar = true)")
    opened.clear()
    out = tmp_path / "out"
    assert main(["screen", str(database_file), "--out", str(out), "--quiet"]) == 0
    assert main(["attrition", str(out), "--out", str(tmp_path / "attrition")]) == 0
    capsys.readouterr()
    assert len(opened) >= 3, "the DuckDB file, the screen and the attrition's reading of the screen"
    for settings in opened:
        assert {name: settings[name] for name in SAFE_SETTINGS} == dict.fromkeys(SAFE_SETTINGS, False)
        folder = Path(str(settings["temp_directory"]))
        assert folder.parent == tmpdir_env and folder.name.startswith(SPILL_PREFIX)
        assert settings["mode"] == 0o700, "only the user can list or read the spill files"
    assert len({s["temp_directory"] for s in opened}) == len(opened), "one folder per connection"
    assert [s["database"] for s in opened if s["database"]] == [str(database_file)]
    assert spill_folders(tmpdir_env) == [], "every spill folder is removed at the end"


def test_spilled_data_lands_in_the_private_folder_and_goes_with_it(tmpdir_env, monkeypatch):
    monkeypatch.setenv("OLIGO_COHORT_MEMORY_LIMIT", "128MB")
    monkeypatch.setenv("OLIGO_COHORT_THREADS", "1")
    con = connect()
    folder = spill_folder(con)
    con.execute("CREATE TABLE t AS SELECT md5(range::VARCHAR) AS s FROM range(2000000) ORDER BY s")
    spilled = [p for p in folder.iterdir() if p.suffix == ".tmp"]
    assert spilled, "the query spilled (if DuckDB stops spilling here, make the table larger)"
    assert [p.parent for p in spilled] == [folder] * len(spilled)
    close(con)
    assert not folder.exists()


def test_spill_folders_go_after_a_fatal_problem_and_after_an_interrupt(tmp_path, tmpdir_env, monkeypatch, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    for csv in DEMO.glob("*.csv"):
        (broken / csv.name).write_bytes(csv.read_bytes())
    (broken / "imaging.csv").write_text("study_id,patient_id,study_date,modality\nS1,00107,2023-02-30,CT\n")
    assert main(["screen", str(broken), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert spill_folders(tmpdir_env) == []

    import oligo_cohort.api as api

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "write_run_parameters", interrupted)
    assert main(["screen", str(DEMO), "--out", str(tmp_path / "out"), "--quiet"]) == 130
    capsys.readouterr()
    assert spill_folders(tmpdir_env) == []


def test_a_connection_left_open_is_cleaned_up_at_exit(tmpdir_env):
    code = (
        "from oligo_cohort.database import connect, spill_folder\n"
        "con = connect()\n"
        "print(spill_folder(con))\n"
        "kept = [con]\n"  # still referenced at exit: only the exit handler can remove the folder
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy())
    assert run.returncode == 0, run.stderr
    folder = Path(run.stdout.strip())
    assert folder.parent == tmpdir_env and not folder.exists()


# --- No extension, no network ------------------------------------------------------------------------------------


def offline_environment(home: Path) -> dict[str, str]:
    """An environment in which any download would fail and leave a trace: a fresh HOME, dead proxies."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    dead = "http://127.0.0.1:9"
    env |= {"HOME": str(home), "http_proxy": dead, "https_proxy": dead, "HTTP_PROXY": dead, "HTTPS_PROXY": dead}
    env |= {"OLIGO_COHORT_THREADS": "1"}
    return env


def test_a_sqlite_file_is_refused_without_any_attempt_to_fetch_an_extension(tmp_path):
    registry = tmp_path / "registry.db"
    with sqlite3.connect(registry) as con:
        con.execute("CREATE TABLE patients (patient_id TEXT)")
    con.close()
    home = tmp_path / "home"
    home.mkdir()
    command = [sys.executable, "-m", "oligo_cohort", "screen", str(registry), "--out", str(tmp_path / "out")]
    run = subprocess.run(command, capture_output=True, text=True, env=offline_environment(home), timeout=120)
    assert run.returncode == 2
    assert "is a SQLite database, not a DuckDB database" in run.stderr and "Traceback" not in run.stderr
    assert not (home / ".duckdb").exists(), "DuckDB made its extension folder: it tried to install something"


def test_a_connection_refuses_to_load_an_extension_on_its_own(tmp_path, tmpdir_env, monkeypatch):
    """What a SQLite file used to trigger (DuckDB fetching its sqlite extension) fails on the spot instead."""
    monkeypatch.setenv("HOME", str(tmp_path))
    registry = tmp_path / "registry.db"
    with sqlite3.connect(registry) as raw:
        raw.execute("CREATE TABLE t (x)")
    raw.close()
    con = connect()
    with pytest.raises(duckdb.Error) as caught:
        con.execute(f"ATTACH '{registry}' AS other (READ_ONLY)")
    assert "sqlite" in str(caught.value).lower()
    with pytest.raises(duckdb.Error):
        con.execute("SELECT * FROM read_csv('https://example.org/patients.csv')")
    for name in SAFE_SETTINGS:  # the settings hold on the connection
        assert con.execute(f"SELECT current_setting('{name}')").fetchall() == [(False,)]
    close(con)
    assert not (tmp_path / ".duckdb").exists()


def test_screening_the_demo_offline_works_and_leaves_nothing_behind(tmp_path):
    home, temporary = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    temporary.mkdir()
    env = offline_environment(home) | {"TMPDIR": str(temporary)}
    command = [sys.executable, "-m", "oligo_cohort", "screen", str(DEMO), "--out", str(tmp_path / "out"), "--quiet"]
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stderr == "" or "Traceback" not in run.stderr
    assert list(temporary.iterdir()) == [] and not (home / ".duckdb").exists()


# --- Unusable temporary folder or memory limit ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "a file", "not writable"])
def test_an_unusable_tmpdir_stops_the_run(tmp_path, monkeypatch, capsys, kind):
    target = tmp_path / "tmp"
    if kind == "a file":
        target.write_text("not a folder")
    elif kind == "not writable":
        if os.geteuid() == 0:
            pytest.skip("root may write anywhere")
        target.mkdir()
        target.chmod(0o500)
    monkeypatch.setenv("TMPDIR", str(target))
    code = main(["screen", str(DEMO), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and f"TMPDIR={str(target)!r}" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_tmpdir_the_user_cannot_write_is_refused_even_for_root(tmp_path, monkeypatch):
    """As root every folder is writable, so the check is shown with what `os.access` would say for a user."""
    target = tmp_path / "read-only"
    target.mkdir()
    monkeypatch.setenv("TMPDIR", str(target))
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == target else real(path, mode))
    with pytest.raises(UsageError, match="the temporary folder is not writable"):
        database.temporary_parent()


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("banana", "expected an amount of memory such as 8GB"),
        ("1KB", "too little memory to screen"),
        ("100MB", "too little memory to screen"),
        ("-5GB", "expected an amount of memory"),
        ("5 parsecs", "expected an amount of memory"),
        ("80%", "expected an amount of memory"),
        ("1e3GB", "expected an amount of memory"),
    ],
)
def test_an_unusable_memory_limit_stops_the_run(tmp_path, monkeypatch, capsys, limit, message):
    monkeypatch.setenv("OLIGO_COHORT_MEMORY_LIMIT", limit)
    code = main(["screen", str(DEMO), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "OLIGO_COHORT_MEMORY_LIMIT" in err and message in err and "Traceback" not in err


@pytest.mark.parametrize(("limit", "setting"), [("", "3.2 GiB"), ("2GB", "1.8 GiB"), ("512 MiB", "512.0 MiB")])
def test_usable_memory_limits(tmpdir_env, monkeypatch, limit, setting):
    monkeypatch.setenv("OLIGO_COHORT_MEMORY_LIMIT", limit)
    con = connect()
    assert con.execute("SELECT current_setting('memory_limit')").fetchall() == [(setting,)]
    close(con)


def test_running_out_of_memory_or_disk_while_loading_is_a_message(tmp_path, tmpdir_env, monkeypatch, capsys):
    import oligo_cohort.load as load

    def exhausted(*_args, **_kwargs):
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block of size 256.0 KiB")

    monkeypatch.setattr(load, "validate_and_type", exhausted)
    code = main(["screen", str(DEMO), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "Out of Memory Error" in err and "OLIGO_COHORT_MEMORY_LIMIT" in err
    assert "Traceback" not in err and spill_folders(tmpdir_env) == []
