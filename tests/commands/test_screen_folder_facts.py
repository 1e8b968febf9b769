"""A screen folder that contradicts itself is refused, naming file, row, column and value; one that does not is read.

Much of a screen folder follows from the rest of it: a status from its criteria, which event is a patient's best,
the patient's row from that event's, a registration date from the screening date, a reason's outcome from its rule
and its criterion, the manifest's status counts from patients.csv. A cell edited to a value the result can hold
(a status, an outcome, a date, another id) breaks one of these facts, or changes a fact that nothing else in the
folder states (a line number, a non-best event's outcome that changes neither its status nor the best event); the
oracle (tests/commands/folder_facts.py) says which, and the reader must agree. Folders from every engine, explain
mode and protocol setting are read without a complaint.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from oligo_cohort.api import read_screen_dir
from oligo_cohort.cli import main
from oligo_cohort.criteria import CRITERIA, CRITERION_IDS, OUTCOMES, STATUSES
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.screen_folder import ScreenFolderError
from tests.commands.folder_facts import contradictions
from tests.commands.folder_reading import read_whole, rows_of, write_rows
from tests.draws import costly_draws
from tests.safety.damaged_inputs import answered

RULES = sorted({rule.name for criterion in CRITERIA for rule in criterion.rules})
# A problem as the reader lists it: file, row, column, value and why; or the manifest's counts against a file's.
PROBLEM = re.compile(
    r"  ((patients|events|reasons)\.csv row \d+, column \w+: value '.*' .+"
    r"|patients\.csv holds .* but manifest\.json records .*)"
)


@pytest.fixture(scope="module")
def screens(tmp_path_factory) -> dict[str, Path]:
    """The demo screened as usual, and with every candidate event explained."""
    made = {}
    for explain in ("best-event", "all-events"):
        out = tmp_path_factory.mktemp("screen-facts") / explain
        assert main(["screen", str(demo_extract_dir()), "--out", str(out), "--explain", explain, "--quiet"]) == 0
        made[explain] = out
    return made


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fact-examples")


def a_value_it_can_hold(data, file: str, column: str, rows: list[list[str]], row: int, as_of: dt.date) -> str:
    """Another value `column` of `file` can hold (as the reader checks values), from its own list, the folder's
    other ids, or a date near the one written."""
    written = rows[row][rows[0].index(column)]
    others = sorted({r[rows[0].index(column)] for r in rows[1:]})
    if column == "status":
        return data.draw(st.sampled_from(STATUSES))
    if column in CRITERION_IDS or column == "outcome":
        return data.draw(st.sampled_from(OUTCOMES))
    if column == "criterion":
        return data.draw(st.sampled_from(CRITERION_IDS))
    if column == "rule":
        return data.draw(st.sampled_from(RULES))
    if column == "is_best_event":
        return data.draw(st.sampled_from(["true", "false", "TRUE"]))
    if column in ("screening_date", "registration_date"):
        latest = as_of if column == "screening_date" else as_of + dt.timedelta(days=366)
        near = [] if not written else [dt.date.fromisoformat(written) + dt.timedelta(days=d) for d in (-3, -1, 1, 7)]
        choices = [d.isoformat() for d in near if d <= latest] + [o for o in others if o]
        if file == "patients.csv":
            choices.append("")  # a patient without an event has no screening date
        return data.draw(st.sampled_from(choices))
    if column == "line_number":
        return data.draw(st.sampled_from(["1", "2", "3", ""]))
    if column in ("patient_id", "site_id", "event_id", "reference_study_id"):
        required = column == "patient_id" or (file == "events.csv" and column == "event_id")
        return data.draw(st.sampled_from([o for o in others if o] + ["NEW-1"] + ([] if required else [""])))
    # Free text (a reason): anything but a NUL byte, which no file may hold.
    return data.draw(st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=8))


@settings(max_examples=costly_draws(30), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_cell_edited_to_a_value_it_can_hold_is_refused_exactly_when_the_folder_contradicts_itself(
    scratch, screens, data
):
    source = screens[data.draw(st.sampled_from(sorted(screens)))]
    folder = Path(shutil.copytree(source, Path(tempfile.mkdtemp(dir=scratch)) / "screen"))
    file = data.draw(st.sampled_from(["patients.csv", "events.csv", "reasons.csv"]), label="file")
    rows = rows_of(folder / file)
    row = data.draw(st.integers(1, len(rows) - 1), label="row")
    column = data.draw(st.sampled_from(rows[0]), label="column")
    as_of = dt.date.fromisoformat(json.loads((folder / "manifest.json").read_text())["as_of"])
    value = a_value_it_can_hold(data, file, column, rows, row, as_of)
    assume(value != rows[row][rows[0].index(column)])
    rows[row][rows[0].index(column)] = value
    write_rows(folder / file, rows)
    found = contradictions(folder)
    try:
        read_whole(folder)
    except ScreenFolderError as error:
        said = str(error)
        assert found, f"refused, but the folder agrees with itself:\n{said}"
        assert any(where in said for where in found), (found, said)
        assert file in said, said
        problems = said.splitlines()[1:-1]
        assert problems and all(PROBLEM.fullmatch(p) for p in problems), said
    else:
        assert not found, f"read, but {file} row {row}, column {column} = {value!r} contradicts {found}"


@pytest.mark.parametrize(
    "argv",
    [
        ["attrition", "{folder}", "--out", "{out}", "-q"],
        ["accrual", "{folder}", "--target", "60", "--start", "2025-06-01", "--out", "{out}", "-q"],
        ["review", "export", "{folder}", "--out", "{out}", "--extract", str(demo_extract_dir())],
    ],
    ids=["attrition", "accrual", "review export"],
)
def test_a_status_its_criteria_contradict_is_refused_by_every_command(tmp_path, screens, argv):
    """A patient marked eligible whose criteria still fail changed the accrual forecast and every count: now each
    command refuses it, names the cell and writes nothing."""
    folder = Path(shutil.copytree(screens["best-event"], tmp_path / "screen"))
    rows = rows_of(folder / "patients.csv")
    assert rows[2][:3] == ["00115", "AVL", "ineligible"]
    rows[2][2] = "eligible"
    write_rows(folder / "patients.csv", rows)
    out = tmp_path / "out"
    said = answered([a.format(folder=folder, out=out) for a in argv], inputs=[folder], out=out)
    assert said.code == 2, said.err
    assert (
        "patients.csv row 2, column status: value 'eligible' is not the status its criteria give: ineligible "
        "(inc_oligoprogression fails)"
    ) in said.err
    assert (
        "patients.csv holds 6 eligible, 17 ineligible, 11 unknown patients but manifest.json records 5 eligible, "
        "18 ineligible, 11 unknown"
    ) in said.err
    assert not out.exists()


EDITS = {
    # file, row, column, value -> what the message says of that cell
    "a criterion of a patient's row": (
        "patients.csv",
        1,
        "inc_age_18",
        "review",
        "patients.csv row 1, column inc_age_18: value 'review' is not that of the patient's best event (events.csv "
        "row 1 holds 'pass')",
    ),
    "a patient's event emptied": (
        "patients.csv",
        1,
        "event_id",
        "",
        "patients.csv row 1, column event_id: value '' is not the patient's best event in events.csv (that is row 1, "
        "'00107-04')",
    ),
    "an event's criterion": (
        "events.csv",
        1,
        "inc_age_18",
        "unknown",
        "events.csv row 1, column status: value 'eligible' is not the status its criteria give: unknown (inc_age_18 "
        "is unknown)",
    ),
    "a second best event": (
        "events.csv",
        2,
        "is_best_event",
        "true",
        "events.csv row 2, column is_best_event: value 'true' is wrong: the patient's best event is events.csv row 1 "
        "('00107-04'; fewest failing criteria, then fewest unknown, then the earliest screening_date, then the "
        "smallest event_id)",
    ),
    "a screening date moved": (
        "events.csv",
        2,
        "screening_date",
        "2024-05-08",
        "events.csv row 2, column registration_date: value '2024-06-25' is not its screening_date plus 49 days "
        "(2024-05-08 + 49 days is 2024-06-26)",
    ),
    "an event listed twice": (
        "events.csv",
        2,
        "event_id",
        "00107-04",
        "events.csv row 1, column event_id: value '00107-04' appears 2 times (rows 1, 2): an event is one imaging "
        "study",
    ),
    "an event without a date": ("events.csv", 2, "screening_date", "", "events.csv row 2, column screening_date"),
    "a reason's outcome": (
        "reasons.csv",
        1,
        "outcome",
        "fail",
        "reasons.csv row 1, column outcome: value 'fail' is not the outcome of inc_invasive_breast_cancer's rule "
        "'histological' (pass)",
    ),
    "a reason moved to another event": (
        "reasons.csv",
        2,
        "event_id",
        "00107-05",
        "reasons.csv row 2, column event_id: value '00107-05' has no reason for inc_invasive_breast_cancer, "
        "inc_oligoprogression, inc_therapy_class and 14 more (patient '00107'): an event explained has one per "
        "criterion",
    ),
    "a reason moved to another patient": (
        "reasons.csv",
        2,
        "patient_id",
        "00115",
        "reasons.csv row 2, column event_id: value '00107-04' is not a candidate event of patient '00115' in "
        "events.csv",
    ),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_each_fact_a_folder_holds_is_named_where_an_edit_breaks_it(tmp_path, screens, edit):
    file, row, column, value, message = EDITS[edit]
    folder = Path(shutil.copytree(screens["best-event"], tmp_path / "screen"))
    rows = rows_of(folder / file)
    rows[row][rows[0].index(column)] = value
    write_rows(folder / file, rows)
    with pytest.raises(ScreenFolderError) as caught:
        read_whole(folder)
    assert message in str(caught.value), str(caught.value)


def test_the_manifests_status_counts_are_those_of_patients_csv(tmp_path, screens):
    folder = Path(shutil.copytree(screens["best-event"], tmp_path / "screen"))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["status"]["eligible"] += 1
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ScreenFolderError, match=r"patients\.csv holds 5 eligible, .* but manifest\.json records 6 eli"):
        read_screen_dir(folder)
    manifest["status"] = {"eligible": "five"}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ScreenFolderError, match=r"manifest\.json: status \{'eligible': 'five'\} is not an object"):
        read_screen_dir(folder)


@pytest.mark.parametrize(
    "options",
    [
        ["--engine", "duckdb"],
        ["--engine", "pandas"],
        ["--explain", "all-events"],
        ["--worklist", "--set", "registration_days=40"],
    ],
    ids=["duckdb", "pandas", "all events explained", "worklist and another registration window"],
)
def test_a_folder_as_a_screen_writes_it_is_read_without_a_complaint(tmp_path, options):
    """No engine, explain mode or protocol setting writes a folder the reader takes for an edited one, on a
    generated extract large enough for ties between events (same date, same counts)."""
    from oligo_cohort.synth.generate import generate_extract

    extract = generate_extract(tmp_path / "extract", patients=1500, sites=4, seed=11, fmt="csv")
    out = tmp_path / "screen"
    assert main(["screen", str(extract), "--out", str(out), "--quiet", *options]) == 0
    read_whole(out)
    assert contradictions(out) == []
