"""`oligo-cohort attrition` and `oligo-cohort report`: files written, disclosure stated, no patient rows shared."""

from __future__ import annotations

import argparse
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from oligo_cohort.attrition import command, report_command
from oligo_cohort.attrition.bundle import PATIENT_LEVEL_FILES
from oligo_cohort.attrition.feasibility import write_feasibility_report
from oligo_cohort.attrition.views import Options
from oligo_cohort.destination import MARKER
from oligo_cohort.disclosure import round_count
from oligo_cohort.errors import UsageError
from tests.attrition.test_attrition_fixtures import demo_expected_patients, random_patients, write_screen_dir


def parse(module, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.configure(parser)
    return parser.parse_args(argv)


@pytest.fixture(scope="module")
def screen_dir(tmp_path_factory) -> Path:
    return write_screen_dir(tmp_path_factory.mktemp("screen") / "screen", random_patients(3_000, seed=31))


def test_attrition_writes_controlled_tables_figures_and_a_statement(screen_dir, tmp_path, capsys):
    out = tmp_path / "attrition"
    args = parse(command, [str(screen_dir), "--out", str(out), "--by", "site", "--formats", "svg"])
    assert command.run(args) == 0
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != MARKER}
    for name in ("attrition.csv", "impact.csv", "status.csv", "exclusion_combinations.csv", "attrition_by_site.csv"):
        assert name in written
    for stem in ("consort", "attrition_bars", "upset", *(f"consort_site_{site}" for site in ("AVL", "MST", "UMCU"))):
        assert f"figures/{stem}.svg" in written
    assert not written & set(PATIENT_LEVEL_FILES)
    statement = json.loads((out / "disclosure.json").read_text())
    assert statement["disclosure_control"] is True
    assert set(statement["files"]) == written - {"disclosure.json", "disclosure.md"}
    table = pd.read_csv(out / "attrition.csv")
    for column in ("remaining", "remaining_if_unknown_fail"):
        assert not table[column].between(1, 7).any() and (table[column] % 5 == 0).all()
    # Excluded = difference of the controlled remaining counts: the table adds up as printed.
    assert (table["remaining"].shift(1).fillna(table["remaining"]) - table["excluded"] == table["remaining"]).all()
    assert table["remaining"].iloc[0] == 3_000
    settings = json.loads((out / "settings.json").read_text())
    assert settings["protocol"]["name"] == "cosmo" and settings["attrition"]["breakdowns"] == ["site"]
    assert "All patients" in capsys.readouterr().out


def test_attrition_without_disclosure_control_gives_exact_counts_in_the_chosen_order(screen_dir, tmp_path):
    out = tmp_path / "exact"
    order = "inc_age_18,inc_who_ps_0_1"
    args = parse(
        command,
        [str(screen_dir), "--out", str(out), "--order", order, "--no-disclosure-control", "--no-figures"],
    )
    assert command.run(args) == 0
    table = pd.read_csv(out / "attrition.csv", keep_default_na=False)
    # Step 1 is the root cause, patients without a candidate event (docs/attrition.md A14); then the order asked.
    assert table["criterion"].tolist()[1:4] == ["no_candidate_event", *order.split(",")]
    patients = pd.read_csv(screen_dir / "patients.csv", dtype=str)
    assert table["excluded"].iloc[1] == patients["event_id"].isna().sum()
    with_event = patients[patients["event_id"].notna()]
    assert table["excluded"].iloc[2] == (with_event["inc_age_18"] == "fail").sum()
    assert (
        table["remaining"].iloc[:-1].to_numpy() - table["excluded"].iloc[1:].to_numpy() == table["remaining"].iloc[1:]
    ).all()
    assert "NOT applied" in (out / "disclosure.md").read_text()


def test_event_level_and_year_breakdown(screen_dir, tmp_path):
    out = tmp_path / "events"
    args = parse(command, [str(screen_dir), "--out", str(out), "--level", "events", "--by", "year", "--no-figures"])
    assert command.run(args) == 0
    by_year = pd.read_csv(out / "attrition_by_year.csv", dtype={"year": str})
    assert set(by_year["year"]) <= {"2023", "2024", "no event"}
    assert pd.read_csv(out / "attrition.csv")["label"].iloc[0] == "All candidate events"
    assert not (out / "figures").exists()


def test_user_errors_are_usage_errors_and_leave_nothing_behind(screen_dir, tmp_path):
    out = tmp_path / "bad"
    with pytest.raises(UsageError, match="inc_nonsense"):
        command.run(parse(command, [str(screen_dir), "--out", str(out), "--order", "inc_nonsense"]))
    with pytest.raises(UsageError, match="formats"):
        command.run(parse(command, [str(screen_dir), "--out", str(out), "--formats", "gif"]))
    assert not out.exists()
    assert not list(tmp_path.glob(".bad*")), "no temporary folder left behind"
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not an empty folder"):
        command.run(parse(command, [str(screen_dir), "--out", str(mine), "--no-figures"]))
    assert (mine / "notes.txt").read_text() == "keep me"


