"""A predictive distribution summarised by its 2.5 / 50 / 97.5 % quantiles, and the helpers that find them.

Both accrual models answer two questions — how many patients by a date, and
when a target is reached — with an object of this one shape, computed exactly
from a closed form or a numerical CDF where one exists, or from simulation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize

# The quantiles every prediction reports: a central 95 % interval and the median.
LOWER_Q, MEDIAN_Q, UPPER_Q = 0.025, 0.5, 0.975
QUANTILES = (LOWER_Q, MEDIAN_Q, UPPER_Q)

Method = Literal["exact", "simulated", "gamma-approximation"]


@dataclass(frozen=True)
class Prediction:
    """Quantiles of a posterior predictive distribution (a count, or a time on the trial's clock).

    `method` says how they were obtained: `exact` (closed form or exact
    numerical CDF), `simulated` (Monte Carlo; `draws` holds the sample) or
    `gamma-approximation` (Anisimov & Fedorov's moment-matched gamma).
    """

    lower: float
    median: float
    upper: float
    method: Method
    mean: float = math.nan
    draws: np.ndarray | None = field(default=None, repr=False, compare=False)
    by_site: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("lower", "median", "upper", "mean"):  # plain floats, whatever numpy type computed them
            object.__setattr__(self, name, float(getattr(self, name)))

    @property
    def interval(self) -> tuple[float, float]:
        """The central 95 % interval (lower, upper)."""
        return (self.lower, self.upper)

    def as_dict(self) -> dict[str, float | str]:
        """The summary as a flat row (for tables)."""
        return {
            "lower": self.lower,
            "median": self.median,
            "upper": self.upper,
            "mean": self.mean,
            "method": self.method,
        }


def from_draws(draws: np.ndarray, *, discrete: bool, by_site: pd.DataFrame | None = None) -> Prediction:
    """Summarise a Monte Carlo sample; integer samples use the inverted-CDF quantile (an attained value)."""
    sample = np.asarray(draws)
    quantiles = np.quantile(sample, QUANTILES, method="inverted_cdf" if discrete else "linear")
    return Prediction(
        lower=float(quantiles[0]),
        median=float(quantiles[1]),
        upper=float(quantiles[2]),
        method="simulated",
        mean=float(sample.mean()),
        draws=sample,
        by_site=by_site,
    )


def discrete_quantile(cdf: Callable[[int], float], q: float, *, start: int = 0) -> int:
    """Smallest integer k >= start with cdf(k) >= q (the definition scipy's `ppf` uses), by doubling and bisection."""
    if cdf(start) >= q:
        return start
    low, step = start, 1
    high = start + step
    while cdf(high) < q:
        low, step = high, step * 2
        high = start + step
        if step > 1 << 62:
            raise OverflowError("the predictive distribution has no finite quantile")
    while high - low > 1:  # invariant: cdf(low) < q <= cdf(high)
        middle = (low + high) // 2
        if cdf(middle) >= q:
            high = middle
        else:
            low = middle
    return high


# A time beyond this many units (months: a hundred billion years) is no finite time for a forecast: its quantile is
# infinite. A tiny planned rate (one patient in a million years) has such quantiles; they are answers, not errors.
BEYOND_REACH = 1e15


def continuous_quantile(cdf: Callable[[float], float], q: float, *, start: float, scale: float) -> float:
    """The time x > start with cdf(x) = q for an increasing continuous CDF that is 0 at `start`.

    `scale` is a first guess of the distribution's spread; the bracket is doubled from it until it holds the
    quantile. A quantile beyond `BEYOND_REACH` (or a CDF that cannot be evaluated that far) is infinite.
    """
    step = max(scale, 1e-9) if math.isfinite(scale) else math.inf
    while True:
        if not step <= BEYOND_REACH:
            return math.inf
        high = start + step
        if cdf(high) >= q:  # a CDF that overflows to NaN is not reached: the bracket grows on
            break
        step *= 2
    return float(optimize.brentq(lambda x: cdf(x) - q, start, high, xtol=1e-10 * max(1.0, high), rtol=1e-12))


def refine_quantile(cdf: Callable[[float], float], q: float, *, guess: float, start: float) -> float:
    """Like `continuous_quantile`, starting from a close guess (e.g. an approximation): few CDF evaluations.

    An infinite guess, or a quantile beyond `BEYOND_REACH`, is infinite.
    """
    if not math.isfinite(guess):
        return math.inf
    width = max(0.02 * (guess - start), 1e-6)
    low, high = max(start, guess - width), guess + width
    while low > start and cdf(low) >= q:
        low, width = max(start, low - 2 * width), 2 * width
    while not cdf(high) >= q:
        if not width <= BEYOND_REACH:
            return math.inf
        high, width = high + 2 * width, 2 * width
    return float(optimize.brentq(lambda x: cdf(x) - q, low, high, xtol=1e-9 * max(1.0, high), rtol=1e-12))


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A NumPy generator from a seed (None = fresh entropy) or an existing generator."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def check_draws(draws: int | None) -> None:
    """`draws` is None (exact) or a positive integer number of simulations."""
    if draws is not None and (isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1):
        raise ValueError(f"draws must be a positive integer or None, got {draws!r}")
