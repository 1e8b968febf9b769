"""A link loop anywhere a command takes a path is refused by name (exit 2), never an internal error.

A symbolic link that leads back to itself resolves to nothing; every command resolves its input and output
paths before it reads or writes (`destination.placement.resolved`), and it is there that a loop is named. Each
case puts a loop in one path of one command line, the rest of which is valid.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oligo_cohort.cli import main
from oligo_cohort.paths import demo_extract_dir
from tests.safety.damaged_inputs import answered

DEMO = str(demo_extract_dir())

# Command lines with LOOP where the loop goes; OUT is a fresh destination, SCREEN a screen folder of the demo.
COMMAND_LINES = {
    "screen: the extract": ["screen", "LOOP", "--out", "OUT"],
    "screen: --out": ["screen", DEMO, "--out", "LOOP"],
    "screen: --out inside the loop": ["screen", DEMO, "--out", "LOOP/inside"],
    "screen: --problems": ["screen", DEMO, "--out", "OUT", "--problems", "LOOP"],
    "screen: --protocol": ["screen", DEMO, "--out", "OUT", "--protocol", "LOOP"],
    "validate: the extract": ["validate", "LOOP"],
    "validate: --problems": ["validate", DEMO, "--problems", "LOOP"],
    "dictionary: --out": ["dictionary", "--out", "LOOP"],
    "synth: --out": ["synth", "--patients", "5", "--sites", "2", "--out", "LOOP"],
    "attrition: the screen folder": ["attrition", "LOOP", "--out", "OUT", "--no-figures"],
    "attrition: --out": ["attrition", "SCREEN", "--out", "LOOP", "--no-figures"],
    "accrual: the screen folder": ["accrual", "LOOP", "--target", "5", "--start", "2027-01-01", "--out", "OUT"],
    "accrual: --sites": [
        "accrual",
        "SCREEN",
        "--target",
        "5",
        "--start",
        "2027-01-01",
        "--out",
        "OUT",
        "--sites",
        "LOOP",
    ],
    "report: the extract": ["report", "LOOP", "--out", "OUT"],
    "report: --out": ["report", DEMO, "--out", "LOOP"],
    "import nkr: the source": ["import", "nkr", "LOOP", "--out", "OUT"],
    "import omop: the source": ["import", "omop", "LOOP", "--out", "OUT"],
    "review export: the screen folder": ["review", "export", "LOOP", "--out", "OUT"],
    "review export: --out": ["review", "export", "SCREEN", "--out", "LOOP"],
    "review import: the answers": ["review", "import", "LOOP", "--extract", DEMO, "--out", "OUT"],
    "review import: --extract": ["review", "import", "ANSWERS", "--extract", "LOOP", "--out", "OUT"],
}


@pytest.fixture(scope="module")
def screen_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("loops") / "screen"
    assert main(["screen", DEMO, "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.parametrize("case", sorted(COMMAND_LINES))
def test_a_link_loop_is_named(tmp_path, screen_dir, case):
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "back")
    (tmp_path / "back").symlink_to(loop)
    answers = tmp_path / "review.csv"
    answers.write_text("patient_id,item,answer\n", encoding="utf-8")
    out = tmp_path / "out" / "result"
    out.parent.mkdir()
    places = {"LOOP": str(loop), "OUT": str(out), "SCREEN": str(screen_dir), "ANSWERS": str(answers)}
    argv = [places.get(word, word.replace("LOOP", str(loop))) for word in COMMAND_LINES[case]]
    answer = answered([*argv, "--quiet"], inputs=[screen_dir, answers], out=out)
    assert answer.code == 2, answer.err
    assert "link loop" in answer.err and str(loop) in answer.err, answer.err
