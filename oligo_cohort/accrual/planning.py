"""Site planning: from historical rates and candidate sites to "when do we reach N, and with how many sites".

A *scenario* is one recruitment model of the candidate trial sites on the
trial's clock (months from its start):
- `eligible` / `eligible_or_unknown`: the Poisson–gamma model fitted to the
  registry history (conservative / optimistic bound), each site's rate
  thinned by the share of its patients expected to pass review and consent;
- `planned`: the constant-accrual model with each site's own planned rate as
  an informative prior (only when the sites file gives planned rates).
For each: the time to the target (median, 95 % interval), the count by the
planned end, every site's expected contribution, and the number of sites
needed to finish within the planned duration — taking the candidate sites
best first, then adding new centres without history (which predict from the
prior) opening at the start, until the target is reached within the
duration with 95 % certainty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from oligo_cohort.accrual.assumptions import Assumptions
from oligo_cohort.accrual.centres import CentreRates
from oligo_cohort.accrual.constant_accrual import site_process
from oligo_cohort.accrual.poisson_gamma import PoissonGammaFit, centre_rates, fit_poisson_gamma
from oligo_cohort.accrual.prediction import Prediction
from oligo_cohort.accrual.rates import BOUNDS, History, date_after, pooled_enrol_share
from oligo_cohort.counts_in_words import counted

CERTAINTY = 0.95
MAX_NEW_CENTRES = 1000
NEW_CENTRE = "new centre"

LABELS = {
    "eligible": "Registry rate, eligible patients (conservative)",
    "eligible_or_unknown": "Registry rate, eligible or unknown patients (optimistic)",
    "planned": "Sites' planned rates (constant accrual, informative prior)",
}


@dataclass(frozen=True)
class Scenario:
    """One recruitment model of the candidate trial sites, and the centre a new, history-less site would be."""

    key: str
    label: str
    model: str
    process: CentreRates
    new_centre: CentreRates
    fit: PoissonGammaFit | None = None


def candidates_from_history(history: History) -> pd.DataFrame:
    """Every site of the extract, open from the trial's start (when no sites file is given)."""
    return pd.DataFrame(
        {
            "site_id": history.sites["site_id"].astype(str),
            "activation_date": None,
            "opens": 0.0,
            "planned_rate": np.nan,
        }
    )


def registry_scenario(history: History, bound: str, candidates: pd.DataFrame, assumptions: Assumptions) -> Scenario:
    """Poisson–gamma model fitted to the history of one bound, for the candidate sites."""
    if bound not in BOUNDS:
        raise ValueError(f"unknown bound {bound!r}; choose one of {', '.join(BOUNDS)}")
    sites = history.sites.set_index("site_id")
    fit = fit_poisson_gamma(sites[bound].to_numpy(), sites["exposure_months"].to_numpy())
    pooled_share = pooled_enrol_share(history, bound, assumptions)
    known = candidates["site_id"].isin(sites.index)
    frame = candidates[["site_id", "opens"]].copy()
    frame["count"] = frame["site_id"].map(sites[bound]).where(known, 0).astype(float)
    frame["exposure"] = frame["site_id"].map(sites["exposure_months"]).where(known, 0.0).astype(float)
    frame["scale"] = frame["site_id"].map(sites[f"{bound}_enrol_share"]).astype(float).fillna(pooled_share)
    newcomer = pd.DataFrame({"site_id": [NEW_CENTRE], "opens": [0.0], "count": [0.0], "exposure": [0.0]})
    newcomer["scale"] = pooled_share
    return Scenario(
        key=bound,
        label=LABELS[bound],
        model=fit.describe(),
        process=centre_rates(fit, frame),
        new_centre=centre_rates(fit, newcomer),
        fit=fit,
    )


