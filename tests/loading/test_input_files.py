"""The files of an extract, read to the letter of the contract: no silent padding, no guessing, no waiting.

Every case starts from the demo extract and breaks one thing the way real
exports break: a CSV record with fewer fields than the header (which polars
pads without a word), a column named twice, a number written `1_000`, a folder
or FIFO named like a table, a Parquet file that is truncated, damaged in its
pages, holds text that is not UTF-8 or NUL bytes, or carries unusual types; a
DuckDB file with tables in another schema, views or nested types; a SQLite
file, a PostgreSQL dump or a workbook given as the extract. The answer is a
fatal problem or a finding naming the table, file, column, row and value, as
README "Input problems" lists, and never a traceback.
"""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import socket
import sqlite3
import zipfile
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.cli import main
from oligo_cohort.dictionary import tables
from oligo_cohort.errors import InputError, UsageError
from oligo_cohort.load import load_extract
from oligo_cohort.paths import demo_extract_dir
from tests.draws import costly_draws

DEMO = demo_extract_dir()
TEXT = {path.stem: path.read_text(encoding="utf-8") for path in sorted(DEMO.glob("*.csv"))}
SETTINGS = {
    "derandomize": True,
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


def write_demo(folder: Path, **replaced: str | bytes) -> Path:
    """The demo extract as CSV files, some replaced (text or bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in TEXT.items():
        content = replaced.get(name, text)
        path = folder / f"{name}.csv"
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return folder


def fatal(source, *, as_of: str | None = None) -> list:
    with pytest.raises(InputError) as caught:
        load_extract(source, as_of=as_of)
    problems = caught.value.problems
    assert all(p.severity == "fatal" and p.describe() for p in problems)
    return problems


def lines(name: str) -> list[str]:
    return TEXT[name].splitlines()


@contextmanager
def deadline(seconds: int):
    """Fail instead of hanging (a FIFO opened for reading waits for a writer forever)."""

    def expired(*_):
        raise TimeoutError(f"still reading after {seconds} s: something waited on a special file")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- CSV records: fewer or more fields than the header -----------------------------------------------------------

MULTI_COLUMN = sorted(name for name in TEXT if len(lines(name)[0].split(",")) > 1)


@settings(max_examples=6, **SETTINGS)
@given(
    table=st.sampled_from(MULTI_COLUMN),
    data=st.data(),
)
def test_a_record_with_fewer_or_more_fields_than_the_header_is_fatal(tmp_path_factory, table, data):
    rows = lines(table)
    width = len(rows[0].split(","))
    row = data.draw(st.integers(1, len(rows) - 1), label="row")
    fields = data.draw(st.integers(1, width + 3).filter(lambda n: n != width), label="fields")
    values = (rows[row].split(",") + ["x"] * width)[:fields] if fields < width else rows[row].split(",")
    values += ["extra"] * (fields - len(values))
    rows[row] = ",".join(values)
    extract = write_demo(tmp_path_factory.mktemp("ragged"), **{table: "\n".join(rows) + "\n"})
    [problem] = fatal(extract)
    assert (problem.table, problem.value) == (table, f"{table}.csv")
    said = "1 field" if fields == 1 else f"{fields} fields"
    assert f"row {row} has {said} where the header has {width}" in problem.message


def test_a_short_record_is_found_behind_quotes_too(tmp_path):
    rows = lines("imaging")
    rows[3] = '"' + rows[3].rsplit(",", 1)[0].replace(",", '","') + '"'  # quoted, one field short
    [problem] = fatal(write_demo(tmp_path, imaging="\n".join(rows) + "\n"))
    assert "row 3 has 3 fields where the header has 4" in problem.message


def test_blank_lines_are_not_records(tmp_path):
    """A blank line (a trailing one, or between records) is skipped; row numbers still count lines."""
    rows = lines("patients")
    text = "\n".join([*rows[:3], "", *rows[3:]]) + "\n\n\n"
    loaded = load_extract(write_demo(tmp_path, patients=text))
    assert loaded.con.execute("SELECT count(*) FROM patients").fetchall() == [(len(rows) - 1,)]
    assert loaded.con.execute("SELECT max(_row) FROM patients").fetchall() == [(len(rows),)]


# --- A column named twice -----------------------------------------------------------------------------------------


@settings(max_examples=costly_draws(5), **SETTINGS)
@given(table=st.sampled_from(sorted(TEXT)), data=st.data())
def test_a_column_named_twice_is_fatal_in_csv_and_parquet(tmp_path_factory, table, data):
    columns = lines(table)[0].split(",")
    column = data.draw(st.sampled_from(columns), label="column")
    spelling = data.draw(st.sampled_from([column, column.upper(), f" {column} "]), label="spelling")
    rows = [
        line + "," + (spelling if i == 0 else line.split(",")[columns.index(column)])
        for i, line in enumerate(lines(table))
    ]
    folder = write_demo(tmp_path_factory.mktemp("twice"), **{table: "\n".join(rows) + "\n"})
    [problem] = fatal(folder)
    assert problem.message == f"column {spelling!r} appears more than once in the header"
    # The same as Parquet: pyarrow keeps both columns under the same name.
    frame = pq.read_table(io.BytesIO(_csv_as_parquet(TEXT[table])))
    doubled = frame.append_column(pa.field(spelling, frame.schema.field(column).type), frame.column(column))
    (folder / f"{table}.csv").unlink()
    pq.write_table(doubled, folder / f"{table}.parquet")
    [problem] = fatal(folder)
    assert problem.message == f"column {spelling!r} appears more than once in the header"


def _csv_as_parquet(text: str) -> bytes:
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    table = pa.table({c: pa.array([r[c] or None for r in rows], pa.string()) for c in reader.fieldnames or []})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


# --- Numbers ------------------------------------------------------------------------------------------------------


@settings(max_examples=5, **SETTINGS)
@given(
    digits=st.integers(10, 99_999).map(str),
    cut=st.integers(1, 4),
    column=st.sampled_from(["size_mm", "suv_max", "score"]),
)
def test_a_number_with_an_underscore_is_not_a_number(tmp_path_factory, digits, cut, column):
    """Python's float() and DuckDB's casts read `1_000` as 1000; the contract does not."""
    written = digits[: min(cut, len(digits) - 1)] + "_" + digits[min(cut, len(digits) - 1) :]
    table = "performance_status" if column == "score" else "lesions"
    rows = [line.split(",") for line in lines(table)]
    index = rows[0].index(column)
    rows[1][index] = written
    folder = write_demo(tmp_path_factory.mktemp("underscore"), **{table: "\n".join(map(",".join, rows)) + "\n"})
    problems = fatal(folder)
    named = [(p.table, p.column, p.row, p.value) for p in problems]
    assert (table, column, 1, written) in named
    message = next(p.message for p in problems if p.value == written)
    assert message == ("not a whole number" if column == "score" else "not a number")


NOT_NUMBERS = ["0x1F", "inf", "-Infinity", "nan", "1e400", "١٢", "１２", "1.2.3", "+", ".", "1 000", "½"]
NUMBERS = ["12", "12.5", "+3", "-0", ".5", "5.", "1e1", "2E-1", "0012"]


def test_spellings_that_are_numbers_and_spellings_that_are_not(tmp_path):
    rows = [line.split(",") for line in lines("lesions")]
    size = rows[0].index("size_mm")
    for row, written in enumerate(NUMBERS + NOT_NUMBERS, start=1):
        rows[row][size] = written
    problems = fatal(write_demo(tmp_path, lesions="\n".join(map(",".join, rows)) + "\n"))
    refused = {(p.row, p.value) for p in problems if p.column == "size_mm" and p.message == "not a number"}
    assert refused == {(row, written) for row, written in enumerate(NOT_NUMBERS, start=len(NUMBERS) + 1)}
    for row in range(len(NUMBERS) + 1, len(NUMBERS) + len(NOT_NUMBERS) + 1):
        rows[row][size] = "10"
    loaded = load_extract(write_demo(tmp_path / "good", lesions="\n".join(map(",".join, rows)) + "\n"))
    read = loaded.con.execute(
        f"SELECT _row, CAST(size_mm AS DOUBLE) FROM lesions WHERE _row <= {len(NUMBERS)} ORDER BY _row"
    ).fetchall()
    assert read == [(row, float(written)) for row, written in enumerate(NUMBERS, start=1)]


# --- Things named like a table that are not files ----------------------------------------------------------------


def _make_folder(path: Path) -> None:
    path.mkdir()


def _make_fifo(path: Path) -> None:
    os.mkfifo(path)


def _make_socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()


def _make_broken_link(path: Path) -> None:
    path.symlink_to(path.parent / "nowhere.csv")


def _make_link_loop(path: Path) -> None:
    path.symlink_to(path)


SPECIAL = {
    "folder": _make_folder,
    "named pipe (FIFO)": _make_fifo,
    "socket": _make_socket,
    "broken link": _make_broken_link,
    "link loop": _make_link_loop,
}


@settings(max_examples=8, **SETTINGS)
@given(kind=st.sampled_from(sorted(SPECIAL)), table=st.sampled_from(sorted(TEXT)), parquet=st.booleans())
def test_a_special_file_named_like_a_table_is_fatal_and_never_waited_on(tmp_path_factory, kind, table, parquet):
    folder = write_demo(tmp_path_factory.mktemp("special"))
    (folder / f"{table}.csv").unlink()
    name = f"{table}.parquet" if parquet else f"{table}.csv"
    SPECIAL[kind](folder / name)
    with deadline(30):
        problems = fatal(folder)
    assert [(p.table, p.value, p.message) for p in problems] == [(table, name, f"a {kind}, not a file")]


def test_a_link_to_a_table_file_is_read_as_that_file(tmp_path):
    folder = write_demo(tmp_path / "extract")
    (folder / "imaging.csv").rename(tmp_path / "imaging-export.csv")
    (folder / "imaging.csv").symlink_to(tmp_path / "imaging-export.csv")
    assert load_extract(folder).con.execute("SELECT count(*) FROM imaging").fetchall() == [(len(lines("imaging")) - 1,)]


def test_a_fifo_given_as_the_extract_is_refused_without_opening_it(tmp_path, capsys):
    os.mkfifo(tmp_path / "extract.duckdb")
    with deadline(30):
        code = main(["screen", str(tmp_path / "extract.duckdb"), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "is a named pipe (FIFO), not a folder or a DuckDB database file" in err


# --- Parquet ------------------------------------------------------------------------------------------------------


def parquet_demo(folder: Path, **tables_: pa.Table) -> Path:
    """The demo extract with some tables as Parquet files (given, or converted from the CSV)."""
    write_demo(folder)
    for name, table in tables_.items():
        (folder / f"{name}.csv").unlink()
        pq.write_table(table, folder / f"{name}.parquet")
    return folder


def demo_arrow(name: str) -> pa.Table:
    return pq.read_table(io.BytesIO(_csv_as_parquet(TEXT[name])))


def test_a_truncated_or_empty_parquet_file_is_fatal(tmp_path):
    folder = parquet_demo(tmp_path / "e", lesions=demo_arrow("lesions"))
    whole = (folder / "lesions.parquet").read_bytes()
    for size in (0, 4, 100, len(whole) - 1):
        (folder / "lesions.parquet").write_bytes(whole[:size])
        [problem] = fatal(folder)
        assert (problem.table, problem.value) == ("lesions", "lesions.parquet")
        assert problem.message.startswith("the file cannot be read as Parquet (")


@settings(max_examples=costly_draws(8), **SETTINGS)
@given(position=st.floats(0.0, 0.8), mask=st.sampled_from([0x01, 0x80, 0xFF, 0x5A]))
def test_a_parquet_file_damaged_in_its_pages_is_fatal_or_read_never_a_crash(tmp_path_factory, position, mask):
    """A damaged page shows only when the rows stream during validation: the file is then named."""
    folder = parquet_demo(tmp_path_factory.mktemp("damaged"), lesions=demo_arrow("lesions"))
    data = bytearray((folder / "lesions.parquet").read_bytes())
    footer = int.from_bytes(data[-8:-4], "little") + 8
    data[4 + int(position * (len(data) - footer - 4))] ^= mask
    (folder / "lesions.parquet").write_bytes(bytes(data))
    try:
        load_extract(folder)
    except InputError as error:
        assert all(p.severity == "fatal" and p.table for p in error.problems)
        unreadable = [p for p in error.problems if p.value == "lesions.parquet"]
        assert not unreadable or unreadable[0].message.startswith("the file cannot be read as Parquet (")


def test_parquet_text_that_is_not_utf8_is_read_as_windows_1252_with_a_finding_like_csv(tmp_path):
    patients = demo_arrow("patients")
    sites = [s.encode() for s in patients.column("site_id").to_pylist()]
    sites[2] = b"Sint-Jos\xe9"  # Latin-1, not UTF-8: written unchecked, as a careless exporter would
    patients = patients.set_column(1, "site_id", pa.array(sites, pa.binary()).view(pa.string()))
    loaded = load_extract(parquet_demo(tmp_path / "e", patients=patients))
    [note] = [f for f in loaded.findings if f.table == "patients"]
    assert (note.column, note.row, note.value) == ("site_id", 3, "Sint-Jos\xe9")
    assert note.message.startswith("not UTF-8 (first bad byte at offset 8): read as Windows-1252")
    assert "Sint-Jos\xe9" in [r[0] for r in loaded.con.execute("SELECT site_id FROM patients").fetchall()]


@pytest.mark.parametrize("source", ["parquet", "duckdb", "dataframe"])
def test_a_nul_byte_in_a_text_value_is_fatal_as_in_csv(tmp_path, source):
    patients = demo_arrow("patients")
    sites = patients.column("site_id").to_pylist()
    sites[1] = "AVL\x00"
    patients = patients.set_column(1, "site_id", pa.array(sites))
    if source == "parquet":
        extract = parquet_demo(tmp_path / "e", patients=patients)
    elif source == "duckdb":
        extract = duckdb_demo(tmp_path / "e.duckdb", patients=patients)
    else:
        extract = {name: demo_arrow(name).to_pandas() for name in TEXT} | {"patients": patients.to_pandas()}
    problems = fatal(extract)
    assert [(p.table, p.column, p.row, p.value) for p in problems] == [("patients", "site_id", 2, "AVL\x00")]
    assert problems[0].message.startswith("text with NUL bytes")
    csv_folder = write_demo(tmp_path / "csv", patients=TEXT["patients"].replace("AVL", "AVL\x00", 1))
    assert "text with NUL bytes" in fatal(csv_folder)[0].message


# Types a DuckDB file (or a Parquet file DuckDB wrote) may carry: (type, a value of it).
DUCKDB_TYPES = {
    "UNION": ("UNION(num INTEGER, str VARCHAR)", "union_value(num := 2)"),
    "LIST": ("INTEGER[]", "[1, 2]"),
    "ARRAY": ("INTEGER[2]", "[1, 2]::INTEGER[2]"),
    "MAP": ("MAP(INTEGER, INTEGER)", "MAP([1], [2])"),
    "STRUCT": ("STRUCT(x INTEGER)", "{'x': 1}"),
    "BLOB": ("BLOB", "'\\x00\\xFF'::BLOB"),
    "INTERVAL": ("INTERVAL", "INTERVAL 3 DAY"),
    "HUGEINT": ("HUGEINT", "170141183460469231731687303715884105727"),
    "TIMESTAMPTZ": ("TIMESTAMPTZ", "TIMESTAMPTZ '2020-01-01 00:00:00+00'"),
    "ENUM": ("ENUM('a', 'b')", "'a'"),
    "BIT": ("BIT", "'101'::BIT"),
}
# Types only pyarrow writes this way: a column of `n` values of each.
ARROW_TYPES = {
    "list": lambda n: pa.array([[1, 2]] * n, pa.list_(pa.int64())),
    "fixed size list": lambda n: pa.array([[1, 2]] * n, pa.list_(pa.int64(), 2)),
    "struct": lambda n: pa.array([{"x": 1}] * n, pa.struct([("x", pa.int64())])),
    "map": lambda n: pa.array([[(1, 2)]] * n, pa.map_(pa.int64(), pa.int64())),
    "binary": lambda n: pa.array([b"\x00\xff"] * n, pa.binary()),
    "decimal": lambda n: pa.array([10**30] * n, pa.decimal128(38, 0)),
    "timestamp with time zone": lambda n: pa.array([0] * n, pa.timestamp("us", tz="Europe/Amsterdam")),
    "dictionary": lambda n: pa.array(["a"] * n).dictionary_encode(),
}
# One date column per table (lesions has none): each batch puts one unusual type in each, so that one load
# checks several types (a nested type makes its whole file unreadable, hence one table per type).
DATE_COLUMN = {
    "patients": "death_date",
    "tumours": "metastasis_date",
    "systemic_therapy": "end_date",
    "imaging": "study_date",
    "response_assessments": "assessment_date",
    "performance_status": "assessment_date",
    "observations": "end_date",
}


def batches(kinds: list[str]) -> list[dict[str, str]]:
    """Kinds spread over the tables of DATE_COLUMN, as few loads as possible: [{table: kind}]."""
    names = list(DATE_COLUMN)
    return [dict(zip(names, kinds[i : i + len(names)], strict=False)) for i in range(0, len(kinds), len(names))]


def assert_named(problems: list, placed: dict[str, str]) -> None:
    """Every table given an unusual type in its date column is refused, naming that column."""
    for table, kind in placed.items():
        column = DATE_COLUMN[table]
        mine = [p for p in problems if p.table == table]
        assert mine, f"{kind} in {table}.{column} was read without a word"
        assert all(p.column == column or f"{column!r}" in p.message for p in mine), (kind, mine)


def csv_source(name: str, folder: Path) -> str:
    return "read_csv('" + str(folder / f"{name}.csv").replace("'", "''") + "', all_varchar = true)"


def test_unusual_types_in_ignored_columns_are_ignored_in_every_format(tmp_path):
    extra = ", ".join(f"CAST({value} AS {kind}) AS {quoted}" for quoted, (kind, value) in _extra_columns().items())
    folder = write_demo(tmp_path / "csv")
    database = tmp_path / "e.duckdb"
    with duckdb.connect(str(database)) as con:
        for name in TEXT:
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM {csv_source(name, folder)}")
        con.execute(f"CREATE OR REPLACE TABLE patients AS SELECT *, {extra} FROM patients")
        con.execute(f"COPY patients TO '{tmp_path / 'patients.parquet'}'")
    by_duckdb = write_demo(tmp_path / "by-duckdb")
    (by_duckdb / "patients.csv").unlink()
    (tmp_path / "patients.parquet").rename(by_duckdb / "patients.parquet")
    patients = demo_arrow("patients")
    for kind, make in ARROW_TYPES.items():
        patients = patients.append_column(f"extra {kind}", make(patients.num_rows))
    by_arrow = parquet_demo(tmp_path / "by-arrow", patients=patients)
    expected = {
        database: set(_extra_columns()),
        by_duckdb: set(_extra_columns()),
        by_arrow: {f"extra {kind}" for kind in ARROW_TYPES},
    }
    for source, columns in expected.items():
        loaded = load_extract(source)
        ignored = {f.column for f in loaded.findings if f.message == "column is not in the data dictionary; ignored"}
        assert {c.strip('"').lower() for c in columns} == ignored, source


def _extra_columns() -> dict[str, tuple[str, str]]:
    return {f'"extra {kind.lower()}"': DUCKDB_TYPES[kind] for kind in DUCKDB_TYPES}


@pytest.mark.parametrize("placed", batches(sorted(DUCKDB_TYPES)), ids=lambda b: "+".join(b.values()))
@pytest.mark.parametrize("source", ["duckdb", "parquet"])
def test_unusual_duckdb_types_in_model_columns_are_named(tmp_path, source, placed):
    folder = write_demo(tmp_path / "csv")
    database = tmp_path / "e.duckdb"
    with duckdb.connect(str(database)) as con:
        for name in TEXT:
            replaced = ""
            if name in placed:
                data_type, value = DUCKDB_TYPES[placed[name]]
                replaced = f" REPLACE (CAST({value} AS {data_type}) AS {DATE_COLUMN[name]})"
            con.execute(f"CREATE TABLE {name} AS SELECT *{replaced} FROM {csv_source(name, folder)}")
            if source == "parquet":
                (folder / f"{name}.csv").unlink()
                con.execute(f"COPY {name} TO '{folder / name}.parquet'")
    assert_named(fatal(database if source == "duckdb" else folder), placed)


@pytest.mark.parametrize("placed", batches(sorted(ARROW_TYPES)), ids=lambda b: "+".join(b.values()))
def test_unusual_arrow_types_in_model_columns_are_named(tmp_path, placed):
    replaced = {}
    for name, kind in placed.items():
        table = demo_arrow(name)
        index = table.schema.get_field_index(DATE_COLUMN[name])
        replaced[name] = table.set_column(index, DATE_COLUMN[name], ARROW_TYPES[kind](table.num_rows))
    assert_named(fatal(parquet_demo(tmp_path / "e", **replaced)), placed)


def test_an_all_null_parquet_column_reads_as_missing(tmp_path):
    patients = demo_arrow("patients")
    patients = patients.set_column(patients.schema.get_field_index("death_date"), "death_date", pa.nulls(34))
    loaded = load_extract(parquet_demo(tmp_path / "e", patients=patients))
    assert loaded.con.execute("SELECT count(death_date) FROM patients").fetchall() == [(0,)]


# --- DuckDB files -------------------------------------------------------------------------------------------------


def duckdb_demo(path: Path, *, schema: str = "main", **replaced: pa.Table) -> Path:
    with duckdb.connect(str(path)) as con:
        if schema != "main":
            con.execute(f"CREATE SCHEMA {schema}")
        for name in TEXT:
            con.register("frame", replaced.get(name, demo_arrow(name)))
            con.execute(f"CREATE TABLE {schema}.{name} AS SELECT * FROM frame")
            con.unregister("frame")
    return path


def test_tables_in_one_other_schema_are_read(tmp_path):
    loaded = load_extract(duckdb_demo(tmp_path / "e.duckdb", schema="registry"))
    assert loaded.con.execute("SELECT count(*) FROM patients").fetchall() == [(34,)]


def test_tables_in_a_schema_named_like_the_file_are_read(tmp_path):
    # The file registry.duckdb is the catalog `registry`: `registry.patients` alone would be ambiguous.
    path = duckdb_demo(tmp_path / "e.duckdb", schema="registry").rename(tmp_path / "registry.duckdb")
    loaded = load_extract(path)
    assert loaded.con.execute("SELECT count(*) FROM patients").fetchall() == [(34,)]


def test_a_table_in_two_schemas_is_fatal_naming_both(tmp_path):
    path = duckdb_demo(tmp_path / "e.duckdb", schema="registry")
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE main.imaging AS SELECT * FROM registry.imaging")
    [problem] = fatal(path)
    assert (problem.table, problem.value) == ("imaging", "main.imaging (table), registry.imaging (table)")
    assert "more than one schema" in problem.message


def test_a_view_named_like_a_table_is_fatal(tmp_path):
    path = duckdb_demo(tmp_path / "e.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE tumours RENAME TO tumours_data")
        con.execute("CREATE VIEW tumours AS SELECT * FROM tumours_data")
    [problem] = fatal(path)
    assert problem.table == "tumours" and "is a view: only tables are read" in problem.message


NOT_DUCKDB = {
    "SQLite database": lambda path: _sqlite(path),
    "PostgreSQL dump": lambda path: path.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(64)),
    "zip archive (an Excel .xlsx workbook?)": lambda path: zipfile.ZipFile(path, "w").close(),
    "Excel .xls workbook": lambda path: path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64)),
    "Parquet file": lambda path: path.write_bytes(_csv_as_parquet(TEXT["patients"])),
    "empty file": lambda path: path.write_bytes(b""),
    "text file": lambda path: path.write_text(TEXT["patients"]),
    "gzip archive": lambda path: path.write_bytes(b"\x1f\x8b\x08" + bytes(32)),
}


def _sqlite(path: Path) -> None:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE patients (patient_id TEXT)")
    con.close()


@pytest.mark.parametrize("kind", sorted(NOT_DUCKDB))
@pytest.mark.parametrize("suffix", [".db", ".xlsx"])
def test_a_file_that_is_not_a_duckdb_database_is_refused_by_its_first_bytes(tmp_path, capsys, kind, suffix):
    path = tmp_path / f"registry{suffix}"
    NOT_DUCKDB[kind](path)
    with pytest.raises(UsageError, match=f"is an? {re.escape(kind)}"):
        load_extract(path)
    code = main(["screen", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "not a DuckDB database" in err and "Traceback" not in err


def test_a_duckdb_file_is_known_by_its_content_not_its_name(tmp_path):
    path = duckdb_demo(tmp_path / "registry-export.bin")
    assert load_extract(path).con.execute("SELECT count(*) FROM imaging").fetchall() == [(130,)]


def test_the_other_tables_are_still_checked_when_one_is_unreadable(tmp_path):
    """An unreadable file is one fatal problem among all the others found, not the first and only."""
    rows = [line.split(",") for line in lines("lesions")]
    rows[1][rows[0].index("size_mm")] = "1_0"
    folder = write_demo(tmp_path, lesions="\n".join(map(",".join, rows)) + "\n", imaging=b"\x00\x01")
    named = {(p.table, p.column) for p in fatal(folder)}
    assert {("imaging", None), ("lesions", "size_mm")} <= named
    assert all(t in tables() for t, _ in named)
