"""The command line end to end, as a new user runs it: demo, screen, worklist, outputs, manifest."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from oligo_cohort.api import read_screen_dir
from oligo_cohort.cli import main
from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.results import EVENT_COLUMNS, PATIENT_COLUMNS, REASON_COLUMNS
from oligo_cohort.worklist import WORKLIST_COLUMNS

OUTCOMES = {"pass", "fail", "unknown", "review"}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "demo-output"
    assert main(["demo", "--out", str(out)]) == 0
    return out


def test_demo_writes_every_output_with_the_contract_columns(demo_output):
    assert header(demo_output / "patients.csv") == list(PATIENT_COLUMNS)
    assert header(demo_output / "events.csv") == list(EVENT_COLUMNS)
    assert header(demo_output / "reasons.csv") == list(REASON_COLUMNS)
    patients = read_csv(demo_output / "patients.csv")
    events = read_csv(demo_output / "events.csv")
    reasons = read_csv(demo_output / "reasons.csv")
    assert patients and events
    assert {p["status"] for p in patients} <= {"eligible", "ineligible", "unknown"}
    assert all(p[c] in OUTCOMES for p in patients for c in CRITERION_IDS)
    # One reasons row per patient and criterion, each with a sentence.
    assert len(reasons) == len(patients) * len(CRITERION_IDS)
    assert all(r["reason"].strip() for r in reasons)
    # The patient's event is the best event of events.csv.
    best = {(e["patient_id"], e["event_id"]) for e in events if e["is_best_event"] == "true"}
    assert best == {(p["patient_id"], p["event_id"]) for p in patients if p["event_id"]}


def test_status_follows_the_outcomes(demo_output):
    for row in read_csv(demo_output / "patients.csv"):
        outcomes = {row[c] for c in CRITERION_IDS}
        expected = "ineligible" if "fail" in outcomes else "unknown" if "unknown" in outcomes else "eligible"
        assert row["status"] == expected, row["patient_id"]


def test_manifest_and_read_back(demo_output):
    manifest = json.loads((demo_output / "manifest.json").read_text())
    assert manifest["protocol"]["name"] == "cosmo"
    assert manifest["parameters"]["registration_days"] == 49
    assert manifest["rows"]["patients"] == len(read_csv(demo_output / "patients.csv"))
    assert all(len(digest) == 64 for digest in manifest["input_files"].values())
    result = read_screen_dir(demo_output)
    relation = result.query("patients")  # the text the CSV file holds
    assert [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()] == [
        {k: (v if v != "" else None) for k, v in row.items()} for row in read_csv(demo_output / "patients.csv")
    ]


def test_worklist_mode_lists_open_windows_with_deadlines(tmp_path, capsys):
    out = tmp_path / "worklist"
    assert main(["screen", str(demo_extract_dir()), "--out", str(out), "--worklist"]) == 0
    assert header(out / "worklist.csv") == list(WORKLIST_COLUMNS)
    rows = read_csv(out / "worklist.csv")
    manifest = json.loads((out / "manifest.json").read_text())
    # The summary says the counts are a worklist screen's, and how many patients a site can still register.
    printed = capsys.readouterr().out
    assert "; worklist mode (closed registration windows fail)" in printed
    sites = len({row["site_id"] for row in rows})
    assert f"Worklist at the cut-off {manifest['as_of']}: {len(rows)} patients at {sites} sites can" in printed
    assert rows, "the demo extract has patients whose window is open at its cut-off"
    for row in rows:
        assert row["status"] != "ineligible"
        assert int(row["days_left"]) >= 0
        assert row["registration_from"] <= row["registration_deadline"]
        assert row["registration_deadline"] >= manifest["as_of"]


@pytest.mark.parametrize("as_of", [None, "2024-06-01", "2024-06-13", "2024-06-14", "2025-12-31"])
def test_a_worklist_screen_says_how_many_can_still_be_registered_and_the_nearest_deadline(tmp_path, capsys, as_of):
    out = tmp_path / "worklist"
    cut_off = ["--as-of", as_of] if as_of else []
    assert main(["-q", "screen", str(demo_extract_dir()), "--out", str(out), "--worklist", *cut_off]) == 0
    printed = capsys.readouterr().out
    rows = read_csv(out / "worklist.csv")
    as_of = json.loads((out / "manifest.json").read_text())["as_of"]
    assert f"cut-off {as_of}; engine duckdb; worklist mode (closed registration windows fail)" in printed
    if not rows:
        assert (
            f"Worklist at the cut-off {as_of}: no patient's registration window is open ({out / 'worklist.csv'}"
            in printed
        )
        return
    patients, sites = len(rows), len({row["site_id"] for row in rows})
    first = rows[0]  # soonest deadline first
    who = f"{patients} patient{'s' if patients != 1 else ''} at {sites} site{'s' if sites != 1 else ''}"
    days = int(first["days_left"])
    assert (
        f"Worklist at the cut-off {as_of}: {who} can still be registered; the nearest deadline "
        f"{first['registration_deadline']} ({days} day{'s' if days != 1 else ''} left). Every one, soonest deadline "
        f"first, in {out / 'worklist.csv'}."
    ) in printed


def test_a_screen_of_the_registry_history_says_nothing_of_a_worklist(tmp_path, capsys):
    assert main(["-q", "screen", str(demo_extract_dir()), "--out", str(tmp_path / "screen")]) == 0
    printed = capsys.readouterr().out
    assert "worklist" not in printed.lower()


def test_screen_refuses_to_overwrite_a_folder_that_is_not_a_result(tmp_path, capsys):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main(["screen", str(demo_extract_dir()), "--out", str(out)]) == 2
    assert "not an empty folder nor an earlier `screen` output" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "keep me"


def test_parquet_twins_and_protocol_override(tmp_path):
    out = tmp_path / "o"
    code = main(["screen", str(demo_extract_dir()), "--out", str(out), "--parquet", "--set", "size_floor_mm=10"])
    assert code == 0
    assert (out / "patients.parquet").is_file() and (out / "reasons.parquet").is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["size_floor_mm"] == 10
    assert "size_floor_mm=10" in manifest["protocol"]["version"]


def test_unknown_protocol_parameter_is_a_usage_error(tmp_path, capsys):
    code = main(["screen", str(demo_extract_dir()), "--out", str(tmp_path / "o"), "--set", "floor=3"])
    assert code == 2
    assert "unknown protocol parameter 'floor'" in capsys.readouterr().err


MISTYPED = [
    (["scren", "{demo}", "--out", "{out}"], "oligo-cohort: error: argument COMMAND: invalid choice: 'scren'; did you mean 'screen'?"),
    (["screen", "{demo}", "--out", "{out}", "--worklst"], "oligo-cohort screen: error: unrecognized arguments: --worklst; did you mean '--worklist'?"),
    (["screen", "{demo}", "--out", "{out}", "--as_of", "2024-06-30"], "oligo-cohort screen: error: unrecognized arguments: --as_of 2024-06-30; did you mean '--as-of'?"),
    (["screen", "{demo}", "--out", "{out}", "--engine", "DuckDB"], "oligo-cohort screen: error: argument --engine: invalid choice: 'DuckDB'; did you mean 'duckdb'?"),
    (["screen", "{demo}", "--out", "{out}", "--engine", "polars"], "oligo-cohort screen: error: argument --engine: invalid choice: 'polars' (choose from 'duckdb', 'pandas', 'spark')"),
    (["review", "exprt", "{out}", "--out", "{out}"], "oligo-cohort review: error: argument STEP: invalid choice: 'exprt'; did you mean 'export'?"),
    (["review", "export", "{out}", "--out", "{out}", "--sites", "A"], "oligo-cohort review export: error: unrecognized arguments: --sites A; did you mean '--site'?"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "said"), MISTYPED)
def test_a_typo_is_named_by_its_command_with_the_closest_word(tmp_path, capsys, argv, said):
    """A typo is refused by the command it was typed for (not by `oligo-cohort`, whose usage showed no such option)
    with the closest word it knows, and nothing is written."""
    words = [w.format(demo=demo_extract_dir(), out=tmp_path / "out") for w in argv]
    with pytest.raises(SystemExit) as stopped:
        main(words)
    assert stopped.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(said), last
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["omop", "cdm", "--gap-days", "-5"], "argument --gap-days: -5 is not a number of days from 0 to 3650"),
        (["omop", "cdm", "--gap-days", "x"], "argument --gap-days: 'x' is not a whole number of days"),
        (["nkr", "nkr.csv", "--gap-days", "30"], "--gap-days applies to `import omop` only"),
        (["omop", "cdm", "--items", "items.yaml"], "--items applies to `import nkr` only"),
    ],
)
def test_an_import_option_of_the_other_model_or_out_of_range_is_refused(tmp_path, capsys, argv, said):
    """`--gap-days` for an NKR file was ignored without a word, and a negative gap taken; each is refused before the
    source is read (it need not exist) and nothing is written."""
    out = tmp_path / "extract"
    try:
        code = main(["import", *argv, "--out", str(out)])
    except SystemExit as stopped:  # argparse refuses a value of the wrong type
        code = stopped.code
    assert code == 2
    assert said in capsys.readouterr().err
    assert not out.exists()


def test_a_refused_destination_reads_as_a_sentence(tmp_path, capsys, demo_output):
    """The refusals of `--out` and `--problems` read right: "this is an `attrition` output" (not "a `attrition`"),
    and a user's file "is not a problems file ... (one whose first line is a problems header)", where "(its first
    line is a problems header)" said the opposite of what was found."""
    other = tmp_path / "screen"
    shutil.copytree(demo_output, other)  # an earlier `screen` output, as the tool wrote it
    assert main(["accrual", str(demo_output), "--target", "5", "--start", "2025-06-01", "--out", str(other)]) == 2
    assert "; this is an `accrual` output. Choose another folder" in capsys.readouterr().err
    notes = tmp_path / "notes.csv"
    notes.write_text("patient_id,note\n00217,call back\n", encoding="utf-8")
    assert main(["validate", str(demo_extract_dir()), "--problems", str(notes)]) == 2
    assert (
        f"--problems {notes} exists and is not a problems file written by oligo-cohort (one whose first line is a "
        "problems header); it is left alone" in capsys.readouterr().err
    )
    assert notes.read_text(encoding="utf-8") == "patient_id,note\n00217,call back\n"