def planned_scenario(candidates: pd.DataFrame, target: int, assumptions: Assumptions) -> Scenario | None:
    """Constant-accrual model from the sites' planned rates (sites with a positive planned rate); None if none."""
    planned = candidates[candidates["planned_rate"] > 0]
    if planned.empty:
        return None
    duration, certainty = assumptions.duration_months, assumptions.prior_certainty
    site_n = planned["planned_rate"].to_numpy(dtype=float) * duration
    process = site_process(
        target, duration, certainty, [0] * len(planned), 0.0, planned["opens"].to_numpy(dtype=float),
        site_n=site_n, sites=planned["site_id"].tolist(),
    )  # fmt: skip
    mean_n = float(site_n.mean())
    new_centre = site_process(target, duration, certainty, [0], 0.0, [0.0], site_n=[mean_n], sites=[NEW_CENTRE])
    model = (
        f"Constant accrual per site (Gajewski et al. 2008): prior Gamma(n_j·P, T·P) with n_j = planned rate × "
        f"{duration:g} months, P = {certainty:g}; {counted(len(planned), 'site')} with a planned rate."
    )
    return Scenario(key="planned", label=LABELS["planned"], model=model, process=process, new_centre=new_centre)


# --- forecasts --------------------------------------------------------------------------------------------------


def months_to_date(start: dt.date, months: float) -> str:
    """The calendar date `months` (of 365.25/12 days) after `start`, ISO; empty for infinity (or past 9999)."""
    date = date_after(start, months)
    return "" if date is None else date.isoformat()


def forecast(
    scenario: Scenario,
    target: int,
    start: dt.date,
    duration: float,
    *,
    draws: int | None = None,
    seed: int | None = None,
) -> dict[str, object]:
    """Time to the target and count by the planned end for one scenario, as one table row."""
    time = scenario.process.predict_time(target, draws=draws, seed=seed)
    count = scenario.process.predict_count(duration, draws=draws, seed=seed)
    within = float(scenario.process.time_cdf(target, duration)[0])
    return {
        "scenario": scenario.key,
        "description": scenario.label,
        "sites": scenario.process.size,
        "target": target,
        "time_to_target_median_months": time.median,
        "time_to_target_lower_months": time.lower,
        "time_to_target_upper_months": time.upper,
        "date_median": months_to_date(start, time.median),
        "date_lower": months_to_date(start, time.lower),
        "date_upper": months_to_date(start, time.upper),
        "duration_months": duration,
        "probability_target_within_duration": within,
        "expected_by_end": count.mean,
        "count_by_end_lower": count.lower,
        "count_by_end_median": count.median,
        "count_by_end_upper": count.upper,
        "patients_per_year_all_open": float(scenario.process.mean_rates.sum() * 12),
        "method": time.method,
        "model": scenario.model,
    }


def site_contributions(scenario: Scenario, duration: float, start: dt.date) -> pd.DataFrame:
    """Each candidate site's expected enrolments by the planned end, with its own 95 % interval."""
    table = scenario.process.site_counts(duration)
    table.insert(0, "scenario", scenario.key)
    table["opens_date"] = [months_to_date(start, m) for m in table["opens"]]
    table["expected_per_year"] = table.pop("mean_rate") * 12
    return table.rename(columns={"opens": "opens_month"})[
        [
            "scenario",
            "site_id",
            "opens_month",
            "opens_date",
            "expected_per_year",
            "expected",
            "lower",
            "median",
            "upper",
        ]
    ]


def fan(scenario: Scenario, times: np.ndarray) -> pd.DataFrame:
    """Cumulative accrual over time: mean, median and 95 % interval of the count at each time (exact)."""
    quantiles = np.array([scenario.process.count_quantiles(float(t)) for t in times])
    return pd.DataFrame(
        {
            "month": times,
            "mean": scenario.process.mean_count(times),
            "lower": quantiles[:, 0],
            "median": quantiles[:, 1],
            "upper": quantiles[:, 2],
        }
    )


