"""Patient ids a spreadsheet would take for a formula survive the chart review round trip unchanged.

A registry's ids are text: `-242`, `=217`, `+1`, `@7`, ids with leading zeros or with spaces, or an id starting
with the apostrophe that marks formula-like text inert in the tool's CSV files. Any such id must come out of
export -> answers (CSV or workbook) -> import -> re-screen as the first screen read it, in every table, with the
results the same ids of the demo give. The ids are generated; the demo patients 00217, 00242 and 20067 (all asked
about; their answers go into rewritten tables while other tables of theirs are copied) are renamed to them.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from oligo_cohort.api import screen
from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.review.export import export_review, write_review_csv
from oligo_cohort.review.importer import import_answers
from oligo_cohort.review.simulate import fill_answers
from tests.draws import costly_draws

RENAMED = ("00217", "00242", "20067")
NURSE = "M. Bakker"
COMPARED = ["status", "event_id", *CRITERION_IDS]
DEMO_IDS = set(pd.read_csv(demo_extract_dir() / "patients.csv", dtype=str)["patient_id"])

# An id as a registry may write it: spaces around it (the screen trims them), a formula character or the inert
# mark first, leading zeros, and a body that may hold those characters and spaces again.
ids = st.builds(
    lambda before, start, zeros, body, after: before + start + "0" * zeros + body + after,
    st.sampled_from(["", " ", "  "]),
    st.sampled_from(["", "=", "+", "-", "@", "'", "''", "\t"]),
    st.integers(0, 3),
    st.text(alphabet="0123456789AB =+-@'", min_size=1, max_size=6),
    st.sampled_from(["", " "]),
)


def distinct(names: list[str]) -> bool:
    """Ids that stay three different patients, none of the demo's, once the screen has trimmed them."""
    trimmed = [name.strip() for name in names]
    return all(trimmed) and len(set(trimmed)) == len(trimmed) and not set(trimmed) & DEMO_IDS


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The round trip with the demo's own ids: the patients before and after review."""
    base = tmp_path_factory.mktemp("baseline")
    return round_trip(demo_extract_dir(), base, "csv")


def renamed_extract(target: Path, names: dict[str, str]) -> dict[str, str]:
    """A copy of the demo with patients renamed in every table (their scans and tumours too), written as a
    registry writes CSV: the values as they are. Returns the demo id of every renamed id, as the screen reads it
    (trimmed)."""
    target.mkdir()
    demo_ids = {new.strip(): old for old, new in names.items()}
    for file in sorted(demo_extract_dir().glob("*.csv")):
        with file.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        header = rows[0]
        for row in rows[1:]:
            for k, column in enumerate(header):
                if column == "patient_id" and row[k] in names:
                    row[k] = names[row[k]]
                elif column in ("study_id", "tumour_id") and row[k].split("-")[0] in names:
                    old, rest = row[k].split("-", 1)
                    demo_ids[f"{names[old]}-{rest}".strip()] = row[k]
                    row[k] = f"{names[old]}-{rest}"
        with (target / file.name).open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
    return demo_ids


def fill_workbook(workbook: Path, filled: pd.DataFrame) -> None:
    """The export's workbook with every row answered as `filled` says, as a nurse types it."""
    said = {(r.patient_id, r.item): r for r in filled.itertuples(index=False) if r.answer is not None}
    book = load_workbook(workbook)
    for sheet in book.worksheets:
        header = [cell.value for cell in sheet[1]]
        column = {name: k for k, name in enumerate(header)}
        for cells in sheet.iter_rows(min_row=2):
            answer = said[(cells[column["patient_id"]].value, cells[column["item"]].value)]
            cells[column["answer"]].value = answer.answer
            cells[column["answer_date"]].value = str(answer.answer_date)
            cells[column["answered_by"]].value = answer.answered_by
    book.save(workbook)


def round_trip(extract: Path, base: Path, kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Screen, export, answer every question favourably (CSV or workbook), import, screen again at the same
    cut-off: the patients of both screens, by patient id."""
    before = screen(extract)
    before.write(base / "before")
    rows = export_review(base / "before", base / "review").rows
    filled = fill_answers(rows, answered_by=NURSE)
    if kind == "csv":
        answers = base / "review" / "review.csv"
        write_review_csv(filled, answers)
    else:
        answers = base / "review" / "review.xlsx"
        fill_workbook(answers, filled)
    import_answers([answers], extract, base / "reviewed")
    after = screen(base / "reviewed", as_of=before.as_of)
    return before.patients.set_index("patient_id"), after.patients.set_index("patient_id")


@settings(max_examples=costly_draws(3), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(ids, min_size=3, max_size=3), kind=st.sampled_from(["csv", "xlsx"]))
@example(names=["=217", "-242", "+20067"], kind="csv")
@example(names=["@217", "'00242", " 00 20067 "], kind="xlsx")
@example(names=["-00217", "''=242", "\t+0"], kind="csv")
def test_formula_like_ids_survive_export_import_and_the_screen_after(baseline, names, kind):
    assume(distinct(names))
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        demo_ids = renamed_extract(base / "extract", dict(zip(RENAMED, names, strict=True)))
        before, after = round_trip(base / "extract", base, kind)
    assert {name.strip() for name in names} <= set(before.index)
    assert list(after.index) == list(before.index)  # every id as the first screen read it, no patient lost
    for frame, expected in zip((before, after), baseline, strict=True):
        assert results(frame, demo_ids) == results(expected, {})


def results(patients: pd.DataFrame, demo_ids: dict[str, str]) -> dict[str, tuple[str | None, ...]]:
    """Each patient's status, event and outcomes, under the demo's ids."""
    found = {}
    for patient_id, row in zip(patients.index, patients[COMPARED].itertuples(index=False), strict=True):
        status, event, *outcomes = (None if pd.isna(value) else str(value) for value in row)
        found[demo_ids.get(patient_id, patient_id)] = (status, demo_ids.get(event, event), *outcomes)
    return found
