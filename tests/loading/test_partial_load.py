"""A partial load holds exactly the rows a whole load holds for its patients.

`review export` asks about a few patients of an extract a screen has already validated whole (it checks the
files' checksums first), so it loads only their rows: `load_extract(patients=...)` filters every table by
patient_id as it is typed (`validate.typed_tables._create_typed`). Whatever the source (CSV or Parquet, with a
registry's imperfections or without), every table loaded so (every column, the row number in its file
included) must be the whole load's rows of those patients, for generated sets of patients: a random share,
one patient, none, and ids the extract does not hold. The registry facts a review reads must be the same either
way.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from oligo_cohort.database import close
from oligo_cohort.dictionary import tables
from oligo_cohort.load import load_extract
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.review.facts import registry_facts
from oligo_cohort.sql_text import identifier
from oligo_cohort.synth import generate_extract


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("partial-load")
    return {
        "demo": demo_extract_dir(),
        "imperfect csv": generate_extract(root / "csv", patients=80, sites=3, seed=21, fmt="csv"),
        "imperfect parquet": generate_extract(root / "parquet", patients=80, sites=3, seed=22, fmt="parquet"),
        "clean parquet": generate_extract(root / "clean", patients=80, sites=3, seed=23, imperfect=False),
    }


def whole_load(extract: Path) -> dict[str, pd.DataFrame]:
    """Every loaded table of a whole load, with the cut-off it found."""
    loaded = load_extract(extract)
    try:
        frames = {name: table_rows(loaded.con, name) for name in tables()}
        frames["as_of"] = loaded.as_of
        return frames
    finally:
        close(loaded.con)


def table_rows(con, name: str) -> pd.DataFrame:
    columns = ", ".join(["_row", *(identifier(c.name) for c in tables()[name].columns)])
    return con.execute(f"SELECT {columns} FROM {identifier(name)} ORDER BY _row").df()


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The values alone: pandas gives a column with no missing value another dtype than one with some."""
    return frame.astype(object).where(frame.notna(), None).reset_index(drop=True)


def patient_sets(ids: list[str], seed: int) -> dict[str, list[str]]:
    chosen = random.Random(seed)
    return {
        "a random third": chosen.sample(ids, max(1, len(ids) // 3)),
        "one patient": [chosen.choice(ids)],
        "none": [],
        "ids it does not hold, and one it does": ["no-such-patient", " " + ids[0], ids[-1]],
    }


@pytest.mark.parametrize("name", ["demo", "imperfect csv", "imperfect parquet", "clean parquet"])
def test_a_partial_load_holds_the_whole_loads_rows_of_its_patients(extracts, name):
    whole = whole_load(extracts[name])
    ids = sorted(whole["patients"]["patient_id"])
    for label, wanted in patient_sets(ids, seed=len(ids)).items():
        loaded = load_extract(extracts[name], as_of=whole["as_of"], patients=wanted)
        try:
            for table in tables():
                got = table_rows(loaded.con, table)
                full = whole[table]
                want = full[full["patient_id"].isin(wanted)]
                pd.testing.assert_frame_equal(plain(got), plain(want), obj=f"{name}, {label}: {table}")
        finally:
            close(loaded.con)


def test_a_partial_load_needs_the_cut_off():
    with pytest.raises(ValueError, match="needs as_of"):
        load_extract(demo_extract_dir(), patients=["00217"])


@pytest.mark.parametrize("name", ["demo", "imperfect parquet"])
def test_the_registry_facts_of_a_partial_load_are_the_whole_loads(extracts, name):
    whole = whole_load(extracts[name])
    wanted = patient_sets(sorted(whole["patients"]["patient_id"]), seed=5)["a random third"]
    read = {
        screened: registry_facts(extracts[name], as_of=whole["as_of"], patients=wanted, screened=screened)
        for screened in (False, True)
    }
    for part in ("units", "lesions", "observations", "performance", "responses"):
        pd.testing.assert_frame_equal(getattr(read[True], part), getattr(read[False], part), obj=part)
    # Only the whole load lists every patient (the import checks answers against them).
    partial_patients = read[True].patients
    assert set(partial_patients["patient_id"]) == set(wanted)
    whole_patients = read[False].patients
    pd.testing.assert_frame_equal(
        partial_patients.reset_index(drop=True),
        whole_patients[whole_patients["patient_id"].isin(wanted)].reset_index(drop=True),
    )
    with pytest.raises(ValueError, match="needs the screen's as_of"):
        registry_facts(extracts[name], patients=wanted, screened=True)