def ranked(scenario: Scenario, duration: float) -> CentreRates:
    """The candidate sites, best first: largest expected enrolment by the planned end (then by name)."""
    expected = scenario.process.site_counts(duration)["expected"].to_numpy()
    order = sorted(range(scenario.process.size), key=lambda i: (-expected[i], scenario.process.names[i]))
    return scenario.process.select(order)


def with_new_centres(process: CentreRates, template: CentreRates, count: int) -> CentreRates:
    """The process plus `count` history-less centres like `template` (each predicting from the prior)."""
    if count == 0:
        return process
    extra = template.select([0] * count)
    extra = CentreRates(
        names=tuple(f"{NEW_CENTRE} {i + 1}" for i in range(count)),
        shape=extra.shape,
        rate=extra.rate,
        opens=extra.opens,
        shared=extra.shared,
        now=extra.now,
    )
    return process.concat(extra)


def sites_needed(
    scenario: Scenario, target: int, duration: float, *, certainty: float = CERTAINTY, max_new: int = MAX_NEW_CENTRES
) -> pd.DataFrame:
    """Probability of reaching the target within the duration as sites are added best first, then new centres.

    One row per number of candidate sites (1..J), then — for 50 % and for
    `certainty`, when all candidates are not enough — a row with the fewest
    new centres that reach it (or `max_new` of them, when even that falls short).
    """
    order = ranked(scenario, duration)
    rows = []
    for k in range(1, order.size + 1):
        rows.append(_needed_row(order.select(range(k)), target, duration, order.names[k - 1], new=0))
    shortfalls = sorted({0.5, certainty} - {level for level in (0.5, certainty) if _reached(rows, level)})
    added: set[int] = set()
    for level in shortfalls:
        new = _fewest_new_centres(order, scenario.new_centre, target, duration, level, max_new)
        if new not in added:
            added.add(new)
            plus = with_new_centres(order, scenario.new_centre, new)
            rows.append(_needed_row(plus, target, duration, f"+{new} new centres", new=new))
    table = pd.DataFrame(rows)
    table.insert(0, "scenario", scenario.key)
    table["reaches_certainty"] = table["probability_within_duration"] >= certainty
    return table


def _reached(rows: list[dict[str, object]], level: float) -> bool:
    return any(float(row["probability_within_duration"]) >= level for row in rows)  # type: ignore[arg-type]


def _needed_row(process: CentreRates, target: int, duration: float, added: str, *, new: int) -> dict[str, object]:
    time: Prediction = process.predict_time(target)
    return {
        "sites": process.size,
        "added": added,
        "new_centres": new,
        "probability_within_duration": float(process.time_cdf(target, duration)[0]),
        "time_to_target_median_months": time.median,
        "time_to_target_lower_months": time.lower,
        "time_to_target_upper_months": time.upper,
    }


def _fewest_new_centres(
    base: CentreRates, template: CentreRates, target: int, duration: float, certainty: float, max_new: int
) -> int:
    """Smallest number of added new centres with P(target within duration) >= certainty (bisection; monotone)."""

    def enough(count: int) -> bool:
        return float(with_new_centres(base, template, count).time_cdf(target, duration)[0]) >= certainty

    if not enough(max_new):
        return max_new
    low, high = 0, 1
    while not enough(high):
        low, high = high, min(2 * high, max_new)
    while high - low > 1:
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle
    return high


def sites_needed_text(table: pd.DataFrame, level: float = CERTAINTY) -> str:
    """The fewest sites reaching `level` probability within the duration, in words (from a `sites_needed` table)."""
    hit = table[table["probability_within_duration"] >= level]
    if hit.empty:
        return f"not reached with {MAX_NEW_CENTRES} new centres"
    row = hit.iloc[0]
    new = int(row["new_centres"])
    if new == 0:
        return f"{int(row['sites'])} of the candidate sites"
    candidates = int(row["sites"]) - new
    return f"{int(row['sites'])} ({counted(candidates, 'candidate site')} + {counted(new, 'new centre')})"
