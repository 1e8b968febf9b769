"""The reviewed extract reads as the extract plus the answers' records, whatever types and names its tables keep.

Any extract the screen reads, `review import` reads too: a table receiving records (observations,
performance_status, response_assessments) may keep a column in any type the readers accept for it (text, large
text, dictionary-encoded text, bytes; dates, timestamps at midnight; booleans as booleans, as 0/1 numbers or as
yes/no; scores as integers, floats or decimals; ids as numbers; a table without rows in any type at all), name it
in any case or with spaces around it, and sit in any schema of a DuckDB file. The new rows are written in the
column's own type where a cast keeps their value, else the column becomes text. The extracts are generated; each
is compared with the same extract written all as text CSV and given the same answers: both screens after review
write the same patients, events and reasons.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from oligo_cohort.api import screen
from oligo_cohort.cli import main
from oligo_cohort.dictionary import tables
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.review.export import export_review, write_review_csv
from oligo_cohort.review.importer import import_answers
from oligo_cohort.review.simulate import fill_answers
from tests.draws import costly_draws
from tests.importers.imported_once import folder_digest

TODAY = dt.date(2025, 6, 1)
RECEIVING = ("observations", "performance_status", "response_assessments")
COMPARED = ("patients.csv", "events.csv", "reasons.csv")
# Answers of both kinds, so that a boolean column receives true and false.
OVERRIDES = {("00217", "medical_risk"): "yes", ("20031", "informed_consent"): "no", ("00217", "who_ps"): "1"}


def _demo() -> dict[str, pa.Table]:
    """The demo's tables as text, as its CSV files hold them (empty cells missing)."""
    found = {}
    for file in sorted(demo_extract_dir().glob("*.csv")):
        names = pcsv.read_csv(file, read_options=pcsv.ReadOptions(autogenerate_column_names=False)).column_names
        options = pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True)
        found[file.stem] = pcsv.read_csv(file, convert_options=options)
    return found


DEMO = _demo()


def _dates(to: pa.DataType) -> Callable[[pa.Array], pa.Array]:
    return lambda text: pc.cast(pc.cast(text, pa.date32()), to)


def _booleans(to: pa.DataType, true: object = 1, false: object = 0) -> Callable[[pa.Array], pa.Array]:
    return lambda text: pa.array([None if v is None else true if v == "true" else false for v in text.to_pylist()], to)


# Each way a column may be kept, from its text; every one keeps the demo's values as the screen reads them.
TEXT = {
    "text": lambda text: text,
    "large text": lambda text: text.cast(pa.large_string()),
    "dictionary": lambda text: text.dictionary_encode(),
    "bytes": lambda text: text.cast(pa.binary()),
}
KEPT_AS: dict[str, dict[str, Callable[[pa.Array], pa.Array]]] = {
    "string": TEXT,
    "code": TEXT,
    "date": {
        **TEXT,
        "date32": _dates(pa.date32()),
        "date64": _dates(pa.date64()),
        **{f"timestamp[{unit}]": _dates(pa.timestamp(unit)) for unit in ("s", "ms", "us", "ns")},
    },
    "boolean": {
        **TEXT,
        "bool": lambda text: pc.cast(text, pa.bool_()),
        **{f"{kind} 0/1": _booleans(getattr(pa, kind)()) for kind in ("int8", "int16", "int32", "int64", "uint8")},
        "decimal(1,0) 0/1": lambda text: _booleans(pa.string(), "1", "0")(text).cast(pa.decimal128(1, 0)),
        "yes/no": _booleans(pa.string(), "yes", "no"),
    },
    "integer": {
        **TEXT,
        **{kind: lambda text, kind=kind: pc.cast(text, getattr(pa, kind)()) for kind in ("int8", "int16", "uint8")},
        **{kind: lambda text, kind=kind: pc.cast(text, getattr(pa, kind)()) for kind in ("int32", "int64", "float32")},
        "float64": lambda text: pc.cast(text, pa.float64()),
        "decimal(5,2)": lambda text: pc.cast(text, pa.decimal128(5, 2)),
    },
}
# A table without rows may keep a column in any type: the readers have no value to refuse. Most hold no faithful
# cast of the new values (a date into numbers, a boolean into floats, which read as `1.0`).
ANY_TYPE = {
    "text": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "decimal(3,1)": pa.decimal128(3, 1),
    "bool": pa.bool_(),
    "date32": pa.date32(),
    "timestamp with time zone": pa.timestamp("us", tz="Europe/Amsterdam"),
}
SPELLINGS: dict[str, Callable[[str], str]] = {
    "as is": lambda name: name,
    "upper": str.upper,
    "title": str.title,
    "padded": lambda name: f" {name} ",
    "upper padded": lambda name: f"  {name.upper()}\t",
}


