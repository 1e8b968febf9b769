"""Writing attrition outputs: the CSV tables and figures of a set of views, into a folder written all-or-nothing.

A folder written here holds aggregates only (never patient rows); with
disclosure control on (the default) it is the shareable bundle and carries
`disclosure.md` / `disclosure.json` saying what was applied.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from oligo_cohort.attrition.views import Views, sets_for_csv
from oligo_cohort.csv_output import write_csv
from oligo_cohort.disclosure import SETS_RULE, SHORT_RULE, DisclosureChoice
from oligo_cohort.errors import UsageError

SETTINGS = "settings.json"
CONTROLLED_NOTE = SHORT_RULE
GROUPS_LEFT_OUT = (
    "A site or year whose counts are all shown as 0 is left out of the tables and diagrams by site and by year: "
    "it has a row only because a patient is there, so its row would tell 0 from 1–7."
)
FORMATS = ("png", "svg", "pdf")  # the formats a figure can be written in
# PDF only when asked for: embedding subset fonts made it the slowest format by far.
DEFAULT_FORMATS = ("png", "svg")
PATIENT_LEVEL_FILES = ("patients.csv", "events.csv", "reasons.csv", "findings.csv", "worklist.csv")


def _csv(frame: pd.DataFrame, path: Path) -> str:
    out = frame.copy()
    for column in out.columns:
        if column.endswith("_pct") or column.startswith("shapley") or column.startswith("expected"):
            out[column] = pd.to_numeric(out[column], errors="coerce").round(3)
    write_csv(out, path)
    return path.name


def write_tables(views: Views, folder: Path, suffix: str = "") -> list[str]:
    """The CSV tables of `views`; returns the file names written."""
    written = [
        _csv(views.attrition, folder / f"attrition{suffix}.csv"),
        _csv(views.impact, folder / f"impact{suffix}.csv"),
        _csv(views.status, folder / f"status{suffix}.csv"),
        _csv(sets_for_csv(views.sets), folder / f"exclusion_combinations{suffix}.csv"),
    ]
    for grouping, table in views.by.items():
        written.append(_csv(table, folder / f"attrition{suffix}_by_{grouping}.csv"))
        written.append(_csv(views.status_by[grouping], folder / f"status{suffix}_by_{grouping}.csv"))
    return written


def disclosure_notes(views: Views) -> list[str]:
    """The notes `disclosure.md` gives for these views: the rule, and the groups it leaves out when grouped."""
    if not views.controlled:
        return []
    return [CONTROLLED_NOTE, *([GROUPS_LEFT_OUT] if views.by else [])]


def figure_note(views: Views, choice: DisclosureChoice | None = None) -> str | None:
    """The footnote a figure of these views carries: how its counts were controlled, or why they are exact."""
    if views.controlled:
        return CONTROLLED_NOTE
    return None if choice is None else choice.figure_note()


def sets_note(note: str | None) -> str | None:
    """The UpSet plot's footnote: under control its own rule (SETS_RULE) in place of the flows' (SHORT_RULE), as
    it draws counts of both kinds side by side, criteria's totals rounded each on its own and combinations derived
    from running totals (docs/attrition.md A23)."""
    return note.replace(SHORT_RULE, SETS_RULE) if note else note


# Of a site id in a file name: enough to recognise it (the figure itself names the site in full, up to
# `shown_labels.MAX_LABEL_CHARACTERS`); a site id of any length keeps the name far below the 255 bytes a file
# system allows.
MAX_SITE_IN_FILE_NAME = 40


def site_stems(sites: Sequence[str], prefix: str) -> list[str]:
    """A file stem per site: `<prefix>_<site>` with the site id made file-safe and at most
    MAX_SITE_IN_FILE_NAME characters, numbered where that collides."""
    safe = [re.sub(r"[^A-Za-z0-9_-]+", "_", site).strip("_")[:MAX_SITE_IN_FILE_NAME] or "site" for site in sites]
    if len({s.lower() for s in safe}) < len(safe):
        width = len(str(len(sites)))
        safe = [f"{i:0{width}d}_{s}" for i, s in enumerate(safe, start=1)]
    return [f"{prefix}_{s}" for s in safe]


def write_figures(
    views: Views,
    folder: Path,
    suffix: str = "",
    formats: Sequence[str] = DEFAULT_FORMATS,
    *,
    note: str | None = None,
    site_formats: Sequence[str] | None = None,
) -> dict[str, list[Path]]:
    """CONSORT diagram, attrition bars, UpSet plot and one CONSORT per site in `folder`; the paths per figure stem.

    Every site gets its diagram, whatever their number (a diagram per site, in
    site order, stems `consort<suffix>_site_<site>`), in `site_formats`
    (default: `formats`).
    """
    from oligo_cohort.attrition.charts import attrition_bars_figure, save_figure, upset_figure
    from oligo_cohort.attrition.consort import consort_figure
    from oligo_cohort.attrition.site_drawing import write_site_diagrams

    note = note if note is not None else figure_note(views)
    # The CONSORT diagrams are drawn to their exact size; the charts are cut to what they draw.
    figures = {
        f"consort{suffix}": (lambda: consort_figure(views.attrition, unit=views.unit, note=note), True),
        f"attrition_bars{suffix}": (lambda: attrition_bars_figure(views.attrition, unit=views.unit, note=note), False),
        f"upset{suffix}": (
            lambda: upset_figure(
                views.sets, views.set_sizes(), unit=views.unit, note=sets_note(note), controlled=views.controlled
            ),
            False,
        ),
    }
    written: dict[str, list[Path]] = {}
    for stem, (draw, exact_size) in figures.items():
        # One figure alive at a time.
        written[stem] = save_figure(draw(), folder, stem, formats, exact_size=exact_size)
    site_table = views.by.get("site")
    if site_table is not None and len(site_table):
        sites = [str(site) for site in dict.fromkeys(site_table.iloc[:, 0])]
        stems = site_stems(sites, f"consort{suffix}_site")
        written |= write_site_diagrams(site_table, stems, folder, site_formats or formats, unit=views.unit, note=note)
    return written


def site_figure_stems(written: dict[str, list[Path]], suffix: str = "") -> list[str]:
    """The stems of the per-site diagrams among written figures, in site order."""
    return [stem for stem in written if stem.startswith(f"consort{suffix}_site_")]


def relative_names(written: dict[str, list[Path]], root: Path) -> list[str]:
    """The files of `write_figures` as paths relative to `root` (for the disclosure statement)."""
    return [path.relative_to(root).as_posix() for paths in written.values() for path in paths]


def parse_formats(text: str | None) -> tuple[str, ...]:
    """`"png,svg"` → `("png", "svg")`; unknown formats are a UsageError."""
    chosen = tuple(part.strip().lower() for part in (text or ",".join(DEFAULT_FORMATS)).split(",") if part.strip())
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise UsageError(f"--formats: choose from {', '.join(FORMATS)} (got {text!r})")
    return chosen


def write_settings(folder: Path, settings: dict[str, object]) -> str:
    """settings.json: what produced these outputs (protocol, cut-off, options); no patient data."""
    (folder / SETTINGS).write_text(json.dumps(settings, indent=2, default=str) + "\n", encoding="utf-8")
    return SETTINGS
