"""An OMOP table's file that cannot be read as a table at all, whichever table it is, plain or packed in gzip: the
import refuses it in the words every file a user gives gets (`oligo_cohort.user_files`, as the NKR file and the
side files are read), with exit 2, nothing written and the source unchanged; never with a database's own words
or a traceback.

The contents are generated: the first bytes of a workbook, a Parquet file, an archive, a PDF or a database under a
table's name; blank lines only; UTF-16 text, with or without its mark; a header line holding NUL bytes. Each is
expected to be answered as `read_delimited` answers the same bytes. A `.gz` table that is not a whole gzip
archive (plain text, other bytes, a gzip stream cut short) is named as such.

Bytes that are no text, with no NUL byte and no signature (random bytes, bytes above ASCII only, control
characters), are refused as "a binary file, not a text file", as every user file is, the NKR file too; any bytes
at all are answered in the tool's words, never DuckDB's. What DuckDB stops on without naming a line is named by
it: lines that stop ending as the first one does (two exports joined, one from Windows); blank lines before the
header are skipped.

A table that is not UTF-8 is read as Windows-1252 (else Latin-1: docs/decisions.md D81) from a UTF-8 copy in the
run's private temporary folder: every line and row named is still the table's as written, and the copy goes with
the run, whatever its end.
"""

from __future__ import annotations

import functools
import gzip
import io
import shutil
import stat
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.errors import InputError, UsageError
from oligo_cohort.file_kinds import BINARY_FILE, SAMPLE_BYTES, content_kind
from oligo_cohort.user_files import UserFileProblem, read_delimited
from tests.draws import costly_draws
from tests.importers.imported_once import imported_tables
from tests.importers.test_import_omop import omop_tables, write_folder
from tests.loading.test_windows_text import WINDOWS_ONLY
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


@functools.cache
def _fixture_files() -> dict[str, bytes]:
    """The files `write_folder(omop_tables(), ...)` writes, by name: written once, then copied byte for byte."""
    with tempfile.TemporaryDirectory() as folder:
        source = write_folder(omop_tables(), Path(folder) / "cdm")
        return {path.name: path.read_bytes() for path in sorted(source.iterdir())}


def import_answer(folder: Path, table: str, name: str, content: bytes):
    source = folder / "cdm"
    source.mkdir(parents=True, exist_ok=True)
    for file, written in _fixture_files().items():
        (source / file).write_bytes(written)
    (source / f"{table}.csv").unlink()
    (source / name).write_bytes(content)
    out = folder / "out"
    return source / name, answered(["import", "omop", str(source), "--out", str(out)], inputs=[source], out=out)


