"""`import omop` never depends on the order of a table's rows, nor on a row given twice.

A CDM export holds its rows in any order (a database has none), and a repeated extraction step repeats rows. The
property test draws small OMOP sources whose records share persons, days and ids and disagree (two scores on one
day, two bases of diagnosis of one primary, two records of one primary on one day, an exposure in two regimens),
imports each as drawn and with the rows of every table in another order, some rows written twice: the canonical
tables are byte-identical (and, without repeated rows, the mapping report too), or the problems are the same, each
naming the row it has in the file imported. Derandomized, so the run is repeatable.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from oligo_cohort.errors import InputError
from oligo_cohort.importers import import_omop
from oligo_cohort.importers.report import REPORT_CSV, REPORT_MD
from tests.draws import costly_draws
from tests.importers.imported_once import imported_tables
from tests.importers.test_import_nkr_row_order import written_files
from tests.importers.test_import_omop import omop_tables, write_folder

PERSONS = ["1", "2", "3"]
DAYS = ["2020-01-10", "2020-01-10", "2020-03-01", "2021-06-01", "2022-02-01"]

# table → column → the values drawn (a value listed twice is drawn twice as often); `*_id` keys drawn unique.
COLUMNS: dict[str, dict[str, list[str | None]]] = {
    "person": {
        "gender_concept_id": ["8532", "8532", "8507", "0"],
        "year_of_birth": ["1960", "1971"],
        "month_of_birth": [None, "3"],
        "care_site_id": ["10", "11", None],
        "location_id": ["20", None],
    },
    "care_site": {"care_site_name": ["Antoni van Leeuwenhoek", "UMC Utrecht"], "care_site_source_value": ["AVL", None]},
    "location": {"city": ["Utrecht", "Amsterdam"], "location_source_value": [None, "UMCU"]},
    "death": {"death_date": ["2023-01-01", "2023-05-05"]},
    "observation_period": {"observation_period_end_date": ["2022-06-30", "2023-12-31"]},
    "condition_occurrence": {
        "condition_start_date": DAYS,
        "condition_source_value": ["8500/3-C50.9", "8520/3-C50.4", "C50.4", "D05.1", "C18.7", "C79.5", "C77.3"],
    },
    "measurement": {
        "measurement_date": DAYS,
        "measurement_source_value": ["490@1", "490@8", "490@2", "cM0", "cM1", "89247-1", "89247-1", "tumor response"],
        "value_as_number": [None, "1", "2"],
        "value_source_value": [None, "SD", "PD"],
        "measurement_event_id": [None, None, "101", "102"],
    },
    "drug_exposure": {
        "drug_exposure_start_date": DAYS,
        "drug_exposure_end_date": [None, "2022-03-01", "2022-12-31"],
        "days_supply": [None, "28", "90"],
        "drug_source_value": ["letrozole", "L02BA03", "Ibrance 125 mg", "capecitabine", "paracetamol"],
    },
    "episode": {
        "episode_concept_id": ["32531", "32531", "32949"],
        "episode_start_date": DAYS,
        "episode_source_value": ["adjuvant regimen", "metastatic line 1", None],
    },
    "episode_event": {"episode_id": ["1", "2", "3"], "event_id": ["11", "12", "13"]},
}
IDS = {  # the id column of each table, drawn unique (None: the table has none; a missing id is drawn sometimes)
    "person": ("person_id", PERSONS),
    "care_site": ("care_site_id", ["10", "11"]),
    "location": ("location_id", ["20"]),
    "condition_occurrence": ("condition_occurrence_id", ["101", "102", "103", "104", None]),
    "measurement": ("measurement_id", [str(n) for n in range(1, 9)]),
    "drug_exposure": ("drug_exposure_id", ["11", "12", "13", "14", "15", None]),
    "episode": ("episode_id", ["1", "2", "3"]),
}
PERSON_TABLES = ("death", "observation_period", "condition_occurrence", "measurement", "drug_exposure", "episode")
# Unusable values, each a problem; a third of the sources hold some (a care site id may then be given twice).
UNUSABLE = {"condition_start_date": "2021-02-30", "value_as_number": "1e400", "days_supply": "x", "year_of_birth": "19"}
AT_LEAST = {"person": 2, "condition_occurrence": 1, "drug_exposure": 1}


@st.composite
def omop_sources(draw: st.DrawFn) -> dict[str, pd.DataFrame]:
    """A small OMOP source: every table of COLUMNS, 0-8 rows each, values drawn from the pools."""
    damaged = draw(st.sampled_from([False, False, True]))
    tables = {}
    for table, pools in COLUMNS.items():
        pools = {c: [*pool, *([UNUSABLE[c]] if damaged and c in UNUSABLE else [])] for c, pool in pools.items()}
        id_column, ids = IDS.get(table, (None, []))
        if id_column:
            keys = draw(st.lists(st.sampled_from(ids), min_size=AT_LEAST.get(table, 0), max_size=len(ids) + 1))
            if not (damaged and table == "care_site"):
                keys = [k for n, k in enumerate(keys) if k is None or k not in keys[:n]]
        else:
            keys = [None] * draw(st.integers(0, 4))
        rows = []
        for key in keys:
            row = {c: draw(st.sampled_from(pool)) for c, pool in pools.items()}
            if id_column:
                row = {id_column: key, **row}
            if table in PERSON_TABLES:
                row["person_id"] = draw(st.sampled_from(PERSONS))
            if table == "episode_event":
                row["episode_event_field_concept_id"] = "1147094"
            rows.append(row)
        columns = ([id_column] if id_column else []) + (["person_id"] if table in PERSON_TABLES else [])
        columns += [*pools, *(["episode_event_field_concept_id"] if table == "episode_event" else [])]
        tables[table] = pd.DataFrame(rows, columns=columns, dtype=object)
    return tables


def imported(folder: Path, tables: dict[str, pd.DataFrame], orders: dict[str, list[int]], *, report: bool) -> object:
    """What an import of the tables, each table's rows in its order (an index repeated: a row written twice),
    writes: the canonical tables (and the mapping report when `report`); or its problems, each naming a source
    row by its row as drawn."""
    source = folder / "cdm"
    source.mkdir(parents=True)
    for name, frame in tables.items():
        frame.iloc[orders[name]].to_csv(source / f"{name}.csv", index=False)
    try:
        result = import_omop(source)
    except InputError as error:
        problems = {
            (
                p.table,
                p.column,
                orders[p.table][p.row - 1] if p.table in orders and p.row else p.row,
                p.record_id,
                p.value,
                p.message,
            )
            for p in error.problems
        }
        event(f"refused: {sorted({f'{p.table}.{p.column}' for p in error.problems})}")
        return sorted(problems, key=repr)
    result.write(folder / "out")
    event(f"imported: {len(result.tables['tumours'])} tumour(s), {len(result.tables['systemic_therapy'])} episode(s)")
    return written_files(folder, leave_out=() if report else (REPORT_CSV, REPORT_MD))


@settings(max_examples=costly_draws(10), derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=omop_sources(), data=st.data())
def test_every_order_of_the_rows_imports_the_same(tables: dict[str, pd.DataFrame], data) -> None:
    as_drawn = {name: list(range(len(frame))) for name, frame in tables.items()}
    reordered = {name: data.draw(st.permutations(rows), label=name) for name, rows in as_drawn.items()}
    with tempfile.TemporaryDirectory() as folder:
        expected = imported(Path(folder) / "as-drawn", tables, as_drawn, report=True)
        assert imported(Path(folder) / "reordered", tables, reordered, report=True) == expected


@settings(max_examples=costly_draws(6), derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=omop_sources(), data=st.data())
def test_a_row_written_twice_imports_as_once(tables: dict[str, pd.DataFrame], data) -> None:
    """Exact repeats of rows (every column the same), anywhere in their table, change no canonical table."""
    as_drawn = {name: list(range(len(frame))) for name, frame in tables.items()}
    repeated = {}
    for name, rows in as_drawn.items():
        again = data.draw(st.lists(st.sampled_from(rows), max_size=3), label=name) if rows else []
        repeated[name] = data.draw(st.permutations(rows + again), label=f"{name} order")
    with tempfile.TemporaryDirectory() as folder:
        expected = imported(Path(folder) / "as-drawn", tables, as_drawn, report=False)
        assert imported(Path(folder) / "repeated", tables, repeated, report=False) == expected


# --- records that disagree, in either order --------------------------------------------------------------------


def fixture_import(tmp_path: Path, edit, *, reverse: bool):
    """The fixture of test_import_omop.py, edited, every table's rows in reverse order when `reverse`."""
    tables = omop_tables()
    edit(tables)
    if reverse:
        tables = {name: frame.iloc[::-1] for name, frame in tables.items()}
    return import_omop(write_folder(tables, tmp_path / "cdm"))


