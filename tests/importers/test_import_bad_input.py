"""Importers on damaged sources: every problem named (file, column, row, value), exit 2, nothing written, no crash.

The cases start from the importer fixtures of `tests/importers/test_import_nkr.py` and
`tests/importers/test_import_omop.py`: numbers no registry writes (`1e400`, `inf`, `nan`, 40 digits, `-0`), rows with
more or fewer fields than the header, a delimiter closing every row, a column named twice, Latin-1 text, NUL bytes,
damaged Parquet. The property tests then damage the same fixtures at random, cell by cell and byte by byte: every
damage ends in an import (exit 0) or a list of problems (exit 2), never a traceback; the source is never changed; on
exit 2 nothing is written. Derandomized, so the run is repeatable.
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.cli import main
from oligo_cohort.errors import InputError, UsageError
from oligo_cohort.importers import import_nkr, import_omop
from oligo_cohort.importers.nkr.events import RESPONSE
from oligo_cohort.problems import Problem
from tests.draws import costly_draws
from tests.importers.test_import_nkr import HEADER, ROWS
from tests.importers.test_import_omop import omop_tables, write_folder

NKR_COLUMNS = HEADER.split(";")
NKR_ROWS = [row.split(";") for row in ROWS]
# Numbers no registry writes: each must be named as a problem wherever the importer reads a number.
UNUSABLE_NUMBERS = ["1e400", "inf", "-inf", "nan", "1" * 40]


def nkr_text(header: list[str] = NKR_COLUMNS, rows: list[list[str]] = NKR_ROWS, end: str = "") -> str:
    """The NKR fixture as file text, each line ending in `end` (a trailing delimiter) when given."""
    return "".join(";".join(fields) + end + "\n" for fields in [header, *rows])


def with_cell(column: str, value: str, row: int | None = None) -> list[list[str]]:
    """The fixture's rows with `column` set to `value` (in one row, or every row)."""
    position = NKR_COLUMNS.index(column)
    return [
        [*fields[:position], value, *fields[position + 1 :]] if row in (None, number) else list(fields)
        for number, fields in enumerate(NKR_ROWS)
    ]


def nkr_problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        import_nkr(path)
    return [problem.describe() for problem in caught.value.problems]


@pytest.fixture(scope="module")
def nkr_baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    path = tmp_path_factory.mktemp("nkr") / "nkr.csv"
    path.write_text(nkr_text(), encoding="utf-8")
    return import_nkr(path).tables


