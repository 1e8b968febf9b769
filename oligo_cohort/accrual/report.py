"""An accrual forecast from a screening result: build every table and figure, and write them with their assumptions.

`build_report` does the work (history → scenarios → forecasts, site
contributions, sites needed, fan and density curves); `write_report` writes
CSV tables, PNG+SVG figures, `assumptions.md` and a manifest into a folder,
atomically (a temporary folder renamed into place). Counts of patients that
leave the institution pass through disclosure control unless it is turned off.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from oligo_cohort import __version__
from oligo_cohort.accrual import planning
from oligo_cohort.accrual.assumptions import DAYS_PER_MONTH, HORIZON_MONTHS, Assumptions
from oligo_cohort.accrual.rates import BOUNDS, History, disclosure_controlled, screening_history
from oligo_cohort.counts_in_words import counted
from oligo_cohort.csv_output import write_csv
from oligo_cohort.destination import OutputFolder, staged_output
from oligo_cohort.errors import UsageError

if TYPE_CHECKING:
    from oligo_cohort.api import ScreeningResult

MANIFEST = "accrual.json"
# Said under disclosure control whether or not a site was left out, and never which or how many (as the attrition
# outputs' note on groups left out, docs/attrition.md A21).
SITES_LEFT_OUT = (
    "A site with 1 to 7 patients in the screening result (of every status, shown as 0) is left out of every table, "
    "figure and forecast, as the attrition outputs leave it out of every table by site: a site is in the result "
    "only because one of its patients is, so any row of its would tell 0 from 1–7. Which sites and how many are "
    "left out is not said."
)
# Said when every site's controlled count is 0, whether the true counts are 0 or 1 to 7 (the same words for both).
TOO_FEW_SHOWN = (
    "Too few patients for a registry forecast that may leave the institution: every site's count of eligible or "
    "unknown patients is shown as 0 under disclosure control (0 to 7 patients each), so a shareable forecast has "
    "no registry history to start from."
)
TOO_FEW_ADVICE = (
    "Either screen a longer registry period or more sites, give the sites' planned rates (--sites), or run with "
    "--no-disclosure-control for an internal forecast whose files must not leave the institution."
)
KIND = "accrual"
FAN_POINTS = 160
DENSITY_POINTS = 300


@dataclass
class AccrualReport:
    """Everything an accrual forecast produces, as tables (figures are drawn from them when written)."""

    target: int
    start: dt.date
    assumptions: Assumptions
    history: History
    candidates: pd.DataFrame
    scenarios: list[planning.Scenario]
    forecast: pd.DataFrame
    contributions: pd.DataFrame
    needed: pd.DataFrame
    fans: dict[str, pd.DataFrame]
    densities: dict[str, pd.DataFrame]
    source: dict[str, object]
    notes: list[str] = field(default_factory=list)

    def intervals(self) -> dict[str, tuple[float, float, float]]:
        """Time to target (lower, median, upper) per scenario."""
        return {
            row.scenario: (
                row.time_to_target_lower_months,
                row.time_to_target_median_months,
                row.time_to_target_upper_months,
            )
            for row in self.forecast.itertuples()
        }


def build_report(
    result: ScreeningResult,
    *,
    target: int,
    start: dt.date,
    sites: pd.DataFrame | None = None,
    assumptions: Assumptions | None = None,
    draws: int | None = None,
    seed: int | None = None,
) -> AccrualReport:
    """Forecast accrual to `target` patients from `start` for the extract's sites (or the given candidate sites)."""
    chosen = assumptions or Assumptions()
    if isinstance(target, bool) or not isinstance(target, int) or target < 1:
        raise UsageError(f"--target must be a positive whole number of patients, got {target!r}")
    history = screening_history(result, chosen)
    notes: list[str] = []
    registry = True  # whether the registry history can be fitted
    if chosen.disclosure_control:
        # From here on only the controlled history is used: what a forecast is made of, and every word said about
        # it, depends on the controlled counts alone (a site shown as 0 may have had 0 patients or 1 to 7).
        history = disclosure_controlled(history)
        counts = history.sites[list(BOUNDS)].to_numpy()
        shown_zero = int((counts == 0).sum())
        if not counts.any():
            registry = False
            notes.append(TOO_FEW_SHOWN)
        elif shown_zero:
            are, them = ("is", "it") if shown_zero == 1 else ("are", "them")
            notes.append(
                f"{counted(shown_zero, 'site count')} {are} shown as 0, which under disclosure control means 0 to 7 "
                f"patients; the forecasts count {them} as 0, so they may lean low (inside the institution, "
                "--no-disclosure-control gives exact forecasts not for sharing)."
            )
    candidates = planning.candidates_from_history(history) if sites is None else sites
    if sites is not None:
        notes += _unmatched_sites(candidates, history, controlled=chosen.disclosure_control)
    scenarios: list[planning.Scenario] = []
    for bound in BOUNDS if registry else ():
        try:
            scenarios.append(planning.registry_scenario(history, bound, candidates, chosen))
        except ValueError as exc:
            shown = (
                " (counts as shown under disclosure control: 0 stands for 0 to 7)" if chosen.disclosure_control else ""
            )
            notes.append(f"No `{bound}` forecast: {exc}{shown}.")
    planned = planning.planned_scenario(candidates, target, chosen)
    if planned is not None:
        scenarios.append(planned)
    if not scenarios:
        if not registry:
            raise UsageError(f"{TOO_FEW_SHOWN[0].lower()}{TOO_FEW_SHOWN[1:]} {TOO_FEW_ADVICE}")
        raise UsageError("nothing to forecast from: " + " ".join(notes))
    if registry:  # said beside a forecast, not in a refusal, whose reason is the want of patients
        notes += short_history_notes(history)
    duration = chosen.duration_months
    forecast = pd.DataFrame([planning.forecast(s, target, start, duration, draws=draws, seed=seed) for s in scenarios])
    # The curves reach as far as the figures' axis can (a century, HORIZON_MONTHS): a tiny planned rate's upper
    # time to target lies millions of months away, and counting patients that far took minutes and gigabytes.
    upper = float(forecast["time_to_target_upper_months"].max())
    horizon = min(max(duration, upper if np.isfinite(upper) else HORIZON_MONTHS), HORIZON_MONTHS) * 1.08
    return AccrualReport(
        target=target,
        start=start,
        assumptions=chosen,
        history=history,
        candidates=candidates,
        scenarios=scenarios,
        forecast=forecast,
        contributions=pd.concat(
            [planning.site_contributions(s, duration, start) for s in scenarios], ignore_index=True
        ),
        needed=pd.concat([planning.sites_needed(s, target, duration) for s in scenarios], ignore_index=True),
        fans={s.key: planning.fan(s, np.linspace(0, horizon, FAN_POINTS)) for s in scenarios},
        densities={s.key: _density(s, target, horizon) for s in scenarios},
        source={"as_of": history.as_of, "history_end": history.shown_date(history.window_end)},
        notes=notes,
    )


