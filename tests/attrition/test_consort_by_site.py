"""CONSORT by site for any number of sites: a diagram per site, every exclusion box labelled, none dropped.

At 12 sites the result is a real screen of an extract from `oligo-cohort synth --sites 12`; at 40 sites a
generated result (the diagrams read only result tables).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oligo_cohort.attrition.bundle import site_stems
from oligo_cohort.attrition.consort import MAX_SPLIT_COLUMNS, consort_figure, figure_texts, site_figures
from oligo_cohort.attrition.feasibility import write_feasibility_report
from oligo_cohort.attrition.histogram import build_histogram
from oligo_cohort.attrition.labels import exclusion_reason
from oligo_cohort.attrition.tables import attrition_table
from oligo_cohort.attrition.views import Options, controlled, views_from_histograms
from oligo_cohort.disclosure import round_count
from oligo_cohort.errors import UsageError
from tests.attrition.test_attrition_fixtures import random_patients, write_screen_dir


def svg_texts(path: Path) -> set[str]:
    svg = path.read_text(encoding="utf-8")
    found = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    return {re.sub(r"\s+", " ", t).strip().replace("&lt;", "<").replace("&gt;", ">") for t in found}


def assert_every_box_labelled(texts: set[str], steps) -> None:
    """Each step's exclusion reason with its count, and the site's heading, are in the diagram."""
    for row in steps[steps["step"] > 0].itertuples():
        assert f"{exclusion_reason(row.criterion)} (n = {int(row.excluded):,})" in texts, row.criterion


@pytest.fixture(scope="module")
def twelve_sites(tmp_path_factory):
    """A 12-site synthetic extract from `oligo-cohort synth`, screened."""
    from oligo_cohort.api import screen
    from oligo_cohort.synth.generate import generate_extract

    folder = tmp_path_factory.mktemp("synth") / "extract"
    generate_extract(folder, patients=600, sites=12, seed=4, fmt="csv")
    return screen(folder)


def test_a_report_of_12_sites_has_a_labelled_diagram_for_each_site_shown(twelve_sites, tmp_path):
    sites = sorted(set(twelve_sites.patients["site_id"]))
    assert len(sites) == 12
    out = write_feasibility_report(twelve_sites, tmp_path / "report", formats=("svg",), write_screen=False)
    figures = out / "shareable" / "figures"
    table = controlled(
        views_from_histograms(
            build_histogram(twelve_sites.patients),
            {"site": build_histogram(twelve_sites.patients, by="site")},
            Options(by=("site",)),
        )
    ).by["site"]
    # A site shown as 0 is left out (docs/attrition.md A21): a diagram for each of the others.
    sizes = twelve_sites.patients["site_id"].value_counts()
    shown = [site for site in sites if round_count(int(sizes[site])) > 0]
    assert 0 < len(shown) < 12, "the fixture has sites on both sides of the rule"
    assert sorted(set(table["site_id"])) == shown
    for site, stem in zip(shown, site_stems(shown, "consort_patients_site"), strict=True):
        texts = svg_texts(figures / f"{stem}.svg")
        assert f"Site {site}: all patients" in texts
        assert_every_box_labelled(texts, table[table["site_id"] == site])
    page = (out / "shareable" / "report.html").read_text(encoding="utf-8")
    assert page.count('class="site-figure"') == len(shown)
    assert f"Sites ({len(shown)}), by potentially eligible patients; a site shown as 0 is left out" in page


def test_the_split_diagram_labels_every_column_and_states_why_sites_do_not_sum():
    units = random_patients(300, seed=3)
    units["site_id"] = np.random.default_rng(3).choice(
        ["A", "B", "C", "D", "E"], p=[0.6, 0.3, 0.05, 0.03, 0.02], size=300
    )
    shown = controlled(
        views_from_histograms(
            build_histogram(units), {"site": build_histogram(units, by="site")}, Options(by=("site",))
        )
    )
    figure = consort_figure(shown.by["site"], overall=shown.attrition)
    texts = set(figure_texts(figure))
    for site in "ABCDE":
        assert_every_box_labelled(texts, shown.by["site"][shown.by["site"]["site_id"] == site])
    starts = shown.by["site"].query("step == 0")["remaining"].sum()
    if starts != shown.attrition["remaining"].iloc[0]:
        assert any("each is disclosure-controlled on its own" in t for t in texts)


def test_site_figures_are_drawn_one_at_a_time_for_any_number_of_groups():
    units = random_patients(200, seed=5)
    table = attrition_table(build_histogram(units, by="site"))
    drawn = site_figures(table)
    first = next(drawn)
    assert first[0] == "AVL"
    assert len(list(drawn)) == 2


def test_site_ids_become_safe_distinct_file_names():
    assert site_stems(["AVL", "A/B", "c d"], "consort_site") == [
        "consort_site_AVL",
        "consort_site_A_B",
        "consort_site_c_d",
    ]
    # Ids that collide once made file-safe (or differ only in case) are numbered.
    assert site_stems(["A/B", "A_B", "ab", "AB"], "s") == ["s_1_A_B", "s_2_A_B", "s_3_ab", "s_4_AB"]
    assert site_stems(["../x", ""], "s") == ["s_x", "s_site"]


def test_40_sites_each_get_a_labelled_diagram_and_nothing_is_dropped(tmp_path, capsys):
    """Through the `attrition` command, from a screen folder of 40 sites (disclosure control on)."""
    import pandas as pd

    from tests.attrition.test_attrition_cli import command, parse

    units = random_patients(1_200, seed=41)
    units["site_id"] = [f"S{i % 40:02d}" for i in range(len(units))]
    screen_dir = write_screen_dir(tmp_path / "screen", units)
    out = tmp_path / "attrition"
    assert command.run(parse(command, [str(screen_dir), "--out", str(out), "--by", "site", "--formats", "svg"])) == 0
    assert len(list((out / "figures").glob("consort_site_*.svg"))) == 40
    table = pd.read_csv(out / "attrition_by_site.csv", keep_default_na=False)
    for site in ("S00", "S17", "S39"):
        texts = svg_texts(out / "figures" / f"consort_site_{site}.svg")
        assert f"Site {site}: all patients" in texts
        assert_every_box_labelled(texts, table[table["site_id"] == site])


# --- the split diagram: side by side up to a bound ----------------------------------------------------------------


@pytest.fixture(scope="module")
def one_group():
    """The attrition table of one group, to be given any number of group labels."""
    return attrition_table(build_histogram(random_patients(150, seed=8)))


def grouped(table, count: int, group: str = "site_id"):
    """`count` groups of the same rows, as a grouped attrition table (first column = group)."""
    import pandas as pd

    return pd.concat([table.assign(**{group: f"S{k:03d}"}) for k in range(count)])[[group, *table.columns]]


@settings(max_examples=8, deadline=None)
@given(count=st.one_of(st.just(MAX_SPLIT_COLUMNS + 1), st.integers(MAX_SPLIT_COLUMNS + 1, 400)))
def test_a_split_diagram_of_too_many_groups_is_refused_with_what_to_draw_instead(one_group, count):
    """50 groups made a figure 458 inches wide; past the bound nothing is drawn and the user is told what to do."""
    with pytest.raises(UsageError) as refused:
        consort_figure(grouped(one_group, count), overall=one_group)
    said = str(refused.value)
    assert f"{count:,} groups (site_id) are too many to draw side by side" in said
    assert f"at most {MAX_SPLIT_COLUMNS}" in said and "site_figures(table)" in said


@settings(max_examples=4, deadline=None)
@given(count=st.one_of(st.just(MAX_SPLIT_COLUMNS), st.integers(2, MAX_SPLIT_COLUMNS)))
def test_a_split_diagram_up_to_the_bound_draws_every_group_labelled(one_group, count):
    table = grouped(one_group, count, group="year")
    figure = consort_figure(table, overall=one_group)
    texts = set(figure_texts(figure))
    for k in range(count):
        assert f"Year S{k:03d}" in texts
    assert_every_box_labelled(texts, one_group)
    width, _ = figure.get_size_inches()
    assert width < 11.5 * count, "9 to 11 inches a column"


def test_one_diagram_per_group_is_drawn_for_as_many_groups_as_the_split_refuses(one_group):
    count = MAX_SPLIT_COLUMNS + 1
    drawn = site_figures(grouped(one_group, count))
    assert [label for label, _ in itertools.islice(drawn, 2)] == ["S000", "S001"]
    assert sum(1 for _ in drawn) == count - 2
