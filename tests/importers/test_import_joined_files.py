"""Two exports joined end to end (`cat a.csv b.csv`): the second one's header is read as a record. Every table the
importers read refuses it, naming the table (or file) and the row or line, in the tables where no value's form
would have caught it too: an OMOP table (plain or packed in gzip, whichever table), the NKR file, an item map.

The joined files are generated: the repeated header in any letter case, with spaces around its names, quoted or
not, after a byte-order mark (two Excel exports joined), once or twice, with or without the second export's rows.
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.column_names import HEADER_REPEATED
from oligo_cohort.errors import InputError, UsageError
from oligo_cohort.importers import import_nkr, import_omop
from oligo_cohort.problems import Problem
from tests.draws import costly_draws
from tests.importers.test_import_nkr import HEADER, ROWS
from tests.importers.test_import_omop import omop_tables, write_folder
from tests.loading.test_joined_files import header_again
from tests.safety.damaged_inputs import answered

TABLES = sorted(omop_tables())
SETTINGS = settings(max_examples=costly_draws(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def joined(first: str, again: list[str], rows_again: bool) -> tuple[str, list[int]]:
    """`first` (a header and its rows) followed by one export per header of `again` (with `first`'s rows, or none);
    and the row number each repeated header is read at (1 = the first row under the first header)."""
    rows = first.splitlines()[1:]
    text, at = first, []
    count = len(rows)
    for line in again:
        at.append(count + 1)
        text += line + "\n" + ("".join(row + "\n" for row in rows) if rows_again else "")
        count += 1 + (len(rows) if rows_again else 0)
    return text, at


@SETTINGS
@given(data=st.data(), table=st.sampled_from(TABLES), copies=st.integers(1, 2), rows_again=st.booleans())
def test_an_omop_table_joined_to_another_export_is_refused_naming_the_row(data, table, copies, rows_again) -> None:
    first = omop_tables()[table].to_csv(index=False)
    names = first.splitlines()[0].split(",")
    again = [data.draw(header_again(names, ",")) for _ in range(copies)]
    text, at = joined(first, again, rows_again)
    packed = data.draw(st.booleans())
    folder = Path(tempfile.mkdtemp(prefix="oligo-omop-"))
    try:
        source = write_folder(omop_tables(), folder / "cdm")
        (source / f"{table}.csv").unlink()
        if packed:  # `cat a.csv.gz b.csv.gz`: a gzip archive of two members
            parts = [first, *text[len(first) :].splitlines(keepends=True)]
            (source / f"{table}.csv.gz").write_bytes(b"".join(gzip.compress(part.encode()) for part in parts))
        else:
            (source / f"{table}.csv").write_bytes(text.encode())
        with pytest.raises(InputError) as caught:
            import_omop(source)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert caught.value.problems == [Problem("fatal", table, None, row, None, None, HEADER_REPEATED) for row in at]


def test_the_command_names_table_and_row(tmp_path: Path) -> None:
    source = write_folder(omop_tables(), tmp_path / "cdm")
    text = (source / "care_site.csv").read_text(encoding="utf-8")
    (source / "care_site.csv").write_text(text + text.replace("10,", "11,"), encoding="utf-8")
    out = tmp_path / "out"
    said = answered(["import", "omop", str(source), "--out", str(out)], inputs=[source], out=out)
    assert said.code == 2
    assert "  care_site row 2: repeats the header (files joined together?)\n" in said.err, said.err


NKR_TEXT = "\n".join([HEADER, *ROWS]) + "\n"


@SETTINGS
@given(data=st.data(), copies=st.integers(1, 2), rows_again=st.booleans())
def test_an_nkr_file_joined_to_another_export_is_refused_naming_the_line(data, copies, rows_again) -> None:
    again = [data.draw(header_again(HEADER.split(";"), ";")) for _ in range(copies)]
    text, at = joined(NKR_TEXT, again, rows_again)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "nkr.csv"
        source.write_text(text, encoding="utf-8")
        with pytest.raises(UsageError) as caught:
            import_nkr(source)
    assert str(caught.value) == f"{source}: line {at[0] + 1:,} {HEADER_REPEATED}"


def test_the_nkr_command_names_file_and_line(tmp_path: Path) -> None:
    source = tmp_path / "nkr.csv"
    source.write_text(NKR_TEXT + NKR_TEXT, encoding="utf-8")
    out = tmp_path / "out"
    said = answered(["import", "nkr", str(source), "--out", str(out)], inputs=[source], out=out)
    assert said.code == 2
    assert said.err.strip() == f"oligo-cohort: error: {source}: line 6 repeats the header (files joined together?)"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("key,item\npatient_id,key_nkr\n KEY , Item \nsex,gesl\n", f"line 3 {HEADER_REPEATED}"),
        # without the header line `key,item`, the first line is a key and a name: a line repeating it is a key again
        ("sex,gesl\npatient_id,key_nkr\nsex,gesl\n", "line 3: key 'sex' is given again (first on line 1)"),
    ],
    ids=["header repeated", "no header"],
)
def test_an_item_map_joined_to_another_is_refused_naming_the_line(tmp_path: Path, content: str, expected: str) -> None:
    items = tmp_path / "items.csv"
    items.write_text(content, encoding="utf-8")
    source = tmp_path / "nkr.csv"
    source.write_text(NKR_TEXT, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        import_nkr(source, items=items)
    assert str(caught.value) == f"--items {items}: {expected}"
