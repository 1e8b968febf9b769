"""Exact accrual predictions against a simulation of the model itself, written here from its definition.

For a reported time quantile x_q of the time to R more patients, P(N(x_q) >= R) must be q; for a reported count
quantile k_q, P(N <= k_q - 1) < q <= P(N <= k_q). Both are estimated from D simulated counts (rates drawn from
their gamma laws, then a Poisson count over each centre's exposure), so the Monte Carlo error of an estimated
probability is sqrt(q(1 - q) / D): the checks allow Z = 4.5 such errors (a false alarm about once in 150,000).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from oligo_cohort.accrual import (
    CentreRates,
    predict_count,
    predict_count_multisite,
    predict_time,
    predict_time_multisite,
)
from oligo_cohort.accrual.planning import Scenario, forecast

Q = np.array([0.025, 0.5, 0.975])
Z = 4.5


def simulated_counts(rng, shape, rate, exposures, draws: int, *, shared: bool = False) -> np.ndarray:
    """N = Poisson(Σ λ_i d_i), λ_i ~ Gamma(shape_i, rate_i) independent (or λ_i = G / rate_i, G ~ Gamma(shape))."""
    shape, rate, exposures = (np.asarray(v, dtype=float) for v in (shape, rate, exposures))
    if shared:
        rates = rng.gamma(shape[0], 1.0, size=(draws, 1)) / rate[None, :]
    else:
        rates = rng.gamma(shape[None, :], 1.0 / rate[None, :], size=(draws, shape.size))
    return rng.poisson(rates @ exposures)


def assert_time_quantiles(rng, shape, rate, opens, now, more, times, *, draws, shared=False) -> None:
    for q, x in zip(Q, times, strict=True):
        exposures = np.maximum(x - np.maximum(np.asarray(opens, dtype=float), now), 0.0)
        reached = float(np.mean(simulated_counts(rng, shape, rate, exposures, draws, shared=shared) >= more))
        assert abs(reached - q) <= Z * np.sqrt(q * (1 - q) / draws), (q, x, reached)


def assert_count_quantiles(rng, shape, rate, exposures, already, counts, *, draws, shared=False) -> None:
    total = already + simulated_counts(rng, shape, rate, exposures, draws, shared=shared)
    for q, k in zip(Q, counts, strict=True):
        error = Z * np.sqrt(q * (1 - q) / draws)
        assert np.mean(total <= k - 1) - error < q <= np.mean(total <= k) + error, (q, k)


CENTRES = {  # shape, rate, opens (months), patients still to recruit, a time to count by
    "three staggered": ([3.0, 6.0, 2.0], [10.0, 12.0, 8.0], [0.0, 4.0, 10.0], 25, 20.0),
    "one centre": ([2.5], [10.0], [0.0], 5, 12.0),
    "twelve slow centres": (np.full(12, 1.3), np.full(12, 30.0), np.linspace(0, 18, 12), 60, 48.0),
    "a huge exposure without patients beside the prior": (
        [1.2, 1.2, 9.2],
        [5003.0, 3.0, 23.0],
        [0.0, 0.0, 3.0],
        10,
        24.0,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CENTRES))
def test_poisson_gamma_predictions_agree_with_simulating_the_model(name):
    shape, rate, opens, more, when = CENTRES[name]
    process = CentreRates(tuple(f"c{i}" for i in range(len(shape))), shape=shape, rate=rate, opens=opens)
    rng = np.random.default_rng(2024)
    time = process.predict_time(more)
    assert_time_quantiles(rng, shape, rate, opens, 0.0, more, [time.lower, time.median, time.upper], draws=200_000)
    count = process.predict_count(when)
    exposures = np.maximum(when - np.asarray(opens), 0.0)
    assert_count_quantiles(rng, shape, rate, exposures, 0, [count.lower, count.median, count.upper], draws=200_000)
    within = float(process.time_cdf(more, when)[0])
    reached = float(np.mean(simulated_counts(rng, shape, rate, exposures, 200_000) >= more))
    assert abs(reached - within) <= Z * np.sqrt(max(within * (1 - within), 1e-6) / 200_000)


@pytest.mark.slow
def test_the_pooled_models_shared_rate_agrees_with_simulation():
    shape, rate, opens = [30.0, 30.0], [60.0, 120.0], [0.0, 5.0]
    process = CentreRates(("a", "b"), shape=shape, rate=rate, opens=opens, shared=True)
    rng = np.random.default_rng(2025)
    time = process.predict_time(40)
    times = [time.lower, time.median, time.upper]
    assert_time_quantiles(rng, shape, rate, opens, 0.0, 40, times, draws=200_000, shared=True)
    count = process.predict_count(30.0)
    exposures = np.maximum(30.0 - np.asarray(opens), 0.0)
    counts = [count.lower, count.median, count.upper]
    assert_count_quantiles(rng, shape, rate, exposures, 0, counts, draws=200_000, shared=True)


PLANS = [  # n, T, P, m, t, target, t'
    (300, 36.0, 0.5, 100, 10.0, 300, 30.0),
    (60, 48.0, 0.5, 0, 0.0, 60, 48.0),
    (60, 48.0, 1.0, 3, 20.0, 60, 40.0),
    (20, 24.0, 0.1, 19, 30.0, 20, 31.0),  # one patient to go
    (50, 12.0, 0.05, 0, 6.0, 1, 6.5),  # a weak prior, and no patient after 6 months
]


@pytest.mark.slow
@pytest.mark.parametrize("plan", PLANS)
def test_constant_accrual_predictions_agree_with_simulating_the_model(plan):
    n, T, P, m, t, target, t_pred = plan
    shape, rate = [n * P + m], [T * P + t]  # the posterior Gamma(nP + m, TP + t)
    rng = np.random.default_rng(2026)
    time = predict_time(n, T, P, m, t, target)
    assert_time_quantiles(rng, shape, rate, [0.0], t, target - m, [time.lower, time.median, time.upper],
                          draws=200_000)  # fmt: skip
    count = predict_count(n, T, P, m, t, t_pred)
    assert_count_quantiles(rng, shape, rate, [t_pred - t], m, [count.lower, count.median, count.upper],
                           draws=200_000)  # fmt: skip


@pytest.mark.slow
def test_multisite_constant_accrual_agrees_with_simulating_every_site():
    n, T, P, m, t, starts = 90, 24.0, 0.5, [5, 2, 0], 6.0, [0.0, 3.0, 9.0]  # the third site opens after now
    shape = np.full(3, n / 3) * P + np.asarray(m)
    rate = T * P + np.maximum(t - np.asarray(starts), 0.0)  # the site not yet open keeps its prior Gamma(n_j P, TP)
    rng = np.random.default_rng(2027)
    time = predict_time_multisite(n, T, P, m, t, n, starts)
    assert_time_quantiles(rng, shape, rate, starts, t, n - sum(m), [time.lower, time.median, time.upper],
                          draws=200_000)  # fmt: skip
    count = predict_count_multisite(n, T, P, m, t, 20.0, starts)
    exposures = np.maximum(20.0 - np.maximum(starts, t), 0.0)
    assert_count_quantiles(rng, shape, rate, exposures, sum(m), [count.lower, count.median, count.upper],
                           draws=200_000)  # fmt: skip


def test_the_forecasts_probability_within_the_duration_is_its_count_reaching_the_target():
    shape, rate, opens = np.array([3.0, 6.0, 2.0]), np.array([10.0, 12.0, 8.0]), np.array([0.0, 4.0, 10.0])
    process = CentreRates(("a", "b", "c"), shape=shape, rate=rate, opens=opens)
    scenario = Scenario(key="eligible", label="x", model="x", process=process, new_centre=process.select([0]))
    row = forecast(scenario, 25, dt.date(2027, 1, 1), 30.0)
    within = row["probability_target_within_duration"]
    # P(T <= d) = P(N(d) >= target): the time and count distributions of one forecast agree.
    assert within == pytest.approx(1 - process.count_cdf(24, 30.0), abs=1e-12)
    assert (row["time_to_target_median_months"] <= 30.0) == (within >= 0.5)
    assert (row["count_by_end_median"] >= 25) == (within >= 0.5)
    draws = 20_000
    reached = np.mean(simulated_counts(np.random.default_rng(1), shape, rate, np.maximum(30.0 - opens, 0), draws) >= 25)
    assert reached == pytest.approx(within, abs=Z * np.sqrt(within * (1 - within) / draws))
