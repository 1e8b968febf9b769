"""A screen folder damaged the way users' files arrive damaged is refused by `attrition`, `accrual` and `review
export` naming file, row, column and value (exit 2, nothing written, the folder unchanged). The rows of reasons.csv
are read, and so refused, by the command that uses them (`review export`); the others answer from the files they
read.

Every result file gets every damage of `tests/safety/damaged_inputs.py` (other encodings, NUL bytes, a quote
left open, empty, header only, a column named twice in another case, a column missing, ragged rows, a very long
value, a workbook's bytes) and every kind of path that is not a file; the manifest gets JSON that cannot be
trusted (keys twice, nesting thousands deep, integers of thousands of digits, a cut-off in year 9999). A
spreadsheet's re-save (a byte-order mark, Windows line ends, column names in another case) reads the same.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from oligo_cohort.api import read_screen_dir
from oligo_cohort.cli import main
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.screen_folder import ScreenFolderError
from tests.commands.folder_reading import rows_of, write_rows
from tests.safety.damaged_inputs import NOT_FILES, TEXT_DAMAGES, answered, damaged, not_a_file

# Per file, a column whose value is checked (a very long value there is named, cut short).
CHECKED = {"patients.csv": "status", "events.csv": "line_number", "reasons.csv": "outcome", "findings.csv": "row"}


@pytest.fixture(scope="module")
def screen_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("screen-damage") / "screen"
    assert main(["screen", str(demo_extract_dir()), "--out", str(out), "--quiet"]) == 0
    return out


def copy(screen_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(screen_dir, tmp_path / "screen"))


def expected(damage: str, file: str, column: str, position: int, width: int, recorded: int) -> str:
    """What the message must say (a regular expression) of `damage` done to `column` of `file`'s first row."""
    return {
        "utf-16": f"{file}: UTF-16 text",
        "utf-16 without its mark": f"{file}: line 1 holds NUL bytes",
        "latin-1 byte": f"{file} line 2: not UTF-8 text .*; the line reads: ",
        "nul byte in a cell": rf"{file} row 1, column {column}: value '.\\\\x00.*' holds a NUL byte",
        "quote left open": f"{file} line 2: a quote opens a value and is never closed; the line reads: ",
        "empty": f"{file}: the file is empty",
        "blank lines only": f"{file}: the file is empty",
        "header only": f"{file} holds 0 rows but manifest.json records {recorded}",
        "column named twice": rf"{file}: column '{column}' is named twice in the header \(columns {position} and "
        f"{width + 1}\\)",
        "required column missing": f"{file}: column {column} is missing from the header",
        "row too short": f"{file} line 2: {width - 1} fields where the header has {width}; the line reads: ",
        "row too long": f"{file} line 2: {width + 1} fields where the header has {width}; the line reads: ",
        "very long value": rf"{file} row 1, column {column}: value 'x{{59}}…' is not",
        "workbook bytes": rf"{file}: a zip archive \(an Excel \.xlsx workbook\?\), not a text file",
    }[damage]


# Every damage to patients.csv, and to one other file in turn (the reader is one for all four).
OTHERS = ("events.csv", "reasons.csv", "findings.csv")
DAMAGED_FILES = [(d, f) for k, d in enumerate(TEXT_DAMAGES) for f in ("patients.csv", OTHERS[k % len(OTHERS)])]


def reading(file: str, folder: Path, out: Path) -> list[str]:
    """A command that reads `file`: attrition reads every file but reasons.csv, which `review export` reads."""
    if file == "reasons.csv":
        return ["review", "export", str(folder), "--out", str(out), "--extract", str(demo_extract_dir())]
    return ["attrition", str(folder), "--out", str(out), "-q"]


@pytest.mark.parametrize(("damage", "file"), DAMAGED_FILES)
def test_a_damaged_result_file_is_refused_by_a_command_reading_it_naming_file_row_column_and_value(
    tmp_path, screen_dir, file, damage
):
    folder = copy(screen_dir, tmp_path)
    content = (folder / file).read_bytes()
    header = content.decode().splitlines()[0].split(",")
    column = CHECKED[file]
    recorded = json.loads((folder / "manifest.json").read_text())["rows"][file.removesuffix(".csv")]
    (folder / file).write_bytes(damaged(content, damage, row=1, column=header.index(column)))
    said = answered(reading(file, folder, tmp_path / "out"), inputs=[folder], out=tmp_path / "out")
    assert said.code == 2
    pattern = expected(damage, file, column, header.index(column) + 1, len(header), recorded)
    assert re.search(pattern, said.err), (pattern, said.err)
    assert len(said.err) < 3000, "a value or line is shown whole"


