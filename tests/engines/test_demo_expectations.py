"""The demo extract: built to the data model, and screened by every engine to the outcomes derived by hand.

The expected outcomes (oligo_cohort/demo/expected_outcomes.csv) are an
independent reading of the spec; when an engine disagrees, the failure lists
every differing patient and criterion so the derivation and the engine can be
checked against the spec one by one (the deciding facts are in the demo README).
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from oligo_cohort.criteria import BY_ID, CRITERIA, CRITERION_IDS, STATUSES
from oligo_cohort.demo import DEMO_DIR, expected_outcomes
from oligo_cohort.dictionary import tables
from oligo_cohort.engines import CORE_ENGINES, OPTIONAL_ENGINES
from oligo_cohort.load import load_extract
from oligo_cohort.paths import demo_extract_dir

# Every engine; optional ones (Spark) only when selected by their marker (`pytest -m spark`).
ENGINE_PARAMS = [
    *CORE_ENGINES,
    *(pytest.param(name, marks=getattr(pytest.mark, extra)) for name, extra in OPTIONAL_ENGINES.items()),
]

# The latest date in the extract (birth dates aside): the default cut-off.
DEMO_AS_OF = dt.date(2025, 3, 31)

# exc_pregnancy is `review` only when the observations table is absent; the demo has one. A medical_risk or
# compliance_risk observation without a value (`unknown`) cannot pass the loader: the data model requires `value`.
UNSHOWABLE_OUTCOMES = frozenset(
    {("exc_pregnancy", "review"), ("exc_medical_risk", "unknown"), ("exc_psychosocial", "unknown")}
)

# Patients whose screening scan is recent enough that the registration window is open at the cut-off.
OPEN_WINDOW_PATIENTS = {"00152", "01104", "20094"}

COMPARED_COLUMNS = ("status", "event_id", *CRITERION_IDS)

# Column order of every table, as data-model.md lists it (the dictionary is held to it by
# tests/definitions/test_dictionary.py).
DATA_MODEL_COLUMNS = {name: table.column_names for name, table in tables().items()}
DATE_COLUMNS = {c.name for table in tables().values() for c in table.columns if c.type == "date"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _read_table(name: str) -> pd.DataFrame:
    return pd.read_csv(demo_extract_dir() / f"{name}.csv", dtype=str, keep_default_na=False)


def _patient_of(record_id: str | None) -> str | None:
    match = re.search(r"patient_id=(\w+)", record_id or "")
    return match[1] if match else record_id


def outcome_differences(actual: pd.DataFrame, expected: pd.DataFrame) -> list[str]:
    """Every patient missing or extra, and every (patient, column) whose value differs, one line each."""
    keys = actual[["patient_id"]].merge(expected[["patient_id"]], how="outer", indicator=True)
    lines = [f"patient {p}: not in the screening result" for p in keys.loc[keys._merge == "right_only", "patient_id"]]
    lines += [f"patient {p}: not in expected_outcomes.csv" for p in keys.loc[keys._merge == "left_only", "patient_id"]]

    def long(frame: pd.DataFrame) -> pd.DataFrame:
        melted = frame.melt(id_vars="patient_id", value_vars=list(COMPARED_COLUMNS), var_name="column")
        melted["value"] = melted["value"].fillna("")
        return melted

    both = long(actual).merge(long(expected), on=["patient_id", "column"], suffixes=("_actual", "_expected"))
    differing = both[both.value_actual != both.value_expected].copy()
    differing["order"] = differing["column"].map({c: i for i, c in enumerate(COMPARED_COLUMNS)})
    differing = differing.sort_values(["patient_id", "order"])
    lines += (
        "patient "
        + differing.patient_id
        + " "
        + differing.column
        + ": expected "
        + differing.value_expected.replace("", "(none)")
        + ", got "
        + differing.value_actual.replace("", "(none)")
    ).tolist()
    return lines


def missing_outcomes(patients: pd.DataFrame) -> set[tuple[str, str]]:
    """(criterion, outcome) pairs the criteria define that no patient shows, the unshowable one aside."""
    shown = set(patients.melt(value_vars=list(CRITERION_IDS)).itertuples(index=False, name=None))
    defined = {(c.id, outcome) for c in CRITERIA for outcome in c.outcomes}
    return defined - shown - UNSHOWABLE_OUTCOMES


def undefined_outcomes(patients: pd.DataFrame) -> set[tuple[str, str]]:
    """(criterion, outcome) pairs shown that the criterion does not define."""
    shown = set(patients.melt(value_vars=list(CRITERION_IDS)).itertuples(index=False, name=None))
    return {(c, o) for c, o in shown if o not in BY_ID[c].outcomes}


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return expected_outcomes()


@pytest.fixture(scope="module", params=ENGINE_PARAMS)
def screened(request: pytest.FixtureRequest):
    from oligo_cohort.api import screen

    return screen(demo_extract_dir(), engine=request.param)


@pytest.fixture(scope="module", params=ENGINE_PARAMS)
def screened_worklist(request: pytest.FixtureRequest):
    from oligo_cohort.api import screen

    return screen(demo_extract_dir(), engine=request.param, worklist=True)


# --- The screening result, per engine ---------------------------------------------------------------


def test_engine_matches_hand_derived_outcomes(screened, expected: pd.DataFrame) -> None:
    differences = outcome_differences(screened.patients, expected)
    assert not differences, (
        f"engine {screened.engine}: {len(differences)} difference(s) from expected_outcomes.csv:\n"
        + "\n".join(differences)
    )


def test_engine_shows_every_outcome_of_every_criterion(screened) -> None:
    patients = screened.patients
    assert not missing_outcomes(patients), f"engine {screened.engine}: outcomes never shown"
    assert not undefined_outcomes(patients), f"engine {screened.engine}: outcomes a criterion does not define"
    assert set(patients.status) == set(STATUSES)


def test_default_cutoff_is_the_latest_date_of_the_extract(screened) -> None:
    assert screened.as_of == DEMO_AS_OF


def test_open_windows_are_on_the_worklist_with_their_confirmation_pending(screened_worklist) -> None:
    from oligo_cohort.worklist import worklist_relation

    listed = worklist_relation(screened_worklist).df()
    assert set(listed.patient_id) == OPEN_WINDOW_PATIENTS
    pending = screened_worklist.patients.set_index("patient_id").loc[sorted(OPEN_WINDOW_PATIENTS)]
    assert set(pending.inc_pet_confirmation) == {"unknown"}
    assert set(pending.inc_imaging_window) == {"pass"}


# --- The hand-derived expectations themselves --------------------------------------------------------


def test_expected_outcomes_show_every_outcome_of_every_criterion(expected: pd.DataFrame) -> None:
    assert list(expected.columns) == ["patient_id", "status", "event_id", *CRITERION_IDS]
    assert not missing_outcomes(expected)
    assert not undefined_outcomes(expected)
    assert set(expected.status) == set(STATUSES)


def test_expected_statuses_follow_the_status_rule(expected: pd.DataFrame) -> None:
    outcomes = expected[list(CRITERION_IDS)]
    rule = pd.Series("eligible", index=expected.index)
    rule = rule.mask(outcomes.eq("unknown").any(axis=1), "unknown").mask(outcomes.eq("fail").any(axis=1), "ineligible")
    assert rule.tolist() == expected.status.tolist()


def test_expected_events_are_studies_of_their_patient(expected: pd.DataFrame) -> None:
    imaging = _read_table("imaging")
    with_event = expected.dropna(subset=["event_id"])
    joined = with_event.merge(imaging, left_on="event_id", right_on="study_id", how="left", suffixes=("", "_study"))
    assert (joined.patient_id == joined.patient_id_study).all()


def test_readme_tells_every_patients_story(expected: pd.DataFrame) -> None:
    readme = (DEMO_DIR / "README.md").read_text(encoding="utf-8")
    story_rows = set(re.findall(r"^\| `(\d+)` \|", readme, flags=re.MULTILINE))
    assert story_rows == set(expected.patient_id)


# --- The extract follows the data model ----------------------------------------------------------------


@pytest.mark.parametrize("table", sorted(DATA_MODEL_COLUMNS))
def test_extract_table_has_data_model_columns_in_order_and_iso_dates(table: str) -> None:
    frame = _read_table(table)
    assert tuple(frame.columns) == DATA_MODEL_COLUMNS[table]
    for column in DATA_MODEL_COLUMNS[table]:
        if column in DATE_COLUMNS:
            filled = frame[column][frame[column] != ""]
            assert filled.str.fullmatch(ISO_DATE).all(), f"{table}.{column}"


def test_extract_has_three_sites_of_different_sizes_and_opaque_ids(expected: pd.DataFrame) -> None:
    patients = _read_table("patients")
    sizes = patients.site_id.value_counts()
    assert len(sizes) == 3 and sizes.is_unique
    assert 30 <= len(patients) <= 40
    assert patients.patient_id.str.startswith("0").any()
    assert set(patients.patient_id) == set(expected.patient_id)


def test_extract_loads_with_only_the_intended_findings() -> None:
    loaded = load_extract(demo_extract_dir())
    assert loaded.as_of == DEMO_AS_OF
    found = {(p.table, p.column, _patient_of(p.record_id)) for p in loaded.findings}
    assert found == {
        ("systemic_therapy", "drug", "00224"),  # trial drug code, not in the vocabulary
        ("systemic_therapy", "setting", "00238"),  # unknown setting, no metastasis date (decision D10)
    }
