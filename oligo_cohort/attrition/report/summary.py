"""The report's first screen: how many were screened, eligible on registry data and after chart review, the
reasons that exclude most, and the sites.
"""

from __future__ import annotations

import pandas as pd

from oligo_cohort.attrition.labels import n_text
from oligo_cohort.attrition.report.content import ReportContent
from oligo_cohort.attrition.report.html_parts import as_number, bounds, card, esc, number_or_zero
from oligo_cohort.attrition.report.provenance import short_banner
from oligo_cohort.attrition.tables import SECTION_REGISTRY, SECTION_REVIEW
from oligo_cohort.attrition.views import Views
from oligo_cohort.counts_in_words import counted
from oligo_cohort.shown_labels import short_labels


def section_end(table: pd.DataFrame, section: str) -> pd.Series:
    """The last row of a section of an attrition table (the start row when the section is empty)."""
    rows = table[table["section"] == section]
    return rows.iloc[-1] if len(rows) else table.iloc[0]


def top_criteria(impact: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """The `k` reasons that exclude most (criteria, or the root cause no candidate screening scan): largest Shapley
    share of the excluded units (ties: more fails first)."""
    ranked = impact.assign(
        _shapley=pd.to_numeric(impact["shapley"], errors="coerce").astype(float),
        _fail=pd.to_numeric(impact["fail"], errors="coerce").astype(float),
    )
    ranked = ranked[ranked["_shapley"] > 0].sort_values(["_shapley", "_fail"], ascending=False, kind="stable")
    return ranked.head(k).drop(columns=["_shapley", "_fail"])


def group_summary(views: Views, grouping: str) -> pd.DataFrame:
    """Per group (its label as `shown_labels` gives it): screened, not excluded on registry data (bounds),
    potentially eligible (bounds), ineligible.

    One row per group and a last row with the sums of the rows shown (under
    disclosure control each group is controlled on its own, so the sums need
    not equal the overall counts; the report says so).
    """
    table = views.by[grouping]
    group = table.columns[0]
    shown = short_labels(str(label) for label in table[group])  # a site id as the figures show it
    rows = []
    for label, steps in table.groupby(group, sort=False):
        steps = steps.drop(columns=group)
        registry = section_end(steps, SECTION_REGISTRY)
        last = steps.iloc[-1]
        rows.append(
            {
                "group": shown[str(label)],
                "screened": steps["remaining"].iloc[0],
                "registry_known": registry["remaining_if_unknown_fail"],
                "registry": registry["remaining"],
                "eligible": last["remaining_if_unknown_fail"],
                "potential": last["remaining"],
                "excluded": number_or_zero(steps["remaining"].iloc[0]) - number_or_zero(last["remaining"]),
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    sums = {"group": f"Sum of the {len(frame)} rows above"}
    sums |= {c: frame[c].map(number_or_zero).sum() for c in frame.columns if c != "group"}
    return pd.concat([frame, pd.DataFrame([sums])], ignore_index=True)


def summary_section(content: ReportContent) -> list[str]:
    views = content.patients
    table = views.attrition
    unit = views.unit
    start = table.iloc[0]
    registry = section_end(table, SECTION_REGISTRY)
    last = table.iloc[-1]
    review = table[(table["section"] == SECTION_REVIEW) & (pd.to_numeric(table["to_review"]).fillna(0) > 0)]
    pending = ", ".join(f"{row.label.lower()} ({n_text(row.to_review)})" for row in review.itertuples())
    cards = [
        card(
            f"{unit.capitalize()} screened",
            n_text(start["remaining"]),
            _screened_detail(content),
        ),
        card(
            "Not excluded on registry data",
            bounds(registry["remaining_if_unknown_fail"], registry["remaining"]),
            "no registry criterion fails: every one met (unknown as fail) – some unknown (unknown as pass); "
            "chart-review criteria are counted in the next box",
        ),
        card(
            "Potentially eligible after chart review",
            bounds(last["remaining_if_unknown_fail"], last["remaining"]),
            "no criterion fails (unknown as fail – unknown as pass)"
            + (f"; chart review still decides: {esc(pending)}" if pending else ""),
        ),
    ]
    if pd.to_numeric(table["expected_remaining"], errors="coerce").notna().any():
        rated = table[pd.to_numeric(table["assumed_pass_rate"], errors="coerce").notna()]
        rates = "; ".join(
            f"{row.label.lower()} {100 * float(row.assumed_pass_rate):.0f} %" for row in rated.itertuples()
        )
        cards.append(
            card(
                "Expected after chart review",
                f"≈ {n_text(last['expected_remaining'])}",
                f"assumed pass rates: {esc(rates)}; other chart-review criteria assumed met",
            )
        )
    cards += [card(label, value, esc(detail)) for label, value, detail in content.extra_cards]
    accrual = content.accrual
    if accrual is not None and accrual.forecast is not None and not accrual.forecast.empty:
        rows = accrual.forecast.set_index("scenario")
        registry = [key for key in ("eligible_or_unknown", "eligible") if key in rows.index]
        months = [str(rows.loc[key, "median"]).split(" (")[-1].rstrip(")") for key in registry]
        chances = " / ".join(str(rows.loc[key, "probability"]) for key in registry)
        cards.append(
            card(
                f"Target N = {accrual.target:,} reached (median)",
                " – ".join(dict.fromkeys(months)),
                "registry rates: eligible or unknown (optimistic) – eligible only (conservative); "
                f"P(within {esc(accrual.duration)}) = {esc(chances)}; see Accrual forecast",
            )
        )
    elif accrual is not None and accrual.unavailable:
        cards.append(card(f"Target N = {accrual.target:,}", "no forecast", esc(accrual.unavailable)))
    top = top_criteria(views.impact)
    excluded_total = pd.to_numeric(views.impact["shapley"], errors="coerce").sum()
    top_rows = "".join(
        f"<tr><td>{esc(row.reason)}</td><td class='num'>{n_text(row.fail)}</td>"
        f"<td class='num'>{as_number(row.shapley_pct) or 0:.0f} %</td></tr>"
        for row in top.itertuples()
    )
    top_table = (
        f"<table><caption>The three reasons that exclude most (of {n_text(excluded_total)} {unit} excluded)"
        "</caption><thead><tr><th>Reason</th><th class='num'>Fail</th><th class='num'>Share</th></tr></thead>"
        f"<tbody>{top_rows or '<tr><td colspan=3>none excluded</td></tr>'}</tbody></table>"
    )
    sites = _sites_glance(views)
    parts = [
        '<section class="summary">',
        "<h2>Summary</h2>",
        f'<div class="cards">{"".join(cards)}</div>',
        f'<div class="columns"><div>{top_table}'
        "<p class='muted'>Share: each excluded patient is shared equally among the criteria they fail "
        "(Shapley value); a patient without a candidate screening scan counts for that reason alone; fail: patients "
        "failing the criterion at all.</p></div>",
        f"<div>{sites}</div></div>",
        short_banner(content.disclosure),
        "</section>",
    ]
    return parts


def _screened_detail(content: ReportContent) -> str:
    parts = []
    if content.events is not None:
        parts.append(f"{n_text(content.events.attrition['remaining'].iloc[0])} candidate screening events")
    if "site" in content.patients.by:
        sites = content.patients.by["site"].iloc[:, 0].nunique()
        shown = " shown" if content.patients.controlled else ""  # a site shown as 0 is left out (A21)
        parts.append(counted(sites, "site") + shown)
    parts.append(f"data cut-off {esc(content.facts.get('Data cut-off', ''))}")
    return "; ".join(parts)


MAX_SITES_AT_A_GLANCE = 12


def _sites_glance(views: Views) -> str:
    """Sites with their screened and potentially eligible patients (largest first; the rest counted)."""
    if "site" not in views.by:
        return ""
    summary = group_summary(views, "site")
    if summary.empty:
        return ""
    sites = summary.iloc[:-1].copy()
    sites["_order"] = sites["potential"].map(number_or_zero)
    sites = sites.sort_values(["_order", "group"], ascending=[False, True], kind="stable")
    shown = sites.head(MAX_SITES_AT_A_GLANCE)
    rows = "".join(
        f"<tr><td>{esc(row.group)}</td><td class='num'>{n_text(row.screened)}</td>"
        f"<td class='num'>{esc(bounds(row.eligible, row.potential))}</td></tr>"
        for row in shown.itertuples()
    )
    more = len(sites) - len(shown)
    left_out = "; a site shown as 0 is left out" if views.controlled else ""
    tail = f"<tr><td colspan=3 class='muted'>… and {more} more sites (see Breakdown by site)</td></tr>" if more else ""
    return (
        f"<table><caption>Sites ({len(sites)}), by potentially eligible {views.unit}{left_out}</caption><thead><tr>"
        "<th>Site</th><th class='num'>Screened</th><th class='num'>Potentially eligible</th></tr></thead>"
        f"<tbody>{rows}{tail}</tbody></table>"
    )