@st.composite
def layouts(draw) -> dict[str, object]:
    """Where the extract is (Parquet folder, DuckDB file and schema) and how each receiving table keeps each column."""
    kinds = ["parquet", "parquet and csv", "csv", "duckdb", "duckdb registry"]
    layout: dict[str, object] = {"kind": draw(st.sampled_from(kinds))}
    for name in RECEIVING:
        empty = draw(st.sampled_from([False, False, False, True]))
        kept = {}
        for column in tables()[name].columns:
            ways = sorted(ANY_TYPE) if empty else sorted(KEPT_AS[column.type])
            kept[column.name] = (draw(st.sampled_from(ways)), draw(st.sampled_from(sorted(SPELLINGS))))
        layout[name] = {"empty": empty, "table": draw(st.sampled_from(sorted(SPELLINGS)[:3])), "columns": kept}
    return layout


def typed_tables(layout: dict[str, object]) -> dict[str, pa.Table]:
    """The demo's tables, the receiving ones kept as `layout` says (the others as text)."""
    found = dict(DEMO)
    for name in RECEIVING:
        spec = layout[name]
        text = DEMO[name]
        columns, names = [], []
        for column, (way, spelling) in spec["columns"].items():
            if spec["empty"]:
                columns.append(pa.array([], ANY_TYPE[way]))
            else:
                kind = next(c.type for c in tables()[name].columns if c.name == column)
                columns.append(KEPT_AS[kind][way](text.column(column).combine_chunks()))
            names.append(SPELLINGS[spelling](column))
        found[name] = pa.table(columns, names=names)
    return found


def write_extract(layout: dict[str, object], typed: dict[str, pa.Table], folder: Path) -> Path:
    """The tables as a folder of Parquet files (the tables receiving no records as CSV files, if the layout says
    so), of CSV files (text, the columns named as spelt), or as a DuckDB file (in schema `registry`, if so)."""
    folder.mkdir()
    if layout["kind"] in ("parquet", "parquet and csv", "csv"):
        for name, table in typed.items():
            if layout["kind"] == "csv" or (layout["kind"] == "parquet and csv" and name not in RECEIVING):
                text = {field.name: pc.cast(table.column(field.name), pa.string()) for field in table.schema}
                pa.table(text).to_pandas().to_csv(folder / f"{name}.csv", index=False)
            else:
                pq.write_table(table, folder / f"{name}.parquet")
        return folder
    path = folder / "extract.duckdb"
    schema = "registry" if layout["kind"] == "duckdb registry" else "main"
    con = duckdb.connect(str(path))
    try:
        if schema != "main":
            con.execute(f"CREATE SCHEMA {schema}")
        for name, table in typed.items():
            spelt = SPELLINGS[layout[name]["table"]](name).strip() if name in RECEIVING else name
            con.register("frame", table)
            # A dictionary column becomes an ENUM, as a database keeps a closed list of codes.
            selected = ", ".join(
                f'CAST("{f.name}" AS ENUM({_listed(table.column(f.name))})) AS "{f.name}"'
                if pa.types.is_dictionary(f.type) and table.column(f.name).null_count < table.num_rows
                else f'"{f.name}"'
                for f in table.schema
            )
            con.execute(f'CREATE TABLE {schema}."{spelt}" AS SELECT {selected} FROM frame')
            con.unregister("frame")
    finally:
        con.close()
    # Named like the schema: the file's catalog is `registry` too, which SQL must tell apart from the schema.
    return path.rename(folder / "registry.duckdb")


def _listed(column: pa.ChunkedArray) -> str:
    return ", ".join(f"'{value}'" for value in column.unique().drop_null().to_pylist())


def as_text_csv(typed: dict[str, pa.Table], folder: Path) -> Path:
    """The same tables written all as text CSV, columns named as the model reads them."""
    folder.mkdir()
    for name, table in typed.items():
        text = {field.name.strip().lower(): pc.cast(table.column(field.name), pa.string()) for field in table.schema}
        frame = pa.table(text).to_pandas()
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> tuple[Path, dt.date]:
    """Every question of the demo's review answered (true and false answers both), beside the export's cut-off."""
    base = tmp_path_factory.mktemp("formats")
    first = screen(demo_extract_dir())
    first.write(base / "screen")
    rows = export_review(base / "screen", base / "review").rows
    write_review_csv(fill_answers(rows, answered_by="R. Visser", overrides=OVERRIDES), base / "review" / "a.csv")
    return base / "review" / "a.csv", first.as_of


