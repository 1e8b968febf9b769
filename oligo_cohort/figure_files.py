"""Figure files that depend on the figure alone: the same figure gives the same bytes on every run.

Matplotlib names the clip paths and markers of an SVG file with random ids, and stamps SVG and PDF files with
the time they were written: the figures of a report or bundle made twice from the same screen would differ
byte for byte, and so would the report that inlines them. Every figure the tool writes goes through
`write_figure`, which salts the ids with a constant and leaves the dates out (PNG files carry no date).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import matplotlib as mpl
from matplotlib.figure import Figure

SVG_ID_SALT = "oligo-cohort"
_WITHOUT_DATE = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}


def write_figure(figure: Figure, target: Path | IO, fmt: str, **options: object) -> None:
    """Save `figure` as `fmt` (png, svg, pdf) to a path or an open file; `options` go to `savefig` as they are."""
    with mpl.rc_context({"svg.hashsalt": SVG_ID_SALT}):
        figure.savefig(target, format=fmt, metadata=_WITHOUT_DATE.get(fmt), **options)
