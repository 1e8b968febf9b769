"""Recruitment by several centres, each a Poisson process whose rate has a gamma distribution.

This is the predictive engine both accrual models share. Centre i opens at
`opens[i]` and then recruits as Poisson(λ_i) with λ_i ~ Gamma(shape_i, rate_i):
the posterior of a centre with history, or the prior of one without. The
rates are independent (Anisimov & Fedorov's model), or — with `shared=True` —
one common rate scaled per centre (λ_i = G / rate_i, G ~ Gamma(shape, 1)), the
model used when the data show no between-centre variation.

Exact answers:
- count by time t: a sum of independent negative binomials, whose pmf is
  their convolution (truncated at the largest count needed; no approximation);
  with a shared rate, a single negative binomial;
- time to `more` patients: P(T <= t) = P(N(t) >= more), inverted numerically;
  with a shared rate, the beta-prime law of the exposure needed, mapped back
  through the (piecewise-linear) cumulative exposure.
Anisimov & Fedorov's own approximation (the sum of rates replaced by one
gamma with matched moments) is available as `method="gamma-approximation"`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from oligo_cohort.accrual.prediction import (
    QUANTILES,
    Prediction,
    check_draws,
    continuous_quantile,
    from_draws,
    make_rng,
    refine_quantile,
)

EXACT = "exact"
FFT_FROM = 512  # counts up to which the convolution is done directly
GAMMA = "gamma-approximation"


def negative_binomial_pmfs(kmax: int, shape: np.ndarray, p: np.ndarray) -> np.ndarray:
    """NB(shape_j, p_j) probabilities of 0..kmax for every j at once: shape (len(shape), kmax + 1).

    Built from the ratio pmf(k) / pmf(k - 1) = (k - 1 + r)(1 - p) / k, summed in log space.
    """
    r, prob = shape[:, None], p[:, None]
    k = np.arange(1, kmax + 1)[None, :]
    steps = np.log(k - 1 + r) - np.log(k) + np.log1p(-prob)
    log_pmf = np.concatenate([r * np.log(prob), steps], axis=1).cumsum(axis=1)
    return np.exp(log_pmf)


def convolve_truncated(pmfs: np.ndarray) -> np.ndarray:
    """The pmf of a sum of independent counts, each given by a row of `pmfs`, up to the rows' length (exact)."""
    size = pmfs.shape[1]
    if size < FFT_FROM:
        total = np.zeros(size)
        total[0] = 1.0
        for row in pmfs:
            total = np.convolve(total, row)[:size]
        return total
    rows = pmfs
    while rows.shape[0] > 1:  # pairwise, level by level: one batched FFT per level
        if rows.shape[0] % 2:
            rows = np.vstack([rows, np.eye(1, size)])
        rows = np.clip(_fft_convolve_rows(rows[0::2], rows[1::2])[:, :size], 0.0, None)
    return rows[0] if len(rows) else np.eye(1, size)[0]