MAX_NAMED_SITES = 10
# A registry history shorter than a year has not averaged over the seasons, holidays and a site's first months;
# a site observed for under three months has a rate from a few weeks, which one patient more or less moves by
# several a year (docs/attrition.md A20).
SHORT_HISTORY_MONTHS = 12
SHORT_SITE_MONTHS = 3


def short_history_notes(history: History) -> list[str]:
    """Notes saying how short a history the rates rest on: the whole result's, when under SHORT_HISTORY_MONTHS,
    and each site observed for under SHORT_SITE_MONTHS. A forecast from a day of history is still given (the
    model's intervals widen with few patients), but it must not read as one from years of registry data."""
    observed = history.sites[history.sites["exposure_months"] > 0]
    notes = []
    if observed.empty:
        return notes
    longest = observed.loc[observed["exposure_months"].idxmax()]
    months = float(longest["exposure_months"])
    if months < SHORT_HISTORY_MONTHS:
        notes.append(
            f"The registry history is {_exposure_words(months, history)} long (from "
            f"{history.shown_date(longest['first_date'])} to {history.shown_date(history.window_end)}), under "
            f"{SHORT_HISTORY_MONTHS} months: the rates have not averaged over a year's seasons and a site's first "
            "months, so the registry forecasts are indicative only; an extract covering more of the registry's "
            "years gives firmer ones."
        )
    brief = observed[observed["exposure_months"] < SHORT_SITE_MONTHS].sort_values(["exposure_months", "site_id"])
    if not brief.empty and len(brief) < len(observed):
        pairs = zip(brief["site_id"], brief["exposure_months"], strict=True)
        sites = [f"{site!r} ({_exposure_words(months, history)})" for site, months in pairs]
        notes.append(
            f"Observed for under {SHORT_SITE_MONTHS} months (first screened near the end of the history): "
            f"{_listed(sites)}. "
            "Their rates rest on a few weeks; one patient more or less would move them by several a year."
        )
    return notes


