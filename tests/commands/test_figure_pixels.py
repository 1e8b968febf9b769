"""Figure files hold exactly what Matplotlib draws, in less space and time.

`figure_files.write_figure` writes a PNG in the fewest channels that hold its pixels exactly (grey, colour,
with or without transparency), where Matplotlib writes four channels always. Generated figures of every kind
(grey or coloured, opaque or see-through, cut "tight" or not, at several resolutions) must decode to the very
pixels Matplotlib's own PNG writer gives, at the same size and resolution.

The CONSORT diagrams are laid out in points and saved at their own size (`save_figure(..., exact_size=True)`)
instead of measured again and cut "tight": generated diagrams (any site label, any note, long or short) must
hold every text they draw inside the page, with the white margin around it.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from oligo_cohort.attrition.charts import PAD_INCHES, attrition_bars_figure, figure_style, save_figure
from oligo_cohort.attrition.consort import consort_figure
from oligo_cohort.attrition.histogram import build_histogram
from oligo_cohort.attrition.tables import attrition_table
from oligo_cohort.figure_files import fewest_channels, write_figure
from tests.attrition.test_attrition_fixtures import random_patients
from tests.draws import costly_draws

channel = st.integers(0, 255)
grey_colour = channel.map(lambda v: (v / 255, v / 255, v / 255))
any_colour = st.tuples(channel, channel, channel).map(lambda c: tuple(v / 255 for v in c))


@st.composite
def figures(draw) -> tuple[Figure, dict[str, object]]:
    """A small figure of rectangles, text and a line: grey only or coloured, opaque or see-through."""
    grey = draw(st.booleans())
    colour = grey_colour if grey else any_colour
    alpha = draw(st.sampled_from([1.0, 1.0, 0.5, 0.0]))
    figure = Figure(figsize=(draw(st.floats(0.4, 1.5)), draw(st.floats(0.4, 1.5))))
    figure.patch.set_facecolor((*draw(colour), alpha))
    axes = figure.add_axes((0.1, 0.1, 0.8, 0.8))
    axes.set_facecolor((*draw(colour), draw(st.sampled_from([1.0, 0.3]))))
    for _ in range(draw(st.integers(0, 3))):
        x, y = draw(st.floats(0, 0.8)), draw(st.floats(0, 0.8))
        axes.add_patch(Rectangle((x, y), 0.2, 0.2, color=draw(colour), alpha=draw(st.sampled_from([1.0, 0.6]))))
    axes.plot([0, 1], [0, draw(st.floats(0, 1))], color=draw(colour))
    axes.set_title(draw(st.text("abcXYZ %_{}", max_size=12)), color=draw(colour))
    options: dict[str, object] = {"dpi": draw(st.sampled_from([40, 72, 100, 150]))}
    if draw(st.booleans()):
        options.update(bbox_inches="tight", pad_inches=draw(st.sampled_from([0.0, 0.05])))
    if draw(st.booleans()):
        options["transparent"] = True
    return figure, options


def matplotlib_png(figure: Figure, options: dict[str, object]) -> Image.Image:
    buffer = io.BytesIO()
    with figure_style():
        figure.savefig(buffer, format="png", **options)
    return Image.open(buffer)


def our_png(figure: Figure, options: dict[str, object]) -> Image.Image:
    buffer = io.BytesIO()
    with figure_style():
        write_figure(figure, buffer, "png", **options)
    return Image.open(buffer)


@settings(max_examples=costly_draws(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(figures())
def test_a_png_holds_exactly_the_pixels_matplotlib_draws(case):
    figure, options = case
    theirs, ours = matplotlib_png(figure, options), our_png(figure, options)
    assert ours.size == theirs.size
    assert ours.info["dpi"] == theirs.info["dpi"]
    expected = np.asarray(theirs.convert("RGBA"))
    assert np.array_equal(np.asarray(ours.convert("RGBA")), expected)
    assert ours.mode == fewest_channels(expected)


@given(
    st.integers(1, 6),
    st.integers(1, 6),
    st.sampled_from(["L", "LA", "RGB", "RGBA"]),
    st.data(),
)
def test_the_fewest_channels_are_the_ones_the_pixels_need(height, width, kind, data):
    values = data.draw(st.lists(channel, min_size=height * width * 4, max_size=height * width * 4))
    pixels = np.array(values, dtype=np.uint8).reshape(height, width, 4)
    if kind in ("L", "LA"):
        pixels[..., 1] = pixels[..., 2] = pixels[..., 0]
    if kind in ("L", "RGB"):
        pixels[..., 3] = 255
    mode = fewest_channels(pixels)
    assert len(mode) <= len(kind)  # never more channels than the pixels were made with
    image = Image.fromarray(pixels)  # RGBA: height × width × 4 bytes
    assert np.array_equal(np.asarray(image.convert(mode).convert("RGBA")), pixels)  # and nothing lost


def test_a_diagram_is_written_grey_and_a_chart_opaque_colour(tmp_path):
    table = attrition_table(build_histogram(random_patients(500, seed=3)))
    consort = save_figure(consort_figure(table, note="a note"), tmp_path, "consort", ("png",), exact_size=True)
    bars = save_figure(attrition_bars_figure(table, note="a note"), tmp_path, "bars", ("png",))
    assert Image.open(consort[0]).mode == "L"
    assert Image.open(bars[0]).mode == "RGB"


@pytest.fixture(scope="module")
def table_of_300() -> pd.DataFrame:
    return attrition_table(build_histogram(random_patients(300, seed=5)))


@settings(max_examples=costly_draws(25), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    heading=st.text(st.characters(codec="latin-1", exclude_categories=("Cc", "Cs")), min_size=1, max_size=60),
    # Notes of every length: a word repeated up to far wider than the boxes.
    note=st.one_of(
        st.none(),
        st.builds(
            lambda word, times: word * times, st.text("abc xyz,.()–W", min_size=1, max_size=12), st.integers(1, 60)
        ),
    ),
)
def test_a_diagram_saved_at_its_own_size_draws_nothing_in_its_margin(table_of_300, tmp_path_factory, heading, note):
    folder = tmp_path_factory.mktemp("diagram")
    [png] = save_figure(
        consort_figure(table_of_300, note=note, heading=heading), folder, "d", ("png",), exact_size=True
    )
    pixels = np.asarray(Image.open(png).convert("L"))
    # The pad a chart gets, less two pixels: the layout measures text unhinted and the PNG draws it hinted.
    band = round(PAD_INCHES * 300) - 2
    assert pixels.shape[0] > 2 * band and pixels.shape[1] > 2 * band
    inside = np.zeros(pixels.shape, dtype=bool)
    inside[band:-band, band:-band] = True
    assert (pixels[~inside] == 255).all(), "something is drawn in the white margin, or cut off at the edge"
    assert (pixels[inside] < 255).any()
