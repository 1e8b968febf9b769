"""Where a drawn figure put its text: every text's box as drawn, and what it overlaps (for tests of legibility)."""

from __future__ import annotations

import itertools
from unittest import mock

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import Collection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import Bbox


def drawn_texts(figure: Figure) -> dict[Text, Bbox]:
    """Every non-empty text a figure draws (titles, labels, ticks, legends, notes), with its box in display units.

    Recorded as drawn: a tick label of a tick beyond the axis's view exists but is never drawn."""
    renderer = FigureCanvasAgg(figure).get_renderer()
    drawn: list[Text] = []
    draw = Text.draw

    def recorded(text: Text, renderer_: object) -> None:
        drawn.append(text)
        draw(text, renderer_)

    with mock.patch.object(Text, "draw", recorded):
        figure.draw(renderer)
    shown = [text for text in dict.fromkeys(drawn) if text.get_visible() and text.get_text().strip()]
    return {text: text.get_window_extent(renderer) for text in shown}


def overlapping_texts(figure: Figure) -> list[tuple[str, str]]:
    """Pairs of texts whose boxes overlap by more than a point."""
    boxes = drawn_texts(figure)
    pairs = []
    for (one, a), (other, b) in itertools.combinations(boxes.items(), 2):
        if _shared(a, b) > 1.0:
            pairs.append((one.get_text(), other.get_text()))
    return pairs


def texts_outside(figure: Figure) -> list[str]:
    """Texts that reach past the figure's edges."""
    edge = figure.bbox
    return [
        text.get_text()
        for text, box in drawn_texts(figure).items()
        if box.x0 < edge.x0 - 0.5 or box.y0 < edge.y0 - 0.5 or box.x1 > edge.x1 + 0.5 or box.y1 > edge.y1 + 0.5
    ]


def texts_over_data(axes: Axes) -> list[str]:
    """Texts drawn inside the axes that a line or a filled band of the data passes through."""
    boxes = drawn_texts(axes.get_figure(root=True))
    inside = [(text, box) for text, box in boxes.items() if text in axes.texts]
    crossed = []
    for text, box in inside:
        for artist in [*axes.lines, *axes.collections]:
            if isinstance(artist, Line2D):
                path = artist.get_transform().transform_path(artist.get_path())
                if artist.get_linestyle() in ("None", "none", "", " "):  # markers only: their points
                    if any(box.contains(x, y) for x, y in path.vertices):
                        crossed.append(text.get_text())
                        break
                    continue
                paths, filled = [path], False
            elif isinstance(artist, Collection):
                transform = artist.get_transform()
                paths = [transform.transform_path(path) for path in artist.get_paths()]
                filled = True
            else:  # pragma: no cover
                continue
            if any(path.intersects_bbox(box, filled=filled) for path in paths):
                crossed.append(text.get_text())
                break
    return crossed


def _shared(a: Bbox, b: Bbox) -> float:
    """The side of the overlap of two boxes (0 when they do not overlap)."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return min(width, height) if width > 0 and height > 0 else 0.0