def _fft_convolve_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each row of `a` convolved with the same row of `b` (full length), by real FFT.

    What `scipy.signal.fftconvolve(a, b, axes=1)` computes, without importing scipy.signal: that import alone
    takes more than half a second, which every `accrual` and `report` run would pay.
    """
    length = a.shape[1] + b.shape[1] - 1
    size = 1 << (length - 1).bit_length()  # a power of two: the fastest FFT length
    product = np.fft.rfft(a, size, axis=1) * np.fft.rfft(b, size, axis=1)
    return np.fft.irfft(product, size, axis=1)[:, :length]


@dataclass(frozen=True, eq=False)
class CentreRates:
    """Gamma-distributed Poisson rates of recruiting centres, with the times they open (one clock, e.g. months)."""

    names: tuple[str, ...]
    shape: np.ndarray
    rate: np.ndarray
    opens: np.ndarray
    shared: bool = False
    now: float = 0.0

    def __post_init__(self) -> None:
        size = len(self.names)
        for label in ("shape", "rate", "opens"):
            values = np.asarray(getattr(self, label), dtype=float)
            object.__setattr__(self, label, values)
            if values.shape != (size,):
                raise ValueError(f"{label} must hold one value per centre ({size}), got shape {values.shape}")
        if size == 0:
            raise ValueError("at least one centre is needed")
        if not (np.all(self.shape > 0) and np.all(np.isfinite(self.shape))):
            raise ValueError("every centre's gamma shape must be a positive finite number")
        if not (np.all(self.rate > 0) and np.all(np.isfinite(self.rate))):
            raise ValueError("every centre's gamma rate must be a positive finite number")
        if not np.all(np.isfinite(self.opens)):
            raise ValueError("every centre needs a finite opening time")
        if self.shared and not np.allclose(self.shape, self.shape[0]):
            raise ValueError("centres sharing one rate must have the same gamma shape")

    # --- structure -------------------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Number of centres."""
        return len(self.names)

    @property
    def starts(self) -> np.ndarray:
        """When each centre recruits from: its opening, or now if it is already open."""
        return np.maximum(self.opens, self.now)

    @property
    def mean_rates(self) -> np.ndarray:
        """Expected recruitment rate of each centre (patients per time unit)."""
        return self.shape / self.rate

    def select(self, indices: np.ndarray | list[int]) -> CentreRates:
        """The process of a subset of the centres (for planning: which centres to open)."""
        picked = np.asarray(indices, dtype=int)
        return CentreRates(
            names=tuple(self.names[i] for i in picked),
            shape=self.shape[picked],
            rate=self.rate[picked],
            opens=self.opens[picked],
            shared=self.shared,
            now=self.now,
        )

    def concat(self, other: CentreRates) -> CentreRates:
        """Both sets of centres recruiting together (same clock, same rate structure)."""
        if self.shared != other.shared or self.now != other.now:
            raise ValueError("only centres of the same model and clock can be combined")
        return CentreRates(
            names=self.names + other.names,
            shape=np.concatenate([self.shape, other.shape]),
            rate=np.concatenate([self.rate, other.rate]),
            opens=np.concatenate([self.opens, other.opens]),
            shared=self.shared,
            now=self.now,
        )

    def exposure(self, times: np.ndarray | float) -> np.ndarray:
        """Recruiting time of each centre from now until each of `times`: shape (len(times), centres)."""
        t = np.atleast_1d(np.asarray(times, dtype=float))
        return np.maximum(t[:, None] - self.starts[None, :], 0.0)

    # --- counts ----------------------------------------------------------------------------------------------

    def mean_count(self, times: np.ndarray | float) -> np.ndarray:
        """Expected number of new patients by each of `times`."""
        return self.exposure(times) @ self.mean_rates

    def _count_variance(self, t: float) -> float:
        d = self.exposure(t)[0]
        if self.shared:
            scaled = float(np.sum(d / self.rate))
            return self.shape[0] * scaled * (1 + scaled)
        return float(np.sum(self.shape * d / self.rate * (1 + d / self.rate)))

    def count_pmf(self, t: float, kmax: int) -> np.ndarray:
        """P(N(t) = k) for k = 0..kmax, N(t) the new patients by time t (exact)."""
        d = self.exposure(t)[0]
        k = np.arange(kmax + 1)
        if self.shared:
            return stats.nbinom.pmf(k, self.shape[0], 1.0 / (1.0 + np.sum(d / self.rate)))
        recruiting = d > 0  # a centre not yet recruiting adds nothing
        site_pmfs = negative_binomial_pmfs(
            kmax, self.shape[recruiting], self.rate[recruiting] / (self.rate + d)[recruiting]
        )
        if not np.any(recruiting):
            return np.eye(1, kmax + 1)[0]
        return convolve_truncated(site_pmfs)

    def _gamma_match(self, t: float) -> tuple[float, float]:
        """Shape and rate of one gamma with the mean and variance of the total intensity by t (A&F)."""
        d = self.exposure(t)[0]
        mean = float(np.sum(self.shape * d / self.rate))
        if self.shared:
            variance = self.shape[0] * float(np.sum(d / self.rate)) ** 2
        else:
            variance = float(np.sum(self.shape * (d / self.rate) ** 2))
        return mean**2 / variance, mean / variance

    def count_cdf(self, k: int, t: float, *, method: str = EXACT) -> float:
        """P(N(t) <= k)."""
        if k < 0:
            return 0.0
        if not np.any(self.exposure(t)[0] > 0):
            return 1.0
        if method == GAMMA:
            shape, rate = self._gamma_match(t)
            return float(stats.nbinom.cdf(k, shape, rate / (rate + 1.0)))
        return float(min(1.0, self.count_pmf(t, k).sum()))

    def count_quantiles(self, t: float, probabilities: tuple[float, ...] = QUANTILES) -> np.ndarray:
        """Exact quantiles of N(t) (smallest k with P(N(t) <= k) >= q)."""
        if not np.any(self.exposure(t)[0] > 0):
            return np.zeros(len(probabilities))
        top = max(probabilities)
        kmax = int(np.ceil(self.mean_count(t)[0] + 12 * np.sqrt(self._count_variance(t)) + 20))
        while True:
            cdf = np.cumsum(self.count_pmf(t, kmax))
            if cdf[-1] >= top:
                return np.searchsorted(cdf, np.asarray(probabilities) - 1e-12).astype(float)
            kmax *= 2

    def predict_count(
        self,
        t: float,
        *,
        already: int = 0,
        draws: int | None = None,
        seed: int | np.random.Generator | None = None,
        method: str = EXACT,
    ) -> Prediction:
        """Total patients by time t (`already` accrued ones included), with per-centre predictions."""
        check_draws(draws)
        by_site = self.site_counts(t)
        if draws is not None:
            return from_draws(already + self.simulate_counts(t, draws, seed), discrete=True, by_site=by_site)
        mean = already + float(self.mean_count(t)[0])
        if method == GAMMA:
            shape, rate = self._gamma_match(t)
            q = stats.nbinom.ppf(QUANTILES, shape, rate / (rate + 1.0))
        else:
            q = self.count_quantiles(t)
        return Prediction(*(already + q), method=method, mean=mean, by_site=by_site)  # type: ignore[arg-type]

    def site_counts(self, t: float) -> pd.DataFrame:
        """Each centre's own predictive count by time t: expected value and 95 % interval (marginal, exact)."""
        d = self.exposure(t)[0]
        p = self.rate / (self.rate + d)
        q = stats.nbinom.ppf(np.asarray(QUANTILES)[:, None], self.shape[None, :], p[None, :])
        return pd.DataFrame(
            {
                "site_id": list(self.names),
                "opens": self.opens,
                "mean_rate": self.mean_rates,
                "expected": self.shape * d / self.rate,
                "lower": q[0],
                "median": q[1],
                "upper": q[2],
            }
        )

    # --- time to a target ------------------------------------------------------------------------------------

    def time_cdf(self, more: int, times: np.ndarray | float, *, method: str = EXACT) -> np.ndarray:
        """P(the `more`-th new patient has arrived by each of `times`) = P(N(t) >= more)."""
        t = np.atleast_1d(np.asarray(times, dtype=float))
        if self.shared and method == EXACT:
            x = np.sum(self.exposure(t) / self.rate[None, :], axis=1)
            return stats.betaprime.cdf(x, more, self.shape[0])
        return np.array([1.0 - self.count_cdf(more - 1, float(ti), method=method) for ti in t])

    def time_pdf(self, more: int, times: np.ndarray) -> np.ndarray:
        """Density of the time to `more` new patients on an increasing grid (numerical derivative of the exact CDF)."""
        t = np.asarray(times, dtype=float)
        if self.shared:
            x = np.sum(self.exposure(t) / self.rate[None, :], axis=1)
            slope = (self.exposure(t) > 0) @ (1.0 / self.rate)
            return stats.betaprime.pdf(x, more, self.shape[0]) * slope
        if t.size < 2 or np.any(np.diff(t) <= 0):
            raise ValueError("the density is evaluated on an increasing grid of at least two times")
        return np.gradient(self.time_cdf(more, t), t)

    def _exposure_inverse(self, x: np.ndarray) -> np.ndarray:
        """Times at which the rate-scaled cumulative exposure sum_i d_i(t) / rate_i reaches each x (shared model)."""
        order = np.argsort(self.starts)
        breaks = self.starts[order]
        inverse_rates = 1.0 / self.rate[order]
        at_breaks = np.array([np.sum(np.maximum(b - breaks, 0) * inverse_rates) for b in breaks])
        slopes = np.cumsum(inverse_rates)
        segment = np.searchsorted(at_breaks, x, side="right") - 1
        return breaks[segment] + (x - at_breaks[segment]) / slopes[segment]

    def time_quantiles(self, more: int, *, method: str = EXACT) -> np.ndarray:
        """The 2.5 / 50 / 97.5 % quantiles of the time to `more` new patients."""
        if self.shared and method == EXACT:
            return self._exposure_inverse(stats.betaprime.ppf(QUANTILES, more, self.shape[0]))
        first = float(self.starts.min())
        total_rate = float(self.mean_rates.sum())
        scale = more / total_rate + float(np.ptp(self.starts))

        def cdf_of(chosen: str):
            return lambda x: float(self.time_cdf(more, x, method=chosen)[0])

        # A&F's gamma approximation is cheap and close: it brackets the exact quantile in a few steps.
        approximate = [continuous_quantile(cdf_of(GAMMA), q, start=first, scale=scale) for q in QUANTILES]
        if method == GAMMA:
            return np.array(approximate)
        return np.array(
            [
                refine_quantile(cdf_of(EXACT), q, guess=g, start=first)
                for q, g in zip(QUANTILES, approximate, strict=True)
            ]
        )

    def predict_time(
        self,
        more: int,
        *,
        draws: int | None = None,
        seed: int | np.random.Generator | None = None,
        method: str = EXACT,
    ) -> Prediction:
        """Time (on this clock) at which `more` new patients have been recruited."""
        check_draws(draws)
        if isinstance(more, bool) or not isinstance(more, int | np.integer) or more < 1:
            raise ValueError(f"the number of patients still to recruit must be a positive integer, got {more!r}")
        if draws is not None:
            return from_draws(self.simulate_times(int(more), draws, seed), discrete=False)
        q = self.time_quantiles(int(more), method=method)
        return Prediction(float(q[0]), float(q[1]), float(q[2]), method=method)  # type: ignore[arg-type]

    # --- simulation ------------------------------------------------------------------------------------------

    def simulate_rates(self, draws: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Draws of every centre's rate: shape (draws, centres); one common gamma per draw when shared."""
        rng = make_rng(seed)
        if self.shared:
            return rng.gamma(self.shape[0], 1.0, size=(draws, 1)) / self.rate[None, :]
        return rng.gamma(self.shape[None, :], 1.0 / self.rate[None, :], size=(draws, self.size))

    def simulate_counts(self, t: float, draws: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Simulated new patients by time t."""
        rng = make_rng(seed)
        intensity = self.simulate_rates(draws, rng) @ self.exposure(t)[0]
        return rng.poisson(intensity)

    def simulate_times(self, more: int, draws: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Simulated times of the `more`-th new patient (the cumulative intensity inverted draw by draw)."""
        rng = make_rng(seed)
        rates = self.simulate_rates(draws, rng)
        needed = rng.gamma(more, 1.0, size=draws)  # unit-rate time of the more-th arrival
        order = np.argsort(self.starts)
        breaks = self.starts[order]
        rates = rates[:, order]
        # Cumulative intensity at each opening, and the total rate once it has opened.
        at_breaks = rates @ np.maximum(breaks[None, :] - breaks[:, None], 0.0)
        slopes = np.cumsum(rates, axis=1)
        segment = (at_breaks <= needed[:, None]).sum(axis=1) - 1
        rows = np.arange(draws)
        return breaks[segment] + (needed - at_breaks[rows, segment]) / slopes[rows, segment]