def _listed(sites: list[str]) -> str:
    """Sites as a note names them: the first MAX_NAMED_SITES, then how many more."""
    shown = ", ".join(sites[:MAX_NAMED_SITES])
    return shown + (f" and {len(sites) - MAX_NAMED_SITES} more" if len(sites) > MAX_NAMED_SITES else "")


def _exposure_words(months: float, history: History) -> str:
    """An exposure as said: whole calendar months under disclosure control, else days under a month and months to
    a tenth above it."""
    if history.resolution == "month":
        whole = round(months)
        return counted(whole, "calendar month")
    if months < 1:
        days = round(months * DAYS_PER_MONTH)
        return counted(days, "day")
    return f"{months:.1f} months"


def _unmatched_sites(candidates: pd.DataFrame, history: History, *, controlled: bool = False) -> list[str]:
    """Notes naming the sites of the sites file without history, and the result's sites the file leaves out.

    Site ids match exactly: a site spelled otherwise in the file ('avl' for 'AVL') has no history and predicts
    from the prior alone, which a reader should see rather than find out.
    """

    in_file = [str(site) for site in candidates["site_id"]]
    in_result = [str(site) for site in history.sites["site_id"]]
    file_sites, result_sites = set(in_file), set(in_result)
    only_file = [site for site in in_file if site not in result_sites]
    only_result = [site for site in in_result if site not in file_sites]
    notes = []
    if only_file:
        # Under control a site of the result with 1–7 patients is left out of the history (SITES_LEFT_OUT): it is
        # named in the same words as a site the result does not hold, so that neither is told from the other.
        where = (
            "without a registry history shown (not in the screening result, or with too few patients to show "
            "under disclosure control)"
            if controlled
            else "but not in the screening result"
        )
        notes.append(
            f"Sites in the sites file {where} (no history: each predicts from the fitted prior of centre rates; "
            f"site ids must match exactly): {_listed([repr(site) for site in only_file])}."
        )
    if only_result:
        notes.append(
            "Sites in the screening result but not in the sites file (left out of the forecast; their history "
            f"still shapes the fitted prior): {_listed([repr(site) for site in only_result])}."
        )
    return notes


def _density(scenario: planning.Scenario, target: int, horizon: float) -> pd.DataFrame:
    months = np.linspace(0, horizon, DENSITY_POINTS)
    return pd.DataFrame({"month": months, "density": scenario.process.time_pdf(target, months)})


# --- tables as written ------------------------------------------------------------------------------------------


def site_rates_table(report: AccrualReport) -> pd.DataFrame:
    """Per site: history window, counts and rates of both bounds, and the model's expected enrolments per year."""
    table = report.history.sites.copy()
    table["first_date"] = table["first_date"].map(report.history.shown_date)
    table["window_end"] = table["window_end"].map(report.history.shown_date)
    for scenario in report.scenarios:
        if scenario.key in BOUNDS:
            mine = report.contributions[report.contributions["scenario"] == scenario.key]
            table[f"{scenario.key}_enrolled_per_year_expected"] = table["site_id"].map(
                mine.set_index("site_id")["expected_per_year"]
            )
    return table


