"""The feasibility report: one self-contained HTML file (inline CSS, figures as inline SVG, no external links).

It shows what the shareable bundle holds — the CONSORT diagram, attrition
tables at patient and event level, criterion impact, the UpSet plot, site and
year breakdowns, the what-if comparison — and states every assumption: the
protocol and its parameters, the cut-off, the definitions, the assumed review
pass rates and the disclosure control applied.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from oligo_cohort.attrition.charts import n_text
from oligo_cohort.attrition.views import Views, wide_by_group
from oligo_cohort.disclosure import RULE_TEXT

STYLE = """
body { font-family: Arial, Helvetica, "Liberation Sans", sans-serif; color: #111; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; line-height: 1.4; font-size: 14px; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 2em;
border-bottom: 1px solid #999; } h3 { font-size: 1.05em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.92em; }
th, td { padding: 3px 8px; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
th { border-bottom: 1.5px solid #333; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.section td { font-style: italic; background: #f4f4f4; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #333; margin-top: 0.3em; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5em 0.8em; }
.internal { background: #fdecea; border-left: 4px solid #c62828; padding: 0.5em 0.8em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; } dt { font-weight: bold; }
"""

DEFINITIONS = (
    "A unit is a patient (the patient's best screening event) or a candidate screening event.",
    "Sequential attrition: a unit is excluded at the first criterion, in the order shown, that it fails.",
    "Remaining = units with no failed criterion so far (unknowns kept: the optimistic bound); "
    "'if unknown fail' = units whose criteria so far all pass (the pessimistic bound).",
    "Criteria that need chart review come after the registry-computable ones; a recorded fail excludes, "
    "a pending review never does.",
    "Fail only = units for which this is the only failed criterion: the gain in remaining units if it were dropped.",
    "Shapley value: each excluded unit is shared equally among the criteria it fails (the exact Shapley value of "
    "the game v(S) = units failing some criterion in S); the values sum to all units minus the units failing none.",
)


@dataclass
class ReportContent:
    """Everything the report shows; the views are already disclosure-controlled when control is on."""

    title: str
    facts: Mapping[str, str]
    parameters: Mapping[str, object]
    patients: Views
    events: Views | None = None
    whatif_table: pd.DataFrame | None = None
    whatif_status: pd.DataFrame | None = None
    whatif_labels: tuple[str, str] = ("A", "B")
    whatif_parameters: pd.DataFrame | None = None
    findings: pd.DataFrame | None = None
    disclosure_control: bool = True
    assumptions: Sequence[str] = field(default_factory=tuple)
    figures: Mapping[str, str] = field(default_factory=dict)  # consort, attrition_bars, upset, consort_by_site → SVG
    extra_html: Sequence[str] = ()  # sections added by other modules (the chart review stage), before the assumptions


def _esc(value: object) -> str:
    return html.escape(str(value))


def _cell(value: object, kind: str) -> str:
    if kind == "n":
        return f'<td class="num">{n_text(value)}</td>'
    if kind == "pct":
        number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
        return f'<td class="num">{"–" if pd.isna(number) else f"{number:.1f} %"}</td>'
    if kind == "dec":
        number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
        return f'<td class="num">{"–" if pd.isna(number) else f"{number:,.1f}"}</td>'
    if kind == "rate":
        number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
        return f'<td class="num">{"–" if pd.isna(number) else f"{100 * number:.0f} %"}</td>'
    if kind == "diff":
        number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
        return f'<td class="num">{"–" if pd.isna(number) else f"{int(number):+,}"}</td>'
    return f"<td>{_esc('' if value is None or value is pd.NA else value)}</td>"


def html_table(frame: pd.DataFrame, columns: Sequence[tuple[str, str, str]], *, section_breaks: bool = False) -> str:
    """A small aggregate table as HTML; `columns` = (column, header, kind: text|n|pct|dec|diff)."""
    head = "".join(f'<th class="{"num" if kind != "text" else ""}">{_esc(header)}</th>' for _, header, kind in columns)
    rows, previous = [], None
    for record in frame.to_dict("records"):
        section = record.get("section")
        if section_breaks and section != previous and section == "review":
            rows.append(f'<tr class="section"><td colspan="{len(columns)}">Criteria that need chart review</td></tr>')
        previous = section
        rows.append("<tr>" + "".join(_cell(record.get(col), kind) for col, _, kind in columns) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _figure(svg: str | None, caption: str) -> str:
    """An inline SVG figure with its caption (nothing when the figure was not drawn)."""
    if not svg:
        return ""
    return f"<figure>{svg[svg.index('<svg') :]}<figcaption>{_esc(caption)}</figcaption></figure>"


ATTRITION_COLUMNS = (
    ("step", "Step", "text"),
    ("label", "Criterion", "text"),
    ("remaining", "Remaining", "n"),
    ("excluded", "Excluded", "n"),
    ("excluded_pct", "Excluded %", "pct"),
    ("unknown", "Unknown here", "n"),
    ("remaining_if_unknown_fail", "Remaining if unknown fail", "n"),
    ("to_review", "Needs chart review", "n"),
)
IMPACT_COLUMNS = (
    ("label", "Criterion", "text"),
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
    """Shapley values are fractions when exact, rounded counts after disclosure control."""
    return [(c, h, "n" if controlled and c == "shapley" else k) for c, h, k in IMPACT_COLUMNS]


def _attrition_section(views: Views, heading: str, figures: Mapping[str, str]) -> list[str]:
    note = " Counts after disclosure control." if views.controlled else ""
    parts = [f"<h2>{_esc(heading)}</h2>"]
    parts.append(
        _figure(figures.get("consort"), f"Flow of {views.unit} through the eligibility criteria (CONSORT style).{note}")
    )
    columns = list(ATTRITION_COLUMNS)
    if views.attrition["expected_remaining"].notna().any():
        expected_kind = "n" if views.controlled else "dec"
        columns += [
            ("assumed_pass_rate", "Assumed pass rate", "rate"),
            ("expected_remaining", "Expected", expected_kind),
        ]
    parts.append(html_table(views.attrition, columns, section_breaks=True))
    parts.append(
        _figure(
            figures.get("attrition_bars"),
            f"{views.unit.capitalize()} remaining after each criterion; dark: every criterion so far met, light: "
            f"some unknown.{note}",
        )
    )
    return parts


def _impact_section(views: Views, figures: Mapping[str, str]) -> list[str]:
    note = " Counts after disclosure control." if views.controlled else ""
    return [
        "<h2>Criterion impact (independent of order)</h2>",
        html_table(views.impact, _impact_columns(views.controlled), section_breaks=True),
        _figure(
            figures.get("upset"),
            f"Overlap of exclusion reasons: {views.unit} per exact combination of failed criteria (largest 15), "
            f"and per criterion.{note}",
        ),
    ]


def _breakdown_section(views: Views, figures: Mapping[str, str]) -> list[str]:
    parts: list[str] = []
    names = {"site": "site", "year": "calendar year of the screening scan"}
    for grouping, table in views.by.items():
        parts.append(f"<h3>Remaining {views.unit} after each step, by {names.get(grouping, grouping)}</h3>")
        wide = wide_by_group(table)
        groups = [c for c in wide.columns if c not in ("step", "label")]
        parts.append(html_table(wide, [("label", "Criterion", "text"), *[(g, g, "n") for g in groups]]))
        status = views.status_by[grouping]
        parts.append(
            html_table(
                status,
                [("group", names.get(grouping, grouping).capitalize(), "text")]
                + [(c, c.capitalize(), "n") for c in ("eligible", "unknown", "ineligible", "total")],
            )
        )
        if grouping == "site":
            parts.append(_figure(figures.get("consort_by_site"), f"Flow of {views.unit} by site."))
    return ["<h2>Breakdown by site and year</h2>", *parts] if parts else []


def _whatif_section(content: ReportContent) -> list[str]:
    if content.whatif_table is None:
        return []
    a, b = content.whatif_labels
    parts = [
        "<h2>What-if: two protocols side by side</h2>",
        f"<p>A = <b>{_esc(a)}</b>; B = <b>{_esc(b)}</b>. Differences are B − A.</p>",
    ]
    if content.whatif_parameters is not None and not content.whatif_parameters.empty:
        parts.append(
            html_table(
                content.whatif_parameters, [("parameter", "Parameter", "text"), ("a", "A", "text"), ("b", "B", "text")]
            )
        )
    if content.whatif_status is not None:
        parts.append(
            html_table(
                content.whatif_status,
                [("status", "Status", "text"), ("a", "A", "n"), ("b", "B", "n"), ("diff", "B − A", "diff")],
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
        )
    )
    return parts


def _assumptions_section(content: ReportContent) -> list[str]:
    parts = ["<h2>Assumptions, definitions and parameters</h2>", "<ul>"]
    parts += [f"<li>{_esc(text)}</li>" for text in (*DEFINITIONS, *content.assumptions)]
    parts.append("</ul>")
    parameters = pd.DataFrame(
        {"parameter": list(content.parameters), "value": [str(v) for v in content.parameters.values()]}
    )
    parts.append("<h3>Protocol parameters</h3>")
    parts.append(html_table(parameters, [("parameter", "Parameter", "text"), ("value", "Value", "text")]))
    if content.findings is not None and not content.findings.empty:
        parts.append("<h3>Data-quality findings (not fatal)</h3>")
        parts.append(
            html_table(
                content.findings, [("severity", "Severity", "text"), ("table", "Table", "text"), ("n", "Findings", "n")]
            )
        )
    return parts


def render_report(content: ReportContent) -> str:
    """The report as one HTML document."""
    facts = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in content.facts.items())
    if content.disclosure_control:
        banner = (
            f'<p class="note"><b>Disclosure control applied.</b> {_esc(RULE_TEXT)} A count shown as 0 means 0 to 7.</p>'
        )
    else:
        banner = (
            '<p class="internal"><b>Exact counts — internal use only.</b> Disclosure control was turned off; '
            "do not share this report outside the institution.</p>"
        )
    status = content.patients.status
    summary = html_table(
        status,
        [("group", "", "text")] + [(c, c.capitalize(), "n") for c in ("eligible", "unknown", "ineligible", "total")],
    )
    body = [
        f"<h1>{_esc(content.title)}</h1>",
        f"<dl>{facts}</dl>",
        banner,
        "<h2>Patients by status</h2>",
        "<p>Ineligible: a criterion fails. Unknown: none fails, some cannot be decided from the extract. "
        "Eligible: every criterion passes (chart-review criteria still to be checked).</p>",
        summary,
        *_attrition_section(content.patients, "Attrition by criterion: patients", content.figures),
        *_impact_section(content.patients, content.figures),
        *(
            _attrition_section(content.events, "Attrition by criterion: screening events", {})
            if content.events is not None
            else []
        ),
        *_breakdown_section(content.patients, content.figures),
        *_whatif_section(content),
        *content.extra_html,
        *_assumptions_section(content),
        f"<p><small>Generated {dt.datetime.now().replace(microsecond=0).isoformat(sep=' ')} by oligo-cohort.</small></p>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_esc(content.title)}</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
