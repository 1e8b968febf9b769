"""`accrual` on the bundled demo: it forecasts (synthetic data, exact counts) and its time axes fit the forecast."""

from __future__ import annotations

import argparse
import datetime as dt
import json

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest

from oligo_cohort.accrual import command as accrual_command
from oligo_cohort.accrual.plots import fan_chart, horizon_months, time_density
from oligo_cohort.errors import UsageError


@pytest.fixture(scope="module")
def demo_screen(tmp_path_factory):
    from oligo_cohort.api import screen
    from oligo_cohort.paths import demo_extract_dir

    folder = tmp_path_factory.mktemp("demo") / "screen"
    screen(demo_extract_dir()).write(folder)
    return folder


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    accrual_command.configure(parser)
    return accrual_command.run(parser.parse_args(argv))


def test_the_demo_forecasts_with_exact_counts_and_says_why(demo_screen, tmp_path, capsys):
    out = tmp_path / "accrual"
    assert run([str(demo_screen), "--target", "60", "--start", "2027-01-01", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("Synthetic data (the bundled demo extract)") == 1
    statement = json.loads((out / "disclosure.json").read_text(encoding="utf-8"))
    assert statement["mode"] == "synthetic" and statement["disclosure_control"] is False
    assert "synthetic data" in (out / "assumptions.md").read_text(encoding="utf-8")


def test_opting_out_is_said_once_and_plainly(demo_screen, tmp_path, capsys):
    out = tmp_path / "exact"
    argv = [str(demo_screen), "--target", "5", "--start", "2027-01-01", "--out", str(out), "--no-disclosure-control"]
    assert run(argv) == 0
    assert capsys.readouterr().out.count("must not leave the institution") == 1


def test_control_can_be_asked_for_on_the_demo_as_attrition_and_report_allow(demo_screen, tmp_path, capsys):
    """docs/attrition.md: `--disclosure-control` applies control to the synthetic demo too, to see what a shareable
    output holds; `accrual` refused the option. Under control the demo's sites (at most 7 patients each) are shown
    as 0, so the registry forecast is refused as for a real extract of that size, and the planned rates remain."""
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,activation_date,planned_rate\nAVL,2027-01-01,0.5\nUMCU,2027-01-01,0.4\n")
    out = tmp_path / "controlled"
    argv = [str(demo_screen), "--target", "5", "--start", "2027-01-01", "--out", str(out), "--disclosure-control"]
    with pytest.raises(UsageError, match="shown as 0 under disclosure control"):
        run(argv)
    assert run([*argv, "--sites", str(sites)]) == 0
    assert "Synthetic data" not in capsys.readouterr().out
    statement = json.loads((out / "disclosure.json").read_text(encoding="utf-8"))
    assert statement["disclosure_control"] is True and statement["mode"] == "applied"
    months = pd.read_csv(out / "site_rates.csv", dtype=str)["first_date"]
    assert months.str.fullmatch(r"\d{4}-\d{2}").all()  # dates kept to the month, as under control (A18)
    with pytest.raises(SystemExit):
        run([*argv, "--no-disclosure-control"])


@pytest.mark.parametrize(
    ("intervals", "duration", "expected"),
    [
        # The demo: the optimistic median at 125 months, the conservative interval to 878: the axis stops at 1.25 x 125.
        ({"eligible": (130.0, 298.0, 878.0), "eligible_or_unknown": (74.0, 125.0, 225.0)}, 48.0, 156.25),
        # A trial that finishes in time: the axis just covers the planned duration and every interval.
        ({"eligible": (20.0, 30.0, 45.0)}, 48.0, 50.4),
        # No finite time: the planned duration and a half.
        ({"eligible": (np.inf, np.inf, np.inf)}, 48.0, 50.4),
    ],
)
def test_the_time_axis_fits_the_forecast(intervals, duration, expected):
    assert horizon_months(intervals, duration) == pytest.approx(expected)


def test_no_demo_forecast_reaches_the_year_2100():
    start = dt.date(2027, 1, 1)
    intervals = {"eligible": (130.0, 298.0, 878.0), "eligible_or_unknown": (74.0, 125.0, 225.0)}
    months = np.linspace(0, 950, 50)
    fans = {
        key: pd.DataFrame({"month": months, "lower": months * 0.05, "median": months * 0.1, "upper": months * 0.2})
        for key in intervals
    }
    sites = pd.DataFrame({"site_id": ["A"], "opens_month": [0.0]})
    figure = fan_chart(fans, start=start, target=60, duration=48, time_intervals=intervals, site_opens=sites)
    right = mdates.num2date(figure.axes[0].get_xlim()[1])
    assert right.year < 2045
    caption = figure.axes[0].get_title(loc="left")  # under the caption: inside the axes it crossed the fans
    assert any("Eligible (conservative): median Nov 2051" in t and "→" in t for t in caption.splitlines()), caption
    densities = {key: pd.DataFrame({"month": months, "density": np.exp(-months / 200)}) for key in intervals}
    density = time_density(densities, intervals, target=60, duration=48, start=start)
    assert density.axes[0].get_xlim()[1] < 300
