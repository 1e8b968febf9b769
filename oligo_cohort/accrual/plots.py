"""Figures of an accrual forecast: cumulative accrual fan chart, per-site expected accrual, time-to-target density.

Each function draws one figure from the report's tables and returns it;
`save` writes it as PNG (200 dpi) and SVG (vector, for print). The style is plain and print-ready:
white background, no top/right spines, a colour-blind-safe palette
(Okabe–Ito), the scenario named in the legend and the assumptions in the caption.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.dates as mdates
import matplotlib.transforms as transforms
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from oligo_cohort.accrual.assumptions import DAYS_PER_MONTH, HORIZON_MONTHS
from oligo_cohort.accrual.rates import date_after
from oligo_cohort.figure_files import TEXT_AS_WRITTEN, figure_labels, write_figure

# Okabe–Ito colours, distinguishable with colour-vision deficiency and in greyscale by line style.
COLOURS = {"eligible": "#0072B2", "eligible_or_unknown": "#E69F00", "planned": "#009E73"}
LINES = {"eligible": "-", "eligible_or_unknown": "--", "planned": ":"}
SHORT = {
    "eligible": "Eligible (conservative)",
    "eligible_or_unknown": "Eligible or unknown (optimistic)",
    "planned": "Planned site rates",
}
STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.6,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.axisbelow": True,
    "svg.fonttype": "none",
    **TEXT_AS_WRITTEN,
}


# The width of a character of a tick label (8 pt) in inches, generously.
LABEL_INCHES_PER_CHARACTER = 0.07


def _dates(start: dt.date, months: np.ndarray) -> np.ndarray:
    """Points in time for the axis, to the second: numpy's seconds reach far beyond pandas' year 2262."""
    seconds = np.round(np.asarray(months, dtype=float) * DAYS_PER_MONTH * 86_400).astype("timedelta64[s]")
    return np.datetime64(start, "s") + seconds


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure of its own, outside pyplot: no backend chosen, none kept open after it is saved, and a notebook's
    `%matplotlib` setting left as the user made it (the attrition and review figures are made the same way)."""
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.add_subplot()


def _finish(fig: Figure, ax: Axes, title: str, subtitle: str, *, ncol: int = 1, notes: list[str] | None = None) -> None:
    """Bold title, a grey subtitle with the assumptions (and `notes`, a line each), and the legend below the plot:
    every word outside the axes, never over the data."""
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=10)
    # Wrapped here, not by Matplotlib: its automatic wrapping re-measures the text at every layout pass.
    lines = [textwrap.fill(subtitle, 105)] if subtitle else []
    lines += [textwrap.fill(note, 105) for note in notes or []]
    if lines:
        ax.set_title("\n".join(lines), loc="left", fontsize=7.5, color="#555555")
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower left", ncol=ncol, frameon=False)


def horizon_months(
    intervals: dict[str, tuple[float, float, float]], duration: float, *, whole_interval: bool = False
) -> float:
    """How far the time axis reaches, in months from the start: the planned duration and the fastest scenario's
    time to target with room to spare, but never further than the slowest interval needs.

    A demo forecast whose conservative 95 % interval ends in 2100 would otherwise stretch the axis over 75 years
    and squash the question — is the target reached within the planned duration? — into its first tenth.
    Scenarios whose median lies beyond the axis are named at its right edge. With `whole_interval` the axis
    reaches past the fastest scenario's whole 95 % interval (a density shows its mass, not only its median).
    It never reaches beyond `HORIZON_MONTHS` (a century).
    """
    medians = [m for _, m, _ in intervals.values() if np.isfinite(m)]
    uppers = [u for _, _, u in intervals.values() if np.isfinite(u)]
    fastest = min(intervals.values(), key=lambda bounds: bounds[1]) if intervals else (0.0, 0.0, 0.0)
    reach = 1.1 * fastest[2] if whole_interval and np.isfinite(fastest[2]) else 1.25 * fastest[1]
    wanted = max(1.5 * duration, reach if medians else 0.0)
    needed = 1.05 * max([duration, *uppers])
    return float(min(wanted, needed, HORIZON_MONTHS))


def _beyond_notes(intervals: dict[str, tuple[float, float, float]], right: float, start: dt.date) -> dict[str, str]:
    """What to say of each scenario whose median time to target lies beyond the axis's right edge."""
    notes = {}
    for key, (_, median, upper) in intervals.items():
        if np.isfinite(median) and median <= right:
            continue
        when = f"median {_month_label(start, median)}" if np.isfinite(median) else "median beyond the horizon"
        if np.isfinite(upper):
            when += f", 95 % by {_month_label(start, upper)}"
        notes[key] = f"{SHORT.get(key, key)}: {when}"
    return notes


