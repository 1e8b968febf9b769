"""Every attrition view of one screening result, exact or disclosure-controlled, computed from histograms.

`compute_views` reads the patient or event rows once per grouping (none, site,
year) into histograms and derives the tables from them; `controlled` gives the
copy that may leave the institution (OpenSAFELY rounding, see
oligo_cohort.disclosure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from oligo_cohort.attrition.histogram import OutcomeHistogram, build_histogram, histogram_of_result
from oligo_cohort.attrition.tables import (
    attrition_table,
    controlled_attrition,
    controlled_impact,
    controlled_sets,
    controlled_status,
    failure_sets,
    impact_table,
    resolve_order,
    status_table,
)

STATUS_COUNTS = ("eligible", "unknown", "ineligible", "total")


@dataclass(frozen=True)
class Options:
    """How attrition is computed: level, criterion order, criteria left out, breakdowns, review pass rates."""

    level: str = "patients"
    order: tuple[str, ...] | None = None
    drop: tuple[str, ...] = ()
    by: tuple[str, ...] = ()  # "site", "year"
    review_pass_rates: Mapping[str, float] = field(default_factory=dict)

    def describe(self) -> dict[str, object]:
        """The options as JSON-ready values (for settings.json and the report)."""
        return {
            "level": self.level,
            "order": list(self.order) if self.order else "protocol order",
            "dropped_criteria": list(self.drop),
            "breakdowns": list(self.by),
            "review_pass_rates": dict(self.review_pass_rates),
        }


@dataclass(frozen=True)
class Views:
    """The tables of one level; `by` maps a grouping (site, year) to its grouped attrition table."""

    unit: str  # "patients" or "events"
    order: tuple[str, ...]
    attrition: pd.DataFrame
    impact: pd.DataFrame
    status: pd.DataFrame
    sets: pd.DataFrame
    by: dict[str, pd.DataFrame]
    status_by: dict[str, pd.DataFrame]
    controlled: bool = False

    def set_sizes(self) -> dict[str, float]:
        """Units failing each criterion (for the UpSet plot)."""
        return dict(zip(self.impact["criterion"], self.impact["fail"].astype(float), strict=True))


def unit_word(level: str) -> str:
    """How the units of a level are called in figures."""
    return "patients" if level == "patients" else "events"


def compute_views(units: pd.DataFrame, options: Options) -> Views:
    """All views of `units` (result.patients or result.events) under `options`, exact counts."""
    hist = build_histogram(units, level=options.level)
    grouped: dict[str, OutcomeHistogram] = {g: build_histogram(units, level=options.level, by=g) for g in options.by}
    return views_from_histograms(hist, grouped, options)


def result_views(result, options: Options) -> Views:
    """All views of a ScreeningResult under `options`, exact counts; the histograms are counted by DuckDB."""
    hist = histogram_of_result(result, level=options.level)
    grouped = {g: histogram_of_result(result, level=options.level, by=g) for g in options.by}
    return views_from_histograms(hist, grouped, options)


def views_from_histograms(hist: OutcomeHistogram, grouped: Mapping[str, OutcomeHistogram], options: Options) -> Views:
    """All views from an ungrouped histogram and optional grouped ones."""
    order, drop, rates = options.order, options.drop, options.review_pass_rates
    return Views(
        unit=unit_word(options.level),
        order=resolve_order(hist.criteria, order, drop, root=hist.root).steps,
        attrition=attrition_table(hist, order, drop=drop, review_pass_rates=rates),
        impact=impact_table(hist, order, drop=drop),
        status=status_table(hist),
        sets=failure_sets(hist, order, drop=drop),
        by={g: attrition_table(h, order, drop=drop, review_pass_rates=rates) for g, h in grouped.items()},
        status_by={g: status_table(h) for g, h in grouped.items()},
    )


def controlled(views: Views) -> Views:
    """The disclosure-controlled copy of the views, every table adding up as printed (see tables.controlled_*)."""
    if views.controlled:
        return views
    units = int(views.attrition["remaining"].iloc[0]) if len(views.attrition) else 0
    by = {g: controlled_attrition(t) for g, t in views.by.items()}
    status_by = {g: controlled_status(t) for g, t in views.status_by.items()}
    for grouping, table in by.items():
        hidden = groups_shown_as_none(table)
        by[grouping] = table[~table[table.columns[0]].isin(hidden)].reset_index(drop=True)
        if grouping in status_by:
            status = status_by[grouping]
            hidden_labels = {str(label) for label in hidden}  # the status tables hold their groups as text
            status_by[grouping] = status[~status["group"].astype(str).isin(hidden_labels)].reset_index(drop=True)
    return replace(
        views,
        attrition=controlled_attrition(views.attrition),
        impact=controlled_impact(views.impact),
        status=controlled_status(views.status),
        sets=controlled_sets(views.sets, units),
        by=by,
        status_by=status_by,
        controlled=True,
    )


def groups_shown_as_none(table: pd.DataFrame) -> set[object]:
    """The groups (sites, years) of a controlled grouped attrition table whose units are shown as 0 at its first
    step, and so every count of theirs. They are left out of the controlled views: a group has a row only because
    one of its units is there, so a row of 0s would tell 0 from 1–7, as an exclusion combination shown as 0 would
    (docs/attrition.md A15, A21)."""
    group = table.columns[0]
    first = table.groupby(group, sort=False)["remaining"].transform("first")
    return set(table.loc[pd.to_numeric(first) == 0, group])


def sets_for_csv(sets: pd.DataFrame) -> pd.DataFrame:
    """The exclusion combinations with the criteria spelled as `a + b` (no bitmask column)."""
    return pd.DataFrame(
        {
            "criteria": [" + ".join(combo) for combo in sets["criteria"]],
            "degree": sets["degree"],
            "n": sets["n"],
        }
    )


def wide_by_group(table: pd.DataFrame, value: str = "remaining") -> pd.DataFrame:
    """A grouped attrition table as steps × groups (for reading by site or year at a glance).

    One row per step (`step`, `label`), one column per group in the table's order, each cell the group's `value`
    at that step as the table holds it: counts stay whole numbers (a mean over one row would make them floats).
    """
    group = table.columns[0]
    wide = table.pivot_table(index=["step", "label"], columns=group, values=value, aggfunc="first", sort=False)
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()


def parse_rates(pairs: Sequence[str]) -> dict[str, float]:
    """`["inc_lat_amenable=0.6"]` → `{"inc_lat_amenable": 0.6}` (from --review-pass-rate)."""
    from oligo_cohort.errors import UsageError

    rates: dict[str, float] = {}
    for item in pairs:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--review-pass-rate {item!r}: expected CRITERION=RATE")
        try:
            rates[key.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--review-pass-rate {item!r}: RATE must be a number between 0 and 1") from None
    return rates
