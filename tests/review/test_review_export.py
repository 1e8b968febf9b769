"""`review export`: which items are asked, in which order, with which facts; the CSV and the workbook nurses open."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from oligo_cohort.api import read_screen_dir, screen
from oligo_cohort.cli import main
from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.csv_output import FORMULA_STARTS
from oligo_cohort.csv_output import inert as formula_safe
from oligo_cohort.csv_output import read_back as unescape
from oligo_cohort.destination import MARKER
from oligo_cohort.errors import UsageError
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.review import REVIEW_COLUMNS, export_review, review_rows
from oligo_cohort.review.export import ANSWER_COLUMNS
from oligo_cohort.review.items import ITEMS, items_for
from oligo_cohort.review.workbook import DATE_COLUMNS, WRAPPED, sheet_names


@pytest.fixture(scope="module")
def demo_screen(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("review") / "screen"
    screen(demo_extract_dir()).write(out)
    return out


@pytest.fixture(scope="module")
def demo_export(demo_screen, tmp_path_factory):
    out = tmp_path_factory.mktemp("review") / "export"
    return export_review(demo_screen, out), out


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def expected_items(patients: pd.DataFrame) -> set[tuple[str, str]]:
    """(patient, item) for every open criterion an item can decide, eligible and unknown patients only."""
    return {
        (row["patient_id"], item.code)
        for row in patients.to_dict("records")
        if row["status"] in ("eligible", "unknown")
        for criterion in CRITERION_IDS
        for item in items_for(criterion, row[criterion])
    }


def test_every_open_item_of_every_eligible_or_unknown_patient_is_asked_once(demo_screen, demo_export):
    _, out = demo_export
    patients = read_screen_dir(demo_screen).patients
    rows = read_rows(out / "review.csv")
    asked = [(r["patient_id"], r["item"]) for r in rows]
    assert len(asked) == len(set(asked))
    assert set(asked) == expected_items(patients)
    assert set(asked) >= {("00217", "who_ps"), ("20067", "who_ps"), ("20067", "response"), ("00242", "lat_amenable")}
    ineligible = set(patients.loc[patients["status"] == "ineligible", "patient_id"])
    assert not ineligible & {r["patient_id"] for r in rows}
    # A patient with nothing left open (every criterion decided) is not listed: 00107 passes all 18.
    assert "00107" not in {r["patient_id"] for r in rows}


def test_the_csv_has_the_columns_in_order_and_the_answers_empty(demo_export):
    _, out = demo_export
    with (out / "review.csv").open(encoding="utf-8", newline="") as handle:
        assert next(csv.reader(handle)) == list(REVIEW_COLUMNS)
    rows = read_rows(out / "review.csv")
    assert all(r["answer"] == r["answer_date"] == r["answered_by"] == r["note"] == "" for r in rows)
    allowed = {item.code: item.allowed_answers for item in ITEMS}
    assert all(r["allowed_answers"] == allowed[r["item"]] for r in rows)
    assert {r["allowed_answers"] for r in rows if r["item"] == "who_ps"} == {"0 / 1 / 2 / 3 / 4"}
    assert {r["allowed_answers"] for r in rows if r["item"] == "medical_risk"} == {"yes / no"}


def test_rows_are_sorted_by_site_then_deadline(demo_export):
    _, out = demo_export
    rows = read_rows(out / "review.csv")
    keys = [(r["site_id"], r["deadline"]) for r in rows]
    assert keys == sorted(keys)
    # The deadline is the last day of the registration window, S + 52 days.
    for r in rows:
        s = dt.date.fromisoformat(r["screening_date"])
        assert dt.date.fromisoformat(r["deadline"]) == s + dt.timedelta(days=52)


def test_questions_are_plain_and_facts_come_from_the_registry(demo_export):
    _, out = demo_export
    rows = {(r["patient_id"], r["item"]): r for r in read_rows(out / "review.csv")}
    ps = rows[("00217", "who_ps")]
    assert "WHO performance status" in ps["question"] and "answer_date" in ps["question"]
    assert "KPS 70 on 2024-04-15" in ps["facts"]  # the last known value
    assert "2024-02-22 to 2024-06-10" in ps["facts"]  # the window the screen reads: [S - 60, R]
    assert "L1 (lung) 17 → 23 mm" in ps["facts"]  # the lesion that progressed
    response = rows[("20067", "response")]
    assert "line 1 (started 2023-05-22)" in response["question"] and "2024-06-17" in response["question"]
    assert "after 2023-05-22 and before 2024-06-17" in response["facts"]
    assert "inc_age_18 unknown" in response["facts"]  # open, but no chart answer decides it here
    assert "size not recorded" in rows[("00242", "lat_amenable")]["facts"]


def test_the_workbook_has_one_sheet_per_site_with_the_same_rows(demo_export):
    _, out = demo_export
    rows = read_rows(out / "review.csv")
    book = load_workbook(out / "review.xlsx")
    assert book.sheetnames == sorted({r["site_id"] for r in rows})
    for sheet in book.worksheets:
        values = list(sheet.iter_rows(values_only=True))
        assert list(values[0]) == list(REVIEW_COLUMNS)
        site_rows = [r for r in rows if r["site_id"] == sheet.title]
        assert len(values) - 1 == len(site_rows)
        for got, want in zip(values[1:], site_rows, strict=True):
            assert got[0] == want["patient_id"] and got[5] == want["item"]
            assert got[3].date() == dt.date.fromisoformat(want["screening_date"])  # a date cell


def test_the_workbook_offers_the_allowed_answers_as_drop_downs_with_frozen_headers(demo_export):
    _, out = demo_export
    book = load_workbook(out / "review.xlsx")
    column = {name: k for k, name in enumerate(REVIEW_COLUMNS, start=1)}
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "B2"
        lists = [v for v in sheet.data_validations.dataValidation if v.type == "list"]
        dates = [v for v in sheet.data_validations.dataValidation if v.type == "date"]
        assert len(dates) == 1 and dates[0].formula2 == "TODAY()"
        for row in range(2, sheet.max_row + 1):
            allowed = sheet.cell(row, column["allowed_answers"]).value.split(" / ")
            answer = sheet.cell(row, column["answer"]).coordinate
            covering = [v for v in lists if answer in v.sqref]
            assert len(covering) == 1, f"{sheet.title}!{answer}"
            assert covering[0].formula1 == '"' + ",".join(allowed) + '"'
            assert covering[0].showErrorMessage and covering[0].allow_blank
            assert sheet.cell(row, column["answer_date"]).coordinate in dates[0].sqref
        for name, k in column.items():
            width = sheet.column_dimensions[sheet.cell(1, k).column_letter].width
            assert width >= len(name)
        assert sheet.cell(1, column["answer_date"]).comment is not None


def test_the_workbook_cells_are_shaded_formatted_and_wrapped_by_column(demo_export):
    """Each kind of cell has its format: the answer columns shaded (empty ones too), dates as YYYY-MM-DD, long text
    wrapped, everything in the workbook's own font (LibreOffice printed a sheet whose cells named none in another).
    A fill's colour is its last six hex digits; Excel ignores the alpha byte before them."""
    _, out = demo_export
    book = load_workbook(out / "review.xlsx")
    for sheet in book.worksheets:
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                name = REVIEW_COLUMNS[cell.column - 1]
                assert (str(cell.fill.fgColor.rgb)[-6:] == "FFF4CC") == (name in ANSWER_COLUMNS), (
                    sheet.title,
                    cell.coordinate,
                )
                assert (cell.number_format == "yyyy-mm-dd") == (name in DATE_COLUMNS)
                assert bool(cell.alignment.wrap_text) == (name in WRAPPED) and cell.alignment.vertical == "top"
                assert (cell.font.name, cell.font.sz, cell.font.b) == ("Calibri", 11, False)


