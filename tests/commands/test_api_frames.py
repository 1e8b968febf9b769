"""The Python API for pandas and polars users: frames in, typed frames out, a result that reads well in a notebook.

- `screen()` takes a dict of pandas DataFrames, polars DataFrames or Arrow tables (mixed too) and writes the same
  files, byte for byte, as the screen of the folder they were read from;
- id columns that arrive as numbers give a NumericIdWarning naming table and column;
- `result.patients` & co. are typed (dates, categoricals in order), `to_polars` likewise, while the CSV files stay
  as they were (the writer writes from DuckDB);
- `repr` and `_repr_html_` give counts by status, cut-off, protocol, engine and findings.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest

from oligo_cohort.api import STATUS_ORDER, ScreeningResult, screen
from oligo_cohort.criteria import CRITERION_IDS, OUTCOMES
from oligo_cohort.errors import UsageError
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.sources import NumericIdWarning

OUTPUTS = ("patients.csv", "events.csv", "reasons.csv", "findings.csv")


def demo_tables(read) -> dict[str, object]:
    return {path.stem: read(path) for path in sorted(demo_extract_dir().glob("*.csv"))}


def as_text_pandas(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def as_text_polars(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def as_text_arrow(path: Path) -> pa.Table:
    names = pa_csv.read_csv(path).column_names
    return pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())))


@pytest.fixture(scope="module")
def from_folder(tmp_path_factory) -> tuple[ScreeningResult, Path]:
    result = screen(demo_extract_dir())
    return result, result.write(tmp_path_factory.mktemp("folder") / "out")


def same_files(a: Path, b: Path) -> None:
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.parametrize(
    "read",
    [as_text_pandas, as_text_polars, as_text_arrow],
    ids=["pandas", "polars", "arrow"],
)
def test_frames_of_text_screen_as_the_folder_does(read, from_folder, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumericIdWarning)  # text ids: no warning
        result = screen(demo_tables(read))
    same_files(from_folder[1], result.write(tmp_path / "out"))


def test_a_mix_of_frame_kinds_screens_as_the_folder_does(from_folder, tmp_path):
    tables = demo_tables(as_text_pandas)
    tables["imaging"] = pl.from_pandas(tables["imaging"])
    tables["lesions"] = pa.Table.from_pandas(tables["lesions"], preserve_index=False)
    same_files(from_folder[1], screen(tables).write(tmp_path / "out"))


def test_typed_polars_and_arrow_columns_are_read_as_their_text(from_folder, tmp_path):
    """Dates as pl.Date, numbers as numbers, flags as booleans: the same screen as the text they stand for."""
    tables: dict[str, object] = {}
    for name, frame in demo_tables(as_text_polars).items():
        typed = frame
        for column in frame.columns:
            if column.endswith("_date"):
                typed = typed.with_columns(pl.col(column).str.to_date())
            elif column in ("size_mm", "suv_max"):
                typed = typed.with_columns(pl.col(column).cast(pl.Float64))
            elif column in ("score", "line_number"):
                typed = typed.with_columns(pl.col(column).cast(pl.Int64))
            elif column in ("chemotherapy", "radiotherapy", "value"):
                typed = typed.with_columns(pl.col(column).str.to_lowercase() == "true")
        tables[name] = typed.to_arrow() if name in ("lesions", "tumours") else typed
    same_files(from_folder[1], screen(tables).write(tmp_path / "out"))


def test_ids_read_as_numbers_give_a_warning_naming_table_and_column(tmp_path):
    tables = demo_tables(lambda path: pd.read_csv(path))  # the usual mistake: ids become integers
    with pytest.warns(NumericIdWarning) as caught:
        screen(tables)
    messages = {str(w.message).split(" ")[0] for w in caught}
    assert "patients.patient_id" in messages and "lesions.patient_id" in messages
    assert all("dtype=str" in str(w.message) for w in caught)
    assert all(Path(w.filename).resolve() == Path(__file__).resolve() for w in caught), "points at the caller"


def test_numeric_ids_from_polars_and_whole_floats_read_without_a_decimal_point():
    """pandas reads an id column with a missing value as floats: 7.0 must be read as 7, not "7.0"."""
    patients = pl.DataFrame({"patient_id": [7.0, 8.0], "site_id": ["A", "B"]})
    from oligo_cohort.sources.frames import read_frames

    with pytest.warns(NumericIdWarning, match=r"patients\.patient_id arrived as numbers"):
        raw = read_frames({"patients": patients})
    assert raw.tables["patients"].data.get_column("patient_id").to_list() == ["7", "8"]


def test_something_that_is_not_a_table_is_a_problem_naming_it():
    from oligo_cohort.sources.frames import read_frames

    raw = read_frames({"patients": [["007", "AVL"]]})
    assert [(p.severity, p.table) for p in raw.problems] == [("fatal", "patients")]
    assert "not a pandas or polars DataFrame or an Arrow table" in raw.problems[0].message


def test_result_frames_are_typed(from_folder):
    result, _ = from_folder
    patients = result.patients
    assert isinstance(patients["status"].dtype, pd.CategoricalDtype)
    assert list(patients["status"].cat.categories) == list(STATUS_ORDER)
    for criterion in CRITERION_IDS:
        assert list(patients[criterion].cat.categories) == list(OUTCOMES), criterion
    assert pd.api.types.is_datetime64_any_dtype(patients["screening_date"])
    events = result.events
    assert pd.api.types.is_datetime64_any_dtype(events["registration_date"])
    assert str(events["line_number"].dtype) == "Int64" and events["is_best_event"].dtype == bool
    reasons = result.reasons
    assert list(reasons["outcome"].cat.categories) == list(OUTCOMES)
    assert list(reasons["criterion"].cat.categories) == list(CRITERION_IDS)
    # The same values as the CSV text.
    text = result.as_text("patients")
    dates = [None if pd.isna(day) else day.strftime("%Y-%m-%d") for day in patients["screening_date"]]
    assert dates == text["screening_date"].tolist()
    assert patients["status"].astype(str).tolist() == text["status"].tolist()
    assert patients["event_id"].tolist() == text["event_id"].tolist()  # missing: None, as in the text


def test_to_polars_gives_dates_and_enums(from_folder):
    result, _ = from_folder
    patients = result.to_polars("patients")
    assert patients.schema["screening_date"] == pl.Date
    assert patients.schema["status"] == pl.Enum(list(STATUS_ORDER))
    assert patients.schema["inc_age_18"] == pl.Enum(list(OUTCOMES))
    assert patients.height == len(result.patients)
    assert result.to_polars("reasons").schema["outcome"] == pl.Enum(list(OUTCOMES))
    from oligo_cohort.errors import UsageError

    with pytest.raises(UsageError, match="choose one of"):
        result.to_polars("worklist")


@pytest.mark.parametrize("method", ["as_text", "query", "to_polars"])
def test_a_table_name_that_is_no_output_table_is_named(from_folder, method):
    """`result.as_text("worklist")` raised a bare KeyError: 'worklist'; every way of asking for a table by name
    now names the tables there are."""
    from oligo_cohort.errors import UsageError

    result, _ = from_folder
    with pytest.raises(UsageError, match=r"^'worklist' is not an output table: choose one of patients, events"):
        getattr(result, method)("worklist")


def test_the_result_reads_well_in_a_terminal_and_a_notebook(from_folder):
    result, _ = from_folder
    counts = result.counts()
    text = repr(result)
    assert text.startswith(f"ScreeningResult: {sum(counts.values()):,} patients (")
    for status in STATUS_ORDER:
        assert f"{counts.get(status, 0):,} {status}" in text
    assert f"cut-off {result.as_of}" in text and "engine duckdb" in text and "protocol cosmo" in text
    findings = result.finding_counts()
    assert findings == {"warning": 2} and "findings: 2 warnings" in text  # the demo's unknown drug and setting
    page = result._repr_html_()
    assert page.startswith("<div>") and page.count("<table>") == 2
    for status in STATUS_ORDER:
        assert f"<td>{status}</td>" in page
    assert str(result.as_of) in page and "findings" in page


def test_why_says_each_criterion_a_patient_did_not_pass_with_its_reason(from_folder):
    """`result.why(patient_id)`: the analyst's question, answered from the patient's rows of the result alone."""
    result, _ = from_folder
    everything = screen(demo_extract_dir(), explain="all-events")
    reasons = result.reasons.set_index(["patient_id", "criterion"])["reason"]
    rank = {"fail": 0, "unknown": 1, "review": 2}
    for patient in result.as_text("patients").to_dict("records"):
        said = result.why(patient["patient_id"]).splitlines()
        assert said[0].startswith(f"{patient['patient_id']} ({patient['site_id']}): {patient['status']}; ")
        assert ("no candidate event" in said[0]) is (patient["event_id"] is None)
        open_ = sorted((c for c in CRITERION_IDS if patient[c] != "pass"), key=lambda c: rank[patient[c]])
        if not open_:
            assert said[1:] == ["  every criterion passes"]
            continue
        assert [line.split()[:2] for line in said[1:]] == [[patient[c], c] for c in open_]
        assert [line.split(None, 2)[2] for line in said[1:]] == [reasons[(patient["patient_id"], c)] for c in open_]
        # Every event explained: the best event's reasons, the same words.
        assert everything.why(patient["patient_id"]) == result.why(patient["patient_id"])
    with pytest.raises(UsageError, match="patient 'nobody' is not in this result"):
        result.why("nobody")
