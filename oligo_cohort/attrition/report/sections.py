"""The report's detail, section by section: status, attrition, criterion impact, breakdowns, site diagrams,
the what-if comparison, the accrual forecast, and the assumptions, definitions and parameters.
"""

from __future__ import annotations

from collections.abc import Mapping

from oligo_cohort.attrition.labels import n_text
from oligo_cohort.attrition.report.content import ReportContent
from oligo_cohort.attrition.report.html_parts import control_note, esc, figure, html_table, number_or_zero
from oligo_cohort.attrition.report.summary import group_summary, section_end
from oligo_cohort.attrition.tables import SECTION_REGISTRY
from oligo_cohort.attrition.views import Views
from oligo_cohort.parameter_labels import parameter_table
from oligo_cohort.shown_labels import short_labels

DEFINITIONS = (
    "A unit is a patient (the patient's best screening event) or a candidate screening event.",
    "Sequential attrition: a unit is excluded at the first criterion, in the order shown, that it fails.",
    "Remaining = units with no failed criterion so far (unknowns kept: the optimistic bound, 'unknown as pass'); "
    "'if unknown fail' = units whose criteria so far all pass (the pessimistic bound, 'unknown as fail').",
    "Criteria that need chart review come after the registry-computable ones; a recorded fail excludes, "
    "a pending review never does.",
    "Fail only = units for which this is the only failed criterion: the gain in remaining units if it were dropped.",
    "Shapley value: each excluded unit is shared equally among the criteria it fails (the exact Shapley value of "
    "the game v(S) = units failing some criterion in S); the values sum to all units minus the units failing none.",
)


GROUP_COLUMNS = (
    ("screened", "Screened", "n"),
    ("excluded", "Excluded", "n"),
    ("registry_known", "Not excluded on registry data: every criterion met", "n"),
    ("registry", "… incl. unknown", "n"),
    ("eligible", "Potentially eligible: every criterion met", "n"),
    ("potential", "… incl. unknown", "n"),
)


ATTRITION_COLUMNS = (
    ("step", "Step", "text"),
    ("label", "Criterion", "label"),
    ("remaining", "Remaining", "n"),
    ("excluded", "Excluded", "n"),
    ("excluded_pct", "Excluded %", "pct"),
    ("unknown", "Unknown here", "n"),
    ("remaining_if_unknown_fail", "Remaining if unknown fail", "n"),
    ("to_review", "Needs chart review", "n"),
)
IMPACT_COLUMNS = (
    ("label", "Criterion", "label"),
    ("fail", "Fail", "n"),
    ("fail_pct", "Fail %", "pct"),
    ("fail_only", "Fail only (gain if dropped)", "n"),
    ("unknown", "Unknown", "n"),
    ("review", "Chart review", "n"),
    ("gain_all_known", "Gain in all-known count if dropped", "n"),
    ("shapley", "Shapley value", "dec"),
    ("shapley_pct", "Shapley share", "pct"),
)


def _impact_columns(controlled: bool) -> list[tuple[str, str, str]]:
    """Shapley values are fractions when exact, controlled counts after disclosure control."""
    return [(c, h, "n" if controlled and c == "shapley" else k) for c, h, k in IMPACT_COLUMNS]


def status_section(content: ReportContent) -> list[str]:
    status = content.patients.status
    return [
        "<h2>Patients by status</h2>",
        "<p>Ineligible: a criterion fails. Unknown: none fails, some cannot be decided from the extract. "
        "Eligible: every criterion passes (chart-review criteria still to be checked).</p>",
        html_table(
            status,
            [("group", "", "text")]
            + [(c, c.capitalize(), "n") for c in ("eligible", "unknown", "ineligible", "total")],
            caption="Eligible + unknown + ineligible = total" + control_note(content.patients),
        ),
    ]


def attrition_section(views: Views, heading: str, figures: Mapping[str, str]) -> list[str]:
    note = control_note(views)
    parts = [f"<h2>{esc(heading)}</h2>"]
    parts.append(
        figure(figures.get("consort"), f"Flow of {views.unit} through the eligibility criteria (CONSORT style).{note}")
    )
    columns = list(ATTRITION_COLUMNS)
    if views.attrition["expected_remaining"].notna().any():
        expected_kind = "n" if views.controlled else "dec"
        columns += [
            ("assumed_pass_rate", "Assumed pass rate", "rate"),
            ("expected_remaining", "Expected", expected_kind),
        ]
    caption = "Remaining before a step − excluded at it = remaining after it." + note
    parts.append(html_table(views.attrition, columns, section_breaks=True, caption=caption))
    parts.append(
        figure(
            figures.get("attrition_bars"),
            f"{views.unit.capitalize()} remaining after each criterion; dark: every criterion so far met, light: "
            f"some unknown.{note}",
        )
    )
    return parts