def test_installed_command_runs(tmp_path):
    """The console script a user types, in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-m", "oligo_cohort", "screen", str(demo_extract_dir()), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "patients:" in done.stdout


def test_counts_of_one_read_in_the_singular(tmp_path, capsys):
    """A one-patient extract is validated as "patients 1 row" and screened as "1 patient: ...", not "1 rows"."""
    extract = tmp_path / "one"
    assert main(["synth", "--patients", "1", "--sites", "1", "--format", "csv", "--out", str(extract), "-q"]) == 0
    assert main(["validate", str(extract), "-q"]) == 0
    assert re.search(r"^  patients +1 row$", capsys.readouterr().out, re.MULTILINE)
    assert main(["screen", str(extract), "--out", str(tmp_path / "screen"), "-q"]) == 0
    assert "\n1 patient: " in capsys.readouterr().out


@pytest.mark.parametrize("problems", [False, True])
def test_a_failed_run_does_not_deny_the_problems_file_it_wrote(tmp_path, capsys, problems):
    """A fatal extract ended "wrote every problem to FILE" then "No output was written": the last line now says
    nothing else was written, and says "no output" only when no file was."""
    (tmp_path / "extract").mkdir()
    listed = tmp_path / "problems.csv"
    argv = ["validate", str(tmp_path / "extract"), *(["--problems", str(listed)] if problems else [])]
    assert main(argv) == 2
    last = capsys.readouterr().err.strip().splitlines()[-2:]
    if problems:
        assert last == [f"wrote every problem to {listed}", "Nothing else was written. Fix the extract and run again."]
        assert listed.read_text(encoding="utf-8").startswith("severity,table,column,row,record_id,value,message\n")
    else:
        assert last[-1] == "No output was written. Fix the extract and run again."
        assert not listed.exists()
