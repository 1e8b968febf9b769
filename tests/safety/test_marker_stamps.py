"""An earlier output is checked against its marker without reading its files again while they keep the size and
modification time they were written with; a file that does not is read and hashed (`destination.markers`)."""

from __future__ import annotations

import os

import pytest

from oligo_cohort.destination import markers
from oligo_cohort.destination.markers import changed_entries, read_marker, write_marker


@pytest.fixture
def output(tmp_path):
    folder = tmp_path / "out"
    (folder / "figures").mkdir(parents=True)
    (folder / "patients.csv").write_text("patient_id,status\n00107,eligible\n")
    (folder / "figures" / "flow.svg").write_text("<svg/>")
    write_marker(folder, "screen")
    return folder


def test_files_as_written_are_not_read_again(output, monkeypatch):
    marker = read_marker(output)
    assert marker is not None and set(marker.stamps) == {"patients.csv", "figures/flow.svg"}
    monkeypatch.setattr(markers, "_sha256_of_fd", lambda fd: pytest.fail("a file as written was hashed"))
    assert changed_entries(output, marker.checksums, {}, marker.stamps) == []


def test_an_edit_of_the_same_size_is_found(output):
    marker = read_marker(output)
    path = output / "patients.csv"
    written = os.stat(path).st_mtime_ns
    path.write_text("patient_id,status\n00107,unknown!\n"[: path.stat().st_size])
    os.utime(path, ns=(written + 1_000_000_000, written + 1_000_000_000))
    assert changed_entries(output, marker.checksums, {}, marker.stamps) == ["patients.csv"]


def test_a_copy_with_new_times_is_hashed_and_found_unchanged(output):
    marker = read_marker(output)
    path = output / "patients.csv"
    os.utime(path, ns=(0, 0))  # as `cp -r` leaves it: the content as written, another time
    assert changed_entries(output, marker.checksums, {}, marker.stamps) == []
    assert changed_entries(output, marker.checksums, {}, {}) == []  # a marker without stamps: every file hashed
