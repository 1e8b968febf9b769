"""Bayesian constant accrual (Gajewski et al. 2008): known answers, simulation vs closed form, hedging, multi-site."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from oligo_cohort.accrual import (
    hedging_posterior,
    predict_count,
    predict_count_hedging,
    predict_count_multisite,
    predict_time,
    predict_time_hedging,
    predict_time_multisite,
)

Q = (0.025, 0.5, 0.975)
DRAWS = 40_000


def quantile_tolerance(pdf_at_quantiles: np.ndarray, draws: int, *, z: float = 4.5) -> np.ndarray:
    """Monte Carlo error of sample quantiles: z standard errors, SE = sqrt(q(1-q)/n) / f(x_q)."""
    q = np.asarray(Q)
    return z * np.sqrt(q * (1 - q) / draws) / pdf_at_quantiles


# The R package `accrual` example: n = 300 in T = 36 months, P = 0.5, 100 accrued after 10 months.
EXAMPLE = {"n": 300, "T": 36.0, "P": 0.5, "m": 100, "t": 10.0}


def test_time_to_target_matches_the_beta_form():
    # accrual.T.inform: t + (TP + t)·B/(1 − B), B ~ Beta(target − m, nP + m), computed here from scipy's beta.
    b = stats.beta.ppf(Q, 300 - 100, 300 * 0.5 + 100)
    expected = 10 + (36 * 0.5 + 10) * b / (1 - b)
    got = predict_time(**EXAMPLE, target=300)
    assert got.method == "exact"
    assert [got.lower, got.median, got.upper] == pytest.approx(expected, rel=1e-10)
    assert got.lower < got.median < got.upper


def test_count_by_a_date_matches_the_negative_binomial():
    # m + NB(nP + m, (TP + t) / (TP + t')), from scipy's nbinom directly.
    p = (36 * 0.5 + 10) / (36 * 0.5 + 30)
    expected = 100 + stats.nbinom.ppf(Q, 250, p)
    got = predict_count(**EXAMPLE, t_pred=30.0)
    assert [got.lower, got.median, got.upper] == pytest.approx(expected)
    assert got.mean == pytest.approx(100 + 250 * 20 / 28)


def test_prior_only_prediction_reaches_n_around_T():
    # Before the trial starts the prior mean rate is n/T: the median time to n is close to T.
    got = predict_time(120, 24.0, 1.0, 0, 0.0, 120)
    assert got.median == pytest.approx(24.0, rel=0.02)
    assert got.lower < 24.0 < got.upper


def test_simulated_time_agrees_with_the_closed_form():
    exact = predict_time(**EXAMPLE, target=300)
    simulated = predict_time(**EXAMPLE, target=300, draws=DRAWS, seed=11)
    scale = 36 * 0.5 + 10
    density = stats.betaprime.pdf((np.array([exact.lower, exact.median, exact.upper]) - 10) / scale, 200, 250) / scale
    tolerance = quantile_tolerance(density, DRAWS)
    assert simulated.method == "simulated" and simulated.draws.shape == (DRAWS,)
    assert abs(simulated.lower - exact.lower) < tolerance[0]
    assert abs(simulated.median - exact.median) < tolerance[1]
    assert abs(simulated.upper - exact.upper) < tolerance[2]


def test_simulated_count_agrees_with_the_closed_form():
    exact = predict_count(**EXAMPLE, t_pred=30.0)
    simulated = predict_count(**EXAMPLE, t_pred=30.0, draws=DRAWS, seed=5)
    pmf = stats.nbinom.pmf(np.array([exact.lower, exact.median, exact.upper]) - 100, 250, 28 / 48)
    tolerance = quantile_tolerance(pmf, DRAWS) + 1  # +1: quantiles of a discrete law move in whole steps
    for got, want, tol in zip(
        (simulated.lower, simulated.median, simulated.upper),
        (exact.lower, exact.median, exact.upper),
        tolerance,
        strict=True,
    ):
        assert abs(got - want) <= tol
    assert simulated.mean == pytest.approx(exact.mean, rel=0.01)


def test_predicting_now_returns_what_has_been_accrued():
    got = predict_count(**EXAMPLE, t_pred=10.0)
    assert (got.lower, got.median, got.upper) == (100, 100, 100)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"P": 0.0}, r"P \(prior certainty\) must be in \(0, 1\]"),
        ({"P": 1.5}, r"P \(prior certainty\) must be in \(0, 1\]"),
        ({"P": -0.2}, r"P \(prior certainty\) must be in \(0, 1\]"),
        ({"m": 301}, r"m \(patients accrued so far, 301\) cannot exceed n"),
        ({"m": -1}, r"m \(patients accrued so far\) must be a non-negative integer"),
        ({"t": -1.0}, r"t \(time elapsed\) must be a non-negative number"),
        ({"n": 0}, r"n \(target sample size\) must be a positive integer"),
        ({"T": 0.0}, r"T \(planned duration\) must be a positive number"),
    ],
)
def test_bad_arguments_are_clear_errors(change, message):
    arguments = EXAMPLE | change
    with pytest.raises(ValueError, match=message):
        predict_count(**arguments, t_pred=40.0)
    with pytest.raises(ValueError, match=message):
        predict_time(**arguments, target=300)


def test_bad_prediction_points_are_clear_errors():
    with pytest.raises(ValueError, match=r"t_pred \(5.0\) is before t \(10.0\)"):
        predict_count(**EXAMPLE, t_pred=5.0)
    with pytest.raises(ValueError, match="t_pred must be a non-negative number"):
        predict_count(**EXAMPLE, t_pred=-3.0)
    with pytest.raises(ValueError, match=r"target \(100\) is already reached"):
        predict_time(**EXAMPLE, target=100)
    with pytest.raises(ValueError, match="draws must be a positive integer"):
        predict_time(**EXAMPLE, target=300, draws=0)


def test_hedging_with_a_single_grid_point_is_the_fixed_prior():
    fixed = predict_time(**EXAMPLE, target=300)
    hedged = predict_time_hedging(300, 36.0, 100, 10.0, 300, grid=[0.5])
    assert [hedged.lower, hedged.median, hedged.upper] == pytest.approx([fixed.lower, fixed.median, fixed.upper])
    fixed_count = predict_count(**EXAMPLE, t_pred=30.0)
    hedged_count = predict_count_hedging(300, 36.0, 100, 10.0, 30.0, grid=[0.5])
    assert (hedged_count.lower, hedged_count.median, hedged_count.upper) == (
        fixed_count.lower,
        fixed_count.median,
        fixed_count.upper,
    )


def test_hedging_posterior_trusts_a_prior_the_data_agree_with():
    agreeing = hedging_posterior(300, 36.0, 100, 12.0)  # 100 in 12 months is the planned pace
    clashing = hedging_posterior(300, 36.0, 100, 40.0)  # 100 in 40 months: far slower than planned
    assert agreeing.weights.sum() == pytest.approx(1.0)
    assert agreeing.quantiles()[1] > clashing.quantiles()[1]
    # A clash moves the time forecast towards the data: later than the fixed P = 1 prior says.
    assert predict_time_hedging(300, 36.0, 100, 40.0, 300).median > predict_time(300, 36.0, 1.0, 100, 40.0, 300).median


def test_hedging_exact_mixture_agrees_with_simulation():
    exact = predict_time_hedging(300, 36.0, 100, 10.0, 300)
    simulated = predict_time_hedging(300, 36.0, 100, 10.0, 300, draws=DRAWS, seed=3)
    assert simulated.median == pytest.approx(exact.median, rel=0.01)
    assert simulated.upper == pytest.approx(exact.upper, rel=0.02)
    count = predict_count_hedging(300, 36.0, 100, 10.0, 30.0)
    count_simulated = predict_count_hedging(300, 36.0, 100, 10.0, 30.0, draws=DRAWS, seed=4)
    assert abs(count_simulated.median - count.median) <= 2
    assert abs(count_simulated.upper - count.upper) <= 4


def test_equal_sites_opened_together_are_one_site():
    # Gammas with one rate add up: J sites sharing n equally and opened at 0 behave as a single site.
    single = predict_time(**EXAMPLE, target=300)
    sites = predict_time_multisite(300, 36.0, 0.5, [40, 35, 25], 10.0, 300, [0.0, 0.0, 0.0])
    assert [sites.lower, sites.median, sites.upper] == pytest.approx(
        [single.lower, single.median, single.upper], rel=1e-6
    )
    count = predict_count(**EXAMPLE, t_pred=30.0)
    site_count = predict_count_multisite(300, 36.0, 0.5, [40, 35, 25], 10.0, 30.0, [0.0, 0.0, 0.0])
    assert (site_count.lower, site_count.median, site_count.upper) == (count.lower, count.median, count.upper)


def test_a_site_not_yet_open_predicts_from_its_prior_alone():
    got = predict_count_multisite(90, 24.0, 0.5, [20, 0], 6.0, 18.0, [0.0, 12.0], site_n=[60, 30])
    late = got.by_site.set_index("site_id").loc["site 2"]
    # Prior Gamma(30·0.5, 24·0.5), open for 18 − 12 = 6 months: NB(15, 12 / 18).
    want = stats.nbinom.ppf(Q, 15, 12 / 18)
    assert [late["lower"], late["median"], late["upper"]] == pytest.approx(want)
    assert late["expected"] == pytest.approx(15 / 12 * 6)
    before_opening = predict_count_multisite(90, 24.0, 0.5, [20, 0], 6.0, 11.0, [0.0, 12.0], site_n=[60, 30])
    assert before_opening.by_site.set_index("site_id").loc["site 2", "expected"] == 0
    with pytest.raises(ValueError, match="not started yet cannot have accrued"):
        predict_count_multisite(90, 24.0, 0.5, [20, 3], 6.0, 18.0, [0.0, 12.0])


def test_more_sites_or_higher_planned_rates_never_lengthen_the_forecast():
    base = predict_time_multisite(100, 24.0, 0.5, [5, 5], 6.0, 100, [0.0, 0.0], site_n=[40, 30])
    more = predict_time_multisite(100, 24.0, 0.5, [5, 5, 0], 6.0, 100, [0.0, 0.0, 9.0], site_n=[40, 30, 20])
    faster = predict_time_multisite(100, 24.0, 0.5, [5, 5], 6.0, 100, [0.0, 0.0], site_n=[60, 30])
    for quicker in (more, faster):
        assert quicker.lower <= base.lower and quicker.median <= base.median and quicker.upper <= base.upper
    assert more.median < base.median


def test_multisite_simulation_agrees_with_the_exact_convolution():
    args = (100, 24.0, 0.5, [5, 5, 0], 6.0)
    exact = predict_time_multisite(*args, 100, [0.0, 0.0, 9.0], site_n=[40, 30, 20])
    simulated = predict_time_multisite(*args, 100, [0.0, 0.0, 9.0], site_n=[40, 30, 20], draws=DRAWS, seed=8)
    assert simulated.median == pytest.approx(exact.median, rel=0.01)
    assert simulated.lower == pytest.approx(exact.lower, rel=0.02)
    assert simulated.upper == pytest.approx(exact.upper, rel=0.02)
