"""`oligo-cohort accrual`: from a screen folder to rates, forecasts, sites needed, figures and assumptions."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oligo_cohort.accrual import Assumptions, build_report
from oligo_cohort.accrual import command as accrual_command
from oligo_cohort.accrual.rates import load_screening
from oligo_cohort.accrual.report import output_tables
from oligo_cohort.accrual.sites_file import parse_sites, read_sites_file
from oligo_cohort.errors import UsageError
from tests.accrual.test_accrual_rates import synthetic_patients, write_screen_dir

START = dt.date(2025, 1, 1)
SITE_RATES = {"AVL": 1.2, "UMCU": 0.8, "MST": 0.4, "EMC": 0.9, "LUMC": 0.3, "RUMC": 0.6}
SITES_CSV = """site_id,activation_date,planned_rate
AVL,2024-06-01,0.5
UMCU,2025-03-01,0.3
EMC,2025-07-01,
NEWHOSP,2026-01-01,0.2
"""


@pytest.fixture(scope="module")
def screen_dir(tmp_path_factory) -> Path:
    patients = synthetic_patients(SITE_RATES, "2021-01-01", 48, seed=3)
    return write_screen_dir(tmp_path_factory.mktemp("accrual") / "screen", patients)


@pytest.fixture(scope="module")
def result(screen_dir):
    return load_screening(screen_dir)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="oligo-cohort accrual")
    accrual_command.configure(parser)
    return parser.parse_args(argv)


@pytest.fixture(scope="module")
def exact_report(result):
    return build_report(result, target=30, start=START, assumptions=Assumptions(disclosure_control=False))


def test_forecast_rows_are_consistent(exact_report):
    forecast = exact_report.forecast.set_index("scenario")
    assert list(forecast.index) == ["eligible", "eligible_or_unknown"]
    for row in forecast.itertuples():
        assert row.time_to_target_lower_months < row.time_to_target_median_months < row.time_to_target_upper_months
        assert row.count_by_end_lower <= row.count_by_end_median <= row.count_by_end_upper
        assert 0 <= row.probability_target_within_duration <= 1
        assert row.sites == len(SITE_RATES)
    # Counting unknown patients too can only speed accrual up.
    assert (
        forecast.loc["eligible_or_unknown", "time_to_target_median_months"]
        < forecast.loc["eligible", "time_to_target_median_months"]
    )
    assert forecast.loc["eligible", "date_median"] > "2025"


def test_registry_rates_match_the_patients(exact_report, result):
    rates = output_tables(exact_report)["site_rates"].set_index("site_id")
    eligible = result.patients[result.patients["status"] == "eligible"].groupby("site_id").size()
    assert rates["eligible"].to_dict() == eligible.reindex(rates.index, fill_value=0).to_dict()
    assert rates.loc["AVL", "eligible_per_year"] == pytest.approx(
        rates.loc["AVL", "eligible"] / rates.loc["AVL", "exposure_months"] * 12
    )
    # Expected enrolments per year after review (61 %) and consent (50 %) are below the eligible rate.
    assert (rates["eligible_enrolled_per_year_expected"] < rates["eligible_per_year"]).all()


def test_sites_needed_rise_to_the_certainty(exact_report):
    needed = exact_report.needed[exact_report.needed["scenario"] == "eligible"]
    candidates = needed[needed["new_centres"] == 0]
    assert list(candidates["sites"]) == list(range(1, len(SITE_RATES) + 1))
    assert np.all(np.diff(candidates["probability_within_duration"]) >= 0)
    assert np.all(np.diff(candidates["time_to_target_median_months"]) <= 1e-9)
    assert needed["reaches_certainty"].iloc[-1]
    assert needed["probability_within_duration"].iloc[-1] >= 0.95


def test_a_sites_file_opens_sites_late_and_adds_a_new_one(result):
    sites = parse_sites(
        pd.read_csv(pd.io.common.StringIO(SITES_CSV), dtype=str, keep_default_na=False, na_values=[""]), START
    )
    report = build_report(
        result, target=30, start=START, sites=sites, assumptions=Assumptions(disclosure_control=False)
    )
    assert [s.key for s in report.scenarios] == ["eligible", "eligible_or_unknown", "planned"]
    contributions = report.contributions.set_index(["scenario", "site_id"])
    assert contributions.loc[("eligible", "AVL"), "opens_month"] == 0  # activated before the start
    assert contributions.loc[("eligible", "UMCU"), "opens_date"] == "2025-03-01"
    # NEWHOSP is not in the extract: its rate is the fitted prior, thinned by the mean enrol share.
    scenario = report.scenarios[0]
    assert contributions.loc[("eligible", "NEWHOSP"), "expected_per_year"] == pytest.approx(
        scenario.new_centre.mean_rates[0] * 12
    )
    # The planned scenario covers only sites with a planned rate; its prior mean is the planned rate.
    planned = report.contributions[report.contributions["scenario"] == "planned"].set_index("site_id")
    assert set(planned.index) == {"AVL", "UMCU", "NEWHOSP"}
    assert planned.loc["AVL", "expected_per_year"] == pytest.approx(0.5 * 12)


def test_disclosure_control_rounds_counts_and_fits_to_them(result, exact_report):
    disclosed = build_report(result, target=30, start=START)
    rates = output_tables(disclosed)["site_rates"]
    for column in ("eligible", "eligible_or_unknown"):
        values = rates[column].to_numpy()
        assert np.all((values == 0) | ((values % 5 == 0) & (values >= 10)))
    monthly = output_tables(disclosed)["monthly_counts"]
    assert set(monthly["eligible"]) <= {0} | set(range(10, 1000, 5))
    fit = output_tables(disclosed)["model_fit"].set_index("scenario")
    assert fit.loc["eligible", "patients"] == rates["eligible"].sum()
    exact = output_tables(exact_report)["site_rates"]
    assert not exact["eligible"].equals(rates["eligible"])


def test_the_command_writes_tables_figures_and_assumptions(screen_dir, tmp_path, capsys):
    sites = tmp_path / "sites.csv"
    sites.write_text(SITES_CSV, encoding="utf-8")
    out = tmp_path / "forecast"
    args = parse([str(screen_dir), "--target", "30", "--start", "2025-01-01", "--sites", str(sites),
                  "--consent-rate", "0.7", "--duration", "36", "--out", str(out)])  # fmt: skip
    assert accrual_command.run(args) == 0
    printed = capsys.readouterr().out
    assert "N = 30 reached after" in printed
    for name in ("site_rates", "monthly_counts", "forecast", "site_forecast", "sites_needed", "model_fit"):
        assert (out / f"{name}.csv").stat().st_size > 0
    for figure in ("accrual_fan_chart", "site_expected_accrual", "time_to_target"):
        assert (out / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in (out / f"{figure}.svg").read_text(encoding="utf-8")[:2000]
    assumptions = (out / "assumptions.md").read_text(encoding="utf-8")
    assert "Informed consent (`inc_informed_consent` = review): 70% consent" in assumptions
    assert "planned duration 36 months" in assumptions
    assert "## Disclosure control\n- On: counts of 1–7 patients become 0" in assumptions
    manifest = json.loads((out / "accrual.json").read_text(encoding="utf-8"))
    assert manifest["assumptions"]["consent_rate"] == 0.7 and manifest["target"] == 30
    assert json.loads((out / "disclosure.json").read_text(encoding="utf-8"))["disclosure_control"] is True
    forecast = pd.read_csv(out / "forecast.csv")
    assert set(forecast["scenario"]) == {"eligible", "eligible_or_unknown", "planned"}
    assert (forecast["duration_months"] == 36).all()


def test_a_controlled_forecast_states_the_forecast_s_rule_on_the_terminal(screen_dir, tmp_path, monkeypatch, capsys):
    """The terminal said the attrition tables' rule ("excluded counts are differences of the rounded remaining
    counts, so every flow adds up") of a forecast, which has no excluded counts; its figures and disclosure.md
    state the forecast's own."""
    from oligo_cohort.accrual import plots
    from oligo_cohort.accrual.report import DISCLOSURE_NOTES
    from oligo_cohort.disclosure import DERIVED_TEXT, FORECAST_RULE, RULE_TEXT

    monkeypatch.setattr(plots, "save", lambda fig, folder, name: (folder / f"{name}.png").write_bytes(b"stub"))
    argv = [str(screen_dir), "--target", "30", "--start", "2025-01-01", "--out", str(tmp_path / "forecast")]
    assert accrual_command.run(parse(argv)) == 0
    printed = capsys.readouterr().out
    assert FORECAST_RULE in printed and "excluded counts" not in printed
    # The shareable statement, likewise: the rule and the forecast's own notes, not how the attrition tables derive
    # excluded counts, Shapley shares and exclusion combinations, none of which a forecast shows.
    statement = (tmp_path / "forecast" / "disclosure.md").read_text(encoding="utf-8")
    assert RULE_TEXT in statement and DISCLOSURE_NOTES[0] in statement
    assert DERIVED_TEXT not in statement and "Shapley" not in statement
    assert json.loads((tmp_path / "forecast" / "disclosure.json").read_text())["derived_counts"] is None


