"""Determinism: the same extract and parameters give byte-identical output files.

Across two runs, across engines (`duckdb`, `pandas`), across DuckDB thread
counts (`OLIGO_COHORT_THREADS=1` vs `2`), with the typed inputs in memory or in
a file (`validate.storage`) and under shuffled row order of every input table —
on the bundled demo extract and on a small synthetic one.

What may differ, precisely:
- `manifest.json` names the engine (`engine`), and the input files by path with
  their checksums (`input_files`, `source`): a shuffled copy of the extract is
  another file. Every other key is identical.
- `findings.csv` names each finding's row number in its input file (`row`), so
  under shuffling the rows are renumbered (and the findings, sorted by row,
  reordered); the findings themselves — every other column — are the same.
- The result files (`patients`, `events`, `reasons`, their Parquet twins) are
  byte-identical in every comparison.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oligo_cohort.api import screen
from oligo_cohort.destination.markers import MARKER
from oligo_cohort.engines.duckdb_engine import SLICE_ENV
from oligo_cohort.load import THREADS_ENV
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.synth import generate_extract
from oligo_cohort.validate import storage

AS_OF = "2024-06-30"  # fixed, so a shuffled extract cannot change the default cut-off either
RESULT_FILES = ("patients.csv", "events.csv", "reasons.csv", "patients.parquet", "events.parquet", "reasons.parquet")
SEED = 20240630


@contextlib.contextmanager
def setting(name: str, value: int | None) -> Iterator[None]:
    before = os.environ.pop(name, None)
    if value is not None:
        os.environ[name] = str(value)
    try:
        yield
    finally:
        os.environ.pop(name, None)
        if before is not None:
            os.environ[name] = before


@contextlib.contextmanager
def inputs_in_a_file(chosen: bool) -> Iterator[None]:
    """With `chosen`, validation keeps the typed inputs in a file however few they are (`validate.storage`)."""
    if not chosen:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(storage, "FILE_ABOVE_SHARE", 0.0)
        yield


def run(
    extract: Path,
    out: Path,
    *,
    engine: str = "duckdb",
    n_threads: int | None = None,
    slice_patients: int | None = None,
    typed_inputs_in_file: bool = False,
) -> Path:
    with setting(THREADS_ENV, n_threads), setting(SLICE_ENV, slice_patients), inputs_in_a_file(typed_inputs_in_file):
        result = screen(extract, as_of=AS_OF, engine=engine)
        assert storage.storage_kind(result.con) == ("file" if typed_inputs_in_file else "memory")
        return result.write(out, parquet=True)


def shuffled_copy(extract: Path, folder: Path, seed: int = SEED) -> Path:
    """Every table of `extract` with its rows in a random (seeded) order, written as CSV."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for file in sorted(extract.iterdir()):
        frame = pd.read_csv(file, dtype=str, keep_default_na=False)
        order = rng.permutation(len(frame))
        assert len(frame) < 3 or (order != np.arange(len(frame))).any(), file
        frame.iloc[order].to_csv(folder / file.name, index=False)
    return folder


def file_bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def manifest(out: Path, *ignore: str) -> dict:
    info = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {k: v for k, v in info.items() if k not in ignore}


def findings_without_rows(out: Path) -> list[tuple]:
    frame = pd.read_csv(out / "findings.csv", dtype=str, keep_default_na=False).drop(columns="row")
    return sorted(map(tuple, frame.to_numpy().tolist()))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("synth") / "extract"
    return generate_extract(folder, patients=60, sites=3, seed=5, fmt="csv")  # records up to 2024-12-31: some cut off


@pytest.fixture(scope="module", params=["demo", "synthetic"])
def outputs(request, tmp_path_factory) -> dict[str, Path]:
    """One extract screened several ways: {label: output folder}."""
    extract = demo_extract_dir() if request.param == "demo" else request.getfixturevalue("synthetic")
    root = tmp_path_factory.mktemp(f"determinism-{request.param}")
    return {
        "threads 1": run(extract, root / "t1", n_threads=1),
        "threads 2": run(extract, root / "t2", n_threads=2),
        "threads 2 again": run(extract, root / "t2b", n_threads=2),
        # A handful of patients per slice: the demo is screened in 5 slices, the synthetic extract in 9.
        "patient slices": run(extract, root / "sliced", n_threads=2, slice_patients=7),
        "inputs in a file": run(extract, root / "file", n_threads=2, typed_inputs_in_file=True),
        "pandas": run(extract, root / "pandas", engine="pandas"),
        "shuffled": run(shuffled_copy(extract, root / "shuffled-extract"), root / "shuffled"),
    }


def test_the_extract_is_not_trivial(outputs):
    """A comparison of empty files would prove nothing."""
    patients = pd.read_csv(outputs["threads 1"] / "patients.csv")
    assert len(patients) >= 30 and patients["status"].nunique() >= 2
    assert len(pd.read_csv(outputs["threads 1"] / "events.csv")) >= 10
    assert len(pd.read_csv(outputs["threads 1"] / "findings.csv")) >= 1


