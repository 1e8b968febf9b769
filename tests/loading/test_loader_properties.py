"""Property-based loader tests: a valid small extract, randomly damaged, is screened or rejected — never a crash.

Each example takes the valid extract of `tests/loading/test_bad_input.py`, applies a
few random damages (a cell replaced by junk, a column dropped, a row
duplicated, a cell emptied), writes it as CSV files and loads it. Either
the load succeeds and the screen runs to written outputs, or it raises
`InputError` whose every problem is fatal and names its table and what is
wrong. Any other exception is a bug. Derandomized, so the run is repeatable;
the default suite runs 13 examples (25 under `make test-thorough`, tests/draws.py),
`pytest -m slow` 100.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.api import _screen_loaded
from oligo_cohort.dictionary import tables
from oligo_cohort.errors import InputError
from oligo_cohort.load import load_extract
from oligo_cohort.protocol import load_protocol
from tests.draws import costly_draws
from tests.loading.test_bad_input import VALID

BASE = {name: list(csv.DictReader(io.StringIO(text))) for name, text in VALID.items()}
COLUMNS = {name: list(rows[0]) for name, rows in BASE.items()}
NAMES = sorted(BASE)

JUNK = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "NULL",
            "nan",
            "inf",
            "-0",
            "1e309",
            "-1",
            "00",
            "4000",
            "2023-02-30",
            "31/12/2023",
            "44927",
            "9999-12-31",
            "0001-01-01",
            "2021-03-01T10:00",
            "C50.4",
            "c504",
            "M1",
            "true",
            "yes",
            '=HYPERLINK("http://x")',
            "'); DROP TABLE patients; --",
            '"',
            "a\nb",
            "\ufeff",
            "\x00",
            "é",
            "🙂",
            "x" * 5000,
            "007",
            "P2",
            "S1",
            "L1",
        ]
    ),
    st.text(max_size=12),
)


@st.composite
def damage(draw):
    kind = draw(st.sampled_from(["junk", "junk", "junk", "drop_column", "duplicate_row", "blank"]))
    table = draw(st.sampled_from(NAMES))
    row = draw(st.integers(0, len(BASE[table]) - 1))
    column = draw(st.sampled_from(COLUMNS[table]))
    value = draw(JUNK) if kind == "junk" else ""
    return kind, table, row, column, value


def damaged(damages) -> dict[str, tuple[list[str], list[dict[str, str]]]]:
    extract = {name: (list(COLUMNS[name]), [dict(r) for r in rows]) for name, rows in BASE.items()}
    for kind, table, row, column, value in damages:
        columns, rows = extract[table]
        if kind == "drop_column":
            if column in columns:
                columns.remove(column)
        elif kind == "duplicate_row":
            rows.append(dict(rows[row]))
        else:
            rows[row][column] = value
    return extract


def write(extract, folder: Path) -> Path:
    for name, (columns, rows) in extract.items():
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    return folder


PROTOCOL = load_protocol("cosmo")


def screened_or_rejected(damages) -> None:
    """Load the damaged extract: InputError with a report, or a screen that writes its outputs."""
    folder = Path(tempfile.mkdtemp(prefix="oligo-prop-"))
    try:
        extract = folder / "extract"
        extract.mkdir()
        write(damaged(damages), extract)
        try:
            loaded = load_extract(extract)
        except InputError as error:
            assert error.problems, "an InputError lists its problems"
            for problem in error.problems:
                assert problem.severity == "fatal"
                assert problem.table in tables() and problem.message
                assert problem.describe()
            return
        result = _screen_loaded(loaded, PROTOCOL)
        out = result.write(folder / "out")
        assert (out / "patients.csv").is_file()
        assert len(result.patients) == len({r["patient_id"] for r in damaged(damages)["patients"][1]})
    finally:
        shutil.rmtree(folder, ignore_errors=True)


DAMAGES = st.lists(damage(), min_size=1, max_size=3)
SETTINGS = {
    "derandomize": True,
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


@settings(max_examples=costly_draws(25), **SETTINGS)
@given(DAMAGES)
def test_a_damaged_extract_is_screened_or_rejected_with_a_report(damages):
    screened_or_rejected(damages)


@pytest.mark.slow
@settings(max_examples=100, **SETTINGS)
@given(DAMAGES)
def test_a_damaged_extract_is_screened_or_rejected_with_a_report_100_examples(damages):
    """The same with 100 examples (about two minutes on a shared machine): `pytest -m slow`."""
    screened_or_rejected(damages)


@pytest.mark.parametrize(
    "damages",
    [
        [("junk", "patients", 0, "birth_date", "\x00")],
        [("drop_column", "lesions", 0, "size_mm", ""), ("duplicate_row", "imaging", 0, "study_id", "")],
        [("junk", "lesions", 1, "size_mm", "1e309")],
    ],
)
def test_examples_worth_keeping(damages):
    """Damages worth keeping as plain examples (a NUL byte, a dropped optional column, an overflowing number)."""
    screened_or_rejected(damages)