def test_a_rerun_replaces_the_earlier_forecast_but_never_a_users_folder(screen_dir, tmp_path, monkeypatch):
    from oligo_cohort.accrual import plots

    # Figures are checked above; here only the folder handling matters, so figures are written as stubs.
    monkeypatch.setattr(plots, "save", lambda fig, folder, name: (folder / f"{name}.png").write_bytes(b"stub"))
    out = tmp_path / "forecast"
    argv = [str(screen_dir), "--target", "30", "--start", "2025-01-01", "--out", str(out)]
    assert accrual_command.run(parse(argv)) == 0
    (out / "notes.csv").write_text("a user's file", encoding="utf-8")
    with pytest.raises(UsageError, match=r"notes\.csv"):  # a file the tool did not write is never deleted
        accrual_command.run(parse([*argv, "--no-disclosure-control"]))
    assert (out / "notes.csv").read_text(encoding="utf-8") == "a user's file"
    (out / "notes.csv").unlink()
    assert accrual_command.run(parse([*argv, "--no-disclosure-control"])) == 0
    assert json.loads((out / "accrual.json").read_text(encoding="utf-8"))["assumptions"]["disclosure_control"] is False
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(UsageError, match="not an empty folder nor an earlier `accrual` output"):
        accrual_command.run(parse([str(screen_dir), "--target", "30", "--start", "2025-01-01", "--out", str(other)]))
    assert (other / "notes.txt").read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize(
    "argv",
    [
        ["--target", "0", "--start", "2025-01-01"],
        ["--target", "30", "--start", "2025-13-01"],
        ["--target", "30", "--start", "2025-01-01", "--consent-rate", "1.5"],
        ["--target", "30", "--start", "2025-01-01", "--consent-rate", "0"],
        ["--target", "30", "--start", "2025-01-01", "--duration", "-4"],
    ],
)
def test_bad_options_are_refused_by_the_parser(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse(["screen", *argv, "--out", "x"])
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_a_bad_sites_file_lists_every_problem(tmp_path):
    bad = tmp_path / "sites.csv"
    bad.write_text(
        "site_id,activation_date,planned_rate\nA,2025-02-30,1\nA,2025-03-01,-2\n,2025-01-01,x\n", encoding="utf-8"
    )
    with pytest.raises(UsageError) as error:
        read_sites_file(bad, START)
    message = str(error.value)
    assert "line 2: activation_date '2025-02-30' is not a date" in message
    assert "site_id 'A' appears more than once" in message
    assert "line 3: planned_rate '-2' is not a number from 0 to 100" in message
    assert "line 4: site_id is empty" in message
    assert "line 4: planned_rate 'x'" in message
    missing = tmp_path / "columns.csv"
    missing.write_text("site,date\nA,2025-01-01\n", encoding="utf-8")
    with pytest.raises(UsageError, match="missing column"):
        read_sites_file(missing, START)


def test_a_screen_result_without_eligible_or_unknown_patients_is_a_usage_error(tmp_path):
    patients = synthetic_patients({"A": 1.0}, "2022-01-01", 12, seed=1)
    patients["status"], patients["inc_age_18"] = "ineligible", "fail"
    folder = write_screen_dir(tmp_path / "screen", patients)
    argv = [str(folder), "--target", "10", "--start", "2025-01-01", "--out", str(tmp_path / "o")]
    with pytest.raises(UsageError, match="nothing to forecast from"):
        accrual_command.run(parse([*argv, "--no-disclosure-control"]))
    assert not (tmp_path / "o").exists()
    # Under disclosure control no patient at all is said in the words of 1 to 7 at every site: both are shown as 0.
    with pytest.raises(UsageError, match="every site's count of eligible or unknown patients is shown as 0"):
        accrual_command.run(parse(argv))
    assert not (tmp_path / "o").exists()


def test_too_few_patients_for_a_shareable_forecast_is_explained(tmp_path):
    patients = synthetic_patients({"A": 0.4, "B": 0.3}, "2024-01-01", 12, seed=2)
    folder = write_screen_dir(tmp_path / "screen", patients)
    argv = [str(folder), "--target", "10", "--start", "2025-01-01", "--out", str(tmp_path / "o")]
    with pytest.raises(UsageError, match="too few patients for a registry forecast that may leave the institution"):
        accrual_command.run(parse(argv))
    assert not (tmp_path / "o").exists()
