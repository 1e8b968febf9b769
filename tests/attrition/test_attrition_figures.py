"""Figures: the CONSORT diagram's text is the table's numbers and reasons; files are written in every format."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest

from oligo_cohort.attrition.charts import attrition_bars_figure, save_figure, upset_figure
from oligo_cohort.attrition.consort import consort_figure, figure_texts
from oligo_cohort.attrition.histogram import build_histogram
from oligo_cohort.attrition.labels import exclusion_reason
from oligo_cohort.attrition.tables import attrition_table, controlled_attrition, failure_sets, impact_table
from tests.attrition.test_attrition_fixtures import random_patients
from tests.figure_geometry import overlapping_texts


@pytest.fixture(scope="module")
def units():
    return random_patients(12_345, seed=21)


@pytest.fixture(scope="module")
def table(units):
    return attrition_table(build_histogram(units), review_pass_rates={"inc_lat_amenable": 0.6})


def expected_lines(table) -> list[str]:
    """What the diagram must say: the start count and every reason with its count, thousands separated."""
    lines = [f"n = {table['remaining'].iloc[0]:,}"]
    lines += [f"{row.reason} (n = {row.excluded:,})" for row in table.iloc[1:].itertuples()]
    registry = table[table["section"] == "registry"]
    lines.append("Not excluded on registry data")
    lines.append(f"n = {registry['remaining'].iloc[-1]:,}")
    lines.append(f"Excluded on registry data (n = {registry['excluded'].sum():,})")
    lines.append(f"n = {table['remaining'].iloc[-1]:,}")
    lines.append(f"every criterion met: n = {table['remaining_if_unknown_fail'].iloc[-1]:,}")
    return lines


def test_consort_text_matches_the_table(table):
    figure = consort_figure(table)
    texts = figure_texts(figure)
    for line in expected_lines(table):
        assert line in texts, line
    assert "12,345" in " ".join(texts)  # thousands separators
    assert any(t.startswith("Expected after chart review: n ≈ ") for t in texts)


def test_criteria_that_excluded_nobody_are_shown_with_n_0(units):
    units = units.copy()
    units["inc_age_18"] = "pass"
    table = attrition_table(build_histogram(units))
    figure = consort_figure(table)
    assert "Age < 18 years (n = 0)" in figure_texts(figure)


def test_consort_files_carry_the_same_text(table, tmp_path):
    figure = consort_figure(table, note="a note")
    paths = save_figure(figure, tmp_path, "consort", ("png", "svg", "pdf"))
    assert sorted(p.suffix for p in paths) == [".pdf", ".png", ".svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
    svg = paths[[p.suffix for p in paths].index(".svg")].read_text(encoding="utf-8")
    svg_texts = {re.sub(r"\s+", " ", t).strip() for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)}
    for line in expected_lines(table):
        assert line.replace("<", "&lt;").replace(">", "&gt;") in svg_texts, line
    assert paths[[p.suffix for p in paths].index(".png")].read_bytes()[:4] == b"\x89PNG"
    assert paths[[p.suffix for p in paths].index(".pdf")].read_bytes()[:4] == b"%PDF"


def test_consort_split_by_site_has_a_column_per_site_under_the_total(units, table):
    by_site = controlled_attrition(attrition_table(build_histogram(units, by="site")))
    figure = consort_figure(by_site, overall=table)
    texts = figure_texts(figure)
    for site in sorted(set(units["site_id"])):
        start = by_site[(by_site["site_id"] == site) & (by_site["step"] == 0)]["remaining"].iloc[0]
        assert f"Site {site}" in texts
        assert f"n = {start:,}" in texts
    assert f"n = {len(units):,}" in texts
    # Every site's exclusion boxes spell out their reasons.
    for site in sorted(set(units["site_id"])):
        rows = by_site[(by_site["site_id"] == site) & (by_site["step"] > 0)]
        assert all(f"{r.reason} (n = {r.excluded:,})" in texts for r in rows.itertuples())


def test_bars_and_upset_show_the_table_counts(units, table):
    bars = attrition_bars_figure(table)
    texts = figure_texts(bars)
    assert "All patients" in texts and f"{table['remaining'].iloc[0]:,}" in texts
    for row in table.iloc[1:].itertuples():  # one label convention on every step
        assert f"{row.remaining:,} ({row.excluded:,} excluded)" in texts
        assert f"+ {row.label}" in texts
    hist = build_histogram(units)
    sets = failure_sets(hist)
    impact = impact_table(hist)
    upset = upset_figure(sets, dict(zip(impact["criterion"], impact["fail"], strict=True)), max_sets=10)
    texts = figure_texts(upset)
    assert f"{sets['n'].iloc[0]:,}".strip() in [t.strip() for t in texts]
    shown = {c for combo in sets["criteria"].head(10) for c in combo}
    assert {exclusion_reason(c) for c in shown} <= set(texts)


@pytest.mark.parametrize("note", [None, "Disclosure control: counts 1–7 shown as 0."])
def test_a_figure_with_nothing_to_draw_is_saved_without_a_warning(tmp_path, note):
    """No unit excluded (an empty cohort, or every count shown as 0): the UpSet figure says so in words, and saving it
    prints no Matplotlib warning on the user's terminal."""
    import warnings

    empty = failure_sets(build_histogram(random_patients(0)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        paths = save_figure(upset_figure(empty, {}, note=note), tmp_path, "upset", ("png", "svg"))
    assert [p.name for p in paths] == ["upset.png", "upset.svg"]
    assert "No patients excluded by any criterion." in paths[1].read_text(encoding="utf-8")


def test_an_upset_with_every_combination_shown_as_0_says_the_same_for_0_or_more_excluded():
    """Under control a combination shown as 0 is left out (A15), so with 0, 1 or 2 of 40 patients excluded nothing
    is drawn: the figure then says so in the same words, true of each, not "no patients excluded", which 1 or 2
    would belie and which would tell 0 from 1 or 2."""
    from oligo_cohort.attrition.views import Options, compute_views, controlled
    from tests.attrition.test_attrition_fixtures import status_of

    said = set()
    for excluded in (0, 1, 2):  # 40 patients, 38 to 40 remaining: every derived count is 0
        patients = random_patients(40, fail_rate=0.0)
        patients.loc[: excluded - 1, "inc_age_18"] = "fail"
        patients["status"] = status_of(patients)
        views = controlled(compute_views(patients, Options()))
        figure = upset_figure(views.sets, views.set_sizes(), unit=views.unit, note="n", controlled=views.controlled)
        said.add(next(t for t in figure_texts(figure) if t != "n"))
    assert said == {"No combination of failed criteria to show: each is counted 0 (0 to 7 under disclosure control)."}


@pytest.mark.parametrize("lines", [1, 2, 3, 5])
def test_a_note_of_any_number_of_lines_is_drawn_inside_the_diagram(table, lines):
    # The diagram is saved at its own size, not cut to what it draws: a note taller than the space kept for it
    # would fall off the bottom of the page.
    note = "\n".join(f"Note line {i}: the counts are explained here." for i in range(1, lines + 1))
    figure = consort_figure(table, note=note)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(figure).get_renderer()
    texts = [t for t in figure.axes[0].texts if t.get_text() == note]
    assert len(texts) == 1
    box = texts[0].get_window_extent(renderer)
    assert box.y0 >= 0 and box.x1 <= figure.bbox.width
    others = [t.get_window_extent(renderer) for t in figure.axes[0].texts if t is not texts[0]]
    assert box.y1 <= min(o.y0 for o in others)  # below every box's text


@pytest.mark.parametrize(("combinations", "largest"), [(6, 21_300), (7, 213), (9, 213_770), (9, 2_137_700)])
def test_the_counts_over_the_upset_bars_stay_apart_and_under_its_caption(combinations, largest):
    """Six or seven combinations beside the longest criterion name (73 characters) had 0.1 inch each, their counts
    running into each other; with hundreds of thousands of patients the tallest bar's count ran into the caption.
    """
    criteria = ["inc_metastatic", "inc_who_ps_0_1", "inc_same_modality", "no_candidate_event", "inc_imaging_window"]
    combos = ([(c,) for c in criteria] + list(itertools.pairwise(criteria)))[:combinations]
    counts = np.linspace(largest, largest * 0.3, len(combos)).round()
    sets = pd.DataFrame({"criteria": combos, "n": counts})
    sizes = {c: float(sum(n for combo, n in zip(combos, counts, strict=True) if c in combo)) for c in criteria}
    figure = upset_figure(sets, sizes, note="Exact counts (no disclosure control).")
    assert overlapping_texts(figure) == []
