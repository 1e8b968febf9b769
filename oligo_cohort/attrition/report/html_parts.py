"""The pieces every part of the report is built of: escaped text, numbers as shown, tables, figures, cards.

Every value reaches the page through `esc` or a number format; a figure is an inline SVG element.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from oligo_cohort.attrition.labels import n_text
from oligo_cohort.attrition.tables import SECTION_REVIEW
from oligo_cohort.attrition.views import Views


def esc(value: object) -> str:
    return html.escape(str(value))


def as_number(value: object) -> float | None:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return None if pd.isna(number) else float(number)


def _cell(value: object, kind: str) -> str:
    if kind == "n":
        return f'<td class="num">{n_text(value)}</td>'
    number = as_number(value)
    if kind == "pct":
        return f'<td class="num">{"–" if number is None else f"{number:.1f} %"}</td>'
    if kind == "dec":
        return f'<td class="num">{"–" if number is None else f"{number:,.1f}"}</td>'
    if kind == "rate":
        return f'<td class="num">{"–" if number is None else f"{100 * number:.0f} %"}</td>'
    if kind == "diff":
        return f'<td class="num">{"–" if number is None else f"{int(number):+,}"}</td>'
    if kind == "label":
        return f'<td class="label">{esc("" if value is None or value is pd.NA else value)}</td>'
    if kind == "code":
        return f"<td><code>{esc('' if value is None or value is pd.NA else value)}</code></td>"
    return f"<td>{esc('' if value is None or value is pd.NA else value)}</td>"


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
    head = "".join(f'<th class="{"num" if kind not in ("text", "code", "label") else ""}">{esc(header)}</th>'
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
    title = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f'<div class="wide"><table>{title}<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _svg(svg: str) -> str:
    """The <svg> element of an SVG file (no XML prolog or doctype inside HTML)."""
    return svg[svg.index("<svg") :]


def figure(svg: str | None, caption: str, css: str = "") -> str:
    """An inline SVG figure with its caption (nothing when the figure was not drawn)."""
    if not svg:
        return ""
    klass = f' class="{css}"' if css else ""
    return f"<figure{klass}>{_svg(svg)}<figcaption>{esc(caption)}</figcaption></figure>"


def control_note(views: Views) -> str:
    return " Counts after disclosure control." if views.controlled else ""


def bounds(known: object, remaining: object) -> str:
    """`12 – 20`, or one number when both bounds agree."""
    low, high = n_text(known), n_text(remaining)
    return low if low == high else f"{low} – {high}"


def card(label: str, value: str, detail: str) -> str:
    return (
        f'<div class="card"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div>'
        f'<div class="detail">{detail}</div></div>'
    )


def number_or_zero(value: object) -> float:
    number = as_number(value)
    return 0.0 if number is None else number
