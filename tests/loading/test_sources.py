"""Reading extracts: CSV, Parquet, DuckDB files and DataFrames give the same typed tables; ids stay text."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from oligo_cohort.database import close, connect
from oligo_cohort.dictionary import tables as dictionary_tables
from oligo_cohort.errors import InputError, UsageError
from oligo_cohort.load import load_extract
from oligo_cohort.sources import ROW, read_source
from oligo_cohort.sources.parquet_files import WHITE_SPACE, parquet_table
from oligo_cohort.sources.text_tables import as_text_table, is_nested_duckdb_type
from tests.draws import costly_draws
from tests.loading.test_bad_input import VALID, write_extract


def typed_rows(loaded, table: str) -> list[tuple]:
    return loaded.con.execute(f"SELECT * EXCLUDE (_row) FROM {table} ORDER BY ALL").fetchall()


@pytest.fixture
def csv_extract(tmp_path: Path) -> Path:
    return write_extract(tmp_path / "csv", VALID)


def test_parquet_duckdb_and_dataframes_read_like_csv(tmp_path, csv_extract):
    reference = load_extract(csv_extract)
    frames = {name: pd.read_csv(csv_extract / f"{name}.csv", dtype=str) for name in VALID}

    parquet = tmp_path / "parquet"
    parquet.mkdir()
    for name, frame in frames.items():
        frame.to_parquet(parquet / f"{name}.parquet", index=False)

    database = duckdb_extract(frames, tmp_path / "extract.duckdb")

    for source in (parquet, database, frames):
        loaded = load_extract(source)
        assert loaded.as_of == reference.as_of
        for table in VALID:
            assert typed_rows(loaded, table) == typed_rows(reference, table), (source, table)


def native_parquet(csv_folder: Path, folder: Path, lesions: pa.Table | None = None) -> Path:
    """The CSV extract as Parquet with natively typed columns: DATE, float, boolean."""
    folder.mkdir()
    for name in VALID:
        frame = pd.read_csv(csv_folder / f"{name}.csv", dtype=str)
        for column in frame.columns:
            if column.endswith("_date"):
                frame[column] = pd.to_datetime(frame[column]).dt.date
            if column in ("size_mm", "suv_max"):
                frame[column] = frame[column].astype(float)
            if column in ("chemotherapy", "radiotherapy"):
                frame[column] = frame[column].map({"true": True, "false": False})
        if name == "lesions" and lesions is not None:
            pq.write_table(lesions, folder / f"{name}.parquet")
            continue
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def test_parquet_with_native_types_is_read(tmp_path, csv_extract):
    """Dates as DATE, sizes as floats, flags as booleans: typed as the values they are, with no text round trip."""
    folder = native_parquet(csv_extract, tmp_path / "typed")
    raw = read_source(folder)
    assert raw.tables["lesions"].native == {"size_mm", "suv_max"}
    assert {"diagnosis_date", "chemotherapy", "radiotherapy"} <= raw.tables["tumours"].native
    assert raw.tables["lesions"].query and "CAST" not in raw.tables["lesions"].query.split("size_mm")[0][-12:]
    loaded, reference = load_extract(folder), load_extract(csv_extract)
    for table in VALID:
        assert typed_rows(loaded, table) == typed_rows(reference, table), table


# Arrow types written to Parquet, and which dictionary types take their values as they are (no text round trip):
# whole numbers for an integer or a number, floating and decimal numbers for a number, DATE for a date, booleans
# for a boolean. Timestamps, times, text and bytes go through the text rules.
_INTEGER_TYPES = [pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64()]
_PARQUET_TYPES = {
    **{str(t): (t, {"integer", "number"}) for t in _INTEGER_TYPES},
    **{str(t): (t, {"number"}) for t in (pa.float32(), pa.float64(), pa.decimal128(9, 2), pa.decimal128(30, 4))},
    "date32": (pa.date32(), {"date"}),
    "bool": (pa.bool_(), {"boolean"}),
    **{str(t): (t, set()) for t in (pa.timestamp("us"), pa.timestamp("ms", "UTC"), pa.time64("us"))},
    **{str(t): (t, set()) for t in (pa.string(), pa.large_string(), pa.binary(), pa.null())},
}
_MODEL_COLUMNS = {  # a column of each dictionary type: (table, column)
    "integer": ("performance_status", "score"),
    "number": ("lesions", "size_mm"),
    "date": ("imaging", "study_date"),
    "boolean": ("observations", "value"),
}


@pytest.mark.parametrize("arrow_type", sorted(_PARQUET_TYPES))
def test_a_parquet_column_is_typed_as_it_is_exactly_when_its_type_holds_the_dictionary_types_values(
    tmp_path, arrow_type
):
    kind, natives = _PARQUET_TYPES[arrow_type]
    for model_type, (table, column) in _MODEL_COLUMNS.items():
        folder = tmp_path / model_type
        folder.mkdir()
        pq.write_table(pa.table({"patient_id": ["P1"], column: pa.nulls(1, kind)}), folder / f"{table}.parquet")
        raw = read_source(folder).tables[table]
        assert (column in raw.native) == (model_type in natives), (arrow_type, model_type)


def test_rejected_native_values_are_named_as_written(tmp_path, csv_extract):
    """A NaN or a negative float is refused as its text would be, and the message quotes the value."""
    lesions = pa.table(
        {
            "study_id": ["S1", "S2", "S2"],
            "patient_id": ["007", "007", "007"],
            "lesion_id": ["L1", "L1", "L2"],
            "location": ["distant", "DISTANT", "distant"],
            "organ": ["liver", "liver", "liver"],
            "size_mm": pa.array([10.0, float("nan"), -3.5], pa.float64()),  # a real NaN, not a null
            "suv_max": pa.array([None, None, 4.5], pa.float64()),
        }
    )
    folder = native_parquet(csv_extract, tmp_path / "typed", lesions)
    with pytest.raises(InputError) as caught:
        load_extract(folder)
    named = {(p.table, p.column, p.row, p.value, p.message) for p in caught.value.problems}
    assert ("lesions", "size_mm", 2, "nan", "not a number") in named
    assert ("lesions", "size_mm", 3, "-3.5", "impossible value: below 0") in named
    assert not any(p.column == "location" for p in caught.value.problems)  # "DISTANT" is a valid code


def test_leading_zeros_bom_and_header_case_survive(tmp_path):
    tables = dict(VALID)
    tables["patients"] = "\ufeffPatient_ID , Site_ID,birth_date,sex,death_date\n007,AVL,1960-05-01,F,\nP2,UMCU,,,\n"
    loaded = load_extract(write_extract(tmp_path / "e", tables))
    assert [r[0] for r in typed_rows(loaded, "patients")] == ["007", "P2"]


def test_latin1_and_semicolon_files_are_read_with_a_finding(tmp_path):
    folder = write_extract(tmp_path / "e", VALID)
    imaging = "study_id;patient_id;study_date;modality\nS1;007;2020-01-05;CT\nS2;007;2021-03-01;CT\n"
    (folder / "imaging.csv").write_text(imaging, encoding="utf-8")
    patients = VALID["patients"].replace("AVL", "Sint-Jos\xe9")
    (folder / "patients.csv").write_bytes(patients.encode("latin-1"))
    loaded = load_extract(folder)
    assert [r[0] for r in typed_rows(loaded, "imaging")] == ["S1", "S2"]
    assert ("007", "Sint-Jos\xe9") in [r[:2] for r in typed_rows(loaded, "patients")]
    notes = {(f.table, f.message.split(" (")[0].split(":")[0]) for f in loaded.findings}
    assert ("imaging", "read with ';' as the delimiter") in notes
    assert ("patients", "not UTF-8") in notes


PADDING = st.text(alphabet=" \t", max_size=3)


@settings(max_examples=40, deadline=None)
@given(
    delimiter=st.sampled_from([",", ";", "\t"]),
    padding=st.lists(st.tuples(PADDING, PADDING), min_size=4, max_size=4),
    records=st.integers(1, 7),
    broken=st.integers(0, 7),
)
@example(delimiter=",", padding=[("", "\t\t")] * 4, records=3, broken=0)  # more tabs than commas, a value on two lines
def test_a_header_whose_names_carry_tabs_or_spaces_is_split_as_its_records_are(
    tmp_path_factory, delimiter, padding, records, broken
):
    """Column names padded with spaces and tabs (as copied from a spreadsheet: `"  PATIENT_ID\t,  STUDY_ID\t"`)
    may hold more tabs than the file has delimiters: the delimiter is the one that splits the records as it splits
    the header, and every value reads as written. A header of padded names alone split one way and its records
    another used to be refused as ragged. The records are read as CSV records: a quoted value holding a line break
    (record `broken`, when there is one) is one field, not two lines that split unlike the header."""
    names = ["study_id", "patient_id", "study_date", "modality"]
    if delimiter == "\t":  # a tab inside a name would be a delimiter: such a file pads with spaces
        padding = [(before.replace("\t", " "), after.replace("\t", " ")) for before, after in padding]
    header = delimiter.join(
        f"{before}{name.upper()}{after}" for name, (before, after) in zip(names, padding, strict=True)
    )
    modality = ["C\nT" if k == broken else "CT" for k in range(records)]
    quoted = ['"C\nT"' if value == "C\nT" else value for value in modality]
    rows = [delimiter.join([f"S{k}", "007", f"2020-01-{k + 1:02d}", quoted[k]]) for k in range(records)]
    folder = write_extract(tmp_path_factory.mktemp("e"), VALID)
    (folder / "imaging.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    imaging = read_source(folder).tables["imaging"]
    assert imaging.columns == names
    assert imaging.data.get_column("study_id").to_list() == [f"S{k}" for k in range(records)]
    assert imaging.data.get_column("modality").to_list() == modality


@pytest.mark.parametrize("line_end", ["\r\n", "\r"], ids=["Windows", "classic Mac"])
def test_every_line_end_reads_alike(tmp_path, csv_extract, line_end):
    """Windows ends a line with CR LF, Excel's "CSV (Macintosh)" with a CR alone: each table reads as with LF;
    the lone CR, which no CSV library takes for a line end by itself, with a finding."""
    reference = load_extract(csv_extract)
    folder = write_extract(tmp_path / "e", VALID)
    for name in VALID:
        file = folder / f"{name}.csv"
        file.write_bytes(file.read_bytes().replace(b"\n", line_end.encode()))
    loaded = load_extract(folder)
    for name in VALID:
        assert typed_rows(loaded, name) == typed_rows(reference, name), name
    noted = {f.table for f in loaded.findings if "carriage return alone" in f.message}
    assert noted == (set(VALID) if line_end == "\r" else set())


def test_empty_file_is_fatal(tmp_path):
    folder = write_extract(tmp_path / "e", VALID)
    (folder / "lesions.csv").write_text("", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_extract(folder)
    assert ("lesions", "the file is empty (not even a header line)") in {
        (p.table, p.message) for p in caught.value.problems
    }


def test_header_only_optional_table_means_no_records(tmp_path):
    tables = dict(VALID, observations="patient_id,code,start_date,end_date,value\n")
    loaded = load_extract(write_extract(tmp_path / "e", tables))
    assert "observations" in loaded.present
    assert typed_rows(loaded, "observations") == []


def test_a_missing_extract_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_extract(tmp_path / "nowhere")


# Characters a value may start or end with: Unicode white space (which is trimmed), printable ASCII and its edges
# ('!', '~'), controls, the separators Python's `str.strip()` strips but Unicode does not count as white space,
# and DEL (all kept), and letters beyond ASCII, some of whose UTF-8 bytes look like white space.
_EDGE_CHARACTERS = (
    WHITE_SPACE + "!~aZ09 \x1c\x1f\x00\x01\x1b\x7f\x80\x9f\xe9\u00a1\u0100\u2000\u200b\u2fff\u3001\ufeff\U0001f600"
)


@settings(max_examples=costly_draws(60), deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet=st.sampled_from(_EDGE_CHARACTERS), max_size=4),
            st.builds(
                lambda head, body, tail: head + body + tail,
                st.text(alphabet=st.sampled_from(_EDGE_CHARACTERS), max_size=3),
                st.text(max_size=6),
                st.text(alphabet=st.sampled_from(_EDGE_CHARACTERS), max_size=3),
            ),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_parquet_text_is_trimmed_like_a_dataframes(tmp_path_factory, values):
    """DuckDB reads a Parquet file's text itself (trimming only values that may need it); a DataFrame's text is
    trimmed by polars. Both must give the same value, or the same missing value, for any text."""
    values = [None if v is None else v.replace("\x00", "") for v in values]  # a NUL byte is refused on its own
    folder = tmp_path_factory.mktemp("trim")
    pq.write_table(pa.table({"patient_id": values}), folder / "patients.parquet")
    con = connect()
    try:
        raw = parquet_table("patients", folder / "patients.parquet", con, [])
        read = [row[0] for row in con.execute(f"SELECT patient_id FROM ({raw.query}) ORDER BY _row").fetchall()]
    finally:
        close(con)
    as_frame = as_text_table(pl.DataFrame({ROW: range(1, len(values) + 1), "patient_id": values}))
    assert read == as_frame.get_column("patient_id").to_list()


def test_parquet_values_lose_exactly_the_white_space_polars_strips():
    every_character = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    stripped = pl.Series(every_character).str.strip_chars()
    assert {c for c, s in zip(every_character, stripped, strict=True) if s == ""} == set(WHITE_SPACE)


NESTED_VALUES = {
    "list of text": pa.array([["P1", "P2"]], pa.list_(pa.string())),
    "fixed-size list": pa.array([[1, 2]], pa.list_(pa.int64(), 2)),
    "struct": pa.array([{"id": "P1", "site": "AVL"}]),
    "map": pa.array([[("a", 1)]], pa.map_(pa.string(), pa.int64())),
}


@pytest.mark.parametrize(
    "reader",
    [
        "Parquet file",
        "DuckDB file",
        "Arrow table",
        "polars DataFrame",
        "pandas DataFrame",
        "pandas DataFrame of Arrow types",
    ],
)
@pytest.mark.parametrize("kind", sorted(NESTED_VALUES))
def test_a_cell_holding_several_values_is_refused_alike_by_every_reader(tmp_path, reader, kind):
    """Every kind of source refuses a nested column of the model in the same words, naming the column.

    Made text, such a cell would otherwise pass for one value: a pandas list `['P1', 'P2']` as a patient id.
    """
    data = pa.table({"patient_id": NESTED_VALUES[kind], "site": pa.array(["AVL"])})
    if reader == "Parquet file":
        pq.write_table(data, tmp_path / "patients.parquet")
        raw = read_source(tmp_path)
    elif reader == "DuckDB file":
        source = connect(tmp_path / "extract.duckdb")
        source.register("data", data)
        source.execute("CREATE TABLE patients AS SELECT * FROM data")
        close(source)
        raw = read_source(tmp_path / "extract.duckdb")
    elif reader == "Arrow table":
        raw = read_source({"patients": data})
    elif reader == "pandas DataFrame":
        raw = read_source({"patients": data.to_pandas()})
    elif reader == "pandas DataFrame of Arrow types":
        raw = read_source({"patients": data.to_pandas(types_mapper=pd.ArrowDtype)})
    else:
        frame = pl.from_arrow(data)
        assert isinstance(frame, pl.DataFrame)
        raw = read_source({"patients": frame})
    fatal = [p for p in raw.problems if p.severity == "fatal" and p.table == "patients"]
    assert len(fatal) == 1, raw.problems
    assert "column 'patient_id' is of type " in fatal[0].message
    assert fatal[0].message.endswith(": several values in one cell, where the model has one")
    assert "patients" not in raw.tables


@pytest.mark.parametrize("kind", sorted(NESTED_VALUES))
def test_parquet_columns_around_nested_ones_are_found_by_name_and_type(tmp_path, kind):
    """A Parquet footer lists a nested column's parts after it (DuckDB reads the footer): the columns before,
    between and after nested ones are still the file's own, in order, each with its type."""
    import datetime as dt

    nested = NESTED_VALUES[kind]
    data = pa.table(
        {
            "registry_extra": nested,
            "patient_id": ["P1"],
            "more_extra": nested,
            "site_id": ["AVL"],
            "birth_date": pa.array([dt.date(1950, 1, 2)]),
        }
    )
    pq.write_table(data, tmp_path / "patients.parquet")
    table = read_source(tmp_path).tables["patients"]
    assert table.columns == ["registry_extra", "patient_id", "more_extra", "site_id", "birth_date"]
    assert (table.rows, table.row_groups, table.native) == (1, 1, frozenset({"birth_date"}))
    con = connect()
    try:
        values = con.execute(f"SELECT patient_id, site_id, birth_date FROM ({table.query})").fetchall()
    finally:
        close(con)
    assert values == [("P1", "AVL", dt.date(1950, 1, 2))]


