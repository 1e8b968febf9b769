"""The feasibility report: one self-contained HTML file (inline CSS, figures as inline SVG, no external links).

What a trial steering committee reads and signs. The first screen answers
"how many, where, why not": patients screened, eligible on registry data,
potentially eligible after chart review (with the bounds unknown-as-pass and
unknown-as-fail), the three reasons that exclude most, and the sites. Then
the provenance (tool version, protocol and amendment, cut-off, input
checksums, engine, date, who ran it), the disclosure control, and the detail:
CONSORT diagram, attrition at patient and event level, criterion impact, the
UpSet plot, site and year breakdowns with a diagram per site, the what-if
comparison, the accrual forecast when a target is given, and every
assumption, definition and protocol parameter (with human labels and units).

A print stylesheet lays it out on A4 pages: figures and table rows are not
split across pages, table headers repeat, links are not needed. Every number
shown comes from the views as given (disclosure-controlled when control is on).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from oligo_cohort.attrition.labels import n_text
from oligo_cohort.attrition.tables import SECTION_REGISTRY, SECTION_REVIEW
from oligo_cohort.attrition.views import Views
from oligo_cohort.disclosure import DERIVED_TEXT, RULE_TEXT, DisclosureChoice
from oligo_cohort.parameter_labels import parameter_table

STYLE = """
:root { --ink: #111; --muted: #555; --rule: #d0d0d0; --accent: #08519c; }
* { box-sizing: border-box; }
body { font-family: Arial, Helvetica, "Liberation Sans", "DejaVu Sans", sans-serif; color: var(--ink);
       max-width: 1100px; margin: 1.5em auto; padding: 0 1em; line-height: 1.4; font-size: 14px; }
h1 { font-size: 1.55em; margin: 0 0 0.1em; } .subtitle { color: var(--muted); margin: 0 0 0.8em; }
h2 { font-size: 1.22em; margin-top: 1.8em; border-bottom: 1px solid #999; padding-bottom: 0.1em; }
h3 { font-size: 1.04em; margin-top: 1.3em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.92em; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e3e3e3; text-align: left; vertical-align: top; }
th { border-bottom: 1.5px solid #333; font-weight: bold; }
th.num, td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.section td { font-style: italic; background: #f4f4f4; }
td.label { min-width: 13em; }
tr.total td { border-top: 1.5px solid #333; font-weight: bold; }
caption { caption-side: top; text-align: left; font-size: 0.9em; color: var(--muted); padding-bottom: 0.2em; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 0.9em; color: #333; margin-top: 0.3em; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5em 0.8em; }
.internal { background: #fdecea; border-left: 4px solid #c62828; padding: 0.5em 0.8em; }
.synthetic { background: #e8f4fd; border-left: 4px solid #1f78b4; padding: 0.5em 0.8em; }
.summary { border: 1.5px solid var(--accent); border-radius: 4px; padding: 0.8em 1em; margin: 0.8em 0 1em; }
.summary h2 { margin-top: 0; border: 0; font-size: 1.15em; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(210px, 1fr)); gap: 0.6em 1em; }
.card { border-left: 4px solid var(--accent); padding: 0.2em 0.7em; }
.card .label { font-size: 0.85em; color: var(--muted); }
.card .value { font-size: 1.6em; font-weight: bold; font-variant-numeric: tabular-nums; white-space: nowrap; }
.card .detail { font-size: 0.85em; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 0 1.5em; }
.columns table { width: 100%; }
dl.provenance { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.15em 1em; margin: 0.5em 0; }
dl.provenance dt { font-weight: bold; } dl.provenance dd { margin: 0; overflow-wrap: anywhere; }
code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 0.85em; }
.muted { color: var(--muted); font-size: 0.88em; }
.keep { break-inside: avoid; page-break-inside: avoid; }
.wide { overflow-x: auto; }
.signature { margin-top: 2em; display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 1em 2em; }
.signature div { border-top: 1px solid #333; padding-top: 0.2em; font-size: 0.9em; color: var(--muted); }
@media (max-width: 640px) {
  body { font-size: 13px; padding: 0 0.6em; margin: 0.8em auto; }
  .card .value { font-size: 1.35em; }
  table { font-size: 0.85em; } th, td { padding: 2px 4px; }
  dl.provenance { grid-template-columns: 1fr; } dl.provenance dd { margin-bottom: 0.3em; }
}
@page { size: A4; margin: 14mm 12mm 16mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 9.5pt; }
  h2 { break-after: avoid; page-break-after: avoid; margin-top: 1.2em; }
  h3 { break-after: avoid; page-break-after: avoid; }
  figure, .card, .summary, dl.provenance, tr, .signature { break-inside: avoid; page-break-inside: avoid; }
  figure svg { max-height: 235mm; width: auto; max-width: 100%; }
  thead { display: table-header-group; }
  table { font-size: 8.5pt; } th, td { padding: 2px 5px; }
  .wide { overflow: visible; }
  section.site-figures { break-before: page; page-break-before: always; }
  section.site-figure + section.site-figure { break-before: page; page-break-before: always; }
  .summary { break-after: page; page-break-after: always; }
  a { color: inherit; text-decoration: none; }
}
"""

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


@dataclass
class AccrualSection:
    """The accrual forecast as shown: headline sentences, a forecast table, the fan chart, notes, or why none."""

    target: int
    start: str
    headline: Sequence[str] = ()
    forecast: pd.DataFrame | None = None
    figure_svg: str | None = None
    notes: Sequence[str] = ()
    unavailable: str | None = None  # why no forecast could be made
    duration: str = "48 months"  # the planned accrual duration, as worded


@dataclass
class ReportContent:
    """Everything the report shows; the views are already disclosure-controlled when control is on."""

    title: str
    facts: Mapping[str, str]  # provenance: label -> value
    parameters: Mapping[str, object]
    patients: Views
    events: Views | None = None
    whatif_table: pd.DataFrame | None = None
    whatif_status: pd.DataFrame | None = None
    whatif_labels: tuple[str, str] = ("A", "B")
    whatif_parameters: pd.DataFrame | None = None
    findings: pd.DataFrame | None = None
    disclosure: DisclosureChoice = field(default_factory=lambda: DisclosureChoice("applied"))
    assumptions: Sequence[str] = field(default_factory=tuple)
    figures: Mapping[str, str] = field(default_factory=dict)  # consort, attrition_bars, upset → SVG
    site_figures: Sequence[tuple[str, str]] = ()  # (site, SVG), in site order
    input_files: Sequence[tuple[str, str]] = ()  # (file name, SHA-256)
    accrual: AccrualSection | None = None
    subtitle: str = ""
    extra_html: Sequence[str] = ()  # sections added by other modules (the chart review stage), before the assumptions

    @property
    def disclosure_control(self) -> bool:
        """True when the counts shown are disclosure-controlled."""
        return self.disclosure.applied


def _esc(value: object) -> str:
    return html.escape(str(value))


def _number(value: object) -> float | None:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return None if pd.isna(number) else float(number)


def _cell(value: object, kind: str) -> str:
    if kind == "n":
        return f'<td class="num">{n_text(value)}</td>'
    number = _number(value)
    if kind == "pct":
        return f'<td class="num">{"–" if number is None else f"{number:.1f} %"}</td>'
    if kind == "dec":
        return f'<td class="num">{"–" if number is None else f"{number:,.1f}"}</td>'
    if kind == "rate":
        return f'<td class="num">{"–" if number is None else f"{100 * number:.0f} %"}</td>'
    if kind == "diff":
        return f'<td class="num">{"–" if number is None else f"{int(number):+,}"}</td>'
    if kind == "label":
        return f'<td class="label">{_esc("" if value is None or value is pd.NA else value)}</td>'
    if kind == "code":
        return f"<td><code>{_esc('' if value is None or value is pd.NA else value)}</code></td>"
    return f"<td>{_esc('' if value is None or value is pd.NA else value)}</td>"


def html_table(
    frame: pd.DataFrame,
    columns: Sequence[tuple[str, str, str]],
    *,
    section_breaks: bool = False,
    caption: str | None = None,
    total_rows: int = 0,
) -> str:
    """A small aggregate table as HTML; `columns` = (column, header, kind: text|n|pct|dec|rate|diff|code).

    The last `total_rows` rows are set off as totals.
    """
    head = "".join(f'<th class="{"num" if kind not in ("text", "code", "label") else ""}">{_esc(header)}</th>'
                   for _, header, kind in columns)  # fmt: skip
    rows, previous = [], None
    records = frame.to_dict("records")
    for index, record in enumerate(records):
        section = record.get("section")
        if section_breaks and section != previous and section == SECTION_REVIEW:
            rows.append(f'<tr class="section"><td colspan="{len(columns)}">Criteria that need chart review</td></tr>')
        previous = section
        css = ' class="total"' if index >= len(records) - total_rows else ""
        rows.append(f"<tr{css}>" + "".join(_cell(record.get(col), kind) for col, _, kind in columns) + "</tr>")
    title = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return f'<div class="wide"><table>{title}<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _svg(svg: str) -> str:
    """The <svg> element of an SVG file (no XML prolog or doctype inside HTML)."""
    return svg[svg.index("<svg") :]


def _figure(svg: str | None, caption: str, css: str = "") -> str:
    """An inline SVG figure with its caption (nothing when the figure was not drawn)."""
    if not svg:
        return ""
    klass = f' class="{css}"' if css else ""
    return f"<figure{klass}>{_svg(svg)}<figcaption>{_esc(caption)}</figcaption></figure>"


def _control_note(views: Views) -> str:
    return " Counts after disclosure control." if views.controlled else ""


# --- the one-screen summary -----------------------------------------------------------------------------------------


def _section_end(table: pd.DataFrame, section: str) -> pd.Series:
    """The last row of a section of an attrition table (the start row when the section is empty)."""
    rows = table[table["section"] == section]
    return rows.iloc[-1] if len(rows) else table.iloc[0]


def _bounds(known: object, remaining: object) -> str:
    """`12 – 20`, or one number when both bounds agree."""
    low, high = n_text(known), n_text(remaining)
    return low if low == high else f"{low} – {high}"


def _card(label: str, value: str, detail: str) -> str:
    return (
        f'<div class="card"><div class="label">{_esc(label)}</div><div class="value">{_esc(value)}</div>'
        f'<div class="detail">{detail}</div></div>'
    )


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
    """Per group: screened, not excluded on registry data (bounds), potentially eligible (bounds), ineligible.

    One row per group and a last row with the sums of the rows shown (under
    disclosure control each group is controlled on its own, so the sums need
    not equal the overall counts; the report says so).
    """
    table = views.by[grouping]
    group = table.columns[0]
    rows = []
    for label, steps in table.groupby(group, sort=False):
        steps = steps.drop(columns=group)
        registry = _section_end(steps, SECTION_REGISTRY)
        last = steps.iloc[-1]
        rows.append(
            {
                "group": str(label),
                "screened": steps["remaining"].iloc[0],
                "registry_known": registry["remaining_if_unknown_fail"],
                "registry": registry["remaining"],
                "eligible": last["remaining_if_unknown_fail"],
                "potential": last["remaining"],
                "excluded": _num(steps["remaining"].iloc[0]) - _num(last["remaining"]),
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    sums = {"group": f"Sum of the {len(frame)} rows above"}
    sums |= {c: frame[c].map(_num).sum() for c in frame.columns if c != "group"}
    return pd.concat([frame, pd.DataFrame([sums])], ignore_index=True)


def _num(value: object) -> float:
    number = _number(value)
    return 0.0 if number is None else number


GROUP_COLUMNS = (
    ("screened", "Screened", "n"),
    ("excluded", "Excluded", "n"),
    ("registry_known", "Not excluded on registry data: every criterion met", "n"),
    ("registry", "… incl. unknown", "n"),
    ("eligible", "Potentially eligible: every criterion met", "n"),
    ("potential", "… incl. unknown", "n"),
)


def _summary(content: ReportContent) -> list[str]:
    views = content.patients
    table = views.attrition
    unit = views.unit
    start = table.iloc[0]
    registry = _section_end(table, SECTION_REGISTRY)
    last = table.iloc[-1]
    review = table[(table["section"] == SECTION_REVIEW) & (pd.to_numeric(table["to_review"]).fillna(0) > 0)]
    pending = ", ".join(f"{row.label.lower()} ({n_text(row.to_review)})" for row in review.itertuples())
    cards = [
        _card(
            f"{unit.capitalize()} screened",
            n_text(start["remaining"]),
            _screened_detail(content),
        ),
        _card(
            "Not excluded on registry data",
            _bounds(registry["remaining_if_unknown_fail"], registry["remaining"]),
            "no registry criterion fails: every one met (unknown as fail) – some unknown (unknown as pass); "
            "chart-review criteria are counted in the next box",
        ),
        _card(
            "Potentially eligible after chart review",
            _bounds(last["remaining_if_unknown_fail"], last["remaining"]),
            "no criterion fails (unknown as fail – unknown as pass)"
            + (f"; chart review still decides: {_esc(pending)}" if pending else ""),
        ),
    ]
    if pd.to_numeric(table["expected_remaining"], errors="coerce").notna().any():
        rated = table[pd.to_numeric(table["assumed_pass_rate"], errors="coerce").notna()]
        rates = "; ".join(
            f"{row.label.lower()} {100 * float(row.assumed_pass_rate):.0f} %" for row in rated.itertuples()
        )
        cards.append(
            _card(
                "Expected after chart review",
                f"≈ {n_text(last['expected_remaining'])}",
                f"assumed pass rates: {_esc(rates)}; other chart-review criteria assumed met",
            )
        )
    accrual = content.accrual
    if accrual is not None and accrual.forecast is not None and not accrual.forecast.empty:
        rows = accrual.forecast.set_index("scenario")
        registry = [key for key in ("eligible_or_unknown", "eligible") if key in rows.index]
        months = [str(rows.loc[key, "median"]).split(" (")[-1].rstrip(")") for key in registry]
        chances = " / ".join(str(rows.loc[key, "probability"]) for key in registry)
        cards.append(
            _card(
                f"Target N = {accrual.target:,} reached (median)",
                " – ".join(dict.fromkeys(months)),
                "registry rates: eligible or unknown (optimistic) – eligible only (conservative); "
                f"P(within {_esc(accrual.duration)}) = {_esc(chances)}; see Accrual forecast",
            )
        )
    elif accrual is not None and accrual.unavailable:
        cards.append(_card(f"Target N = {accrual.target:,}", "no forecast", _esc(accrual.unavailable)))
    top = top_criteria(views.impact)
    excluded_total = pd.to_numeric(views.impact["shapley"], errors="coerce").sum()
    top_rows = "".join(
        f"<tr><td>{_esc(row.reason)}</td><td class='num'>{n_text(row.fail)}</td>"
        f"<td class='num'>{_number(row.shapley_pct) or 0:.0f} %</td></tr>"
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
        _short_banner(content.disclosure),
        "</section>",
    ]
    return parts


def _screened_detail(content: ReportContent) -> str:
    parts = []
    if content.events is not None:
        parts.append(f"{n_text(content.events.attrition['remaining'].iloc[0])} candidate screening events")
    if "site" in content.patients.by:
        sites = content.patients.by["site"].iloc[:, 0].nunique()
        parts.append(f"{sites:,} site{'s' if sites != 1 else ''}")
    parts.append(f"data cut-off {_esc(content.facts.get('Data cut-off', ''))}")
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
    sites["_order"] = sites["potential"].map(_num)
    sites = sites.sort_values(["_order", "group"], ascending=[False, True], kind="stable")
    shown = sites.head(MAX_SITES_AT_A_GLANCE)
    rows = "".join(
        f"<tr><td>{_esc(row.group)}</td><td class='num'>{n_text(row.screened)}</td>"
        f"<td class='num'>{_esc(_bounds(row.eligible, row.potential))}</td></tr>"
        for row in shown.itertuples()
    )
    more = len(sites) - len(shown)
    tail = f"<tr><td colspan=3 class='muted'>… and {more} more sites (see Breakdown by site)</td></tr>" if more else ""
    return (
        f"<table><caption>Sites ({len(sites)}), by potentially eligible {views.unit}</caption><thead><tr>"
        "<th>Site</th><th class='num'>Screened</th><th class='num'>Potentially eligible</th></tr></thead>"
        f"<tbody>{rows}{tail}</tbody></table>"
    )


def _banner_text(choice: DisclosureChoice) -> str:
    if choice.applied:
        return (
            f"<b>Disclosure control applied.</b> {_esc(RULE_TEXT)} {_esc(DERIVED_TEXT)} A count shown as 0 means 0 "
            "to 7."
        )
    if choice.mode == "synthetic":
        return f"<b>Synthetic data — exact counts.</b> {_esc(choice.banner())}"
    return (
        "<b>Exact counts — internal use only.</b> Disclosure control was turned off; this report must not leave "
        "the institution."
    )


def _css(choice: DisclosureChoice) -> str:
    return "note" if choice.applied else "synthetic" if choice.mode == "synthetic" else "internal"


def _short_banner(choice: DisclosureChoice) -> str:
    """One sentence in the summary: how the counts were controlled, or why they are exact."""
    return f'<p class="{_css(choice)}">{_esc(choice.banner())}</p>'


def _banner(choice: DisclosureChoice) -> str:
    """The full statement after the provenance (the synthetic case is said in full in the summary already)."""
    if choice.mode == "synthetic":
        return ""
    return f'<p class="{_css(choice)}">{_banner_text(choice)}</p>'


# --- provenance -----------------------------------------------------------------------------------------------------


def _provenance(content: ReportContent) -> list[str]:
    facts = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in content.facts.items())
    if content.input_files:
        files = "<br>".join(f"{_esc(name)} <code>sha256:{_esc(digest)}</code>" for name, digest in content.input_files)
        facts += f"<dt>Input files</dt><dd>{files}</dd>"
    return ["<h2>Provenance</h2>", f'<dl class="provenance">{facts}</dl>']


# --- the detail -----------------------------------------------------------------------------------------------------

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


def _status_section(content: ReportContent) -> list[str]:
    status = content.patients.status
    return [
        "<h2>Patients by status</h2>",
        "<p>Ineligible: a criterion fails. Unknown: none fails, some cannot be decided from the extract. "
        "Eligible: every criterion passes (chart-review criteria still to be checked).</p>",
        html_table(
            status,
            [("group", "", "text")]
            + [(c, c.capitalize(), "n") for c in ("eligible", "unknown", "ineligible", "total")],
            caption="Eligible + unknown + ineligible = total" + _control_note(content.patients),
        ),
    ]


def _attrition_section(views: Views, heading: str, figures: Mapping[str, str]) -> list[str]:
    note = _control_note(views)
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
    caption = "Remaining before a step − excluded at it = remaining after it." + note
    parts.append(html_table(views.attrition, columns, section_breaks=True, caption=caption))
    parts.append(
        _figure(
            figures.get("attrition_bars"),
            f"{views.unit.capitalize()} remaining after each criterion; dark: every criterion so far met, light: "
            f"some unknown.{note}",
        )
    )
    return parts


def _impact_section(views: Views, figures: Mapping[str, str]) -> list[str]:
    note = _control_note(views)
    return [
        "<h2>Criterion impact (independent of order)</h2>",
        html_table(
            views.impact,
            _impact_columns(views.controlled),
            section_breaks=True,
            caption="Fail counts overlap (a patient can fail several criteria); the Shapley values add up to the "
            "excluded patients." + note,
        ),
        _figure(
            figures.get("upset"),
            f"Overlap of exclusion reasons: {views.unit} per exact combination of failed criteria (largest 15), "
            f"and per criterion.{note}",
        ),
    ]


GROUP_NAMES = {"site": "site", "year": "calendar year of the screening scan"}


def _breakdown_section(content: ReportContent) -> list[str]:
    views = content.patients
    parts: list[str] = []
    for grouping in views.by:
        name = GROUP_NAMES.get(grouping, grouping)
        summary = group_summary(views, grouping)
        if summary.empty:
            continue
        total = views.attrition["remaining"].iloc[0]
        caption = f"{views.unit.capitalize()} per {name}."
        if views.controlled and _num(summary["screened"].iloc[-1]) != _num(total):
            caption += (
                f" Each {grouping} is disclosure-controlled on its own, so the rows sum to "
                f"{n_text(summary['screened'].iloc[-1])}, not to the {n_text(total)} screened in all."
            )
        columns = [("group", name.capitalize(), "text"), *GROUP_COLUMNS]
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


def _site_figures_section(content: ReportContent) -> list[str]:
    if not content.site_figures:
        return []
    note = _control_note(content.patients)
    parts = [
        '<section class="site-figures">',
        "<h2>Flow of patients by site</h2>",
        f"<p>One diagram per site ({len(content.site_figures)}), every exclusion spelled out.{note}</p>",
    ]
    for site, svg in content.site_figures:
        parts.append(f'<section class="site-figure">{_figure(svg, f"Site {site}: flow of {content.patients.unit}.")}'
                     "</section>")  # fmt: skip
    return [*parts, "</section>"]


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
                content.whatif_parameters,
                [("label", "Parameter", "text"), ("a", "A", "text"), ("b", "B", "text"), ("parameter", "Name", "code")],
            )
        )
    note = _control_note(content.patients)
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


def _accrual_section(content: ReportContent) -> list[str]:
    accrual = content.accrual
    if accrual is None:
        return []
    parts = [
        "<h2>Accrual forecast</h2>",
        f"<p>Target N = {accrual.target:,} patients; accrual from {_esc(accrual.start)}. Forecasts from the registry "
        "history of every site, with the chart-review and consent shares stated below "
        "(<code>oligo-cohort accrual</code> gives the full forecast with site planning).</p>",
    ]
    if accrual.unavailable:
        return [*parts, f'<p class="note"><b>No forecast.</b> {_esc(accrual.unavailable)}</p>']
    if accrual.forecast is not None and not accrual.forecast.empty:
        parts.append(html_table(accrual.forecast, ACCRUAL_COLUMNS))
    parts.append(_figure(accrual.figure_svg, "Predicted cumulative enrolment: median and 95 % band per scenario."))
    parts += [f"<p>{_esc(line)}</p>" for line in accrual.headline]
    if accrual.notes:
        parts.append("<ul>" + "".join(f"<li>{_esc(note)}</li>" for note in accrual.notes) + "</ul>")
    return parts


def _assumptions_section(content: ReportContent) -> list[str]:
    parts = ["<h2>Assumptions, definitions and parameters</h2>", "<ul>"]
    parts += [f"<li>{_esc(text)}</li>" for text in (*DEFINITIONS, *content.assumptions)]
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
                caption="Findings per table (no record ids or values)." + _control_note(content.patients),
            )
        )
    return parts


def _signature() -> list[str]:
    return [
        '<div class="signature"><div>Reviewed by (name, role)</div><div>Date</div><div>Signature</div></div>',
    ]


def render_report(content: ReportContent) -> str:
    """The report as one HTML document."""
    subtitle = f'<p class="subtitle">{_esc(content.subtitle)}</p>' if content.subtitle else ""
    body = [
        f"<h1>{_esc(content.title)}</h1>",
        subtitle,
        *_summary(content),
        *_provenance(content),
        _banner(content.disclosure),
        *_status_section(content),
        *_attrition_section(content.patients, "Attrition by criterion: patients", content.figures),
        *_impact_section(content.patients, content.figures),
        *(
            _attrition_section(content.events, "Attrition by criterion: screening events", {})
            if content.events is not None
            else []
        ),
        *_breakdown_section(content),
        *_whatif_section(content),
        *_accrual_section(content),
        *content.extra_html,
        *_assumptions_section(content),
        *_signature(),
        *_site_figures_section(content),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(content.title)}</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body></html>\n"
    )
