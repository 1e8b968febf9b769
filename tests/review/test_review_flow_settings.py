"""The review stage compares two screens only when every setting that changes outcomes is the same, and its flow
and its transitions are one count of the same patients.

Each refused setting is tested with a pair of screen folders that differ in that setting alone: the screen after
review copied and its manifest.json changed (and, for the patients, one patient taken out of its files).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from oligo_cohort.api import read_screen_dir, screen
from oligo_cohort.cli import main
from oligo_cohort.errors import UsageError
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.review.export import export_review, write_review_csv
from oligo_cohort.review.flow import review_flow, review_flow_of, review_flow_of_extracts
from oligo_cohort.review.importer import import_answers
from oligo_cohort.review.simulate import fill_answers
from oligo_cohort.worklist import WORKLIST_COLUMNS
from tests.spec.baseline import AS_OF as CASE_AS_OF
from tests.spec.harness import baseline_with, build_case

AS_OF = "2025-03-31"
REFUSED = {("00217", "medical_risk"): "yes", ("20031", "informed_consent"): "no"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The demo screened before review and its reviewed extract screened after, both at AS_OF, not in worklist
    mode; `base / "reviewed"` is the reviewed extract."""
    base = tmp_path_factory.mktemp("settings")
    screen(demo_extract_dir(), as_of=AS_OF).write(base / "before")
    rows = export_review(base / "before", base / "review").rows
    write_review_csv(fill_answers(rows, answered_by="K. Smit", overrides=REFUSED), base / "a.csv")
    import_answers([base / "a.csv"], demo_extract_dir(), base / "reviewed", today=dt.date(2025, 6, 1))
    screen(base / "reviewed", as_of=AS_OF).write(base / "after")
    return base


def with_manifest(folder: Path, out: Path, **changes: object) -> Path:
    """A copy of a screen folder whose manifest.json has `changes` (parameters: merged into the recorded ones)."""
    shutil.copytree(folder, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if key == "parameters":
            manifest["parameters"].update(value)
        else:
            manifest[key] = value
    if changes.get("worklist"):  # a folder in worklist mode has its worklist; empty here, as if every patient died
        (out / "worklist.csv").write_text(",".join(WORKLIST_COLUMNS) + "\n", encoding="utf-8")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return out


def without_patient(folder: Path, out: Path, patient_id: str) -> Path:
    """A copy of a screen folder with one patient taken out of every file (and the manifest's row and status counts)."""
    shutil.copytree(folder, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for name in ("patients", "events", "reasons"):  # findings.csv names records, not patients
        path = out / f"{name}.csv"
        with path.open(encoding="utf-8", newline="") as file:
            rows = list(csv.reader(file))
        column = rows[0].index("patient_id")
        kept = [rows[0], *(row for row in rows[1:] if row[column] != patient_id)]
        with path.open("w", encoding="utf-8", newline="") as file:
            csv.writer(file, lineterminator="\n").writerows(kept)
        manifest["rows"][name] = len(kept) - 1
        if name == "patients":  # the manifest's counts by status are checked against patients.csv too
            status = rows[0].index("status")
            gone = next(row[status] for row in rows[1:] if row[column] == patient_id)
            manifest["status"][gone] -= 1
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return out


def refusal(before: Path, after: Path) -> str:
    with pytest.raises(UsageError) as raised:
        review_flow_of(before, after)
    return str(raised.value)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"worklist": True}, ["worklist mode", "off before review", "on after review", "without --worklist"]),
        ({"as_of": "2025-04-30"}, ["cut-off", "2025-03-31 before review", "2025-04-30 after review", "--as-of"]),
        (
            {"parameters": {"size_floor_mm": 10.0}},
            ["protocol parameter size_floor_mm", "15.0 before review", "10.0 after review"],
        ),
        (
            {"parameters": {"imaging_window_latest_days": 70, "reference": "nadir"}},
            [
                "protocol parameter imaging_window_latest_days: 52 before review, 70 after review",
                "protocol parameter reference: line_start before review, nadir after review",
            ],
        ),
    ],
    ids=["worklist", "cut-off", "one parameter", "two parameters"],
)
def test_a_setting_that_changes_outcomes_must_be_the_same(pair, tmp_path, changes, expected):
    after = with_manifest(pair / "after", tmp_path / "after", **changes)
    message = refusal(pair / "before", after)
    for words in expected:
        assert words in message, (words, message)
    # And the other way round: the values swap sides.
    before = with_manifest(pair / "before", tmp_path / "before", **changes)
    assert "before review" in refusal(before, pair / "after")


def test_the_patients_must_be_the_same(pair, tmp_path):
    after = without_patient(pair / "after", tmp_path / "after", "00217")
    message = refusal(pair / "before", after)
    assert "patients: 34 before review, 33 after review" in message
    assert "1 only before review (00217)" in message


def test_every_setting_that_differs_is_named_at_once(pair, tmp_path):
    after = with_manifest(pair / "after", tmp_path / "after", worklist=True, as_of="2025-04-30")
    message = refusal(pair / "before", after)
    assert "worklist mode" in message and "cut-off" in message


