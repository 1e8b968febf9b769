"""What the steering committee reads first: the summary, the provenance, the accrual section, labelled parameters.

Checked on the HTML of reports written from hand-built screen folders (controlled) and from a real screen of
the bundled demo (synthetic, exact counts).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pandas as pd
import pytest

from oligo_cohort.api import read_screen_dir
from oligo_cohort.attrition.feasibility import write_feasibility_report
from oligo_cohort.attrition.views import Options
from oligo_cohort.parameter_labels import PARAMETER_LABELS, parameter_table, parameter_value
from oligo_cohort.protocol import load_protocol
from tests.attrition.test_attrition_fixtures import demo_expected_patients, random_patients, write_screen_dir


def text_of(page: str) -> str:
    """The page's visible text, tags dropped and whitespace collapsed."""
    body = re.sub(r"<style>.*?</style>|<svg.*?</svg>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).replace("&amp;", "&")


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    from oligo_cohort.api import screen
    from oligo_cohort.paths import demo_extract_dir

    result = screen(demo_extract_dir())
    out = write_feasibility_report(
        result,
        tmp_path_factory.mktemp("demo") / "report",
        formats=("svg",),
        author="A. Statistician",
        target=10,
        options=Options(by=("site", "year"), review_pass_rates={"inc_lat_amenable": 0.61}),
        write_screen=False,
    )
    return result, (out / "shareable" / "report.html").read_text(encoding="utf-8"), out


def test_the_summary_comes_first_and_answers_how_many_where_and_why_not(demo_report):
    result, page, _ = demo_report
    text = text_of(page)
    summary = text[text.index("Summary") : text.index("Provenance")]
    counts = result.counts()
    assert "Patients screened 34" in summary
    # Potentially eligible after chart review: eligible (unknown as fail) – eligible + unknown (unknown as pass).
    assert (
        f"Potentially eligible after chart review {counts['eligible']} – {counts['eligible'] + counts['unknown']}"
        in summary
    )
    assert "Not excluded on registry data" in summary and "unknown as fail" in summary
    assert "Eligible on registry data" not in summary, "the status table's eligible count is the only 'eligible'"
    assert "The three reasons that exclude most" in summary
    assert "Sites (3)" in summary and all(site in summary for site in ("AVL", "UMCU", "MST"))
    assert "Expected after chart review ≈" in summary
    assert "Target N = 10 reached (median)" in summary
    assert "Synthetic data (the bundled demo extract)" in summary
    assert page.index('class="summary"') < page.index("<h2>Provenance</h2>") < page.index("Attrition by criterion")


def test_the_three_criteria_are_those_with_the_largest_shapley_share(demo_report):
    _, page, out = demo_report
    impact = pd.read_csv(out / "shareable" / "tables" / "impact_patients.csv")
    top = impact.sort_values(["shapley", "fail"], ascending=False, kind="stable").head(3)["reason"]
    summary = text_of(page)[: text_of(page).index("Provenance")]
    positions = [summary.index(reason) for reason in top]
    assert positions == sorted(positions)


def test_the_provenance_names_tool_protocol_cut_off_inputs_engine_and_author(demo_report):
    result, page, _ = demo_report
    from oligo_cohort import __version__
    from oligo_cohort.disclosure import sha256_of

    text = text_of(page)
    provenance = text[text.index("Provenance") : text.index("Patients by status")]
    assert f"oligo-cohort {__version__}" in provenance
    assert "cosmo, current" in provenance and "Data cut-off 2025-03-31" in provenance
    assert "Engine duckdb" in provenance and "Run by A. Statistician" in provenance
    for path in result.input_files:
        assert f"{path.name} sha256:{sha256_of(path)}" in provenance
    assert str(Path(result.input_files[0]).parent) not in page, "file names only, never paths"


def test_the_accrual_section_reuses_the_forecast_and_says_months_not_days(demo_report):
    _, page, out = demo_report
    text = text_of(page)
    section = text[text.index("Accrual forecast Target") :]
    assert "Target N = 10 patients" in section and "Registry rate, eligible patients" in section
    assert re.search(r"\d+ months \([A-Z][a-z]{2} \d{4}\)", section)
    assert (out / "shareable" / "figures" / "accrual_fan_chart.svg").is_file()
    forecast = pd.read_csv(out / "shareable" / "tables" / "accrual_forecast.csv")
    assert set(forecast["scenario"]) == {"eligible", "eligible_or_unknown"}


def test_readme_lists_only_the_folders_the_report_wrote(demo_report):
    # Written with write_screen=False (`--no-screen-output`): no screen/ folder, and README.txt names none.
    out = demo_report[2]
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert not (out / "screen").exists()
    assert "screen/" not in readme
    assert readme.startswith("Feasibility report written by oligo-cohort.") and "shareable/" in readme


def test_parameters_are_shown_with_labels_and_units(demo_report):
    _, page, _ = demo_report
    text = text_of(page)
    assert "Size floor for a progressive lesion (larger than; not for bone) 15 mm size_floor_mm" in text
    assert "Planned registration after the screening scan 49 days" in text
    assert "Fail %" in page and "white-space: nowrap" in page  # numeric headers never wrap


def test_every_protocol_parameter_has_a_label_and_a_unit_rule():
    row = load_protocol("cosmo").parameters.as_row()
    assert set(row) == set(PARAMETER_LABELS)
    table = parameter_table(row)
    assert not table["label"].str.contains("_").any()
    assert parameter_value("size_floor_mm", 15.0) == "15 mm" and parameter_value("size_increase_pct", 20) == "20 %"
    assert parameter_value("reference", "nadir") == "each lesion's smallest size (nadir)"
    # One of a unit is singular: a protocol may allow one organ, or one day.
    assert (
        parameter_value("max_progressive_organs", 1) == "1 organ" and parameter_value("line_gap_days", 1.0) == "1 day"
    )
    assert parameter_value("max_progressive_organs", 2) == "2 organs" and parameter_value("size_floor_mm", 1) == "1 mm"
    fields = {f.name for f in dataclasses.fields(load_protocol("cosmo").parameters)}
    assert fields <= set(PARAMETER_LABELS)


def test_an_opted_out_report_says_it_must_not_leave_the_institution(tmp_path):
    screen = write_screen_dir(tmp_path / "screen", demo_expected_patients())
    out = write_feasibility_report(
        read_screen_dir(screen), tmp_path / "report", formats=("svg",), disclosure_control=False
    )
    page = (out / "shareable" / "report.html").read_text(encoding="utf-8")
    assert "must not leave the institution" in text_of(page)
    assert "NOT applied" in (out / "shareable" / "disclosure.md").read_text()
    assert "internal use only" in (out / "README.txt").read_text()


def test_a_controlled_report_states_its_rule_and_its_tables_add_up(tmp_path):
    units = random_patients(2_500, seed=12)
    screen = write_screen_dir(tmp_path / "screen", units)
    out = write_feasibility_report(read_screen_dir(screen), tmp_path / "report", formats=("svg",))
    page = (out / "shareable" / "report.html").read_text(encoding="utf-8")
    text = text_of(page)
    assert "Disclosure control applied" in text and "differences of controlled running totals" in text
    tables = out / "shareable" / "tables"
    attrition = pd.read_csv(tables / "attrition_patients.csv")
    status = pd.read_csv(tables / "status_patients.csv").iloc[0]
    assert status["eligible"] + status["unknown"] + status["ineligible"] == status["total"]
    assert status["total"] == attrition["remaining"].iloc[0]
    assert status["eligible"] == attrition["remaining_if_unknown_fail"].iloc[-1]
    # The summary's numbers are the controlled tables' numbers.
    potential = f"{status['eligible']:,} – {status['eligible'] + status['unknown']:,}"
    assert f"Potentially eligible after chart review {potential}" in text
