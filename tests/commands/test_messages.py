"""What the command line says: findings by kind with meaningful severities, "did you mean", grouped summaries.

- Every kind of finding the package produces is recognised, with the severity of FINDING_KINDS (docs/decisions.md
  D52), in findings.csv and `--problems FILE`; fatal problems stay fatal.
- A drug name close to the vocabulary gets "did you mean …" in its finding and in the summary.
- `validate`, `screen` and a fatal stop summarise problems grouped by kind with counts, a few rows each and
  "… and N more (see FILE)"; the file holds every one.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from oligo_cohort.cli import main
from oligo_cohort.problems import FINDING_KINDS, Problem, classified, kind_of
from oligo_cohort.problems.suggestions import suggest_drug
from oligo_cohort.problems.summary import counts_by_severity, grouped, summary_lines
from tests.loading.test_bad_input import VALID, write_extract


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- every kind of finding, from one extract --------------------------------------------------------------------


def every_kind_of_finding(folder: Path) -> Path:
    """The small valid extract broken in every way that is a finding, not fatal (README "Input problems")."""
    tables = dict(VALID)
    tables["patients"] = "patient_id,site_id,sex,death_date\n007,Sint-Jos\xe9,F,\nP2,UMCU,F,9999-12-31\nP3,AVL,F,\n"
    tables["tumours"] = (
        VALID["tumours"] + "T3,P3,2019-01-01,C50.1,8500,3,histology_primary,M0,,palliative,false,false,\n"
    ).replace(",", "\t")
    tables["systemic_therapy"] = (
        VALID["systemic_therapy"].replace("007,letrozole", "007,Letrozol") + "P3,anastrazole,2019-02-01,,unknown\n"
    )
    tables["imaging"] = VALID["imaging"].replace("modality\n", "modality,radiologist\n").replace("CT\n", "CT,\n")
    tables["lesions"] = VALID["lesions"].replace("liver,19,", "liver,4000,").replace(",", ";")
    tables["performance_status"] = "patient_id,assessment_date,scale,score\n"
    write_extract(folder, {k: v for k, v in tables.items() if k != "patients"})
    (folder / "patients.csv").write_bytes(tables["patients"].encode("latin-1"))
    (folder / "radiology_notes.csv").write_text("patient_id,note\n007,seen\n", encoding="utf-8")
    return folder


# (table, column, part of the message, severity): one per kind of finding.
EXPECTED = [
    ("systemic_therapy", "drug", "did you mean letrozole?", "warning"),
    ("systemic_therapy", "drug", "did you mean anastrozole?", "warning"),
    ("lesions", "size_mm", "implausibly large (above 300): read as missing", "warning"),
    ("patients", "death_date", "implausible date", "warning"),
    ("patients", "birth_date", "optional column is absent", "warning"),
    ("performance_status", "", "the table has no records", "warning"),
    ("systemic_therapy", "setting", "not counted as metastatic treatment", "warning"),
    ("imaging", "", "dated after the cut-off 2021-01-01: ignored with its lesions", "information"),
    ("systemic_therapy", "end_date", "after the cut-off 2021-01-01: read as missing", "information"),
    ("patients", "", "not UTF-8", "information"),
    ("tumours", "", "as the delimiter", "information"),
    ("lesions", "", "as the delimiter", "information"),
    ("radiology_notes", "", "not a table of the model; ignored", "information"),
    ("imaging", "radiologist", "column is not in the data dictionary; ignored", "information"),
]


@pytest.fixture(scope="module")
def screened_every_kind(tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("every-kind")
    extract = every_kind_of_finding(folder / "extract")
    out = folder / "out"
    assert main(["screen", str(extract), "--out", str(out), "--as-of", "2021-01-01", "--quiet"]) == 0
    return out, str(folder)


def test_every_kind_of_finding_has_its_severity_in_findings_csv(screened_every_kind, capsys):
    out, _ = screened_every_kind
    rows = read_rows(out / "findings.csv")
    for table, column, message, severity in EXPECTED:
        found = [r for r in rows if r["table"] == table and r["column"] == column and message in r["message"]]
        assert found, f"no finding {table}.{column}: {message!r} in {[r['message'] for r in rows]}"
        assert {r["severity"] for r in found} == {severity}, (table, column, message)
    assert {r["severity"] for r in rows} <= {"warning", "information"}
    kinds = {kind_of(r["message"]).name for r in rows}
    assert kinds == set(FINDING_KINDS), f"kinds not produced: {set(FINDING_KINDS) - kinds}"


def test_the_severity_of_each_kind_is_set_once_and_means_what_d52_says():
    warnings = {name for name, kind in FINDING_KINDS.items() if kind.severity == "warning"}
    information = {name for name, kind in FINDING_KINDS.items() if kind.severity == "information"}
    assert warnings | information == set(FINDING_KINDS)
    # Results may be affected: a value or record left out, a class unknown, a table or column absent.
    assert warnings == {
        "unknown_drug",
        "implausible_value",
        "implausible_date",
        "optional_column_absent",
        "empty_table",
        "uninferable_setting",
    }
    # An unknown message is a warning, the safe side; a fatal problem stays fatal.
    assert classified([Problem("finding", "t", None, None, None, None, "something new")])[0].severity == "warning"
    fatal = Problem("fatal", "lesions", "size_mm", 2, None, "-1", "impossible value: below 0")
    assert classified([fatal]) == [fatal] and classified([fatal])[0].severity == "fatal"


def test_classifying_twice_changes_nothing():
    problems = [
        Problem("finding", "systemic_therapy", "drug", 3, None, "palbociclb", "drug is not in the vocabulary: x"),
        Problem("finding", "imaging", None, 4, "study_id=S1", None, "dated after the cut-off 2020-01-01: ignored"),
    ]
    once = classified(problems)
    assert classified(once) == once
    assert [p.message.count("did you mean") for p in classified(once)] == [1, 0]


# --- did you mean -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("palbociclb", "palbociclib"),
        ("anastrazole", "anastrozole"),
        ("letrozol", "letrozole"),
        ("Letrozol ", "letrozole"),
        ("capecitabin", "capecitabine"),
        ("fulvestrant 500 mg", "fulvestrant"),
        ("paclitaxel weekly", "paclitaxel"),
        ("herceptn", "herceptin (trastuzumab)"),
        ("study medication", None),
        ("XL-123", None),
        ("", None),
    ],
)
def test_a_drug_name_close_to_the_vocabulary_gets_its_closest_name(written, meant):
    assert suggest_drug(written) == meant


def test_a_vocabulary_name_is_never_suggested_for_itself():
    from oligo_cohort.dictionary import drug_aliases, drugs

    for name in [d.drug for d in drugs()] + list(drug_aliases()):
        assert suggest_drug(name) is None, name


# --- grouped summaries --------------------------------------------------------------------------------------------


def test_a_more_rows_line_counts_in_the_group_of_the_rows_before_it():
    rows = [
        Problem("finding", "lesions", "size_mm", r, None, "999", "implausibly large (above 300): x") for r in (1, 2)
    ]
    more = Problem(
        "finding", "lesions", "size_mm", None, None, None, "... and 8 more rows with the same problem (10 in all)"
    )
    other = Problem("finding", "imaging", None, 3, None, None, "dated after the cut-off 2020-01-01: ignored")
    groups = grouped([*rows, more, other])
    assert [(g.where, g.kind, g.count, g.severity) for g in groups] == [
        ("lesions.size_mm", "implausible_value", 10, "warning"),
        ("imaging", "after_cutoff_record", 1, "information"),
    ]
    assert counts_by_severity([*rows, more, other]) == {"warning": 10, "information": 1}
    lines = summary_lines([*rows, more, other], see="findings.csv")
    assert "… and 8 more (see findings.csv)" in lines[3]


def test_a_summary_of_many_kinds_counts_the_groups_it_does_not_show():
    problems = [Problem("fatal", f"t{i:02d}", "c", 1, None, "x", "required value is missing") for i in range(30)]
    lines = summary_lines(problems, see="problems.csv", max_groups=5)
    assert lines[-1] == "  … and 25 more kinds (25 problems; see problems.csv)"
    assert len(lines) == 5 * 2 + 1  # a header and one row per group shown


def test_validate_summarises_a_realistic_extract_by_kind_with_every_problem_in_the_file(tmp_path, capsys):
    """A synthetic registry with its imperfections: hundreds of findings in a few lines, each name once."""
    extract = tmp_path / "synthetic"
    assert main(["synth", "--patients", "3000", "--sites", "4", "--format", "csv", "--out", str(extract), "-q"]) == 0
    capsys.readouterr()
    problems_file = tmp_path / "problems.csv"
    assert main(["validate", str(extract), "--problems", str(problems_file)]) == 0
    printed = capsys.readouterr().out
    rows = read_rows(problems_file)
    drugs = [r for r in rows if r["column"] == "drug"]
    assert len(drugs) > 30 and {r["severity"] for r in rows} <= {"warning", "information"}
    # One line per distinct misspelling with its count, and the name meant.
    for name in sorted({r["value"] for r in drugs}):
        count = sum(r["value"] == name for r in drugs)
        line = next((line for line in printed.splitlines() if line.strip().startswith(repr(name))), None)
        assert line is not None, f"{name!r} not listed in:\n{printed}"
        assert f"{count:,} row" in line
        meant = suggest_drug(name)
        assert (f"did you mean {meant}?" in line) if meant else ("did you mean" not in line)
    assert "'palbociclb'" in printed and "did you mean palbociclib?" in printed
    # Counts per kind add up to the file; far fewer lines than problems.
    header = next(line for line in printed.splitlines() if " findings: " in line)
    assert header.startswith(f"{len(rows):,} findings: ") and str(problems_file) in header
    for severity in ("warning", "information"):
        n = sum(r["severity"] == severity for r in rows)
        assert (f"{n:,} {severity}" in header) == (n > 0)
    more = re.findall(r"… and ([0-9,]+) more \(see (.+)\)", printed)
    assert more and all(where == str(problems_file) for _, where in more)
    assert len(printed.splitlines()) < 60 < len(rows)


def test_a_fatal_stop_summarises_by_kind_and_the_problems_file_holds_every_one(tmp_path, capsys):
    tables = dict(VALID)
    tables["systemic_therapy"] = "patient_id,drug,start_date,end_date,setting\n" + "".join(
        f"007,letrozole,{day:02d}/01/2020,,metastatic\n" for day in range(1, 29)
    )
    extract = write_extract(tmp_path / "extract", tables)
    problems_file = tmp_path / "problems.csv"
    code = main(["screen", str(extract), "--out", str(tmp_path / "out"), "--problems", str(problems_file)])
    err = capsys.readouterr().err
    assert code == 2 and not (tmp_path / "out").exists()
    lines = err.splitlines()
    assert lines[0] == "oligo-cohort: the extract cannot be screened: 28 fatal problems"
    assert lines[1] == "  systemic_therapy.start_date: day-first or month-first date: write YYYY-MM-DD (28 rows)"
    assert lines[2].strip().startswith("systemic_therapy.start_date row 1 (") and "'01/01/2020'" in lines[2]
    assert f"… and 25 more (see {problems_file})" in err
    assert len(lines) < 10
    rows = read_rows(problems_file)
    assert len(rows) == 28 and {r["severity"] for r in rows} == {"fatal"}


def test_screen_summarises_its_findings_and_names_the_file(screened_every_kind, capsys, tmp_path):
    _, folder = screened_every_kind
    extract = Path(folder) / "extract"
    assert main(["screen", str(extract), "--out", str(tmp_path / "again"), "--as-of", "2021-01-01", "-q"]) == 0
    printed = capsys.readouterr().out
    rows = read_rows(tmp_path / "again" / "findings.csv")
    counts = pd.Series([r["severity"] for r in rows]).value_counts()
    assert f"{len(rows)} data-quality findings: {counts['warning']} warnings, {counts['information']} information" in (
        printed
    )
    assert "'Letrozol': 1 row, did you mean letrozole?" in printed
    assert "  information imaging: dated after the cut-off 2021-01-01: ignored with its lesions" in printed
