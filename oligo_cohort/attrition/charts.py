"""Figures for the feasibility report: the horizontal attrition bar chart and the UpSet plot of exclusion overlaps.

Journal conventions: a sans-serif font (Arial/Helvetica when installed),
black text, thin axes, colour-blind-safe blues, thousands separators; saved as
PNG (300 dpi) and SVG (text kept as text) by default, and PDF (TrueType fonts,
editable) when asked for: embedding subset fonts made PDF the slowest format.
Counts are written at the ends of the bars rather than read off tick labels,
so no axis of numbers can collide at any size. The UpSet plot is drawn with
matplotlib directly (no extra dependency).
Figures are plain `Figure` objects, not pyplot ones: no global state, no
backend switch, and a notebook shows one when it is a cell's last value.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from oligo_cohort.attrition.labels import exclusion_reason, n_text
from oligo_cohort.disclosure import SUPPRESS_UP_TO
from oligo_cohort.figure_files import TEXT_AS_WRITTEN, font_family, write_figure

DARK = "#08519c"  # all criteria so far met
LIGHT = "#9ecae1"  # some criteria unknown
GREY = "#d9d9d9"
PAD_INCHES = 0.05  # white margin around a saved figure


@contextlib.contextmanager
def figure_style() -> Iterator[None]:
    """Matplotlib settings shared by every figure of the report."""
    with mpl.rc_context(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [font_family()],
            "font.size": 8.5,
            "axes.linewidth": 0.6,
            "axes.edgecolor": "black",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "xtick.major.width": 0.6,
            "ytick.major.width": 0.6,
            "svg.fonttype": "none",  # text stays text: searchable and editable
            "pdf.fonttype": 42,
            "figure.dpi": 100,
            "savefig.dpi": 300,
            **TEXT_AS_WRITTEN,
        }
    ):
        yield


def _thousands() -> FuncFormatter:
    """Axis tick labels with thousands separators."""
    return FuncFormatter(lambda value, _: f"{value:,.0f}")


def save_figure(
    figure: Figure, folder: Path, stem: str, formats: Sequence[str], *, exact_size: bool = False
) -> list[Path]:
    """Write the figure as `<stem>.<format>` in `folder` for each format (the commands ask for `bundle.DEFAULT_FORMATS`
    unless told otherwise); the paths.

    A chart is cut to what it draws plus PAD_INCHES ("tight"), which costs a layout pass per format to measure every
    text. A figure of `exact_size` (the CONSORT diagrams, laid out in points from measured text, margin included)
    is saved at its own size: a third of the time a site's diagram took went to that pass.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    extent: dict[str, object] = {} if exact_size else {"bbox_inches": "tight", "pad_inches": PAD_INCHES}
    with figure_style():
        # Lay the figure out once: every format would otherwise solve a constrained layout again.
        # A figure of text alone (nothing excluded) has no axes to lay out: running the engine only warns.
        engine = figure.get_layout_engine()
        if engine is not None:
            if figure.axes:
                engine.execute(figure)
            figure.set_layout_engine("none")
        for fmt in formats:
            path = folder / f"{stem}.{fmt}"
            # "tight" measures with each format's own renderer: one extent for all formats, measured once with
            # Agg at screen resolution, clipped labels that sit beyond the axes.
            write_figure(figure, path, fmt, **extent)
            paths.append(path)
    return paths


def attrition_bars_figure(table: pd.DataFrame, *, unit: str = "patients", note: str | None = None) -> Figure:
    """Horizontal bars: units remaining after each step, split into all-known and some-unknown.

    One label convention on every step: `remaining (k excluded)`; the axis ends
    at the largest count and the labels sit beyond the bars.
    """
    steps = table.reset_index(drop=True)
    labels = ["All " + unit] + [f"+ {label}" for label in steps["label"].iloc[1:]]
    known = steps["remaining_if_unknown_fail"].astype(float).fillna(0).to_numpy()
    remaining = steps["remaining"].astype(float).fillna(0).to_numpy()
    unknown_part = np.clip(remaining - known, 0, None)
    y = np.arange(len(steps))
    with figure_style():
        figure = Figure(figsize=(6.8, 0.26 * len(steps) + 1.1), layout="constrained")
        axes = figure.subplots()
        axes.barh(y, known, color=DARK, height=0.7, label="every criterion so far met")
        axes.barh(y, unknown_part, left=known, color=LIGHT, height=0.7, label="some criteria unknown")
        top = max(remaining.max(), 1)
        for row, (total, excluded) in enumerate(zip(remaining, steps["excluded"].astype(float).fillna(0), strict=True)):
            axes.annotate(bar_label(total, excluded, first=row == 0), (total, row), xytext=(3, 0),
                          textcoords="offset points", va="center", ha="left", fontsize=7.5, annotation_clip=False)  # fmt: skip
        review_rows = np.flatnonzero(steps["section"].to_numpy() == "review")
        if review_rows.size:
            boundary = review_rows[0] - 0.5
            # Named in the legend, not beside the line, where it would meet the count labels.
            axes.axhline(boundary, color="black", lw=0.5, ls=(0, (3, 2)), label="below: criteria needing chart review")
        axes.set_yticks(y, labels)
        axes.invert_yaxis()
        axes.set_xlim(0, top)
        axes.margins(x=0)
        axes.xaxis.set_major_formatter(_thousands())
        axes.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        axes.set_xlabel(f"{unit.capitalize()} remaining (excluded at the step)")
        axes.tick_params(axis="y", length=0)
        axes.spines["left"].set_visible(False)
        # A figure legend above the axes, from the figure's left edge: it never runs past the right edge.
        handles, names = axes.get_legend_handles_labels()
        order = sorted(range(len(names)), key=lambda i: names[i].startswith("below"))
        figure.legend([handles[i] for i in order], [names[i] for i in order], loc="outside upper left", ncol=2,
                      frameon=False, fontsize=7.5)  # fmt: skip
        if note:
            figure.text(0.0, -0.01, note, fontsize=6.5, va="top", ha="left", wrap=True)
    return figure


