"""`accrual --sites FILE`: a damaged sites file is refused through the command line with its file, line, column
and value (exit 2, nothing written, the file unchanged); generated sites files are read or refused exactly as an
independent list of good and bad values says.

The damages are the ones users' files arrive with (`tests/safety/damaged_inputs.py`): other encodings, NUL bytes,
a quote left open, empty files, a column named twice in another case, missing columns, ragged rows, very long
values, a workbook under a .csv name, and a folder, FIFO or broken link where the file should be.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.accrual.sites_file import read_sites_file
from oligo_cohort.cli import main
from oligo_cohort.errors import UsageError
from oligo_cohort.paths import demo_extract_dir
from tests.safety.damaged_inputs import NOT_FILE_WORDS, NOT_FILES, TEXT_DAMAGES, answered, damaged, not_a_file

START = dt.date(2025, 1, 1)
GOOD = b"site_id,activation_date,planned_rate\nAVL,2025-03-01,0.5\nUMCU,2024-12-01,\n"
COLUMNS = ("site_id", "activation_date", "planned_rate")

# What each damage of the second line's cell in `column` must be answered with.
EXPECTED = {
    "utf-16": "UTF-16 text",
    "utf-16 without its mark": "line 1 holds NUL bytes",
    "latin-1 byte": "line 2 is not UTF-8 text",
    "nul byte in a cell": "line 2: {column} '{first}\\\\x00",
    "quote left open": "a quote opened on line 2 is not closed",
    "empty": "the file is empty",
    "blank lines only": "the file is empty",
    "header only": "no sites listed",
    "column named twice": "'{column}' (columns {position} and 4) named more than once",
    "required column missing": "missing column {column}",
    "row too short": "line 2 does not have 3 fields like the header",
    "row too long": "line 2 does not have 3 fields like the header",
    "very long value": "line 2: {column} 'xxxxxxxx",
    "workbook bytes": "a zip archive (an Excel .xlsx workbook?), not a text file",
}


@pytest.fixture(scope="module")
def screen_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sites") / "screen"
    assert main(["screen", str(demo_extract_dir()), "--out", str(out), "--quiet"]) == 0
    return out


def accrual(screen_dir: Path, sites: Path) -> list[str]:
    out = sites.parent / "forecast"
    return ["accrual", str(screen_dir), "--target", "5", "--start", str(START), "--out", str(out), "-q",
            "--sites", str(sites)]  # fmt: skip


# A damage of the whole file once; a damage of a cell or a column in each of the two columns that are checked.
WHOLE_FILE = ("utf-16", "utf-16 without its mark", "latin-1 byte", "empty", "blank lines only", "header only",
              "workbook bytes")  # fmt: skip
CASES = [(d, 1) for d in WHOLE_FILE] + [(d, c) for d in TEXT_DAMAGES if d not in WHOLE_FILE for c in (1, 2)]


@pytest.mark.parametrize(("damage", "column"), CASES)
def test_a_damaged_sites_file_is_refused_naming_file_line_column_and_value(tmp_path, screen_dir, damage, column):
    if damage == "required column missing" and column == 2:
        column = 0  # planned_rate is optional
    sites = tmp_path / "sites.csv"
    sites.write_bytes(damaged(GOOD, damage, row=1, column=column))
    said = answered(accrual(screen_dir, sites), inputs=[sites], out=tmp_path / "forecast")
    assert said.code == 2
    assert f"--sites {sites}" in said.err
    first = GOOD.decode().splitlines()[1].split(",")[column][:1]
    assert EXPECTED[damage].format(column=COLUMNS[column], position=column + 1, first=first) in said.err, said.err
    assert len(said.err) < 2000, "a value is shown whole"


@pytest.mark.parametrize("kind", NOT_FILES)
def test_a_sites_path_that_is_not_a_file_is_named_never_opened(tmp_path, screen_dir, kind):
    sites = tmp_path / "sites.csv"
    not_a_file(sites, kind)
    with pytest.raises(UsageError, match=rf"--sites {sites}: {re.escape(NOT_FILE_WORDS[kind])}, not a file"):
        read_sites_file(sites, START)
    said = answered(accrual(screen_dir, sites), inputs=[], out=tmp_path / "forecast")
    if kind == "link loop":  # an input that is a link loop is named by the destination's checks, before the reader
        assert said.code == 2 and f"{sites} is a link loop" in said.err
    else:
        assert said.code == 2 and f"--sites {sites}: {NOT_FILE_WORDS[kind]}, not a file" in said.err


def test_other_delimiters_and_a_byte_order_mark_read_the_same_sites(tmp_path, screen_dir):
    """`;`, tab or `|` as a Dutch or Windows spreadsheet writes, with a byte-order mark and CRLF."""
    expected = read_sites_file(_written(tmp_path / "plain.csv", GOOD), START)
    for delimiter in (";", "\t", "|"):
        text = GOOD.decode().replace(",", delimiter).replace("\n", "\r\n")
        table = read_sites_file(_written(tmp_path / "other.csv", b"\xef\xbb\xbf" + text.encode()), START)
        assert table.equals(expected), delimiter
    sites = _written(tmp_path / "semicolons.csv", GOOD.replace(b",", b";"))
    assert answered(accrual(screen_dir, sites), inputs=[sites], out=tmp_path / "forecast").code == 0


def _written(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


# --- Generated sites files, against lists of good and bad values ------------------------------------------------

# (value, whether the column accepts it). Dates: YYYY-MM-DD calendar dates from 1900-01-01 to 100 years after the
# start (2125-01-01). Rates: empty, or a plain decimal number from 0 to 100.
DATES = [("2025-03-01", True), ("2024-12-01", True), ("1900-01-01", True), ("2125-01-01", True),
         ("2125-01-02", False), ("1899-12-31", False), ("9999-12-31", False), ("0001-01-01", False),
         ("2025-02-29", False), ("2024-02-29", True), ("2025-3-1", False), ("01/03/2025", False),
         ("20250301", False), ("45717", False), ("2025-03-01 10:00", False), ("", False), ("x" * 500, False),
         ("=TODAY()", False)]  # fmt: skip
RATES = [("", True), ("0", True), ("100", True), ("0.5", True), ("+3", True), ("1e1", True), (".5", True),
         ("1e-400", True), ("100.5", False), ("-2", False), ("-0.0001", False), ("nan", False), ("inf", False),
         ("1e400", False), ("1_0", False), ("0x1", False), ("1,5", False), ("\u0665", False), ("x", False),
         ("9" * 300, False)]  # fmt: skip
SITES = [("AVL", True), ("UMCU", True), (" MST ", True), ('=HYPERLINK("x")', True), ('a "quoted"\nname', True),
         ("", False), ("A\x00VL", False)]  # fmt: skip


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(SITES),
            st.one_of(st.sampled_from(DATES), st.dates(dt.date(1900, 1, 1), dt.date(2125, 1, 1)).map(
                lambda d: (d.isoformat(), True))),
            st.one_of(st.sampled_from(RATES), st.floats(0, 100).map(lambda r: (repr(r), True)),
                      st.integers(max_value=-1).map(lambda r: (str(r), False))),
        ),
        max_size=5,
    ),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    blank_after=st.sets(st.integers(0, 5), max_size=2),
)  # fmt: skip
def test_a_generated_sites_file_is_read_or_refused_as_its_values_say(rows, delimiter, newline, bom, blank_after):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(COLUMNS)
    lines = {}  # data row -> line number in the file (blank lines count, quoted line breaks too)
    line = 2
    for k, ((site, _), (date, _), (rate, _)) in enumerate(rows):
        if k in blank_after:
            buffer.write(newline)
            line += 1
        lines[k] = line
        writer.writerow([site, date, rate])
        line += 1 + site.count("\n")
    folder = Path(tempfile.mkdtemp())
    try:
        path = folder / "sites.csv"
        path.write_bytes(("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8"))
        kept = [k for k, ((site, _), (date, _), (rate, _)) in enumerate(rows) if site.strip() or date or rate]
        expected = []
        for k in kept:
            (site, site_ok), (date, date_ok), (rate, rate_ok) = rows[k]
            if not site_ok:
                expected.append(f"line {lines[k]}: site_id")
            if not date_ok:
                expected.append(f"line {lines[k]}: activation_date")
            if not rate_ok:
                expected.append(f"line {lines[k]}: planned_rate")
        names = [rows[k][0][0].strip() for k in kept if rows[k][0][1]]
        expected += [f"site_id {n!r} appears more than once" for n in sorted({n for n in names if names.count(n) > 1})]
        if not kept:
            expected.append("no sites listed")
        damaged_cells = [f"line {lines[k]}: site_id" for k in kept if "\x00" in rows[k][0][0]]
        if damaged_cells:  # a damaged file is refused for its damage before its values are judged
            expected = damaged_cells
        try:
            table = read_sites_file(path, START)
        except UsageError as error:
            message = str(error)
            assert expected, message
            assert message.startswith(f"--sites {path}: ")
            if len(expected) <= 20:
                assert all(part in message for part in expected), (expected, message)
            else:
                assert f"... and {len(expected) - 20} more" in message
        else:
            assert not expected, expected
            assert list(table["site_id"]) == names
            assert (table["opens"] >= 0).all()
            assert table["planned_rate"].between(0, 100).sum() == sum(rows[k][2][0] != "" for k in kept)
    finally:
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()
