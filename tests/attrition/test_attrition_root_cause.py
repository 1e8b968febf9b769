"""A patient without a candidate event is counted once, under the root cause, in attrition, impact and overlaps.

Such a patient fails the imaging criteria (rule `no_candidate_event`) and usually the therapy ones
(`no_active_line`) from one cause. docs/attrition.md A14: step 1 of the patient-level attrition and the first
impact row are that root cause; the criteria are counted over the patients who have a candidate event. Generated
patients (any mix of outcomes, any share without an event, any order and dropped criteria) are checked against a
recount of the patients with an event alone, on the pandas and the DuckDB histogram, exact and controlled.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.attrition.histogram import NO_EVENT, build_histogram, histogram_of_relation, histogram_of_result
from oligo_cohort.attrition.tables import attrition_table, failure_sets, impact_table, resolve_order
from oligo_cohort.attrition.views import Options, controlled, views_from_histograms
from oligo_cohort.criteria import CRITERIA, CRITERION_IDS
from oligo_cohort.errors import UsageError
from tests.attrition.test_attrition_fixtures import status_of
from tests.attrition.test_disclosure_consistency import assert_flow_adds_up
from tests.draws import costly_draws

IMAGING = ("inc_oligoprogression", "inc_same_modality", "inc_imaging_window", "inc_pet_confirmation")
THERAPY = ("inc_therapy_class", "inc_line_1_or_2", "inc_disease_control_6m")
COUNTS = ["remaining", "excluded", "unknown", "remaining_if_unknown_fail", "to_review"]
IMPACT_COUNTS = ["fail", "fail_only", "unknown", "review", "gain_all_known", "shapley", "shapley_if_unknown_fail"]


@st.composite
def patients(draw, max_units: int = 40) -> pd.DataFrame:
    """Patients with random outcomes; those without an event fail the imaging criteria, as the engines decide."""
    n = draw(st.integers(min_value=0, max_value=max_units))
    rng = np.random.default_rng(draw(st.integers(min_value=0, max_value=2**32 - 1)))
    without = rng.random(n) < draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    frame = pd.DataFrame(
        {
            "patient_id": [f"P{i:03d}" for i in range(n)],
            "site_id": rng.choice(["A", "B"], n),
            "event_id": np.where(
                without, rng.choice(np.array([None, ""], dtype=object), n), [f"E{i}" for i in range(n)]
            ),
            "screening_date": np.where(without, None, "2024-01-31"),
        }
    )
    for criterion in CRITERIA:
        frame[criterion.id] = rng.choice(list(criterion.outcomes), n)
    no_line = without & (rng.random(n) < 0.8)  # usually no line active at the cut-off either
    frame.loc[without, list(IMAGING)] = "fail"
    frame.loc[no_line, list(THERAPY)] = "fail"
    frame.insert(2, "status", status_of(frame) if n else pd.Series(dtype=object))
    return frame.astype({c: object for c in frame.columns})


@st.composite
def orders(draw) -> tuple[list[str], list[str]]:
    dropped = sorted(draw(st.sets(st.sampled_from(CRITERION_IDS), max_size=4)))
    permutation = [c for c in draw(st.permutations(CRITERION_IDS)) if c not in dropped]
    return permutation[: draw(st.integers(0, len(permutation)))], dropped


def with_event(units: pd.DataFrame) -> pd.Series:
    return units["event_id"].fillna("").astype(str).str.strip() != ""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units=patients(), chosen=orders())
def test_the_root_cause_is_step_one_and_the_criteria_count_patients_with_an_event(units, chosen):
    listed, dropped = chosen
    table = attrition_table(build_histogram(units), listed, drop=dropped)
    has_event = with_event(units)
    assert table["criterion"].iloc[1] == NO_EVENT and table["step"].iloc[1] == 1
    assert table["excluded"].iloc[1] == (~has_event).sum()
    assert table["remaining"].iloc[1] == has_event.sum() == table["remaining_if_unknown_fail"].iloc[1]
    assert table["unknown"].iloc[1] == 0 and table["to_review"].iloc[1] == 0
    # After the root cause, every step is the attrition of the patients with an event alone.
    alone = attrition_table(build_histogram(units[has_event].drop(columns="event_id")), listed, drop=dropped)
    assert table["criterion"].tolist()[2:] == alone["criterion"].tolist()[1:]
    for column in COUNTS:
        assert table[column].tolist()[2:] == alone[column].tolist()[1:], column
    # The flow still adds up and ends on the statuses of every patient.
    remaining = table["remaining"].to_numpy()
    assert remaining[0] == len(units)
    assert (remaining[:-1] - table["excluded"].to_numpy()[1:] == remaining[1:]).all()
    if not dropped:
        status = units["status"]
        assert remaining[-1] == (status != "ineligible").sum()
        assert table["remaining_if_unknown_fail"].iloc[-1] == (status == "eligible").sum()


@settings(max_examples=costly_draws(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units=patients(), chosen=orders())
def test_impact_counts_the_root_cause_once_and_no_criterion_counts_it(units, chosen):
    listed, dropped = chosen
    impact = impact_table(build_histogram(units), listed, drop=dropped).set_index("criterion")
    has_event = with_event(units)
    no_event = int((~has_event).sum())
    root = impact.loc[NO_EVENT]
    assert [root[c] for c in ("fail", "fail_only", "gain_all_known", "shapley", "shapley_if_unknown_fail")] == [
        no_event
    ] * 5
    assert root["unknown"] == root["review"] == 0
    alone = impact_table(build_histogram(units[has_event].drop(columns="event_id")), listed, drop=dropped)
    alone = alone.set_index("criterion")
    criteria = [c for c in impact.index if c != NO_EVENT]
    assert criteria == list(alone.index)
    for column in IMPACT_COUNTS:
        assert np.allclose(impact.loc[criteria, column].astype(float), alone[column].astype(float)), column
    # The imaging criteria fail only for patients with an event: never seven fails from one cause.
    for criterion in [c for c in IMAGING if c in criteria]:
        assert impact.loc[criterion, "fail"] == ((units[criterion] == "fail") & has_event).sum()
    # Shapley values (root cause included) share out every excluded patient.
    if not dropped:
        assert np.isclose(impact["shapley"].sum(), (units["status"] == "ineligible").sum())
    sets = failure_sets(build_histogram(units), listed, drop=dropped)
    root_sets = sets[sets["criteria"].map(lambda combo: NO_EVENT in combo).astype(bool)]
    assert root_sets["criteria"].tolist() == ([(NO_EVENT,)] if no_event else [])
    assert root_sets["n"].sum() == no_event


@settings(max_examples=costly_draws(20), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units=patients(), by=st.sampled_from([None, "site", "year"]))
def test_duckdb_counts_the_root_cause_as_pandas_does(units, by):
    con = duckdb.connect()
    try:
        con.register("units", units)
        from_sql = histogram_of_relation(con.table("units"), by=by)
    finally:
        con.close()
    from_pandas = build_histogram(units, by=by)
    assert from_sql.root and from_pandas.root
    pd.testing.assert_frame_equal(from_sql.frame, from_pandas.frame, check_dtype=False)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units=patients(max_units=300))
def test_controlled_views_with_the_root_cause_still_add_up(units):
    options = Options(by=("site", "year"))
    hist = build_histogram(units)
    shown = controlled(views_from_histograms(hist, {g: build_histogram(units, by=g) for g in options.by}, options))
    assert_flow_adds_up(shown.attrition)
    total = int(shown.attrition["remaining"].iloc[0])
    excluded = total - int(shown.attrition["remaining"].iloc[-1])
    assert int(shown.impact["shapley"].sum()) == excluded == int(shown.status["ineligible"].iloc[0])
    assert int(shown.sets["n"].sum()) == excluded
    for table in shown.by.values():
        for _, steps in table.groupby(table.columns[0], sort=False):
            assert_flow_adds_up(steps)


def test_the_root_cause_cannot_be_ordered_or_dropped():
    with pytest.raises(UsageError, match="not a criterion"):
        resolve_order(CRITERION_IDS, [NO_EVENT], root=True)
    with pytest.raises(UsageError, match="not a criterion"):
        resolve_order(CRITERION_IDS, drop=[NO_EVENT], root=True)
    assert resolve_order(CRITERION_IDS, ["inc_age_18"], root=True).steps[:2] == (NO_EVENT, "inc_age_18")


def test_event_level_has_no_root_cause(demo_result):
    table = attrition_table(histogram_of_result(demo_result, level="events"))
    assert NO_EVENT not in set(table["criterion"])
    assert table["remaining"].iloc[0] == len(demo_result.events)


def test_on_the_demo_each_patient_without_an_event_is_counted_once(demo_result):
    """The demo's patients whose reasons say `no_candidate_event` are step 1, and add nothing to the imaging rows."""
    reasons = demo_result.reasons
    rooted = set(reasons.loc[reasons["rule"] == "no_candidate_event", "patient_id"])
    patients = demo_result.patients
    assert rooted == set(patients.loc[patients["event_id"].isna(), "patient_id"]) and rooted
    hist = histogram_of_result(demo_result)
    table = attrition_table(hist)
    assert table["criterion"].iloc[1] == NO_EVENT and table["excluded"].iloc[1] == len(rooted)
    impact = impact_table(hist).set_index("criterion")
    with_scan = patients[~patients["patient_id"].isin(rooted)]
    for criterion in (*IMAGING, *THERAPY):
        assert impact.loc[criterion, "fail"] == (with_scan[criterion] == "fail").sum(), criterion
    assert impact["shapley"].sum() == pytest.approx((patients["status"] == "ineligible").sum())


@pytest.fixture(scope="module")
def demo_result():
    from oligo_cohort.api import screen
    from oligo_cohort.paths import demo_extract_dir

    return screen(demo_extract_dir())