def test_two_runs_are_byte_identical(outputs):
    assert file_bytes(outputs["threads 2"]) == file_bytes(outputs["threads 2 again"])


def test_thread_counts_give_byte_identical_files(outputs):
    assert file_bytes(outputs["threads 1"]) == file_bytes(outputs["threads 2"])


def test_typed_inputs_in_a_file_give_byte_identical_files(outputs):
    """Validation keeps a large extract's typed inputs in a file of the run's private folder (validate.storage);
    nothing may depend on it."""
    assert file_bytes(outputs["inputs in a file"]) == file_bytes(outputs["threads 2"])


def test_patient_slices_give_byte_identical_files(outputs):
    """A large extract is screened in slices of patients (duckdb_engine.SLICE_PATIENTS); nothing may depend on it."""
    assert file_bytes(outputs["patient slices"]) == file_bytes(outputs["threads 2"])


def test_engines_give_byte_identical_files(outputs):
    """Every file but the manifest, which names the engine (and the manifest's checksum in the folder's marker);
    reasons included, as one explain step words the facts every engine records (oligo_cohort.explain)."""
    duckdb_files, pandas_files = file_bytes(outputs["threads 2"]), file_bytes(outputs["pandas"])
    assert duckdb_files.keys() == pandas_files.keys()
    assert "reasons.csv" in duckdb_files
    for name in duckdb_files.keys() - {"manifest.json", MARKER}:
        assert duckdb_files[name] == pandas_files[name], name
    markers = [json.loads(files[MARKER]) for files in (duckdb_files, pandas_files)]
    for marker in markers:
        marker["sha256"].pop("manifest.json")
    assert markers[0] == markers[1]
    assert manifest(outputs["threads 2"], "engine") == manifest(outputs["pandas"], "engine")
    assert manifest(outputs["pandas"])["engine"] == "pandas"


def test_shuffled_rows_give_byte_identical_results(outputs):
    plain, shuffled = file_bytes(outputs["threads 2"]), file_bytes(outputs["shuffled"])
    assert plain.keys() == shuffled.keys()
    for name in RESULT_FILES:
        assert plain[name] == shuffled[name], name
    # Findings name rows of the input file: renumbered by the shuffle, otherwise the same findings.
    assert findings_without_rows(outputs["threads 2"]) == findings_without_rows(outputs["shuffled"])
    ignore = ("input_files", "source")
    assert manifest(outputs["threads 2"], *ignore) == manifest(outputs["shuffled"], *ignore)
    before, after = manifest(outputs["threads 2"])["input_files"], manifest(outputs["shuffled"])["input_files"]
    assert {Path(p).name for p in before} == {Path(p).name for p in after}
    assert before.values() != after.values()


def test_slices_are_screened_one_after_another(monkeypatch):
    from oligo_cohort.engines import duckdb_engine

    screened: list[tuple[int, str | None, str | None, int]] = []
    original = duckdb_engine._screen_slice

    def spy(con, number: int, low: str | None, high: str | None) -> None:
        original(con, number, low, high)
        patients = con.execute("SELECT count(*) FROM main.result_patients").fetchall()[0][0]
        screened.append((number, low, high, patients))

    monkeypatch.setattr(duckdb_engine, "_screen_slice", spy)
    monkeypatch.setenv(SLICE_ENV, "10")
    result = screen(demo_extract_dir())
    assert [number for number, *_ in screened] == [0, 1, 2, 3]  # 34 patients, 10 at a time
    # Consecutive ranges of patient_id, from unbounded to unbounded, each taking its share of the patients.
    assert screened[0][1] is None and screened[-1][2] is None
    assert all(screened[k][2] == screened[k + 1][1] for k in range(3))
    added = [b - a for a, b in itertools.pairwise([0] + [n for *_, n in screened])]
    assert all(7 <= n <= 10 for n in added) and sum(added) == 34
    assert sum(result.counts().values()) == 34
    tables = {name for (name,) in result.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    schemas = {name for (name,) in result.con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
    assert {"result_events", "result_patients", "result_reasons"} <= tables
    assert duckdb_engine.SLICE_SCHEMA not in schemas


def test_a_bad_slice_setting_is_a_usage_error(monkeypatch):
    from oligo_cohort.errors import UsageError

    monkeypatch.setenv(SLICE_ENV, "0")
    with pytest.raises(UsageError, match=SLICE_ENV):
        screen(demo_extract_dir())


def test_a_bad_thread_setting_is_a_usage_error(monkeypatch):
    from oligo_cohort.errors import UsageError

    monkeypatch.setenv(THREADS_ENV, "many")
    with pytest.raises(UsageError, match=THREADS_ENV):
        screen(demo_extract_dir())