def rows_of(frame: pd.DataFrame, columns: str) -> list[list[str]]:
    return frame[columns.split()].values.tolist()


@pytest.mark.parametrize("reverse", [False, True], ids=["as written", "reversed"])
def test_two_scores_on_one_day_are_both_kept(tmp_path: Path, reverse: bool) -> None:
    """ECOG 1 and ECOG 2 measured on one day: both go to the extract, where the screen takes the worst (D18);
    neither is dropped as a duplicate."""

    def edit(tables):
        ecog = tables["measurement"].iloc[[3]].assign(measurement_id=8, value_as_number=2)
        tables["measurement"] = pd.concat([tables["measurement"], ecog], ignore_index=True)

    ps = fixture_import(tmp_path, edit, reverse=reverse).tables["performance_status"]
    assert rows_of(ps, "patient_id assessment_date scale score") == [
        ["1", "2023-02-01", "ECOG", "1"],
        ["1", "2023-02-01", "ECOG", "2"],
        ["2", "2023-03-01", "KPS", "80"],
    ]


@pytest.mark.parametrize("reverse", [False, True], ids=["as written", "reversed"])
@pytest.mark.parametrize("other", ["490@8", "490@2", "490@9"])
def test_the_most_valid_basis_of_diagnosis_is_kept(tmp_path: Path, reverse: bool, other: str) -> None:
    """Histology (490@1) and a clinical, cytological or unknown basis recorded for one primary: histology, the most
    valid (data-model.md), whichever comes first."""

    def edit(tables):
        basis = tables["measurement"].iloc[[1]].assign(measurement_id=8, measurement_source_value=other)
        tables["measurement"] = pd.concat([tables["measurement"], basis], ignore_index=True)
        tables["concept"] = tables["concept"][tables["concept"].concept_id != 9003]  # the source value decides

    tumours = fixture_import(tmp_path, edit, reverse=reverse).tables["tumours"].set_index("tumour_id")
    assert tumours.loc["1-co101", "basis_of_diagnosis"] == "histology_primary"


