"""Who made the report from what (tool, protocol, cut-off, input checksums), and how its counts were controlled."""

from __future__ import annotations

from oligo_cohort.attrition.report.content import ReportContent
from oligo_cohort.attrition.report.html_parts import esc
from oligo_cohort.disclosure import DERIVED_TEXT, RULE_TEXT, DisclosureChoice


def _banner_text(choice: DisclosureChoice) -> str:
    if choice.applied:
        return (
            f"<b>Disclosure control applied.</b> {esc(RULE_TEXT)} {esc(DERIVED_TEXT)} A count shown as 0 means 0 to 7."
        )
    if choice.mode == "synthetic":
        return f"<b>Synthetic data — exact counts.</b> {esc(choice.banner())}"
    return (
        "<b>Exact counts — internal use only.</b> Disclosure control was turned off; this report must not leave "
        "the institution."
    )


def _css(choice: DisclosureChoice) -> str:
    return "note" if choice.applied else "synthetic" if choice.mode == "synthetic" else "internal"


def short_banner(choice: DisclosureChoice) -> str:
    """One sentence in the summary: how the counts were controlled, or why they are exact."""
    return f'<p class="{_css(choice)}">{esc(choice.banner())}</p>'


def disclosure_statement(choice: DisclosureChoice) -> str:
    """The full statement after the provenance (the synthetic case is said in full in the summary already)."""
    if choice.mode == "synthetic":
        return ""
    return f'<p class="{_css(choice)}">{_banner_text(choice)}</p>'


# --- provenance -----------------------------------------------------------------------------------------------------


def provenance_section(content: ReportContent) -> list[str]:
    facts = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in content.facts.items())
    for label, listed in {"Input files": content.input_files, **content.more_files}.items():
        if listed:
            files = "<br>".join(f"{esc(name)} <code>sha256:{esc(digest)}</code>" for name, digest in listed)
            facts += f"<dt>{esc(label)}</dt><dd>{files}</dd>"
    return ["<h2>Provenance</h2>", f'<dl class="provenance">{facts}</dl>']