def assert_same_tables(found: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    assert list(found) == list(expected)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(found[name].reset_index(drop=True), frame.reset_index(drop=True))


# --- NKR ----------------------------------------------------------------------------------------------------


# Every item the NKR adapter reads as a number; all are read for patient 102 (the third data row).
NKR_NUMBERS = ["syst_start_int1", "meta_int1", "vit_stat_int", "leeft", "perf_stat", "chemo", "cm"]


@pytest.mark.parametrize("value", UNUSABLE_NUMBERS)
def test_nkr_unusable_numbers_are_named(tmp_path: Path, value: str) -> None:
    rows = NKR_ROWS
    for column in NKR_NUMBERS:
        rows = [list(r) for r in rows]
        rows[2][NKR_COLUMNS.index(column)] = value
    path = tmp_path / "nkr.csv"
    path.write_text(nkr_text(rows=rows), encoding="utf-8")
    described = nkr_problems(path)
    for column in NKR_NUMBERS:
        assert any(d.startswith(f"nkr.csv.{column} row 3 (102): value {value[:59]!r}") for d in described), column
    assert len(described) == len(set(described))  # each cell once, however many mappings read it


def test_nkr_a_value_read_by_two_mappings_is_one_problem(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """meta_int1 dates the metastasis and, on a record whose performance status has no interval item, the status
    too (101's follow-up record): an unusable value is still one problem, listed and counted once."""
    path = tmp_path / "nkr.csv"
    path.write_text(nkr_text(rows=with_cell("meta_int1", "abc", row=1)), encoding="utf-8")
    assert nkr_problems(path) == [
        "nkr.csv.meta_int1 row 2 (101): value 'abc': not a whole number of days (at most 150 years)"
    ]
    assert main(["import", "nkr", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "cannot be imported: 1 problem\n" in err and err.count("'abc'") == 1


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (  # 102's trastuzumab stops 5 days after incidence, 5 days before it starts
            HEADER,
            ";".join(with_cell("syst_stop_int1", "5", row=2)[2]),
            "nkr.csv.syst_stop_int1 row 1 (102): value '5': the stop (2021-07-06) is before the start (2021-07-11)",
        ),
        (  # the stop date is read (not the empty interval beside it), and named as written
            "key_nkr;key_zid;incdat;topo_sublok;syst_code1;syst_start_int1;syst_stop_int1;syst_stop_dat1",
            "201;1;01-03-2019;C504;L02BG04;10;;06-03-2019",
            "nkr.csv.syst_stop_dat1 row 1 (201): value '06-03-2019': the stop (2019-03-06) is before the start "
            "(2019-03-11)",
        ),
    ],
    ids=["interval", "date"],
)
def test_nkr_a_stop_before_its_start_is_named_as_written(tmp_path: Path, header: str, row: str, expected: str) -> None:
    path = tmp_path / "nkr.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    assert nkr_problems(path) == [f"{expected} of the same drug"]


@pytest.mark.parametrize("value", UNUSABLE_NUMBERS)
def test_nkr_an_unusable_incidence_year_is_named(tmp_path: Path, value: str) -> None:
    path = tmp_path / "nkr.csv"
    path.write_text(nkr_text(rows=with_cell("incjr", value, row=2)), encoding="utf-8")  # 102 has no incdat
    assert nkr_problems(path) == [
        f"nkr.csv.incjr row 3 (102): value {value[:59]!r}: no incidence date, and the incidence year is not a year"
    ]


# A tumour-response code as a registry might mistype it: anything but CR, PR, SD, PD, MR or NE (any case, spaces
# around it), and not empty.
UNKNOWN_RESPONSES = st.one_of(
    st.sampled_from(["P D", "PD.", "PDD", "OD", "progressive", "0", "9", "RD", "CR/PR", "sd?", "PD;SD", '"PD"']),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n"), min_size=1, max_size=6),
).filter(lambda value: value.strip() and value.strip().upper() not in RESPONSE)


def nkr_file(path: Path, rows: list[list[str]]) -> Path:
    """The fixture's header and `rows`, written as a registry's export would be (fields quoted where needed)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\n").writerows([NKR_COLUMNS, *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@settings(max_examples=costly_draws(60), deadline=None)
@given(value=UNKNOWN_RESPONSES, row=st.integers(0, len(NKR_ROWS) - 1))
def test_nkr_an_unknown_response_code_is_a_problem_naming_row_and_value(value: str, row: int) -> None:
    """Every coded item refuses a code outside its list, the tumour response too: a mistyped PD dropped would
    silently change who is eligible (progressive disease decides the screen)."""
    with tempfile.TemporaryDirectory() as folder:
        path = nkr_file(Path(folder) / "nkr.csv", with_cell("respons_uitslag", value, row=row))
        with pytest.raises(InputError) as caught:
            import_nkr(path)
    assert caught.value.problems == [
        Problem(
            "fatal",
            "nkr.csv",
            "respons_uitslag",
            row + 1,
            NKR_ROWS[row][0],
            value.strip(),
            "not a tumour response code (CR, PR, SD, PD, MR, NE)",
        )
    ]


@pytest.mark.parametrize(("written", "read"), [("pd", "PD"), (" Cr ", "CR"), ("mr", "SD"), ("NE", "NE"), ("", None)])
def test_nkr_a_response_code_in_any_case_is_read_and_an_empty_one_is_none(tmp_path: Path, written, read) -> None:
    result = import_nkr(nkr_file(tmp_path / "nkr.csv", with_cell("respons_uitslag", written, row=1)))
    responses = result.tables["response_assessments"].values.tolist()
    assert responses == ([] if read is None else [["101", "2022-09-21", read]])
    assert not any("respons" in reason for (_, _, reason) in result.report.drops)


def test_nkr_a_response_without_a_date_is_dropped_and_counted(tmp_path: Path) -> None:
    """A readable code with neither a date nor an interval is no usable assessment: dropped, counted, no problem."""
    result = import_nkr(nkr_file(tmp_path / "nkr.csv", with_cell("respons_int", "", row=1)))
    assert result.tables["response_assessments"].empty
    drops = {reason: n for (_, table, reason), n in result.report.drops.items() if table == "response_assessments"}
    assert drops == {"response without a date or interval": 1}


def test_nkr_minus_zero_is_zero(tmp_path: Path, nkr_baseline) -> None:
    path = tmp_path / "nkr.csv"
    path.write_text(nkr_text(rows=with_cell("meta_int1", "-0", row=2)), encoding="utf-8")  # was 0
    assert_same_tables(import_nkr(path).tables, nkr_baseline)


@pytest.mark.parametrize("header_too", [False, True], ids=["data rows", "header and data rows"])
def test_nkr_a_delimiter_closing_every_row_shifts_no_column(tmp_path: Path, nkr_baseline, header_too: bool) -> None:
    path = tmp_path / "nkr.csv"
    lines = nkr_text(end=";").splitlines()
    if not header_too:
        lines[0] = lines[0].removesuffix(";")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = import_nkr(path)
    assert_same_tables(result.tables, nkr_baseline)
    assert any("ends with a delimiter" in note for note in result.report.notes) != header_too


@pytest.mark.parametrize(("change", "expected"), [(-5, "33 fields"), (+2, "40 fields")], ids=["short", "long"])
def test_nkr_a_row_with_fewer_or_more_fields_is_named(tmp_path: Path, change: int, expected: str) -> None:
    rows = [list(fields) for fields in NKR_ROWS]
    rows[1] = rows[1][:change] if change < 0 else [*rows[1], *["x"] * change]
    path = tmp_path / "nkr.csv"
    path.write_text(nkr_text(rows=rows), encoding="utf-8")
    described = nkr_problems(path)
    assert len(described) == 1 and described[0].startswith("nkr.csv")
    assert (
        " row 2: value '101;1;VERB" in described[0]
        and f"the row has {expected} where the header has 38" in (described[0])
    )


@pytest.mark.parametrize("duplicate", ["morf", "MORF"])
def test_nkr_a_column_named_twice_is_named(tmp_path: Path, duplicate: str) -> None:
    header = [duplicate if name == "gedrag" else name for name in NKR_COLUMNS]
    path = tmp_path / "nkr.csv"
    path.write_text(nkr_text(header=header), encoding="utf-8")
    assert nkr_problems(path) == ["nkr.csv.morf: named twice in the header (columns 9 and 10)"]


def test_nkr_latin1_is_read_as_windows_1252_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "nkr.csv"
    path.write_bytes(nkr_text(rows=with_cell("ziekenhuis", "Zoë", row=0)).encode("latin-1"))
    result = import_nkr(path)
    assert result.tables["patients"].set_index("patient_id").loc["101", "site_id"] == "Zoë"
    assert any("not UTF-8" in note and "Windows-1252" in note for note in result.report.notes)


def test_nkr_a_nul_byte_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nkr.csv"
    path.write_text(nkr_text(rows=with_cell("ziekenhuis", "A\x00VL", row=3)), encoding="utf-8")
    assert nkr_problems(path) == ["nkr.csv.ziekenhuis row 4: value 'A\\\\x00VL': holds a NUL byte: the file is damaged"]


@pytest.mark.parametrize("content", [b"PAR1garbagePAR1", b"", b"\xff\xfe\x00k\x00e\x00y\x00"])
def test_nkr_unreadable_files_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / ("nkr.parquet" if content.startswith(b"PAR1") else "nkr.csv")
    path.write_bytes(content)
    with pytest.raises(UsageError, match=r"cannot be read as Parquet|is empty|UTF-16"):
        import_nkr(path)


BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "patient_id: *i\n"
)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("patient_id: patient\n".encode("utf-16"), "UTF-16 text"),
        (b"patient_id: !!python/object/apply:os.system [echo]\n", "YAML tags such as .* are not allowed"),
        (b"patient_id: [a, b]\n", "patient_id: expected an item name"),
        (BOMB.encode(), "anchors and aliases"),
        (b"patient_id: [unclosed\n", "not valid YAML"),
        (b"patient_id: key_nkr\npatient_id: other\n", "key 'patient_id' is given twice"),
        (b"patient_id: yes\n", "patient_id: expected an item name"),
    ],
    ids=["UTF-16", "YAML tag", "a list", "an alias bomb", "broken YAML", "a key twice", "a boolean"],
)
def test_an_unusable_items_file_is_refused(tmp_path: Path, content: bytes, expected: str) -> None:
    items = tmp_path / "items.yaml"
    items.write_bytes(content)
    path = tmp_path / "nkr.csv"
    path.write_text(nkr_text(), encoding="utf-8")
    with pytest.raises(UsageError, match=expected):
        import_nkr(path, items=items)


def test_side_files_are_read_as_flat_files(tmp_path: Path) -> None:
    """A side folder's files are read like the NKR file: any delimiter; a short row is a problem naming it."""
    side = tmp_path / "side"
    side.mkdir()
    (side / "imaging.csv").write_text("study_id;patient_id;study_date;modality\n1-a;101;2023-01-05;CT\n", "utf-8")
    path = tmp_path / "nkr.csv"
    path.write_text(nkr_text(), encoding="utf-8")
    assert import_nkr(path, imaging=side).tables["imaging"].values.tolist() == [["1-a", "101", "2023-01-05", "CT"]]
    (side / "lesions.csv").write_text("study_id,patient_id,lesion_id,location,organ\n1-a,101,L1\n", "utf-8")
    with pytest.raises(InputError) as caught:
        import_nkr(path, imaging=side)
    assert [p.describe() for p in caught.value.problems] == [
        "lesions.csv.location row 1: value '1-a,101,L1': the row has 3 fields where the header has 5"
    ]


# --- OMOP ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def omop_baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    return import_omop(write_folder(omop_tables(), tmp_path_factory.mktemp("omop") / "cdm")).tables


def omop_problems(folder: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        import_omop(folder)
    return [problem.describe() for problem in caught.value.problems]


# Every OMOP field the adapter reads as a number, each damaged in a row where it is read.
OMOP_NUMBERS = [
    ("person", "year_of_birth", 1, "person.year_of_birth row 2 (2)"),  # no birth_datetime: the parts are read
    ("person", "month_of_birth", 2, "person.month_of_birth row 3 (3)"),
    ("drug_exposure", "days_supply", 0, "drug_exposure.days_supply row 1"),
    ("measurement", "value_as_number", 3, "measurement.value_as_number row 4"),  # the ECOG score
]


@pytest.mark.parametrize("value", UNUSABLE_NUMBERS)
def test_omop_unusable_numbers_are_named(tmp_path: Path, value: str) -> None:
    tables = omop_tables()
    for table, column, row, _ in OMOP_NUMBERS:
        tables[table].loc[row, column] = value
    tables["drug_exposure"].loc[0, "drug_exposure_end_date"] = None  # days_supply is read without an end date
    described = omop_problems(write_folder(tables, tmp_path / "cdm"))
    for *_, named in OMOP_NUMBERS:
        assert any(d.startswith(named) and f"value {value[:59]!r}" in d for d in described), named


def rewrite(folder: Path, table: str, edit) -> Path:
    path = folder / f"{table}.csv"
    path.write_bytes(edit(path.read_bytes()))
    return folder


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda b: b.replace(b"\n", b"\n101,1\n", 1), "row 1: value '101,1': the row has fewer fields"),
        (
            lambda b: b.replace(b"\n", b"\n1,2,3,4,5,6,7\n", 1),
            "condition_occurrence row 1: value '1,2,3,4,5,6,7': the row has more",
        ),
        (
            lambda b: b.replace(b"\n201,", b'\n"201,', 1),
            "condition_occurrence.condition_occurrence_id row 3: value '\"201,",
        ),
        (
            lambda b: b.replace(b"condition_source_value", b"PERSON_ID", 1),
            "condition_occurrence.person_id: named twice in the header (columns 2 and 5)",
        ),
        (
            lambda b: b.replace(b"C18.7", b"C1\x008.7"),
            "condition_occurrence.condition_source_value row 6: value 'C1\\\\x008.7': holds a NUL byte",
        ),
    ],
    ids=["short row", "long row", "unclosed quote", "column named twice", "NUL byte"],
)
def test_omop_rows_that_cannot_be_read_are_named(tmp_path: Path, edit, expected: str) -> None:
    folder = rewrite(write_folder(omop_tables(), tmp_path / "cdm"), "condition_occurrence", edit)
    described = omop_problems(folder)
    assert any(expected in d for d in described), described


