"""Accrual estimation: how many patients per site per year, and when a trial would reach its target.

Two models, each giving posterior predictive quantiles (2.5 / 50 / 97.5 %):

- Bayesian constant accrual with an informative prior (Gajewski et al. 2008):
  `predict_count`, `predict_time`, the hedging prior
  (`predict_count_hedging`, `predict_time_hedging`) and the multi-site version
  (`predict_count_multisite`, `predict_time_multisite`);
- Poisson–gamma multi-centre recruitment (Anisimov & Fedorov 2007):
  `fit_poisson_gamma`, `centre_rates` → `CentreRates.predict_count/predict_time`.

`build_report` / `write_report` turn a screening result into per-site rates,
forecasts, the sites needed and figures (the `oligo-cohort accrual` command).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oligo_cohort.lazy_exports import lazy_exports

# Public name -> module. Loaded on first use, so that the command line (which imports
# `oligo_cohort.accrual.command` to build its parser) does not pay for SciPy and Matplotlib.
_EXPORTS = {
    "AccrualReport": "report",
    "Assumptions": "assumptions",
    "CentreRates": "centres",
    "PoissonGammaFit": "poisson_gamma",
    "Prediction": "prediction",
    "build_report": "report",
    "centre_rates": "poisson_gamma",
    "fit_poisson_gamma": "poisson_gamma",
    "hedging_posterior": "constant_accrual",
    "predict_count": "constant_accrual",
    "predict_count_hedging": "constant_accrual",
    "predict_count_multisite": "constant_accrual",
    "predict_time": "constant_accrual",
    "predict_time_hedging": "constant_accrual",
    "predict_time_multisite": "constant_accrual",
    "write_report": "report",
}

__all__ = [
    "AccrualReport",
    "Assumptions",
    "CentreRates",
    "PoissonGammaFit",
    "Prediction",
    "build_report",
    "centre_rates",
    "fit_poisson_gamma",
    "hedging_posterior",
    "predict_count",
    "predict_count_hedging",
    "predict_count_multisite",
    "predict_time",
    "predict_time_hedging",
    "predict_time_multisite",
    "write_report",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)


if TYPE_CHECKING:
    from oligo_cohort.accrual.assumptions import Assumptions
    from oligo_cohort.accrual.centres import CentreRates
    from oligo_cohort.accrual.constant_accrual import (
        hedging_posterior,
        predict_count,
        predict_count_hedging,
        predict_count_multisite,
        predict_time,
        predict_time_hedging,
        predict_time_multisite,
    )
    from oligo_cohort.accrual.poisson_gamma import PoissonGammaFit, centre_rates, fit_poisson_gamma
    from oligo_cohort.accrual.prediction import Prediction
    from oligo_cohort.accrual.report import AccrualReport, build_report, write_report
