"""`import nkr|omop` on sources damaged the way users' files arrive: every damage of `tests/safety/damaged_inputs.py`
to the NKR file, paths that are not files wherever the importers read one (the NKR file, `--items`, a side file
of `--imaging`, an OMOP table), Parquet columns holding several values per cell (of every nested type), OMOP
tables in UTF-16, item maps in CSV with a key twice or a line that is not a key and a name, and item maps (generated)
naming a column the file lacks or giving one column two keys. Each through the command line: exit 2 with file, column, row and value named (or 0 where the file is still good), nothing
written on 2, the source unchanged.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from oligo_cohort.importers.nkr.items import DEFAULT_ITEMS
from tests.draws import costly_draws
from tests.importers.test_import_nkr import HEADER, ROWS
from tests.importers.test_import_omop import omop_tables, write_folder
from tests.safety.damaged_inputs import NOT_FILES, TEXT_DAMAGES, answered, damaged, not_a_file

NKR = ("\n".join([HEADER, *ROWS]) + "\n").encode()
COLUMNS = HEADER.split(";")
AGE = COLUMNS.index("leeft")  # read as a number: a long value there is named


def nkr_import(source: Path, out: Path, *options: str) -> list[str]:
    return ["import", "nkr", str(source), "--out", str(out), *options]


# What each damage to the first row's age (or the file) must be answered with: (exit code, a regular expression).
EXPECTED = {
    "utf-16": (2, "nkr.csv: UTF-16 text"),
    "utf-16 without its mark": (2, "nkr.csv: line 1 holds NUL bytes"),
    "latin-1 byte": (0, None),  # read as Windows-1252, with a note in the mapping report
    "nul byte in a cell": (2, r"nkr.csv.leeft row 1: value '5\\\\x005': holds a NUL byte"),
    "quote left open": (2, "nkr.csv: a quote opened on line 2 is not closed"),
    "empty": (2, "nkr.csv: the file is empty"),
    "blank lines only": (2, "nkr.csv: the file is empty"),
    "header only": (2, "patients: no patients: nothing to screen"),
    "column named twice": (2, rf"nkr.csv.leeft: named twice in the header \(columns {AGE + 1} and 39\)"),
    "required column missing": (2, r"nkr.csv.key_nkr: required item missing \(patient_id"),  # the first column
    "row too short": (2, "nkr.csv.mal1_int row 1: value '101;.*': the row has 37 fields where the header has 38"),
    "row too long": (2, "nkr.csv row 1: value '101;1;DIA;.*…': the row has 39 fields where the header has 38"),
    "very long value": (2, "nkr.csv.leeft row 1 \\(101\\): value 'x{59}…'"),
    "workbook bytes": (2, r"nkr.csv: a zip archive \(an Excel \.xlsx workbook\?\), not a text file"),
}


@pytest.mark.parametrize("damage", TEXT_DAMAGES)
def test_a_damaged_nkr_file_is_refused_naming_file_column_row_and_value(tmp_path, damage):
    source = tmp_path / "nkr.csv"
    column = 0 if damage == "required column missing" else AGE
    source.write_bytes(damaged(NKR, damage, delimiter=";", row=1, column=column))
    out = tmp_path / "out"
    said = answered(nkr_import(source, out), inputs=[source], out=out)
    code, pattern = EXPECTED[damage]
    assert said.code == code, said.err
    if pattern is not None:
        assert re.search(pattern, said.err), (pattern, said.err)
        assert len(said.err) < 3000
    if damage == "latin-1 byte":
        assert "nkr.csv is not UTF-8 (first on line 2): read as Windows-1252" in (out / "mapping_report.md").read_text()


def _nkr_with_side_folder(tmp_path: Path) -> tuple[Path, Path]:
    source = tmp_path / "nkr.csv"
    source.write_bytes(NKR)
    side = tmp_path / "side"
    side.mkdir()
    (side / "imaging.csv").write_text("study_id,patient_id,study_date,modality\n1-a,101,2023-01-05,CT\n")
    return source, side


NAMED = {
    "folder": "a folder",
    "fifo": "a named pipe (FIFO)",
    "broken link": "a broken link",
    "link loop": "a link loop",
}


# An input given on the command line that is a link loop stops the destination's checks first (not the reader's).
PLACES = [
    (where, kind)
    for where in ("the NKR file", "--items", "a side file", "an OMOP table")
    for kind in NOT_FILES
    if not (kind == "link loop" and where in ("the NKR file", "--items"))
]


@pytest.mark.parametrize(("where", "kind"), PLACES)
def test_a_path_that_is_not_a_file_is_named_wherever_the_importers_read_one(tmp_path, where, kind):
    source, side = _nkr_with_side_folder(tmp_path)
    out = tmp_path / "out"
    if where == "the NKR file":
        broken, argv, inputs = source, nkr_import(source, out), []
    elif where == "--items":
        broken = tmp_path / "items.yaml"
        argv, inputs = nkr_import(source, out, "--items", str(broken)), [source]
    elif where == "a side file":
        broken = side / "lesions.csv"
        argv, inputs = nkr_import(source, out, "--imaging", str(side)), [source, side]
    else:
        folder = write_folder(omop_tables(), tmp_path / "cdm")
        broken, argv, inputs = (
            folder / "drug_exposure.csv",
            ["import", "omop", str(folder), "--out", str(out)],
            [folder],
        )
    not_a_file(broken, kind)
    said = answered(argv, inputs=inputs, out=out)
    assert said.code == 2 and f"{broken}: {NAMED[kind]}, not a file" in said.err, said.err


NESTED = {
    "list": pa.list_(pa.string()),
    "large list": pa.large_list(pa.string()),
    "fixed-size list": pa.list_(pa.string(), 2),
    "struct": pa.struct([("value", pa.string())]),
    "map": pa.map_(pa.string(), pa.string()),
}


def _nested_value(kind: str):
    return {"struct": {"value": "x"}, "map": [("k", "v")]}.get(kind, ["x", "y"])


@pytest.mark.parametrize("kind", sorted(NESTED))
def test_a_parquet_column_of_several_values_per_cell_is_refused_in_the_extract_readers_words(tmp_path, kind):
    """In an NKR file and in a side file alike (a flat file holds one value per cell)."""
    source, side = _nkr_with_side_folder(tmp_path)
    lesions = pa.table(
        {
            "study_id": ["1-a"],
            "patient_id": ["101"],
            "lesion_id": pa.array([_nested_value(kind)], type=NESTED[kind]),
            "location": ["distant"],
            "organ": ["liver"],
        }
    )
    pq.write_table(lesions, side / "lesions.parquet")
    out = tmp_path / "out"
    said = answered(nkr_import(source, out, "--imaging", str(side)), inputs=[source, side], out=out)
    assert said.code == 2, said.err
    assert "lesions.parquet.lesion_id: column 'lesion_id' is of type" in said.err, said.err
    assert "several values in one cell, where the model has one" in said.err
    rows = [row.split(";") for row in ROWS]
    nkr = pa.table({name: [row[k] or None for row in rows] for k, name in enumerate(COLUMNS)})
    nkr = nkr.set_column(COLUMNS.index("ziekenhuis"), "ziekenhuis", pa.array([_nested_value(kind)] * 4, NESTED[kind]))
    pq.write_table(nkr, tmp_path / "nkr.parquet")
    said = answered(nkr_import(tmp_path / "nkr.parquet", out), inputs=[tmp_path / "nkr.parquet"], out=out)
    assert said.code == 2 and "nkr.parquet.ziekenhuis: column 'ziekenhuis' is of type" in said.err, said.err


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_an_omop_table_in_utf16_is_named_not_read_as_noise(tmp_path, encoding):
    folder = write_folder(omop_tables(), tmp_path / "cdm")
    table = folder / "person.csv"
    table.write_bytes(table.read_text(encoding="utf-8").encode(encoding))
    out = tmp_path / "out"
    said = answered(["import", "omop", str(folder), "--out", str(out)], inputs=[folder], out=out)
    reason = "UTF-16 text" if encoding == "utf-16" else "line 1 holds NUL bytes"
    assert said.code == 2 and f"{table}: {reason}" in said.err, said.err


def test_an_omop_parquet_column_of_several_values_is_refused_where_it_is_read(tmp_path):
    tables = omop_tables()
    folder = write_folder({k: v for k, v in tables.items() if k != "measurement"}, tmp_path / "cdm")
    measurement = pa.Table.from_pandas(tables["measurement"].astype("string"), preserve_index=False)
    position = measurement.column_names.index("value_as_number")
    nested = pa.array([["1"]] * measurement.num_rows, pa.list_(pa.string()))
    unused = pa.array([["a"]] * measurement.num_rows, pa.list_(pa.string()))
    measurement = measurement.set_column(position, "value_as_number", nested).append_column("notes", unused)
    pq.write_table(measurement, folder / "measurement.parquet")
    out = tmp_path / "out"
    said = answered(["import", "omop", str(folder), "--out", str(out)], inputs=[folder], out=out)
    assert said.code == 2, said.err
    assert "measurement.value_as_number: column 'value_as_number' is of type VARCHAR[]: several values" in said.err
    assert "notes" not in said.err  # a column the mapping does not read is never read


ITEM_MAPS = {
    "a key twice": (b"key,item\npatient_id,key_nkr\npatient_id,other\n", "line 3: key 'patient_id' is given again"),
    "three fields": (b"key,item\npatient_id,key_nkr,extra\n", "line 2: expected a key and an item name"),
    "one field": (b"key,item\npatient_id\n", "line 2: expected a key and an item name, found 'patient_id'"),
    "a quote left open": (b'key,item\npatient_id,"key_nkr\n', "a quote opened on line 2 is not closed"),
    "an empty name": (b"key,item\npatient_id,\n", "patient_id: the item name is empty"),
    "UTF-16": ("key,item\npatient_id,key_nkr\n".encode("utf-16"), "UTF-16 text"),
}


@pytest.mark.parametrize("case", sorted(ITEM_MAPS))
def test_an_item_map_in_csv_that_is_not_a_key_and_a_name_per_line_is_refused(tmp_path, case):
    content, message = ITEM_MAPS[case]
    items = tmp_path / "items.csv"
    items.write_bytes(content)
    source = tmp_path / "nkr.csv"
    source.write_bytes(NKR)
    out = tmp_path / "out"
    said = answered(nkr_import(source, out, "--items", str(items)), inputs=[source, items], out=out)
    assert said.code == 2 and f"--items {items}: " in said.err and message in said.err, said.err


ITEM_MAP_CASES = settings(
    max_examples=costly_draws(30),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)


def _with_item_map(tmp: Path, lines: list[tuple[str, str]], as_csv: bool) -> tuple[Path, list[str], list[Path]]:
    items = tmp / ("items.csv" if as_csv else "items.yaml")
    if as_csv:
        items.write_text("key,item\n" + "".join(f"{key},{name}\n" for key, name in lines), encoding="utf-8")
    else:
        items.write_text("".join(f"{key}: '{name}'\n" for key, name in lines), encoding="utf-8")
    source = tmp / "nkr.csv"
    source.write_bytes(NKR)
    return items, nkr_import(source, tmp / "out", "--items", str(items)), [source, items]


@ITEM_MAP_CASES
@given(key=st.sampled_from(sorted(DEFAULT_ITEMS)), name=NAMES, as_csv=st.booleans())
def test_an_item_map_naming_a_column_the_file_lacks_is_refused_naming_key_and_column(key, name, as_csv):
    """Whichever key it is, required or not: the item would otherwise be read as empty on every record."""
    name = f"{name}_{{n}}" if "{n}" in DEFAULT_ITEMS[key] else name
    assume(name.replace("{n}", "1") not in COLUMNS and name not in DEFAULT_ITEMS.values())
    with tempfile.TemporaryDirectory(prefix="oligo-items-") as folder:
        items, argv, inputs = _with_item_map(Path(folder), [(key, name)], as_csv)
        said = answered(argv, inputs=inputs, out=Path(folder) / "out")
    assert said.code == 2, said.err
    assert "cannot be imported: 1 problem\n" in said.err, said.err
    assert f"nkr.csv.{name}: no such column" in said.err and f"--items {items} names it for {key}" in said.err


@ITEM_MAP_CASES
@given(keys=st.lists(st.sampled_from(sorted(DEFAULT_ITEMS)), min_size=2, max_size=2, unique=True), as_csv=st.booleans())
def test_an_item_map_giving_one_column_two_keys_is_refused_naming_both(keys, as_csv):
    """`hospital: gesl` would read the sex code as the hospital: which item the column holds cannot be known."""
    first, second = keys
    assume(("{n}" in DEFAULT_ITEMS[first]) == ("{n}" in DEFAULT_ITEMS[second]))
    with tempfile.TemporaryDirectory(prefix="oligo-items-") as folder:
        items, argv, inputs = _with_item_map(Path(folder), [(second, DEFAULT_ITEMS[first])], as_csv)
        said = answered(argv, inputs=inputs, out=Path(folder) / "out")
    both = " and ".join(key for key in DEFAULT_ITEMS if key in keys)
    assert said.code == 2 and f"--items {items}: column {DEFAULT_ITEMS[first]!r} is given for {both}" in said.err, (
        said.err
    )


@ITEM_MAP_CASES
@given(
    table=st.sampled_from(["imaging", "lesions", "observations"]),
    suffix=st.sampled_from([".tsv", ".txt", ".xlsx", ".csv.gz", ".parquet.zip", ".json", ".csv.xz"]),
    upper=st.booleans(),
    twice=st.booleans(),
)
def test_a_side_table_in_a_form_not_read_is_refused_never_skipped(table, suffix, upper, twice):
    """`lesions.csv.gz` beside `imaging.csv` was left out without a word: every patient then fails the imaging
    criteria. A side table given twice is named before either is read."""
    with tempfile.TemporaryDirectory(prefix="oligo-side-") as folder:
        source, side = _nkr_with_side_folder(Path(folder))
        name = f"{table}{suffix}".upper() if upper else f"{table}{suffix}"
        (side / name).write_bytes(b"study_id,patient_id\n")
        if twice:
            (side / name).unlink()
            (side / f"{table.upper()}.parquet").write_bytes(b"PAR1")
            (side / f"{table}.csv").write_text("study_id,patient_id\n")
        out = Path(folder) / "out"
        said = answered(nkr_import(source, out, "--imaging", str(side)), inputs=[source, side], out=out)
    assert said.code == 2, said.err
    if twice:
        assert f"{table} is given more than once" in said.err, said.err
    else:
        assert f"--imaging {side}: {name} is not read (only {table}.csv or {table}.parquet is)" in said.err, said.err