@pytest.mark.parametrize("header_too", [False, True], ids=["data rows", "header and data rows"])
def test_omop_a_delimiter_closing_every_row_shifts_no_column(tmp_path: Path, omop_baseline, header_too) -> None:
    def closed(content: bytes) -> bytes:
        lines = content.decode("utf-8").splitlines()
        return "\n".join(line + ("," if header_too or n else "") for n, line in enumerate(lines)).encode() + b"\n"

    folder = write_folder(omop_tables(), tmp_path / "cdm")
    for table in ("person", "drug_exposure", "measurement"):
        rewrite(folder, table, closed)
    assert_same_tables(import_omop(folder).tables, omop_baseline)


def _gzipped(folder: Path) -> None:
    import gzip

    for path in list(folder.glob("*.csv")):
        with gzip.open(f"{path}.gz", "wb") as packed:
            packed.write(path.read_bytes())
        path.unlink()


def _resaved(folder: Path, suffix: str, delimiter: str) -> None:
    for path in list(folder.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        path.unlink()
        frame.to_csv(path.with_suffix(suffix), sep=delimiter, index=False)


@pytest.mark.parametrize(
    "variant",
    [
        lambda f: [p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes().replace(b"\n", b"\r\n")) for p in f.glob("*.csv")],
        _gzipped,
        lambda f: _resaved(f, ".tsv", "\t"),
        lambda f: _resaved(f, ".csv", ";"),
    ],
    ids=["BOM and CRLF", "gzip", "tab-separated", "semicolons"],
)
def test_omop_csv_dialects_read_the_same(tmp_path: Path, omop_baseline, variant) -> None:
    folder = write_folder(omop_tables(), tmp_path / "cdm")
    variant(folder)
    assert_same_tables(import_omop(folder).tables, omop_baseline)


