"""Outputs replace only what oligo-cohort wrote, never an input, decided before the work, all at once.

Generated destination folders (files of a user, markers of every kind, broken
markers, files changed since the marker was written, a lone `manifest.json`)
check the one rule of `oligo_cohort.destination` against an oracle computed
from the generated folder; every command is then
pointed at its own inputs (the same folder, a folder inside, a folder around,
a symbolic link) and at a user's folder; `--problems` and `dictionary --out`
files; permissions under two umasks; a full, read-only or unwritable disk while
writing; a foreign lock file; folders without a marker or with one of an earlier
version; and two real processes writing the same folder at once. Every kind of
output folder, damaged, is in test_earlier_outputs.py.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort import destination as dest
from oligo_cohort.cli import main
from oligo_cohort.destination import MARKER, DestinationError, OutputFolder, staged_output
from oligo_cohort.paths import demo_extract_dir, dictionary_dir
from oligo_cohort.problems import PROBLEM_COLUMNS
from tests.processes import Run

ROOT = Path(__file__).resolve().parents[2]


def fingerprint(folder: Path) -> dict[str, str]:
    """Every entry under `folder` (links not followed) with the sha256 of files and the target of links."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[rel] = "link:" + os.readlink(path)
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[rel] = "folder"
    return found


def leftovers(parent: Path) -> list[str]:
    """Staging folders, moved-aside outputs and lock files: none may remain after a run."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".") and p.name != MARKER)


def copy_demo(folder: Path) -> Path:
    shutil.copytree(demo_extract_dir(), folder)
    return folder


@pytest.fixture(scope="module")
def screen_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("safety") / "screen"
    assert main(["screen", str(demo_extract_dir()), "--out", str(out), "--quiet"]) == 0
    return out


# --- the rule, on generated folders ---------------------------------------------------------------------------

NAMES = ["a.csv", "b.txt", "manifest.json", "settings.json", "figures/c.svg", "notes/d.md", ".DS_Store", "x/.DS_Store"]
WRITTEN = {"table.csv": b"n\n1\n", "figures/plot.svg": b"<svg/>"}
MARKERS = ("none", "same", "no-checksums", "other", "corrupt", "empty", "foreign", "not-a-list")


def parents(names) -> set[str]:
    return {"/".join(n.split("/")[: i + 1]) + "/" for n in names for i in range(n.count("/"))}


def content(name: str) -> bytes:
    return f"a user's {name}".encode()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.sets(st.sampled_from(NAMES)),
    listed=st.sets(st.sampled_from([*NAMES, "figures/", "notes/", "x/"])),
    edited=st.sets(st.sampled_from(NAMES)),
    marker=st.sampled_from(MARKERS),
)
def test_a_folder_is_replaced_only_when_its_marker_lists_everything_in_it_unchanged(
    scratch, files, listed, edited, marker
):
    """`edited`: files whose content differs from the checksum the marker records for them."""
    parent = Path(tempfile.mkdtemp(dir=scratch))
    out = parent / "out"
    out.mkdir()
    for name in files:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(content(name))
    kind = {"same": "attrition", "no-checksums": "attrition", "other": "screen", "foreign": "attrition"}.get(marker)
    if marker == "corrupt":
        (out / MARKER).write_text("{not json", encoding="utf-8")
    elif marker == "empty":
        (out / MARKER).write_bytes(b"")
    elif kind or marker == "not-a-list":
        info = {"written_by": "oligo-cohort" if marker != "foreign" else "other-tool", "output": kind or "attrition"}
        info["files"] = sorted(listed) if marker != "not-a-list" else "everything"
        if marker != "no-checksums":
            info["marker_format"] = 2
            info["sha256"] = {
                name: hashlib.sha256(content(name) + (b" edited" if name in edited else b"")).hexdigest()
                for name in listed
                if not name.endswith("/")
            }
        (out / MARKER).write_text(json.dumps(info), encoding="utf-8")
    before = fingerprint(out)

    entries = {n for n in files if Path(n).name not in dest.OS_LITTER} | parents(files)
    changed = {n for n in files & listed & edited if Path(n).name not in dest.OS_LITTER}
    expected = (not files and marker == "none") or (marker == "same" and entries <= listed and not changed)

    try:
        with staged_output(out, "attrition") as staging:
            for name, data in WRITTEN.items():
                (staging / name).parent.mkdir(exist_ok=True)
                (staging / name).write_bytes(data)
        replaced = True
    except DestinationError as error:
        replaced = False
        extra = sorted(entries - listed) if marker == "same" else []
        named = extra or (sorted(changed) if marker == "same" else [])
        assert all(name in str(error) for name in named[:8]), (str(error), named)
    assert replaced == expected, (files, listed, edited, marker)
    if replaced:
        assert {k: v for k, v in fingerprint(out).items() if k != MARKER} == {
            "figures": "folder",
            "figures/plot.svg": hashlib.sha256(b"<svg/>").hexdigest(),
            "table.csv": hashlib.sha256(b"n\n1\n").hexdigest(),
        }
        written = json.loads((out / MARKER).read_text(encoding="utf-8"))
        assert (written["output"], written["files"]) == ("attrition", ["figures/", "figures/plot.svg", "table.csv"])
        assert written["sha256"] == {name: hashlib.sha256(data).hexdigest() for name, data in WRITTEN.items()}
    else:
        assert fingerprint(out) == before
    assert leftovers(parent) == []


def test_a_symlink_or_fifo_in_an_earlier_output_is_not_ours(tmp_path):
    out = tmp_path / "out"
    with staged_output(out, "attrition") as staging:
        (staging / "t.csv").write_text("x\n", encoding="utf-8")
    (out / "t.csv").unlink()
    (out / "t.csv").symlink_to(tmp_path)  # same name, but a link: deleting "it" must not be risked
    with pytest.raises(DestinationError, match=r"t\.csv"), staged_output(out, "attrition") as staging:
        (staging / "t.csv").write_text("y\n", encoding="utf-8")
    assert (out / "t.csv").is_symlink()


def test_the_earlier_output_is_deleted_only_after_the_new_one_is_in_place(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with staged_output(out, "screen") as staging:
        (staging / "a.csv").write_text("first\n", encoding="utf-8")
    (tmp_path / ".out.previous").mkdir()  # a user's folder with the name the tool once used for swaps
    (tmp_path / ".out.previous" / "keep.txt").write_text("mine", encoding="utf-8")

    real_rename = os.rename

    def failing_rename(source, target):
        if str(source).endswith(".partial"):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_rename(source, target)

    monkeypatch.setattr(os, "rename", failing_rename)
    with pytest.raises(DestinationError, match="cross-device"), staged_output(out, "screen") as staging:
        (staging / "a.csv").write_text("second\n", encoding="utf-8")
    assert (out / "a.csv").read_text(encoding="utf-8") == "first\n", "the earlier output was put back"
    assert (tmp_path / ".out.previous" / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert leftovers(tmp_path) == [".out.previous"]


def test_a_check_of_the_output_reads_it_with_its_marker_and_a_failing_one_leaves_the_earlier_output(tmp_path):
    out = tmp_path / "out"
    seen = []

    def check(folder: Path) -> None:
        seen.append(dest.Marker.read(folder))
        if (folder / "a.csv").read_text(encoding="utf-8") == "bad\n":
            raise ValueError("the output does not load")

    with staged_output(out, "reviewed-extract", check=check) as staging:
        (staging / "a.csv").write_text("good\n", encoding="utf-8")
    assert seen[0] is not None and seen[0].kind == "reviewed-extract" and seen[0].entries == {"a.csv"}
    with (
        pytest.raises(ValueError, match="does not load"),
        staged_output(out, "reviewed-extract", check=check) as staging,
    ):
        (staging / "a.csv").write_text("bad\n", encoding="utf-8")
    assert (out / "a.csv").read_text(encoding="utf-8") == "good\n"
    assert leftovers(tmp_path) == []


# --- inputs are never an output -----------------------------------------------------------------------------


def command_lines(extract: Path, screen: Path, out: Path, sites: Path) -> dict[str, list[str]]:
    return {
        "screen": ["screen", str(extract), "--out", str(out)],
        "report": ["report", str(extract), "--out", str(out)],
        "attrition": ["attrition", str(screen), "--out", str(out)],
        "accrual": ["accrual", str(screen), "--target", "5", "--start", "2025-01-01", "--out", str(out)],
        "accrual --sites": [
            "accrual", str(screen), "--target", "5", "--start", "2025-01-01", "--out", str(out), "--sites", str(sites)
        ],
        "import": ["import", "omop", str(extract), "--out", str(out)],
    }  # fmt: skip


def input_of(command: str, extract: Path, screen: Path, sites: Path) -> Path:
    return {"attrition": screen, "accrual": screen, "accrual --sites": sites}.get(command, extract)


@pytest.mark.parametrize("command", ["screen", "report", "attrition", "accrual", "accrual --sites", "import"])
@pytest.mark.parametrize("where", ["is", "inside", "around", "link"])
def test_no_command_writes_over_or_into_its_inputs(tmp_path, screen_dir, capsys, command, where):
    extract = copy_demo(tmp_path / "data" / "extract")
    screen = tmp_path / "data" / "screen"
    shutil.copytree(screen_dir, screen)
    sites = tmp_path / "data" / "sites" / "sites.csv"
    sites.parent.mkdir()
    sites.write_text("site_id,activation_date\nAVL,2025-01-01\n", encoding="utf-8")
    target = input_of(command, extract, screen, sites)
    if where == "inside" and target.is_file():
        pytest.skip("nothing lies inside a file")
    out = {
        "is": target,
        "inside": target / "results",
        "around": tmp_path / "data",
        "link": tmp_path / "link",
    }[where]
    if where == "link":
        out.symlink_to(target, target_is_directory=target.is_dir())
    before = fingerprint(tmp_path)
    code = main(command_lines(extract, screen, out, sites)[command])
    message = capsys.readouterr().err
    assert code == 2, message
    assert "input" in message and "Traceback" not in message
    assert fingerprint(tmp_path) == before, "nothing was changed, made or removed"


def test_a_registry_export_holding_a_manifest_is_neither_input_nor_output(tmp_path, capsys):
    """The worst case found: `screen X --out X` with a manifest.json in X deleted the extract."""
    export = copy_demo(tmp_path / "export")
    (export / "manifest.json").write_text('{"exported": "2024-07-01", "files": ["patients.csv"]}', encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    (project / "manifest.json").write_text('{"tool": "oligo-cohort", "files": []}', encoding="utf-8")
    (project / "analysis.R").write_text("# weeks of work", encoding="utf-8")
    before = fingerprint(tmp_path)
    assert main(["screen", str(export), "--out", str(export)]) == 2
    assert main(["screen", str(export), "--out", str(project)]) == 2
    err = capsys.readouterr().err
    assert "is the input" in err and "analysis.R" in err
    assert fingerprint(tmp_path) == before


def test_the_destination_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    import oligo_cohort.api

    def no_work(*args, **kwargs):
        raise AssertionError("the extract was read before the destination was checked")

    monkeypatch.setattr(oligo_cohort.api, "load_extract", no_work)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep", encoding="utf-8")
    assert main(["screen", str(demo_extract_dir()), "--out", str(mine)]) == 2
    assert main(["report", str(demo_extract_dir()), "--out", str(mine)]) == 2
    foreign = tmp_path / "foreign.csv"
    foreign.write_text("name,phone\nme,123\n", encoding="utf-8")
    assert main(["screen", str(demo_extract_dir()), "--out", str(tmp_path / "o"), "--problems", str(foreign)]) == 2
    err = capsys.readouterr().err
    assert err.count("notes.txt") == 2 and "foreign.csv exists and is not a problems file" in err
    assert not (tmp_path / "o").exists() and leftovers(tmp_path) == []


def test_folders_made_for_a_failed_run_are_removed_again(tmp_path, capsys):
    extract = copy_demo(tmp_path / "extract")
    (extract / "lesions.csv").write_text("study_id,patient_id\n", encoding="utf-8")  # fatal: columns missing
    out = tmp_path / "new" / "deeper" / "out"
    assert main(["screen", str(extract), "--out", str(out)]) == 2
    assert not (tmp_path / "new").exists()
    assert "fatal problem" in capsys.readouterr().err


# --- single files ---------------------------------------------------------------------------------------------


def problems_header() -> str:
    return ",".join(PROBLEM_COLUMNS) + "\n"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("foreign file", "is not a problems file"),
        ("the extract's table", "lies inside the input"),
        ("inside the extract", "lies inside the input"),
        ("a folder", "is a folder"),
        ("inside --out", "lies inside the --out folder"),
    ],
)
def test_problems_files_never_replace_what_is_not_ours(tmp_path, capsys, case, message):
    extract = copy_demo(tmp_path / "extract")
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    target = {
        "foreign file": tmp_path / "notes.csv",
        "the extract's table": extract / "patients.csv",
        "inside the extract": extract / "problems.csv",
        "a folder": tmp_path / "folder",
        "inside --out": tmp_path / "out" / "problems.csv",
    }[case]
    before = fingerprint(tmp_path)
    assert main(["screen", str(extract), "--out", str(tmp_path / "out"), "--problems", str(target)]) == 2
    assert message in capsys.readouterr().err
    assert fingerprint(tmp_path) == before


def test_an_earlier_problems_file_is_replaced_whole(tmp_path, capsys):
    extract = copy_demo(tmp_path / "extract")
    with (extract / "systemic_therapy.csv").open("a", encoding="utf-8") as handle:
        handle.write("00107,unknowndrug,2023-03-01,,metastatic\n")
    problems = tmp_path / "reports" / "problems.csv"
    assert main(["validate", str(extract), "--problems", str(problems)]) == 0
    first = problems.read_text(encoding="utf-8")
    assert first.startswith(problems_header()) and "unknowndrug" in first
    problems.write_text(problems_header() + "finding,old,,,,,from an earlier run\n", encoding="utf-8")
    assert main(["validate", str(extract), "--problems", str(problems)]) == 0
    assert problems.read_text(encoding="utf-8") == first
    assert leftovers(problems.parent) == []


ANSWER_PROBLEMS_HEADER = "file,sheet,row,column,value,message\n"


def problems_runs(tmp_path: Path, screen_dir: Path) -> dict[str, tuple]:
    """Each command that writes `--problems FILE`: a run that writes one, its exit code and header, and a run
    with the input corrected."""
    extract = copy_demo(tmp_path / "extract")
    with (extract / "systemic_therapy.csv").open("a", encoding="utf-8") as handle:
        handle.write("00107,unknowndrug,2023-03-01,,metastatic\n")  # a finding
    broken = copy_demo(tmp_path / "broken")
    (broken / "lesions.csv").write_text("study_id,patient_id\n", encoding="utf-8")  # fatal: columns missing
    assert main(["review", "export", str(screen_dir), "--out", str(tmp_path / "review")]) == 0
    blank = tmp_path / "review" / "review.csv"
    lines = blank.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].rstrip("\n").removesuffix(",,,,") + ",perhaps,2024-04-01,a nurse,\n"  # not an answer
    answers = tmp_path / "answers.csv"
    answers.write_text("".join(lines), encoding="utf-8")
    demo = str(demo_extract_dir())

    def review(files: Path):
        return lambda p: [
            "review",
            "import",
            str(files),
            "--extract",
            demo,
            "--out",
            str(tmp_path / "rx"),
            "--problems",
            str(p),
        ]

    return {
        "validate": (lambda p: ["validate", str(extract), "--problems", str(p)], 0, problems_header(),
                     lambda p: ["validate", demo, "--problems", str(p)]),
        "screen": (lambda p: ["screen", str(broken), "--out", str(tmp_path / "s"), "--problems", str(p)], 2,
                   problems_header(), lambda p: ["screen", demo, "--out", str(tmp_path / "s"), "--problems", str(p)]),
        "review import": (review(answers), 2, ANSWER_PROBLEMS_HEADER, review(blank)),
    }  # fmt: skip


@pytest.mark.parametrize("command", ["validate", "screen", "review import"])
def test_a_run_again_replaces_its_own_problems_file_and_never_a_users(tmp_path, screen_dir, capsys, command):
    run, code, header, corrected = problems_runs(tmp_path, screen_dir)[command]
    problems = tmp_path / "pp.csv"
    assert main(run(problems)) == code
    first = problems.read_text(encoding="utf-8")
    assert first.startswith(header) and first.count("\n") > 1
    capsys.readouterr()
    assert main(run(problems)) == code  # the same command again
    err = capsys.readouterr().err
    assert "wrote every problem to" in err and "is not a problems file" not in err, err
    assert problems.read_text(encoding="utf-8") == first
    assert main(corrected(problems)) == 0, capsys.readouterr().err  # the input corrected
    # The corrected run's problems replace the failed run's: no stale list is left beside a clean run.
    now = problems.read_text(encoding="utf-8")
    assert now.startswith(header) and now != first
    if command == "screen":  # the findings the screen also wrote beside its results
        assert now == (tmp_path / "s" / "findings.csv").read_text(encoding="utf-8")
    if command == "review import":
        assert now == header
    # Another command's problems file is this tool's too.
    other = ANSWER_PROBLEMS_HEADER if header == problems_header() else problems_header()
    problems.write_text(other + "from,another,run,,,\n", encoding="utf-8")
    capsys.readouterr()
    assert main(run(problems)) == code
    assert "wrote every problem to" in capsys.readouterr().err
    assert problems.read_text(encoding="utf-8") == first
    # A user's own CSV of the same name is left alone, before any work.
    for mine in ("patient_id,note\n00217,call back\n", header.replace("message", "messages") + "a,b,c,d,e,f\n"):
        problems.write_text(mine, encoding="utf-8")
        capsys.readouterr()
        assert main(run(problems)) == 2
        assert (
            f"--problems {problems} exists and is not a problems file written by oligo-cohort"
            in capsys.readouterr().err
        )
        assert problems.read_text(encoding="utf-8") == mine
    assert leftovers(tmp_path) == []


def test_the_dictionary_file_is_replaced_only_when_it_is_one(tmp_path, capsys):
    out = tmp_path / "dictionary.md"
    assert main(["dictionary", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert main(["dictionary", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == text
    mine = tmp_path / "notes.md"
    mine.write_text("# My notes\n", encoding="utf-8")
    assert main(["dictionary", "--out", str(mine)]) == 2
    assert main(["dictionary", "--out", str(dictionary_dir() / "tables.yaml")]) == 2
    err = capsys.readouterr().err
    assert "notes.md exists and is not a data dictionary" in err and "lies inside the input" in err
    assert mine.read_text(encoding="utf-8") == "# My notes\n"


# --- permissions ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_outputs_get_the_users_normal_permissions(tmp_path, mask):
    previous = os.umask(mask)
    try:
        with staged_output(tmp_path / "out", "screen") as staging:
            (staging / "sub").mkdir()
            (staging / "sub" / "a.csv").write_text("x\n", encoding="utf-8")
        single = dest.OutputFile(tmp_path / "p.csv", what="x", recognise=lambda p: True, option="--problems")
        single.write_text("severity\n")
    finally:
        os.umask(previous)
    for folder in (tmp_path / "out", tmp_path / "out" / "sub"):
        assert folder.stat().st_mode & 0o777 == 0o777 & ~mask
    for file in (tmp_path / "out" / "sub" / "a.csv", tmp_path / "out" / MARKER, tmp_path / "p.csv"):
        assert file.stat().st_mode & 0o777 == 0o666 & ~mask


# --- the disk says no -----------------------------------------------------------------------------------------

FAILURES = {
    "full": OSError(errno.ENOSPC, "No space left on device"),
    "read-only": OSError(errno.EROFS, "Read-only file system"),
    "denied": OSError(errno.EACCES, "Permission denied"),
    "quota": OSError(errno.EDQUOT, "Disk quota exceeded"),
    "duckdb": duckdb.IOException('IO Error: Could not write file "x": No space left on device'),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_disk_that_fails_while_writing_leaves_the_earlier_output_and_no_partial_folder(
    tmp_path, screen_dir, monkeypatch, capsys, failure
):
    import oligo_cohort.attrition.bundle as bundle

    out = tmp_path / "attrition"
    assert main(["attrition", str(screen_dir), "--out", str(out), "--no-figures"]) == 0
    before = fingerprint(out)
    real = bundle.write_csv
    calls = []

    def failing(table, path, **kwargs):
        calls.append(path)
        if len(calls) == 3:  # after some files are written
            raise FAILURES[failure]
        return real(table, path, **kwargs)

    monkeypatch.setattr(bundle, "write_csv", failing)
    capsys.readouterr()
    assert main(["attrition", str(screen_dir), "--out", str(out), "--no-figures", "--by", "site"]) == 2
    err = capsys.readouterr().err
    reason = str(FAILURES[failure]).split(": ")[-1] if failure == "duckdb" else FAILURES[failure].strerror
    assert f"could not write {out}: " in err and reason in err and "earlier output there is unchanged" in err
    assert "Traceback" not in err
    assert fingerprint(out) == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("failing", "failure"),
    [
        ("reasons.csv", "full"),
        ("events.csv", "duckdb"),
        ("patients.csv", "quota"),
        ("worklist.csv", "duckdb"),
        ("findings.csv", "full"),
    ],
)
def test_a_screen_file_that_fails_while_the_others_are_written_leaves_the_earlier_output(
    tmp_path, monkeypatch, capsys, failing, failure
):
    """The screen's files are written side by side (oligo_cohort.outputs): whichever fails, the others stop or
    finish into the staging folder, which goes; the earlier output stays as it was."""
    import oligo_cohort.outputs as outputs

    out = tmp_path / "screen"
    args = ["screen", str(demo_extract_dir()), "--out", str(out), "--worklist", "--quiet"]
    assert main(args) == 0
    before = fingerprint(out)
    real = outputs.write_csv
    written = []

    def failing_one(relation, path, **kwargs):
        if path.name == failing:
            raise FAILURES[failure]
        real(relation, path, **kwargs)
        written.append(path.name)

    monkeypatch.setattr(outputs, "write_csv", failing_one)
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    reason = str(FAILURES[failure]).split(": ")[-1] if failure == "duckdb" else FAILURES[failure].strerror
    assert f"could not write {out}: " in err and reason in err and "earlier output there is unchanged" in err
    assert "Traceback" not in err
    assert failing not in written
    assert fingerprint(out) == before
    assert leftovers(tmp_path) == []


def test_a_full_disk_while_writing_the_problems_file(tmp_path, monkeypatch, capsys):
    import oligo_cohort.csv_output as csv_output

    extract = copy_demo(tmp_path / "extract")
    real = csv_output.inert_frame

    def full(frame, *args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(csv_output, "inert_frame", full)
    assert main(["validate", str(extract), "--problems", str(tmp_path / "p.csv")]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["extract"]
    monkeypatch.setattr(csv_output, "inert_frame", real)


def test_an_unwritable_place_is_refused_before_the_work(tmp_path, monkeypatch, capsys):
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == tmp_path else real(path, mode))
    assert main(["validate", str(demo_extract_dir()), "--problems", str(tmp_path / "p.csv")]) == 2
    assert main(["screen", str(demo_extract_dir()), "--out", str(tmp_path / "o" / "p")]) == 2
    err = capsys.readouterr().err
    assert err.count(f"the folder {tmp_path} is not writable for you") == 2


# --- locks and concurrent runs ----------------------------------------------------------------------------------


def test_a_foreign_file_with_the_lock_name_is_left_alone(tmp_path, capsys):
    lock = tmp_path / ".out.oligo-cohort.lock"
    lock.write_text("someone else's", encoding="utf-8")
    with (
        pytest.raises(DestinationError, match="not written by oligo-cohort"),
        staged_output(tmp_path / "out", "screen") as staging,
    ):
        (staging / "a.csv").write_text("x", encoding="utf-8")
    assert lock.read_text(encoding="utf-8") == "someone else's"
    assert not (tmp_path / "out").exists()


def test_a_second_claim_of_the_same_folder_is_refused_while_the_first_holds_it(tmp_path):
    first = OutputFolder(tmp_path / "out", "screen")
    with first:
        with (
            pytest.raises(DestinationError, match="another oligo-cohort run is writing"),
            OutputFolder(tmp_path / "out", "screen"),
        ):
            pass
        with first.staging() as staging:
            (staging / "a.csv").write_text("x", encoding="utf-8")
    with OutputFolder(tmp_path / "out", "screen") as again, again.staging() as staging:  # free again
        (staging / "b.csv").write_text("y", encoding="utf-8")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [MARKER, "b.csv"]
    assert leftovers(tmp_path) == []


def test_two_processes_writing_the_same_folder_never_mix_files(tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, OLIGO_COHORT_THREADS="1")
    runs = [
        ["screen", str(demo_extract_dir()), "--out", str(out), "--quiet"],
        ["screen", str(demo_extract_dir()), "--out", str(out), "--quiet", "--worklist"],
    ]
    command = [sys.executable, "-m", "oligo_cohort"]
    with Run([*command, *runs[0]], cwd=ROOT, env=env) as first, Run([*command, *runs[1]], cwd=ROOT, env=env) as second:
        results = [(code, "\n".join(lines)) for code, lines in (first.end(), second.end())]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results
    print("exit codes of the two runs:", codes)
    for code, err in results:
        assert "Traceback" not in err
        if code == 2:
            assert "another oligo-cohort run is writing this folder now" in err
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    names = {p.name for p in out.iterdir()}
    expected = {"patients.csv", "events.csv", "reasons.csv", "findings.csv", "manifest.json", MARKER}
    assert names == expected | ({"worklist.csv"} if manifest["worklist"] else set()), "one run's files, whole"
    assert leftovers(tmp_path) == []


# --- folders without a marker, or with one of an earlier version ------------------------------------------------


def test_an_output_without_its_marker_or_its_checksums_is_named_and_left_alone(tmp_path, screen_dir, capsys):
    """Nothing records what such a folder's files held: it is refused, saying what it looks like."""
    old_screen = tmp_path / "old-screen"
    shutil.copytree(screen_dir, old_screen)
    (old_screen / MARKER).unlink()
    before = fingerprint(old_screen)
    assert main(["screen", str(demo_extract_dir()), "--out", str(old_screen), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"looks like an earlier `screen` output of oligo-cohort, but has no {MARKER}" in err
    assert fingerprint(old_screen) == before

    old_attrition = tmp_path / "old-attrition"
    assert main(["attrition", str(screen_dir), "--out", str(old_attrition), "--no-figures"]) == 0
    marker = json.loads((old_attrition / MARKER).read_text(encoding="utf-8"))
    del marker["sha256"], marker["marker_format"]  # as an earlier version wrote it
    (old_attrition / MARKER).write_text(json.dumps(marker), encoding="utf-8")
    before = fingerprint(old_attrition)
    assert main(["attrition", str(screen_dir), "--out", str(old_attrition), "--no-figures"]) == 2
    assert "written by an earlier version of oligo-cohort, whose" in capsys.readouterr().err
    (old_attrition / MARKER).unlink()
    assert main(["attrition", str(screen_dir), "--out", str(old_attrition), "--no-figures"]) == 2
    assert "looks like an earlier `attrition` output" in capsys.readouterr().err
    assert fingerprint(old_attrition) == {k: v for k, v in before.items() if k != MARKER}
    # A screen folder is not an attrition folder, with or without markers.
    assert main(["attrition", str(screen_dir), "--out", str(old_screen), "--no-figures"]) == 2
    assert "is not an empty folder nor an earlier `attrition` output" in capsys.readouterr().err


def test_an_output_reached_through_a_symbolic_link_is_replaced_where_it_lies(tmp_path):
    real = tmp_path / "real"
    with staged_output(real, "screen") as staging:
        (staging / "a.csv").write_text("1\n", encoding="utf-8")
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    with staged_output(link, "screen") as staging:
        (staging / "a.csv").write_text("2\n", encoding="utf-8")
    assert link.is_symlink() and (real / "a.csv").read_text(encoding="utf-8") == "2\n"


# --- the last line of defence -------------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_is_one_line_exit_1_and_nothing_half_written(tmp_path, monkeypatch, capsys, debug):
    import oligo_cohort.outputs as outputs

    def broken(*args, **kwargs):
        raise ValueError("an internal inconsistency")

    monkeypatch.setattr(outputs, "write_csv", broken)
    if debug:
        monkeypatch.setenv("OLIGO_COHORT_DEBUG", "1")
    assert main(["screen", str(demo_extract_dir()), "--out", str(tmp_path / "new" / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "internal error (ValueError: an internal inconsistency). This is a bug" in err
    assert ("Traceback" in err) == debug
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_running_out_of_memory_is_a_message(tmp_path, monkeypatch, capsys):
    import oligo_cohort.api

    def exhausted(*args, **kwargs):
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block of size 256 KiB")

    monkeypatch.setattr(oligo_cohort.api, "load_extract", exhausted)
    assert main(["screen", str(demo_extract_dir()), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "out of memory" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """One folder for the generated examples (a numbered temporary folder per example gets slow)."""
    return tmp_path_factory.mktemp("examples")


def test_the_current_folder_is_never_replaced(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with staged_output(out, "screen") as staging:
        (staging / "a.csv").write_text("1\n", encoding="utf-8")
    monkeypatch.chdir(out)
    with pytest.raises(DestinationError, match="current folder"):
        OutputFolder(".", "screen").check()
    with pytest.raises(DestinationError, match="current folder"):
        OutputFolder(tmp_path, "screen").check()


def test_an_import_folder_without_its_marker_is_recognised_by_its_mapping_report_and_left_alone(tmp_path):
    """A marker-less import (mapping report with its header, table files) is named as such, and never replaced."""
    from oligo_cohort.destination.legacy import LEGACY_IMPORT_REPORT, LEGACY_IMPORT_REPORT_COLUMNS
    from oligo_cohort.importers.report import REPORT_COLUMNS, REPORT_CSV, REPORT_MD

    # The format of the past is today's: should the importer's report change, the legacy one must stay as it was.
    assert LEGACY_IMPORT_REPORT == (REPORT_CSV, REPORT_MD) and LEGACY_IMPORT_REPORT_COLUMNS == REPORT_COLUMNS
    old = tmp_path / "old-import"
    old.mkdir()
    (old / "mapping_report.csv").write_text(",".join(REPORT_COLUMNS) + "\n", encoding="utf-8")
    (old / "mapping_report.md").write_text("# Mapping report\n", encoding="utf-8")
    shutil.copy(demo_extract_dir() / "patients.csv", old / "patients.csv")
    assert dest.legacy_listing(old, "import") >= {"mapping_report.csv", "mapping_report.md", "patients.csv"}
    assert dest.legacy_listing(old, "screen") is None
    before = fingerprint(old)
    with (
        pytest.raises(
            DestinationError, match=f"looks like an earlier `import` output of oligo-cohort, but has no {MARKER}"
        ),
        staged_output(old, "import") as staging,
    ):
        (staging / "patients.csv").write_text("patient_id\n", encoding="utf-8")
    assert fingerprint(old) == before
    (old / "mapping_report.csv").write_text("another,header\n", encoding="utf-8")
    assert dest.legacy_listing(old, "import") is None
    with pytest.raises(DestinationError, match="is not an empty folder nor an earlier `import` output"):
        OutputFolder(old, "import").check()
