"""Calendar arithmetic on day numbers (docs/decisions.md D3)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from oligo_cohort.engines.pandas_engine.calendar import add_months, full_years, to_datetime64
from oligo_cohort.engines.pandas_engine.inputs import day_numbers

EPOCH = dt.date(1970, 1, 1)


def _days(*dates: str) -> np.ndarray:
    return np.array([(dt.date.fromisoformat(d) - EPOCH).days if d else np.nan for d in dates], dtype=np.float64)


def _dates(days: np.ndarray) -> list[str | None]:
    return [None if np.isnan(d) else (EPOCH + dt.timedelta(days=int(d))).isoformat() for d in days]


def test_months_clamp_at_month_end() -> None:
    start = _days("2023-08-31", "2024-08-31", "2024-01-31", "2024-03-15", "")
    assert _dates(add_months(start, 6)) == ["2024-02-29", "2025-02-28", "2024-07-31", "2024-09-15", None]
    assert _dates(add_months(_days("2024-02-29"), -12 * 5)) == ["2019-02-28"]


def test_full_years_count_a_29_february_birthday_on_1_march() -> None:
    birth = _days("2000-02-29", "2000-02-29", "2000-02-29", "2006-10-14", "")
    at = _days("2018-02-28", "2018-03-01", "2020-02-29", "2024-07-22", "2024-07-22")
    assert full_years(birth, at)[:4].tolist() == [17.0, 18.0, 20.0, 17.0]
    assert np.isnan(full_years(birth, at)[4])


@given(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), st.integers(-120, 120))
def test_add_months_agrees_with_pandas_date_offset(date: dt.date, months: int) -> None:
    expected = (pd.Timestamp(date) + pd.DateOffset(months=months)).date()
    assert _dates(add_months(_days(date.isoformat()), months)) == [expected.isoformat()]


def test_day_numbers_round_trip_with_missing_values() -> None:
    dates = pa.array([dt.date(2024, 2, 29), None, dt.date(1950, 6, 1)], type=pa.date32())
    days = day_numbers(dates)
    assert np.isnan(days[1])
    assert [str(d) for d in to_datetime64(days)] == ["2024-02-29", "NaT", "1950-06-01"]
