"""A required table or column missing beside one the model does not know: the answer names the one most likely meant.

An extract with `patient.csv` used to read only "patients: required table is missing", with the file right beside
it ignored in silence (a finding the fatal summary never shows); a frame given as `{"patient": ...}` the same. Every
required table and column is tried with the misnamings users make (case, singular, punctuation, a typo), and with a
name too far off to suggest.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from oligo_cohort.api import screen
from oligo_cohort.dictionary import tables
from oligo_cohort.errors import InputError
from oligo_cohort.load import load_extract
from tests.loading.test_bad_input import VALID, write_extract

REQUIRED_TABLES = [t.name for t in tables().values() if t.required]
REQUIRED_COLUMNS = [(t.name, c.name) for t in tables().values() if t.name in VALID for c in t.columns if c.required]


def misnamed(name: str) -> list[str]:
    """Near misses of `name`: capitalised, singular or plural, punctuation instead of underscores, a letter lost."""
    variants = {name.capitalize(), name.upper(), name.replace("_", "-"), name.replace("_", " ").title()}
    variants.add(name[:-1] if name.endswith("s") else name + "s")
    variants.add(name[:2] + name[3:])  # a typo: the third letter lost
    return sorted(v for v in variants if v.lower() != name)


def fatal_messages(run) -> list[tuple[str, str | None, str]]:
    with pytest.raises(InputError) as caught:
        run()
    return [(p.table, p.column, p.message) for p in caught.value.problems if p.severity == "fatal"]


@pytest.mark.parametrize("table", REQUIRED_TABLES)
def test_a_required_table_in_a_file_misnamed_is_named_with_its_file(tmp_path, table):
    for i, name in enumerate(misnamed(table)):
        files = {k: v for k, v in VALID.items() if k != table}
        folder = write_extract(tmp_path / f"e{i}", files)
        (folder / f"{name}.csv").write_text(VALID[table], encoding="utf-8")
        found = fatal_messages(lambda folder=folder: load_extract(folder))
        expected = f"required table is missing (did you mean {name}.csv? name it {table}.csv)"
        assert (table, None, expected) in found, (name, found)


@pytest.mark.parametrize("table", REQUIRED_TABLES)
def test_a_required_frame_given_under_another_name_is_named(table):
    frames = {k: pd.read_csv(pd.io.common.StringIO(v), dtype=str) for k, v in VALID.items()}
    for name in misnamed(table):
        given = {(name if k == table else k): v for k, v in frames.items()}
        found = fatal_messages(lambda given=given: screen(given))
        expected = f"required table is missing (did you mean the table given as {name!r}? give it as {table!r})"
        assert (table, None, expected) in found, (name, found)


@pytest.mark.parametrize(("table", "column"), REQUIRED_COLUMNS)
def test_a_required_column_misnamed_is_named_with_the_column_it_has(tmp_path, table, column):
    header, _, rest = VALID[table].partition("\n")
    for i, name in enumerate(misnamed(column)):
        if name.lower() in header.lower().split(","):
            continue  # another column's name (a table with both `x` and `xs`): not a misnaming
        renamed = ",".join(name if cell == column else cell for cell in header.split(","))
        folder = write_extract(tmp_path / f"e{i}", {**VALID, table: renamed + "\n" + rest})
        found = fatal_messages(lambda folder=folder: load_extract(folder))
        mine = [m for t, c, m in found if (t, c) == (table, column)]
        assert len(mine) == 1, (name, found)
        hint = re.fullmatch(
            rf"required column is missing \(did you mean '(.+)'\? the column must be named {column}\)", mine[0]
        )
        assert hint and hint.group(1).lower() == name.lower(), (name, mine)


def test_a_name_too_far_off_is_not_suggested(tmp_path):
    files = {k: v for k, v in VALID.items() if k != "lesions"}
    folder = write_extract(tmp_path / "far", files)
    (folder / "findings.csv").write_text(VALID["lesions"], encoding="utf-8")
    header, _, rest = VALID["imaging"].partition("\n")
    files["imaging"] = header.replace("modality", "kind") + "\n" + rest
    write_extract(folder, files)
    found = fatal_messages(lambda: load_extract(folder))
    assert ("lesions", None, "required table is missing") in found
    assert ("imaging", "modality", "required column is missing") in found