def test_status_and_site_choose_the_patients(demo_screen, tmp_path):
    ineligible = review_rows(demo_screen, statuses=["ineligible"]).rows
    patients = read_screen_dir(demo_screen).patients
    assert set(ineligible["patient_id"]) <= set(patients.loc[patients["status"] == "ineligible", "patient_id"])
    assert ("01072", "lat_amenable") in set(zip(ineligible["patient_id"], ineligible["item"], strict=True))
    # 01072 fails exc_medical_risk on a recorded observation: not asked again.
    assert ("01072", "medical_risk") not in set(zip(ineligible["patient_id"], ineligible["item"], strict=True))
    facts = ineligible.loc[ineligible["patient_id"] == "01072", "facts"].iloc[0]
    assert "fails inc_who_ps_0_1, exc_medical_risk" in facts
    umcu = review_rows(demo_screen, sites=["UMCU"]).rows
    assert set(umcu["site_id"]) == {"UMCU"} and len(umcu)
    with pytest.raises(UsageError, match="choose from"):
        review_rows(demo_screen, statuses=["eligable"])
    with pytest.raises(UsageError, match="not a site of the screen"):
        review_rows(demo_screen, sites=["NKI"])


def test_pregnancy_is_asked_when_the_extract_has_no_observations(tmp_path):
    extract = tmp_path / "extract"
    shutil.copytree(demo_extract_dir(), extract)
    (extract / "observations.csv").unlink()
    screen(extract).write(tmp_path / "screen")
    rows = review_rows(tmp_path / "screen").rows
    per_patient = rows.groupby("patient_id")["item"].apply(set)
    assert all({"pregnant", "breastfeeding"} <= items for items in per_patient)
    assert "the extract has no observations table" in rows.loc[rows["item"] == "medical_risk", "facts"].iloc[0]