# Under control the table holds counts of both kinds in one row (docs/attrition.md A23).
IMPACT_CONTROLLED = (
    " Each fail count is rounded on its own (0 stands for 0 to 7); the Shapley values are differences of rounded "
    "running totals, so a criterion shown failing 0 can hold a Shapley value of 5."
)


def impact_section(views: Views, figures: Mapping[str, str]) -> list[str]:
    note = control_note(views)
    return [
        "<h2>Criterion impact (independent of order)</h2>",
        html_table(
            views.impact,
            _impact_columns(views.controlled),
            section_breaks=True,
            caption="Fail counts overlap (a patient can fail several criteria); the Shapley values add up to the "
            "excluded patients." + note + (IMPACT_CONTROLLED if views.controlled else ""),
        ),
        figure(
            figures.get("upset"),
            f"Overlap of exclusion reasons: {views.unit} per exact combination of failed criteria (largest 15), "
            f"and per criterion.{note}",
        ),
    ]


GROUP_NAMES = {"site": "site", "year": "calendar year of the screening scan"}


def breakdown_section(content: ReportContent) -> list[str]:
    views = content.patients
    parts: list[str] = []
    for grouping in views.by:
        name = GROUP_NAMES.get(grouping, grouping)
        summary = group_summary(views, grouping)
        if summary.empty:
            continue
        left_out = f" A {grouping} whose counts are all shown as 0 is left out." if views.controlled else ""
        caption = f"{views.unit.capitalize()} per {name}.{left_out}" + _sum_note(views, summary, grouping)
        columns = [("group", name.capitalize(), "label"), *GROUP_COLUMNS]
        parts.append(
            f'<div class="keep"><h3>By {name}</h3>{html_table(summary, columns, caption=caption, total_rows=1)}</div>'
        )
    if not parts:
        return []
    parts.append(
        "<p class='muted'>Step-by-step counts per site and year: <code>tables/attrition_patients_by_site.csv</code> "
        "and <code>tables/attrition_patients_by_year.csv</code>; a flow diagram per site follows the report.</p>"
    )
    return ["<h2>Breakdown by site and year</h2>", *parts]


def _sum_note(views: Views, summary, grouping: str) -> str:
    """Why the sum row differs from the overall counts, when any of its columns does (under disclosure control each
    group is controlled on its own, docs/attrition.md A10); empty when every column sums to the overall count."""
    if not views.controlled:
        return ""
    table = views.attrition
    registry, last = section_end(table, SECTION_REGISTRY), table.iloc[-1]
    first = number_or_zero(table["remaining"].iloc[0])
    overall = {
        "screened": first,
        "excluded": first - number_or_zero(last["remaining"]),
        "registry_known": number_or_zero(registry["remaining_if_unknown_fail"]),
        "registry": number_or_zero(registry["remaining"]),
        "eligible": number_or_zero(last["remaining_if_unknown_fail"]),
        "potential": number_or_zero(last["remaining"]),
    }
    sums = summary.iloc[-1]
    differ = [
        (column, sums[column], value) for column, value in overall.items() if number_or_zero(sums[column]) != value
    ]
    if not differ:
        return ""
    titles = {column: title for column, title, _ in GROUP_COLUMNS}
    listed = "; ".join(f"{titles[c].lower()}: {n_text(shown)}, not {n_text(value)}" for c, shown, value in differ)
    return (
        f" Each {grouping} is disclosure-controlled on its own, so the rows need not sum to the overall counts "
        f"({listed})."
    )


def site_figures_section(content: ReportContent) -> list[str]:
    if not content.site_figures:
        return []
    note = control_note(content.patients)
    parts = [
        '<section class="site-figures">',
        "<h2>Flow of patients by site</h2>",
        f"<p>One diagram per site ({len(content.site_figures)}), every exclusion spelled out.{note}</p>",
    ]
    shown = short_labels(site for site, _ in content.site_figures)
    for site, svg in content.site_figures:
        caption = f"Site {shown[site]}: flow of {content.patients.unit}."
        parts.append(f'<section class="site-figure">{figure(svg, caption)}</section>')
    return [*parts, "</section>"]


