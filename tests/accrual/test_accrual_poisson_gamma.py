"""Poisson–gamma multi-centre model (Anisimov & Fedorov 2007): fit, degenerate data, exact predictions, monotonicity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats
from threadpoolctl import threadpool_info, threadpool_limits

from oligo_cohort.accrual import CentreRates, centre_rates, fit_poisson_gamma

DRAWS = 40_000


def independent_loglik(theta: np.ndarray, counts: np.ndarray, exposures: np.ndarray) -> float:
    """The negative binomial likelihood written with scipy's nbinom (not the package's formula)."""
    alpha, beta = np.exp(theta)
    return float(stats.nbinom.logpmf(counts, alpha, beta / (beta + exposures)).sum())


def simulated_centres(seed: int, centres: int, alpha: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    exposures = rng.uniform(12, 48, centres)
    return rng.poisson(rng.gamma(alpha, 1 / beta, centres) * exposures), exposures


def test_the_fit_is_the_maximum_of_an_independently_written_likelihood():
    counts, exposures = simulated_centres(1, 40, 2.0, 8.0)
    fit = fit_poisson_gamma(counts, exposures)
    assert fit.method == "mle"
    best = optimize.minimize(lambda th: -independent_loglik(th, counts, exposures), [0.0, 1.0], method="Nelder-Mead",
                             options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 5000})  # fmt: skip
    assert fit.loglik == pytest.approx(independent_loglik(np.log([fit.alpha, fit.beta]), counts, exposures))
    assert fit.loglik >= -best.fun - 1e-6
    assert np.log([fit.alpha, fit.beta]) == pytest.approx(best.x, abs=1e-3)


def test_the_fit_recovers_the_generating_prior_from_many_centres():
    counts, exposures = simulated_centres(2, 600, 2.0, 8.0)
    fit = fit_poisson_gamma(counts, exposures)
    assert fit.mean_rate == pytest.approx(0.25, rel=0.06)
    assert fit.alpha == pytest.approx(2.0, rel=0.25)


def test_the_fit_runs_its_linear_algebra_on_one_blas_thread(monkeypatch):
    """L-BFGS-B's steps on two parameters are too small for OpenBLAS's threads, which wait for each other on cores
    busy with other work (a 4-centre fit 0.37 s against 0.009 s on one thread): the fit limits BLAS to one thread,
    whatever the process allows outside it, and gives the process its threads back."""
    seen: list[int] = []
    minimize = optimize.minimize

    def watched(*args, **kwargs):
        seen.extend(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")
        return minimize(*args, **kwargs)

    monkeypatch.setattr(optimize, "minimize", watched)
    counts, exposures = simulated_centres(1, 40, 2.0, 8.0)
    with threadpool_limits(limits=2, user_api="blas"):
        fit = fit_poisson_gamma(counts, exposures)
        after = {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}
    assert fit.method == "mle"
    assert seen and set(seen) == {1}
    assert after == {2}


def test_no_patients_at_all_is_a_clear_error():
    with pytest.raises(ValueError, match=r"no patients in 30.0 centre-months at 2 centres:"):
        fit_poisson_gamma([0, 0], [10.0, 20.0])
    with pytest.raises(ValueError, match="no centre has any exposure"):
        fit_poisson_gamma([0], [0.0])
    with pytest.raises(ValueError, match="positive exposure"):
        fit_poisson_gamma([3, 1], [0.0, 5.0])
    with pytest.raises(ValueError, match="non-negative integers"):
        fit_poisson_gamma([-1, 2], [5.0, 5.0])


def test_one_centre_gives_the_pooled_model():
    fit = fit_poisson_gamma([6, 0], [24.0, 0.0])  # the second centre has no history and is ignored by the fit
    assert fit.method == "pooled: one centre" and fit.shared
    assert (fit.alpha, fit.beta) == (6, 24.0)


def test_counts_without_overdispersion_give_the_pooled_model():
    # Identical rates: the likelihood increases towards alpha = infinity.
    fit = fit_poisson_gamma([10, 10, 10, 10], [20.0, 20.0, 20.0, 20.0])
    assert fit.method == "pooled: no overdispersion"
    assert fit.dispersion_score <= 0
    assert (fit.alpha, fit.beta) == (40, 80.0)
    # The common rate keeps its estimation uncertainty: a new centre's rate has CV 1/sqrt(40), not 0.
    assert fit.rate_cv == pytest.approx(1 / np.sqrt(40))


def frame(counts, exposures, opens, scale=None) -> pd.DataFrame:
    data = {"site_id": [f"c{i}" for i in range(len(counts))], "count": counts, "exposure": exposures, "opens": opens}
    if scale is not None:
        data["scale"] = scale
    return pd.DataFrame(data)


def test_posteriors_and_the_prior_of_a_centre_without_history():
    counts, exposures = simulated_centres(3, 30, 2.0, 8.0)
    fit = fit_poisson_gamma(counts, exposures)
    process = centre_rates(fit, frame([counts[0], 0], [exposures[0], 0.0], [0.0, 6.0], scale=[0.5, 1.0]))
    assert process.shape == pytest.approx([fit.alpha + counts[0], fit.alpha])
    assert process.rate == pytest.approx([(fit.beta + exposures[0]) / 0.5, fit.beta])  # thinning halves the rate
    assert not process.shared


def test_the_exact_total_is_the_convolution_of_the_centres():
    process = CentreRates(("a", "b"), shape=[2.0, 5.0], rate=[4.0, 2.0], opens=[0.0, 3.0])
    pmf = process.count_pmf(8.0, 40)
    a = stats.nbinom.pmf(np.arange(41), 2.0, 4.0 / 12.0)
    b = stats.nbinom.pmf(np.arange(41), 5.0, 2.0 / 7.0)
    brute = np.array([sum(a[i] * b[k - i] for i in range(k + 1)) for k in range(41)])
    assert pmf == pytest.approx(brute, abs=1e-14)


def test_exact_predictions_agree_with_simulation_for_staggered_centres():
    process = CentreRates(("a", "b", "c"), shape=[3.0, 6.0, 2.0], rate=[10.0, 12.0, 8.0], opens=[0.0, 4.0, 10.0])
    exact = process.predict_time(25)
    simulated = process.predict_time(25, draws=DRAWS, seed=1)
    assert simulated.median == pytest.approx(exact.median, rel=0.01)
    assert simulated.lower == pytest.approx(exact.lower, rel=0.02)
    assert simulated.upper == pytest.approx(exact.upper, rel=0.02)
    count = process.predict_count(20.0)
    count_simulated = process.predict_count(20.0, draws=DRAWS, seed=2)
    assert abs(count_simulated.median - count.median) <= 1
    assert abs(count_simulated.upper - count.upper) <= 2
    assert count.mean == pytest.approx(0.3 * 20 + 0.5 * 16 + 0.25 * 10)


def test_shared_rate_closed_form_agrees_with_simulation():
    process = CentreRates(("a", "b"), shape=[30.0, 30.0], rate=[60.0, 120.0], opens=[0.0, 5.0], shared=True)
    exact = process.predict_time(40)
    simulated = process.predict_time(40, draws=DRAWS, seed=4)
    assert simulated.median == pytest.approx(exact.median, rel=0.01)
    assert simulated.upper == pytest.approx(exact.upper, rel=0.02)
    # P(T <= t) from the beta-prime form equals P(N(t) >= 40) from the negative binomial.
    assert process.time_cdf(40, 50.0)[0] == pytest.approx(1 - process.count_cdf(39, 50.0))


def test_anisimov_fedorov_gamma_approximation_is_close_to_exact():
    counts, exposures = simulated_centres(5, 25, 2.0, 8.0)
    process = centre_rates(fit_poisson_gamma(counts, exposures), frame(counts, exposures, np.linspace(0, 6, 25)))
    exact = process.predict_time(150)
    approximate = process.predict_time(150, method="gamma-approximation")
    assert approximate.method == "gamma-approximation"
    assert approximate.median == pytest.approx(exact.median, rel=0.01)
    assert approximate.upper == pytest.approx(exact.upper, rel=0.03)


def test_a_centre_adds_nothing_before_it_opens():
    open_now = CentreRates(("a",), shape=[4.0], rate=[8.0], opens=[0.0])
    with_late = open_now.concat(CentreRates(("late",), shape=[4.0], rate=[2.0], opens=[12.0]))
    assert with_late.count_quantiles(11.9) == pytest.approx(open_now.count_quantiles(11.9))
    assert with_late.site_counts(11.9).set_index("site_id").loc["late", "expected"] == 0
    assert with_late.predict_count(24.0).median > open_now.predict_count(24.0).median


centre = st.tuples(
    st.floats(0.5, 20.0),  # shape
    st.floats(0.5, 40.0),  # rate
    st.floats(0.0, 24.0),  # opening time
)


@settings(max_examples=25, deadline=None)
@given(st.lists(centre, min_size=1, max_size=4), centre, st.integers(1, 30), st.floats(1.1, 4.0))
def test_more_centres_or_higher_rates_never_lengthen_the_forecast(centres, extra, target, speed_up):
    shape, rate, opens = (np.array(values) for values in zip(*centres, strict=True))
    names = tuple(f"c{i}" for i in range(len(centres)))
    base = CentreRates(names, shape, rate, opens)
    more = base.concat(CentreRates(("extra",), [extra[0]], [extra[1]], [extra[2]]))
    faster = CentreRates(names, shape, rate / speed_up, opens)  # a smaller gamma rate is a larger mean rate
    slack = 1e-6 * (1 + float(np.max(opens)))
    reference = base.time_quantiles(target)
    for quicker in (more, faster):
        assert np.all(quicker.time_quantiles(target) <= reference + slack)
        assert quicker.time_cdf(target, 30.0)[0] >= base.time_cdf(target, 30.0)[0] - 1e-9


def test_long_convolutions_by_fft_equal_the_direct_sum():
    from oligo_cohort.accrual.centres import FFT_FROM, convolve_truncated, negative_binomial_pmfs

    rng = np.random.default_rng(7)
    pmfs = negative_binomial_pmfs(FFT_FROM + 100, rng.uniform(50, 70, 5), rng.uniform(0.38, 0.42, 5))
    direct = np.zeros(pmfs.shape[1])
    direct[0] = 1.0
    for row in pmfs:
        direct = np.convolve(direct, row)[: pmfs.shape[1]]
    assert convolve_truncated(pmfs) == pytest.approx(direct, abs=1e-13)
    assert direct.sum() > 0.5  # the comparison covers the bulk of the distribution, not only its tail
