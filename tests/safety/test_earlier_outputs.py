"""An earlier output folder is replaced only when the tool can show it wrote every file in it, unchanged.

Every command that writes a folder writes one here, as a user would (screen, demo, review export, review
import, attrition, accrual, report, import, synth). Copies of them are then damaged in each way that takes
away that proof, with generated details: the marker deleted, emptied, cut short or followed by junk; a valid
marker listing other files; a file the marker lists edited (bytes appended, one byte changed, cut short,
emptied); a file added, at the top or in a folder. Running the command again into the copy must be refused
with exit code 2 and a message naming the damage, and leave the folder, and the folder around it, exactly as
they were. An undamaged copy is accepted, so each refusal is the damage's doing.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.cli import main
from oligo_cohort.destination import MARKER, OS_LITTER, OutputFolder
from oligo_cohort.paths import demo_extract_dir
from tests.draws import costly_draws
from tests.importers.test_import_omop import omop_tables, write_folder
from tests.safety.test_output_safety import fingerprint


@dataclass(frozen=True)
class Inputs:
    extract: Path
    screen: Path
    answers: Path
    omop: Path


# Each kind of output folder, the command that writes it, and the kind its marker names.
COMMANDS: dict[str, tuple[str, Callable[[Inputs, Path], list[str]]]] = {
    "screen": ("screen", lambda i, out: ["screen", str(i.extract), "--out", str(out), "--quiet"]),
    "demo": ("screen", lambda i, out: ["demo", "--out", str(out)]),
    "review export": ("review-export", lambda i, out: ["review", "export", str(i.screen), "--out", str(out)]),
    "review import": (
        "reviewed-extract",
        lambda i, out: ["review", "import", str(i.answers), "--extract", str(i.extract), "--out", str(out)],
    ),
    "attrition": ("attrition", lambda i, out: ["attrition", str(i.screen), "--out", str(out), "--no-figures"]),
    "accrual": (
        "accrual",
        lambda i, out: ["accrual", str(i.screen), "--target", "5", "--start", "2025-01-01", "--out", str(out)],
    ),
    "report": ("report", lambda i, out: ["report", str(i.extract), "--out", str(out)]),
    "import": ("import", lambda i, out: ["import", "omop", str(i.omop), "--out", str(out)]),
    "synth": ("synth", lambda i, out: ["synth", "--patients", "20", "--sites", "2", "--out", str(out), "-q"]),
}
# `demo` writes the same kind of folder as `screen`: it is run against the screen's folder.
WRITES = {"demo": "screen"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Inputs:
    base = tmp_path_factory.mktemp("inputs")
    extract = base / "extract"
    shutil.copytree(demo_extract_dir(), extract)
    screen = base / "screen"
    assert main(["screen", str(extract), "--out", str(screen), "--quiet"]) == 0
    review = base / "review"
    assert main(["review", "export", str(screen), "--out", str(review)]) == 0
    answers = review / "review.csv"  # nothing answered: imported as such
    omop = write_folder(omop_tables(), base / "cdm")
    return Inputs(extract, screen, answers, omop)


@pytest.fixture(scope="module")
def written(inputs, tmp_path_factory) -> dict[str, Path]:
    """One folder of each kind, as its command wrote it."""
    base = tmp_path_factory.mktemp("written")
    folders = {}
    for command, (_, line) in COMMANDS.items():
        if command in WRITES:
            continue
        out = base / command.replace(" ", "-")
        assert main(line(inputs, out)) == 0, command
        folders[command] = out
    return folders


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("damaged")


def copy_of(written: dict[str, Path], command: str, scratch: Path) -> Path:
    parent = Path(tempfile.mkdtemp(dir=scratch))
    out = parent / "out"
    shutil.copytree(written[WRITES.get(command, command)], out)
    return out


def listed_files(out: Path) -> list[str]:
    return sorted(
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.relative_to(out).as_posix() != MARKER
    )


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_kind_of_output_folder_is_one_the_tool_may_replace_while_undamaged(written, scratch, command):
    out = copy_of(written, command, scratch)
    kind = COMMANDS[command][0]
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    assert marker["output"] == kind and set(marker["sha256"]) == set(listed_files(out))
    OutputFolder(out, kind).check()  # accepted: what the damages below take away is what made it so


DAMAGES = ("marker deleted", "marker empty", "marker cut short", "marker not JSON", "marker lists other files")
EDITS = ("append", "change a byte", "cut short", "empty")
OTHER_NAMES = ["patients.csv", "notes.txt", "figures/a.png", "review.csv", "tables/x.csv", "data/patients.parquet"]
ADDED_NAMES = ["notes.txt", "answers (2).csv", "~$review.xlsx", ".hidden"]


def damage_marker(out: Path, damage: str, data: st.DataObject) -> str:
    """Damage the marker; the words the refusal must hold."""
    path = out / MARKER
    text = path.read_text(encoding="utf-8")
    if damage == "marker deleted":
        path.unlink()
        return f"no {MARKER}"
    if damage == "marker empty":
        path.write_bytes(data.draw(st.sampled_from([b"", b"\n", b"  \r\n"]), label="empty as"))
        return f"damaged marker {MARKER}: it is empty"
    if damage == "marker cut short":
        # Cut anywhere before its closing brace (`}\n`): never valid JSON.
        path.write_text(text[: data.draw(st.integers(1, len(text) - 2), label="cut at")], encoding="utf-8")
        return f"damaged marker {MARKER}: it is not valid JSON"
    if damage == "marker not JSON":
        path.write_text(text + data.draw(st.sampled_from(["x", "}", ",", "{}"]), label="junk"), encoding="utf-8")
        return f"damaged marker {MARKER}: it is not valid JSON"
    info = json.loads(text)
    others = data.draw(st.lists(st.sampled_from(OTHER_NAMES), unique=True), label="listed instead")
    others = [name for name in others if name not in info["files"]]
    info["files"] = sorted({*others, *(n.rsplit("/", 1)[0] + "/" for n in others if "/" in n)})
    info["sha256"] = {name: "0" * 64 for name in others}
    path.write_text(json.dumps(info), encoding="utf-8")
    return "oligo-cohort did not write"


def edit_file(out: Path, data: st.DataObject) -> str:
    """Edit one file the marker lists; its name, which the refusal must hold."""
    name = data.draw(st.sampled_from(listed_files(out)), label="file edited")
    path = out / name
    content = path.read_bytes()
    edit = data.draw(st.sampled_from(EDITS), label="edit")
    if edit == "append" or not content:
        content += data.draw(st.binary(min_size=1, max_size=8), label="appended")
    elif edit == "change a byte":
        at = data.draw(st.integers(0, len(content) - 1), label="at")
        content = content[:at] + bytes([content[at] ^ data.draw(st.integers(1, 255), label="xor")]) + content[at + 1 :]
    elif edit == "cut short":
        content = content[: data.draw(st.integers(0, len(content) - 1), label="cut at")]
    else:
        content = b""
    path.write_bytes(content)
    return name


def add_file(out: Path, data: st.DataObject) -> str:
    """Add a user's file, at the top, in one of the output's folders or in a new one; the entry the refusal names."""
    folders = sorted({"", *(p.relative_to(out).as_posix() + "/" for p in out.rglob("*") if p.is_dir())})
    where = data.draw(st.sampled_from([*folders, "mine/"]), label="where")
    name = data.draw(st.sampled_from([n for n in ADDED_NAMES if n not in OS_LITTER]), label="added")
    path = out / where / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("a user's work\n", encoding="utf-8")
    return "mine/" if where == "mine/" else f"{where}{name}"


@pytest.mark.parametrize("damage", [*DAMAGES, "listed file edited", "file added"])
@pytest.mark.parametrize("command", list(COMMANDS))
@settings(max_examples=costly_draws(4), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_an_output_folder_the_tool_cannot_show_as_its_own_and_unchanged_is_refused_untouched(
    inputs, written, scratch, capsys, command, damage, data
):
    out = copy_of(written, command, scratch)
    if damage == "listed file edited":
        named = edit_file(out, data)
        expected = f"changed since oligo-cohort wrote them (edited or filled in by hand?): {named}"
    elif damage == "file added":
        named = add_file(out, data)
        expected = "oligo-cohort did not write: "
    else:
        expected = damage_marker(out, damage, data)
        named = None
    before = fingerprint(out.parent)
    capsys.readouterr()
    code = main(COMMANDS[command][1](inputs, out))
    err = capsys.readouterr().err
    assert code == 2, (command, damage, err)
    assert f"--out {out} " in err and expected in err, (command, damage, err)
    assert named is None or named in err, (named, err)
    assert "internal error" not in err and "Traceback" not in err
    assert fingerprint(out.parent) == before, "nothing in or beside the folder was changed, made or removed"
