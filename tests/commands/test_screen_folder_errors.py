"""A broken or edited screen folder, or a bad --sites file, is a message naming file, row, column and value.

A real screen folder of the demo is damaged in generated ways (cells, bytes,
columns, files, the manifest) and read back: the reader either gives a
result or a ScreenFolderError, never another exception; a value the result
cannot hold is named with its file, row, column and value (an independent
oracle says which values are bad). `attrition` and `accrual` on damaged
folders exit 2 without a traceback and write nothing. Sites files are
generated the same way.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.accrual.sites_file import MAX_PLANNED_RATE, read_sites_file
from oligo_cohort.api import read_screen_dir
from oligo_cohort.cli import main
from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.errors import UsageError
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.protocol import load_protocol
from oligo_cohort.results import RESULT_TABLES
from oligo_cohort.screen_folder import ScreenFolderError
from tests.commands.folder_facts import contradictions
from tests.commands.folder_reading import read_whole, rows_of, write_rows
from tests.draws import costly_draws

SETTINGS = settings(
    max_examples=costly_draws(25), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FILES = tuple(f"{name}.csv" for name in RESULT_TABLES)


@pytest.fixture(scope="module")
def screen_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("screen-errors") / "screen"
    assert main(["screen", str(demo_extract_dir()), "--out", str(out), "--quiet"]) == 0
    return out


def copy(screen_dir: Path, folder: Path) -> Path:
    shutil.copytree(screen_dir, folder)
    return folder


# --- the oracle: which values a result can hold ------------------------------------------------------------------


def cut_off(folder: Path) -> dt.date:
    return dt.date.fromisoformat(json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["as_of"])


def valid(file: str, column: str, value: str, as_of: dt.date) -> bool:
    """Whether `value` (as written in the CSV) is a value `column` of a screen result's `file` can hold."""
    if "\x00" in value:
        return False  # a NUL byte in any cell: the file is damaged (the rule of every file a user gives)
    if file == "events.csv" and column in ("event_id", "screening_date", "registration_date") and value in ("", "'"):
        return False  # an event is an imaging study on a screening date, with a registration date
    if column == "status":
        return value in ("eligible", "ineligible", "unknown")
    if column in CRITERION_IDS or column == "outcome":
        return value in ("pass", "fail", "unknown", "review")
    if column == "criterion":
        return value in CRITERION_IDS
    if column in ("screening_date", "registration_date"):
        if value == "":
            return True
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return False
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return False
        latest = as_of if column == "screening_date" else as_of + dt.timedelta(days=366)
        return dt.date(1900, 1, 1) <= day <= latest
    if column == "line_number":
        return value == "" or re.fullmatch(r"-?\d{1,9}", value) is not None
    if column == "row":
        return value == "" or re.fullmatch(r"-?\d{1,18}", value) is not None
    if column == "is_best_event":
        return value.lower() in ("true", "false")
    if column == "patient_id":
        return value not in ("", "'")
    return True


# fmt: off
values = st.one_of(
    st.sampled_from(
        [
            "pass",
            "PASS",
            "eligible",
            "maybe",
            "",
            "2024-02-30",
            "2024-13-01",
            "31/12/2024",
            "9999-12-31",
            "1899-12-31",
            "2024-12-31",
            "2025-01-01",
            "1",
            "-1",
            "1.5",
            "12345678901",
            "true",
            "False",
            "yes",
            "inc_age_18",
            "'",
            "=1+1",
            "0x10",
        ]
    ),
    st.text(max_size=6),
)
# fmt: on


@SETTINGS
@given(data=st.data())
def test_an_edited_cell_is_named_or_read(scratch, screen_dir, data):
    """A cell edited to any value: a value the result cannot hold is named where it is; a value it can hold that
    makes the folder contradict itself (tests/commands/folder_facts.py) is named where it does; anything else is
    read."""
    folder = copy(screen_dir, Path(tempfile.mkdtemp(dir=scratch)) / "screen")
    file = data.draw(st.sampled_from(FILES))
    rows = rows_of(folder / file)
    if len(rows) < 2:
        return
    row = data.draw(st.integers(1, len(rows) - 1))
    column = data.draw(st.integers(0, len(rows[0]) - 1))
    value = data.draw(values)
    name = rows[0][column]
    rows[row][column] = value
    write_rows(folder / file, rows)
    duplicate = (
        name == "patient_id" and file == "patients.csv" and value in {r[column] for r in rows[1:row] + rows[row + 1 :]}
    )
    expected_bad = not valid(file, name, value, cut_off(screen_dir)) or duplicate
    found = [] if expected_bad else contradictions(folder)
    try:
        read_whole(folder)
    except ScreenFolderError as error:
        assert expected_bad or found, (file, name, value, str(error))
        if expected_bad:
            assert f"{file} row {row}, column {name}" in str(error)
            if "\x00" in value:
                assert "holds a NUL byte: the file is damaged" in str(error)  # the value shown escaped for a terminal
            else:
                assert repr(value) in str(error)
        else:
            assert any(where in str(error) for where in found), (found, str(error))
    else:
        assert not expected_bad and not found, (file, name, value, found)


