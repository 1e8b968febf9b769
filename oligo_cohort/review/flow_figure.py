"""The chart review stage of the CONSORT flow drawn: boxes down the page, and the figure inline in the report.

The counts are the review stage's (`oligo_cohort.review.flow`); this module only lays them out: the boxes down the
spine, those leaving the flow beside it, each box moved down as far as the text above it reaches, and the footnote
every figure of a command carries. A `ReviewFlow` writes and shows its figure through `flow_figure` and
`figure_svg`, as the attrition figures are written (`oligo_cohort.figure_files`).
"""

from __future__ import annotations

import itertools
import textwrap
from typing import Protocol

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text


class ReviewCounts(Protocol):
    """What the figure reads of the review stage (`oligo_cohort.review.flow.ReviewFlow` is one): its boxes and its
    exclusions as tables, a box's count and the footnote it carries without another. Typed against this, the figure
    need not know the class, and the class can draw itself without an import circle."""

    @property
    def flow(self) -> pd.DataFrame: ...  # box, label, patients, items

    @property
    def exclusions(self) -> pd.DataFrame: ...  # criterion, label, patients, best_event_moved

    def count(self, box: str, column: str = "patients") -> int: ...

    def note(self) -> str: ...


MAIN_BOXES = {"registry": 92, "candidates": 70, "asked": 47, "eligible": 8}  # box -> height (0-100) on the page
SIDE_BOXES = {"registry_excluded": 81, "review_excluded": 34, "unknown": 21}  # beside the spine, leaving the flow
NOT_ASKED_Y = 58.5  # beside the spine between the candidates and those sent to review, when any were not sent
SPINE_X, SIDE_X = 30, 58
FIGURE_WIDTH, FIGURE_HEIGHT = 7.4, 5.6  # inches; 100 units of height on the page
BOX_GAP = 3  # units between a box and the one below it, at the least


def flow_figure(flow: ReviewCounts, *, note: str | None = None) -> Figure:
    """The review stage as boxes down the page, with side boxes for those leaving the flow and those unknown after
    review, and under them the footnote every figure carries (`note`; without one `flow.note()`: how the counts
    were controlled, or that they are exact).

    Boxes sit at their heights on the page (MAIN_BOXES, SIDE_BOXES) unless the one above reaches down to there: the
    list of exclusion reasons grows with the criteria the answers made fail, so each box below it is moved down
    (and the page made longer) to keep BOX_GAP between them, measured from the text as drawn."""
    figure = Figure(figsize=(FIGURE_WIDTH, FIGURE_HEIGHT))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, 100)
    axes.set_ylim(0, 100)
    axes.axis("off")
    style = {"boxstyle": "square,pad=0.5", "facecolor": "white", "edgecolor": "black", "linewidth": 0.8}
    arrow = {"arrowstyle": "->", "linewidth": 0.8}
    main = {
        box: axes.text(SPINE_X, y, _box_text(flow, box), ha="center", va="center", fontsize=8.5, bbox=style)
        for box, y in MAIN_BOXES.items()
    }
    side = {}
    for box, y in SIDE_BOXES.items():
        text = _box_text(flow, box)
        if box == "review_excluded" and len(flow.exclusions):
            text += "\n" + "\n".join(f"{r.label}: {_n(r.patients)}" for r in flow.exclusions.itertuples())
            moved = int(flow.exclusions["best_event_moved"].sum())
            if moved:
                text += f"\nof these, best event moved to another scan: {_n(moved)}"
        side[box] = axes.text(SIDE_X, y, text, ha="left", va="center", fontsize=8, bbox=style)
    if flow.count("not_asked"):  # they reach the boxes below without passing through review
        text = _box_text(flow, "not_asked") + " (carried as screened to the boxes below)"
        side["not_asked"] = axes.text(SIDE_X, NOT_ASKED_Y, text, ha="left", va="center", fontsize=8, bbox=style)
    heights = _box_heights(figure, axes, [*main.values(), *side.values()])
    # Down the page: below the box above, each side box at its height or lower, then the last main box.
    above = main["asked"]
    for box in ("review_excluded", "unknown"):
        side[box].set_y(min(SIDE_BOXES[box], _bottom(above, heights) - BOX_GAP - heights[side[box]] / 2))
        above = side[box]
    last = main["eligible"]
    last.set_y(min(MAIN_BOXES["eligible"], _y(side["unknown"]) - BOX_GAP - heights[last] / 2))
    lowest = _bottom(last, heights) - BOX_GAP
    footnote = axes.text(0, lowest, _wrapped(note or flow.note()), ha="left", va="top", fontsize=6.5)
    lowest -= _box_heights(figure, axes, [footnote], patch=False)[footnote] + 1
    if lowest < 0:  # a longer page, every unit as tall as before
        axes.set_ylim(lowest, 100)
        figure.set_size_inches(FIGURE_WIDTH, FIGURE_HEIGHT * (100 - lowest) / 100)
    for upper, lower in itertools.pairwise(main.values()):
        top = _y(lower) + heights[lower] / 2
        axes.annotate("", xy=(SPINE_X, top + 1), xytext=(SPINE_X, _bottom(upper, heights) - 1), arrowprops=arrow)
    for text in side.values():
        axes.annotate("", xy=(SIDE_X - 1.5, _y(text)), xytext=(SPINE_X, _y(text)), arrowprops=arrow)
    return figure