def fit_table(report: AccrualReport) -> pd.DataFrame:
    """The fitted gamma prior per registry scenario."""
    rows = [
        {
            "scenario": s.key,
            "method": s.fit.method,
            "centres": s.fit.centres,
            "patients": s.fit.patients,
            "exposure_months": s.fit.exposure,
            "alpha": s.fit.alpha,
            "beta": s.fit.beta,
            "mean_rate_per_month": s.fit.mean_rate,
            "loglik": s.fit.loglik,
            "dispersion_score": s.fit.dispersion_score,
        }
        for s in report.scenarios
        if s.fit is not None
    ]
    return pd.DataFrame(rows)


def output_tables(report: AccrualReport) -> dict[str, pd.DataFrame]:
    """Every table as written, by file name without extension."""
    return {
        "site_rates": site_rates_table(report),
        "monthly_counts": report.history.monthly,
        "forecast": report.forecast,
        "site_forecast": report.contributions,
        "sites_needed": report.needed,
        "model_fit": fit_table(report),
    }


DISCLOSURE_NOTES = (
    "Site counts (site_rates.csv, monthly_counts.csv) are rounded; rates are computed from the rounded counts.",
    "Dates are shown to the month (a site's first screening date and the last of the result are single patients' "
    "scan dates), and each site's exposure is counted in whole calendar months, its first month to the last "
    "month of the result, both included.",
    "Enrol shares (the mean share of a site's patients expected to pass chart review and consent) are computed "
    "from controlled counts of the site's patients per share, parts of its controlled count (running totals, the "
    "largest share first), never from the exact patients; a site shown with 0 patients has no share of its own "
    "(blank) and takes the mean over all sites, computed from the same controlled counts.",
    "Every model is fitted to the rounded counts and these shares, so no forecast, rate, share or parameter "
    "reveals more than the controlled counts do; a count shown as 0 means 0 to 7 patients and counts as 0, "
    "which makes forecasts lean low.",
    SITES_LEFT_OUT,
)


# --- writing ----------------------------------------------------------------------------------------------------


def write_report(report: AccrualReport, out_dir: str | Path | OutputFolder, *, screen_dir: str = "") -> Path:
    """Write tables, figures, assumptions.md and accrual.json into `out_dir`, replacing an earlier forecast there.

    Any other non-empty folder, or one that is or holds an input, is refused (oligo_cohort.destination).
    """
    inputs = [screen_dir] if screen_dir else []
    with staged_output(out_dir, KIND, inputs=inputs) as staging:
        _write_files(report, staging, screen_dir=screen_dir)
    return out_dir.requested if isinstance(out_dir, OutputFolder) else Path(out_dir)


