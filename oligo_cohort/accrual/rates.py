"""Historical recruitment per site from a screening result: eligible patients per site and month, and rates.

A patient counts once, at the screening date of their best event, when that
event is `eligible` (the conservative bound) — or `eligible` or `unknown`
(the optimistic bound: every open question resolved in the patient's favour).

Exposure: each site is observed from its own first screening date (any
event, any status) to the last screening date in the whole result, both days
included: a site first seen on the last day was observed for that one day,
not for none (which left its patients without exposure and stopped every
registry forecast). The common end date, rather than each site's own last
event, avoids the upward bias of "first to last event" (k patients span only
k − 1 gaps) and keeps a site that went quiet at the end in view.

A result screened in worklist mode holds no history: there every patient
whose registration window closed before the cut-off fails
`inc_imaging_window`, so it is refused. Events screened near the end whose
confirmation scan is still pending are `unknown`: the conservative bound
leaves them out, the optimistic bound counts them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from oligo_cohort.accrual.assumptions import DAYS_PER_MONTH, REVIEW_CRITERIA, Assumptions
from oligo_cohort.errors import UsageError

if TYPE_CHECKING:
    from oligo_cohort.api import ScreeningResult


def date_after(start: dt.date, months: float) -> dt.date | None:
    """The calendar date `months` (of 365.25/12 days) after `start`; None for infinity or past the year 9999.

    Python's dates, not pandas' timestamps, which end in 2262: a slow scenario's time to target may lie
    centuries away, and is then a number of months without a date, never an error.
    """
    if not np.isfinite(months):
        return None
    try:
        return (dt.datetime.combine(start, dt.time()) + dt.timedelta(days=float(months) * DAYS_PER_MONTH)).date()
    except OverflowError:
        return None


CONSERVATIVE = "eligible"
OPTIMISTIC = "eligible_or_unknown"
BOUNDS = {CONSERVATIVE: ("eligible",), OPTIMISTIC: ("eligible", "unknown")}
SHARE_COLUMNS = ["site_id", "bound", "enrol_share", "patients"]
PATIENT_HISTORY_COLUMNS = ["patient_id", "site_id", "status", "screening_date", "enrol_share"]


@dataclass(frozen=True)
class History:
    """What the screening result says about each site's past recruitment."""

    patients: pd.DataFrame  # eligible or unknown patients: site_id, status, screening_date, enrol_share (exact only)
    sites: pd.DataFrame  # per site: window, exposure, counts, rates, mean enrol share
    monthly: pd.DataFrame  # per site and calendar month: counts of both bounds
    window_end: pd.Timestamp
    as_of: str
    # Per site, bound and enrol share: the number of the bound's patients with that share (SHARE_COLUMNS), the
    # figures every enrol share is computed from; controlled counts when the history is disclosure-controlled.
    shares: pd.DataFrame
    # How finely dates are known: "day", or "month" in a disclosure-controlled history (`disclosure_controlled`).
    resolution: str = "day"
    # Per site, its patients of every status (as the attrition tables count a site's units): which sites a
    # disclosure-controlled history leaves out (`disclosure_controlled`).
    site_patients: pd.Series | None = None

    def shown_date(self, date: pd.Timestamp) -> str:
        """A date of the history as the outputs show it: YYYY-MM-DD, or YYYY-MM when known to the month."""
        return "" if pd.isna(date) else date.strftime("%Y-%m" if self.resolution == "month" else "%Y-%m-%d")


def load_screening(source: str | Path | ScreeningResult) -> ScreeningResult:
    """A ScreeningResult from a SCREEN_DIR written by `oligo-cohort screen`, or the result itself."""
    from oligo_cohort.api import ScreeningResult, read_screen_dir

    if isinstance(source, ScreeningResult):
        return source
    return read_screen_dir(source)  # which names a path that is missing or not a folder


def enrol_share(patients: pd.DataFrame, assumptions: Assumptions) -> pd.Series:
    """Per patient, the probability of passing the criteria left to chart review and consent (see assumptions)."""
    share = pd.Series(1.0, index=patients.index)
    for criterion in REVIEW_CRITERIA:
        if criterion in patients:
            share = share.where(patients[criterion] != "review", share * assumptions.share(criterion))
    return share


