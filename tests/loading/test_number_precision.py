"""A number is kept to three decimals, and a value written with more is rounded and reported (D63); a number
too large for the type it is kept in is judged by the column's bounds, like any other number.

Sizes and SUVs are exact decimals of 0.001 so that "20 % larger" and "larger than 15 mm" are decided without
floating-point error. A value with more decimals cannot be kept as it is: it is rounded to the nearest 0.001,
and since a rule may then decide differently than it would on the value as written (15.0004 mm is "larger
than 15 mm", 15.000 is not), validation reports it, naming table, column, row and the value as written. A
binary fraction's own error (15.000000000000002, a size computed as 1.5 cm * 10) is not a measurement: it
is rounded away without a word. The same holds whether the value arrives as text (CSV), as a float or as a
decimal of more places (Parquet, a DataFrame, a DuckDB file).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oligo_cohort.database import close, connect
from oligo_cohort.dictionary import NUMBER_DECIMALS, ROUNDING_NOISE
from oligo_cohort.sources import read_source
from oligo_cohort.validate import create_vocabulary, validate_and_type
from tests.draws import costly_draws
from tests.loading.test_stored_types import lesion_rows

STEP = Decimal(1).scaleb(-NUMBER_DECIMALS)

# Sizes within the plausible range, written with 0 to 7 decimals, and sizes in whole 0.1 mm computed from
# centimetres as a float (which may carry a binary fraction's error).
PLAUSIBLE_MM = 300  # above it a size is implausible and read as missing, with a finding of its own
written = st.integers(0, 7).flatmap(
    lambda places: st.integers(0, PLAUSIBLE_MM * 10**places).map(lambda units: Decimal(units).scaleb(-places))
)
from_centimetres = st.integers(0, 2_999).map(lambda tenths: Decimal(float(tenths) / 100 * 10))


def lesions(values: list[Decimal], form: str) -> pa.Table:
    """One lesion per value, its size given as text, a float or a decimal of six places."""
    if form == "text":
        sizes = pa.array([format(v, "f") for v in values], pa.string())
    elif form == "float":
        sizes = pa.array([float(v) for v in values], pa.float64())
    else:
        sizes = pa.array([v.quantize(Decimal("0.000001")) for v in values], pa.decimal128(18, 6))
    return lesion_rows(["liver"] * len(values)).append_column("size_mm", sizes)


def exact(value: Decimal, form: str) -> Decimal:
    """The value the extract really holds in that form."""
    if form == "float":
        return Decimal(float(value))
    if form == "decimal":
        return value.quantize(Decimal("0.000001"))
    return value


@settings(max_examples=costly_draws(40), deadline=None)
@given(values=st.lists(st.one_of(written, from_centimetres), min_size=1, max_size=8))
@pytest.mark.parametrize("form", ["text", "float", "decimal"])
def test_a_value_rounded_to_the_kept_decimals_is_reported_and_noise_is_not(form, values):
    tables = {
        "patients": pa.table({"patient_id": ["P1"], "site_id": ["A"], "birth_date": ["1960-01-01"], "sex": ["F"]}),
        "imaging": pa.table(
            {"study_id": ["S1"], "patient_id": ["P1"], "study_date": ["2024-01-01"], "modality": ["CT"]}
        ),
        "lesions": lesions(values, form),
    }
    con = connect()
    # Parquet files: a column of a number type is read as it is, a text column typed from its text.
    with tempfile.TemporaryDirectory() as folder:
        for name, table in tables.items():
            pq.write_table(table, Path(folder, f"{name}.parquet"))
        try:
            create_vocabulary(con)
            problems = validate_and_type(con, read_source(Path(folder), con), run_day=dt.date(2025, 1, 1))
            typed = [row[0] for row in con.execute("SELECT size_mm FROM typed_lesions ORDER BY _row").fetchall()]
        finally:
            close(con)
    held = [exact(v, form) for v in values]
    # Kept to the nearest 0.001 (a tie may go either way, as the binary value behind it does).
    assert all(abs(t - h) <= STEP / 2 + Decimal(ROUNDING_NOISE) for t, h in zip(typed, held, strict=True))
    rounded_off = [abs(h - h.quantize(STEP)) > Decimal(ROUNDING_NOISE) for h in held]
    reported = [p for p in problems if p.column == "size_mm"]
    assert all(p.severity == "finding" and "more than 3 decimals" in p.message for p in reported)
    assert sorted(p.row for p in reported) == [row for row, off in enumerate(rounded_off, start=1) if off]
    if form == "text":  # the value as written is what the finding quotes
        assert {p.row: p.value for p in reported} == {
            row: format(v, "f") for row, (v, off) in enumerate(zip(values, rounded_off, strict=True), start=1) if off
        }


HUGE = [Decimal("1e9"), Decimal("99999999999"), Decimal("1e15"), Decimal("-1e12")]


HUGE_SIZES = {
    "text": pa.array([format(v, "f") for v in HUGE], pa.string()),
    "float": pa.array([float(v) for v in HUGE], pa.float64()),
    "decimal": pa.array([v.quantize(Decimal("0.001")) for v in HUGE], pa.decimal128(38, 3)),
    "integer": pa.array([int(v) for v in HUGE], pa.int64()),
}


@pytest.mark.parametrize("form", sorted(HUGE_SIZES))
def test_a_number_too_large_to_keep_is_judged_by_its_bounds_not_called_not_a_number(form, tmp_path):
    """DECIMAL(12, 3) holds up to a billion. A size of 1e15 mm is a number, and an implausible one: read as missing
    with a finding, as 301 mm is; -1e12 is below the size's minimum, an impossible value. Neither is "not a
    number", which would stop the screen for a value the dictionary calls a warning."""
    tables = {
        "patients": pa.table({"patient_id": ["P1"], "site_id": ["A"], "birth_date": ["1960-01-01"], "sex": ["F"]}),
        "imaging": pa.table(
            {"study_id": ["S1"], "patient_id": ["P1"], "study_date": ["2024-01-01"], "modality": ["CT"]}
        ),
        "lesions": lesions(HUGE, "text").set_column(5, "size_mm", HUGE_SIZES[form]),
        "performance_status": pa.table(
            {"patient_id": ["P1"], "assessment_date": ["2024-01-01"], "scale": ["KPS"], "score": ["1e10"]}
        ),
    }
    for name, table in tables.items():
        pq.write_table(table, tmp_path / f"{name}.parquet")
    con = connect()
    try:
        create_vocabulary(con)
        problems = validate_and_type(con, read_source(tmp_path, con), run_day=dt.date(2025, 1, 1))
        typed = [row[0] for row in con.execute("SELECT size_mm FROM typed_lesions ORDER BY _row").fetchall()]
    finally:
        close(con)
    said = {(p.table, p.column, p.row): (p.severity, p.message) for p in problems if p.row is not None}
    assert typed == [None] * len(HUGE)
    for row, size in enumerate(HUGE, start=1):
        if size > 0:
            assert said[("lesions", "size_mm", row)] == ("finding", "implausibly large (above 300): read as missing")
        else:
            assert said[("lesions", "size_mm", row)] == ("fatal", "impossible value: below 0")
    assert said[("performance_status", "score", 1)] == ("fatal", "impossible value: above 100")
