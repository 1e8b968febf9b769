"""`import nkr` never depends on the order of the file's rows.

Which record gives a tumour's items is decided by the records themselves (the diagnosis record, epis DIA, before
follow-up ones; then the earliest incidence; then the record's values), never by where they stand; a tumour id holds
no row number; the tables are written sorted; records that disagree are named in the mapping report. The property
test draws small NKR files, mostly valid, with patients and tumours shared by several records that disagree, and
imports each as written and with its rows in another order: the extract and mapping report are byte-identical, or
the problems are the same, each naming the row it has in the file imported. Derandomized, so the run is repeatable.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from oligo_cohort.api import screen
from oligo_cohort.errors import InputError
from oligo_cohort.importers import import_nkr
from oligo_cohort.importers.report import REPORT_CSV
from tests.draws import costly_draws
from tests.importers.test_import_nkr import HEADER, ROWS

REPRODUCTION_HEADER = (
    "key_nkr;key_zid;epis;gesl;leeft;incdat;incjr;topo_sublok;morf;gedrag;diag_basis;cm;pm;vit_stat;vit_stat_int;"
    "ziekenhuis;chemo;rt"
)
BREAST = "104;1;DIA;2;50;01-03-2022;2022;C504;8500;3;7;0;0;0;100;AVL;0;0"
COLON_DIAGNOSIS = "104;2;DIA;2;43;01-03-2015;2015;C189;8140;3;7;0;0;0;100;AVL;1;0"
COLON_FOLLOW_UP = "104;2;VERB;2;43;01-03-2015;2015;C189;8140;3;7;0;0;0;100;AVL;;"


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def written(path: Path, out: Path) -> dict[str, bytes]:
    """Every file an import of `path` writes (the tables and the mapping report), by name."""
    import_nkr(path).write(out)
    return {file.name: file.read_bytes() for file in sorted(out.iterdir()) if not file.name.startswith(".")}


@pytest.mark.parametrize("order", ["diagnosis first", "follow-up first"])
def test_the_diagnosis_record_gives_the_tumour_items_whatever_the_order(tmp_path: Path, order: str) -> None:
    """The other primary's chemotherapy is on its diagnosis record only: it was so treated in either order, and
    exc_other_malignancy fails on it (it was unknown, for lack of an intent, with the follow-up record first)."""
    colon = [COLON_DIAGNOSIS, COLON_FOLLOW_UP] if order == "diagnosis first" else [COLON_FOLLOW_UP, COLON_DIAGNOSIS]
    result = import_nkr(write(tmp_path / "nkr.csv", REPRODUCTION_HEADER, [BREAST, *colon]))
    tumours = result.tables["tumours"].set_index("tumour_id")
    assert (tumours.loc["104-2", "chemotherapy"], tumours.loc["104-2", "radiotherapy"]) == ("true", "false")
    reasons = screen(result.tables, as_of="2024-06-30").reasons.set_index(["patient_id", "criterion"])
    assert reasons.loc[("104", "exc_other_malignancy"), ["outcome", "rule"]].tolist() == ["fail", "chemotherapy"]


def test_a_tumour_was_so_treated_when_any_of_its_records_says_so(tmp_path: Path) -> None:
    """chemo on the diagnosis and the follow-up record of 104-2: given on either is true; else unknown (9) on either
    is empty; else not given (0) is false. Each episode's record codes its own treatment: none is a conflict."""
    codes = {"201": ("0", "1"), "202": ("0", "9"), "203": ("0", ""), "204": ("9", ""), "205": ("", "")}
    rows = [
        line.replace("104;", f"{patient};", 1).replace(";AVL;1;0", f";AVL;{code};0").replace(";AVL;;", f";AVL;{code};")
        for patient, (diagnosis, follow_up) in codes.items()
        for line, code in ((BREAST, "0"), (COLON_DIAGNOSIS, diagnosis), (COLON_FOLLOW_UP, follow_up))
    ]
    result = import_nkr(write(tmp_path / "nkr.csv", REPRODUCTION_HEADER, rows))
    colon = result.tables["tumours"].set_index("tumour_id").chemotherapy
    assert [colon[f"{patient}-2"] for patient in codes] == ["true", None, "false", None, None]
    assert result.report.conflicts == []


def test_the_fixture_in_reverse_writes_the_same_extract(tmp_path: Path) -> None:
    (tmp_path / "forward").mkdir()
    (tmp_path / "reverse").mkdir()
    forward = written(write(tmp_path / "forward" / "nkr.csv", HEADER, ROWS), tmp_path / "forward" / "out")
    reverse = written(write(tmp_path / "reverse" / "nkr.csv", HEADER, ROWS[::-1]), tmp_path / "reverse" / "out")
    assert forward.keys() == reverse.keys()
    for name in forward:
        expected = forward[name].replace(str(tmp_path / "forward").encode(), b"FOLDER")
        assert reverse[name].replace(str(tmp_path / "reverse").encode(), b"FOLDER") == expected, name