def whatif_section(content: ReportContent) -> list[str]:
    if content.whatif_table is None:
        return []
    a, b = content.whatif_labels
    parts = [
        "<h2>What-if: two protocols side by side</h2>",
        f"<p>A = <b>{esc(a)}</b>; B = <b>{esc(b)}</b>. Differences are B − A.</p>",
    ]
    if content.whatif_parameters is not None and not content.whatif_parameters.empty:
        parts.append(
            html_table(
                content.whatif_parameters,
                [("label", "Parameter", "text"), ("a", "A", "text"), ("b", "B", "text"), ("parameter", "Name", "code")],
            )
        )
    note = control_note(content.patients)
    if content.whatif_status is not None:
        parts.append(
            html_table(
                content.whatif_status,
                [("status", "Status", "text"), ("a", "A", "n"), ("b", "B", "n"), ("diff", "B − A", "diff")],
                caption="Patients per status under each protocol; each side adds up to its total." + note,
            )
        )
    parts.append(
        html_table(
            content.whatif_table,
            [
                ("label", "Criterion", "text"),
                ("remaining_a", "Remaining A", "n"),
                ("remaining_b", "Remaining B", "n"),
                ("remaining_diff", "B − A", "diff"),
                ("excluded_a", "Excluded A", "n"),
                ("excluded_b", "Excluded B", "n"),
                ("excluded_diff", "B − A", "diff"),
                ("remaining_if_unknown_fail_a", "If unknown fail A", "n"),
                ("remaining_if_unknown_fail_b", "If unknown fail B", "n"),
            ],
            section_breaks=True,
            caption="Attrition under each protocol, matched by criterion; on each side remaining before − excluded "
            "= remaining after." + note,
        )
    )
    return parts


ACCRUAL_COLUMNS = (
    ("description", "Scenario", "text"),
    ("median", "Target reached (median)", "text"),
    ("interval", "95 % interval", "text"),
    ("by_end", "Expected by the planned end (95 %)", "text"),
    ("probability", "P(target within the duration)", "text"),
    ("per_year", "Patients per year, all sites open", "text"),
)


def accrual_section(content: ReportContent) -> list[str]:
    accrual = content.accrual
    if accrual is None:
        return []
    parts = [
        "<h2>Accrual forecast</h2>",
        f"<p>Target N = {accrual.target:,} patients; accrual from {esc(accrual.start)}. Forecasts from the registry "
        "history of every site, with the chart-review and consent shares stated below "
        "(<code>oligo-cohort accrual</code> gives the full forecast with site planning).</p>",
    ]
    if accrual.unavailable:
        return [*parts, f'<p class="note"><b>No forecast.</b> {esc(accrual.unavailable)}</p>']
    if accrual.forecast is not None and not accrual.forecast.empty:
        parts.append(html_table(accrual.forecast, ACCRUAL_COLUMNS))
    parts.append(figure(accrual.figure_svg, "Predicted cumulative enrolment: median and 95 % band per scenario."))
    parts += [f"<p>{esc(line)}</p>" for line in accrual.headline]
    if accrual.notes:
        parts.append("<ul>" + "".join(f"<li>{esc(note)}</li>" for note in accrual.notes) + "</ul>")
    return parts


def assumptions_section(content: ReportContent) -> list[str]:
    parts = ["<h2>Assumptions, definitions and parameters</h2>", "<ul>"]
    parts += [f"<li>{esc(text)}</li>" for text in (*DEFINITIONS, *content.assumptions)]
    parts.append("</ul>")
    parts.append("<h3>Protocol parameters</h3>")
    parts.append(
        html_table(
            parameter_table(content.parameters),
            [("label", "Parameter", "text"), ("value", "Value", "text"), ("parameter", "Name in the protocol file", "code")],
        )
    )  # fmt: skip
    if content.findings is not None and not content.findings.empty:
        parts.append("<h3>Data-quality findings (not fatal)</h3>")
        parts.append(
            html_table(
                content.findings,
                [("severity", "Severity", "text"), ("table", "Table", "text"), ("n", "Findings", "n")],
                caption="Findings per table (no record ids or values)." + control_note(content.patients),
            )
        )
    return parts


def signature() -> list[str]:
    return [
        '<div class="signature"><div>Reviewed by (name, role)</div><div>Date</div><div>Signature</div></div>',
    ]