DAMAGE = ("truncate", "bad byte", "drop column", "twice", "extra column", "reorder", "delete", "empty", "drop row")


@SETTINGS
@given(data=st.data(), damage=st.sampled_from(DAMAGE))
def test_a_damaged_file_is_a_message_never_a_traceback(scratch, screen_dir, data, damage):
    folder = copy(screen_dir, Path(tempfile.mkdtemp(dir=scratch)) / "screen")
    file = data.draw(st.sampled_from(FILES))
    path = folder / file
    raw = path.read_bytes()
    rows = rows_of(path)
    if damage == "truncate":
        path.write_bytes(raw[: data.draw(st.integers(0, len(raw) - 1))])
    elif damage == "bad byte":
        at = data.draw(st.integers(0, len(raw)))
        path.write_bytes(raw[:at] + b"\xff" + raw[at:])
    elif damage in ("drop column", "twice", "extra column", "reorder"):
        column = data.draw(st.integers(0, len(rows[0]) - 1))
        for row in rows:
            if damage == "drop column":
                del row[column]
            elif damage == "twice":
                row.append(row[column])
            elif damage == "extra column":
                row.append("note")
            else:
                row.insert(0, row.pop(column))
        write_rows(path, rows)
    elif damage == "delete":
        path.unlink()
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "drop row" and len(rows) > 1:
        del rows[data.draw(st.integers(1, len(rows) - 1))]
        write_rows(path, rows)
    harmless = damage in ("extra column", "reorder") or (damage == "drop row" and len(rows) == 1)
    try:
        read_whole(folder)
    except ScreenFolderError as error:
        assert not harmless, str(error)
        assert file in str(error)
    else:
        # Cutting a file at a line end, or a stray byte in free text, can leave a readable file; the row counts
        # recorded in the manifest still catch a lost row.
        assert harmless or damage in ("truncate", "bad byte"), damage
        assert damage != "truncate" or raw[: len(path.read_bytes())] == path.read_bytes()


MANIFEST_EDITS = {
    "not json": lambda text: text[: len(text) // 2],
    "a list": lambda text: "[1, 2]",
    "no as_of": lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "as_of"}),
    "as_of day first": lambda text: re.sub(r'"as_of": "(\d+)-(\d+)-(\d+)"', r'"as_of": "\3/\2/\1"', text),
    "worklist text": lambda text: text.replace('"worklist": false', '"worklist": "no"'),
    "parameter text": lambda text: re.sub(r'"size_floor_mm": [\d.]+', '"size_floor_mm": "fifteen"', text),
    "parameter huge": lambda text: re.sub(r'"size_floor_mm": [\d.]+', '"size_floor_mm": 1e400', text),
    "parameter missing": lambda text: re.sub(r'"size_floor_mm": [\d.]+,', "", text),
    "rows differ": lambda text: re.sub(r'"patients": (\d+)', lambda m: f'"patients": {int(m[1]) + 1}', text),
    "protocol": lambda text: text.replace('"name": "cosmo"', '"name": 7'),
    "protocol title": lambda text: re.sub(r'"title": "[^"]*"', '"title": ["COSMO"]', text),
    "not utf-8": lambda text: text.replace("cosmo", "cosmo\udcff"),
}


@pytest.mark.parametrize("edit", sorted(MANIFEST_EDITS))
def test_an_edited_manifest_is_named(tmp_path, screen_dir, edit):
    folder = copy(screen_dir, tmp_path / "screen")
    text = (folder / "manifest.json").read_text(encoding="utf-8")
    edited = MANIFEST_EDITS[edit](text)
    assert edited != text, "the edit applies to the demo's manifest"
    (folder / "manifest.json").write_bytes(edited.encode("utf-8", "surrogateescape"))
    with pytest.raises(ScreenFolderError, match=r"manifest\.json|patients\.csv holds \d+ rows"):
        read_screen_dir(folder)


