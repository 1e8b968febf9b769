"""Bad input: every fatal problem is named (table, column, row or id, value), exit code 2, no output written.

Each test starts from a small valid extract and breaks one thing, the way
hand-assembled registry extracts break.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from oligo_cohort.cli import main
from oligo_cohort.errors import InputError
from oligo_cohort.load import load_extract

VALID = {
    "patients": """patient_id,site_id,birth_date,sex,death_date
007,AVL,1960-05-01,F,
P2,UMCU,1971-03-15,F,
""",
    "tumours": """tumour_id,patient_id,diagnosis_date,topography,morphology,behaviour,basis_of_diagnosis,tnm_m,metastasis_date,treatment_intent,chemotherapy,radiotherapy,last_treatment_date
T1,007,2020-01-01,C50.4,8500,3,histology_primary,M1,2020-01-01,palliative,false,false,
T2,P2,2019-06-01,C50.2,8520,3,histology_primary,M0,2021-02-01,curative,true,true,2019-12-01
""",
    "systemic_therapy": """patient_id,drug,start_date,end_date,setting
007,letrozole,2020-01-10,,metastatic
007,palbociclib,2020-01-10,,metastatic
P2,tamoxifen,2019-12-15,2021-01-15,adjuvant
""",
    "imaging": """study_id,patient_id,study_date,modality
S1,007,2020-01-05,CT
S2,007,2021-03-01,CT
""",
    "lesions": """study_id,patient_id,lesion_id,location,organ,size_mm,suv_max
