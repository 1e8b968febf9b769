"""Poisson–gamma multi-centre recruitment (Anisimov & Fedorov 2007): fit the prior of centre rates, then posteriors.

Centre i recruits as Poisson(λ_i), λ_i ~ Gamma(α, β). Its count k_i over an
exposure τ_i is then negative binomial NB(α, β / (β + τ_i)); (α, β) are fitted
by maximum likelihood over the centres with history, and each centre's rate
has the posterior Gamma(α + k_i, β + τ_i) — which is the prior itself for a
centre with no history (k = τ = 0), e.g. one not yet open.

Degenerate data, handled explicitly (the fit says which case applied):
- no patient at all (K = Σk = 0): the rate cannot be estimated — `ValueError`;
- one centre with history: α and β are not separately identifiable (only
  their ratio is) — the *pooled* model below;
- no overdispersion (no finite α has a larger likelihood than the Poisson
  limit α → ∞, or the MLE of α runs off to infinity): every centre has the
  same rate. Plugging α = ∞ in would claim that common rate is known
  exactly. The *pooled* model keeps its uncertainty instead: one common rate
  λ ~ Gamma(K, E) (its posterior under the prior 1/λ), shared by every
  centre, new ones included.

The score for 1/α at 0, Σ[(k_i − τ_i K/E)² − k_i] (`dispersion_score`), is
reported but does not decide: it is a local condition at α = ∞, and with
very unequal exposures (a site first screened days before the end, docs/attrition.md A16) the
likelihood can have its maximum at a finite α while the score is negative —
two sites with one patient each, in 45 months and in half a month, are not
one rate. The likelihood is maximised from several starting shapes, and the
largest maximum is compared with the Poisson limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special
from threadpoolctl import ThreadpoolController

from oligo_cohort.accrual.centres import CentreRates
from oligo_cohort.counts_in_words import counted

FitMethod = Literal["mle", "pooled: no overdispersion", "pooled: one centre"]

# Beyond this shape the fitted gamma is numerically a point mass: treated as no overdispersion.
MAX_SHAPE = 1e6
# A finite shape must beat the Poisson limit's log-likelihood by more than rounding (the gamma functions at shapes
# near MAX_SHAPE lose about 1e-9 each) to be a maximum.
LOGLIK_GAIN = 1e-6
# Starting shapes of the maximisation besides the method of moments: the likelihood in α can have a local maximum
# at α → ∞ beside the global one, and a start on the wrong side of the valley finds only the first.
START_SHAPES = (0.1, 1.0, 10.0, 100.0)


@dataclass(frozen=True)
class PoissonGammaFit:
    """The fitted gamma prior of centre rates (per time unit of the exposures), and how it was obtained."""

    alpha: float
    beta: float
    method: FitMethod
    loglik: float
    centres: int  # centres with exposure, used in the fit
    patients: int  # K, the total count
    exposure: float  # E, the total exposure
    dispersion_score: float

    @property
    def shared(self) -> bool:
        """True when every centre shares one common rate (the pooled model)."""
        return self.method != "mle"

    @property
    def mean_rate(self) -> float:
        """Expected rate of a centre without history."""
        return self.alpha / self.beta

    @property
    def rate_cv(self) -> float:
        """Coefficient of variation of a new centre's rate (between-centre spread, or pooled-rate uncertainty)."""
        return float(1.0 / np.sqrt(self.alpha))

    def describe(self) -> str:
        """One sentence for reports."""
        if self.method == "mle":
            return (
                f"Gamma prior of centre rates fitted by maximum likelihood over {self.centres} centres: "
                f"alpha = {self.alpha:.3g}, beta = {self.beta:.3g} (mean {self.mean_rate:.3g} per month, "
                f"between-centre CV {self.rate_cv:.0%})."
            )
        reason = "only one centre has history" if self.method == "pooled: one centre" else "no overdispersion"
        return (
            f"Pooled model ({reason}): one common rate Gamma({self.alpha:.3g}, {self.beta:.3g}) shared by every "
            f"centre — {self.patients} patients in {self.exposure:.1f} centre-months, mean {self.mean_rate:.3g} "
            f"per month, CV {self.rate_cv:.0%}."
        )


def negative_binomial_loglik(alpha: float, beta: float, counts: np.ndarray, exposures: np.ndarray) -> float:
    """Log-likelihood of the counts under the Poisson–gamma model (exposures > 0)."""
    k, tau = np.asarray(counts, dtype=float), np.asarray(exposures, dtype=float)
    return float(
        np.sum(
            special.gammaln(alpha + k)
            - special.gammaln(alpha)
            - special.gammaln(k + 1)
            + alpha * np.log(beta / (beta + tau))
            + k * np.log(tau / (beta + tau))
        )
    )


def _poisson_loglik(counts: np.ndarray, exposures: np.ndarray) -> float:
    rate = counts.sum() / exposures.sum()
    mean = rate * exposures
    return float(np.sum(special.xlogy(counts, mean) - mean - special.gammaln(counts + 1)))


def _check_data(counts: np.ndarray, exposures: np.ndarray) -> None:
    if counts.shape != exposures.shape or counts.ndim != 1:
        raise ValueError("counts and exposures must be two lists of the same length")
    if np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise ValueError("counts must be non-negative integers")
    if np.any(~np.isfinite(exposures)) or np.any(exposures < 0):
        raise ValueError("exposures must be non-negative numbers")
    if np.any((exposures == 0) & (counts > 0)):
        raise ValueError("a centre with patients must have a positive exposure")