def test_a_screen_folder_read_back_keeps_the_protocol_title_and_an_older_one_its_name(tmp_path, screen_dir):
    """The title the report's provenance and settings.json show; a folder written before the manifest recorded it
    gives the protocol's name, as it always did."""
    assert read_screen_dir(screen_dir).protocol.title == load_protocol().title != load_protocol().name
    folder = copy(screen_dir, tmp_path / "screen")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    del manifest["protocol"]["title"]
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert read_screen_dir(folder).protocol.title == load_protocol().name


@pytest.mark.parametrize("command", ["attrition", "accrual"])
def test_commands_on_a_broken_folder_exit_2_and_write_nothing(tmp_path, screen_dir, capsys, command):
    folder = copy(screen_dir, tmp_path / "screen")
    rows = rows_of(folder / "patients.csv")
    rows[3][rows[0].index("status")] = "probably"
    write_rows(folder / "patients.csv", rows)
    (folder / "events.csv").write_bytes((folder / "events.csv").read_bytes()[:-40])  # cut mid-row
    out = tmp_path / "out"
    argv = {
        "attrition": ["attrition", str(folder), "--out", str(out)],
        "accrual": ["accrual", str(folder), "--target", "5", "--start", "2025-01-01", "--out", str(out)],
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "patients.csv row 3, column status: value 'probably' is not one of eligible, ineligible, unknown" in err
    assert re.search(r"events\.csv line \d+: \d+ fields? where the header has 27; the line reads: ", err)
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["screen"]


SCREEN_DIR_COMMANDS = {
    "attrition": ["attrition", "{folder}", "--out", "{out}"],
    "accrual": ["accrual", "{folder}", "--target", "5", "--start", "2025-01-01", "--out", "{out}"],
    "review export": ["review", "export", "{folder}", "--out", "{out}"],
}


@pytest.mark.parametrize("command", sorted(SCREEN_DIR_COMMANDS))
@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("no-such-screen", "does not exist: give the folder `oligo-cohort screen --out` wrote"),
        ("a-file.csv", "is a text file, not a folder written by `oligo-cohort screen`"),
    ],
)
def test_a_screen_folder_path_that_is_mistyped_or_a_file_is_named_as_such(tmp_path, capsys, command, given, said):
    """A mistyped SCREEN_DIR is said not to exist, and a file given in its place is named as a file: "is not a
    folder written by `oligo-cohort screen`" sent the user looking for what was wrong with a folder that is not there."""
    (tmp_path / "a-file.csv").write_text("patient_id\n00107\n", encoding="utf-8")
    folder, out = tmp_path / given, tmp_path / "out"
    argv = [word.format(folder=folder, out=out) for word in SCREEN_DIR_COMMANDS[command]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"oligo-cohort: error: {folder} {said}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file.csv"]


def test_an_output_of_the_tool_given_as_a_screen_folder_is_named_for_what_it_is(tmp_path, screen_dir, capsys):
    """The usual mistakes, a report folder (whose screen/ is the result), an extract and another command's output
    given as SCREEN_DIR, are named: "is not a screen output folder (no manifest.json)" alone left the user guessing."""
    report = tmp_path / "report"
    extract = tmp_path / "extract"
    attrition = tmp_path / "attrition"
    assert main(["attrition", str(screen_dir), "--out", str(attrition), "--no-figures", "-q"]) == 0
    assert main(["synth", "--patients", "5", "--sites", "1", "--out", str(extract), "-q"]) == 0
    assert main(["report", str(demo_extract_dir()), "--out", str(report), "--formats", "svg", "-q"]) == 0
    capsys.readouterr()
    expected = {
        report: f": it is a report; its patient-level screen result is {report / 'screen'}",
        extract: ": it is an extract (written by `oligo-cohort synth`); screen it first",
        attrition: ": it is an `attrition` output of oligo-cohort",
    }
    for folder, said in expected.items():
        assert main(["attrition", str(folder), "--out", str(tmp_path / "out")]) == 2
        message = f"oligo-cohort: error: {folder} is not a screen output folder (no manifest.json){said}"
        assert capsys.readouterr().err.strip() == message
    assert not (tmp_path / "out").exists()


def test_a_screen_after_its_cut_off_is_refused_not_stretched_to_year_9999(tmp_path, screen_dir, capsys):
    folder = copy(screen_dir, tmp_path / "screen")
    rows = rows_of(folder / "events.csv")
    rows[1][rows[0].index("screening_date")] = "9999-12-31"
    write_rows(folder / "events.csv", rows)
    assert main(["accrual", str(folder), "--target", "5", "--start", "2025-01-01", "--out", str(tmp_path / "o")]) == 2
    assert f"value '9999-12-31' is not a date from 1900-01-01 to {cut_off(folder)}" in capsys.readouterr().err


# --- --sites files ------------------------------------------------------------------------------------------------