def test_engine_protocol_name_and_explain_mode_may_differ(pair, tmp_path):
    """Neither changes an outcome: the engines give the same result, a protocol's name and version are labels of its
    parameters, and the explain mode changes only reasons.csv, which the comparison does not read."""
    expected = review_flow_of(pair / "before", pair / "after")
    relabelled = with_manifest(
        pair / "after",
        tmp_path / "relabelled",
        engine="pandas",
        protocol={"name": "cosmo-copy", "version": "site copy", "source": "cosmo-copy.yaml"},
    )
    pd.testing.assert_frame_equal(review_flow_of(pair / "before", relabelled).flow, expected.flow)
    other_engine = screen(pair / "reviewed", as_of=AS_OF, engine="pandas", explain="all-events")
    flow = review_flow(read_screen_dir(pair / "before"), other_engine, None)
    assert flow.count("review_excluded") == expected.count("review_excluded") == 2
    pd.testing.assert_frame_equal(flow.transitions, expected.transitions)


@pytest.mark.parametrize("worklist_side", ["after", "before"])
def test_attrition_refuses_a_worklist_screen_beside_one_that_is_not(pair, tmp_path, capsys, worklist_side):
    """The reproduction: one side screened with --worklist. Refused, exit 2, nothing written."""
    screens = {
        "before": (demo_extract_dir(), tmp_path / "before"),
        "after": (pair / "reviewed", tmp_path / "after"),
    }
    for side, (extract, out) in screens.items():
        worklist = ["--worklist"] if side == worklist_side else []
        assert main(["-q", "screen", str(extract), "--out", str(out), "--as-of", AS_OF, *worklist]) == 0
    capsys.readouterr()
    out = tmp_path / "attrition"
    code = main(
        ["attrition", str(tmp_path / "before"), "--out", str(out), "--after-review", str(tmp_path / "after"),
         "--no-figures"]
    )  # fmt: skip
    error = capsys.readouterr().err
    assert code == 2 and "worklist mode" in error
    assert ("on after review" if worklist_side == "after" else "on before review") in error
    assert not out.exists()


def test_the_report_screens_the_reviewed_extract_in_the_first_screens_mode(pair):
    """`report --after-review` screens the reviewed extract itself: with the first screen's cut-off, protocol and
    worklist mode, so that the two always compare."""
    before = screen(demo_extract_dir(), as_of=AS_OF, worklist=True)
    flow = review_flow_of_extracts(before, pair / "reviewed", engine="duckdb")
    assert_flow_agrees_with_transitions(flow)
    transitions = flow.transitions.set_index(["status_before", "status_after"])["patients"]
    # Screened without --worklist, closed windows would pass again: ineligible -> eligible or unknown.
    assert transitions["ineligible"].drop("ineligible").sum() == 0
    assert flow.count("registry") == 34 and flow.count("readmitted") == 0


def assert_flow_agrees_with_transitions(flow) -> None:
    """Every box of the flow that counts statuses is a sum of cells of the transitions table."""
    t = flow.transitions.set_index(["status_before", "status_after"])["patients"]
    before = t.index.get_level_values("status_before")
    after = t.index.get_level_values("status_after")
    candidate = before != "ineligible"
    assert flow.count("registry") == t.sum()
    assert flow.count("registry_excluded") == t[~candidate].sum()
    assert flow.count("candidates") == t[candidate].sum()
    assert flow.count("review_excluded") == t[candidate & (after == "ineligible")].sum()
    assert flow.count("readmitted") == t[~candidate & (after != "ineligible")].sum()
    assert flow.count("eligible") == t[after == "eligible"].sum()
    assert flow.count("unknown") == t[after == "unknown"].sum()
    assert flow.count("eligible") == flow.count("confirmed") + flow.count("review_open")
    left = flow.count("review_excluded") + flow.count("eligible") + flow.count("unknown")
    assert left == flow.count("candidates") + flow.count("readmitted")


def test_the_flow_and_the_transitions_agree(pair):
    assert_flow_agrees_with_transitions(review_flow_of(pair / "before", pair / "after"))


def test_a_patient_no_longer_excluded_after_review_is_in_the_flow_as_in_the_transitions():
    """A registry exclusion that a later record undoes (a medical risk recorded, then judged absent): the patient
    goes from ineligible to eligible in the transitions, and the flow counts them, readmitted and eligible."""
    risky = baseline_with("observations", "code | start_date | value\nmedical_risk | 2023-03-02 | true")
    before = screen(build_case(observations=risky).source(), as_of=CASE_AS_OF)
    cleared = pd.concat(
        [risky, pd.DataFrame([{"code": "medical_risk", "start_date": "2023-03-09", "value": "false"}])],
        ignore_index=True,
    )
    after = screen(build_case(observations=cleared).source(), as_of=CASE_AS_OF)
    assert before.patients["status"].tolist() == ["ineligible"] and after.patients["status"].tolist() == ["eligible"]
    flow = review_flow(before, after, None)
    assert_flow_agrees_with_transitions(flow)
    assert flow.count("readmitted") == 1 and flow.count("eligible") == 1 and flow.count("candidates") == 0