def reviewed_screen(answers: Path, extract: Path, base: Path, as_of: dt.date) -> dict[str, pd.DataFrame]:
    """Import the answers into the extract and screen the reviewed extract: the files compared."""
    import_answers([answers], extract, base / "reviewed", today=TODAY)
    screen(base / "reviewed", as_of=as_of).write(base / "after")
    return {file: pd.read_csv(base / "after" / file, dtype=str, keep_default_na=False) for file in COMPARED}


# What the extract written all as text CSV gives, by the content of its files, the answers and the cut-off: many
# layouts write the same text (a boolean kept as 0/1 in any integer type, names in any case, bytes as text).
_FROM_TEXT: dict[tuple[bytes, bytes, dt.date], dict[str, pd.DataFrame]] = {}


def reviewed_text_screen(
    answers: Path, typed: dict[str, pa.Table], base: Path, as_of: dt.date
) -> dict[str, pd.DataFrame]:
    """`reviewed_screen` of the tables written all as text CSV (`as_text_csv`), imported and screened once for each
    content of the CSV files."""
    extract = as_text_csv(typed, base / "csv")
    key = (folder_digest(extract), answers.read_bytes(), as_of)
    if key not in _FROM_TEXT:
        _FROM_TEXT[key] = reviewed_screen(answers, extract, base / "from_csv", as_of)
    return {file: frame.copy() for file, frame in _FROM_TEXT[key].items()}


def _layout(kind: str, **kept: dict[str, tuple[str, str]]) -> dict[str, object]:
    """A layout keeping every column as text, as is, but those given (table -> column -> (way, spelling))."""
    layout: dict[str, object] = {"kind": kind}
    for name in RECEIVING:
        columns = {c.name: ("text", "as is") for c in tables()[name].columns}
        columns.update(kept.get(name, {}))
        layout[name] = {"empty": False, "table": "as is", "columns": columns}
    return layout


def _empty(layout: dict[str, object], name: str, **kept: tuple[str, str]) -> dict[str, object]:
    columns = {c.name: ("text", "as is") for c in tables()[name].columns}
    return {**layout, name: {"empty": True, "table": "as is", "columns": {**columns, **kept}}}


@settings(max_examples=costly_draws(4), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts())
# The reported cases: a boolean kept as 0/1 numbers; tables in another schema; names in upper case or padded.
@example(layout=_layout("parquet", observations={"value": ("int8 0/1", "as is")}))
@example(layout=_layout("duckdb", observations={"value": ("int32 0/1", "as is")}))
@example(layout=_layout("duckdb registry"))
@example(
    layout=_layout(
        "parquet",
        observations={"patient_id": ("text", "upper"), "code": ("text", "padded"), "value": ("bool", "upper")},
        performance_status={"score": ("int64", "title")},
        response_assessments={"response": ("dictionary", "upper padded")},
    )
)
# No faithful cast: ids `00217` into numbers, a boolean into floats, a date into numbers or a timestamp with a
# time zone, a score into booleans: the column becomes text.
@example(
    layout=_empty(
        _empty(
            _empty(_layout("duckdb registry"), "observations", patient_id=("int64", "upper")),
            "performance_status",
            score=("bool", "as is"),
            assessment_date=("timestamp with time zone", "padded"),
        ),
        "response_assessments",
        assessment_date=("int32", "as is"),
        response=("float64", "title"),
    )
)
@example(layout=_empty(_layout("parquet"), "observations", value=("float64", "as is"), start_date=("int32", "upper")))
# CSV whose every column name is padded with a tab (`  PATIENT_ID\t,`): more tabs than commas in the header.
@example(
    layout=_layout(
        "csv",
        response_assessments={c: ("bytes", "upper padded") for c in ("patient_id", "assessment_date", "response")},
    )
)
def test_a_reviewed_extract_reads_as_the_same_extract_kept_as_text_csv(answers, layout):
    answer_file, as_of = answers
    typed = typed_tables(layout)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        expected = reviewed_text_screen(answer_file, typed, base, as_of)
        got = reviewed_screen(answer_file, write_extract(layout, typed, base / "typed"), base / "from_typed", as_of)
    for file in COMPARED:
        pd.testing.assert_frame_equal(got[file], expected[file], obj=file)


