"""The same inputs give the same figure files, byte for byte, whichever command draws them.

Matplotlib salts an SVG file's ids at random and dates SVG and PDF files; every figure the tool writes goes
through `oligo_cohort.figure_files.write_figure`, which removes both. Checked on the commands that write
figures (attrition in every format, accrual, the report's bundle) run twice, and by a scan of the package that
holds every `savefig` call to that one place.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import oligo_cohort
from oligo_cohort.cli import main
from oligo_cohort.paths import demo_extract_dir

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def figure_files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.suffix in FIGURE_SUFFIXES
    }


@pytest.fixture(scope="module")
def screen_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("figures") / "screen"
    assert main(["screen", str(demo_extract_dir()), "--out", str(out), "--quiet"]) == 0
    return out


COMMANDS = {
    "attrition": lambda screen, out: ["attrition", str(screen), "--out", str(out), "--formats", "png,svg,pdf"],
    "accrual": lambda screen, out: [
        "accrual",
        str(screen),
        "--target",
        "20",
        "--start",
        "2027-01-01",
        "--out",
        str(out),
    ],
    "report": lambda screen, out: ["report", str(demo_extract_dir()), "--out", str(out), "--target", "20"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_command_run_twice_writes_the_same_figure_files(screen_dir, tmp_path, command, capsys):
    runs = []
    for run in ("first", "second"):
        out = tmp_path / run
        assert main([*COMMANDS[command](screen_dir, out), "--quiet"]) == 0, capsys.readouterr().err
        runs.append(figure_files(out))
    first, second = runs
    assert first, f"{command} wrote no figure"
    assert {suffix for name in first for suffix in FIGURE_SUFFIXES if name.endswith(suffix)} >= {".png", ".svg"}
    changed = [name for name in first if first[name] != second.get(name)]
    assert not changed and first.keys() == second.keys(), changed


def test_every_figure_is_written_through_the_one_writer():
    package = Path(oligo_cohort.__file__).parent
    callers = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "savefig":
                callers.append(f"{path.relative_to(package)}:{node.lineno}")
    assert {caller.split(":")[0] for caller in callers} == {"figure_files.py"}, callers