START = dt.date(2025, 1, 1)
RATES = ["0.5", "2", "0", "", "-2", "x", "inf", "nan", "1e400", "1e300", "100", "100.5", "1,5", "+3", "0x1"]


def rate_ok(text: str) -> bool:
    if text == "":
        return True
    try:
        number = float(text)
    except ValueError:
        return False
    return 0 <= number <= MAX_PLANNED_RATE


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sites=st.lists(
        st.tuples(
            st.sampled_from(["AVL", "UMCU", "MST", '=HYPERLINK("x")', "", " AVL "]),
            st.sampled_from(["2025-03-01", "2024-12-01", "2025-02-30", "01/03/2025", ""]),
            st.sampled_from(RATES),
        ),
        max_size=5,
    ),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
)
def test_a_sites_file_is_read_or_every_problem_named(scratch, sites, newline, bom):
    path = Path(tempfile.mkdtemp(dir=scratch)) / "sites.csv"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows([["site_id", "activation_date", "planned_rate"], *sites])
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8", newline="")
    # A line of empty fields (`,,`, as spreadsheets export empty rows) is not a site; line numbers go on.
    kept = [(line, site) for line, site in enumerate(sites, start=2) if any(site)]
    names = [name.strip() for _, (name, _, _) in kept]
    expected = []
    for line, (name, date, rate) in kept:
        if not name.strip():
            expected.append(f"line {line}: site_id is empty")
        if date not in ("2025-03-01", "2024-12-01"):
            expected.append(f"line {line}: activation_date")
        if not rate_ok(rate):
            expected.append(f"line {line}: planned_rate {rate!r}")
    expected += [
        f"site_id {n!r} appears more than once" for n in sorted({n for n in names if n and names.count(n) > 1})
    ]
    if not kept:
        expected.append("no sites listed")
    try:
        table = read_sites_file(path, START)
    except UsageError as error:
        assert expected, str(error)
        for part in expected:
            assert part in str(error), (part, str(error))
    else:
        assert not expected, expected
        assert list(table["site_id"]) == names
        assert (table["opens"] >= 0).all()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"site_id,activation_date\nAVL,2025-01-01\n\xe9cole,2025-01-01\n", "line 3 is not UTF-8"),
        (b"site,opening\nAVL,2025-01-01\n", "missing columns site_id, activation_date"),
        (b"site_id,activation_date,Site_ID \nAVL,2025-01-01,x\n", "'site_id' (columns 1 and 3) named more than once"),
        (b"site_id,activation_date\nAVL,2025-01-01,extra\n", "line 2 does not have 2 fields"),
        (b"", "the file is empty"),
        (b"site_id,activation_date\n", "no sites listed"),
        (b'site_id,activation_date\n"AVL,2025-01-01\n', "a quote opened on line 2 is not closed"),
    ],
)
def test_a_bad_sites_file_stops_accrual_with_its_reason(tmp_path, screen_dir, capsys, content, message):
    sites = tmp_path / "sites.csv"
    sites.write_bytes(content)
    argv = ["accrual", str(screen_dir), "--target", "5", "--start", "2025-01-01", "--out", str(tmp_path / "o")]
    assert main([*argv, "--sites", str(sites)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sites.csv"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """One folder for the generated examples (a numbered temporary folder per example gets slow)."""
    return tmp_path_factory.mktemp("examples")


def test_a_screen_folder_reads_back_in_the_order_its_files_hold(tmp_path):
    """Every table of a folder read back is in file order, which is output order. The reasons are stored in output
    order, not sorted again when read; DuckDB reads a CSV file of several megabytes in parallel pieces, and the
    pieces of a 3,000-patient reasons.csv (8 MB) came back shuffled, run after run."""
    from oligo_cohort.synth.generate import generate_extract

    extract = generate_extract(tmp_path / "extract", patients=3000, sites=5, seed=7, fmt="csv")
    assert main(["screen", str(extract), "--out", str(tmp_path / "screen"), "--quiet"]) == 0
    assert (tmp_path / "screen" / "reasons.csv").stat().st_size > 4_000_000  # large enough to be read in pieces
    result = read_screen_dir(tmp_path / "screen")
    for name in RESULT_TABLES:
        written = rows_of(tmp_path / "screen" / f"{name}.csv")
        key = written[0].index("patient_id") if "patient_id" in written[0] else 0
        read = [row[0] for row in result.query(name).select(written[0][key]).fetchall()]
        assert read == [row[key] for row in written[1:]], name
    assert list(result.reasons["patient_id"]) == [row[0] for row in rows_of(tmp_path / "screen" / "reasons.csv")[1:]]
