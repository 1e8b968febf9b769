"""Where validation keeps the typed inputs (`oligo_cohort.validate.storage`): memory, or a private file.

A large extract's typed inputs go to a database file in the run's private folder, so that they do not crowd the
engine's memory; the outputs are the same either way (tests/engines/test_determinism.py). These tests hold when
the file is chosen, and that it lies only where the run's other temporary patient data lies, and goes with it.
"""

from __future__ import annotations

import stat

import duckdb
import pytest

from oligo_cohort.api import screen
from oligo_cohort.database import close, connect, spill_folder
from oligo_cohort.load import load_extract
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.validate import storage
from oligo_cohort.validate.storage import BYTES_PER_INPUT_ROW, FILE_ABOVE_SHARE, STORED_FILE, inputs_in_file

GB = 1000**3


@pytest.mark.parametrize(
    ("rows", "limit_bytes", "in_file"),
    [
        # The default limit (3.5 GB): the file from about 33 million input rows, some 450,000 patients.
        (7_338_865, int(3.5 * GB), False),  # `make bench`'s 100k extract
        (int(0.75 * 3.5 * GB) // BYTES_PER_INPUT_ROW, int(3.5 * GB), False),  # at the share: memory
        (int(0.75 * 3.5 * GB) // BYTES_PER_INPUT_ROW + 1, int(3.5 * GB), True),  # past it: a file
        (73_059_033, int(3.5 * GB), True),  # the 1M extract
        # A larger limit keeps the same extract in memory; a smaller one sends a smaller extract to a file.
        (73_059_033, 12 * GB, False),
        (7_338_865, 512 * 1000**2, True),
        (0, 128 * 1000**2, False),  # a partial load counts no rows
    ],
)
def test_the_inputs_go_to_a_file_only_when_they_would_crowd_the_memory_limit(rows, limit_bytes, in_file):
    assert FILE_ABOVE_SHARE == 0.75 and BYTES_PER_INPUT_ROW == 79, "the table above assumes these"
    assert inputs_in_file(rows, limit_bytes) is in_file


def test_the_memory_limit_setting_decides_it(monkeypatch):
    """`OLIGO_COHORT_MEMORY_LIMIT` is the limit the choice weighs the inputs against. The demo's 630 rows (about
    50 kB typed) would go to a file only under a limit far smaller than DuckDB can screen with, so a tiny share of
    the limit stands in for it: 1e-4 of 128 MB is 12.8 kB, of 4 GB 400 kB."""
    assert storage_of_demo() == "memory"
    monkeypatch.setattr(storage, "FILE_ABOVE_SHARE", 1e-4)
    monkeypatch.setenv("OLIGO_COHORT_MEMORY_LIMIT", "128MB")
    assert storage_of_demo() == "file"
    monkeypatch.setenv("OLIGO_COHORT_MEMORY_LIMIT", "4GB")
    assert storage_of_demo() == "memory"


def storage_of_demo() -> str:
    result = screen(demo_extract_dir())
    try:
        return storage.storage_kind(result.con)
    finally:
        close(result.con)


@pytest.fixture
def inputs_always_in_a_file(monkeypatch):
    monkeypatch.setattr(storage, "FILE_ABOVE_SHARE", 0.0)


def test_the_file_lies_in_the_runs_private_folder_and_goes_with_it(inputs_always_in_a_file):
    loaded = load_extract(demo_extract_dir())
    folder = spill_folder(loaded.con)
    assert storage.storage_kind(loaded.con) == "file"
    assert (folder / STORED_FILE).is_file()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700, "only the user may read the typed inputs"
    database_files = {path for (path,) in loaded.con.execute("SELECT path FROM duckdb_databases()").fetchall() if path}
    assert database_files == {str(folder / STORED_FILE)}, "no other file holds the run's data"
    close(loaded.con)
    assert not folder.exists()


def test_a_screen_removes_the_file_once_the_engine_has_read_it(inputs_always_in_a_file):
    """`screen()` releases the loaded tables before explain (`load.release_loaded_tables`): the file goes then, its
    gigabytes out of the temporary folder and the disk cache while the reasons are worded and written."""
    result = screen(demo_extract_dir())
    try:
        assert storage.storage_kind(result.con) == "file", "the choice is still told once the file is gone"
        assert list(spill_folder(result.con).iterdir()) == []
        assert result.counts() == {"eligible": 5, "unknown": 11, "ineligible": 18}
    finally:
        close(result.con)


def test_a_partial_load_keeps_its_few_rows_in_memory(inputs_always_in_a_file):
    """`review export` loads only the asked patients' rows: the extract's size says nothing of theirs."""
    loaded = load_extract(demo_extract_dir(), as_of="2025-03-31", patients=["00107", "00115"])
    try:
        assert storage.storage_kind(loaded.con) == "memory"
        assert not (spill_folder(loaded.con) / STORED_FILE).exists()
    finally:
        close(loaded.con)


def test_a_connection_made_elsewhere_keeps_its_inputs_in_memory(inputs_always_in_a_file, tmp_path, monkeypatch):
    """A connection the caller made has no private folder of the run's: DuckDB's own temporary folder is
    `.tmp` in the working folder, which is no place for patient data, so nothing is written there."""
    monkeypatch.chdir(tmp_path)
    con = duckdb.connect()
    try:
        loaded = load_extract(demo_extract_dir(), con=con)
        assert storage.storage_kind(loaded.con) == "memory"
    finally:
        con.close()
    assert list(tmp_path.iterdir()) == []


def test_a_second_load_into_the_same_connection_replaces_the_first(inputs_always_in_a_file):
    con = connect()
    try:
        load_extract(demo_extract_dir(), con=con)
        again = load_extract(demo_extract_dir(), con=con)
        assert storage.storage_kind(again.con) == "file"
        patients = again.con.execute("SELECT count(*) FROM patients").fetchall()[0][0]
        assert patients == 34
    finally:
        close(con)