def fit_poisson_gamma(counts: np.ndarray | list[int], exposures: np.ndarray | list[float]) -> PoissonGammaFit:
    """Maximum-likelihood gamma prior of centre rates from per-centre counts and exposures (see module notes)."""
    k = np.asarray(counts, dtype=float)
    tau = np.asarray(exposures, dtype=float)
    _check_data(k, tau)
    used = tau > 0
    k, tau = k[used], tau[used]
    total, exposure = int(k.sum()), float(tau.sum())
    if k.size == 0:
        raise ValueError("no centre has any exposure: the recruitment rate cannot be estimated")
    if total == 0:
        raise ValueError(
            f"no patients in {exposure:.1f} centre-months at {counted(k.size, 'centre')}: the recruitment rate "
            "cannot be estimated"
        )
    pooled_rate = total / exposure
    score = float(np.sum((k - tau * pooled_rate) ** 2 - k))
    pooled = {"centres": int(k.size), "patients": total, "exposure": exposure, "dispersion_score": score}
    if k.size == 1:
        return PoissonGammaFit(total, exposure, "pooled: one centre", _poisson_loglik(k, tau), **pooled)
    alpha, beta = _maximise(k, tau, pooled_rate)
    poisson = _poisson_loglik(k, tau)
    loglik = negative_binomial_loglik(alpha, beta, k, tau)
    if alpha >= MAX_SHAPE or not loglik > poisson + LOGLIK_GAIN:
        return PoissonGammaFit(total, exposure, "pooled: no overdispersion", poisson, **pooled)
    return PoissonGammaFit(alpha, beta, "mle", loglik, **pooled)


def _maximise(k: np.ndarray, tau: np.ndarray, pooled_rate: float) -> tuple[float, float]:
    """MLE of (alpha, beta) on the log scale: the best of the maxima from the method of moments and START_SHAPES."""
    rates = k / tau
    exposure = tau.sum()
    spread = (np.sum(tau * (rates - pooled_rate) ** 2) - (k.size - 1) * pooled_rate) / (
        exposure - np.sum(tau**2) / exposure
    )
    shapes = (pooled_rate**2 / spread,) if spread > 0 else ()

    def negative(theta: np.ndarray) -> tuple[float, np.ndarray]:
        alpha, beta = np.exp(theta)
        digamma = special.digamma(alpha + k) - special.digamma(alpha) + np.log(beta / (beta + tau))
        grad_alpha = alpha * np.sum(digamma)
        grad_beta = beta * np.sum(alpha / beta - (alpha + k) / (beta + tau))
        return -negative_binomial_loglik(alpha, beta, k, tau), -np.array([grad_alpha, grad_beta])

    bounds = [(np.log(1e-8), np.log(MAX_SHAPE) + 1), (np.log(1e-12), np.log(MAX_SHAPE / pooled_rate) + 1)]
    # Tight tolerances: at large shapes the likelihood is flat, and the default ones stopped at α = 447 for 618.
    # One BLAS thread: L-BFGS-B's steps are linear algebra on two parameters, and OpenBLAS hands them to its threads
    # and waits: on cores busy with other work, a fit of 4 centres took 0.37 s against 0.009 s on one thread.
    with _blas_libraries().limit(limits=1, user_api="blas"):
        results = [
            optimize.minimize(
                negative,
                np.clip(np.log([shape, shape / pooled_rate]), *np.transpose(bounds)),
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"ftol": 1e-15, "gtol": 1e-9},
            )
            for shape in (*shapes, *START_SHAPES)
        ]
    alpha, beta = np.exp(min(results, key=lambda result: result.fun).x)
    return float(alpha), float(beta)


@cache
def _blas_libraries() -> ThreadpoolController:
    """The BLAS libraries this process has loaded (NumPy's and SciPy's OpenBLAS, loaded with this module's imports),
    found once: finding them takes some milliseconds, setting their threads microseconds."""
    return ThreadpoolController()


def centre_rates(
    fit: PoissonGammaFit,
    centres: pd.DataFrame,
    *,
    now: float = 0.0,
) -> CentreRates:
    """The recruitment process of the given centres under the fit.

    `centres` has columns `site_id`, `count`, `exposure` (history; 0 and 0 for
    a centre without any, which then predicts from the prior), `opens` (when it
    starts recruiting, on the forecast clock) and optionally `scale`: the share
    of the counted patients expected to enrol (thinning a Poisson process
    multiplies its rate: λ·q ~ Gamma(shape, rate / q)).
    """
    scale = centres["scale"].to_numpy(dtype=float) if "scale" in centres else np.ones(len(centres))
    if np.any(~(scale > 0)) or np.any(scale > 1):
        raise ValueError("the share of patients expected to enrol must be in (0, 1] at every centre")
    if fit.shared:
        shape = np.full(len(centres), fit.alpha)
        rate = np.full(len(centres), fit.beta)
    else:
        shape = fit.alpha + centres["count"].to_numpy(dtype=float)
        rate = fit.beta + centres["exposure"].to_numpy(dtype=float)
    return CentreRates(
        names=tuple(str(s) for s in centres["site_id"]),
        shape=shape,
        rate=rate / scale,
        opens=centres["opens"].to_numpy(dtype=float),
        shared=fit.shared,
        now=now,
    )