def _beyond(ax: Axes, intervals: dict[str, tuple[float, float, float]], right: float, y: float, start: dt.date,
            *, fig: Figure | None = None) -> None:  # fmt: skip
    """Name, at the right edge of the axis, the scenarios whose median time to target lies beyond it (in headroom
    the axis keeps free of data above `y`)."""
    for i, (key, note) in enumerate(_beyond_notes(intervals, right, start).items()):
        ax.annotate(f"{note} →", xy=(0.995, y), xycoords=("axes fraction", "data"),
                    xytext=(0, 6 + 11 * i), textcoords="offset points", ha="right", va="bottom", fontsize=7.5,
                    color=COLOURS.get(key, "#555555"))  # fmt: skip


def _end_line(ax: Axes, x: object, duration: float) -> None:
    ax.axvline(x, color="#999999", lw=0.9, ls="--", label=f"planned end of accrual ({duration:g} months)")


def fan_chart(
    fans: dict[str, pd.DataFrame],
    *,
    start: dt.date,
    target: int,
    duration: float,
    time_intervals: dict[str, tuple[float, float, float]],
    site_opens: pd.DataFrame,
    caption: str = "",
) -> Figure:
    """Cumulative enrolment over calendar time: median and 95 % band per scenario, target, site openings."""
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure(7.0, 5.0)
        for key, frame in fans.items():
            dates = _dates(start, frame["month"].to_numpy())
            colour = COLOURS.get(key, "#555555")
            ax.fill_between(dates, frame["lower"], frame["upper"], step="post", color=colour, alpha=0.16, lw=0)
            ax.plot(dates, frame["median"], drawstyle="steps-post", color=colour, ls=LINES.get(key, "-"), lw=1.6,
                    label=f"{SHORT.get(key, key)}: median and 95 % band")  # fmt: skip
        # Named in the legend, as everything the chart says: a word inside the axes would sit on a fan or on the
        # intervals above this line, wherever the target is reached.
        ax.axhline(target, color="#333333", lw=0.9, label=f"target N = {target}")
        for i, (key, (lower, median, upper)) in enumerate(time_intervals.items()):
            colour = COLOURS.get(key, "#555555")
            x = _dates(start, np.array([lower, median, upper]))
            # Intervals of several scenarios sit side by side just above the target line, not on top of each other.
            lifted = transforms.offset_copy(ax.transData, fig=fig, y=4.5 * (i + 1), units="points")
            ax.plot([x[0], x[2]], [target, target], color=colour, lw=3.0, solid_capstyle="butt", transform=lifted)
            ax.plot([x[1]], [target], marker="o", ms=5.5, color=colour, mec="white", mew=0.9, transform=lifted)
        ax.plot([], [], color="#333333", marker="o", lw=3.2, ms=5, label="time to target: median and 95 % interval")
        _end_line(ax, _dates(start, np.array([duration]))[0], duration)
        # The question is when the target is reached: show up to 1.5 N, not the far tails.
        ax.set_ylim(0, target * 1.5)
        right = horizon_months(time_intervals, duration)
        ax.set_xlim(_dates(start, np.array([-0.02 * right]))[0], _dates(start, np.array([right]))[0])
        opening = _site_markers(ax, site_opens, start)
        ax.set_xlabel("Calendar date")
        ax.set_ylabel("Patients enrolled (cumulative)")
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=9))
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        # The sites opening later and the scenarios that reach the target beyond the axis are named under the
        # caption, clear of the fans they would cross inside it.
        beyond = [
            f"{note}: the target beyond the axis →" for note in _beyond_notes(time_intervals, right, start).values()
        ]
        _finish(fig, ax, "Predicted cumulative enrolment", caption, ncol=2, notes=[*opening, *beyond])
    return fig


def _site_markers(ax: Axes, site_opens: pd.DataFrame, start: dt.date) -> list[str]:
    """A triangle on the time axis where each site opens; when few sites open after the start, a note naming them
    with their months (for the caption: a name written at its triangle stood on the fans)."""
    if site_opens.empty:
        return []
    months = site_opens["opens_month"].to_numpy(dtype=float)
    dates = _dates(start, months)
    ax.plot(dates, np.zeros(len(dates)), ls="none", marker="^", ms=6, color="#333333", clip_on=False, zorder=5,
            label="site opens")  # fmt: skip
    later = site_opens[months > 0].sort_values("opens_month")
    if not 0 < len(later) <= 10:
        return []
    shown = figure_labels(later["site_id"])
    opening = [
        f"{shown[str(name)]} {_month_label(start, month)}"
        for name, month in zip(later["site_id"], later["opens_month"].astype(float), strict=True)
    ]
    return ["Sites opening after the start (▲): " + "; ".join(opening) + "."]


