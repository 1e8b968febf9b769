"""Disclosure control: 1–7 suppressed to 0, the rest rounded to the nearest 5; stated in a file."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import zipfile
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oligo_cohort.destination import markers
from oligo_cohort.disclosure import (
    apply_to_frame,
    one_digest_per_file,
    round_count,
    round_counts,
    sha256_of,
    write_statement,
)


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, 0), (1, 0), (5, 0), (7, 0), (8, 10), (10, 10), (12, 10), (13, 15), (22, 20), (23, 25), (1234, 1235)],
)
def test_round_count_suppresses_small_counts_and_rounds_to_5(count, shown):
    assert round_count(count) == shown


@given(st.integers(min_value=0, max_value=10**9))
def test_round_count_is_a_multiple_of_5_within_2_of_any_count_above_7(count):
    shown = round_count(count)
    assert shown % 5 == 0
    if count <= 7:
        assert shown == 0
    else:
        assert abs(shown - count) <= 2


@pytest.mark.parametrize("bad", [-1, 2.5])
def test_round_count_refuses_what_is_not_a_count(bad):
    with pytest.raises(ValueError):
        round_count(bad)


def test_apply_to_frame_rounds_only_the_named_columns_and_keeps_missing_values():
    frame = pd.DataFrame({"label": ["a", "b", "c", "d"], "n": [0, 7, 8, 13], "m": [3.0, np.nan, 7.6, 7.4], "x": 1})
    out = apply_to_frame(frame, ["n", "m"])
    assert out["n"].tolist() == [0, 0, 10, 15]
    # Non-integers are rounded to whole numbers first: 7.6 → 8 → 10, 7.4 → 7 → 0.
    assert out["m"].tolist()[0] == 0 and pd.isna(out["m"].iloc[1]) and out["m"].tolist()[2:] == [10, 0]
    assert out["x"].tolist() == [1, 1, 1, 1] and out["label"].tolist() == ["a", "b", "c", "d"]
    assert frame["n"].tolist() == [0, 7, 8, 13], "the input frame is not changed"


def test_apply_to_frame_refuses_negative_counts():
    with pytest.raises(ValueError):
        apply_to_frame(pd.DataFrame({"n": [3, -1]}), ["n"])


def test_statement_files_say_what_applied(tmp_path):
    write_statement(tmp_path, applied=True, files=["attrition.csv"], notes=["rounded"])
    info = json.loads((tmp_path / "disclosure.json").read_text())
    assert info["disclosure_control"] is True and info["suppress_up_to"] == 7 and info["round_to"] == 5
    assert info["files"] == ["attrition.csv"]
    text = (tmp_path / "disclosure.md").read_text()
    assert "applied" in text and "`attrition.csv`" in text and "0 to 7" in text

    write_statement(tmp_path, applied=False, files=["attrition.csv"])
    assert json.loads((tmp_path / "disclosure.json").read_text())["disclosure_control"] is False
    assert "NOT applied" in (tmp_path / "disclosure.md").read_text()


# --- Boundaries of the small-count rule (domain facts: counts <= 7 become 0, then all round to the nearest 5) ---


@pytest.mark.parametrize(
    ("count", "shown"),
    [(7, 0), (8, 10), (9, 10), (11, 10), (12, 10), (13, 15), (17, 15), (18, 20), (97, 95), (98, 100), (102, 100)],
)
def test_boundaries_of_suppression_and_rounding(count, shown):
    assert round_count(count) == shown
    assert round_counts(np.array([count]))[0] == shown


@pytest.mark.parametrize(("value", "shown"), [(7.49, 0), (7.5, 10), (12.49, 10), (12.5, 15), (0.4, 0), (np.nan, None)])
def test_non_integer_counts_are_rounded_half_up_first(value, shown):
    out = round_counts(np.array([value]))[0]
    assert (np.isnan(out) and shown is None) or out == shown


def test_array_and_scalar_rules_agree_on_every_count_up_to_1000():
    counts = np.arange(0, 1001)
    assert round_counts(counts).tolist() == [round_count(int(n)) for n in counts]
    assert round_count(np.int64(8)) == 10


def test_negative_counts_are_refused_by_the_array_rule():
    with pytest.raises(ValueError):
        round_counts(np.array([3.0, -0.5]))


# --- The shareable bundle of a real screen holds aggregates only ---------------------------------------------------

_FULL_DATE = re.compile(r"(?<![0-9])[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9])")


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    from oligo_cohort.api import screen
    from oligo_cohort.attrition.feasibility import write_feasibility_report
    from oligo_cohort.paths import demo_extract_dir

    result = screen(demo_extract_dir())
    # The demo is synthetic (control would be off by default); this checks what a real extract's bundle holds.
    out = write_feasibility_report(
        result, tmp_path_factory.mktemp("report") / "report", formats=("svg",), disclosure_control=True
    )
    return result, out


def _bundle_texts(bundle) -> dict[str, str]:
    texts = {p.relative_to(bundle).as_posix(): p.read_text(encoding="utf-8") for p in bundle.rglob("*") if p.is_file()}
    assert texts and all(name.endswith((".csv", ".json", ".md", ".html", ".svg")) for name in texts), sorted(texts)
    return texts


def test_the_shareable_bundle_has_no_patient_level_rows_or_ids(demo_report):
    result, out = demo_report
    bundle = out / "shareable"
    texts = _bundle_texts(bundle)
    ids = set(result.patients["patient_id"]) | set(result.events["event_id"].dropna())
    assert len(ids) > 30
    for name, text in texts.items():
        assert "patient_id" not in text, name
        found = [i for i in ids if re.search(rf"(?<![\w.-]){re.escape(i)}(?![\w.-])", text)]
        assert not found, (name, found[:5])
    # The zip holds the same files, byte for byte.
    with zipfile.ZipFile(out / "shareable.zip") as archive:
        zipped = {Path(n).as_posix(): archive.read(n) for n in archive.namelist() if not n.endswith("/")}
    assert {Path(n).name for n in zipped} == {Path(n).name for n in texts}
    for name, data in zipped.items():
        assert b"patient_id" not in data, name


def test_the_shareable_bundle_has_no_date_more_precise_than_a_month(demo_report):
    """Full dates are only the run's own: the cut-off and the day the bundle was written; never a patient's."""
    result, out = demo_report
    allowed = {result.as_of.isoformat(), dt.datetime.now(dt.UTC).date().isoformat()}
    for name, text in _bundle_texts(out / "shareable").items():
        dates = set(_FULL_DATE.findall(text))
        assert dates <= allowed, (name, sorted(dates - allowed)[:5])
    # The patient-level result beside the bundle does hold patient dates: the check above would see them.
    assert _FULL_DATE.search((out / "screen" / "events.csv").read_text(encoding="utf-8"))


def test_the_shareable_counts_are_disclosure_controlled(demo_report):
    """Counts are controlled cell by cell (0 or >= 10, multiples of 5); parts of a total are multiples of 5."""
    _, out = demo_report
    checked = 0
    derived = {("exclusion_combinations", "n"), ("attrition", "excluded"), ("status", "eligible")}
    derived |= {("status", "unknown"), ("status", "ineligible"), ("impact", "shapley")}
    for file in (out / "shareable" / "tables").glob("*.csv"):
        table = pd.read_csv(file)
        kind = file.stem.split("_")[0] if not file.stem.startswith("exclusion") else "exclusion_combinations"
        for column in table.columns:
            if column not in ("n", "remaining", "excluded", "eligible", "unknown", "ineligible", "total", "shapley"):
                continue
            values = pd.to_numeric(table[column], errors="coerce").dropna()
            assert (values % 5 == 0).all(), (file.name, column)
            if (kind, column) not in derived:
                assert not values.between(1, 7).any() and not (values == 5).any(), (file.name, column)
            checked += 1
    assert checked >= 10


def test_a_screen_folder_of_the_demo_is_known_by_the_checksums_its_manifest_records(tmp_path):
    """Read back, a result is the demo's by its manifest's checksums, read once by the screen folder's reader:
    with a byte-order mark too (control stayed on for it when disclosure read the manifest itself); another
    extract's checksums keep control on."""
    import json

    from oligo_cohort.cli import main
    from oligo_cohort.disclosure import BUNDLED_DEMO, synthetic_source
    from oligo_cohort.paths import demo_extract_dir
    from oligo_cohort.screen_folder import read_screen_folder

    folder = tmp_path / "screen"
    assert main(["screen", str(demo_extract_dir()), "--out", str(folder), "--quiet"]) == 0
    manifest = folder / "manifest.json"
    written = manifest.read_text(encoding="utf-8")
    assert synthetic_source(read_screen_folder(folder)) == BUNDLED_DEMO
    manifest.write_text("\ufeff" + written, encoding="utf-8")
    result = read_screen_folder(folder)
    assert synthetic_source(result) == BUNDLED_DEMO
    assert result.input_checksums == json.loads(written)["input_files"]
    other = json.loads(written)
    other["input_files"] = {path: "0" * 64 for path in other["input_files"]}
    manifest.write_text(json.dumps(other), encoding="utf-8")
    assert synthetic_source(read_screen_folder(folder)) is None