_LEAF_TYPES = [pa.int64(), pa.string(), pa.float64(), pa.bool_(), pa.date32(), pa.binary()]


def _arrow_types() -> st.SearchStrategy[pa.DataType]:
    """Arrow types nested to any depth: lists, fixed-size lists, structs and maps of leaves and of each other."""
    return st.recursive(
        st.sampled_from(_LEAF_TYPES),
        lambda inner: st.one_of(
            inner.map(pa.list_),
            inner.map(lambda t: pa.list_(t, 2)),
            st.lists(inner, min_size=1, max_size=3).map(
                lambda ts: pa.struct([pa.field(f"f{i}", t) for i, t in enumerate(ts)])
            ),
            inner.map(lambda t: pa.map_(pa.string(), t)),
        ),
        max_leaves=6,
    )


@settings(max_examples=40, deadline=None)
@given(types=st.lists(_arrow_types(), min_size=1, max_size=6))
def test_a_parquet_footer_lists_the_files_own_columns_whatever_their_nesting(tmp_path_factory, types):
    """The footer's schema lists every group's parts after it, depth first: the columns found are the file's
    own, in order, and a column is nested exactly when its Arrow type is."""
    from oligo_cohort.sources.parquet_files import parquet_footer

    schema = pa.schema([pa.field(f"column_{i}", t) for i, t in enumerate(types)])
    file = tmp_path_factory.mktemp("footer") / "table.parquet"
    pq.write_table(schema.empty_table(), file)
    con = connect()
    try:
        footer = parquet_footer(file, con)
    finally:
        close(con)
    assert [name for name, _ in footer.columns] == schema.names
    assert [is_nested_duckdb_type(kind) for _, kind in footer.columns] == [pa.types.is_nested(t) for t in types]
    assert footer.rows == 0