def test_omop_latin1_is_read_as_windows_1252_with_a_note(tmp_path: Path) -> None:
    tables = omop_tables()
    tables["care_site"].loc[0, "care_site_source_value"] = "Zoë"
    folder = write_folder(tables, tmp_path / "cdm")
    rewrite(folder, "care_site", lambda b: b.decode("utf-8").encode("latin-1"))
    result = import_omop(folder)
    assert result.tables["patients"].set_index("patient_id").loc["1", "site_id"] == "Zoë"
    assert "care_site.csv is not UTF-8 (first on line 2): read as Windows-1252" in result.report.notes


def test_omop_a_damaged_parquet_file_is_refused(tmp_path: Path) -> None:
    folder = write_folder(omop_tables(), tmp_path / "cdm")
    (folder / "measurement.csv").unlink()
    (folder / "measurement.parquet").write_bytes(b"PAR1garbagePAR1")
    with pytest.raises(UsageError, match=r"measurement\.parquet cannot be read"):
        import_omop(folder)


# --- The command on random damage ---------------------------------------------------------------------------

NASTY = st.one_of(
    st.sampled_from(
        [*UNUSABLE_NUMBERS, "-0", "", " ", "\x00", "2_4", "0x10", "1e-400", "9" * 400, "=1+1", "é", '"', "x" * 3000]
    ),
    st.text(max_size=8),
)