# --- an input file's checksum, read once per run -------------------------------------------------------------------


@pytest.fixture
def digests_made(monkeypatch) -> Counter:
    return count_digests(monkeypatch)


def count_digests(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """From now on, the digests `sha256_of` computes (reads a file to its end for), counted by value (the file
    checksums of `oligo_cohort.destination.markers`, which `sha256_of` reads through)."""
    made: Counter = Counter()
    real = hashlib.sha256

    class Counted:
        def __init__(self) -> None:
            self._digest = real()

        def update(self, block: bytes) -> None:
            self._digest.update(block)

        def hexdigest(self) -> str:
            found = self._digest.hexdigest()
            made[found] += 1
            return found

    monkeypatch.setattr(markers, "hashlib", SimpleNamespace(sha256=Counted))
    return made


def test_within_a_run_a_file_is_read_once_for_its_checksum_until_it_changes(tmp_path, digests_made):
    table = tmp_path / "patients.csv"
    table.write_text("patient_id\np1\n", encoding="utf-8")
    first = hashlib.sha256(table.read_bytes()).hexdigest()
    os.link(table, tmp_path / "same.csv")  # another name of the same file
    with one_digest_per_file():
        assert {sha256_of(table), sha256_of(Path(table)), sha256_of(tmp_path / "same.csv")} == {first}
        with one_digest_per_file():  # a step of the run that opens a block of its own shares the run's digests
            assert sha256_of(table) == first
        assert digests_made[first] == 1
        table.write_text("patient_id\np1\np2\n", encoding="utf-8")  # changed during the run: read again
        changed = hashlib.sha256(table.read_bytes()).hexdigest()
        assert sha256_of(table) == changed != first
        assert sha256_of(tmp_path / "same.csv") == changed
    assert digests_made == {first: 1, changed: 1}
    with one_digest_per_file():  # a new run keeps nothing of the last one
        sha256_of(table)
    assert digests_made[changed] == 2


def test_outside_a_run_every_checksum_reads_the_file(tmp_path, digests_made):
    table = tmp_path / "patients.csv"
    table.write_text("patient_id\np1\n", encoding="utf-8")
    assert sha256_of(table) == sha256_of(table)
    assert digests_made[hashlib.sha256(table.read_bytes()).hexdigest()] == 2
