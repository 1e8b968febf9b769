"""Inputs are only read: every input file has the same bytes (and no file appears beside it) after a run.

Checked after a successful screen, a fatal one and one with findings, for a
CSV folder, a Parquet folder and a DuckDB database file; the DuckDB file is
opened read-only.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from oligo_cohort.cli import main
from tests.loading.test_bad_input import VALID, write_extract


def fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    """sha256 and modification time (ns) of every file under `folder`, hidden ones included."""
    return {
        p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


VARIANTS = {
    "success": dict(VALID),
    "findings": dict(
        VALID,
        systemic_therapy=VALID["systemic_therapy"] + "007,XL-trial-drug,2021-02-01,,metastatic\n",
        lesions=VALID["lesions"].replace("liver,19,", "liver,4000,"),
    ),
    "fatal": dict(VALID, lesions=VALID["lesions"].replace("liver,19,", "liver,-19,")),
}
EXIT = {"success": 0, "findings": 0, "fatal": 2}


def as_parquet(csv_folder: Path, folder: Path) -> Path:
    folder.mkdir()
    for file in csv_folder.glob("*.csv"):
        pd.read_csv(file, dtype=str).to_parquet(folder / f"{file.stem}.parquet", index=False)
    return folder


def as_duckdb(csv_folder: Path, folder: Path) -> Path:
    folder.mkdir()
    database = folder / "extract.duckdb"
    with duckdb.connect(str(database)) as con:
        for file in csv_folder.glob("*.csv"):
            con.register("frame", pd.read_csv(file, dtype=str))
            con.execute(f"CREATE TABLE {file.stem} AS SELECT * FROM frame")
            con.unregister("frame")
    return database


CASES = [("csv", v) for v in VARIANTS] + [("duckdb", "findings"), ("duckdb", "fatal"), ("parquet", "fatal")]


@pytest.mark.parametrize(("kind", "variant"), CASES)
def test_inputs_are_unchanged_after_a_run(tmp_path, capsys, kind, variant):
    csv_folder = write_extract(tmp_path / "csv", VARIANTS[variant])
    source = {
        "csv": lambda: csv_folder,
        "parquet": lambda: as_parquet(csv_folder, tmp_path / "parquet"),
        "duckdb": lambda: as_duckdb(csv_folder, tmp_path / "db"),
    }[kind]()
    watched = source if source.is_dir() else source.parent
    before = fingerprint(watched)
    code = main(["screen", str(source), "--out", str(tmp_path / "out"), "--quiet", "--parquet"])
    capsys.readouterr()
    assert code == EXIT[variant]
    assert fingerprint(watched) == before, "an input file was changed, or a file (a .wal?) appeared beside it"


def test_a_duckdb_extract_is_opened_read_only(tmp_path, monkeypatch):
    database = as_duckdb(write_extract(tmp_path / "csv", VALID), tmp_path / "db")
    calls: list[tuple[tuple, dict]] = []
    real_connect = duckdb.connect

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", spy)
    from oligo_cohort.load import load_extract

    load_extract(database)
    opened = [(a, k) for a, k in calls if a and str(a[0]) == str(database)]
    assert opened and all(k.get("read_only") is True for _, k in opened), calls
