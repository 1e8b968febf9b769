"""Any text a registry holds goes into the review workbook, and reads back as written.

The workbook is written by XlsxWriter (`review.workbook`). Registry ids, names and notes are free text: for any
generated text in any text column (any character but a lone surrogate, which no text file can hold), the
workbook is written, opens, keeps every row in its site's sheet, and holds each value as text (never a formula),
cut to Excel's 32,767 characters. A character XML cannot carry (a control character, U+FFFE, U+FFFF) is written as
Excel's `_xHHHH_` escape, so what Excel shows is the value; every other value reads back exactly through the
answer reader (which trims, as it trims every cell). The writer used before this one stopped the export with an
error on a control character, and wrote U+FFFE so that the workbook could not be opened.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from oligo_cohort.review.answers import CELL_CHARACTERS, read_answer_files
from oligo_cohort.review.export import ANSWER_COLUMNS, REVIEW_COLUMNS
from oligo_cohort.review.workbook import DATE_COLUMNS, sheet_names, write_workbook
from tests.draws import costly_draws

TEXT_COLUMNS = [c for c in REVIEW_COLUMNS if c not in DATE_COLUMNS and c not in ("site_id", "allowed_answers")]
# What XML 1.0 cannot carry, and so goes as `_xHHHH_`; and the escape's own form, whose underscore is escaped.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")

texts = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.sampled_from(["=1+1", "+A1", "@SUM(A1)", "-2", "_x0041_", "x\x1by", "\ufffe", "tab\tin", "line\nbreak"]),
    st.integers(CELL_CHARACTERS - 2, CELL_CHARACTERS + 3).map(lambda n: "é" * n),
)


def review_row(value: str, column: str, site: str) -> dict[str, object]:
    row: dict[str, object] = {c: f"{c} text" for c in REVIEW_COLUMNS}
    row |= {c: dt.date(2024, 5, 17) for c in DATE_COLUMNS}
    row |= {"site_id": site, "allowed_answers": "yes / no", column: value}
    return row


@settings(max_examples=costly_draws(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(st.tuples(texts, st.sampled_from(TEXT_COLUMNS)), min_size=1, max_size=4),
    sites=st.lists(st.sampled_from(["AVL", "UMCU", "MST"]), min_size=4, max_size=4),
)
def test_any_text_is_written_as_text_and_reads_back(values, sites, tmp_path):
    rows = pd.DataFrame([review_row(value, column, sites[k]) for k, (value, column) in enumerate(values)], dtype=object)
    path = tmp_path / "review.xlsx"
    write_workbook(rows, path, columns=REVIEW_COLUMNS, answer_columns=ANSWER_COLUMNS)

    book = load_workbook(path)
    names = sheet_names(sorted(set(rows["site_id"])))
    assert book.sheetnames == [names[s] for s in sorted(names)]
    for site, name in names.items():
        sheet = book[name]
        mine = rows[rows["site_id"] == site]
        assert sheet.max_row == len(mine) + 1
        for r, (_, record) in enumerate(mine.iterrows(), start=2):
            for k, column in enumerate(REVIEW_COLUMNS, start=1):
                cell = sheet.cell(r, k)
                if column in DATE_COLUMNS:
                    assert cell.value.date() == record[column]
                    continue
                assert cell.data_type == "s", (column, cell.value)  # text, never a formula or a number
                written = str(record[column])[:CELL_CHARACTERS]
                if not NOT_IN_XML.search(written):
                    assert cell.value == written, column

    answers, problems = read_answer_files([path])
    assert not problems
    by_row = {(a.sheet, a.row): a for a in answers}
    for site, name in names.items():
        for r, (_, record) in enumerate(rows[rows["site_id"] == site].iterrows(), start=2):
            for column in ("patient_id", "event_id", "item", "answered_by", "note"):
                written = str(record[column])[:CELL_CHARACTERS]
                if not NOT_IN_XML.search(written) and written.strip():
                    assert by_row[(name, r)].values[column] == written.strip(), column


def test_a_long_value_is_cut_to_what_a_cell_holds(tmp_path: Path):
    rows = pd.DataFrame([review_row("x" * (CELL_CHARACTERS + 10), "facts", "AVL")], dtype=object)
    write_workbook(rows, tmp_path / "review.xlsx", columns=REVIEW_COLUMNS, answer_columns=ANSWER_COLUMNS)
    cell = load_workbook(tmp_path / "review.xlsx")["AVL"].cell(2, REVIEW_COLUMNS.index("facts") + 1)
    assert cell.value == "x" * CELL_CHARACTERS