def _odd_columns() -> dict[str, object]:
    """Columns of every unusual type a DataFrame may carry, in pandas and in polars (two rows each)."""
    import datetime as dt
    import decimal

    return {
        "pandas bytes": pd.Series([b"P1", None], dtype=object),
        "pandas decimal": pd.Series([decimal.Decimal("1.50"), None], dtype=object),
        "pandas datetime with time zone": pd.Series(pd.to_datetime(["2024-01-02", None]).tz_localize("UTC")),
        "pandas timedelta": pd.Series(pd.to_timedelta(["1 day", None])),
        "pandas categorical": pd.Series(["a", None], dtype="category"),
        "pandas period": pd.Series(pd.period_range("2024-01", periods=2, freq="M")),
        "pandas complex": pd.Series([1 + 2j, 3j]),
        "pandas mixed objects": pd.Series([1, "a"], dtype=object),
        "pandas list": pd.Series([["a"], None], dtype=object),
        "polars binary": pl.Series([b"P1", None]),
        "polars decimal": pl.Series([decimal.Decimal("1.50"), None]),
        "polars duration": pl.Series([dt.timedelta(days=1), None]),
        "polars time": pl.Series([dt.time(1, 2), None]),
        "polars object": pl.Series([object(), None], dtype=pl.Object),
        "polars categorical": pl.Series(["a", None], dtype=pl.Categorical),
        "polars list": pl.Series([["a"], None]),
        "polars struct": pl.Series([{"a": 1}, None]),
    }