def bar_label(remaining: float, excluded: float, *, first: bool = False) -> str:
    """The label of an attrition bar: `1,234 (56 excluded)`; the first bar (all units) has no exclusion."""
    return n_text(remaining) if first else f"{n_text(remaining)} ({n_text(excluded)} excluded)"


# The UpSet plot's columns: the criteria's totals and names, then the combinations' bars and dot matrix.
UPSET_WIDTHS = (1.15, 2.8)


def upset_figure(
    sets: pd.DataFrame,
    set_sizes: Mapping[str, float],
    *,
    unit: str = "patients",
    max_sets: int = 15,
    note: str | None = None,
    controlled: bool = False,
) -> Figure:
    """UpSet plot: units per exact combination of failed criteria (top `max_sets`), with each criterion's total.

    `sets` is `failure_sets(...)` (columns criteria, n); `set_sizes` maps
    criterion → units failing it. Combinations and criteria counted 0 are left
    out; a line under the bars says how many units the combinations not drawn
    hold, so the bars and that line add up to every excluded unit. With nothing
    to draw the figure says so; of `controlled` counts it says the same words
    whether none was excluded or 1 to 7 (every combination is then shown as 0).
    Under control a criterion's total is rounded on its own while the
    combinations are derived from running totals, so a combination can show 5
    where a criterion in it shows 0: that total is written 0–7, what a 0 stands
    for (docs/attrition.md A23).
    """
    counted = sets[sets["n"].astype(float) > 0]
    shown = counted.head(max_sets).reset_index(drop=True)
    members = sorted({c for combo in shown["criteria"] for c in combo}, key=lambda c: (-float(set_sizes.get(c, 0)), c))
    with figure_style():
        width = max(5.6, 3.4 + 0.28 * max(len(shown), 1))
        height = 2.1 + 0.2 * max(len(members), 1)
        figure = Figure(figsize=(width, height), layout="constrained")
        if shown.empty:
            figure.set_size_inches(5.6, 0.8 if not note else 1.0)
            said = (
                "No combination of failed criteria to show: each is counted 0 (0 to 7 under disclosure control)."
                if controlled
                else f"No {unit} excluded by any criterion."
            )
            figure.text(0.02, 0.6, said, ha="left", va="center")
            if note:
                figure.text(0.02, 0.15, note, fontsize=6.5, va="bottom", ha="left")
            return figure
        grid = figure.add_gridspec(2, 2, width_ratios=UPSET_WIDTHS, height_ratios=[1.4, max(len(members), 1) * 0.2])
        bars = figure.add_subplot(grid[0, 1])
        matrix = figure.add_subplot(grid[1, 1], sharex=bars)
        totals = figure.add_subplot(grid[1, 0], sharey=matrix)
        x = np.arange(len(shown))
        counts = shown["n"].astype(float).to_numpy()
        bars.bar(x, counts, color="black", width=0.6)
        bars.yaxis.set_major_formatter(_thousands())
        bars.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
        bars.tick_params(axis="x", bottom=False, labelbottom=False)
        labels = [
            bars.text(xi, count, " " + n_text(count), ha="center", va="bottom", fontsize=6.5, rotation=90)
            for xi, count in zip(x, counts, strict=True)
        ]
        bars.set_ylim(0, counts.max() * 1.35)
        rest = counted.iloc[len(shown) :]
        # The unit is named in the title rather than a y label, whose margin would also push the dot matrix below
        # away from the criterion names.
        caption = f"{unit.capitalize()} per exact combination of failed criteria"
        if len(rest):
            caption += f":\nthe {len(shown)} largest of {len(counted):,}; the other {len(rest):,} hold "
            caption += f"n = {n_text(rest['n'].astype(float).sum())}"
        else:
            caption += f" (all {len(counted):,})"
        bars.set_title(caption, fontsize=7.5, loc="left", pad=4)
        rows = {c: i for i, c in enumerate(members)}
        for row in range(0, len(members), 2):  # banded rows guide the eye from label to dots
            matrix.axhspan(row - 0.5, row + 0.5, color="#f2f2f2", zorder=0, lw=0)
        for xi, combo in zip(x, shown["criteria"], strict=True):
            matrix.scatter([xi] * len(members), range(len(members)), s=22, color=GREY, zorder=1)
            ys = sorted(rows[c] for c in combo)
            matrix.plot([xi, xi], [ys[0], ys[-1]], color="black", lw=1.2, zorder=2)
            matrix.scatter([xi] * len(ys), ys, s=22, color="black", zorder=3)
        matrix.set_yticks(range(len(members)), [exclusion_reason(c) for c in members], fontsize=7)
        matrix.tick_params(axis="y", left=False, labelleft=False)
        matrix.tick_params(axis="x", bottom=False, labelbottom=False)
        for spine in matrix.spines.values():
            spine.set_visible(False)
        matrix.set_ylim(len(members) - 0.5, -0.5)
        sizes = np.array([float(set_sizes.get(c, 0)) for c in members])
        totals.barh(range(len(members)), sizes, color=DARK, height=0.6)
        # Each total is written at its bar's end: no tick labels that could run into each other at any count.
        for row, size in enumerate(sizes):
            label = _total_text(size, controlled)
            totals.annotate(label, (size, row), xytext=(-2, 0), textcoords="offset points", ha="right",
                            va="center", fontsize=6.5, annotation_clip=False)  # fmt: skip
        totals.set_xlim(max(sizes.max(), 1) * 1.45, 0)
        totals.set_xlabel(f"{unit.capitalize()} failing\n(any combination)", fontsize=7.5)
        totals.tick_params(axis="x", bottom=False, labelbottom=False)
        totals.yaxis.tick_right()
        totals.tick_params(axis="y", length=0, labelright=True, labelleft=False, labelsize=7, pad=4)
        for side in ("left", "right", "bottom"):
            totals.spines[side].set_visible(False)
        totals.set_yticks(range(len(members)), [exclusion_reason(c) for c in members])
        figure.add_subplot(grid[0, 0]).axis("off")
        if note:
            figure.text(0.0, -0.01, note, fontsize=6.5, va="top", ha="left")
        share = UPSET_WIDTHS[1] / sum(UPSET_WIDTHS)  # of any width added, the matrix's part
        _room_for_columns(figure, matrix, len(shown), share=share, names=totals, counts=bars)
        _room_above_bars(figure, bars, labels, counts)
    return figure