@pytest.mark.parametrize("reverse", [False, True], ids=["as written", "reversed"])
def test_records_that_disagree_are_named_in_the_report(tmp_path: Path, reverse: bool) -> None:
    """Two diagnosis records of 104-2 give another basis of diagnosis and M category; a follow-up record another
    morphology. The diagnosis record with the earliest incidence gives each, and every conflict is reported."""
    rows = [
        BREAST,
        COLON_FOLLOW_UP.replace(";8140;", ";8480;"),
        COLON_DIAGNOSIS,
        COLON_DIAGNOSIS.replace("01-03-2015", "15-03-2015").replace(";7;0;0;", ";5;1;0;"),
    ]
    result = import_nkr(write(tmp_path / "nkr.csv", REPRODUCTION_HEADER, rows[::-1] if reverse else rows))
    colon = result.tables["tumours"].set_index("tumour_id").loc["104-2"]
    assert (colon.diagnosis_date, colon.morphology, colon.basis_of_diagnosis, colon.tnm_m, colon.chemotherapy) == (
        "2015-03-01",
        "8140",
        "histology_primary",
        "M0",
        "true",
    )
    assert colon.metastasis_date is None  # not a breast cancer: M1 dates no metastasis of it
    assert result.report.sorted_conflicts() == [
        {
            "table": "tumours",
            "column": "basis_of_diagnosis",
            "source": "diag_basis",
            "detail": "104-2: histology_primary (epis DIA) kept; also cytology (epis DIA)",
        },
        {
            "table": "tumours",
            "column": "diagnosis_date",
            "source": "incdat",
            "detail": "104-2: 2015-03-01 (epis DIA) kept; also 2015-03-15 (epis DIA)",
        },
        {
            "table": "tumours",
            "column": "morphology",
            "source": "morf",
            "detail": "104-2: 8140 (epis DIA) kept; also 8480 (epis VERB)",
        },
        {
            "table": "tumours",
            "column": "tnm_m",
            "source": "cm / pm",
            "detail": "104-2: M0 (epis DIA) kept; also M1 (epis DIA)",
        },
    ]
    out = tmp_path / "out"
    result.write(out)
    with (out / REPORT_CSV).open(encoding="utf-8", newline="") as handle:
        rows_written = [row for row in csv.DictReader(handle) if row["section"] == "conflict"]
    assert [row["column"] for row in rows_written] == ["basis_of_diagnosis", "diagnosis_date", "morphology", "tnm_m"]
    assert "## Records that disagree" in (out / "mapping_report.md").read_text(encoding="utf-8")


def test_tumour_ids_hold_no_row_number(tmp_path: Path) -> None:
    """Without key_zid a tumour is its patient, topography and incidence date (a follow-up record repeating them is
    merged into it); a prior malignancy is its patient, site and date, however many records list it."""
    header = "key_nkr;epis;incdat;topo_sublok;ziekenhuis;meta_topo_sublok1;meta_int1;mal1_topo_sublok;mal1_int"
    rows = [
        "101;DIA;01-03-2019;C504;AVL;;;C189;1000",
        "101;VERB;01-03-2019;C50.4;AVL;C795;1100;C189;1000",
        "101;DIA;01-03-2021;C509;AVL;;;C189;1731",
    ]
    result = import_nkr(write(tmp_path / "nkr.csv", header, rows))
    tumours = result.tables["tumours"]
    assert tumours[["tumour_id", "diagnosis_date", "metastasis_date"]].values.tolist() == [
        ["101-C50.4-2019-03-01", "2019-03-01", "2022-03-05"],
        ["101-C50.9-2021-03-01", "2021-03-01", None],
        ["101-mal-C18.9-2016-06-04", "2016-06-04", None],
    ]
    drops = {reason: n for (_, _, reason), n in result.report.drops.items()}
    assert drops["prior malignancy listed again (same site and date): merged"] == 2


@pytest.mark.parametrize("reverse", [False, True], ids=["as written", "reversed"])
def test_an_unusable_item_on_any_record_is_a_problem(tmp_path: Path, reverse: bool) -> None:
    """A follow-up record's basis of diagnosis is read, and judged, whether it comes before the diagnosis record
    or after it; the problem names its row in the file imported."""
    rows = [BREAST, COLON_DIAGNOSIS, COLON_FOLLOW_UP.replace(";7;0;0;", ";8;0;0;")]
    path = write(tmp_path / "nkr.csv", REPRODUCTION_HEADER, rows[::-1] if reverse else rows)
    with pytest.raises(InputError) as caught:
        import_nkr(path)
    row = 1 if reverse else 3
    assert [p.describe() for p in caught.value.problems] == [
        f"nkr.csv.diag_basis row {row} (104): value '8': not an ENCR basis-of-diagnosis code (0 1 2 4 5 6 7 9)"
    ]


# --- every order of the rows ---------------------------------------------------------------------------------

