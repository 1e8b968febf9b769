"""A folder another command of the tool wrote, given where an extract is asked for, is named for what it is.

`oligo-cohort screen demo-output --out x`, where demo-output is a screen result, used to list four required tables
as missing (the result's patients.csv was read as the patients table). Every kind of output the tool writes is
tried; the kinds that are extracts (import, synth, review import) are read as extracts.
"""

from __future__ import annotations

import hashlib
import shutil

import pytest

from oligo_cohort.cli import main
from oligo_cohort.destination.markers import EXTRACT_WRITERS, KINDS, MARKER, Marker
from oligo_cohort.paths import demo_extract_dir


def folder_marked(tmp_path, kind: str):
    folder = tmp_path / kind
    shutil.copytree(demo_extract_dir(), folder)
    sums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    (folder / MARKER).write_text(Marker(kind, "0", frozenset(sums), sums).to_json(), encoding="utf-8")
    return folder


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in EXTRACT_WRITERS])
@pytest.mark.parametrize("command", ["screen", "validate"])
def test_an_output_that_is_no_extract_is_named_for_what_it_is(tmp_path, capsys, kind, command):
    folder = folder_marked(tmp_path, kind)
    out = ["--out", str(tmp_path / "out")] if command == "screen" else []
    assert main(["-q", command, str(folder), *out]) == 2
    error = capsys.readouterr().err
    article = "an" if kind[0] in "aeiou" else "a"
    assert f"{folder} is not an extract: it is {article} `{kind}` output of oligo-cohort; give " in error
    assert ("its manifest.json names the files it read" in error) is (kind == "screen")
    assert "required table is missing" not in error and "Traceback" not in error
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", sorted(EXTRACT_WRITERS))
def test_an_extract_the_tool_wrote_is_read_as_an_extract(tmp_path, capsys, kind):
    folder = folder_marked(tmp_path, kind)
    main(["-q", "validate", str(folder)])
    assert "is not an extract" not in capsys.readouterr().err
