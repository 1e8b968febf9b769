"""The CONSORT-style flow diagram, drawn from an attrition table (so its numbers are the table's numbers).

Main boxes go down the page (all units → not excluded on registry data →
potentially eligible pending chart review); beside each step a side box lists
every exclusion reason of that section in step order with its count, `n = 0`
included. Where unknowns are present a main box gives both bounds (every
criterion met / some unknown). Split by site, each site gets its own
column under the box of all units, every exclusion box spelled out, for up to
`MAX_SPLIT_COLUMNS` groups; for the files of a report (any number of sites)
`site_figures` draws one complete diagram per site instead, so that no site is
dropped and each stays readable on a printed page. Layout is computed in points
from measured text, so boxes fit their text exactly at any size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.textpath import TextToPath

from oligo_cohort.attrition.charts import PAD_INCHES, figure_style
from oligo_cohort.attrition.labels import n_text
from oligo_cohort.attrition.tables import SECTION_REGISTRY, SECTION_REVIEW
from oligo_cohort.errors import UsageError
from oligo_cohort.figure_files import figure_labels, font_family

FONT_SIZE = 8.5
NOTE_FONT_SIZE = FONT_SIZE - 1.5
# Text is measured unhinted and drawn hinted, which can draw a long line up to about 1 % wider than measured in a
# saved file (300 dpi): a box's text has PAD_X to spare, the note below the boxes this.
NOTE_SLACK = 1.02
# ... and up to about 3 % wider at the figure's own 100 dpi, as a notebook shows it: a box is as wide as its text
# measured and this much more, so that its longest line ends clear of the border there too.
TEXT_SLACK = 1.03
# White margin around the drawing, in points: as wide as a saved chart left it when it was cut "tight" (the axes,
# which span the figure with 2 points to spare, plus the pad `save_figure` leaves around a chart).
MARGIN = 2.0 + PAD_INCHES * 72
LINE_HEIGHT = FONT_SIZE * 1.32
PAD_X, PAD_Y = 7.0, 5.0
ARROW_GAP = 28.0  # from the spine to a side box
ROW_MARGIN = 12.0  # above and below a side box, between main boxes
COLUMN_GAP = 26.0
_MEASURE = TextToPath()


@dataclass
class Line:
    """One line of a box: its text, bold or not, and an indent in points."""

    text: str
    bold: bool = False
    indent: float = 0.0


@dataclass(eq=False)
class Box:
    """A box of text lines; the layout fills in its top-left corner (y grows downwards) and width."""

    lines: list[Line]
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    text_width: float = field(init=False)

    def __post_init__(self) -> None:
        self.text_width = TEXT_SLACK * max((_width(line) for line in self.lines), default=0.0) + 2 * PAD_X
        self.width = self.text_width

    @property
    def height(self) -> float:
        return len(self.lines) * LINE_HEIGHT + 2 * PAD_Y - (LINE_HEIGHT - FONT_SIZE)

    def texts(self) -> list[str]:
        return [line.text for line in self.lines]


def _font(bold: bool) -> FontProperties:
    return FontProperties(family=font_family(), size=FONT_SIZE, weight="bold" if bold else "normal")


def _width(line: Line) -> float:
    return (_text_width(line.text, line.bold) if line.text else 0.0) + line.indent


@lru_cache(maxsize=4096)
def _text_width(text: str, bold: bool) -> float:
    """Measured once per text: the diagrams of many sites repeat most of their lines (five in six of 300 sites')."""
    width, _, _ = _MEASURE.get_text_width_height_descent(text, _font(bold), ismath=False)
    return width


def _n(value: object) -> str:
    return f"n = {n_text(value)}"


def _bounds(remaining: object, known: object) -> list[Line]:
    """The unknown bounds under a count, when some units have unknown criteria."""
    try:
        unknown = float(remaining) - float(known)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return []
    if np.isnan(unknown) or unknown <= 0:
        return []
    return [
        Line(f"every criterion met: {_n(known)}", indent=8),
        Line(f"some criteria unknown: {_n(unknown)}", indent=8),
    ]


@dataclass
class Column:
    """The boxes of one flow (all units, or one site): main boxes and the side box after each."""

    mains: list[Box]
    sides: list[Box]  # sides[i] hangs between mains[i] and mains[i + 1]


def _column(table: pd.DataFrame, *, unit: str, heading: str | None) -> Column:
    """The boxes of one flow, every exclusion reason spelled out with its count."""
    steps = table.reset_index(drop=True)
    start = steps.iloc[0]
    first = [Line(heading, bold=True)] if heading else [Line(f"All {unit} in the extract", bold=True)]
    mains = [Box([*first, Line(_n(start["remaining"]))])]
    sides: list[Box] = []
    sections = [
        (SECTION_REGISTRY, "Excluded on registry data", "Not excluded on registry data"),
        (SECTION_REVIEW, "Excluded on a recorded chart-review criterion", "Potentially eligible, pending chart review"),
    ]
    present = [s for s in sections if (steps["section"] == s[0]).any()]
    for index, (section, excluded_title, remaining_title) in enumerate(present):
        rows = steps[steps["section"] == section]
        excluded_total = _sum(rows["excluded"])
        side = [Line(f"{excluded_title} ({_n(excluded_total)})", bold=True)]
        side += [Line(f"{row.reason} ({_n(row.excluded)})", indent=8) for row in rows.itertuples()]
        sides.append(Box(side))
        last = rows.iloc[-1]
        lines = [Line(remaining_title, bold=True), Line(_n(last["remaining"]))]
        lines += _bounds(last["remaining"], last["remaining_if_unknown_fail"])
        if index == len(present) - 1:
            lines += _review_lines(steps)
        mains.append(Box(lines))
    return Column(mains=mains, sides=sides)


def _sum(values: pd.Series) -> float:
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    return float(np.nansum(numbers))


def _review_lines(steps: pd.DataFrame) -> list[Line]:
    """What chart review still has to decide, and the expected number under assumed pass rates."""
    review = steps[(steps["section"] == SECTION_REVIEW) & (pd.to_numeric(steps["to_review"]).fillna(0) > 0)]
    lines: list[Line] = []
    if not review.empty:
        lines.append(Line("Chart review needed for:"))
        lines += [Line(f"{row.label} ({_n(row.to_review)})", indent=8) for row in review.itertuples()]
    rated = steps[pd.to_numeric(steps["assumed_pass_rate"], errors="coerce").notna()]
    if not rated.empty:
        expected = steps["expected_remaining"].iloc[-1]
        rates = "; ".join(f"{row.label} {100 * float(row.assumed_pass_rate):.0f} %" for row in rated.itertuples())
        lines.append(Line(f"Expected after chart review: n ≈ {n_text(expected)}"))
        lines.append(Line(f"(assumed pass rates: {rates};", indent=8))
        lines.append(Line("other chart-review criteria assumed met)", indent=8))
    return lines


def _layout(columns: list[Column], top: Box | None) -> tuple[float, float]:
    """Place every box; returns the drawing's width and height in points."""
    main_width = max(box.text_width for col in columns for box in col.mains)
    if top is not None:
        main_width = max(main_width, top.text_width)
    side_widths = [max((box.text_width for box in col.sides), default=0.0) for col in columns]
    column_widths = [main_width + (ARROW_GAP + side if side else 0.0) for side in side_widths]
    y = 0.0
    if top is not None:
        top.width = main_width
        top.y = 0.0
        y = top.height + 2 * ROW_MARGIN + 8.0
    rows = max(len(col.mains) for col in columns)
    left = 0.0
    for col, side_width, column_width in zip(columns, side_widths, column_widths, strict=True):
        for box in col.mains:
            box.x, box.width = left, main_width
        for box in col.sides:
            box.x, box.width = left + main_width + ARROW_GAP, side_width
        left += column_width + COLUMN_GAP
    for r in range(rows):
        mains = [col.mains[r] for col in columns if r < len(col.mains)]
        for box in mains:
            box.y = y
        y += max(box.height for box in mains)
        sides = [col.sides[r] for col in columns if r < len(col.sides)]
        if sides:
            y += ROW_MARGIN
            for box in sides:
                box.y = y
            y += max(box.height for box in sides) + ROW_MARGIN
    width = left - COLUMN_GAP
    if top is not None:
        top.x = (width - main_width) / 2 if len(columns) > 1 else 0.0
    return width, y


def _draw_box(axes, box: Box, height: float) -> None:
    top = height - box.y
    axes.add_patch(Rectangle((box.x, top - box.height), box.width, box.height, fill=False, lw=0.8, ec="black"))
    for i, line in enumerate(box.lines):
        baseline = top - PAD_Y - FONT_SIZE * 0.78 - i * LINE_HEIGHT
        axes.text(
            box.x + PAD_X + line.indent,
            baseline,
            line.text,
            fontsize=FONT_SIZE,
            fontweight="bold" if line.bold else "normal",
            ha="left",
            va="baseline",
        )


def _arrow(axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    axes.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={"arrowstyle": "-|>", "lw": 0.8, "color": "black", "shrinkA": 0, "shrinkB": 0, "mutation_scale": 8},
    )


def _draw_column(axes, col: Column, height: float) -> None:
    spine_x = col.mains[0].x + col.mains[0].width / 2
    for box in col.mains + col.sides:
        _draw_box(axes, box, height)
    for upper, lower in zip(col.mains, col.mains[1:], strict=False):
        _arrow(axes, (spine_x, height - upper.y - upper.height), (spine_x, height - lower.y))
    for side in col.sides:
        middle = height - side.y - min(side.height / 2, LINE_HEIGHT)
        _arrow(axes, (spine_x, middle), (side.x, middle))


GROUP_NAMES = {"site_id": "Site", "year": "Year"}
# The most groups a split diagram draws side by side. A column is 9 to 11 inches wide (its main boxes and exclusion
# boxes spelled out), so 12 make a figure 110 to 130 inches wide: a year by month or a registry's decade by year.
# Saved as a 300 dpi PNG, 12 columns took 3.5 s and 850 MB at the peak; a PNG holds at most 65,535 pixels a side
# (some 20 columns), and 50 groups made a figure 458 inches wide. Beyond 12, one diagram per group (`site_figures`).
MAX_SPLIT_COLUMNS = 12


def consort_figure(
    table: pd.DataFrame,
    *,
    unit: str = "patients",
    overall: pd.DataFrame | None = None,
    note: str | None = None,
    heading: str | None = None,
) -> Figure:
    """The flow diagram of an attrition table; a grouped table (first column = group) gives one column per group.

    `overall` (the ungrouped table) supplies the top box of a split diagram;
    without it the top box shows the sum of the groups. When the groups'
    starting counts do not add up to the top box (each disclosure-controlled
    on its own), the top box says so and gives their sum. `heading` replaces
    "All patients in the extract" in the first box of an ungrouped diagram.

    A split diagram draws at most `MAX_SPLIT_COLUMNS` (12) groups side by side,
    each column 9 to 11 inches wide; a table of more groups is refused
    (UsageError) before anything is drawn, with what to do instead: one diagram
    per group (`site_figures`), or the rows of the groups wanted.
    """
    group = table.columns[0] if table.columns[0] != "step" else None
    if group is None:
        columns = [_column(table, unit=unit, heading=heading)]
        top = None
    else:
        labels = list(dict.fromkeys(table[group]))
        name = GROUP_NAMES.get(group, group)
        if len(labels) > MAX_SPLIT_COLUMNS:
            raise UsageError(_too_many_groups(len(labels), group))
        shown = figure_labels(labels)
        columns = [
            _column(table[table[group] == label].drop(columns=group), unit=unit, heading=f"{name} {shown[str(label)]}")
            for label in labels
        ]
        starts = _sum(table[table["step"] == 0]["remaining"])
        total = overall["remaining"].iloc[0] if overall is not None else starts
        lines = [Line(f"All {unit} in the extract", bold=True), Line(_n(total))]
        if float(total) != starts:
            lines.append(Line(f"{name}s below sum to {_n(starts)}: each is disclosure-controlled on its own", indent=8))
        top = Box(lines)
    width, height = _layout(columns, top)
    # A note's first line takes 2.2 lines of the boxes' text, with the space above it; each further line its own.
    note_height = 2.2 * FONT_SIZE + 1.2 * NOTE_FONT_SIZE * (len(note.splitlines()) - 1) if note else 0.0
    # The figure is the drawing's exact size, a note wider than the boxes and the white margin included: it is saved
    # as it is (`save_figure(..., exact_size=True)`), without a pass to measure what it draws.
    page_width = max(width, NOTE_SLACK * _note_width(note) if note else 0.0)
    with figure_style():
        figure = Figure(figsize=((page_width + 2 * MARGIN) / 72, (height + note_height + 2 * MARGIN) / 72))
        axes = figure.add_axes((0, 0, 1, 1))
        axes.set_xlim(-MARGIN, page_width + MARGIN)
        axes.set_ylim(-note_height - MARGIN, height + MARGIN)
        axes.axis("off")
        for col in columns:
            _draw_column(axes, col, height)
        if top is not None:
            _draw_box(axes, top, height)
            _draw_split(axes, top, columns, height)
        if note:
            axes.text(0, -FONT_SIZE * 0.6, note, fontsize=NOTE_FONT_SIZE, ha="left", va="top", style="italic")
    return figure


def _too_many_groups(count: int, group: str) -> str:
    """Why a split diagram of `count` groups is not drawn, and what to draw instead."""
    return (
        f"{count:,} groups ({group}) are too many to draw side by side in one diagram: at most {MAX_SPLIT_COLUMNS}, "
        f"as each column is 9 to 11 inches wide ({count:,} would make a figure over {9 * count:,} inches wide). "
        "Draw one diagram per group instead: `for label, figure in site_figures(table): save_figure(figure, ...)`; "
        f"or pass the rows of at most {MAX_SPLIT_COLUMNS} groups, e.g. "
        f"`table[table[{group!r}].isin(chosen)]`."
    )


def _note_width(note: str) -> float:
    font = FontProperties(family=font_family(), size=NOTE_FONT_SIZE, style="italic")
    return max(
        _MEASURE.get_text_width_height_descent(line, font, ismath=False)[0] for line in note.splitlines() or [""]
    )


@dataclass(frozen=True)
class SiteDiagram:
    """What one site's diagram is drawn from: its group value, its rows of the grouped table and its heading."""

    label: str
    rows: pd.DataFrame
    heading: str


def site_diagrams(table: pd.DataFrame, *, unit: str = "patients") -> list[SiteDiagram]:
    """The diagram of each group of a grouped attrition table (first column = group), in table order.

    Headings are made for all groups at once: two sites whose ids cut to the same label get distinct ones.
    """
    group = table.columns[0]
    if group == "step":
        raise ValueError("site diagrams need a grouped attrition table (first column = group)")
    name = GROUP_NAMES.get(group, group)
    labels = list(dict.fromkeys(table[group]))
    shown = figure_labels(labels)
    return [
        SiteDiagram(
            str(label), table[table[group] == label].drop(columns=group), f"{name} {shown[str(label)]}: all {unit}"
        )
        for label in labels
    ]


def site_figures(
    table: pd.DataFrame, *, unit: str = "patients", note: str | None = None
) -> Iterator[tuple[str, Figure]]:
    """One complete flow diagram per group of a grouped attrition table (any number of groups), in table order.

    Each is headed by its group ("Site AVL: all patients") and spells out every
    exclusion box, so each can stand on a page of its own. Drawn one at a time
    (a generator), so a report of 40 sites never holds 40 figures.
    """
    for diagram in site_diagrams(table, unit=unit):
        yield diagram.label, consort_figure(diagram.rows, unit=unit, note=note, heading=diagram.heading)


def _draw_split(axes, top: Box, columns: list[Column], height: float) -> None:
    """Lines from the top box down to each group's first box."""
    centre = top.x + top.width / 2
    bus = height - top.y - top.height - ROW_MARGIN
    axes.plot([centre, centre], [height - top.y - top.height, bus], color="black", lw=0.8)
    xs = [col.mains[0].x + col.mains[0].width / 2 for col in columns]
    axes.plot([min(xs), max(xs)], [bus, bus], color="black", lw=0.8)
    for x, col in zip(xs, columns, strict=True):
        _arrow(axes, (x, bus), (x, height - col.mains[0].y))


def figure_texts(figure: Figure) -> list[str]:
    """Every text drawn in a figure (for checking a diagram against its table)."""
    texts = [t.get_text() for t in figure.texts]
    for axes in figure.axes:
        texts += [t.get_text() for t in axes.texts]
        texts += [t.get_text() for t in axes.get_yticklabels() + axes.get_xticklabels()]
    return [t for t in texts if t]
