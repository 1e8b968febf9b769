"""The forecast's calendar: option ranges, and times to target that lie centuries away (docs/decisions.md D59).

A slow scenario's time to target may be thousands of months; it is a number of months with a date while one
exists (Python's calendar reaches the year 9999, pandas' only 2262) and without one beyond, never an error.
The options are held to what the forecast covers: a target of at most 10,000 patients, a start from 1900 to a
century after today, a duration of at most a century.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from oligo_cohort.accrual.assumptions import DAYS_PER_MONTH, HORIZON_MONTHS
from oligo_cohort.accrual.planning import months_to_date
from oligo_cohort.accrual.plots import horizon_months
from oligo_cohort.accrual.rates import date_after
from oligo_cohort.cli import main
from oligo_cohort.paths import demo_extract_dir
from tests.safety.damaged_inputs import answered


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2126, 12, 31)),
    months=st.floats(min_value=-100, max_value=1200, allow_nan=False),
)
def test_dates_agree_with_pandas_where_pandas_reaches(start, months):
    stamp = pd.Timestamp(start) + pd.to_timedelta(months * DAYS_PER_MONTH, unit="D")
    # Python's clock counts microseconds, pandas' nanoseconds: within a millisecond of midnight either day is right.
    since_midnight = stamp - stamp.normalize()
    assume(pd.Timedelta(milliseconds=1) < since_midnight < pd.Timedelta(days=1) - pd.Timedelta(milliseconds=1))
    assert date_after(start, months) == stamp.date()


@pytest.mark.parametrize("months", [math.inf, 1e7, 1e12, 1e300])
def test_a_time_beyond_the_calendar_has_no_date(months):
    assert date_after(dt.date(2027, 1, 1), months) is None
    assert months_to_date(dt.date(2027, 1, 1), months) == ""


def test_a_time_beyond_pandas_has_its_date():
    assert date_after(dt.date(2027, 1, 1), 14963.9) == dt.date(3274, 1, 6)


def test_the_axis_never_reaches_beyond_a_century():
    slow = {"eligible": (6818.3, 14963.9, 43074.4), "eligible_or_unknown": (3975.3, 6286.6, 10781.9)}
    assert horizon_months(slow, 48.0) == HORIZON_MONTHS
    assert horizon_months(slow, 48.0, whole_interval=True) == HORIZON_MONTHS


@pytest.fixture(scope="module")
def screen_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("calendar") / "screen"
    assert main(["screen", str(demo_extract_dir()), "--out", str(out), "--quiet"]) == 0
    return out


BAD_OPTIONS = {
    "target above 10,000": (["--target", "10001", "--start", "2027-01-01"], "at most 10,000"),
    "start in the year 9999": (["--target", "20", "--start", "9999-12-31"], "a century from today"),
    "start in the year 1": (["--target", "20", "--start", "0001-01-01"], "a century from today"),
    "start without dashes": (["--target", "20", "--start", "20270101"], "not a date YYYY-MM-DD"),
    "duration of 1e300 months": (["--target", "20", "--start", "2027-01-01", "--duration", "1e300"], "1200 months"),
}


@pytest.mark.parametrize("command", ["accrual", "report"])
@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_options_outside_the_forecasts_reach_are_refused_by_name(screen_dir, tmp_path, capsys, command, case):
    options, words = BAD_OPTIONS[case]
    if command == "report" and "--duration" in options:
        pytest.skip("report takes the planned duration from the accrual defaults")
    source = str(screen_dir) if command == "accrual" else str(demo_extract_dir())
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:  # refused by the parser, before anything is read
        main([command, source, *options, "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and words in err and "Traceback" not in err, err
    assert not out.exists()


def test_an_unattainable_target_is_a_forecast_without_dates_not_an_error(screen_dir, tmp_path):
    """N = 3,000 on the 34-patient demo: centuries away (it was an internal error beyond pandas' 2262)."""
    out = tmp_path / "out"
    answer = answered(
        ["accrual", str(screen_dir), "--target", "3000", "--start", "2027-01-01", "--out", str(out), "--quiet"],
        inputs=[screen_dir],
        out=out,
    )
    assert answer.code == 0, answer.err
    forecast = pd.read_csv(out / "forecast.csv")
    assert (forecast["time_to_target_median_months"] > HORIZON_MONTHS).all()
    assert re.search(r"\(median, 3[0-9]{3}-[0-9]{2}-", answer.out)  # a date beyond pandas' calendar, in the headline


def test_a_density_whose_mass_lies_beyond_the_axis_does_not_set_its_scale():
    """A far scenario's tail inside the axis (1e-23) would magnify rounding noise into a curve (N = 3,000 on the
    demo); the near scenario's curve sets the scale, and with none near, the peaks do."""
    from oligo_cohort.accrual.plots import _density_scale

    months = np.linspace(0, 20_000, 2_001)
    near = pd.DataFrame({"month": months, "density": np.exp(-(((months - 60) / 10) ** 2)) * 0.04})
    far = pd.DataFrame({"month": months, "density": np.exp(-(((months - 15_000) / 3_000) ** 2)) * 1e-4})
    assert far["density"][far["month"] <= 1_200].max() < 1e-7
    assert _density_scale({"near": near, "far": far}, 1_200) == pytest.approx(near["density"].max())
    assert _density_scale({"far": far}, 1_200) == pytest.approx(far["density"].max())


def test_the_report_of_an_unattainable_target_is_written_with_its_dates(tmp_path):
    """N = 3,000 on the demo in the report: its forecast table gives the centuries-away months (an internal error
    beyond pandas' 2262, and no report at all)."""
    out = tmp_path / "report"
    answer = answered(
        ["report", str(demo_extract_dir()), "--target", "3000", "--start", "2027-01-01", "--out", str(out), "--quiet"],
        inputs=[demo_extract_dir()],
        out=out,
    )
    assert answer.code == 0, answer.err
    html = (out / "shareable" / "report.html").read_text(encoding="utf-8")
    assert re.search(r"\((Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [3-9][0-9]{3}\)", html)