@st.composite
def text_damage(draw, lines: int, fields: int, numbers: tuple[int, ...]):
    """One damage to a delimited file: an unusable number where one is read (`numbers`: those fields), any cell,
    a row's length, the header, the encoding, or raw bytes."""
    kind = draw(
        st.sampled_from(
            ["number", "number", "cell", "cell", "short", "long", "close_rows", "rename", "latin1", "byte", "cut"]
        )
    )
    field = draw(st.sampled_from(numbers)) if kind == "number" and numbers else draw(st.integers(0, fields - 1))
    value = draw(st.sampled_from([*UNUSABLE_NUMBERS, "-0"])) if kind == "number" else draw(NASTY)
    return (
        ("cell" if kind == "number" else kind),
        draw(st.integers(1, lines - 1)),
        field,
        value,
        draw(st.integers(0, 255)),
        draw(st.floats(0, 1)),
    )


def damaged(content: bytes, delimiter: str, damage) -> bytes:
    kind, line, field, value, byte, where = damage
    text = content.decode("utf-8", errors="surrogateescape")  # an earlier damage may have broken the UTF-8
    if kind == "latin1":
        return text.encode("latin-1", errors="replace")
    if kind == "byte":
        at = int(where * len(content))
        return content[:at] + bytes([byte]) + content[at:]
    if kind == "cut":
        return content[: int(where * len(content))]
    rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]
    if not rows:
        return content
    row = rows[min(line, len(rows) - 1)]
    position = min(field, len(row) - 1)
    if kind == "cell":
        row[position] = value
    elif kind == "rename":  # a header name given to a second column
        rows[0][position] = rows[0][(position + 1) % len(rows[0])]
    elif kind == "short":
        del row[position:]
    elif kind == "long":
        row.append(value)
    else:  # close_rows: a delimiter at the end of every row
        rows = [[*r, ""] for r in rows]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8", errors="surrogateescape")


