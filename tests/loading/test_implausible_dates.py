"""Implausible dates (criteria.md "Time"): a finding each, used nowhere, and never another patient's business.

A date later than the day of the run, or before 1900-01-01, is a typing error
or a placeholder (`9999-12-31`). It is reported as a finding naming table,
column, row, record id and value; it reads as missing, and a record whose own
date it is (a study, a tumour's diagnosis, a therapy's start...) is left out,
as a record after the cut-off is (docs/decisions.md D35). It never moves the
default cut-off: the property test injects generated typo dates into one
patient of the demo extract and checks that every other patient's rows in
patients.csv, events.csv and reasons.csv are byte-identical to the clean run.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.cli import main
from oligo_cohort.dictionary import tables
from oligo_cohort.errors import UsageError
from oligo_cohort.load import load_extract
from oligo_cohort.paths import demo_extract_dir
from tests.draws import costly_draws

DEMO = demo_extract_dir()
TODAY = dt.date.today()
OUTPUTS = ("patients", "events", "reasons")
DATE_COLUMNS = {t.name: [c.name for c in t.columns if c.type == "date"] for t in tables().values()}


def read_table(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (DEMO / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


DEMO_TABLES = {path.stem: read_table(path.stem) for path in sorted(DEMO.glob("*.csv"))}
# Every date cell of the demo extract, by patient: (table, row index, column).
CELLS: dict[str, list[tuple[str, int, str]]] = {}
for _name, (_columns, _rows) in DEMO_TABLES.items():
    for _i, _row in enumerate(_rows):
        for _column in DATE_COLUMNS[_name]:
            if _column in _columns:
                CELLS.setdefault(_row["patient_id"], []).append((_name, _i, _column))
PATIENTS = sorted(CELLS)


def write_demo(folder: Path, typos: dict[tuple[str, int, str], str]) -> Path:
    """The demo extract with some date cells replaced."""
    folder.mkdir(parents=True)
    for name, (columns, rows) in DEMO_TABLES.items():
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            for i, row in enumerate(rows):
                writer.writerow({c: typos.get((name, i, c), v) for c, v in row.items()})
    return folder


def screen(extract: Path, out: Path, *options: str) -> int:
    return main(["screen", str(extract), "--out", str(out), "--quiet", *options])


def rows_by_patient(file: Path) -> dict[str, list[str]]:
    """Each patient's lines of an output CSV, as written (quoting and all)."""
    lines = file.read_text(encoding="utf-8").splitlines()
    grouped: dict[str, list[str]] = {}
    for line in lines[1:]:
        patient = next(csv.reader(io.StringIO(line)))[0]
        grouped.setdefault(patient, []).append(line)
    return grouped


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clean")
    out = folder / "out"
    assert screen(write_demo(folder / "extract", {}), out) == 0
    return out


FUTURE = st.dates(min_value=TODAY + dt.timedelta(days=1), max_value=dt.date(9999, 12, 31))
PAST = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(1899, 12, 31))
IMPLAUSIBLE = st.one_of(
    st.sampled_from([dt.date(9999, 12, 31), dt.date(1899, 12, 31), TODAY + dt.timedelta(days=1), dt.date(1, 1, 1)]),
    FUTURE,
    PAST,
)


@st.composite
def typos_of_one_patient(draw) -> tuple[str, dict[tuple[str, int, str], str]]:
    patient = draw(st.sampled_from(PATIENTS))
    cells = draw(st.lists(st.sampled_from(CELLS[patient]), min_size=1, max_size=3, unique=True))
    return patient, {cell: draw(IMPLAUSIBLE).isoformat() for cell in cells}