def _frame_with(column: str, values: object) -> object:
    if isinstance(values, pl.Series):
        return pl.DataFrame({"patient_id": ["P1", "P2"], "site": ["AVL", "AVL"]}).with_columns(values.alias(column))
    return pd.DataFrame({"patient_id": ["P1", "P2"], "site": ["AVL", "AVL"], column: values})


@pytest.mark.parametrize("kind", sorted(_odd_columns()))
def test_a_dataframe_column_outside_the_model_is_ignored_whatever_its_type(kind):
    """As in a Parquet or DuckDB file, a column the model lacks is never read: its type cannot refuse the table."""
    raw = read_source({"patients": _frame_with("registry_extra", _odd_columns()[kind])})
    assert not [p for p in raw.problems if p.severity == "fatal"], raw.problems
    assert "registry_extra" in raw.tables["patients"].columns
    assert raw.tables["patients"].data.get_column("registry_extra").null_count() == 2


@pytest.mark.parametrize("kind", sorted(_odd_columns()))
def test_a_model_column_of_any_type_is_read_as_text_or_refused_by_name(kind):
    """A model column of an unusual type becomes text (then checked by its rules) or is refused, naming it."""
    raw = read_source({"patients": _frame_with("birth_date", _odd_columns()[kind])})
    fatal = [p for p in raw.problems if p.severity == "fatal"]
    if fatal:
        assert len(fatal) == 1 and "'birth_date'" in fatal[0].message, fatal
        assert "patients" not in raw.tables
    else:
        values = raw.tables["patients"].data.get_column("birth_date").to_list()
        assert all(value is None or isinstance(value, str) for value in values)


