"""The package functions the notebooks call instead of doing data work in their cells.

- `oligo_cohort.attrition.wide_by_group`: a grouped attrition table as steps × groups, counts as whole numbers
  (notebook 02's tables by site and by year);
- `oligo_cohort.review.simulate.fill_workbook`: answers typed into a copy of the review workbook by header name,
  the export's workbook untouched, an unanswered row left empty (notebook 04's nurse).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from oligo_cohort.api import screen
from oligo_cohort.paths import demo_extract_dir


@pytest.fixture(scope="module")
def result():
    return screen(demo_extract_dir())


def test_wide_by_group_gives_whole_counts_per_group(result):
    from oligo_cohort.attrition import attrition_table, build_histogram, wide_by_group

    by_site = attrition_table(build_histogram(result.patients, by="site"))
    wide = wide_by_group(by_site)
    sites = list(dict.fromkeys(by_site["site_id"]))
    assert list(wide.columns) == ["step", "label", *sites]
    for site in sites:
        assert pd.api.types.is_integer_dtype(wide[site]), site
        assert wide[site].tolist() == by_site.loc[by_site["site_id"] == site, "remaining"].tolist()
    assert wide[sites].iloc[0].sum() == len(result.patients)


def test_fill_workbook_types_the_answers_by_header(result, tmp_path):
    from oligo_cohort.errors import UsageError
    from oligo_cohort.review import export_review
    from oligo_cohort.review.simulate import fill_answers, fill_workbook

    export = export_review(result.write(tmp_path / "screen"), tmp_path / "review")
    workbook = tmp_path / "review" / "review.xlsx"
    original = workbook.read_bytes()
    skipped = (str(export.rows["patient_id"].iloc[0]), str(export.rows["item"].iloc[0]))
    answers = fill_answers(export.rows, answered_by="research nurse", skip={skipped})
    out = fill_workbook(workbook, answers, tmp_path / "review" / "review-answered.xlsx")
    assert workbook.read_bytes() == original
    typed: dict[tuple[str, str], tuple[object, object]] = {}
    for sheet in load_workbook(out).worksheets:
        header = [cell.value for cell in sheet[1]]
        for cells in sheet.iter_rows(min_row=2, values_only=True):
            row = dict(zip(header, cells, strict=True))
            typed[(row["patient_id"], row["item"])] = (row["answer"], row["answered_by"])
    assert len(typed) == len(export.rows)
    assert typed[skipped] == (None, None)
    expected = {(r.patient_id, r.item): (r.answer, r.answered_by) for r in answers.itertuples() if pd.notna(r.answer)}
    assert expected and all(typed[key] == value for key, value in expected.items())
    with pytest.raises(UsageError, match="does not exist"):
        fill_workbook(Path(tmp_path / "nowhere.xlsx"), answers, tmp_path / "x.xlsx")
    # Written as every output is: never over a file that holds something, nor over the workbook it fills.
    filled = out.read_bytes()
    for target in (out, workbook):
        with pytest.raises(UsageError):
            fill_workbook(workbook, answers, target)
    assert out.read_bytes() == filled and workbook.read_bytes() == original


def test_consort_boxes_hold_their_text_as_a_notebook_draws_them(result):
    """A notebook draws a figure at its own resolution (100 dpi), where hinting widens text by up to about 3 %: the
    longest line of a box must still end inside the box, clear of its border."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.patches import Rectangle

    from oligo_cohort.attrition import attrition_table, build_histogram, consort_figure, histogram_of_result
    from oligo_cohort.attrition.charts import figure_style

    table = attrition_table(histogram_of_result(result))
    by_site = attrition_table(build_histogram(result.patients, by="site"))
    for figure in (consort_figure(table), consort_figure(by_site, overall=table)):
        FigureCanvasAgg(figure)
        with figure_style():
            figure.canvas.draw()
        renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
        axes = figure.axes[0]
        boxes = [patch.get_window_extent(renderer) for patch in axes.patches if isinstance(patch, Rectangle)]
        for text in (t for t in axes.texts if t.get_text()):  # the arrows are annotations without text
            drawn = text.get_window_extent(renderer)
            box = next(b for b in boxes if b.x0 <= drawn.x0 <= b.x1 and b.y0 <= drawn.y0 <= b.y1)
            assert drawn.x1 <= box.x1 - 2, f"{text.get_text()!r} runs into its box's border"
