"""Text that is not UTF-8 is read as a Windows export writes it: Windows-1252, else Latin-1, by every reader.

Windows-1252 is Latin-1 but for the bytes 0x80-0x9F: control characters in Latin-1, and in Windows-1252 the curly
quotes, dashes, ellipsis and euro sign a Western European export holds. Read as Latin-1, `’` came out as the
control character U+0092. Each reader that allows text other than UTF-8 (the extract's CSV files, Parquet text,
a user's delimited files, an OMOP table, plain or packed in gzip, which DuckDB reads from a UTF-8 copy) reads it
through `user_files.read_not_utf8`; generated values check all four.
"""

from __future__ import annotations

import codecs
import gzip
import re
import string
import tempfile
from pathlib import Path
from unittest import mock

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oligo_cohort.importers import import_omop
from oligo_cohort.importers.omop import source as omop_source
from oligo_cohort.importers.omop.source import _FirstNotUtf8
from oligo_cohort.sources.csv_files import read_csv_file
from oligo_cohort.sources.text_tables import ROW, column_as_text
from oligo_cohort.user_files import line_of_byte, read_delimited
from tests.draws import costly_draws
from tests.importers.test_import_omop import omop_tables, write_folder

WINDOWS_ONLY = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"  # the characters Windows-1252 has where Latin-1 has controls
LATIN = "éëïöüÀÉßøåñ°±²µ·¼½¾"
UNDEFINED = (0x81, 0x8D, 0x8F, 0x90, 0x9D)  # bytes Windows-1252 leaves undefined


def _not_utf8(text: str) -> bool:
    try:
        text.encode("cp1252").decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


# Values as an export holds them: words of ASCII letters, each with a character of Latin-1 or of Windows-1252's own
# in it or at its end (`Zoë’s`, `€ 12`, `Saint–Éloi`). Bytes that are mostly above ASCII are binary data, not text
# (`file_kinds.content_kind`), so a value is no run of such characters alone.
_words = st.tuples(
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=8),
    st.sampled_from(WINDOWS_ONLY + LATIN),
    st.text(alphabet=string.ascii_letters + string.digits, max_size=8),
).map("".join)
values = (
    st.lists(_words, min_size=1, max_size=4)
    .map(" ".join)
    .filter(lambda text: any(c in WINDOWS_ONLY for c in text) and _not_utf8(text))
)


def _read_by_each_reader(folder: Path, raw: bytes, *, packed: bool = False) -> dict[str, tuple[str, str]]:
    """The value `raw` read by each reader, with the note it gave: the extract's CSV reader, Parquet text, a
    user's delimited file and an OMOP table (packed in gzip if `packed`)."""
    csv_file = folder / "patients.csv"
    csv_file.write_bytes(b"patient_id,site_id\nP1," + raw + b"\n")
    notes: list[str] = []
    frame = read_csv_file(csv_file, notes)
    read = {"extract CSV": (frame.filter(frame[ROW] == 1)["site_id"].item(), notes[0])}
    text, note = column_as_text(pa.array([b"P0", raw], pa.binary()))
    assert note is not None and note[0] == 2
    read["Parquet text"] = (text[1].as_py(), note[2])
    user_file = folder / "sites.csv"
    user_file.write_bytes(b"site_id,name\nS1," + raw + b"\n")
    delimited = read_delimited(user_file, latin1=True)
    read["user file"] = (delimited.records[0].fields[1], delimited.notes[0])
    read["OMOP table"] = _read_as_omop(folder, raw, packed=packed)
    return read


def _read_as_omop(folder: Path, raw: bytes, *, packed: bool) -> tuple[str, str]:
    """`raw` as the source value of an OMOP care site (the site id of its patient, once imported), and the note
    naming the care_site table."""
    tables = omop_tables()
    source = write_folder({name: tables[name] for name in ("person", "care_site")}, folder / "cdm")
    table = source / "care_site.csv"
    content = table.read_bytes().replace(b",AVL\n", b"," + raw + b"\n")
    if packed:
        table.unlink()
        table = table.with_name("care_site.csv.gz")
        content = gzip.compress(content)
    table.write_bytes(content)
    result = import_omop(source)
    note = next(note for note in result.report.notes if note.startswith("care_site.csv"))
    return result.tables["patients"].set_index("patient_id").loc["1", "site_id"], note