@settings(
    max_examples=costly_draws(6),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(typos_of_one_patient())
def test_one_patients_typo_dates_leave_every_other_patient_byte_identical(clean_run, case):
    patient, typos = case
    folder = Path(tempfile.mkdtemp(prefix="oligo-typo-"))
    try:
        out = folder / "out"
        assert screen(write_demo(folder / "extract", typos), out) == 0
        for name in OUTPUTS:
            clean = rows_by_patient(clean_run / f"{name}.csv")
            typoed = rows_by_patient(out / f"{name}.csv")
            clean.pop(patient, None)
            typoed.pop(patient, None)
            assert typoed == clean, f"{name}.csv: another patient's rows changed"
        as_of = json.loads((clean_run / "manifest.json").read_text())["as_of"]
        assert json.loads((out / "manifest.json").read_text())["as_of"] == as_of, "the default cut-off moved"
        findings = pd.read_csv(out / "findings.csv", dtype=str, keep_default_na=False)
        for (table, row, column), value in typos.items():
            named = findings[
                (findings["table"] == table)
                & (findings["column"] == column)
                & (findings["row"] == str(row + 1))
                & (findings["value"] == value)
            ]
            assert named["message"].str.startswith("implausible date (").any(), (table, row, column, value)
            assert (named["record_id"] != "").all()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- How each kind of date reads ---------------------------------------------------------------------------------


def demo_with(tmp_path: Path, **typos: tuple[str, int, str, str]) -> Path:
    return write_demo(tmp_path / "extract", {(t, r, c): v for t, r, c, v in typos.values()})


def finding(loaded, table: str, column: str, value: str) -> str:
    found = [f for f in loaded.findings if (f.table, f.column, f.value) == (table, column, value)]
    assert len(found) == 1, [f.describe() for f in loaded.findings]
    assert found[0].severity == "finding" and found[0].record_id and found[0].row
    return found[0].message


def test_a_placeholder_death_date_reads_as_missing(tmp_path):
    loaded = load_extract(demo_with(tmp_path, death=("patients", 0, "death_date", "9999-12-31")))
    message = finding(loaded, "patients", "death_date", "9999-12-31")
    assert message == f"implausible date (later than the day of the run, {TODAY}): read as missing"
    assert loaded.con.execute("SELECT death_date FROM patients WHERE _row = 1").fetchall() == [(None,)]
    assert loaded.as_of == dt.date(2025, 3, 31), "the default cut-off is the clean extract's"


def test_a_study_dated_before_1900_is_ignored_with_its_lesions(tmp_path):
    _, imaging = DEMO_TABLES["imaging"]
    study = imaging[0]["study_id"]
    loaded = load_extract(demo_with(tmp_path, scan=("imaging", 0, "study_date", "1023-01-12")))
    message = finding(loaded, "imaging", "study_date", "1023-01-12")
    assert message == "implausible date (before 1900-01-01): the study is ignored with its lesions"
    assert loaded.con.execute("SELECT count(*) FROM imaging WHERE study_id = ?", [study]).fetchall() == [(0,)]
    assert loaded.con.execute("SELECT count(*) FROM lesions WHERE study_id = ?", [study]).fetchall() == [(0,)]
    # Named once, as implausible: not also as "dated after the cut-off".
    assert not [f for f in loaded.findings if f.table == "imaging" and "cut-off" in f.message]


@pytest.mark.parametrize(
    ("table", "column"),
    [(t, c) for t, columns in DATE_COLUMNS.items() for c in columns if t in DEMO_TABLES],
)
def test_every_date_column_names_its_implausible_dates(tmp_path, table, column):
    """Each date column of the model, in the future and before 1900: a finding, and the date is used nowhere."""
    required = tables()[table].column(column).required
    future, past = (TODAY + dt.timedelta(days=400)).isoformat(), "1899-12-31"
    loaded = load_extract(demo_with(tmp_path, a=(table, 0, column, future), b=(table, 1, column, past)))
    for value, why in ((future, f"later than the day of the run, {TODAY}"), (past, "before 1900-01-01")):
        message = finding(loaded, table, column, value)
        assert message.startswith(f"implausible date ({why}): ")
        assert message.endswith(("ignored", "ignored with its lesions") if required else "read as missing")
    kept = loaded.con.execute(f"SELECT _row, {column} FROM {table} WHERE _row IN (1, 2)").fetchall()
    if required:
        assert kept == [], "a record whose own date is implausible is left out"
    else:
        assert sorted(kept) == [(1, None), (2, None)]
    assert loaded.as_of == dt.date(2025, 3, 31)


def test_a_birth_date_after_the_run_is_missing_not_a_reason_to_refuse_the_patients_records(tmp_path):
    """Read as missing, the birth date no longer makes every event of the patient 'dated before birth' (fatal)."""
    born = (TODAY + dt.timedelta(days=3)).isoformat()
    loaded = load_extract(demo_with(tmp_path, birth=("patients", 0, "birth_date", born)))
    assert finding(loaded, "patients", "birth_date", born).endswith("read as missing")
    assert loaded.con.execute("SELECT birth_date FROM patients WHERE _row = 1").fetchall() == [(None,)]


def test_an_end_date_before_1900_is_not_an_end_before_the_start(tmp_path):
    """The implausible date is the finding; the rule 'end before start' (fatal) applies to plausible dates."""
    _, therapy = DEMO_TABLES["systemic_therapy"]
    row = next(i for i, r in enumerate(therapy) if r["end_date"])
    loaded = load_extract(demo_with(tmp_path, end=("systemic_therapy", row, "end_date", "0202-01-01")))
    assert finding(loaded, "systemic_therapy", "end_date", "0202-01-01").endswith("read as missing")


def test_dates_on_the_bounds_are_plausible(tmp_path):
    loaded = load_extract(demo_with(tmp_path, birth=("patients", 0, "birth_date", "1900-01-01")))
    assert not [f for f in loaded.findings if f.column == "birth_date"]
    assert loaded.con.execute("SELECT birth_date FROM patients WHERE _row = 1").fetchall() == [(dt.date(1900, 1, 1),)]


def test_a_date_of_today_is_plausible_and_becomes_the_default_cut_off(tmp_path):
    loaded = load_extract(demo_with(tmp_path, scan=("imaging", 0, "study_date", TODAY.isoformat())))
    assert not [f for f in loaded.findings if f.message.startswith("implausible")]
    assert loaded.as_of == TODAY


# --- An explicit cut-off ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ((TODAY + dt.timedelta(days=1)).isoformat(), "is later than today"),
        ("9999-12-31", "is later than today"),
        ("1899-12-31", "is before 1900-01-01"),
        ("2024-02-30", "no such day in the calendar"),
        ("20240630", "is not a date in YYYY-MM-DD form"),
    ],
)
def test_an_implausible_as_of_is_refused_before_anything_is_read(tmp_path, capsys, as_of, message):
    code = screen(DEMO, tmp_path / "out", "--as-of", as_of)
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert "error: --as-of " in err  # named as typed on the command line
    assert not (tmp_path / "out").exists()
    with pytest.raises(UsageError, match=message) as caught:
        load_extract(DEMO, as_of=as_of)
    assert str(caught.value).startswith("as_of ")  # named as given in Python, not as a command-line option


def test_as_of_today_is_accepted(tmp_path):
    assert load_extract(DEMO, as_of=TODAY).as_of == TODAY
    assert load_extract(DEMO, as_of=TODAY.isoformat()).as_of == TODAY
