"""Bayesian constant accrual with an informative prior (Gajewski, Simon & Carlson 2008; Jiang et al. 2015).

The investigator's plan — n patients in a time T, held with certainty
P in (0, 1] — becomes the prior λ ~ Gamma(nP, TP) of a constant accrual rate.
After m patients in time t the posterior is Gamma(nP + m, TP + t), and

- the total by t' >= t is m + NB(nP + m, (TP + t) / (TP + t'))          (`predict_count`);
- the time the total reaches `target` is t + (TP + t)·B / (1 − B),
  B ~ Beta(target − m, nP + m), a scaled beta-prime law                 (`predict_time`).

Both are exact; `draws=` simulates the same model instead. The hedging prior
(Jiang et al. 2015; R package `accrual`) replaces the fixed P by a uniform
prior on a grid over (0, 1]; the multi-site version gives every site its own
prior Gamma(n_j P, TP) and its own start time (a site not yet open predicts
from its prior alone). Times are on one clock (from the trial's start) in
whatever unit T is given in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from oligo_cohort.accrual.centres import CentreRates
from oligo_cohort.accrual.prediction import (
    QUANTILES,
    Prediction,
    check_draws,
    continuous_quantile,
    discrete_quantile,
    from_draws,
    make_rng,
)

Seed = int | np.random.Generator | None

# The hedging prior's grid over P, as in the R package `accrual`: 1/1000, 2/1000, ..., 1.
DEFAULT_HEDGING_GRID = np.arange(1, 1001) / 1000


# --- argument checks ----------------------------------------------------------------------------------------------


def _is_count(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer)


def _check_plan(n: int, T: float, P: float) -> None:
    if not _is_count(n) or n < 1:
        raise ValueError(f"n (target sample size) must be a positive integer, got {n!r}")
    if not (isinstance(T, int | float | np.number) and math.isfinite(T) and T > 0):
        raise ValueError(f"T (planned duration) must be a positive number, got {T!r}")
    if not (isinstance(P, int | float | np.number) and 0 < P <= 1):
        raise ValueError(f"P (prior certainty) must be in (0, 1], got {P!r}")


def _check_progress(n: int, m: int, t: float) -> None:
    if not _is_count(m) or m < 0:
        raise ValueError(f"m (patients accrued so far) must be a non-negative integer, got {m!r}")
    if m > n:
        raise ValueError(f"m (patients accrued so far, {m}) cannot exceed n (target sample size, {n})")
    if not (isinstance(t, int | float | np.number) and math.isfinite(t) and t >= 0):
        raise ValueError(f"t (time elapsed) must be a non-negative number, got {t!r}")


def _check_when(t: float, t_pred: float) -> None:
    if not (isinstance(t_pred, int | float | np.number) and math.isfinite(t_pred) and t_pred >= 0):
        raise ValueError(f"t_pred must be a non-negative number, got {t_pred!r}")
    if t_pred < t:
        raise ValueError(f"t_pred ({t_pred}) is before t ({t}): only the future is predicted")


def _check_target(m: int, target: int) -> None:
    if not _is_count(target) or target < 1:
        raise ValueError(f"target must be a positive integer, got {target!r}")
    if target <= m:
        raise ValueError(f"target ({target}) is already reached: m = {m} patients have been accrued")


# --- one site, fixed prior certainty ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GammaPosterior:
    """Posterior Gamma(shape, rate) of a constant accrual rate."""

    shape: float
    rate: float


def posterior(n: int, T: float, P: float, m: int, t: float) -> GammaPosterior:
    """The posterior of the accrual rate after m patients in time t, under the prior Gamma(nP, TP)."""
    _check_plan(n, T, P)
    _check_progress(n, m, t)
    return GammaPosterior(shape=n * P + m, rate=T * P + t)


def predict_count(
    n: int, T: float, P: float, m: int, t: float, t_pred: float, *, draws: int | None = None, seed: Seed = None
) -> Prediction:
    """Total patients accrued by time t_pred (the m already accrued included): exact negative binomial quantiles."""
    post = posterior(n, T, P, m, t)
    _check_when(t, t_pred)
    check_draws(draws)
    ahead = float(t_pred) - float(t)
    if draws is not None:
        rng = make_rng(seed)
        rates = rng.gamma(post.shape, 1.0 / post.rate, size=draws)
        return from_draws(m + rng.poisson(rates * ahead), discrete=True)
    p = post.rate / (post.rate + ahead)
    q = stats.nbinom.ppf(QUANTILES, post.shape, p) if ahead > 0 else np.zeros(3)
    return Prediction(*(m + q), method="exact", mean=m + post.shape * ahead / post.rate)  # type: ignore[arg-type]


def predict_time(
    n: int, T: float, P: float, m: int, t: float, target: int, *, draws: int | None = None, seed: Seed = None
) -> Prediction:
    """Time (from the trial's start) at which the total reaches `target`: exact scaled beta-prime quantiles."""
    post = posterior(n, T, P, m, t)
    _check_target(m, target)
    check_draws(draws)
    more = target - m
    if draws is not None:
        rng = make_rng(seed)
        rates = rng.gamma(post.shape, 1.0 / post.rate, size=draws)
        return from_draws(t + rng.gamma(more, 1.0, size=draws) / rates, discrete=False)
    q = t + post.rate * stats.betaprime.ppf(QUANTILES, more, post.shape)
    mean = t + post.rate * more / (post.shape - 1) if post.shape > 1 else math.inf
    return Prediction(*q, method="exact", mean=mean)  # type: ignore[arg-type]


# --- hedging prior: a uniform prior on a grid over P --------------------------------------------------------------


@dataclass(frozen=True)
class HedgingPosterior:
    """Posterior weights of the prior certainty P on its grid."""

    grid: np.ndarray
    weights: np.ndarray

    def quantiles(self) -> np.ndarray:
        """2.5 / 50 / 97.5 % quantiles of P."""
        cdf = np.cumsum(self.weights)
        return self.grid[np.minimum(np.searchsorted(cdf, np.asarray(QUANTILES) - 1e-12), len(self.grid) - 1)]


def hedging_posterior(n: int, T: float, m: int, t: float, grid: Sequence[float] | None = None) -> HedgingPosterior:
    """P's posterior on the grid: uniform prior times the marginal likelihood of m arrivals in time t."""
    values = DEFAULT_HEDGING_GRID if grid is None else np.asarray(grid, dtype=float)
    if values.ndim != 1 or values.size == 0 or np.any(values <= 0) or np.any(values > 1):
        raise ValueError("the hedging grid must be a non-empty list of prior certainties in (0, 1]")
    _check_plan(n, T, float(values.max()))
    _check_progress(n, m, t)
    shape = n * values
    rate = T * values
    loglik = shape * np.log(rate) + special.gammaln(shape + m) - (shape + m) * np.log(rate + t) - special.gammaln(shape)
    return HedgingPosterior(grid=values, weights=np.exp(loglik - special.logsumexp(loglik)))


def predict_count_hedging(
    n: int,
    T: float,
    m: int,
    t: float,
    t_pred: float,
    *,
    grid: Sequence[float] | None = None,
    draws: int | None = None,
    seed: Seed = None,
) -> Prediction:
    """Total by t_pred under the hedging prior: exact quantiles of the mixture of negative binomials over P."""
    hedge = hedging_posterior(n, T, m, t, grid)
    _check_when(t, t_pred)
    check_draws(draws)
    ahead = float(t_pred) - float(t)
    shape, rate = n * hedge.grid + m, T * hedge.grid + t
    if draws is not None:
        rng = make_rng(seed)
        picked = rng.choice(hedge.grid.size, size=draws, p=hedge.weights)
        rates = rng.gamma(shape[picked], 1.0 / rate[picked])
        return from_draws(m + rng.poisson(rates * ahead), discrete=True)
    if ahead == 0:
        return Prediction(m, m, m, method="exact", mean=m)
    p = rate / (rate + ahead)
    q = [
        discrete_quantile(lambda k: float(hedge.weights @ stats.nbinom.cdf(k, shape, p)), level) for level in QUANTILES
    ]
    mean = m + float(hedge.weights @ (shape * ahead / rate))
    return Prediction(*(m + np.asarray(q, dtype=float)), method="exact", mean=mean)  # type: ignore[arg-type]


def predict_time_hedging(
    n: int,
    T: float,
    m: int,
    t: float,
    target: int,
    *,
    grid: Sequence[float] | None = None,
    draws: int | None = None,
    seed: Seed = None,
) -> Prediction:
    """Time the total reaches `target` under the hedging prior: exact quantiles of the beta-prime mixture."""
    hedge = hedging_posterior(n, T, m, t, grid)
    _check_target(m, target)
    check_draws(draws)
    more = target - m
    shape, rate = n * hedge.grid + m, T * hedge.grid + t
    if draws is not None:
        rng = make_rng(seed)
        picked = rng.choice(hedge.grid.size, size=draws, p=hedge.weights)
        rates = rng.gamma(shape[picked], 1.0 / rate[picked])
        return from_draws(t + rng.gamma(more, 1.0, size=draws) / rates, discrete=False)

    def cdf(x: float) -> float:
        return float(hedge.weights @ stats.betaprime.cdf((x - t) / rate, more, shape))

    scale = float(hedge.weights @ (rate * more / shape))
    q = [continuous_quantile(cdf, level, start=float(t), scale=scale) for level in QUANTILES]
    return Prediction(*q, method="exact")


# --- several sites, each with its own prior and start time --------------------------------------------------------


def site_process(
    n: int,
    T: float,
    P: float,
    m: Sequence[int],
    t: float,
    starts: Sequence[float],
    *,
    site_n: Sequence[float] | None = None,
    sites: Sequence[str] | None = None,
) -> CentreRates:
    """Every site's posterior rate Gamma(n_j P + m_j, TP + time open by t), opening at its start time.

    n_j is the site's share of the target (`site_n`, default n / J): the
    prior expects each site to accrue n_j over T once open.
    """
    counts = list(m)
    opens = np.asarray(starts, dtype=float)
    size = len(counts)
    _check_plan(n, T, P)
    if size == 0 or opens.shape != (size,):
        raise ValueError(f"m and starts need one value per site (got {size} counts and {opens.size} starts)")
    if np.any(~np.isfinite(opens)) or np.any(opens < 0):
        raise ValueError("site start times must be non-negative numbers")
    for count in counts:
        if not _is_count(count) or count < 0:
            raise ValueError(f"m (patients accrued per site) must hold non-negative integers, got {count!r}")
    _check_progress(n, sum(counts), t)
    shares = np.full(size, n / size) if site_n is None else np.asarray(site_n, dtype=float)
    if shares.shape != (size,) or np.any(shares <= 0):
        raise ValueError("site_n must give each site a positive planned number of patients")
    not_open = opens > t
    if np.any(np.asarray(counts)[not_open] > 0):
        raise ValueError("a site that has not started yet cannot have accrued patients")
    names = tuple(sites) if sites is not None else tuple(f"site {j + 1}" for j in range(size))
    return CentreRates(
        names=names,
        shape=shares * P + np.asarray(counts, dtype=float),
        rate=T * P + np.maximum(t - opens, 0.0),
        opens=opens,
        now=float(t),
    )


def predict_count_multisite(
    n: int,
    T: float,
    P: float,
    m: Sequence[int],
    t: float,
    t_pred: float,
    starts: Sequence[float],
    *,
    site_n: Sequence[float] | None = None,
    sites: Sequence[str] | None = None,
    draws: int | None = None,
    seed: Seed = None,
) -> Prediction:
    """Total accrued by t_pred over all sites (exact convolution of the sites' negative binomials); `.by_site` per site."""
    process = site_process(n, T, P, m, t, starts, site_n=site_n, sites=sites)
    _check_when(t, t_pred)
    return process.predict_count(float(t_pred), already=sum(m), draws=draws, seed=seed)


def predict_time_multisite(
    n: int,
    T: float,
    P: float,
    m: Sequence[int],
    t: float,
    target: int,
    starts: Sequence[float],
    *,
    site_n: Sequence[float] | None = None,
    sites: Sequence[str] | None = None,
    draws: int | None = None,
    seed: Seed = None,
) -> Prediction:
    """Time at which the total over all sites reaches `target` (exact: P(T <= x) = P(N(x) >= target))."""
    process = site_process(n, T, P, m, t, starts, site_n=site_n, sites=sites)
    _check_target(sum(m), target)
    return process.predict_time(target - sum(m), draws=draws, seed=seed)
