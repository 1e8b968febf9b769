"""Figure files that depend on the figure alone, and text from the data that every figure can draw.

The same figure gives the same bytes on every run: Matplotlib names the clip paths and markers of an SVG file
with random ids, and stamps SVG and PDF files with the time they were written, so the figures of a report or
bundle made twice from the same screen would differ byte for byte, and so would the report that inlines them.
Every figure the tool writes goes through `write_figure`, which salts the ids with a constant and leaves the
dates out (PNG files carry no date).

Text is drawn as written: Matplotlib would read a `$` in a site id as the start of a formula (`$x^{$` stopped
every figure with a parse error), so every figure style includes `TEXT_AS_WRITTEN`, and `write_figure` applies it
to the text laid out while saving. A value from the data that labels a figure passes through `figure_labels`:
one short line (`oligo_cohort.shown_labels`), and a character the figures' fonts cannot draw (a Chinese site
name, an emoji) written as its escape (`\\u4e2d`), where it would otherwise be an empty box and a warning.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import IO

import matplotlib as mpl
import matplotlib.font_manager as font_manager
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font

from oligo_cohort.shown_labels import short_labels
from oligo_cohort.terminal import one_line

SVG_ID_SALT = "oligo-cohort"
_WITHOUT_DATE = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}
TEXT_AS_WRITTEN = {"text.parse_math": False}  # `$` is a dollar sign, never the start of a formula
PREFERRED_FONTS = ("Arial", "Helvetica", "Liberation Sans", "Nimbus Sans", "DejaVu Sans")
DEFAULT_FONT = "DejaVu Sans"  # Matplotlib's own, used by the figures that set no font


def write_figure(figure: Figure, target: Path | IO, fmt: str, **options: object) -> None:
    """Save `figure` as `fmt` (png, svg, pdf) to a path or an open file; `options` go to `savefig` as they are."""
    with mpl.rc_context({"svg.hashsalt": SVG_ID_SALT, **TEXT_AS_WRITTEN}):
        figure.savefig(target, format=fmt, metadata=_WITHOUT_DATE.get(fmt), **options)


@cache
def font_family() -> str:
    """The first preferred sans-serif font that is installed."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in PREFERRED_FONTS if name in installed), DEFAULT_FONT)


@cache
def _drawable() -> frozenset[int]:
    """The code points every face the figures use can draw (regular and bold, the preferred font and the default)."""
    faces = {
        font_manager.findfont(font_manager.FontProperties(family=family, weight=weight), fallback_to_default=True)
        for family in {font_family(), DEFAULT_FONT}
        for weight in ("normal", "bold")
    }
    charmaps = [set(FT2Font(path).get_charmap()) for path in faces]
    return frozenset(set.intersection(*charmaps))


def drawable(text: str) -> str:
    """`text` with each character the figures' fonts lack written as its escape (`\\u4e2d`)."""
    covered = _drawable()
    if all(ord(char) in covered or char == " " for char in text):
        return text
    return "".join(char if ord(char) in covered or char == " " else _escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def figure_labels(values: Iterable[object]) -> dict[str, str]:
    """The label each value (a site id, a year) gets in a figure: short, one line, distinct, drawable."""
    return short_labels((str(value) for value in values), render=lambda value: drawable(one_line(value)))