def site_bars(contributions: pd.DataFrame, *, duration: float, caption: str = "") -> Figure:
    """Expected enrolments per site by the planned end, with 95 % intervals; one bar per scenario."""
    scenarios = list(dict.fromkeys(contributions["scenario"]))
    order = (
        contributions[contributions["scenario"] == scenarios[0]]
        .sort_values(["expected", "site_id"], ascending=[True, False])["site_id"]
        .tolist()
    )
    height = max(3.0, 0.32 * len(order) * max(1, len(scenarios)) ** 0.6 + 1.8)
    shown = figure_labels(order)
    # A long site name widens the figure, not narrows the plot: the caption and axis label keep their width.
    longest = max((len(label) for label in shown.values()), default=0)
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure(7.0 + LABEL_INCHES_PER_CHARACTER * max(0, longest - 12), height)
        positions = np.arange(len(order))
        width = 0.8 / len(scenarios)
        for i, key in enumerate(scenarios):
            frame = contributions[contributions["scenario"] == key].set_index("site_id").reindex(order)
            frame = frame[["expected", "lower", "upper"]].astype(float)
            present = frame["expected"].notna().to_numpy()  # a site absent from a scenario (no planned rate): no bar
            frame = frame[present]
            y = (positions - (i - (len(scenarios) - 1) / 2) * width)[present]  # first scenario on top
            errors = np.vstack(
                [
                    np.clip(frame["expected"] - frame["lower"], 0, None),
                    np.clip(frame["upper"] - frame["expected"], 0, None),
                ]
            )
            ax.barh(y, frame["expected"], height=width * 0.9, color=COLOURS.get(key, "#777777"),
                    label=SHORT.get(key, key), xerr=errors,
                    error_kw={"ecolor": "#333333", "elinewidth": 0.8, "capsize": 2})  # fmt: skip
        ax.set_yticks(positions, [shown[str(site)] for site in order])
        # Rows from the first to the last, with a fifth of a row to spare: the default margin, a share of the axis,
        # left 15 empty rows (seven inches of blank page) above and below the bars of 300 sites.
        ax.set_ylim(-0.6, len(order) - 0.4)
        ax.grid(axis="y", visible=False)
        ax.set_xlim(left=0)
        ax.set_xlabel(f"Patients enrolled by the planned end ({duration:g} months): expected, whiskers 95 % interval")
        _finish(fig, ax, "Expected enrolment per site", caption, ncol=len(scenarios))
    return fig


def time_density(
    densities: dict[str, pd.DataFrame],
    intervals: dict[str, tuple[float, float, float]],
    *,
    target: int,
    duration: float,
    start: dt.date,
    caption: str = "",
) -> Figure:
    """Predictive density of the time to reach the target, per scenario, with median and 95 % interval."""
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure(7.0, 4.6)
        for key, frame in densities.items():
            colour = COLOURS.get(key, "#555555")
            lower, median, upper = intervals[key]
            months, density = frame["month"].to_numpy(), frame["density"].to_numpy()
            inside = (months >= lower) & (months <= upper)
            ax.plot(months, density, color=colour, ls=LINES.get(key, "-"), lw=1.6,
                    label=f"{SHORT.get(key, key)}: median {median:.0f} months "
                    f"({_month_label(start, median)}), 95 % {lower:.0f}–{upper:.0f}")  # fmt: skip
            ax.fill_between(months, 0, density, where=inside, color=colour, alpha=0.15, lw=0)
            ax.vlines(median, 0, np.interp(median, months, density), color=colour, lw=1.0, ls=LINES.get(key, "-"))
        _end_line(ax, duration, duration)
        right = horizon_months(intervals, duration, whole_interval=True)
        top = _density_scale(densities, right)
        ax.set_ylim(0, top * 1.18)  # room above the curves for the note on scenarios beyond the axis
        ax.set_xlim(0, right)
        _beyond(ax, intervals, right, top * 1.02, start)
        ax.set_xlabel("Months from the start of accrual")
        ax.set_ylabel("Probability density (per month)")
        _finish(fig, ax, f"Time to enrol N = {target} patients (shaded: 95 % interval)", caption)
    return fig


def _density_scale(densities: dict[str, pd.DataFrame], right: float) -> float:
    """The height of the density axis: the highest curve within it. A scenario whose density there is a mere
    tail of its own (below a thousandth of its peak: its target lies far beyond the axis) does not set it, or
    numbers such as 1e-23 would magnify rounding noise into a shape; with none within, its own peak does."""
    visible, peaks = [], []
    for frame in densities.values():
        peak = float(frame["density"].max()) if len(frame) else 0.0
        within = frame["density"][frame["month"] <= right]
        peaks.append(peak)
        if len(within) and within.max() >= 1e-3 * peak:
            visible.append(float(within.max()))
    return max(visible or peaks, default=1.0) or 1.0


def _month_label(start: dt.date, months: float) -> str:
    date = date_after(start, months)
    return "after 9999" if date is None else f"{date:%b} {date.year}"


def save(fig: Figure, folder: Path, name: str) -> list[Path]:
    """Write the figure as `<name>.png` (200 dpi) and `<name>.svg`; close it."""
    paths = [folder / f"{name}.png", folder / f"{name}.svg"]
    # Lay the figure out once, then freeze it: each save would otherwise solve the layout again.
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
        fig.set_layout_engine("none")
    with matplotlib.rc_context(STYLE):  # the SVG keeps its text as text, as the style asks
        write_figure(fig, paths[0], "png", dpi=200)
        write_figure(fig, paths[1], "svg")
    return paths