def _write_files(report: AccrualReport, folder: Path, *, screen_dir: str) -> None:
    from oligo_cohort.accrual import plots  # Matplotlib only when figures are written
    from oligo_cohort.disclosure import write_statement

    tables = output_tables(report)
    for name, table in tables.items():
        write_csv(table, folder / f"{name}.csv", float_format="%.6g")
    caption = _caption(report)
    duration = report.assumptions.duration_months
    first = report.contributions[report.contributions["scenario"] == report.scenarios[0].key]
    figures = {
        "accrual_fan_chart": plots.fan_chart(
            report.fans, start=report.start, target=report.target, duration=duration,
            time_intervals=report.intervals(), site_opens=first[["site_id", "opens_month"]], caption=caption,
        ),
        "site_expected_accrual": plots.site_bars(report.contributions, duration=duration, caption=caption),
        "time_to_target": plots.time_density(
            report.densities, report.intervals(), target=report.target, duration=duration, start=report.start,
            caption=caption,
        ),
    }  # fmt: skip
    for name, figure in figures.items():
        plots.save(figure, folder, name)
    (folder / "assumptions.md").write_text(assumptions_markdown(report, screen_dir=screen_dir), encoding="utf-8")
    applied = report.assumptions.disclosure_control
    written = sorted(p.name for p in folder.iterdir() if p.suffix in (".csv", ".png", ".svg", ".md"))
    # A forecast shows no counts that are parts of a shown total (the attrition tables' derived counts): its notes
    # say what it derives from the controlled counts instead.
    write_statement(folder, applied=applied, files=written, notes=DISCLOSURE_NOTES if applied else (),
                    synthetic=report.assumptions.synthetic_source or None, derived=None)  # fmt: skip
    manifest = {
        "tool": "oligo-cohort",
        "version": __version__,
        "command": "accrual",
        "screen_dir": screen_dir,
        "as_of": report.source["as_of"],
        "target": report.target,
        "start": report.start.isoformat(),
        "assumptions": dataclasses.asdict(report.assumptions),
        "scenarios": [s.key for s in report.scenarios],
        "files": sorted([p.name for p in folder.iterdir()] + [MANIFEST]),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")


def _caption(report: AccrualReport) -> str:
    """Every figure's caption: the history, the start, the shares, and how the counts behind it were controlled
    (or that they are exact, for internal use only): a figure travels without disclosure.md."""
    from oligo_cohort.disclosure import FORECAST_RULE, figure_note

    a = report.assumptions
    control = figure_note(applied=a.disclosure_control, synthetic=a.synthetic_source or None, rule=FORECAST_RULE)
    return (
        f"Registry history to {report.source['history_end']}; accrual from {report.start.isoformat()}. Shares passing "
        f"review: lesions amenable {a.lat_amenable_rate:.0%}, consent {a.consent_rate:.0%}, clinician's discretion "
        f"{a.discretion_rate:.0%} (see assumptions.md). {control}"
    )


# --- assumptions.md ---------------------------------------------------------------------------------------------


def headline(report: AccrualReport) -> list[str]:
    """One sentence per scenario: when the target is reached, and what the planned duration yields."""
    lines = []
    needed = {key: planning.sites_needed_text(group) for key, group in report.needed.groupby("scenario", sort=False)}
    for row in report.forecast.itertuples():
        median = row.time_to_target_median_months
        reached = (
            f"N = {row.target} reached after {median:.1f} months (median{_dated(row.date_median)})"
            if np.isfinite(median)
            else f"N = {row.target} is not reached at these rates (median time beyond reach)"
        )
        lines.append(
            f"- **{row.description}**: {reached}; 95 % interval {_months(row.time_to_target_lower_months)}–"
            f"{_months(row.time_to_target_upper_months)} months{_dated(row.date_lower, row.date_upper)}. "
            f"By the planned end ({row.duration_months:g} months): {row.expected_by_end:.1f} expected "
            f"(95 % {row.count_by_end_lower:.0f}–{row.count_by_end_upper:.0f}); "
            f"P(target within the duration) = {_percent(row.probability_target_within_duration)}. "
            f"{row.patients_per_year_all_open:.1f} patients per year with "
            f"{_every_site(row.sites)} open. "
            f"Sites needed for 95 % certainty within the duration: {needed[row.scenario]}."
        )
    return lines


def _dated(*dates: str) -> str:
    """The calendar dates of a time to target, as they follow it in a sentence; nothing when a date is beyond the
    calendar (the year 9999: a forecast for an unattainable target)."""
    if not all(dates):
        return ""
    return f", {dates[0]}" if len(dates) == 1 else f" ({' to '.join(dates)})"


def _every_site(sites: int) -> str:
    """Every site of the forecast, as the headline says it: its 1 site, both sites, all 12 sites."""
    return "its 1 site" if sites == 1 else "both sites" if sites == 2 else f"all {sites:,} sites"


def _months(months: float) -> str:
    """A time in months to one decimal; a time beyond reach (a tiny planned rate) as ∞."""
    return f"{months:.1f}" if np.isfinite(months) else "∞"


def _percent(probability: float) -> str:
    """A probability as a whole percentage, never rounding a possibility to 0 % or 100 %."""
    if 0 < probability < 0.005:
        return "<1%"
    if 0.995 <= probability < 1:
        return ">99%"
    return f"{probability:.0%}"


def assumptions_markdown(report: AccrualReport, *, screen_dir: str = "") -> str:
    """The forecast's inputs, assumptions, models and limitations, in words, with the headline results."""
    a = report.assumptions
    history = report.history
    from_file = report.candidates["activation_date"].notna().any()
    sites_text = (
        f"{len(report.candidates)} candidate sites from the sites file, each open from its activation date "
        "(a site not in the extract predicts from the fitted prior of centre rates)."
        if from_file
        else f"every site of the extract ({len(report.candidates)}), all open from the start."
    )
    lines = [
        "# Accrual forecast: inputs, assumptions and method",
        "",
        "## Results",
        *headline(report),
        "",
        "## Inputs",
        f"- Screening result: `{screen_dir or 'in memory'}`, data cut-off {history.as_of}.",
        f"- Target: N = {report.target} patients enrolled; accrual starts {report.start.isoformat()}; "
        f"planned duration {a.duration_months:g} months.",
        f"- Sites: {sites_text}",
        "",
        "## Counting patients in the registry history",
        "- A patient counts once, at the screening date of the best event: **conservative** bound when that event "
        "is `eligible`, **optimistic** bound when it is `eligible` or `unknown` (every open question resolved in the "
        "patient's favour).",
        (
            f"- Exposure: each site from its first screening date (any event) to the last screening date in the "
            f"result ({history.shown_date(history.window_end)}), both days included, the same end for every site; "
            "months of 365.25/12 days."
            if history.resolution == "day"
            else "- Exposure: each site from the month of its first screening date (any event) to the month of the "
            f"last screening date in the result ({history.shown_date(history.window_end)}), both months included, "
            "in whole calendar months (dates are kept to the month under disclosure control)."
        ),
        "- Events whose confirmation scan is still pending are `unknown`: only the optimistic bound counts them.",
        "",
        "## Shares expected to pass chart review and consent",
        *a.lines(),
        "- Each site's registry rate is multiplied by the mean share of its counted patients (thinning a Poisson "
        "process); a site without counted patients, and a new centre, take the mean share over all sites.",
        "",
        "## Models",
        *[f"- {s.label}: {s.model}" for s in report.scenarios],
        "- Anisimov & Fedorov (2007): centre i recruits as Poisson(λ_i), λ_i ~ Gamma(α, β) fitted by maximum "
        "likelihood (negative binomial), posterior Gamma(α + k_i, β + τ_i). Counts by a date and times to the "
        "target are computed exactly (convolution of the sites' negative binomials; P(T ≤ t) = P(N(t) ≥ N)).",
        "- Sites needed: candidate sites added best first (largest expected enrolment by the planned end), then "
        "new centres without history, opening at the start and predicting from the prior, until the target is "
        "reached within the planned duration with 95 % probability.",
        *[f"- {note}" for note in report.notes],
        "",
        "## Limitations",
        "- The gamma prior's parameters are plugged in as if known: intervals are somewhat too narrow "
        "(Mountain & Sherlock 2022).",
        "- Rates are constant in time: no ramp-up after a site opens, no seasonality, no saturation of the "
        "eligible pool by earlier enrolment.",
        "- Registry eligibility is a proxy for referral to the trial: patients treated elsewhere, or not "
        "recorded in the registry, are missed; the review and consent shares are assumptions, not estimates.",
        "",
        "## Disclosure control",
        (
            "- On: counts of 1–7 patients become 0 and every other count is rounded to the nearest 5 "
            "(`oligo_cohort.disclosure`). " + " ".join(DISCLOSURE_NOTES) + " See disclosure.md."
            if a.disclosure_control
            else f"- Not needed: synthetic data ({a.synthetic_source}); the counts are exact."
            if a.synthetic_source
            else "- **Off** (`--no-disclosure-control`): exact counts; do not share these files outside the institution."
        ),
        "",
    ]
    return "\n".join(lines)
