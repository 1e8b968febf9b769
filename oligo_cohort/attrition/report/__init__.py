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

The package, one module per part: `content` (what the writer hands over), `style` (the stylesheet),
`html_parts` (escaped text, numbers, tables, figures), `summary` (the first screen), `provenance` (who,
from what, and the disclosure statement), `sections` (the detail); this module puts them in order.
"""

from __future__ import annotations

from oligo_cohort.attrition.report.content import AccrualSection, ReportContent
from oligo_cohort.attrition.report.html_parts import esc, html_table
from oligo_cohort.attrition.report.provenance import disclosure_statement, provenance_section
from oligo_cohort.attrition.report.sections import (
    accrual_section,
    assumptions_section,
    attrition_section,
    breakdown_section,
    impact_section,
    signature,
    site_figures_section,
    status_section,
    whatif_section,
)
from oligo_cohort.attrition.report.style import STYLE
from oligo_cohort.attrition.report.summary import group_summary, summary_section, top_criteria

__all__ = ["AccrualSection", "ReportContent", "group_summary", "html_table", "render_report", "top_criteria"]


def render_report(content: ReportContent) -> str:
    """The report as one HTML document."""
    subtitle = f'<p class="subtitle">{esc(content.subtitle)}</p>' if content.subtitle else ""
    body = [
        f"<h1>{esc(content.title)}</h1>",
        subtitle,
        *summary_section(content),
        *provenance_section(content),
        disclosure_statement(content.disclosure),
        *status_section(content),
        *attrition_section(content.patients, "Attrition by criterion: patients", content.figures),
        *impact_section(content.patients, content.figures),
        *(
            attrition_section(content.events, "Attrition by criterion: screening events", {})
            if content.events is not None
            else []
        ),
        *breakdown_section(content),
        *whatif_section(content),
        *accrual_section(content),
        *content.extra_html,
        *assumptions_section(content),
        *signature(),
        *site_figures_section(content),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(content.title)}</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body></html>\n"
    )