@pytest.mark.parametrize(
    ("kind", "file"), [(k, f) for n, k in enumerate(NOT_FILES) for f in ("manifest.json", OTHERS[n % 3])]
)
def test_a_result_file_that_is_not_a_file_is_named_never_opened(tmp_path, screen_dir, file, kind):
    folder = copy(screen_dir, tmp_path)
    not_a_file(folder / file, kind)
    said = answered(["attrition", str(folder), "--out", str(tmp_path / "out"), "-q"], inputs=[folder],
                    out=tmp_path / "out")  # fmt: skip
    named = {
        "folder": "a folder",
        "fifo": "a named pipe (FIFO)",
        "broken link": "a broken link",
        "link loop": "a link loop",
    }
    assert said.code == 2 and f"{file}: {named[kind]}, not a file" in said.err, said.err


def _manifest_edit(edit):
    def apply(text: str) -> str:
        info = json.loads(text)
        return edit(info, text)

    return apply


MANIFESTS = {
    "a key given twice": (
        lambda info, text: text.replace('"engine": "duckdb"', '"engine": "duckdb", "engine": "pandas"'),
        "key 'engine' is given twice",
    ),
    "nested thousands deep": (lambda info, text: "[" * 50_000 + "]" * 50_000, "a value cannot be read"),
    "an integer of 5,000 digits": (
        lambda info, text: re.sub(r'"patients": \d+', '"patients": ' + "9" * 5000, text),
        "a value cannot be read",
    ),
    "a cut-off in year 9999": (
        lambda info, text: text.replace(f'"as_of": "{info["as_of"]}"', '"as_of": "9999-12-31"'),
        "as_of 9999-12-31 is not a cut-off from 1900-01-01 to today",
    ),
    "a cut-off before 1900": (
        lambda info, text: text.replace(f'"as_of": "{info["as_of"]}"', '"as_of": "1899-12-31"'),
        "as_of 1899-12-31 is not a cut-off from 1900-01-01",
    ),
    "UTF-16": (lambda info, text: text.encode("utf-16").decode("latin-1"), "UTF-16 text"),
    "a source that is not a path": (
        lambda info, text: json.dumps({**json.loads(text), "source": ["an", "extract"]}),
        "source ['an', 'extract'] is not the path of an extract",
    ),
    "input files that are not checksums": (
        lambda info, text: json.dumps({**json.loads(text), "input_files": ["patients.csv"]}),
        "input_files ['patients.csv'] is not an object of file checksums",
    ),
    "a very long engine": (
        lambda info, text: text.replace('"engine": "duckdb"', '"engine": ' + json.dumps(["x" * 100_000])),
        "engine is missing or not text (found ['xxxx",
    ),
}


@pytest.mark.parametrize("edit", sorted(MANIFESTS))
def test_a_manifest_that_cannot_be_trusted_is_named(tmp_path, screen_dir, edit):
    folder = copy(screen_dir, tmp_path)
    change, message = MANIFESTS[edit]
    text = (folder / "manifest.json").read_text(encoding="utf-8")
    (folder / "manifest.json").write_bytes(
        _manifest_edit(change)(text).encode("latin-1" if edit == "UTF-16" else "utf-8")
    )
    with pytest.raises(ScreenFolderError) as caught:
        read_screen_dir(folder)
    assert f"manifest.json: {message}" in str(caught.value) and len(str(caught.value)) < 2000, str(caught.value)


@pytest.mark.parametrize(
    "argv",
    [
        ["accrual", "{folder}", "--target", "5", "--start", "2025-01-01", "--out", "{out}", "-q"],
        ["review", "export", "{folder}", "--out", "{out}", "--extract", str(demo_extract_dir())],
    ],
    ids=["accrual", "review export"],
)
def test_every_command_reading_a_screen_folder_refuses_the_same_damage(tmp_path, screen_dir, argv):
    folder = copy(screen_dir, tmp_path)
    (folder / "patients.csv").write_bytes((folder / "patients.csv").read_bytes().replace(b"AVL", b"A\x00VL", 1))
    not_a_file(folder / "findings.csv", "fifo")
    out = tmp_path / "out"
    said = answered([a.format(folder=folder, out=out) for a in argv], inputs=[folder], out=out)
    assert said.code == 2
    assert "patients.csv row 1, column site_id: value 'A\\\\x00VL' holds a NUL byte" in said.err, said.err
    assert "findings.csv: a named pipe (FIFO), not a file" in said.err