def screening_history(result: ScreeningResult, assumptions: Assumptions) -> History:
    """Counts, exposures and rates per site (see the module notes for the choices)."""
    if getattr(result, "worklist", False):
        source = getattr(result, "source", "") or "the screening result"
        raise UsageError(
            f"{source} was screened with --worklist, where every patient whose registration window "
            "closed before the cut-off fails inc_imaging_window: it holds no registry history to estimate rates "
            "from. Screen the extract again without --worklist for an accrual forecast."
        )
    patients = result.patients
    all_sites = pd.Index(sorted(set(patients["site_id"].dropna().astype(str))), name="site_id")
    # Of the events only each site's first and last screening date count: DuckDB reduces them to a row per site
    # (the events as a frame took 1.9 s of the command at 100k patients).
    dated = (
        result.typed_query("events")
        .filter("screening_date IS NOT NULL")
        .aggregate("site_id, min(screening_date) AS first_date, max(screening_date) AS last_date", "site_id")
        .df()
    )
    if dated.empty:
        raise UsageError("the screening result has no screening events: there is no history to estimate rates from")
    window_end = pd.to_datetime(dated["last_date"]).max()
    known = dated[dated["site_id"].notna()]
    first = pd.Series(pd.to_datetime(known["first_date"]).to_numpy(), index=known["site_id"].astype(str))
    first = first.reindex(all_sites)

    counted = patients.loc[patients["status"].isin(BOUNDS[OPTIMISTIC]) & patients["screening_date"].notna()].copy()
    counted["site_id"] = counted["site_id"].astype(str)
    counted["screening_date"] = pd.to_datetime(counted["screening_date"])
    counted["enrol_share"] = enrol_share(counted, assumptions)

    sites = pd.DataFrame(index=all_sites)
    sites["first_date"] = first
    sites["window_end"] = window_end
    exposure_days = ((window_end - first).dt.days + 1).fillna(0).astype(float)  # both days included
    sites["exposure_months"] = exposure_days / DAYS_PER_MONTH
    shares = _share_counts(counted)
    for bound, statuses in BOUNDS.items():
        chosen = counted[counted["status"].isin(statuses)]
        sites[bound] = chosen.groupby("site_id").size().reindex(all_sites, fill_value=0).astype(int)
        sites[f"{bound}_per_year"] = _per_year(sites[bound], sites["exposure_months"])
        sites[f"{bound}_enrol_share"] = site_enrol_shares(shares, bound).reindex(all_sites)
    return History(
        patients=counted[PATIENT_HISTORY_COLUMNS].reset_index(drop=True),
        sites=sites.reset_index(),
        monthly=_monthly_counts(counted, sites),
        window_end=window_end,
        as_of=str(result.as_of),
        shares=shares,
        site_patients=patients["site_id"].dropna().astype(str).value_counts().reindex(all_sites, fill_value=0),
    )


def _share_counts(counted: pd.DataFrame) -> pd.DataFrame:
    """Per site and bound, the patients with each enrol share, the largest share first (SHARE_COLUMNS).

    Patients with the same review answers have the same share; the shares are rounded to 12 decimals so that
    one product is one share, whatever the order its factors were multiplied in.
    """
    frames = []
    for bound, statuses in BOUNDS.items():
        chosen = counted[counted["status"].isin(statuses)]
        tally = (
            chosen.assign(enrol_share=chosen["enrol_share"].round(12))
            .groupby(["site_id", "enrol_share"])
            .size()
            .rename("patients")
            .reset_index()
        )
        frames.append(tally.assign(bound=bound))
    shares = pd.concat(frames, ignore_index=True).sort_values(
        ["bound", "site_id", "enrol_share"], ascending=[True, True, False], kind="stable"
    )
    return shares[SHARE_COLUMNS].astype({"patients": float}).reset_index(drop=True)


def site_enrol_shares(shares: pd.DataFrame, bound: str) -> pd.Series:
    """Per site, the mean enrol share of the bound's patients, from their counts per share (NaN without any)."""
    mine = shares[(shares["bound"] == bound) & (shares["patients"] > 0)]
    weighted = (mine["enrol_share"] * mine["patients"]).groupby(mine["site_id"]).sum()
    return weighted / mine.groupby("site_id")["patients"].sum()


def _per_year(counts: pd.Series, months: pd.Series) -> pd.Series:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (counts / months * 12).where(months > 0)