def _box_heights(figure: Figure, axes: Axes, texts: list[Text], *, patch: bool = True) -> dict[Text, float]:
    """Each text's box height (or, not `patch`, the text's own) in the axes' units (100 to the page), as drawn."""
    figure.draw_without_rendering()
    per_unit = axes.bbox.height / 100
    return {text: (text.get_bbox_patch() if patch else text).get_window_extent().height / per_unit for text in texts}


FOOTNOTE_CHARACTERS = 150  # a line of the footnote at 6.5 pt across the figure's width


def _wrapped(note: str) -> str:
    """The footnote in lines that fit the figure's width (wrapped here, not by Matplotlib at every layout pass)."""
    return "\n".join(textwrap.fill(line, FOOTNOTE_CHARACTERS) for line in note.splitlines())


def _y(text: Text) -> float:
    return float(text.get_position()[1])


def _bottom(text: Text, heights: dict[Text, float]) -> float:
    return _y(text) - heights[text] / 2


def _box_text(flow: ReviewCounts, box: str) -> str:
    row = flow.flow.set_index("box").loc[box]
    text = f"{row['label']}\nn = {_n(row['patients'])}"
    if not pd.isna(row["items"]):
        text += f" patients, {_n(row['items'])} items"
        answered = flow.flow.set_index("box").loc["answered"]
        text += f"\nanswered: {_n(answered['patients'])} patients, {_n(answered['items'])} items"
    if box == "registry_excluded" and flow.count("readmitted"):
        text += f"\nnot excluded after chart review: {_n(flow.count('readmitted'))}"
    if box == "eligible":
        confirmed = flow.flow.set_index("box").loc["confirmed", "patients"]
        open_ = flow.flow.set_index("box").loc["review_open", "patients"]
        text += f"\nconfirmed (every criterion passes): {_n(confirmed)}\nchart review still open: {_n(open_)}"
    return text


def _n(value: object) -> str:
    return "–" if value is None or pd.isna(value) else f"{int(value):,}"  # type: ignore[call-overload]


def figure_svg(flow_drawn: Figure) -> str:
    """The flow figure inline in the report, as the report's own figures are (`html_parts.figure`)."""
    import io

    from oligo_cohort.attrition.charts import figure_style
    from oligo_cohort.attrition.report.html_parts import figure
    from oligo_cohort.figure_files import write_figure

    buffer = io.StringIO()
    with figure_style():  # as the report's other figures: text stays text, searchable and selectable
        write_figure(flow_drawn, buffer, "svg", bbox_inches="tight")
    return figure(buffer.getvalue(), "Chart review stage of the flow.")
