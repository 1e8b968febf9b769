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

A PNG file is written in the fewest channels that hold its pixels exactly: grey (the CONSORT diagrams), colour
without transparency (the charts), or colour with it. Matplotlib writes every PNG as colour with transparency,
four bytes a pixel, and compressing them was a third of a site diagram's time (0.15 s of 0.44 s at
300 dpi); the pixels are the same, and the files less than half the size.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import IO

import matplotlib as mpl
import matplotlib.font_manager as font_manager
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from PIL import Image
from PIL.PngImagePlugin import PngInfo

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
        if fmt == "png":
            _write_png(figure, target, options)
        else:
            figure.savefig(target, format=fmt, metadata=_WITHOUT_DATE.get(fmt), **options)


def _write_png(figure: Figure, target: Path | IO, options: dict[str, object]) -> None:
    """The figure drawn by Agg as `savefig` would draw it, then written as a PNG in the fewest exact channels."""
    dpi = options.get("dpi") or mpl.rcParams["savefig.dpi"]
    dpi = figure.dpi if dpi == "figure" else float(dpi)  # type: ignore[arg-type]
    canvas = figure.canvas
    agg = FigureCanvasAgg(figure)  # drawn on a canvas of our own, whose renderer tells the size `savefig` chose
    try:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="rgba", **options)
        renderer = getattr(agg, "renderer", None)
        size = (int(renderer.width), int(renderer.height)) if renderer is not None else (0, 0)
    finally:
        figure.set_canvas(canvas)
    rgba = buffer.getbuffer()
    if not rgba or len(rgba) != size[0] * size[1] * 4:  # never seen; Matplotlib's own writer then, not a wrong image
        figure.savefig(target, format="png", **options)
        return
    pixels = np.frombuffer(rgba, dtype=np.uint8).reshape(size[1], size[0], 4)
    image = Image.frombuffer("RGBA", size, rgba, "raw", "RGBA", 0, 1)
    image = image.convert(fewest_channels(pixels))
    info = PngInfo()
    info.add_text("Software", f"Matplotlib version{mpl.__version__}, https://matplotlib.org/")
    image.save(target, format="png", dpi=(dpi, dpi), pnginfo=info)


def fewest_channels(pixels: np.ndarray) -> str:
    """The PIL mode that holds RGBA `pixels` (height × width × 4) exactly: "L", "LA", "RGB" or "RGBA"."""
    opaque = bool((pixels[..., 3] == 255).all())
    grey = bool((pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all())
    return {(True, True): "L", (True, False): "RGB", (False, True): "LA", (False, False): "RGBA"}[(opaque, grey)]


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
