"""An OMOP table's file that cannot be read as a table at all, whichever table it is, plain or packed in gzip: the
import refuses it in the words every file a user gives gets (`oligo_cohort.user_files`, as the NKR file and the
side files are read), with exit 2, nothing written and the source unchanged; never with a database's own words
or a traceback.

The contents are generated: the first bytes of a workbook, a Parquet file, an archive, a PDF or a database under a
table's name; blank lines only; UTF-16 text, with or without its mark; a header line holding NUL bytes. Each is
expected to be answered as `read_delimited` answers the same bytes. A `.gz` table that is not a whole gzip
archive (plain text, other bytes, a gzip stream cut short) is named as such.
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.user_files import UserFileProblem, read_delimited
from tests.importers.test_import_omop import omop_tables, write_folder
from tests.safety.damaged_inputs import answered

TABLES = sorted(omop_tables())
MAGIC = [
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"PAR1",
    b"\x1f\x8b",
    b"%PDF-1.4",
    b"SQLite format 3\x00",
    b"PGDMP",
]
TEXT = "person_id,death_date\n4,2024-02-01\n"

not_a_table = st.one_of(
    st.builds(lambda magic, tail: magic + tail, st.sampled_from(MAGIC), st.binary(max_size=64)),
    st.text(alphabet=" \t\r\n", max_size=12).map(str.encode),  # nothing but blank lines (or nothing at all)
    st.sampled_from([TEXT.encode("utf-16"), TEXT.encode("utf-16-le"), TEXT.encode("utf-16-be")]),
    st.builds(lambda at: TEXT[:at].encode() + b"\x00" + TEXT[at:].encode(), st.integers(0, TEXT.index("\n"))),
)


def refusal(content: bytes, folder: Path) -> str:
    """What the rules of every file a user gives say of these bytes as a CSV file."""
    probe = folder / "probe.csv"
    probe.write_bytes(content)
    try:
        read_delimited(probe, latin1=True)
    except UserFileProblem as exc:
        return exc.reason
    raise AssertionError(f"{content!r} is read as a table")


def import_answer(folder: Path, table: str, name: str, content: bytes):
    source = write_folder(omop_tables(), folder / "cdm")
    (source / f"{table}.csv").unlink()
    (source / name).write_bytes(content)
    out = folder / "out"
    return source / name, answered(["import", "omop", str(source), "--out", str(out)], inputs=[source], out=out)


SETTINGS = settings(
    max_examples=25, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(table=st.sampled_from(TABLES), content=not_a_table, packed=st.booleans())
def test_a_table_file_that_is_no_table_is_refused_as_every_user_file_is(table, content, packed) -> None:
    folder = Path(tempfile.mkdtemp(prefix="oligo-omop-"))
    try:
        expected = refusal(content, folder)
        name = f"{table}.csv.gz" if packed else f"{table}.csv"
        file, said = import_answer(folder, table, name, gzip.compress(content) if packed else content)
        assert said.code == 2, said.err
        if packed and ", not a text file:" in expected:  # an export or archive, found inside the gzip archive
            expected = expected.replace(", not a text file:", " packed in gzip, not a text file:")
        assert f"{file}: {expected}" in said.err, (expected, said.err)
        assert len(said.err.strip().splitlines()) == 1, said.err
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@SETTINGS
@given(
    table=st.sampled_from(TABLES),
    content=st.one_of(
        st.just(TEXT.encode()),
        st.binary(min_size=1, max_size=64).filter(lambda b: not b.startswith(b"\x1f\x8b")),
        st.integers(1, 40).map(lambda cut: gzip.compress(TEXT.encode() * 3)[:cut]),
    ),
)
def test_a_gz_table_that_is_not_a_whole_gzip_archive_is_named(table, content) -> None:
    folder = Path(tempfile.mkdtemp(prefix="oligo-omop-"))
    try:
        file, said = import_answer(folder, table, f"{table}.csv.gz", content)
        assert said.code == 2, said.err
        assert f"{file}: " in said.err and "gzip" in said.err, said.err
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@settings(max_examples=10, deadline=None)
@given(table=st.sampled_from(["person", "drug_exposure", "condition_occurrence"]), tabs=st.integers(1, 3))
def test_a_table_whose_column_names_carry_tabs_is_read_as_the_commas_split_it(table, tabs):
    """A header copied from a spreadsheet (`person_id\\t,year_of_birth\\t,...`) holds more tabs than commas: the
    delimiter is the one that splits the records as it splits the header, as for every file a user gives."""
    from oligo_cohort.importers import import_omop

    tables = omop_tables()
    with tempfile.TemporaryDirectory() as folder:
        source = write_folder(tables, Path(folder) / "cdm")
        expected = import_omop(source).tables
        path = source / f"{table}.csv"
        header, rest = path.read_text(encoding="utf-8").split("\n", 1)
        path.write_text(",".join(f"{name}{chr(9) * tabs}" for name in header.split(",")) + "\n" + rest, "utf-8")
        got = import_omop(source).tables
    assert got.keys() == expected.keys()
    for name, frame in expected.items():
        assert got[name].equals(frame), name