def test_a_command_reads_only_the_files_it_uses(tmp_path, screen_dir):
    """Rows of reasons.csv that no screen writes (a value that is not an outcome, a patient not in patients.csv)
    leave `attrition` and `accrual` as they were, since neither reads them; the reasons, asked for, are refused,
    every time they are asked for. A reasons.csv that is missing, or whose header lacks a column, is refused by
    every command: the folder is not a screen's."""
    folder = copy(screen_dir, tmp_path)
    rows = rows_of(folder / "reasons.csv")
    rows[2][rows[0].index("outcome")] = "probably"
    rows[5][rows[0].index("patient_id")] = "nobody"
    write_rows(folder / "reasons.csv", rows)
    for command in (["attrition"], ["accrual", "--target", "5", "--start", "2025-01-01"]):
        written = {}
        for name, source in (("intact", screen_dir), ("edited", folder)):
            out = tmp_path / f"{command[0]}-{name}"
            assert answered([command[0], str(source), *command[1:], "--out", str(out), "-q"], inputs=[source],
                            out=out).code == 0  # fmt: skip
            written[name] = {p.name: p.read_bytes() for p in sorted(out.glob("*.csv"))}
        assert written["edited"] == written["intact"] and written["intact"], command
    result = read_screen_dir(folder)
    assert result.counts() == read_screen_dir(screen_dir).counts()
    for _ in range(2):
        with pytest.raises(ScreenFolderError) as caught:
            result.query("reasons")
        said = str(caught.value)
        assert "reasons.csv row 2, column outcome: value 'probably' is not one of pass, fail, unknown, review" in said
    rows[2][rows[0].index("outcome")] = "pass"
    write_rows(folder / "reasons.csv", rows)
    with pytest.raises(ScreenFolderError) as caught:
        read_screen_dir(folder).query("reasons")
    assert "reasons.csv row 5, column patient_id: value 'nobody' is not a patient of patients.csv" in str(caught.value)
    (folder / "reasons.csv").write_text("patient_id,event_id,criterion,outcome,rule\n", encoding="utf-8")
    said = answered(["attrition", str(folder), "--out", str(tmp_path / "out"), "-q"], inputs=[folder],
                    out=tmp_path / "out")  # fmt: skip
    assert said.code == 2 and "reasons.csv: column reason is missing from the header" in said.err, said.err
    (folder / "reasons.csv").unlink()
    said = answered(["attrition", str(folder), "--out", str(tmp_path / "out"), "-q"], inputs=[folder],
                    out=tmp_path / "out")  # fmt: skip
    assert said.code == 2 and "reasons.csv is missing" in said.err, said.err


def test_a_spreadsheets_resave_reads_the_same(tmp_path, screen_dir):
    """A byte-order mark, Windows line ends and column names in another case or with spaces change nothing."""
    folder = copy(screen_dir, tmp_path)
    for file in CHECKED:
        lines = (folder / file).read_bytes().split(b"\n")
        lines[0] = b",".join(b" " + name.upper() + b" " for name in lines[0].split(b","))
        (folder / file).write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(lines))
    before, after = read_screen_dir(screen_dir), read_screen_dir(folder)
    for name in ("patients", "events", "reasons", "findings"):
        assert getattr(after, name).equals(getattr(before, name)), name


def test_review_export_reads_the_manifest_as_the_screen_folders_reader_does(tmp_path, screen_dir):
    """`review export` reads the manifest's extract and checksums beyond the result: by the same reader."""
    folder = copy(screen_dir, tmp_path)
    manifest = folder / "manifest.json"
    manifest.write_bytes(b"\xef\xbb\xbf" + manifest.read_bytes())  # an editor's byte-order mark: harmless
    out = tmp_path / "out"
    argv = ["review", "export", str(folder), "--out", str(out)]
    assert answered([*argv, "--extract", str(demo_extract_dir())], inputs=[folder], out=out).code == 0
    shutil.rmtree(out)
    info = json.loads(manifest.read_text(encoding="utf-8-sig"))
    manifest.write_text(json.dumps({**info, "input_files": list(info["input_files"])}), encoding="utf-8")
    said = answered(argv, inputs=[folder], out=out)
    assert said.code == 2 and "manifest.json: input_files ['" in said.err, said.err