def _monthly_counts(counted: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """Patients per site and calendar month over each site's window (months without patients included as 0)."""
    observed = sites[sites["first_date"].notna()]
    if observed.empty:
        return pd.DataFrame(columns=["site_id", "month", CONSERVATIVE, OPTIMISTIC])
    months = pd.period_range(observed["first_date"].min(), observed["window_end"].max(), freq="M")
    grid = pd.MultiIndex.from_product([observed.index, months], names=["site_id", "month"]).to_frame(index=False)
    starts = grid["site_id"].map(observed["first_date"].dt.to_period("M"))
    grid = grid[grid["month"] >= starts]
    month_of = counted.assign(month=counted["screening_date"].dt.to_period("M"))
    for bound, statuses in BOUNDS.items():
        tally = month_of[month_of["status"].isin(statuses)].groupby(["site_id", "month"]).size().rename(bound)
        grid = grid.merge(tally, how="left", left_on=["site_id", "month"], right_index=True)
        grid[bound] = grid[bound].fillna(0).astype(int)
    grid["month"] = grid["month"].astype(str)
    return grid.reset_index(drop=True)


def pooled_enrol_share(history: History, bound: str, assumptions: Assumptions) -> float:
    """Mean enrol share over the bound's patients of every site (for sites without any, and new centres).

    Computed from the counts per share in `history.shares` (controlled counts in a controlled history); the
    product of every review share, as for a patient awaiting review on every criterion, when there are none.
    """
    mine = history.shares[(history.shares["bound"] == bound) & (history.shares["patients"] > 0)]
    total = float(mine["patients"].sum())
    if total == 0:
        return assumptions.lat_amenable_rate * assumptions.consent_rate * assumptions.discretion_rate**2
    return float((mine["enrol_share"] * mine["patients"]).sum() / total)


def disclosure_controlled(history: History) -> History:
    """The history as it may leave the institution: every figure computed from counts after disclosure control.

    Counts per site and per month are rounded (1–7 → 0, else to the nearest 5), and rates are recomputed from
    them. A site's enrol share is the mean over its patients of the share expected to pass chart review and
    consent; a mean over the exact patients would give their exact number away (its denominator), and tell a
    site with 1–7 patients from one with none. So the counts per share are controlled as parts of the site's
    controlled count (`controlled_parts`, the largest share first), and every share — per site and pooled — is
    computed from them: a site shown with 0 patients has no share of its own, and a forecast built on this
    history reveals nothing the controlled counts do not. Dates are kept to the month, and exposures counted in
    whole calendar months. The patient-level rows are left out.

    A site whose patients (of every status) are shown as 0 is left out altogether, as the attrition outputs leave
    it out of every table by site (docs/attrition.md A21): a site is in the result only because a patient of its
    is, so its row, its first month or its share of the forecast would tell 0 from 1–7. Its patients were too few
    to change a forecast by more than the rounding does.
    """
    from oligo_cohort.disclosure import apply_to_frame, controlled_parts

    shown = _sites_shown(history)
    sites = apply_to_frame(history.sites[history.sites["site_id"].isin(shown)], list(BOUNDS))
    sites = sites.reset_index(drop=True).astype({bound: int for bound in BOUNDS})
    # Dates to the month: a site's first screening date and the result's last are single patients' scan dates.
    # Each site is observed over whole calendar months, its first to the result's last, both included (as the
    # monthly counts are), so that no exposure, rate or forecast gives a day away either.
    first = sites["first_date"].dt.to_period("M")
    last = history.window_end.to_period("M")
    months = pd.Series([last.ordinal - f.ordinal + 1 if not pd.isna(f) else 0 for f in first], index=sites.index)
    sites["first_date"] = first.dt.to_timestamp()
    sites["window_end"] = last.to_timestamp()
    sites["exposure_months"] = months.astype(float)
    shares = history.shares[history.shares["site_id"].isin(shown)].reset_index(drop=True)
    for _, rows in shares.groupby(["bound", "site_id"], sort=False).groups.items():
        shares.loc[rows, "patients"] = controlled_parts(shares.loc[rows, "patients"].to_numpy(dtype=float))
    for bound in BOUNDS:
        sites[f"{bound}_per_year"] = _per_year(sites[bound].astype(float), sites["exposure_months"])
        sites[f"{bound}_enrol_share"] = sites["site_id"].map(site_enrol_shares(shares, bound))
    monthly = history.monthly[history.monthly["site_id"].isin(shown)].reset_index(drop=True)
    monthly = apply_to_frame(monthly, list(BOUNDS)).astype({bound: int for bound in BOUNDS})
    return History(
        patients=history.patients.iloc[0:0],
        sites=sites,
        monthly=monthly,
        window_end=last.to_timestamp(),
        as_of=history.as_of,
        shares=shares,
        resolution="month",
    )


def _sites_shown(history: History) -> set[str]:
    """The sites whose patients, of every status, are not shown as 0 under disclosure control (every site when the
    history does not know its sites' patients)."""
    from oligo_cohort.disclosure import round_count

    if history.site_patients is None:
        return set(history.sites["site_id"].astype(str))
    return {str(site) for site, n in history.site_patients.items() if round_count(int(n)) != 0}