SETTINGS = settings(
    max_examples=costly_draws(25),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
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


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_a_gz_table_cut_short_past_its_first_bytes_is_named(tmp_path, encoding) -> None:
    """A `.gz` table whose first MiB unpacks whole, cut short further on: named as a damaged archive, whether
    DuckDB reads it (UTF-8) or it is copied to be read (Windows-1252), never a traceback."""
    rows = "".join(f"{9100 + k},Zoë’s concept {k},Condition,SNOMED,Clinical Finding,S,{k}\n" for k in range(60_000))
    text = "concept_id,concept_name,domain_id,vocabulary_id,concept_class_id,standard_concept,concept_code\n" + rows
    packed = gzip.compress(text.encode(encoding))
    cut = packed[: len(packed) * 4 // 5]
    with gzip.open(io.BytesIO(cut)) as head:
        assert len(head.read(1 << 20)) == 1 << 20, "the first MiB, which the reader looks at first, unpacks"
    file, said = import_answer(tmp_path, "concept", "concept.csv.gz", cut)
    assert said.code == 2 and f"{file}: not a whole gzip archive" in said.err, said.err


@settings(max_examples=costly_draws(6), deadline=None)
@given(table=st.sampled_from(["person", "drug_exposure", "condition_occurrence"]), tabs=st.integers(1, 3))
def test_a_table_whose_column_names_carry_tabs_is_read_as_the_commas_split_it(table, tabs):
    """A header copied from a spreadsheet (`person_id\\t,year_of_birth\\t,...`) holds more tabs than commas: the
    delimiter is the one that splits the records as it splits the header, as for every file a user gives."""
    from oligo_cohort.importers import import_omop

    tables = omop_tables()
    with tempfile.TemporaryDirectory() as folder:
        source = write_folder(tables, Path(folder) / "cdm")
        expected = imported_tables(source)
        path = source / f"{table}.csv"
        header, rest = path.read_text(encoding="utf-8").split("\n", 1)
        path.write_text(",".join(f"{name}{chr(9) * tabs}" for name in header.split(",")) + "\n" + rest, "utf-8")
        got = import_omop(source).tables
    assert got.keys() == expected.keys()
    for name, frame in expected.items():
        assert got[name].equals(frame), name


# --- bytes that are no text: no NUL byte, no signature ----------------------------------------------------------

CONTROLS = bytes([*range(0x01, 0x07), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])  # in no text
PRINTABLE = bytes(range(0x20, 0x7F)) + b"\t\n\r"


def _not_utf8(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _plain(content: bytes) -> bool:
    """No NUL byte and no signature a file kind is known by: what is left is text or binary data."""
    return b"\x00" not in content and not any(content.startswith(magic) for magic in (*MAGIC, b"DUCK"))


# Binary data by construction, each family well past any stray control character a text may hold:
binary_data = st.one_of(
    # random bytes, as a damaged or mistaken file holds them (uniform over 1-255)
    st.randoms(use_true_random=False).map(lambda r: bytes(r.randrange(1, 256) for _ in range(r.randrange(256, 4000)))),
    # bytes above ASCII only, no UTF-8
    st.lists(st.integers(0x80, 0xFF), min_size=48, max_size=600).map(bytes).filter(_not_utf8),
    # text with a control character in every group of four bytes (or control characters alone)
    st.lists(
        st.tuples(
            st.binary(max_size=3).map(lambda b: bytes(x for x in b if x in PRINTABLE)), st.sampled_from(CONTROLS)
        ),
        min_size=16,
        max_size=300,
    ).map(lambda groups: b"".join(text + bytes([control]) for text, control in groups)),
).filter(_plain)

NOT_TEXT = "a binary file, not a text file: save it as CSV (UTF-8)"
# New draws at every run but CI's (tests/conftest.py)
DRAWN = settings(max_examples=costly_draws(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@DRAWN
@given(table=st.sampled_from(TABLES), content=binary_data, packed=st.booleans())
def test_binary_data_as_a_table_is_refused_as_every_user_file_is(table, content, packed) -> None:
    """Random bytes, bytes above ASCII, control characters under a table's name: refused as not a text file, in the
    words every user file gets (never DuckDB's, never a traceback), exit 2, no output folder left."""
    folder = Path(tempfile.mkdtemp(prefix="oligo-omop-"))
    try:
        assert refusal(content, folder) == NOT_TEXT  # the rules of every file a user gives
        name = f"{table}.csv.gz" if packed else f"{table}.csv"
        file, said = import_answer(folder, table, name, gzip.compress(content) if packed else content)
        assert said.code == 2, said.err
        expected = NOT_TEXT.replace(", not a text", " packed in gzip, not a text") if packed else NOT_TEXT
        assert said.err.strip() == f"oligo-cohort: error: {file}: {expected}", said.err
        assert not (folder / "out").exists()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@DRAWN
@given(content=binary_data)
def test_binary_data_as_the_nkr_file_is_refused_in_the_same_words(content) -> None:
    folder = Path(tempfile.mkdtemp(prefix="oligo-nkr-"))
    try:
        source = folder / "nkr.csv"
        source.write_bytes(content)
        out = folder / "out"
        said = answered(["import", "nkr", str(source), "--out", str(out)], inputs=[source], out=out)
        assert said.code == 2 and said.err.strip() == f"oligo-cohort: error: {source}: {NOT_TEXT}", said.err
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@settings(DRAWN, max_examples=costly_draws(30))
@given(table=st.sampled_from(TABLES), content=st.binary(min_size=1, max_size=300).filter(_plain))
def test_any_bytes_as_a_table_are_answered_in_the_tools_own_words(table, content) -> None:
    """Whatever the bytes (no NUL, no signature): an import, or a refusal in the tool's words naming the file (for
    bytes the rules of user files call binary, the same refusal), never DuckDB's words, a traceback or an output
    folder left behind (`answered` holds the last two)."""
    folder = Path(tempfile.mkdtemp(prefix="oligo-omop-"))
    try:
        file, said = import_answer(folder, table, f"{table}.csv", content)
        assert "Error:" not in said.err and "DuckDB" not in said.err, said.err
        if content_kind(content[:SAMPLE_BYTES]) == BINARY_FILE:
            assert said.code == 2 and f"{file}: {NOT_TEXT}" in said.err, said.err
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@settings(DRAWN, max_examples=8)
@given(
    table=st.sampled_from(TABLES),
    ends=st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=2, max_size=6).filter(lambda e: len(set(e)) > 1),
    encoding=st.sampled_from(["utf-8", "cp1252"]),
)
def test_a_table_whose_lines_end_unalike_is_read_right_or_named_by_the_line(table, ends, encoding) -> None:
    """Two exports joined end to end, one from Windows: DuckDB reads only lines that end alike, and stops on the
    others without naming a line; the refusal names the first line ending unlike line 1. Where DuckDB reads the
    file all the same (an odd end on the last line), the tables are those of the file with its lines alike. A
    Windows-1252 table, read from its UTF-8 copy, is named by the same lines of the table itself."""
    from oligo_cohort.importers import import_omop

    tables = omop_tables()
    tables[table]["remark"] = "Zoë’s"  # a column the mapping does not read; 0x92 in Windows-1252: no UTF-8
    lines = tables[table].to_csv(index=False).splitlines()
    lines += lines[1:] * 2  # rows repeated exactly are one record: the tables stay the same
    ends = [*ends, *[ends[-1]] * len(lines)][: len(lines)]
    if len(set(ends)) == 1:
        ends[0] = "\n" if ends[-1] != "\n" else "\r\n"
    with tempfile.TemporaryDirectory() as folder:
        source = write_folder(tables, Path(folder) / "cdm")
        file = source / f"{table}.csv"
        file.write_bytes("".join(line + end for line, end in zip(lines, ends, strict=True)).encode(encoding))
        try:
            got = import_omop(source).tables
        except UsageError as exc:
            names = {"\n": "LF", "\r\n": "CR LF", "\r": "CR"}
            other = next(k for k, end in enumerate(ends) if end != ends[0])
            said = f"{file}: line {other + 1} ends with {names[ends[other]]} where line 1 ends with {names[ends[0]]}"
            assert str(exc).startswith(said), str(exc)
        else:  # compared with the same tables, their lines alike (imported only where there is a comparison)
            expected = imported_tables(write_folder(tables, Path(folder) / "alike"))
            assert got.keys() == expected.keys() and all(got[name].equals(f) for name, f in expected.items())


def windows_table(tables, table: str, at: int, character: str) -> bytes:
    """The table as a Windows export writes it (Windows-1252), `character` in data row `at` (from 0) of a column
    the mapping does not read, the other rows' empty."""
    frame = tables[table]
    frame["remark"] = ""
    frame.loc[at, "remark"] = f"Zoë{character}s"
    return frame.to_csv(index=False).encode("cp1252")


def write_table(source: Path, table: str, content: bytes, *, packed: bool) -> Path:
    """`content` as the table's file in `source`, in place of the one there, packed in gzip if `packed`."""
    for name in (f"{table}.csv", f"{table}.csv.gz"):
        (source / name).unlink(missing_ok=True)
    path = source / f"{table}.csv.gz" if packed else source / f"{table}.csv"
    path.write_bytes(gzip.compress(content) if packed else content)
    return path


@settings(DRAWN, max_examples=costly_draws(6))
@given(
    table=st.sampled_from(TABLES),
    character=st.sampled_from(WINDOWS_ONLY),
    at=st.integers(0, 3),
    short=st.integers(0, 3),
    blank=st.integers(0, 2),
    packed=st.booleans(),
)
def test_a_windows_1252_table_is_named_by_the_lines_and_rows_of_the_file_as_written(
    table, character, at, short, blank, packed
) -> None:
    """A table that is not UTF-8, its bytes 0x80-0x9F Windows-1252's quotes, dashes and euro sign, is read as
    Windows-1252 (D81): the tables are those of the same table in UTF-8, the note names the encoding and the first
    line that is not UTF-8, and a short row after it is named by its row, each counted in the file as written
    (blank lines before the header skipped, rows counted from the header), plain or packed in gzip."""
    from oligo_cohort.importers import import_omop

    tables = omop_tables()
    rows = len(tables[table])
    at %= rows
    content = b"\n" * blank + windows_table(tables, table, at, character)
    short = at + short % (rows - at)  # a short row after data row `short` (from 0), at or after the Windows byte
    lines = content.splitlines(keepends=True)
    lines.insert(blank + 2 + short, b"1\n")
    with tempfile.TemporaryDirectory() as folder:
        source = write_folder(tables, Path(folder) / "cdm")
        expected = imported_tables(source)
        path = write_table(source, table, content, packed=packed)
        result = import_omop(source)
        write_table(source, table, b"".join(lines), packed=packed)
        with pytest.raises(InputError) as caught:
            import_omop(source)
    note = f"{path.name} is not UTF-8 (first on line {blank + 2 + at}): read as Windows-1252"
    assert note in result.report.notes, result.report.notes
    assert result.tables.keys() == expected.keys()
    for name, frame in expected.items():
        assert result.tables[name].equals(frame), name
    assert [(p.table, p.row) for p in caught.value.problems] == [(table, short + 2)], caught.value.problems


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_a_windows_1252_header_is_read_from_the_copy_as_its_rows_are(tmp_path, packed) -> None:
    """The header of a Windows-1252 table is read as its rows are, from the UTF-8 copy: two columns the mapping does
    not read, named alike but for a character above ASCII (`remarque_é`, `remarque_è`), are two columns, not one
    named twice, and the table imports as it does in UTF-8."""
    from oligo_cohort.importers import import_omop

    tables = omop_tables()
    tables["care_site"]["remarque_é"] = "un"
    tables["care_site"]["remarque_è"] = "deux"
    source = write_folder(tables, tmp_path / "cdm")
    expected = imported_tables(source)
    content = (source / "care_site.csv").read_text("utf-8").encode("cp1252")
    write_table(source, "care_site", content, packed=packed)
    result = import_omop(source)
    assert any(note.startswith("care_site.csv") and "Windows-1252" in note for note in result.report.notes)
    assert result.tables.keys() == expected.keys()
    for name, frame in expected.items():
        assert result.tables[name].equals(frame), name


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_a_windows_1252_byte_past_the_first_mib_is_found_all_the_same(tmp_path, packed) -> None:
    """A table whose first MiB is ASCII is read as UTF-8 until DuckDB meets its Windows-1252 byte: it is then read
    from its copy all the same, the note naming that line, a short row after it named by its row."""
    from oligo_cohort.importers import import_omop

    tables = omop_tables()
    filler = pd.DataFrame({"concept_id": range(100_000, 140_000), "concept_name": "plain concept", "domain_id": "X"})
    tables["concept"] = pd.concat([tables["concept"], filler], ignore_index=True).astype(object)
    tables["concept"].loc[len(tables["concept"])] = {"concept_id": 1, "concept_name": "O’Brien", "domain_id": "X"}
    source = write_folder(tables, tmp_path / "cdm")
    expected = imported_tables(source)
    content = (source / "concept.csv").read_text("utf-8").encode("cp1252")
    assert content.index(b"\x92") > 1 << 20, "the first MiB holds no Windows-1252 byte"
    path = write_table(source, "concept", content, packed=packed)
    result = import_omop(source)
    write_table(source, "concept", content + b"2\n", packed=packed)
    with pytest.raises(InputError) as caught:
        import_omop(source)
    rows = len(tables["concept"])
    assert f"{path.name} is not UTF-8 (first on line {rows + 1:,}): read as Windows-1252" in result.report.notes
    assert result.tables.keys() == expected.keys()
    for name, frame in expected.items():
        assert result.tables[name].equals(frame), name
    assert [(p.table, p.row) for p in caught.value.problems] == [("concept", rows + 1)], caught.value.problems


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("end", ["imported", "refused", "interrupted"])
def test_the_utf8_copy_of_a_windows_table_is_private_and_goes_with_the_run(tmp_path, monkeypatch, end, packed):
    """DuckDB reads a Windows-1252 table from a UTF-8 copy in the run's private temporary folder (mode 0700), never
    from one beside the table; the copy is gone when the import ends, whether it imports, is refused (a short row)
    or is interrupted (Ctrl-C), and the source folder is as it was, to the byte and the modification time."""
    from oligo_cohort.cli import main
    from oligo_cohort.database import spill_folder
    from oligo_cohort.importers.omop.source import OmopSource

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    tables = omop_tables()
    content = windows_table(tables, "care_site", 0, "’") + (b"11\n" if end == "refused" else b"")
    source = write_folder(tables, tmp_path / "cdm")
    write_table(source, "care_site", content, packed=packed)
    before = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in source.iterdir()}
    seen: list[tuple[int, list[bytes]]] = []  # as DuckDB reads care_site: its folder's mode, the files in it
    read = OmopSource.rejected_rows

    def spied(self, table, *args):
        if table == "care_site":
            folder = spill_folder(self.con)
            kept = [path.read_bytes() for path in folder.iterdir() if not path.name.startswith("duckdb_temp")]
            seen.append((stat.S_IMODE(folder.stat().st_mode), kept))
            if end == "interrupted":
                raise KeyboardInterrupt
        return read(self, table, *args)

    monkeypatch.setattr(OmopSource, "rejected_rows", spied)
    code = main(["import", "omop", str(source), "--out", str(tmp_path / "out")])
    assert code == {"imported": 0, "refused": 2, "interrupted": 130}[end]
    assert seen[-1] == (0o700, [content.decode("cp1252").encode("utf-8")]), "DuckDB reads a private UTF-8 copy"
    assert list(temporary.iterdir()) == [], "the copy and its folder are gone"
    assert {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in source.iterdir()} == before


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CR LF", "CR"])
@settings(DRAWN, max_examples=costly_draws(3))
@given(table=st.sampled_from(TABLES), blank=st.lists(st.sampled_from(["", " ", "\t"]), min_size=1, max_size=3))
def test_blank_lines_before_the_header_are_skipped_as_every_user_files_are(table, blank, end) -> None:
    """DuckDB takes a table's first line for its header, a blank one too, and then read the header as a record:
    the blank lines are skipped, the header found, the rows counted from it, whatever the lines end in (a table of
    the classic Mac, lines ending in CR alone, was refused)."""
    from oligo_cohort.importers import import_omop

    with tempfile.TemporaryDirectory() as folder:
        source = write_folder(omop_tables(), Path(folder) / "cdm")
        expected = imported_tables(source)
        path = source / f"{table}.csv"
        written = path.read_bytes()
        assert b"\r" not in written
        path.write_bytes("".join(line + end for line in blank).encode() + written.replace(b"\n", end.encode()))
        got = import_omop(source).tables
        path.write_bytes(path.read_bytes() + f"x,y,z,w,v,u,t,s,r,q,p,o,n,m{end}".encode())  # a row of too many fields
        with pytest.raises(InputError) as caught:
            import_omop(source)
    assert got.keys() == expected.keys() and all(got[name].equals(frame) for name, frame in expected.items())
    rows = len(omop_tables()[table]) + 1
    assert [(p.table, p.row) for p in caught.value.problems] == [(table, rows)], caught.value.problems
