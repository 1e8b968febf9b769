"""The Poisson–gamma fit is the maximum of Anisimov & Fedorov's negative binomial likelihood, checked by brute force.

The likelihood is written here from the paper's formula, P(k | τ) = Γ(α + k) / (Γ(α) k!) · (β / (β + τ))^α ·
(τ / (β + τ))^k, and maximised by a profile over a grid of log α (β maximised for each), refined from the grid's
best point: independent of the package's optimiser, its starting points and its decision for the pooled model.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special

from oligo_cohort.accrual import fit_poisson_gamma


def loglik(alpha: float, beta: float, counts: np.ndarray, exposures: np.ndarray) -> float:
    k, tau = np.asarray(counts, dtype=float), np.asarray(exposures, dtype=float)
    return float(
        np.sum(
            special.gammaln(alpha + k)
            - special.gammaln(alpha)
            - special.gammaln(k + 1)
            + alpha * np.log(beta / (beta + tau))
            + special.xlogy(k, tau / (beta + tau))
        )
    )


def poisson_limit(counts: np.ndarray, exposures: np.ndarray) -> float:
    """The likelihood as α → ∞ with α/β = K/E: every centre recruits at the pooled rate."""
    k, tau = np.asarray(counts, dtype=float), np.asarray(exposures, dtype=float)
    mean = tau * k.sum() / tau.sum()
    return float(np.sum(special.xlogy(k, mean) - mean - special.gammaln(k + 1)))


def brute_force_maximum(counts, exposures, points: int = 97) -> tuple[float, float, float]:
    """(log-likelihood, alpha, beta) at the largest finite maximum over log α in [-7, 17]."""
    profile = []
    for log_alpha in np.linspace(-7.0, 17.0, points):
        alpha = np.exp(log_alpha)
        best = optimize.minimize_scalar(
            lambda log_beta, a=alpha: -loglik(a, np.exp(log_beta), counts, exposures),
            bounds=(-35.0, 45.0),
            method="bounded",
            options={"xatol": 1e-9},
        )
        profile.append((-best.fun, log_alpha, best.x))
    _, log_alpha, log_beta = max(profile)
    refined = optimize.minimize(
        lambda theta: -loglik(np.exp(theta[0]), np.exp(theta[1]), counts, exposures),
        [log_alpha, log_beta],
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 20_000},
    )
    alpha, beta = np.exp(refined.x)
    return -float(refined.fun), float(alpha), float(beta)


def generated(seed: int, centres: int, alpha: float, mean: float, low: float, high: float):
    rng = np.random.default_rng(seed)
    exposures = rng.uniform(low, high, centres)
    return rng.poisson(rng.gamma(alpha, mean / alpha, centres) * exposures), exposures


FLAT_EXPOSURES = [7.77, 56.372, 6.932, 56.151, 47.828, 42.044, 17.815, 56.644, 32.271, 41.571, 17.886, 31.091,
                  13.897, 13.886, 33.078, 27.037, 18.045, 1.974, 21.008, 42.189, 6.898, 26.404, 36.228, 27.784]  # fmt: skip

DATASETS = {
    "overdispersed": generated(7, 30, 1.0, 0.25, 12, 48),
    "strongly overdispersed": generated(8, 40, 0.2, 0.1, 1, 60),
    "nearly Poisson": generated(9, 30, 200.0, 0.25, 12, 48),
    "very unequal exposures": ([0, 0, 1, 2, 7, 12, 61], [0.05, 0.3, 1.0, 5.0, 40.0, 200.0, 1000.0]),
    "a huge exposure without patients": ([5, 3, 0, 8], [10.0, 12.0, 5000.0, 20.0]),
    "one centre with all the patients": ([0, 0, 0, 7], [5.0, 10.0, 20.0, 10.0]),
    "identical rates": ([10, 10, 10, 10], [20.0, 20.0, 20.0, 20.0]),
    # A negative dispersion score, and still a finite maximum: one patient in 45 months, one in half a month.
    "a site first screened near the end": ([1, 1], [45.3, 0.5]),
    "sites of a few days among long ones": ([0, 0, 1, 0, 0, 1], [0.4, 0.5, 0.9, 55.3, 11.7, 47.4]),
    # A flat likelihood at a large shape: the maximum lies at α ≈ 618.
    "slightly overdispersed": (
        [2, 14, 0, 20, 23, 19, 7, 21, 15, 21, 3, 10, 8, 6, 10, 11, 4, 1, 7, 22, 4, 5, 14, 6],
        FLAT_EXPOSURES,
    ),
}


def assert_fit_is_the_maximum(counts, exposures, best: tuple[float, float, float]) -> None:
    best_loglik, alpha, beta = best
    fit = fit_poisson_gamma(counts, exposures)
    limit = poisson_limit(counts, exposures)
    if best_loglik > limit + 1e-5:  # a finite maximum: the fit is it
        assert fit.method == "mle"
        assert fit.loglik == pytest.approx(loglik(fit.alpha, fit.beta, counts, exposures), abs=1e-9)
        assert fit.loglik >= best_loglik - 1e-8
        assert np.log([fit.alpha, fit.beta]) == pytest.approx(np.log([alpha, beta]), abs=2e-3)
    else:  # the likelihood grows towards α → ∞: the pooled model, one rate Gamma(K, E)
        assert fit.method == "pooled: no overdispersion"
        assert (fit.alpha, fit.beta) == pytest.approx((np.sum(counts), np.sum(exposures)))
        assert fit.loglik == pytest.approx(limit, abs=1e-9)


@pytest.mark.parametrize("name", list(DATASETS))
def test_the_fit_is_the_largest_maximum_of_the_papers_likelihood(name):
    counts, exposures = (np.asarray(values) for values in DATASETS[name])
    assert_fit_is_the_maximum(counts, exposures, brute_force_maximum(counts, exposures))


def test_a_negative_dispersion_score_does_not_hide_a_finite_maximum():
    # Two sites, one patient each: in 45.3 months, and in the half month since the other was first screened.
    fit = fit_poisson_gamma([1, 1], [45.3, 0.5])
    assert fit.dispersion_score < 0  # the score at α = ∞ alone would call this one common rate
    assert fit.method == "mle"
    assert fit.loglik > poisson_limit([1, 1], [45.3, 0.5]) + 0.5
    assert fit.alpha == pytest.approx(0.4199, rel=1e-3)


@pytest.mark.slow
def test_the_fit_is_the_maximum_on_many_generated_registries():
    rng = np.random.default_rng(11)
    for _ in range(150):
        centres = int(rng.integers(2, 25))
        alpha, mean = np.exp(rng.uniform(-2, 6)), np.exp(rng.uniform(-4, 1))
        if rng.random() < 0.5:
            exposures = np.exp(rng.uniform(-3, 5, centres))
        else:
            exposures = np.where(rng.random(centres) < 0.25, rng.integers(1, 30, centres) / 30.44,
                                 rng.uniform(6, 60, centres))  # fmt: skip
        counts = rng.poisson(rng.gamma(alpha, mean / alpha, centres) * exposures)
        if counts.sum() == 0:
            continue
        assert_fit_is_the_maximum(counts, exposures, brute_force_maximum(counts, exposures, points=73))