def test_report_command_options_parse():
    args = parse(
        report_command,
        [
            "extract",
            "--out",
            "o",
            "--compare-protocol",
            "cosmo-earlier-amendment",
            "--review-pass-rate",
            "inc_lat_amenable=0.6",
        ],
    )
    # Control is decided per run: on, except for the synthetic demo (None = automatic).
    assert args.compare_protocol == "cosmo-earlier-amendment" and args.disclosure_control is None
    assert args.review_pass_rates == ["inc_lat_amenable=0.6"]


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    from oligo_cohort.api import read_screen_dir

    folder = tmp_path_factory.mktemp("report")
    screen = write_screen_dir(folder / "screen-in", demo_expected_patients())
    result = read_screen_dir(screen)
    options = Options(by=("site", "year"), review_pass_rates={"inc_lat_amenable": 0.6})
    return write_feasibility_report(
        result, folder / "report", options=options, compare_result=read_screen_dir(screen), formats=("svg",)
    )


def test_report_bundle_is_aggregates_only_and_zipped(report_dir):
    bundle = report_dir / "shareable"
    names = {p.name for p in bundle.rglob("*")}
    assert not names & set(PATIENT_LEVEL_FILES)
    assert {"report.html", "settings.json", "disclosure.md", "disclosure.json"} <= names
    with zipfile.ZipFile(report_dir / "shareable.zip") as archive:
        zipped = {Path(n).name for n in archive.namelist()}
    assert not zipped & set(PATIENT_LEVEL_FILES) and "report.html" in zipped
    # The patient-level result sits beside the bundle, named as internal.
    assert (report_dir / "screen" / "patients.csv").is_file()
    assert "keep it inside the institution" in (report_dir / "README.txt").read_text()


def test_report_html_is_self_contained_and_states_its_assumptions(report_dir):
    page = (report_dir / "shareable" / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 4  # CONSORT, bars, UpSet, CONSORT by site
    assert not re.search(r"<(script|link|img)\b[^>]*(src|href)=\"https?:", page)
    for text in (
        "Disclosure control applied",
        "2025-03-31",
        "Shapley",
        "assumed pass rates",
        "size_floor_mm",
        "What-if",
        "Breakdown by site and year",
        "Criteria that need chart review",
    ):
        assert text in page, text
    # With disclosure control the demo's small counts appear only as 0 or multiples of 5.
    table = pd.read_csv(report_dir / "shareable" / "tables" / "attrition_patients.csv")
    assert table["remaining"].iloc[0] == 35  # 34 patients, rounded


def test_demo_screen_attrition_ties_to_the_status_counts(tmp_path):
    """On a real screen of the bundled demo, the last step's bounds are the unknown + eligible and eligible counts."""
    from oligo_cohort.api import screen
    from oligo_cohort.attrition import attrition_table, histogram_of_result
    from oligo_cohort.paths import demo_extract_dir

    result = screen(demo_extract_dir())
    counts = result.counts()
    table = attrition_table(histogram_of_result(result))
    assert table["remaining"].iloc[0] == sum(counts.values())
    assert table["remaining"].iloc[-1] == counts.get("eligible", 0) + counts.get("unknown", 0)
    assert table["remaining_if_unknown_fail"].iloc[-1] == counts.get("eligible", 0)
    events = attrition_table(histogram_of_result(result, level="events"))
    assert events["remaining"].iloc[0] == len(result.events)
    result.write(tmp_path / "screen")
    # The demo is synthetic: exact counts by default, controlled when asked for.
    out = tmp_path / "attrition"
    assert command.run(parse(command, [str(tmp_path / "screen"), "--out", str(out), "--no-figures"])) == 0
    assert pd.read_csv(out / "attrition.csv")["remaining"].tolist() == table["remaining"].tolist()
    assert json.loads((out / "disclosure.json").read_text())["mode"] == "synthetic"
    forced = tmp_path / "forced"
    argv = [str(tmp_path / "screen"), "--out", str(forced), "--no-figures", "--disclosure-control"]
    assert command.run(parse(command, argv)) == 0
    written = pd.read_csv(forced / "attrition.csv")
    assert written["remaining"].tolist() == [round_count(n) for n in table["remaining"]]


@pytest.mark.parametrize("worklist", [True, False])
def test_attrition_of_a_worklist_screen_says_so_wherever_its_counts_go(tmp_path, capsys, worklist):
    # In worklist mode a closed registration window fails inc_imaging_window: the chart counts who can still be
    # registered, which a reader of the bundle must not take for the registry's history.
    from oligo_cohort.cli import main
    from oligo_cohort.paths import demo_extract_dir

    screened, out = tmp_path / "screen", tmp_path / "attrition"
    mode = ["--worklist"] if worklist else []
    assert main(["-q", "screen", str(demo_extract_dir()), "--out", str(screened), "--as-of", "2024-06-01", *mode]) == 0
    capsys.readouterr()
    assert command.run(parse(command, [str(screened), "--out", str(out), "--formats", "svg"])) == 0
    printed = capsys.readouterr().out
    said = "Screened in worklist mode at the cut-off 2024-06-01"
    assert (said in printed) is worklist
    assert printed.index(said) < printed.index("All patients") if worklist else True
    assert (said in (out / "disclosure.md").read_text(encoding="utf-8")) is worklist
    assert json.loads((out / "settings.json").read_text())["worklist_mode"] is worklist
    for figure in ("consort", "attrition_bars", "upset"):
        svg = (out / "figures" / f"{figure}.svg").read_text(encoding="utf-8")
        assert ("Worklist mode, cut-off 2024-06-01" in svg) is worklist, figure