ITEMS: dict[str, list[str]] = {  # item → the values drawn (a value listed twice is drawn twice as often)
    "key_nkr": ["1", "2"],
    "key_zid": ["1", "1", "2", ""],
    "epis": ["DIA", "VERB", ""],
    "gesl": ["2", "2", "1", "9", ""],
    "gebdat": ["", "", "1960-01-01", "05-05-1970"],
    "leeft": ["55", "", "61"],
    "incdat": ["01-03-2019", "", "15-06-2020", "01-03-2019"],
    "incjr": ["2019", "2020"],
    "topo_sublok": ["C504", "C504", "C509", "C189", ""],
    "morf": ["8500", "85003", "8140", ""],
    "gedrag": ["", "3", "2"],
    "diag_basis": ["7", "", "5", "6"],
    "cm": ["0", "", "1", "X"],
    "pm": ["", "0", "1a"],
    "vit_stat": ["0", "", "1"],
    "vit_stat_int": ["", "900", "1500"],
    "ziekenhuis": ["AVL", "AVL", "UMCU", ""],
    "meta_epis": ["", "0", "1", "2"],
    "meta_topo_sublok1": ["", "C795", "C773", "C220"],
    "meta_int1": ["", "1100", "0"],
    "syst_code1": ["", "L02BG04", "trastuzumab", "XYZ123"],
    "syst_start_int1": ["10", "", "30"],
    "syst_stop_int1": ["", "400", "1500"],
    "chemo": ["", "0", "1", "9"],
    "rt": ["", "1", "0", "9"],
    "perf_stat": ["", "1", "0", "9"],
    "respons_uitslag": ["", "SD", "PR", "MR"],
    "respons_int": ["300", ""],
    "mal1_topo_sublok": ["", "C189", "C619"],
    "mal1_morf": ["", "8140", "8070"],
    "mal1_int": ["2000", "", "1500"],
}
# Unusable values, each a problem; a third of the files hold some.
UNUSABLE = {"gesl": "3", "leeft": "abc", "incdat": "2019-02-30", "topo_sublok": "X50", "meta_int1": "abc"}
UNUSABLE |= {"syst_stop_int1": "5", "diag_basis": "8", "chemo": "x"}


@st.composite
def nkr_files(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header (key_zid and epis sometimes absent) and 1-6 rows of values drawn from `ITEMS`."""
    columns = [c for c in ITEMS if c not in ("key_zid", "epis") or draw(st.booleans())]
    damaged = draw(st.sampled_from([False, False, True]))
    pools = {c: [*ITEMS[c], *([UNUSABLE[c]] if damaged and c in UNUSABLE else [])] for c in columns}
    rows = draw(
        st.lists(st.fixed_dictionaries({c: st.sampled_from(pools[c]) for c in columns}), min_size=1, max_size=6)
    )
    for row in rows:  # a record without key_zid is known by its topography: without one it is a problem
        if not damaged and not row.get("key_zid") and not row["topo_sublok"]:
            row["topo_sublok"] = "C504"
    return columns, [[row[c] for c in columns] for row in rows]


def imported(folder: Path, columns: list[str], rows: list[list[str]], order: list[int]) -> object:
    """The files an import of the rows in `order` writes; or its problems, each naming a row of the file by its
    row in the file as drawn (`order[i]` is the drawn row at row i + 1)."""
    folder.mkdir()
    path = folder / "nkr.csv"
    path.write_text("".join(";".join(fields) + "\n" for fields in [columns, *(rows[i] for i in order)]), "utf-8")
    try:
        result = import_nkr(path)
    except InputError as error:
        problems = [
            (
                p.table,
                p.column,
                order[p.row - 1] if p.table == path.name and p.row else p.row,
                p.record_id,
                p.value,
                p.message,
            )
            for p in error.problems
        ]
        assert len(problems) == len(set(problems)), "a problem listed twice"
        event(f"refused: {sorted({p.column for p in error.problems})}")
        return sorted(problems, key=repr)
    result.write(folder / "out")
    event(f"imported: {len(result.tables['tumours'])} tumour(s), {len(result.report.conflicts)} conflict(s)")
    return written_files(folder)


def written_files(folder: Path, leave_out: tuple[str, ...] = ()) -> dict[str, bytes]:
    """The files an import wrote into `folder/out`, by name (but for `leave_out`), with the folder's path masked:
    it differs from run to run."""
    return {
        file.name: file.read_bytes().replace(str(folder).encode(), b"FOLDER")
        for file in sorted((folder / "out").iterdir())
        if not file.name.startswith(".") and file.name not in leave_out
    }


@settings(max_examples=costly_draws(20), derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=nkr_files(), data=st.data())
def test_every_order_of_the_rows_imports_the_same(file: tuple[list[str], list[list[str]]], data) -> None:
    columns, rows = file
    order = data.draw(st.permutations(range(len(rows))), label="order")
    with tempfile.TemporaryDirectory() as folder:
        as_drawn = imported(Path(folder) / "as-drawn", columns, rows, list(range(len(rows))))
        assert imported(Path(folder) / "reordered", columns, rows, order) == as_drawn