def imported_or_refused(kind: str, source: Path, inputs: list[Path]) -> None:
    """The import command exits 0 (a written extract) or 2 (problems on stderr, nothing written), never raises;
    the source files are byte-identical afterwards."""
    before = {path: path.read_bytes() for path in inputs}
    out = source.parent / "out"
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(["import", kind, str(source), "--out", str(out)])
    assert code in (0, 2), err.getvalue()
    assert {path: path.read_bytes() for path in inputs} == before
    if code == 0:
        assert (out / "patients.csv").is_file()
    else:
        assert not out.exists() and err.getvalue().strip() and "Traceback" not in err.getvalue()


PROPERTY = settings(
    max_examples=costly_draws(30),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


NKR_READ_AS_NUMBERS = tuple(NKR_COLUMNS.index(c) for c in [*NKR_NUMBERS, "incjr", "respons_int", "mal1_int"])


@PROPERTY
@given(st.lists(text_damage(len(ROWS) + 1, len(NKR_COLUMNS), NKR_READ_AS_NUMBERS), min_size=1, max_size=3))
def test_a_damaged_nkr_file_is_imported_or_refused(damages) -> None:
    folder = Path(tempfile.mkdtemp(prefix="oligo-nkr-"))
    try:
        content = nkr_text().encode("utf-8")
        for damage in damages:
            content = damaged(content, ";", damage)
        source = folder / "nkr.csv"
        source.write_bytes(content)
        imported_or_refused("nkr", source, [source])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# Each damaged file, with the columns the adapter reads as numbers (positions in the fixture's header).
OMOP_FILES = {
    "person": (2, 3, 4),  # year, month, day of birth
    "drug_exposure": (5,),  # days_supply
    "measurement": (4,),  # value_as_number
    "condition_occurrence": (),
    "concept": (),
}


@settings(PROPERTY, max_examples=costly_draws(20))
@given(st.data())
def test_a_damaged_omop_folder_is_imported_or_refused(data) -> None:
    table = data.draw(st.sampled_from(sorted(OMOP_FILES)))
    damages = data.draw(st.lists(text_damage(8, 9, OMOP_FILES[table]), min_size=1, max_size=2))
    folder = Path(tempfile.mkdtemp(prefix="oligo-omop-"))
    try:
        source = write_folder(omop_tables(), folder / "cdm")
        content = (source / f"{table}.csv").read_bytes()
        for damage in damages:
            content = damaged(content, ",", damage)
        (source / f"{table}.csv").write_bytes(content)
        imported_or_refused("omop", source, sorted(source.iterdir()))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize(
    ("table", "column", "row", "value", "named"),
    [
        ("person", "month_of_birth", 2, "13", "person.month_of_birth row 3 (3): value '13': not a month (1-12)"),
        ("person", "month_of_birth", 2, "0", "person.month_of_birth row 3 (3): value '0': not a month (1-12)"),
        ("person", "day_of_birth", 2, "32", "person.day_of_birth row 3 (3): value '32': not a day of 1970-07"),
        ("person", "day_of_birth", 3, "0", "person.day_of_birth row 4 (4): value '0': not a day of 1950-01"),
        (
            "condition_occurrence",
            "condition_start_date",
            2,
            "2021-05-05 garbage",
            "condition_occurrence.condition_start_date row 3 (201): value '2021-05-05 garbage': not a calendar date",
        ),
        (
            "drug_exposure",
            "drug_exposure_start_date",
            12,
            "2021-06-01T25:00",
            "drug_exposure.drug_exposure_start_date row 13 (30): value '2021-06-01T25:00': not a calendar date",
        ),
        ("drug_exposure", "days_supply", 0, "-30", "drug_exposure.days_supply row 1 (10): value '-30': not a whole"),
    ],
    ids=["month 13", "month 0", "day 32", "day 0", "text after a date", "hour 25", "negative days supplied"],
)
def test_omop_a_birth_part_date_or_supply_out_of_range_is_named(tmp_path, table, column, row, value, named) -> None:
    """A value outside its range is a problem, never read as missing (a month of birth of 13 as 'December')."""
    tables = omop_tables()
    tables[table].loc[row, column] = value
    tables["drug_exposure"].loc[0, "drug_exposure_end_date"] = None  # days_supply is read without an end date
    described = omop_problems(write_folder(tables, tmp_path / "cdm"))
    assert any(d.startswith(named) for d in described), described


@pytest.mark.parametrize(
    "written",
    [
        "2021-05-05 00:00:00",
        "2021-05-05T08:30",
        "2021-05-05 08:30:00.123456",
        "2021-05-05T00:00:00Z",
        "2021-05-05 00:00:00+02",
        "2021-05-05T00:00:00+02:00",
        "20210505",
    ],
)
def test_omop_dates_written_as_datetimes_read_as_their_day(tmp_path, omop_baseline, written) -> None:
    tables = omop_tables()
    tables["condition_occurrence"].loc[2, "condition_start_date"] = written
    assert_same_tables(import_omop(write_folder(tables, tmp_path / "cdm")).tables, omop_baseline)
