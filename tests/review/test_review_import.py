"""`review import`: every problem of every answer file refused at once; valid answers become canonical records in a
copy of the extract (CSV, Parquet or DuckDB file) with the audit; conflicts with registry records listed."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from oligo_cohort.api import read_screen_dir, screen
from oligo_cohort.cli import main
from oligo_cohort.destination import MARKER
from oligo_cohort.errors import UsageError
from oligo_cohort.load import load_extract
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.review.answers import AnswerFileError
from oligo_cohort.review.export import REVIEW_COLUMNS, export_review, write_review_csv
from oligo_cohort.review.importer import import_answers
from oligo_cohort.review.items import BY_CODE
from oligo_cohort.review.reviewed_extract import AUDIT_FILE
from oligo_cohort.review.simulate import fill_answers

TODAY = dt.date(2025, 6, 1)
NURSE = "J. de Vries"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo screened and exported: (screen folder, export folder, the export's rows)."""
    base = tmp_path_factory.mktemp("import")
    screen(demo_extract_dir()).write(base / "screen")
    export = export_review(base / "screen", base / "review")
    return base / "screen", base / "review", export.rows


def checksums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def filled_csv(rows: pd.DataFrame, path: Path, **options) -> Path:
    write_review_csv(fill_answers(rows, answered_by=NURSE, **options), path)
    return path