S1,007,L1,distant,liver,10,
S2,007,L1,distant,liver,19,
""",
}


def write_extract(folder: Path, tables: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def broken(tmp_path: Path, table: str, old: str, new: str) -> Path:
    tables = dict(VALID)
    assert old in tables[table], f"test set-up: {old!r} not in {table}"
    tables[table] = tables[table].replace(old, new, 1)
    return write_extract(tmp_path / "extract", tables)


def fatal_problems(extract: Path) -> list:
    with pytest.raises(InputError) as caught:
        load_extract(extract)
    return caught.value.problems


def test_valid_extract_loads_without_fatal_problems(tmp_path):
    loaded = load_extract(write_extract(tmp_path / "extract", VALID))
    assert loaded.as_of.isoformat() == "2021-03-01"
    assert loaded.con.execute("SELECT count(*) FROM lesions").fetchall()[0][0] == 2
    # Codes and ids normalised as the contract says; leading zeros kept.
    assert loaded.con.execute("SELECT patient_id FROM patients ORDER BY 1").fetchall() == [("007",), ("P2",)]


@pytest.mark.parametrize(
    ("table", "old", "new", "column", "value", "message"),
    [
        ("patients", "1960-05-01", "1960-02-30", "birth_date", "1960-02-30", "not a calendar date"),
        ("patients", "1960-05-01", "31/12/1960", "birth_date", "31/12/1960", "YYYY-MM-DD"),
        ("patients", "1960-05-01", "22100", "birth_date", "22100", "Excel serial"),
        ("patients", "P2,UMCU", "007,UMCU", "patient_id", "007", "duplicate"),
        ("patients", "007,AVL,1960-05-01,F", "007,AVL,1960-05-01,X", "sex", "X", "not an allowed code"),
        ("tumours", "T2,P2,", "T2,P9,", "patient_id", "P9", "not in the patients table"),
        ("tumours", "C50.2,8520,3", "C50.2,8520,5", "behaviour", "5", "not an allowed code"),
        ("tumours", "C50.4", "breast", "topography", "breast", "pattern"),
        ("tumours", "T2,P2,2019-06-01", "T1,P2,2019-06-01", "tumour_id", "T1", "duplicate"),
        ("systemic_therapy", "2021-01-15", "2019-01-15", "end_date", "2019-01-15", "before the start date"),
        ("systemic_therapy", "P2,tamoxifen,2019-12-15", "P2,tamoxifen,", "start_date", None, "required value"),
        ("imaging", "S2,007,2021-03-01,CT", "S2,007,2021-03-01,PET", "modality", "PET", "not an allowed code"),
        ("lesions", "S2,007,L1,distant,liver,19", "S2,007,L1,distant,liver,-19", "size_mm", "-19", "below 0"),
        (
            "lesions",
            "S2,007,L1,distant,liver,19",
            "S2,P2,L1,distant,liver,19",
            "patient_id",
            "P2",
            "belongs to patient 007",
        ),
        ("lesions", "S2,007,L1,distant,liver,19", "S9,007,L1,distant,liver,19", "study_id", "S9", "not in the imaging"),
        ("lesions", "S2,007,L1,distant,liver,19", "S1,007,L1,distant,liver,19", "study_id", "S1 / L1", "duplicate"),
        ("lesions", "liver,19,", "liver,nineteen,", "size_mm", "nineteen", "not a number"),
        ("tumours", "palliative,false", "palliative,maybe", "chemotherapy", "maybe", "not a boolean"),
        ("imaging", "S1,007,2020-01-05", "S1,007,1950-01-05", "study_date", "1950-01-05", "before the patient's birth"),
        ("patients", "P2,UMCU,1971-03-15,F,", "P2,UMCU,1971-03-15,F,1970-01-01", "death_date", "1970-01-01", "birth"),
    ],
)
def test_each_fatal_problem_names_table_column_row_and_value(tmp_path, table, old, new, column, value, message):
    problems = fatal_problems(broken(tmp_path, table, old, new))
    matching = [p for p in problems if p.table == table and p.column == column and message in p.message]
    assert matching, f"no problem for {table}.{column} with {message!r} in: {[p.describe() for p in problems]}"
    problem = matching[0]
    assert problem.value == value
    assert problem.row is not None and problem.record_id


def test_missing_required_table_and_column_are_fatal(tmp_path):
    tables = dict(VALID)
    del tables["lesions"]
    tables["imaging"] = tables["imaging"].replace(
        "study_id,patient_id,study_date,modality", "study_id,patient_id,study_date,kind"
    )
    problems = fatal_problems(write_extract(tmp_path / "extract", tables))
    described = [p.describe() for p in problems]
    assert any(p.table == "lesions" and "required table is missing" in p.message for p in problems), described
    assert any(p.table == "imaging" and p.column == "modality" and "required column" in p.message for p in problems)


def test_every_problem_is_reported_at_once(tmp_path):
    tables = dict(VALID)
    tables["patients"] = tables["patients"].replace("1960-05-01", "1960-13-01").replace("1971-03-15", "15-03-1971")
    tables["lesions"] = tables["lesions"].replace(",19,", ",-1,")
    problems = fatal_problems(write_extract(tmp_path / "extract", tables))
    assert {(p.table, p.column, p.row) for p in problems} >= {
        ("patients", "birth_date", 1),
        ("patients", "birth_date", 2),
        ("lesions", "size_mm", 2),
    }


def test_unknown_drug_and_extra_column_are_findings_not_fatal(tmp_path):
    tables = dict(VALID)
    tables["systemic_therapy"] += "007,XL-trial-drug,2021-02-01,,metastatic\n"
    tables["imaging"] = tables["imaging"].replace("modality\n", "modality,radiologist\n").replace(",CT\n", ",CT,dr x\n")
    loaded = load_extract(write_extract(tmp_path / "extract", tables))
    messages = [(f.table, f.column, f.value, f.message) for f in loaded.findings]
    assert any(
        t == "systemic_therapy" and v == "XL-trial-drug" and "not in the vocabulary" in m for t, _, v, m in messages
    )
    assert any(t == "imaging" and c == "radiologist" and "ignored" in m for t, c, _, m in messages)


def test_implausible_size_reads_as_missing_with_a_finding(tmp_path):
    loaded = load_extract(broken(tmp_path, "lesions", "liver,19,", "liver,4000,"))
    assert loaded.con.execute("SELECT size_mm FROM lesions WHERE study_id = 'S2'").fetchall() == [(None,)]
    finding = next(f for f in loaded.findings if f.column == "size_mm")
    assert (finding.table, finding.row, finding.value) == ("lesions", 2, "4000")
    assert "read as missing" in finding.message


def test_records_after_the_cut_off_are_ignored_and_reported(tmp_path):
    loaded = load_extract(write_extract(tmp_path / "extract", VALID), as_of="2021-01-01")
    assert loaded.con.execute("SELECT study_id FROM imaging").fetchall() == [("S1",)]
    # The adjuvant tamoxifen ended after the cut-off: it reads as ongoing.
    end = loaded.con.execute("SELECT end_date FROM systemic_therapy WHERE drug = 'tamoxifen'").fetchall()
    assert end == [(None,)]
    assert any(f.table == "imaging" and f.record_id == "study_id=S2" for f in loaded.findings)
    assert any(
        f.table == "systemic_therapy" and f.column == "end_date" and f.value == "2021-01-15" for f in loaded.findings
    )


def test_cli_exits_2_with_every_problem_and_writes_nothing(tmp_path, capsys):
    extract = broken(tmp_path, "lesions", "liver,19,", "liver,-19,")
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in extract.iterdir()}
    out = tmp_path / "out"
    code = main(["screen", str(extract), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "lesions.size_mm row 2" in err and "'-19'" in err and "Traceback" not in err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")], "a partial output folder was left"
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in extract.iterdir()}


def test_cli_bad_option_is_a_clear_error(tmp_path, capsys):
    code = main(
        ["screen", str(write_extract(tmp_path / "e", VALID)), "--out", str(tmp_path / "o"), "--as-of", "2021-02-30"]
    )
    assert code == 2
    assert "--as-of '2021-02-30' is not a date" in capsys.readouterr().err