def test_the_command_line_imports_into_a_boolean_kept_as_numbers_and_keeps_the_type(answers, tmp_path):
    answer_file, _ = answers
    layout = _layout("parquet", observations={"value": ("int8 0/1", "as is")})
    extract = write_extract(layout, typed_tables(layout), tmp_path / "extract")
    assert main(["review", "import", str(answer_file), "--extract", str(extract), "--out", str(tmp_path / "r")]) == 0
    observations = pq.read_table(tmp_path / "r" / "observations.parquet")
    assert observations.schema.field("value").type == pa.int8()
    added = observations.slice(DEMO["observations"].num_rows).to_pydict()
    risk = [v for c, p, v in zip(added["code"], added["patient_id"], added["value"], strict=True)
            if (p, c) == ("00217", "medical_risk")]  # fmt: skip
    assert risk == [1] and set(added["value"]) == {0, 1}


@pytest.mark.parametrize("kind", ["parquet", "duckdb registry"])
def test_a_column_no_cast_fits_becomes_text_holding_the_values_as_read(answers, tmp_path, kind):
    """Ids kept as numbers (the rows of patients whose ids a number holds): `00217` is no number, so the column
    becomes text, its ids as the extract's reader read them; the scores and scales keep their types, and a column
    the model lacks (lists of numbers) its values."""
    answer_file, _ = answers
    layout = _layout(kind, performance_status={"score": ("int16", "upper"), "scale": ("bytes", "as is")})
    typed = typed_tables(layout)
    patients = typed["performance_status"].column("patient_id").to_pylist()
    numbered = [k for k, patient in enumerate(patients) if not patient.startswith("0")]
    table = typed["performance_status"].take(numbered)
    table = table.set_column(0, "Patient_ID", pc.cast(table.column(0), pa.int64()))
    notes = pa.array([[k, k + 1] for k in range(table.num_rows)], pa.list_(pa.int32()))
    typed["performance_status"] = table.append_column("visits", notes)
    extract = write_extract(layout, typed, tmp_path / "extract")
    import_answers([answer_file], extract, tmp_path / "r", today=TODAY)
    status = pq.read_table(tmp_path / "r" / "performance_status.parquet")
    assert status.schema.field("Patient_ID").type == pa.string()
    assert status.schema.field("SCORE").type == pa.int16() and status.schema.field("scale").type == pa.binary()
    ids = status.column("Patient_ID").to_pylist()
    assert ids[: len(numbered)] == [patients[k] for k in numbered]
    assert "00217" in ids[len(numbered) :]
    visits = status.column("visits").to_pylist()
    if kind == "parquet":
        assert visits == [[k, k + 1] for k in range(len(numbered))] + [None] * (len(ids) - len(numbered))
    else:  # a list holds no model value: the database's reader's text is kept
        assert visits == [f"[{k}, {k + 1}]" for k in range(len(numbered))] + [None] * (len(ids) - len(numbered))


def test_a_duckdb_table_of_types_parquet_cannot_keep_is_copied_as_its_reader_read_it(answers, tmp_path):
    """Columns the model lacks, of any type (an INTERVAL, a UNION), and values kept in a type Parquet has not (a
    BIGNUM score) are written as the text the database's reader read."""
    answer_file, as_of = answers
    layout = _layout("duckdb")
    extract = write_extract(layout, typed_tables(layout), tmp_path / "extract")
    con = duckdb.connect(str(extract))
    con.execute("ALTER TABLE observations ADD COLUMN waited INTERVAL DEFAULT INTERVAL 3 DAY")
    con.execute("ALTER TABLE patients ADD COLUMN kind UNION(n INTEGER, t VARCHAR) DEFAULT 1")
    con.execute("ALTER TABLE performance_status ALTER score TYPE VARINT USING CAST(score AS VARINT)")
    con.close()
    import_answers([answer_file], extract, tmp_path / "r", today=TODAY)
    expected = reviewed_text_screen(answer_file, typed_tables(layout), tmp_path, as_of)
    screen(tmp_path / "r", as_of=as_of).write(tmp_path / "after")
    for file in COMPARED:
        got = pd.read_csv(tmp_path / "after" / file, dtype=str, keep_default_na=False)
        pd.testing.assert_frame_equal(got, expected[file], obj=file)
