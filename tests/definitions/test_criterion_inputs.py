"""data_dictionary/criterion_inputs.yaml held to the engines: each entry's data removed from the demo extract.

For every entry, the demo extract is screened without the entry's data (an optional table left out, a required
one emptied, a column blanked, on the tumour rows the entry names) and every criterion the entry names must
change, for some patient, to the outcome it states, and to no other outcome; or, where the demo cannot show
the change, already have that outcome for every patient. The import mapping report reads these entries, so
what it tells a user about an import is what the screen then does.
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pytest

from oligo_cohort.api import screen
from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.criterion_inputs import CriterionInput, criterion_inputs
from oligo_cohort.dictionary import tables
from oligo_cohort.importers.report import MappingReport, tumour_rows
from oligo_cohort.paths import demo_extract_dir

# Rows of other tables that point at a table's rows, and go with them (a lesion belongs to its study).
DEPENDENT_TABLES = {"imaging": ("lesions",)}


@cache
def demo_tables() -> dict[str, pd.DataFrame]:
    frames = {}
    for path in sorted(demo_extract_dir().glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        frames[path.stem] = frame.astype(object).where(frame.notna(), None)
    return frames


@cache
def demo_screen() -> tuple[pd.DataFrame, object]:
    """Each demo patient's outcomes, and the demo's cut-off (kept when data are removed)."""
    result = screen(demo_tables())
    return result.patients.set_index("patient_id"), result.as_of


def without(entry: CriterionInput) -> dict[str, pd.DataFrame]:
    """The demo extract without the entry's data (every alternative removed)."""
    frames = {name: frame.copy() for name, frame in demo_tables().items()}
    table = frames[entry.table]
    rows = table.index if entry.rows == "all" else tumour_rows(table)[entry.rows].index
    if entry.columns:
        for column in entry.columns:
            table.loc[rows, column] = None
    elif entry.rows != "all":
        frames[entry.table] = table.drop(index=rows)
    elif tables()[entry.table].required:
        for name in (entry.table, *DEPENDENT_TABLES.get(entry.table, ())):
            frames[name] = frames[name].iloc[0:0]
    else:
        del frames[entry.table]
    return frames


def entry_id(entry: CriterionInput) -> str:
    return " or ".join(entry.data) + ("" if entry.rows == "all" else f" ({entry.rows})")


@pytest.mark.parametrize("entry", criterion_inputs(), ids=entry_id)
def test_without_the_data_each_criterion_takes_the_stated_outcome(entry: CriterionInput) -> None:
    before, as_of = demo_screen()
    after = screen(without(entry), as_of=as_of).patients.set_index("patient_id")
    assert list(after.index) == list(before.index)
    shown = False
    # Compared on the same event, or where the event is gone: without the data another event of a patient may become
    # the best one, and its outcome says nothing of what the missing data does to the event it replaced.
    same_event = (after["event_id"].fillna("") == before["event_id"].fillna("")) | after["event_id"].isna()
    for criterion, outcome in entry.becomes.items():
        changed = (after[criterion] != before[criterion]) & same_event
        assert set(after.loc[changed, criterion]) <= {outcome}, (
            f"{criterion} changed to {sorted(set(after.loc[changed, criterion]))}, not only to {outcome}"
        )
        assert changed.any() or set(after[criterion]) == {outcome}, (
            f"{criterion} neither changed to {outcome} for a patient nor is {outcome} for all"
        )
        shown = shown or bool(changed.any())
    assert shown, "removing the data changes none of the criteria named: the demo cannot show the entry"


def test_every_criterion_says_what_data_it_cannot_do_without() -> None:
    named = {criterion for entry in criterion_inputs() for criterion in entry.becomes}
    assert named == set(CRITERION_IDS)


def test_a_mistake_in_the_file_names_the_entry(tmp_path, monkeypatch) -> None:
    import oligo_cohort.criterion_inputs as module

    (tmp_path / module.FILE).write_text(
        "inputs:\n  - data: [tumours.no_such_column]\n    becomes: {inc_metastatic: unknown}\n", encoding="utf-8"
    )
    monkeypatch.setattr(module, "dictionary_dir", lambda: tmp_path)
    module.criterion_inputs.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"tumours\.no_such_column: tumours has no column no_such_column"):
            module.criterion_inputs()
    finally:
        module.criterion_inputs.cache_clear()


def test_the_mapping_report_states_what_the_entries_say() -> None:
    """An import without therapy, with one skin primary lacking its morphology and patients lacking birth dates."""
    frames = {name: frame.copy() for name, frame in demo_tables().items() if name not in ("observations",)}
    frames["systemic_therapy"] = frames["systemic_therapy"].iloc[0:0]
    tumours = frames["tumours"]
    skin = tumour_rows(tumours)["skin"].index
    assert len(skin) > 0, "the demo holds a skin primary"
    tumours.loc[skin, "morphology"] = None
    frames["patients"].loc[frames["patients"].index[:3], "birth_date"] = None
    report = MappingReport("test", "demo")
    report.finish(frames)
    gaps = {g["criterion"]: g for g in report.criteria}
    assert (gaps["exc_more_than_two_lines"]["outcome"], gaps["exc_more_than_two_lines"]["scope"]) == (
        "pass",
        "every patient (systemic therapy: none in the source)",
    )
    # no therapy and no candidate event: the table's absence decides, whatever else is missing
    assert gaps["inc_oligoprogression"]["outcome"] == "fail"
    assert gaps["inc_oligoprogression"]["missing"] == "systemic_therapy"
    assert (gaps["exc_other_malignancy"]["outcome"], gaps["exc_other_malignancy"]["missing"]) == (
        "unknown",
        "skin_primaries.morphology",
    )
    assert gaps["inc_age_18"]["scope"] == "patients whose records lack it"
    assert gaps["exc_pregnancy"]["scope"] == "every patient (observations: none in the source)"
    assert "inc_who_ps_0_1" not in gaps  # the demo holds every performance status the criterion reads
