"""Calendar arithmetic on day numbers: dates as float64 days since 1970-01-01, NaN = missing.

Day numbers keep date arithmetic vectorized and exact (whole numbers far below
2**53); months and years follow docs/decisions.md D3 (clamped at month end).
"""

from __future__ import annotations

import numpy as np

MISSING = np.nan
ONGOING = np.inf  # an end date that has not come: later than every date


def to_datetime64(days: np.ndarray) -> np.ndarray:
    """Float day numbers back to datetime64[D] (NaN and infinity become NaT)."""
    days = np.asarray(days, dtype=np.float64)
    out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    valid = np.isfinite(days)
    out[valid] = days[valid].astype(np.int64).astype("datetime64[D]")
    return out


def _parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(months since 1970-01, month index 0-11, day of month 1-31) of valid day numbers."""
    dates = days.astype(np.int64).astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    day_of_month = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    month_count = months.astype(np.int64)
    return month_count, month_count % 12, day_of_month


def add_months(days: np.ndarray, months: int) -> np.ndarray:
    """`date + n calendar months`, clamped at month end (31 Aug + 6 months = 28/29 Feb); n may be negative."""
    days = np.asarray(days, dtype=np.float64)
    out = np.full(days.shape, MISSING)
    valid = np.isfinite(days)
    if not valid.any():
        return out
    month_count, _, day_of_month = _parts(days[valid])
    target = (month_count + months).astype("datetime64[M]")
    first = target.astype("datetime64[D]")
    length = ((target + 1).astype("datetime64[D]") - first).astype(np.int64)
    out[valid] = (first.astype(np.int64) + np.minimum(day_of_month, length) - 1).astype(np.float64)
    return out


def full_years(birth: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Completed years of age at a date (a 29 February birthday is reached on 1 March in common years)."""
    birth = np.asarray(birth, dtype=np.float64)
    at = np.asarray(at, dtype=np.float64)
    out = np.full(np.broadcast(birth, at).shape, MISSING)
    valid = np.isfinite(birth) & np.isfinite(at)
    if not valid.any():
        return out
    b_count, b_month, b_day = _parts(birth[valid])
    a_count, a_month, a_day = _parts(at[valid])
    b_year = (b_count - b_month) // 12
    a_year = (a_count - a_month) // 12
    # Comparing (month, day) makes 29 Feb unreached on 28 Feb of a common year and reached on 1 March.
    not_yet = (a_month < b_month) | ((a_month == b_month) & (a_day < b_day))
    out[valid] = (a_year - b_year - not_yet).astype(np.float64)
    return out
