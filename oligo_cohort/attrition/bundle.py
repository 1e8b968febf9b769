"""Writing attrition outputs: the CSV tables and figures of a set of views, into a folder written all-or-nothing.

A folder written here holds aggregates only (never patient rows); with
disclosure control on (the default) it is the shareable bundle and carries
`disclosure.md` / `disclosure.json` saying what was applied.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from oligo_cohort.attrition.charts import FORMATS, attrition_bars_figure, save_figure, upset_figure
from oligo_cohort.attrition.consort import MAX_COLUMNS, consort_figure
from oligo_cohort.attrition.views import Views, sets_for_csv
from oligo_cohort.csv_output import write_csv
from oligo_cohort.disclosure import ROUND_TO, SUPPRESS_UP_TO
from oligo_cohort.errors import UsageError

SETTINGS = "settings.json"
CONTROLLED_NOTE = (
    f"Disclosure control: counts of 1–{SUPPRESS_UP_TO} shown as 0, others rounded to the nearest {ROUND_TO}; "
    "rounded counts need not add up."
)
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


def figure_note(views: Views) -> str | None:
    """The footnote a figure of these views carries."""
    return CONTROLLED_NOTE if views.controlled else None


def write_figures(
    views: Views, folder: Path, suffix: str = "", formats: Sequence[str] = FORMATS
) -> dict[str, list[Path]]:
    """CONSORT diagram, attrition bars and UpSet plot in `folder`, in each format; the paths per figure stem."""
    note = figure_note(views)
    figures = {
        f"consort{suffix}": lambda: consort_figure(views.attrition, unit=views.unit, note=note),
        f"attrition_bars{suffix}": lambda: attrition_bars_figure(views.attrition, unit=views.unit, note=note),
        f"upset{suffix}": lambda: upset_figure(views.sets, views.set_sizes(), unit=views.unit, note=note),
    }
    site_table = views.by.get("site")
    if site_table is not None and site_table.iloc[:, 0].nunique() <= MAX_COLUMNS:
        figures[f"consort{suffix}_by_site"] = lambda: consort_figure(
            site_table, unit=views.unit, overall=views.attrition, note=note
        )
    written: dict[str, list[Path]] = {}
    for stem, draw in figures.items():
        written[stem] = save_figure(draw(), folder, stem, formats)  # one figure alive at a time
    return written


def relative_names(written: dict[str, list[Path]], root: Path) -> list[str]:
    """The files of `write_figures` as paths relative to `root` (for the disclosure statement)."""
    return [path.relative_to(root).as_posix() for paths in written.values() for path in paths]


def parse_formats(text: str | None) -> tuple[str, ...]:
    """`"png,svg"` → `("png", "svg")`; unknown formats are a UsageError."""
    chosen = tuple(part.strip().lower() for part in (text or ",".join(FORMATS)).split(",") if part.strip())
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise UsageError(f"--formats: choose from {', '.join(FORMATS)} (got {text!r})")
    return chosen


def write_settings(folder: Path, settings: dict[str, object]) -> str:
    """settings.json: what produced these outputs (protocol, cut-off, options); no patient data."""
    (folder / SETTINGS).write_text(json.dumps(settings, indent=2, default=str) + "\n", encoding="utf-8")
    return SETTINGS