def edit_csv(path: Path, edits: dict[tuple[str, str], dict[str, str]]) -> dict[tuple[str, str], int]:
    """Change cells of rows keyed by (patient_id, item); returns each edited row's data-row number."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    numbers = {}
    for k, row in enumerate(rows, start=1):
        key = (row["patient_id"], row["item"])
        if key in edits:
            row.update(edits[key])
            numbers[key] = k
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(REVIEW_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return numbers


# --- Malformed answers ---------------------------------------------------------------------------------------------

BAD_EDITS = {
    ("00217", "lat_amenable"): ({"patient_id": "217"}, "patient_id", "217", "did a spreadsheet drop leading zeros"),
    ("00217", "informed_consent"): ({"patient_id": "X0001"}, "patient_id", "X0001", "not a patient of the extract"),
    ("00242", "lat_amenable"): ({"event_id": "00242-99"}, "event_id", "00242-99", "not a screening scan of patient"),
    ("00242", "informed_consent"): ({"item": "consent"}, "item", "consent", "not an item that can be asked"),
    ("00242", "medical_risk"): ({"answer": "maybe"}, "answer", "maybe", "not an allowed answer to medical_risk"),
    ("00217", "who_ps"): ({"answer": "5"}, "answer", "5", "not an allowed answer to who_ps"),
    ("00224", "lat_amenable"): ({"answer_date": "31/05/2024"}, "answer_date", "31/05/2024", "YYYY-MM-DD"),
    ("00224", "informed_consent"): ({"answer_date": "2025-06-02"}, "answer_date", "2025-06-02", "after today"),
    ("00224", "medical_risk"): ({"answer_date": "2021-01-04"}, "answer_date", "2021-01-04", "before the start of line"),
    ("00224", "compliance_risk"): ({"answered_by": ""}, "answered_by", None, "answered_by missing"),
    ("00174", "lat_amenable"): ({"answer": ""}, "answer", None, "answer missing"),
    ("00174", "informed_consent"): ({"site_id": "UMCU"}, "site_id", "UMCU", "is at site AVL"),
    ("00174", "medical_risk"): ({"screening_date": "2024-09-01"}, "screening_date", "2024-09-01", "is dated"),
    ("00174", "compliance_risk"): ({"answer_date": "=TODAY()"}, "answer_date", "=TODAY()", "YYYY-MM-DD"),
}


def test_a_malformed_answer_file_is_refused_with_every_problem_named_and_nothing_written(demo, tmp_path):
    _, review, rows = demo
    answers = filled_csv(rows, tmp_path / "answers.csv")
    numbers = edit_csv(answers, {key: edit for key, (edit, *_) in BAD_EDITS.items()})
    # A second file: the workbook, one answer contradicting the CSV, one formula typed into an answer cell.
    workbook = tmp_path / "answers.xlsx"
    shutil.copy(review / "review.xlsx", workbook)
    book = load_workbook(workbook)
    sheet = book["MST"]
    cells = {(sheet.cell(r, 1).value, sheet.cell(r, 6).value): r for r in range(2, sheet.max_row + 1)}
    contradicting = cells[("20031", "medical_risk")]
    sheet.cell(contradicting, 10, "yes")
    sheet.cell(contradicting, 11, dt.date(2024, 5, 2))
    sheet.cell(contradicting, 12, "A. Jansen")
    formula = cells[("20073", "lat_amenable")]
    sheet.cell(formula, 10, '=IF(1,"yes","no")')
    sheet.cell(formula, 11, dt.date(2024, 11, 5))
    sheet.cell(formula, 12, "A. Jansen")
    book.save(workbook)
    headless = tmp_path / "headless.csv"
    headless.write_text("patient_id,event_id,item,answer,answer_date\n00217,00217-03,who_ps,1,2024-05-01\n")
    out = tmp_path / "reviewed"

    with pytest.raises(AnswerFileError) as raised:
        import_answers([answers, workbook, headless], demo_extract_dir(), out, today=TODAY)
    problems = raised.value.problems
    for key, (_, column, value, message) in BAD_EDITS.items():
        found = [p for p in problems if p.file == str(answers) and p.row == numbers[key] and p.column == column]
        assert found, f"no problem for {key} {column}"
        assert message in found[0].message and found[0].value == value, found[0].describe()
    where = [p for p in problems if p.file == str(workbook)]
    assert any(p.sheet == "MST" and p.row == formula and p.column == "answer" and "formula" in p.message for p in where)
    contradiction = [p for p in problems if "contradicted" in p.message]
    assert {(p.file, p.sheet) for p in contradiction} == {(str(answers), None), (str(workbook), "MST")}
    assert any(p.file == str(headless) and p.column == "answered_by" and "missing" in p.message for p in problems)
    assert not out.exists()

    # The command line lists every problem with file, sheet, row, column and value, exits 2, writes nothing.
    listed = tmp_path / "problems.csv"
    code = main(
        ["review", "import", str(answers), str(workbook), str(headless), "--extract", str(demo_extract_dir()),
         "--out", str(out), "--problems", str(listed)]
    )  # fmt: skip
    assert code == 2 and not out.exists()
    written = pd.read_csv(listed, dtype=str, keep_default_na=False)
    assert list(written.columns) == ["file", "sheet", "row", "column", "value", "message"]
    # The same problems, but for the answer dated 2025-06-02: not after the real today.
    assert len(written) == len(problems) - 1 and not written["message"].str.contains("after today").any()


def test_problems_are_printed_one_per_line(demo, tmp_path, capsys):
    _, _, rows = demo
    answers = filled_csv(rows, tmp_path / "answers.csv")
    numbers = edit_csv(answers, {("00217", "who_ps"): {"answer": "7"}})
    assert (
        main(["review", "import", str(answers), "--extract", str(demo_extract_dir()), "--out", str(tmp_path / "o")])
        == 2
    )
    err = capsys.readouterr().err
    assert f"{answers}, row {numbers[('00217', 'who_ps')]}, column answer: value '7': not an allowed answer" in err
    assert "Nothing was written" in err and not (tmp_path / "o").exists()


def test_an_item_answered_twice_is_a_problem_even_when_the_answers_agree(demo, tmp_path):
    _, _, rows = demo
    first = filled_csv(rows[rows["site_id"] == "AVL"], tmp_path / "avl.csv")
    again = filled_csv(rows[rows["patient_id"] == "00217"], tmp_path / "again.csv")
    with pytest.raises(AnswerFileError) as raised:
        import_answers([first, again], demo_extract_dir(), tmp_path / "out", today=TODAY)
    repeated = [p for p in raised.value.problems if "answered again" in p.message]
    assert len(repeated) == 2 * int((rows["patient_id"] == "00217").sum())
    with pytest.raises(AnswerFileError, match="1 problem"):
        import_answers([first, first], demo_extract_dir(), tmp_path / "out", today=TODAY)


# --- Valid answers ------------------------------------------------------------------------------------------------


def test_answers_become_dated_records_with_an_audit_and_the_extract_is_untouched(demo, tmp_path):
    _, _, rows = demo
    before = checksums(demo_extract_dir())
    skip = {("20094", "lat_amenable")}
    answers = filled_csv(rows, tmp_path / "answers.csv", overrides={("00242", "medical_risk"): "yes"}, skip=skip)
    result = import_answers([answers], demo_extract_dir(), tmp_path / "reviewed", today=TODAY)
    assert checksums(demo_extract_dir()) == before
    out = tmp_path / "reviewed"
    observations = pd.read_csv(out / "observations.csv", dtype=str, keep_default_na=False)
    original = pd.read_csv(demo_extract_dir() / "observations.csv", dtype=str, keep_default_na=False)
    assert observations.iloc[: len(original)].equals(original)  # registry rows kept as they were
    added = observations.iloc[len(original) :]
    risk = added[(added["patient_id"] == "00242") & (added["code"] == "medical_risk")]
    assert risk[["start_date", "end_date", "value"]].values.tolist() == [["2024-03-04", "", "true"]]
    ps = pd.read_csv(out / "performance_status.csv", dtype=str, keep_default_na=False)
    assert ps.iloc[-2:][["patient_id", "scale", "score"]].values.tolist() == [
        ["00217", "WHO", "0"],
        ["20067", "WHO", "0"],
    ]
    responses = pd.read_csv(out / "response_assessments.csv", dtype=str, keep_default_na=False)
    assert responses.iloc[-1].tolist() == ["20067", "2024-06-16", "CR"]

    audit = pd.read_csv(out / AUDIT_FILE, dtype=str, keep_default_na=False)
    assert len(audit) == len(rows)
    assert (audit["action"] == "not answered").sum() == 1
    answered = audit[audit["action"] == "added"]
    assert len(answered) == len(rows) - 1 == result.records.added
    assert set(answered["answered_by"]) == {NURSE} and set(answered["imported_on"]) == {TODAY.isoformat()}
    row = answered[(answered["patient_id"] == "00242") & (answered["item"] == "medical_risk")].iloc[0]
    assert row["record"] == "observations: medical_risk true from 2024-03-04"
    assert row["file"] == str(answers) and row["row"].isdigit()
    assert load_extract(out).present >= {"observations", "performance_status", "response_assessments"}


def test_a_conflict_with_a_registry_record_is_kept_and_the_rule_that_decides_named(demo, tmp_path):
    _, _, rows = demo
    answers = filled_csv(rows[rows["patient_id"] == "00217"], tmp_path / "answers.csv")
    result = import_answers([answers], demo_extract_dir(), tmp_path / "reviewed", today=TODAY)
    ps = result.records.audit.set_index("item").loc["who_ps"]
    assert ps["conflict"] == "registry: KPS 70 on 2024-04-15"
    assert ps["counts"].startswith("the answer counts: the latest assessment in [2024-02-22, 2024-06-10]")
    edit_csv(answers, {("00217", "who_ps"): {"answer_date": "2024-04-10"}})
    earlier = import_answers([answers], demo_extract_dir(), tmp_path / "reviewed-2", today=TODAY)
    assert (
        earlier.records.audit.set_index("item")
        .loc["who_ps", "counts"]
        .startswith("the registry assessment of 2024-04-15 counts")
    )


def test_answers_imported_again_are_already_in_the_extract_and_never_a_conflict_with_themselves(demo, tmp_path):
    _, _, rows = demo
    extract = tmp_path / "extract"
    shutil.copytree(demo_extract_dir(), extract)
    with (extract / "observations.csv").open("a", encoding="utf-8") as handle:
        handle.write("00242,lat_amenable,2024-03-01,,false\n")  # the answer (2024-03-04, yes) is later
    answers = filled_csv(rows[rows["patient_id"].isin(["00217", "00242"])], tmp_path / "answers.csv")
    edit_csv(answers, {("00217", "who_ps"): {"answer_date": "2024-04-29"}})  # later than the registry's KPS 70
    first = import_answers([answers], extract, tmp_path / "round-1", today=TODAY).records.audit
    again = import_answers([answers], tmp_path / "round-1", tmp_path / "round-2", today=TODAY).records.audit
    assert set(first["action"]) == {"added"} and set(again["action"]) == {"already in the extract"}
    decided = ["patient_id", "item", "conflict", "counts", "warning"]
    assert again[decided].equals(first[decided])  # the answer's own copy is neither a conflict nor a later record
    counts = first.set_index(["patient_id", "item"])["counts"]
    assert counts[("00217", "who_ps")].startswith("the answer counts: the latest assessment")
    assert counts[("00242", "lat_amenable")].startswith("the answer counts: the latest lat_amenable observation")


# Three patients, three registry situations for lat_amenable (R: 00242 2024-04-22, 00224 2024-07-01, 00174
# 2024-11-04): a record after R (not read), and true and false on one day before R (D18: review), answered on
# that same day or later.
OBSERVATION_CONFLICTS = {
    "00242": ("00242,lat_amenable,2024-05-01,,false", "2024-03-20", "the answer counts", "pass"),
    "00224": (
        "00224,lat_amenable,2024-06-10,,true\n00224,lat_amenable,2024-06-10,,false",
        "2024-06-10",
        "chart review (D18)",
        "review",
    ),
    "00174": (
        "00174,lat_amenable,2024-10-01,,true\n00174,lat_amenable,2024-10-01,,false",
        "2024-10-20",
        "the answer counts",
        "pass",
    ),
}


def test_which_observation_counts_follows_the_latest_on_or_before_r(tmp_path):
    extract = tmp_path / "extract"
    shutil.copytree(demo_extract_dir(), extract)
    with (extract / "observations.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n".join(registry for registry, *_ in OBSERVATION_CONFLICTS.values()) + "\n")
    screen(extract).write(tmp_path / "screen")
    rows = export_review(tmp_path / "screen", tmp_path / "review").rows
    rows = rows[rows["patient_id"].isin(list(OBSERVATION_CONFLICTS)) & (rows["item"] == "lat_amenable")]
    assert len(rows) == 3  # each still open: review
    answers = filled_csv(rows, tmp_path / "answers.csv")
    edit_csv(answers, {(p, "lat_amenable"): {"answer_date": v[1]} for p, v in OBSERVATION_CONFLICTS.items()})
    result = import_answers([answers], extract, tmp_path / "reviewed", today=TODAY)
    audit = result.records.audit.set_index("patient_id")
    after = screen(tmp_path / "reviewed", as_of=read_screen_dir(tmp_path / "screen").as_of).patients
    outcome = after.set_index("patient_id")["inc_lat_amenable"]
    for patient_id, (_, _, counts, expected) in OBSERVATION_CONFLICTS.items():
        assert audit.loc[patient_id, "conflict"].startswith("registry: lat_amenable")
        assert counts in audit.loc[patient_id, "counts"], audit.loc[patient_id, "counts"]
        assert outcome[patient_id] == expected, patient_id


def test_answers_dated_after_the_cutoff_are_kept_with_a_warning(demo, tmp_path, capsys):
    _, _, rows = demo
    late = rows[rows["patient_id"] == "20094"]  # S 2025-03-17, R 2025-05-05; cut-off 2025-03-31
    answers = filled_csv(late, tmp_path / "answers.csv")
    edit_csv(answers, {("20094", item): {"answer_date": "2025-04-20"} for item in late["item"]})
    out = tmp_path / "reviewed"
    assert main(["review", "import", str(answers), "--extract", str(demo_extract_dir()), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "after the extract's cut-off 2025-03-31" in printed and "--as-of 2025-03-31" in printed
    audit = pd.read_csv(out / AUDIT_FILE, dtype=str, keep_default_na=False)
    assert audit["warning"].str.contains("dated after the extract's cut-off 2025-03-31").all()


# The first screen's cut-off, before the planned registration R 2024-08-05 of 20067 and 01068 (scans of 2024-06-17).
FIRST_CUTOFF = "2024-06-30"
# An answer dated on the cut-off, the day after it, on R, the day after R.
BOUNDARIES = {
    ("20067", "lat_amenable"): "2024-06-30",
    ("20067", "informed_consent"): "2024-07-01",
    ("01068", "lat_amenable"): "2024-08-05",
    ("01068", "informed_consent"): "2024-08-06",
}


@pytest.fixture(scope="module")
def early(tmp_path_factory):
    """The demo screened at 2024-06-30, before R of some events, and exported: (screen folder, export folder)."""
    base = tmp_path_factory.mktemp("early")
    screen(demo_extract_dir(), as_of=FIRST_CUTOFF).write(base / "screen")
    export_review(base / "screen", base / "review")
    return base / "screen", base / "review"


def answered_at_boundaries(review: Path, folder: Path) -> Path:
    """A copy of the export folder whose review.csv answers `yes` to the BOUNDARIES rows, as dated there."""
    shutil.copytree(review, folder)
    answers = folder / "review.csv"
    edits = {key: {"answer": "yes", "answer_date": day, "answered_by": NURSE} for key, day in BOUNDARIES.items()}
    assert len(edit_csv(answers, edits)) == len(BOUNDARIES)
    return answers


def test_an_answer_after_the_first_screens_cutoff_is_warned_and_the_cutoff_that_reads_it_named(early, tmp_path, capsys):
    _, review = early
    answers = answered_at_boundaries(review, tmp_path / "review")  # beside the export's review_export.json
    out = tmp_path / "reviewed"
    assert main(["review", "import", str(answers), "--extract", str(demo_extract_dir()), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    audit = pd.read_csv(out / AUDIT_FILE, dtype=str, keep_default_na=False).set_index(["patient_id", "item"])
    warning = audit["warning"]
    assert warning[("20067", "lat_amenable")] == ""  # on the cut-off: read
    assert warning[("20067", "informed_consent")] == (
        "dated after the screen's cut-off 2024-06-30: a screen with --as-of 2024-06-30 does not read it, "
        "one with --as-of 2024-07-01 or later does"
    )
    assert "one with --as-of 2024-08-05 or later does" in warning[("01068", "lat_amenable")]  # on R
    after_r = warning[("01068", "informed_consent")]
    assert after_r.startswith("dated after the planned registration R 2024-08-05: not read for this event")
    assert "--as-of 2024-08-06" not in after_r  # no cut-off makes it count for this event
    assert "2 answers are dated after the screen's cut-off 2024-06-30" in printed
    assert "a screen with --as-of 2024-08-05 or later reads them" in printed
    assert "--out SCREEN_AFTER_REVIEW --as-of 2024-06-30" in printed

    def outcomes(as_of: str) -> dict[tuple[str, str], str]:
        patients = screen(out, as_of=as_of).patients.set_index("patient_id")
        return {key: patients.loc[key[0], BY_CODE[key[1]].criterion] for key in BOUNDARIES}

    assert outcomes(FIRST_CUTOFF) == {
        ("20067", "lat_amenable"): "pass",
        ("20067", "informed_consent"): "review",
        ("01068", "lat_amenable"): "review",
        ("01068", "informed_consent"): "review",
    }
    assert outcomes("2024-08-05") == {
        ("20067", "lat_amenable"): "pass",
        ("20067", "informed_consent"): "pass",
        ("01068", "lat_amenable"): "pass",
        ("01068", "informed_consent"): "review",
    }


def test_the_cutoff_given_with_as_of_is_the_one_the_answer_dates_are_checked_against(early, tmp_path, capsys):
    _, review = early
    answers = answered_at_boundaries(review, tmp_path / "review")
    result = import_answers([answers], demo_extract_dir(), tmp_path / "reviewed", today=TODAY, as_of="2024-08-05")
    warnings = result.records.audit.set_index(["patient_id", "item"])["warning"].fillna("")
    assert [key for key, text in warnings.items() if text] == [("01068", "informed_consent")]
    assert warnings[("01068", "informed_consent")] == (
        "dated after the planned registration R 2024-08-05: not read for this event; "
        "dated after the cut-off 2024-08-05 too"
    )
    out = tmp_path / "reviewed-cli"
    command = ["review", "import", str(answers), "--extract", str(demo_extract_dir()), "--out", str(out)]
    assert main([*command, "--as-of", "2024-07-01"]) == 0
    printed = capsys.readouterr().out
    later = "1 answer is dated after the cut-off 2024-07-01: a screen with --as-of 2024-07-01 does not read it"
    assert later in printed
    assert "--out SCREEN_AFTER_REVIEW --as-of 2024-07-01" in printed


def test_answer_files_exported_at_different_cutoffs_are_refused_unless_as_of_says_which(demo, early, tmp_path):
    _, later, _ = demo  # exported at the extract's cut-off 2025-03-31
    first = answered_at_boundaries(early[1], tmp_path / "early")
    shutil.copytree(later, tmp_path / "later")
    second = tmp_path / "later" / "review.csv"
    edit_csv(second, {("00217", "who_ps"): {"answer": "1", "answer_date": "2024-04-22", "answered_by": NURSE}})
    with pytest.raises(AnswerFileError) as raised:
        import_answers([first, second], demo_extract_dir(), tmp_path / "reviewed", today=TODAY)
    messages = [(p.file, p.message) for p in raised.value.problems]
    assert [file for file, _ in messages] == [str(first), str(second)]
    assert "exported at the cut-off 2024-06-30" in messages[0][1] and "2025-03-31" in messages[0][1]
    assert "give the cut-off to screen at with --as-of" in messages[0][1]
    assert not (tmp_path / "reviewed").exists()
    import_answers([first, second], demo_extract_dir(), tmp_path / "reviewed", today=TODAY, as_of=FIRST_CUTOFF)


def test_an_extract_without_observations_gets_the_table(tmp_path):
    extract = tmp_path / "extract"
    shutil.copytree(demo_extract_dir(), extract)
    (extract / "observations.csv").unlink()
    screen(extract).write(tmp_path / "screen")
    rows = export_review(tmp_path / "screen", tmp_path / "review").rows
    rows = rows[rows["patient_id"] == "00107"]
    assert {"pregnant", "breastfeeding", "medical_risk"} <= set(rows["item"])
    answers = filled_csv(rows, tmp_path / "answers.csv")
    import_answers([answers], extract, tmp_path / "reviewed", today=TODAY)
    observations = pd.read_csv(tmp_path / "reviewed" / "observations.csv", dtype=str, keep_default_na=False)
    assert list(observations.columns) == ["patient_id", "code", "start_date", "end_date", "value"]
    assert set(observations["code"]) == set(rows["item"]) - {"who_ps", "response"}
    after = screen(tmp_path / "reviewed", as_of="2025-03-31").patients.set_index("patient_id").loc["00107"]
    assert after["status"] == "eligible" and after["exc_pregnancy"] == "pass"


def as_parquet(source: Path, target: Path) -> Path:
    """The CSV extract as typed Parquet files (DuckDB's reading of each CSV)."""
    target.mkdir()
    con = duckdb.connect()
    for file in sorted(source.glob("*.csv")):
        con.execute(
            f"COPY (SELECT * FROM read_csv('{file}', header=true, types={{'patient_id': 'VARCHAR'}})) "
            f"TO '{target / (file.stem + '.parquet')}' (FORMAT parquet)"
        )
    return target


@pytest.mark.parametrize("kind", ["parquet", "duckdb"])
def test_parquet_and_duckdb_extracts_give_a_typed_reviewed_extract(demo, tmp_path, kind):
    _, _, rows = demo
    extract = as_parquet(demo_extract_dir(), tmp_path / "parquet")
    if kind == "duckdb":
        (tmp_path / "db").mkdir()
        database = tmp_path / "db" / "registry.duckdb"
        con = duckdb.connect(str(database))
        for file in sorted(extract.glob("*.parquet")):
            con.execute(f"CREATE TABLE {file.stem} AS SELECT * FROM read_parquet('{file}')")
        con.close()
        extract = database
    before = checksums(extract.parent if kind == "duckdb" else extract)
    screen(extract).write(tmp_path / "screen")
    rows = export_review(tmp_path / "screen", tmp_path / "review").rows
    answers = filled_csv(rows, tmp_path / "answers.csv", overrides={("00217", "medical_risk"): "yes"})
    import_answers([answers], extract, tmp_path / "reviewed", today=TODAY)
    assert checksums(extract.parent if kind == "duckdb" else extract) == before
    out = tmp_path / "reviewed"
    assert {p.suffix for p in out.iterdir() if p.name != MARKER} == {".parquet", ".csv"}  # the tables, the audit
    observations = pq.read_table(out / "observations.parquet")
    assert str(observations.schema.field("start_date").type) == "date32[day]"
    assert str(observations.schema.field("value").type) == "bool"
    added = observations.to_pandas()
    assert ((added["patient_id"] == "00217") & (added["code"] == "medical_risk") & added["value"]).sum() == 1
    after = screen(out, as_of="2025-03-31").patients.set_index("patient_id")
    assert after.loc["00217", "status"] == "ineligible" and after.loc["00217", "exc_medical_risk"] == "fail"


def test_the_reviewed_extract_must_be_a_new_folder_outside_the_extract(demo, tmp_path):
    _, _, rows = demo
    extract = tmp_path / "extract"
    shutil.copytree(demo_extract_dir(), extract)
    before = checksums(extract)
    answers = filled_csv(rows, tmp_path / "answers.csv")
    for out in (extract, extract / "reviewed"):
        with pytest.raises(UsageError, match="apart from the inputs"):
            import_answers([answers], extract, out, today=TODAY)
    assert checksums(extract) == before and not (extract / "reviewed").exists()
    with pytest.raises(UsageError, match="earlier `reviewed-extract` output"):
        import_answers([answers], extract, _occupied(tmp_path), today=TODAY)


def _occupied(tmp_path: Path) -> Path:
    folder = tmp_path / "occupied"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    return folder


def test_a_second_round_keeps_the_audit_of_the_first(demo, tmp_path):
    _, _, rows = demo
    first = filled_csv(rows[rows["site_id"] == "AVL"], tmp_path / "avl.csv")
    import_answers([first], demo_extract_dir(), tmp_path / "round-1", today=TODAY)
    second = filled_csv(rows[rows["site_id"] == "UMCU"], tmp_path / "umcu.csv")
    import_answers([second], tmp_path / "round-1", tmp_path / "round-2", today=TODAY)
    audit = pd.read_csv(tmp_path / "round-2" / AUDIT_FILE, dtype=str, keep_default_na=False)
    assert audit["file"].tolist() == [str(first)] * int((rows["site_id"] == "AVL").sum()) + [str(second)] * int(
        (rows["site_id"] == "UMCU").sum()
    )
    observations = pd.read_csv(tmp_path / "round-2" / "observations.csv", dtype=str)
    assert {"00217", "01011"} <= set(observations["patient_id"])


def test_a_sheet_of_the_nurses_own_is_skipped_and_a_renamed_header_is_named(demo, tmp_path):
    _, review, rows = demo
    workbook = tmp_path / "answers.xlsx"
    shutil.copy(review / "review.xlsx", workbook)
    book = load_workbook(workbook)
    notes = book.create_sheet("notes")
    notes["A1"], notes["A2"] = "to call back", "00217"
    book.save(workbook)
    result = import_answers([workbook], demo_extract_dir(), tmp_path / "reviewed", today=TODAY)
    assert len(result.records.audit) == len(rows) and set(result.records.audit["action"]) == {"not answered"}
    book["AVL"]["L1"] = "reviewer"
    book.save(workbook)
    with pytest.raises(AnswerFileError) as raised:
        import_answers([workbook], demo_extract_dir(), tmp_path / "reviewed-2", today=TODAY)
    problems = [(p.sheet, p.column, p.message) for p in raised.value.problems]
    assert problems == [("AVL", "answered_by", "required column missing from the header row")]