@pytest.mark.parametrize("reverse", [False, True], ids=["as written", "reversed"])
def test_a_primary_recorded_twice_on_its_day_keeps_one_id(tmp_path: Path, reverse: bool) -> None:
    """Two records of person 1's breast cancer on 2020-01-10 (ids 99 and 101): the primary is the lowest id's; without
    condition_occurrence_id it is known by person, site, behaviour and date."""

    def edit(tables):
        co = tables["condition_occurrence"]
        co.loc[1, ["condition_occurrence_id", "condition_start_date"]] = [99, "2020-01-10"]

    tumours = fixture_import(tmp_path, edit, reverse=reverse).tables["tumours"]
    assert "1-co99" in set(tumours.tumour_id)

    def without_ids(tables):
        edit(tables)
        tables["condition_occurrence"]["condition_occurrence_id"] = None

    tumours = fixture_import(tmp_path / "no-ids", without_ids, reverse=reverse).tables["tumours"]
    assert sorted(tumours.tumour_id) == [
        "1-C50.9/3-2020-01-10",
        "2-C50.4/3-2021-05-05",
        "3-C18.7/3-2010-06-01",
        "3-C50.9/3-2019-04-01",
    ]


@pytest.mark.parametrize("reverse", [False, True], ids=["as written", "reversed"])
def test_an_exposure_in_regimens_of_two_settings_has_none(tmp_path: Path, reverse: bool) -> None:
    """Capecitabine linked to a metastatic and an adjuvant regimen: its setting is unknown (the screen infers it),
    never the setting of whichever link comes last."""

    def edit(tables):
        adjuvant = tables["episode"].iloc[[0]].assign(episode_id=3, episode_source_value="adjuvant capecitabine")
        tables["episode"] = pd.concat([tables["episode"], adjuvant], ignore_index=True)
        link = pd.DataFrame([(3, 34, 1147094)], columns=tables["episode_event"].columns)
        tables["episode_event"] = pd.concat([tables["episode_event"], link], ignore_index=True)

    result = fixture_import(tmp_path, edit, reverse=reverse)
    therapy = result.tables["systemic_therapy"]
    assert rows_of(therapy[therapy.patient_id == "3"], "drug setting") == [["capecitabine", "unknown"]]
    assert any("settings" in note or "different settings" in note for note in result.report.notes)


@pytest.mark.parametrize("table", ["care_site", "location"])
def test_a_site_id_on_two_different_rows_is_a_problem(tmp_path: Path, table: str) -> None:
    """Which hospital a patient belongs to cannot be known when its id names two: named, never picked."""
    tables = omop_tables()
    other = tables[table].assign(**{f"{table}_source_value": "NKI"})
    tables[table] = pd.concat([tables[table], other], ignore_index=True)
    with pytest.raises(InputError) as caught:
        import_omop(write_folder(tables, tmp_path / "cdm"))
    site = tables[table].iloc[0, 0]
    assert [p.describe() for p in caught.value.problems] == [
        f"{table}.{table}_id row {row} ({site}): value '{site}': {table}_id is not unique" for row in (1, 2)
    ]


@pytest.mark.parametrize("table", sorted(omop_tables()))
def test_every_row_of_a_table_written_twice_imports_as_once(tmp_path: Path, table: str) -> None:
    """A table exported twice into one file (every row repeated, persons too): the same extract, and the report
    counts the repeats of the clinical tables."""
    baseline = imported_tables(write_folder(omop_tables(), tmp_path / "once"))  # the same for every table
    tables = omop_tables()
    tables[table] = pd.concat([tables[table], tables[table]], ignore_index=True)
    result = import_omop(write_folder(tables, tmp_path / "twice"))
    for name, frame in baseline.items():
        pd.testing.assert_frame_equal(result.tables[name], frame, obj=name)
    drops = {(source, reason): n for (source, _, reason), n in result.report.drops.items()}
    if table not in ("concept", "concept_ancestor"):  # the vocabulary is read only for the concepts used: uncounted
        assert drops[(table, "a row repeating another row exactly (read once)")] == len(omop_tables()[table])
