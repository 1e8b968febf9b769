"""The site worklist lists exactly the patients a coordinator can still register at the cut-off.

Generated around the spec baseline (one patient, screening scan S, confirmation PET at S + 42): the cut-off moves
from before S to after the window closes (S + 52), and the patient may have died on any day around it. A patient
is listed when the event is known at the cut-off (S on or before it), the registration window has not closed
(cut-off on or before S + 52, criteria.md inc_imaging_window in worklist mode) and no death is recorded on or
before the cut-off (a death after it is not yet known: criteria.md "Time"). Listed, the deadlines are S's.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.api import read_screen_dir, screen
from oligo_cohort.screen_folder import ScreenFolderError
from oligo_cohort.worklist import WORKLIST_COLUMNS, worklist_relation
from tests.draws import costly_draws
from tests.spec.baseline import S, days_after
from tests.spec.harness import build_case
from tests.spec.tables import table

LATEST = 52  # S + 52: the last day to register under the current protocol
# Days after S around every boundary: S itself, the PET due (S + 42), the window opening (S + 46) and closing.
AROUND = st.one_of(st.sampled_from([-1, 0, 1, 41, 42, 45, 46, 47, 49, 51, 52, 53]), st.integers(-2, LATEST + 3))


def _screened(cut_off: int, died: int | None, engine: str):
    death = "" if died is None else days_after(S, died)
    patients = table(f"""
        patient_id | site_id | birth_date | sex | death_date
        p1         | AVL     | 1965-03-15 | F   | {death}
    """)
    one = build_case(as_of=days_after(S, cut_off), worklist=True, patients=patients)
    return screen(one.source(), as_of=one.as_of, worklist=True, engine=engine)


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
@settings(max_examples=costly_draws(15), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut_off=AROUND,
    died=st.one_of(st.none(), AROUND),
)
def test_the_worklist_lists_exactly_the_patients_who_can_still_be_registered(engine, cut_off, died):
    listed = worklist_relation(_screened(cut_off, died, engine)).df()
    assert list(listed.columns) == list(WORKLIST_COLUMNS)
    dead_by_cut_off = died is not None and died <= cut_off
    expected = 0 <= cut_off <= LATEST and not dead_by_cut_off
    assert len(listed) == int(expected), f"cut-off S + {cut_off}, died S + {died}: {listed.to_dict('records')}"
    if expected:
        row = listed.iloc[0]
        assert row["screening_date"] == S
        assert row["registration_from"] == days_after(S, 46)
        assert row["registration_deadline"] == days_after(S, LATEST)
        assert row["days_left"] == LATEST - cut_off


@pytest.fixture(scope="module")
def screened_once():
    """`_screened` with DuckDB, each cut-off and death screened once for the module: the tests below read several
    of the same screens (a screen is only read: queried, or written to a folder)."""
    made = {}

    def screened(cut_off: int, died: int | None):
        if (cut_off, died) not in made:
            made[cut_off, died] = _screened(cut_off, died, "duckdb")
        return made[cut_off, died]

    yield screened
    made.clear()


@pytest.mark.parametrize("died", [46, 47, 50])
def test_a_patient_who_died_in_the_open_window_is_not_on_the_worklist(screened_once, died):
    """Dying on S + 46 or later passes inc_imaging_window (D22), yet no one can be registered after their death."""
    result = screened_once(50, died)
    assert result.patients["inc_imaging_window"].tolist() == ["pass"]
    assert worklist_relation(result).df().empty


# --- a worklist-mode screen folder, read back -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cut_off", "died"),
    [(50, 47), (50, 50), (46, 46), (50, None), (50, 51), (52, None), (53, None), (10, None), (50, 20)],
    ids=lambda v: "alive" if v is None else f"S + {v}",
)
def test_a_worklist_read_back_and_written_again_is_the_same_file(screened_once, tmp_path, cut_off, died):
    """The folder holds no death dates, so the worklist read back is the one its worklist.csv lists: written again,
    it still leaves off the patient dead by the cut-off in the open window (D78), and lists the others."""
    first = screened_once(cut_off, died).write(tmp_path / "first")
    again = read_screen_dir(first).write(tmp_path / "again")
    assert (again / "worklist.csv").read_bytes() == (first / "worklist.csv").read_bytes()


@pytest.fixture(scope="module")
def listed_folder(screened_once, tmp_path_factory) -> Path:
    """A worklist-mode screen folder of one patient, whose window is open at the cut-off."""
    folder = screened_once(50, None).write(tmp_path_factory.mktemp("listed") / "screen")
    assert len((folder / "worklist.csv").read_text().splitlines()) == 2
    return folder


def _edited(listed_folder: Path, tmp_path: Path, edit, *, uncounted: bool = False) -> Path:
    """A copy of the folder with its worklist.csv edited (None: removed); `uncounted` as a folder whose manifest
    records no worklist rows (one written before it did)."""
    copy = tmp_path / "screen"
    shutil.copytree(listed_folder, copy)
    if uncounted:
        manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
        del manifest["rows"]["worklist"]
        (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    path = copy / "worklist.csv"
    if edit is None:
        path.unlink()
    else:
        header, *rows = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join(edit(header, rows)) + "\n", encoding="utf-8")
    return copy


@pytest.mark.parametrize(
    ("edit", "uncounted", "said"),
    [
        (None, False, "worklist.csv is missing"),
        (lambda header, rows: [header], False, "worklist.csv holds 0 rows but manifest.json records 1"),
        (lambda header, rows: [header, *rows, *rows], False, "worklist.csv holds 2 rows but manifest.json records 1"),
        (lambda header, rows: [header, *rows, *rows], True, "row 2: patient 'p1' is listed twice (rows 1 and 2)"),
        (
            lambda header, rows: [header, rows[0].replace("p1,", "p2,", 1)],
            False,
            "worklist.csv row 1: patient 'p2' is not in patients.csv as a patient whose registration window is open",
        ),
        (
            lambda header, rows: [header, rows[0].replace(",S,", ",X,", 1)],
            False,
            "worklist.csv row 1: patient 'p1', column event_id: value 'X' is not the patient's best event",
        ),
        (lambda header, rows: [header.replace("event_id", "event"), *rows], False, "event_id is missing"),
        (lambda header, rows: [header, rows[0].replace(",S,", ",,", 1)], False, "column event_id: value ''"),
    ],
    ids=[
        "missing",
        "emptied",
        "cut short",
        "listed twice",
        "another patient",
        "another event",
        "no event column",
        "no event",
    ],
)
def test_an_edited_worklist_is_refused_when_read_back(listed_folder, tmp_path, edit, uncounted, said):
    with pytest.raises(ScreenFolderError) as refused:
        read_screen_dir(_edited(listed_folder, tmp_path, edit, uncounted=uncounted))
    assert said in str(refused.value)


def test_a_worklist_left_as_written_reads_back_as_written(listed_folder, tmp_path):
    """The same folder, untouched but for its manifest recording no worklist rows (as one written before it did)."""
    result = read_screen_dir(_edited(listed_folder, tmp_path, lambda header, rows: [header, *rows], uncounted=True))
    assert worklist_relation(result).df()["patient_id"].tolist() == ["p1"]


# --- writing the worklist ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def open_windows(tmp_path_factory):
    """A worklist-mode screen of a generated extract at a cut-off where some registration windows are open."""
    from oligo_cohort.synth import generate_extract

    folder = generate_extract(tmp_path_factory.mktemp("synth") / "extract", patients=1_500, sites=3, seed=11, fmt="csv")
    return screen(folder, as_of=dt.date(2020, 6, 30), worklist=True)


@pytest.mark.parametrize("parquet", [False, True], ids=["csv", "csv and parquet"])
def test_writing_a_worklist_runs_its_query_once_and_counts_the_rows_it_wrote(
    open_windows, tmp_path, monkeypatch, parquet
):
    """worklist.csv, worklist.parquet and the manifest's count come from one run of the worklist's query (the count
    ran it a second time, the Parquet file a third)."""
    import oligo_cohort.outputs
    import oligo_cohort.worklist

    expected = worklist_relation(open_windows).fetchall()
    assert len(expected) > 5, "the fixture lists several patients"
    built = []

    def counted(*args, **kwargs):
        built.append(args)
        return worklist_relation(*args, **kwargs)

    monkeypatch.setattr(oligo_cohort.outputs, "worklist_relation", counted)
    monkeypatch.setattr(oligo_cohort.worklist, "worklist_relation", counted)
    folder = open_windows.write(tmp_path / "screen", parquet=parquet)
    assert len(built) == 1
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows"]["worklist"] == len(expected)
    with (folder / "worklist.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(WORKLIST_COLUMNS)
    assert [row[0] for row in rows[1:]] == [row[0] for row in expected], "soonest deadline first, as the query lists"
    if parquet:
        import duckdb

        written = duckdb.sql(f"SELECT patient_id FROM read_parquet('{folder / 'worklist.parquet'}')").fetchall()
        assert [patient_id for (patient_id,) in written] == [row[0] for row in expected]
    monkeypatch.undo()
    assert worklist_relation(read_screen_dir(folder)).fetchall() == expected, "read back as written"
