"""The report's look on screen and on A4 paper: one stylesheet, inlined in the page (no external file)."""

from __future__ import annotations

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
