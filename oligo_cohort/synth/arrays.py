"""Small vectorised helpers: ragged groups, categorical draws, dates as day numbers.

Dates are int32 days since 1970-01-01 throughout the generator; `NO_DATE`
marks a date that does not exist (no death, still ongoing, not yet appeared).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

NO_DATE = np.int32(np.iinfo(np.int32).max)
EPOCH = dt.date(1970, 1, 1)
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = 30.44


def day_number(value: dt.date) -> int:
    """Days since 1970-01-01."""
    return (value - EPOCH).days


def group_positions(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes: each member's group and its 0-based position within the group."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    position = np.arange(owner.size) - np.repeat(starts, counts)
    return owner, position


def draw_categories(rng: np.random.Generator, probabilities: Sequence[float], size: int) -> np.ndarray:
    """Category codes 0..k-1 drawn with the given probabilities (normalised)."""
    cumulative = np.cumsum(np.asarray(probabilities, dtype=np.float64))
    cumulative /= cumulative[-1]
    codes = np.searchsorted(cumulative, rng.random(size), side="right")
    return np.minimum(codes, len(cumulative) - 1).astype(np.int16)


def draw_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One column index per row of a non-negative weight matrix, with probability proportional to the weight.

    Rows whose weights are all zero get -1.
    """
    cumulative = np.cumsum(weights, axis=1)
    total = cumulative[:, -1]
    target = rng.random(weights.shape[0]) * total
    chosen = (cumulative > target[:, None]).argmax(axis=1)
    return np.where(total > 0, chosen, -1)


def uniform_days(rng: np.random.Generator, bounds: tuple[float, float], size: int) -> np.ndarray:
    """Whole days drawn uniformly from the inclusive range."""
    low, high = bounds
    return rng.integers(int(low), int(high) + 1, size).astype(np.int32)


def lognormal_days(rng: np.random.Generator, median_days: np.ndarray | float, sigma: float, size: int) -> np.ndarray:
    """Durations in whole days from a lognormal with the given median(s)."""
    return np.rint(np.asarray(median_days) * np.exp(sigma * rng.standard_normal(size))).astype(np.int32)