def test_datetimes_at_midnight_read_as_dates_from_pandas_polars_and_arrow():
    """`pl.read_csv(try_parse_dates=True)`, `pd.to_datetime` and an Arrow timestamp give the same date text."""
    import datetime as dt

    stamps = [dt.datetime(1950, 1, 2), None]
    sources = {
        "pandas": pd.Series(pd.to_datetime(stamps)),
        "polars": pl.Series(stamps),
        "Arrow": pa.array(stamps, pa.timestamp("us")),
    }
    for reader, values in sources.items():
        if isinstance(values, pa.Array):
            frame: object = pa.table({"patient_id": ["P1", "P2"], "site": ["AVL", "AVL"], "birth_date": values})
        else:
            frame = _frame_with("birth_date", values)
        raw = read_source({"patients": frame})
        assert raw.tables["patients"].data.get_column("birth_date").to_list() == ["1950-01-02", None], reader
    with_time = pl.Series([dt.datetime(1950, 1, 2, 8, 30), None])
    raw = read_source({"patients": _frame_with("birth_date", with_time)})
    assert raw.tables["patients"].data.get_column("birth_date").to_list()[0] != "1950-01-02"


def test_a_column_name_is_read_alike_by_every_reader_whatever_its_spacing_case_or_byte_order_mark(tmp_path):
    """`\\ufeff Site_ID ` is the model's `site_id` in a DuckDB file as in CSV, Parquet and DataFrames: its values read."""
    spelled = "\ufeff Site_ID "
    data = pa.table({"patient_id": ["P1"], spelled: ["AVL"]})
    pq.write_table(data, tmp_path / "patients.parquet")
    source = connect(tmp_path / "extract.duckdb")
    source.register("data", data)
    source.execute("CREATE TABLE patients AS SELECT * FROM data")
    close(source)
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "patients.csv").write_text(f"patient_id,{spelled}\nP1,AVL\n", encoding="utf-8")
    for source_of_extract in (tmp_path, tmp_path / "extract.duckdb", tmp_path / "csv", {"patients": data}):
        raw = read_source(source_of_extract)
        assert raw.tables["patients"].columns == ["patient_id", "site_id"], source_of_extract
        if raw.tables["patients"].query:  # Parquet streams: the query gives the values
            con = connect()
            values = con.execute(f"SELECT site_id FROM ({raw.tables['patients'].query})").fetchall()
            close(con)
            assert values == [("AVL",)]
        else:
            assert raw.tables["patients"].data.get_column("site_id").to_list() == ["AVL"], source_of_extract