def _total_text(size: float, controlled: bool) -> str:
    """A criterion's total as written at its bar: under control a 0 is written as the range it stands for."""
    return f"0–{SUPPRESS_UP_TO}" if controlled and size == 0 else n_text(size)


# The width of a combination's column, at the least: its count, written upright above its bar, is 0.11 inch wide.
MIN_COLUMN_INCHES = 0.15


def _room_for_columns(figure: Figure, matrix, columns: int, *, share: float, names, counts) -> None:
    """Widen the figure, when needed, so that each combination's column is MIN_COLUMN_INCHES wide as laid out and
    starts right of the criterion names (`names`, the totals' axis) and of the counts' scale (`counts`' axis).

    The names take what they need first: the longest (73 characters) left six combinations 0.1 inch each, their
    counts running into each other, or none at all (the layout gave up). The matrix gets `share` of any width added.
    """
    for _ in range(4):  # the layout is not quite linear in the width: measured again once widened
        with warnings.catch_warnings():  # a layout that gave up is what this widens
            warnings.filterwarnings("ignore", "constrained_layout not applied", UserWarning)
            figure.draw_without_rendering()
        width, height = figure.get_size_inches()
        position = matrix.get_position()
        texts_end = max(label.get_window_extent().x1 for label in names.get_yticklabels() if label.get_text())
        scale = max((label.get_window_extent().width for label in counts.get_yticklabels()), default=0.0)
        clash = (texts_end + scale) / figure.dpi + 0.1 - position.x0 * width
        missing = max(MIN_COLUMN_INCHES * columns - position.width * width, 0.0) + max(clash, 0.0)
        if missing <= 0.02 * MIN_COLUMN_INCHES * columns:
            return
        figure.set_size_inches(width + missing / share + 0.05, height)


def _room_above_bars(figure: Figure, axes, labels: list, counts: np.ndarray) -> None:
    """Raise the top of the axis, when needed, so that the count written above each bar ends inside it.

    A share of the tallest bar (35 %) was room for four digits: "213,770" ran into the caption above. The
    figure is laid out once to measure the labels against the axis's height as drawn.
    """
    figure.draw_without_rendering()
    height = axes.get_window_extent().height
    top = axes.get_ylim()[1]
    needed = top
    for label, count in zip(labels, counts, strict=True):
        room = height - label.get_window_extent().height - 2.0 * figure.dpi / 72
        needed = max(needed, count * height / room if room > 0 else 2 * count)
    if needed > top:
        axes.set_ylim(0, needed)