def test_an_extract_changed_since_the_screen_is_refused_and_a_moved_one_can_be_named(demo_screen, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(demo_extract_dir(), moved)
    assert len(review_rows(demo_screen, extract=moved).rows) > 0
    with (moved / "performance_status.csv").open("a", encoding="utf-8") as handle:
        handle.write("00217,2024-05-01,WHO,1\n")
    with pytest.raises(UsageError, match=r"performance_status\.csv missing or changed"):
        review_rows(demo_screen, extract=moved)


def test_an_export_with_answers_typed_in_is_never_replaced(demo_screen, tmp_path):
    out = tmp_path / "review"
    export_review(demo_screen, out)
    export_review(demo_screen, out)  # an untouched earlier export may be replaced
    book = load_workbook(out / "review.xlsx")
    book.worksheets[0]["J2"] = "yes"
    book.save(out / "review.xlsx")
    with pytest.raises(
        UsageError, match=r"changed since oligo-cohort wrote them \(edited or filled in by hand\?\): review\.xlsx\."
    ):
        export_review(demo_screen, out)
    assert load_workbook(out / "review.xlsx").worksheets[0]["J2"].value == "yes"


@pytest.mark.parametrize("manifest", ["deleted", "emptied", "cut short", "kept"])
def test_answers_typed_into_review_csv_are_never_exported_over_whatever_became_of_review_export_json(
    demo_screen, tmp_path, capsys, manifest
):
    """The export's own manifest is no proof: the folder's marker holds every file's checksum."""
    out = tmp_path / "review"
    args = ["review", "export", str(demo_screen), "--out", str(out)]
    assert main(args) == 0
    lines = (out / "review.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].rstrip("\n").removesuffix(",,,,") + ",yes,2024-04-01,a nurse,\n"  # a reviewer's work
    (out / "review.csv").write_text("".join(lines), encoding="utf-8")
    json_file = out / "review_export.json"
    if manifest == "deleted":
        json_file.unlink()
    elif manifest == "emptied":
        json_file.write_bytes(b"")
    elif manifest == "cut short":
        json_file.write_bytes(json_file.read_bytes()[:40])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    changed = ["review.csv"] if manifest in ("deleted", "kept") else ["review.csv", "review_export.json"]
    assert f"changed since oligo-cohort wrote them (edited or filled in by hand?): {', '.join(changed)}." in err
    assert "internal error" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_an_untouched_export_is_exported_over_even_without_review_export_json(demo_screen, tmp_path, capsys):
    out = tmp_path / "review"
    args = ["review", "export", str(demo_screen), "--out", str(out)]
    assert main(args) == 0
    (out / "review_export.json").unlink()  # a file of the tool's gone: nothing of anyone's is lost
    assert main(args) == 0
    assert (out / "review_export.json").is_file()


def test_the_command_line_exports_and_says_what_is_asked(demo_screen, tmp_path, capsys):
    out = tmp_path / "review"
    assert main(["review", "export", str(demo_screen), "--out", str(out), "--site", "MST"]) == 0
    printed = capsys.readouterr().out
    assert "who_ps" in printed and "MST" in printed
    written = sorted(p.name for p in out.iterdir() if p.name != MARKER)
    assert written == ["review.csv", "review.xlsx", "review_export.json"]
    assert main(["review", "export", str(demo_screen), "--out", str(tmp_path / "x"), "--status", "all"]) == 2


@pytest.mark.parametrize("start", FORMULA_STARTS)
@pytest.mark.parametrize("text", ["cmd|' /C calc'!A0", "", "1+1", "'quoted"])
def test_formula_safe_text_reads_back_unchanged(start, text):
    safe = formula_safe(start + text)
    assert safe == "'" + start + text and unescape(safe) == start + text
    assert formula_safe("x" + start + text) == "x" + start + text  # only a leading character matters
    assert unescape("x" + start + text) == "x" + start + text


# A leading tab or carriage return never reaches the export: the loader trims values.
@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_text_a_spreadsheet_would_run_is_written_as_text_and_read_back_unchanged(start, tmp_path):
    """Patient and site ids come from the extract: a crafted one must not run as a formula, in CSV or workbook."""
    extract = tmp_path / "extract"
    shutil.copytree(demo_extract_dir(), extract)
    crafted = f"{start}cmd|' /C calc'!A0"
    for name in ("patients", "tumours", "systemic_therapy", "imaging", "lesions", "response_assessments"):
        frame = pd.read_csv(extract / f"{name}.csv", dtype=str, keep_default_na=False)
        if name == "patients":
            frame.loc[frame["patient_id"] == "00217", "site_id"] = crafted
        frame.to_csv(extract / f"{name}.csv", index=False)
    screen(extract).write(tmp_path / "screen")
    out = tmp_path / "review"
    export_review(tmp_path / "screen", out)
    rows = read_rows(out / "review.csv")
    cells = [r["site_id"] for r in rows if r["patient_id"] == "00217"]
    assert cells and all(c == formula_safe(crafted) == "'" + crafted for c in cells)
    assert all(unescape(c) == crafted for c in cells)
    sheet = load_workbook(out / "review.xlsx")[sheet_names([crafted])[crafted]]
    assert sheet["B2"].value == crafted and sheet["B2"].data_type == "s"


def test_sheet_names_are_valid_and_unique():
    names = sheet_names(["AVL", "a/b", "a:b", "x" * 40, "X" * 40, "[site]"])
    assert len(set(n.lower() for n in names.values())) == 6
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names.values())
