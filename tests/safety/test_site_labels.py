"""A site id is whatever the registry wrote: every figure, file name, report and workbook shows it safely.

A site id of 200,000 characters made the per-site diagram a canvas Matplotlib could not allocate ("out of
memory"); a `$` began a Matplotlib formula (`$x^{$` was an internal error in attrition, accrual and report); a
Chinese name was drawn as empty boxes with a warning per glyph on the terminal; a 40-character hospital name
pushed the accrual figure's caption off the page. Generated ids go through the one mechanism that shows a
value as a label (`shown_labels`, `figure_files.figure_labels`), through the file names and sheet names, and
through every command that draws sites, end to end.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from oligo_cohort.attrition.bundle import MAX_SITE_IN_FILE_NAME, site_stems
from oligo_cohort.cli import main
from oligo_cohort.csv_output import read_back
from oligo_cohort.figure_files import _drawable, figure_labels
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.review.workbook import sheet_names
from oligo_cohort.shown_labels import MAX_LABEL_CHARACTERS, short_labels

UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")

HOSTILE_SITES = [
    "A" * 200_000,  # a whole column pasted into one cell
    "$x^{$",  # Matplotlib read this as a formula, and could not parse it
    "$\\frac{1}{0}$ 5$",
    "Line one\nline two\r\n",
    "\x1b[2J\x9b\u202eLVA\t",
    "中文医院",  # glyphs the figures' fonts lack
    "🏥 Kliniek e\u0301",
    "../../etc/passwd",
    "CON",
    "History",  # Excel's own sheet name
    "[]:*?/\\",
    "'quoted'",
    "Antoni van Leeuwenhoek Ziekenhuis, Amsterdam-Noord",
    "X" * 30 + "a" + "X" * 30,  # alike once cut in the middle
    "X" * 30 + "b" + "X" * 30,
]

# Any text, with the kinds of character above over-represented.
hostile_text = st.lists(
    st.one_of(
        st.sampled_from(["$", "{", "\n", "\r", "\x1b", "\x9b", "\u202e", "\\", "/", ":", "'", "中", "🏥", "e\u0301"]),
        st.text(max_size=30),
        st.just("A" * 500),
    ),
    min_size=1,
    max_size=6,
).map("".join)


@settings(max_examples=300)
@given(st.lists(hostile_text, min_size=1, max_size=12, unique=True))
def test_labels_are_short_single_lines_and_tell_sites_apart(values):
    for labels in (short_labels(values), figure_labels(values)):
        assert set(labels) == set(values)
        assert len(set(labels.values())) == len(values)  # two sites never share a label
        for label in labels.values():
            assert not UNSAFE.search(label) and "\n" not in label
            assert len(label) <= MAX_LABEL_CHARACTERS
    plain = [value for value in values if len(value) <= MAX_LABEL_CHARACTERS and not UNSAFE.search(value)]
    assert all(short_labels(values)[value] == value for value in plain)  # a short, plain id shows as it is


@settings(max_examples=200)
@given(st.lists(hostile_text, min_size=1, max_size=12, unique=True))
def test_figure_labels_hold_only_characters_the_figures_can_draw(values):
    covered = _drawable()
    for label in figure_labels(values).values():
        assert all(ord(char) in covered or char == " " for char in label), label


def test_a_plain_site_id_is_its_own_label():
    assert short_labels(["AVL", "UMCU"]) == {"AVL": "AVL", "UMCU": "UMCU"}
    assert figure_labels(["St. Antonius, Nieuwegein"]) == {"St. Antonius, Nieuwegein": "St. Antonius, Nieuwegein"}
    cut = short_labels(["Antoni van Leeuwenhoek Ziekenhuis, Amsterdam-Noord"])
    assert cut["Antoni van Leeuwenhoek Ziekenhuis, Amsterdam-Noord"] == "Antoni van Leeuwenhoek Zie…sterdam-Noord"


@settings(max_examples=200)
@given(st.lists(hostile_text, min_size=1, max_size=12, unique=True))
def test_site_file_names_are_short_safe_and_distinct(values):
    stems = site_stems(values, "consort_site")
    assert len({stem.lower() for stem in stems}) == len(values)
    for stem in stems:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", stem)
        assert len(stem) <= len("consort_site_") + len(str(len(values))) + 1 + MAX_SITE_IN_FILE_NAME


@settings(max_examples=200)
@given(st.lists(hostile_text, min_size=1, max_size=12, unique=True))
def test_sheet_names_are_ones_excel_opens(values):
    names = sheet_names(values)
    assert len({name.lower() for name in names.values()}) == len(values)
    for name in names.values():
        assert 0 < len(name) <= 31
        assert not set(name) & set("[]:*?/\\") and not UNSAFE.search(name)
        assert name.lower() != "history" and not name.startswith("'") and not name.endswith("'")


def hostile_extract(folder: Path) -> Path:
    """The demo extract, its patients spread over the hostile site ids (two or three each)."""
    folder.mkdir(parents=True)
    for file in sorted(demo_extract_dir().glob("*.csv")):
        frame = pd.read_csv(file, dtype=str, keep_default_na=False)
        if file.stem == "patients":
            frame["site_id"] = [HOSTILE_SITES[i % len(HOSTILE_SITES)] for i in range(len(frame))]
        frame.to_csv(folder / file.name, index=False)
    return folder


def sites_file(path: Path) -> Path:
    """Planned sites opening one after another after the start, so the forecast names them on its time axis."""
    opening = ["2027-03-01", "2028-01-01", "2029-01-01", "2030-01-01"]
    names = [HOSTILE_SITES[0], HOSTILE_SITES[1], HOSTILE_SITES[5], HOSTILE_SITES[4]]
    rows = "".join(
        f'"{name.replace(chr(34), chr(34) * 2)}",{date},0.4\n' for name, date in zip(names, opening, strict=True)
    )
    path.write_text("site_id,activation_date,planned_rate\n" + rows, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> tuple[dict[str, Path], list[str]]:
    """Every command that shows sites, run on the hostile extract; its folders, and the warnings raised."""
    root = tmp_path_factory.mktemp("sites")
    extract = hostile_extract(root / "extract")
    out = {name: root / name for name in ("screen", "attrition", "report", "accrual", "review")}
    runs = [
        ["screen", str(extract), "--out", str(out["screen"]), "--quiet"],
        # Exact counts: under disclosure control a site of two or three patients is left out (A21).
        ["attrition", str(out["screen"]), "--out", str(out["attrition"]), "--by", "site", "--formats", "svg",
         "--no-disclosure-control", "--quiet"],
        ["report", str(extract), "--out", str(out["report"]), "--no-disclosure-control", "--quiet"],
        ["accrual", str(out["screen"]), "--target", "20", "--start", "2027-01-01", "--out", str(out["accrual"]),
         "--sites", str(sites_file(root / "sites.csv")), "--no-disclosure-control", "--quiet"],
        ["review", "export", str(out["screen"]), "--out", str(out["review"])],
    ]  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for argv in runs:
            assert main(argv) == 0, argv[:2]
    return out, [str(w.message) for w in caught]


def test_every_command_draws_hostile_sites_without_a_warning(outputs):
    _, caught = outputs
    assert [w for w in caught if "Glyph" in w or "missing from font" in w] == []


def svg_text(path: Path) -> str:
    """The text an SVG figure draws (its fonts kept as text), one line per text element."""
    texts = ElementTree.parse(path).getroot().iter("{http://www.w3.org/2000/svg}text")
    return "\n".join("".join(element.itertext()) for element in texts)


def screened_sites(screen: Path) -> list[str]:
    """The site ids as the screen read them (the loader trims the line break that ends a cell)."""
    frame = pd.read_csv(screen / "patients.csv", dtype=str, keep_default_na=False)
    return list(dict.fromkeys(read_back(site) for site in frame["site_id"]))


def test_each_site_has_its_diagram_under_a_short_file_name(outputs):
    folders, _ = outputs
    sites = screened_sites(folders["screen"])
    assert len(sites) == len(HOSTILE_SITES) and sites[0] == HOSTILE_SITES[0]
    figures = sorted((folders["attrition"] / "figures").glob("consort_site_*.svg"))
    assert len(figures) == len(sites)
    assert all(len(path.name.encode()) <= 100 for path in figures)
    headings = figure_labels(sites)
    drawn = "\n".join(svg_text(path) for path in figures)
    for site in sites:
        assert f"Site {headings[site]}: all patients" in drawn, site[:50]  # each site is named in its diagram


def test_the_report_names_sites_by_their_short_labels(outputs):
    folders, _ = outputs
    page = (folders["report"] / "shareable" / "report.html").read_text(encoding="utf-8")
    assert "A" * (MAX_LABEL_CHARACTERS + 1) not in page
    assert not UNSAFE.search(page.replace("\n", "").replace("\r", "").replace("\t", ""))
    assert short_labels(HOSTILE_SITES)[HOSTILE_SITES[0]] in page
    # The tables that leave the institution keep the ids whole: labels are for reading, not for data.
    by_site = (folders["report"] / "shareable" / "tables" / "attrition_patients_by_site.csv").read_text("utf-8")
    assert HOSTILE_SITES[0] in by_site


def test_the_accrual_figures_are_drawn_with_the_sites(outputs):
    folders, _ = outputs
    bars = svg_text(folders["accrual"] / "site_expected_accrual.svg").splitlines()
    fan = svg_text(folders["accrual"] / "accrual_fan_chart.svg").splitlines()
    planned = [HOSTILE_SITES[0], HOSTILE_SITES[1], HOSTILE_SITES[5], HOSTILE_SITES[4].strip()]  # sites_file's
    labels = figure_labels(planned)
    assert labels[HOSTILE_SITES[0]] == "A" * 26 + "…" + "A" * 13
    assert labels[HOSTILE_SITES[5]] == "\\u4e2d\\u6587\\u533b\\u9662"  # characters the fonts lack, as escapes
    assert "$x^{$" in labels.values()  # a dollar sign, drawn as written
    for site in planned:
        assert labels[site] in bars, site[:50]
        assert any(labels[site] in line for line in fan), site[:50]  # named with its month under the caption


def test_the_workbook_has_a_valid_sheet_per_site(outputs):
    folders, _ = outputs
    workbook = load_workbook(folders["review"] / "review.xlsx", read_only=True)
    names = workbook.sheetnames
    assert names and len({name.lower() for name in names}) == len(names)
    assert all(len(name) <= 31 and not UNSAFE.search(name) and name.lower() != "history" for name in names)


def answered_workbook(export: Path, target: Path, *, site: str | None = None) -> Path:
    """The export's workbook with every yes/no question answered (and, given `site`, every site cell set to it)."""
    workbook = load_workbook(export / "review.xlsx")
    for sheet in workbook.worksheets:
        header = [cell.value for cell in sheet[1]]
        column = {name: header.index(name) + 1 for name in ("site_id", "allowed_answers", "answer", "answer_date")}
        for row in range(2, sheet.max_row + 1):
            if str(sheet.cell(row, column["allowed_answers"]).value).startswith("yes"):
                sheet.cell(row, column["answer"]).value = "yes"
                sheet.cell(row, column["answer_date"]).value = "2024-01-01"
                sheet.cell(row, header.index("answered_by") + 1).value = "RN"
                if site is not None:
                    sheet.cell(row, column["site_id"]).value = site
    workbook.save(target)
    return target


def test_answers_typed_into_the_workbook_import_for_every_site(outputs, tmp_path, capsys):
    """A workbook cell holds at most 32,767 characters: the 200,000-character site id is written cut, and read
    back as the registry's site it begins."""
    folders, _ = outputs
    extract = folders["screen"].parent / "extract"
    answers = answered_workbook(folders["review"], tmp_path / "answers.xlsx")
    assert main(["review", "import", str(answers), "--extract", str(extract), "--out", str(tmp_path / "new")]) == 0
    assert "added" in capsys.readouterr().out


def test_an_answer_at_the_wrong_site_is_named_in_a_short_line(outputs, tmp_path, capsys):
    folders, _ = outputs
    extract = folders["screen"].parent / "extract"
    answers = answered_workbook(folders["review"], tmp_path / "answers.xlsx", site="AVL")
    assert main(["review", "import", str(answers), "--extract", str(extract), "--out", str(tmp_path / "new")]) == 2
    said = capsys.readouterr().err
    assert "is at site AAAAAAAAAAAAAAAAAAAAAAAAAA…AAAAAAAAAAAAA" in said
    assert max(len(line) for line in said.splitlines()) < 400
    assert not (tmp_path / "new").exists()