def patients_beside_empty_tables(patients: pa.Table, reader: str, folder: Path) -> Path:
    """An extract of `patients` and the other required tables with their columns and no rows, as Parquet files or
    a DuckDB file (`reader`), each column of the type it has in the Arrow table."""
    tables = {
        name: pa.table({column: pa.array([], pa.string()) for column in dictionary_tables()[name].column_names})
        for name in ("tumours", "systemic_therapy", "imaging", "lesions")
    }
    tables["patients"] = patients
    if reader == "Parquet file":
        source = folder / "parquet"
        source.mkdir()
        for name, table in tables.items():
            pq.write_table(table, source / f"{name}.parquet")
        return source
    return duckdb_extract(tables, folder / "extract.duckdb")


def duckdb_extract(tables: dict[str, object], database: Path) -> Path:
    """A DuckDB file holding each table (a DataFrame or an Arrow table) in the types it has."""
    with duckdb.connect(str(database)) as con:
        for name, table in tables.items():
            con.register("frame", table)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            con.unregister("frame")
    return database


_SITE_TEXTS = st.text(alphabet=st.sampled_from("AZaz09-üéøßÅ中🙂"), min_size=1, max_size=8)


@settings(max_examples=costly_draws(25), deadline=None)
@given(
    sites=st.lists(
        st.one_of(
            _SITE_TEXTS.map(lambda text: text.encode("utf-8")),  # text kept as bytes, UTF-8
            _SITE_TEXTS.filter(lambda text: text.isascii() is False and all(ord(c) < 256 for c in text)).map(
                lambda text: text.encode("latin-1")  # a Latin-1 export stored as bytes
            ),
        ),
        min_size=1,
        max_size=6,
    ),
    reader=st.sampled_from(["Parquet file", "DuckDB file"]),
)
def test_text_stored_as_bytes_reads_as_the_same_text_as_a_string_column(tmp_path_factory, sites, reader):
    """Some writers store text as bytes (Parquet BINARY without its UTF-8 mark, a DuckDB BLOB). It is the text
    those bytes spell: UTF-8, else Latin-1 with a finding, as for a CSV file or a STRING column; never the
    escaped spelling of a cast (`Z\\xFCrich`)."""
    folder = tmp_path_factory.mktemp("bytes")
    patients = pa.table(
        {
            "patient_id": [f"P{k}" for k in range(len(sites))],
            "site_id": pa.array(sites, pa.binary()),
            "birth_date": ["1960-01-01"] * len(sites),
        }
    )
    source = patients_beside_empty_tables(patients, reader, folder)
    loaded = load_extract(source, as_of="2024-01-01")  # birth dates alone do not make a cut-off
    read = [row[0] for row in loaded.con.execute("SELECT site_id FROM typed_patients ORDER BY _row").fetchall()]
    utf8 = []
    for site in sites:
        try:
            utf8.append(site.decode("utf-8"))
        except UnicodeDecodeError:
            utf8.append(None)
    assert read == [
        text if text is not None else site.decode("latin-1") for site, text in zip(sites, utf8, strict=True)
    ]
    noted = [p for p in loaded.findings if p.table == "patients" and p.column == "site_id" and "not UTF-8" in p.message]
    first_latin1 = next((row for row, text in enumerate(utf8, start=1) if text is None), None)
    assert [p.row for p in noted] == ([first_latin1] if first_latin1 else [])


@pytest.mark.parametrize("reader", ["Parquet file", "DuckDB file"])
@pytest.mark.parametrize("arrow_type", [pa.int64(), pa.int32(), pa.float64(), pa.decimal128(10, 0)])
def test_an_id_column_stored_as_numbers_is_a_finding_naming_table_column_and_type(tmp_path, reader, arrow_type):
    """A DataFrame's id column of numbers gives a `NumericIdWarning`; a file's gives a finding, as `00123` may have
    lost its zeros before the file was written, and then matches nothing written as text in another table."""
    patients = pa.table({"patient_id": pa.array([107, 115], pa.int32()).cast(arrow_type), "site_id": ["A", "B"]})
    problems = read_source(patients_beside_empty_tables(patients, reader, tmp_path)).problems
    said = [(p.severity, p.table, p.column, p.value) for p in problems if "ids stored as numbers" in p.message]
    with duckdb.connect() as con:
        con.register("frame", patients)
        duckdb_type = con.execute(
            "SELECT column_type FROM (DESCRIBE frame) WHERE column_name = 'patient_id'"
        ).fetchall()
    assert said == [("finding", "patients", "patient_id", duckdb_type[0][0])]