@settings(max_examples=costly_draws(30), deadline=None)
@given(value=values, packed=st.booleans())
def test_a_windows_export_reads_as_written_by_every_reader(tmp_path_factory, value, packed):
    read = _read_by_each_reader(tmp_path_factory.mktemp("w"), value.encode("cp1252"), packed=packed)
    for reader, (text, note) in read.items():
        assert text == value, reader
        assert "read as Windows-1252" in note, (reader, note)


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("byte", UNDEFINED)
def test_a_byte_windows_1252_leaves_undefined_reads_the_value_as_latin1(tmp_path, byte, packed):
    raw = "Zo’".encode("cp1252") + bytes([byte])  # 0x92 opens no UTF-8 character: the bytes are not UTF-8
    for reader, (text, note) in _read_by_each_reader(tmp_path, raw, packed=packed).items():
        assert text == raw.decode("latin-1"), reader  # every byte kept, as Latin-1 has a character for each
        assert "read as Latin-1" in note, (reader, note)


# A text file's lines as a Windows export or an older Mac tool ends them, with or without the UTF-8 byte-order mark
# (an export saved as UTF-8, then rows in Windows-1252 appended to it).
LINE_ENDS = {"LF": b"\n", "CR LF": b"\r\n", "CR": b"\r"}


@settings(max_examples=40, deadline=None)
@given(
    value=values,
    before=st.integers(0, 6),
    after=st.integers(0, 3),
    end=st.sampled_from(sorted(LINE_ENDS)),
    mark=st.booleans(),
)
def test_the_note_names_the_line_as_written_whatever_its_line_ends_and_mark(
    tmp_path_factory, value, before, after, end, mark
):
    """The first line that is not UTF-8 is named as a text editor numbers it, by the extract's CSV reader and a
    user's delimited file alike, and a byte-order mark before Windows-1252 text is dropped, never read as `ï»¿` in
    the first column's name."""
    folder = tmp_path_factory.mktemp("lines")
    rows = [f"P{k},AVL".encode() for k in range(before)] + [b"PX," + value.encode("cp1252")]
    rows += [f"Q{k},NKI".encode() for k in range(after)]
    raw = (codecs.BOM_UTF8 if mark else b"") + LINE_ENDS[end].join([b"patient_id,site_id", *rows]) + LINE_ENDS[end]
    note = f"not UTF-8 (first on line {before + 2}): read as Windows-1252"
    (folder / "patients.csv").write_bytes(raw)
    notes: list[str] = []
    frame = read_csv_file(folder / "patients.csv", notes)
    assert [name for name in frame.columns if name != ROW] == ["patient_id", "site_id"]
    assert frame.filter(frame["patient_id"] == "PX")["site_id"].item() == value
    assert any(n.startswith(note) for n in notes), notes
    delimited = read_delimited(folder / "patients.csv", latin1=True)
    assert delimited.header == ["patient_id", "site_id"]
    assert [r.fields for r in delimited.records if r.fields[0] == "PX"] == [["PX", value]]
    assert delimited.notes == [note]


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.text(alphabet=string.ascii_letters + ",é€", max_size=6), min_size=1, max_size=12),
    ends=st.lists(st.sampled_from(sorted(LINE_ENDS)), min_size=12, max_size=12),
    bad=st.data(),
    block=st.integers(1, 9),
)
def test_an_omop_table_read_in_blocks_names_the_line_wherever_a_block_ends(lines, ends, bad, block):
    """An OMOP table is copied block by block (`_blocks`, here of 1 to 9 bytes), and the line of its first byte that
    is not UTF-8 counted so: a CR LF or a UTF-8 character that a block's end would split counts as it does in the
    whole file."""
    at = bad.draw(st.integers(0, len(lines) - 1))
    character = bad.draw(st.sampled_from(["’", "é", "€"]))
    parts = [line.encode() + (character.encode("cp1252") if k == at else b"") for k, line in enumerate(lines)]
    raw = b"".join(part + LINE_ENDS[end] for part, end in zip(parts, ends, strict=False))
    first = _FirstNotUtf8()
    with tempfile.TemporaryDirectory() as folder, mock.patch.object(omop_source, "_BLOCK_BYTES", block):
        (Path(folder) / "table.csv").write_bytes(raw)
        for part in omop_source._blocks(Path(folder) / "table.csv"):
            first.read(part)
    first.read(b"", final=True)
    # A line ends in CR LF, LF or CR alone: an empty line ending in CR, then one in LF, are one CR LF.
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
    assert first.line == line_of_byte(raw, len(before)) == len(re.findall(rb"\r\n|\r|\n", before)) + 1
