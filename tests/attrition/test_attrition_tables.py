"""Attrition views from the outcome histogram equal a direct recount, add up in every order, and Shapley sums hold."""

from __future__ import annotations

import itertools
import math

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.api import screen
from oligo_cohort.attrition.histogram import (
    OutcomeHistogram,
    build_histogram,
    histogram_of_relation,
    histogram_of_result,
    outcome_masks,
)
from oligo_cohort.attrition.tables import (
    attrition_table,
    controlled_attrition,
    controlled_impact,
    failure_sets,
    impact_table,
    resolve_order,
)
from oligo_cohort.criteria import CRITERIA, CRITERION_IDS
from oligo_cohort.errors import UsageError
from oligo_cohort.paths import demo_extract_dir
from tests.attrition.test_attrition_fixtures import demo_expected_patients, random_patients, status_of
from tests.draws import costly_draws

REVIEW_CAPABLE = [c.id for c in CRITERIA if "review" in c.outcomes]
REGISTRY = [c.id for c in CRITERIA if "review" not in c.outcomes]


@st.composite
def outcome_tables(draw, max_units: int = 30) -> pd.DataFrame:
    """Patients with random outcomes, each criterion drawing only from the outcomes it can give."""
    rows = draw(st.lists(st.tuples(*[st.sampled_from(c.outcomes) for c in CRITERIA]), max_size=max_units))
    frame = pd.DataFrame(rows, columns=list(CRITERION_IDS), dtype=object)
    frame.insert(0, "site_id", [draw(st.sampled_from(["A", "B"])) for _ in range(len(frame))])
    frame.insert(1, "screening_date", [draw(st.sampled_from(["2023-05-01", "2024-01-31", None])) for _ in rows])
    return frame


@st.composite
def orders(draw) -> tuple[list[str], list[str]]:
    """A partial order (listed criteria first) and a set of dropped criteria."""
    dropped = sorted(draw(st.sets(st.sampled_from(CRITERION_IDS), max_size=4)))
    permutation = [c for c in draw(st.permutations(CRITERION_IDS)) if c not in dropped]
    listed = permutation[: draw(st.integers(0, len(permutation)))]
    return listed, dropped


def direct_recount(units: pd.DataFrame, steps: list[str]) -> dict[str, np.ndarray]:
    """Sequential attrition counted straight from the outcome table, without masks or histogram."""
    outcomes = units[steps].to_numpy(dtype=object).reshape(len(units), len(steps))
    fails = outcomes == "fail"
    not_pass = fails | (outcomes == "unknown")
    first_fail = np.where(fails.any(axis=1), fails.argmax(axis=1), len(steps))
    first_not_pass = np.where(not_pass.any(axis=1), not_pass.argmax(axis=1), len(steps))
    k = np.arange(len(steps))[:, None]
    return {
        "remaining": np.concatenate([[len(units)], (first_fail[None, :] > k).sum(axis=1)]),
        "excluded": np.concatenate([[0], (first_fail[None, :] == k).sum(axis=1)]),
        "remaining_if_unknown_fail": np.concatenate([[len(units)], (first_not_pass[None, :] > k).sum(axis=1)]),
        "unknown": np.concatenate([[0], ((first_fail[None, :] > k) & (outcomes == "unknown").T).sum(axis=1)]),
        "to_review": np.concatenate([[0], ((first_fail[None, :] > k) & (outcomes == "review").T).sum(axis=1)]),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units=outcome_tables(), chosen=orders())
def test_attrition_adds_up_and_equals_a_direct_recount_in_every_order(units, chosen):
    listed, dropped = chosen
    table = attrition_table(build_histogram(units), listed, drop=dropped)
    steps = table["criterion"].tolist()[1:]
    # Every applied criterion appears once: the listed ones first, review-capable ones after the registry ones.
    assert sorted(steps) == sorted(set(CRITERION_IDS) - set(dropped))
    sections = table["section"].tolist()[1:]
    assert sections == sorted(sections)  # "registry" < "review": all registry steps come first
    for section in (REGISTRY, REVIEW_CAPABLE):  # the listed order holds within each section
        assert [c for c in steps if c in listed and c in section] == [c for c in listed if c in section]
    # Counts add up down the table.
    remaining = table["remaining"].to_numpy()
    assert remaining[0] == len(units)
    assert (remaining[:-1] - table["excluded"].to_numpy()[1:] == remaining[1:]).all()
    assert (table["remaining_if_unknown_fail"] <= table["remaining"]).all()
    assert (np.diff(table["remaining_if_unknown_fail"].to_numpy()) <= 0).all()
    # And equal a direct recount.
    expected = direct_recount(units, steps)
    for column, values in expected.items():
        assert table[column].tolist() == values.tolist(), column
    # Without dropped criteria the final bounds are the status counts.
    if not dropped:
        status = status_of(units)
        assert remaining[-1] == (status != "ineligible").sum()
        assert table["remaining_if_unknown_fail"].iloc[-1] == (status == "eligible").sum()


@settings(max_examples=20, deadline=None)
@given(units=outcome_tables(), chosen=orders(), by=st.sampled_from(["site", "year"]))
def test_grouped_attrition_sums_to_the_ungrouped_table(units, chosen, by):
    listed, dropped = chosen
    grouped = attrition_table(build_histogram(units, by=by), listed, drop=dropped)
    whole = attrition_table(build_histogram(units), listed, drop=dropped)
    counts = ["remaining", "excluded", "unknown", "remaining_if_unknown_fail", "to_review"]
    summed = grouped.groupby("step")[counts].sum().reset_index(drop=True) if len(grouped) else None
    if summed is None:
        assert len(units) == 0
    else:
        assert summed.astype(int).equals(whole[counts].astype(int))


@settings(max_examples=30, deadline=None)
@given(units=outcome_tables(), chosen=orders())
def test_impact_equals_a_direct_recount_and_shapley_values_sum_to_the_excluded(units, chosen):
    _, dropped = chosen
    applied = [c for c in CRITERION_IDS if c not in dropped]
    impact = impact_table(build_histogram(units), drop=dropped)
    assert impact["criterion"].tolist() == [c for c in applied if c in REGISTRY] + [
        c for c in applied if c in REVIEW_CAPABLE
    ]
    impact = impact.set_index("criterion").loc[applied]
    outcomes = units[applied].to_numpy(dtype=object).reshape(len(units), len(applied))
    fails = outcomes == "fail"
    not_pass = fails | (outcomes == "unknown")
    fails_elsewhere = fails.sum(axis=1, keepdims=True) - fails  # other applied criteria failed
    not_pass_elsewhere = not_pass.sum(axis=1, keepdims=True) - not_pass
    assert impact["fail"].tolist() == fails.sum(axis=0).tolist()
    assert impact["unknown"].tolist() == (outcomes == "unknown").sum(axis=0).tolist()
    assert impact["review"].tolist() == (outcomes == "review").sum(axis=0).tolist()
    assert impact["fail_only"].tolist() == (fails & (fails_elsewhere == 0)).sum(axis=0).tolist()
    assert impact["gain_all_known"].tolist() == (not_pass & (not_pass_elsewhere == 0)).sum(axis=0).tolist()
    excluded = fails.any(axis=1).sum()
    assert impact["shapley"].sum() == pytest.approx(excluded)  # all units − units failing none
    assert impact["shapley_if_unknown_fail"].sum() == pytest.approx(not_pass.any(axis=1).sum())
    # Each unit's exclusion is split equally among the criteria it fails.
    shares = (fails / np.maximum(fails.sum(axis=1, keepdims=True), 1)).sum(axis=0)
    assert impact["shapley"].to_numpy() == pytest.approx(shares)


def brute_force_shapley(units: pd.DataFrame, players: list[str]) -> dict[str, float]:
    """Shapley values of v(S) = units failing some criterion of S, by the definition over all coalitions."""
    fails = units[players].eq("fail").to_numpy()
    m = len(players)

    def value(coalition: tuple[int, ...]) -> int:
        return int(fails[:, list(coalition)].any(axis=1).sum()) if coalition else 0

    values: dict[str, float] = {}
    for i, player in enumerate(players):
        others = [j for j in range(m) if j != i]
        total = 0.0
        for size in range(m):
            weight = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
            for coalition in itertools.combinations(others, size):
                total += weight * (value((*coalition, i)) - value(coalition))
        values[player] = total
    return values


@settings(max_examples=20, deadline=None)
@given(units=outcome_tables(max_units=25), players=st.sets(st.sampled_from(CRITERION_IDS), min_size=1, max_size=5))
def test_closed_form_shapley_equals_the_definition(units, players):
    chosen = sorted(players, key=CRITERION_IDS.index)
    impact = impact_table(build_histogram(units), drop=[c for c in CRITERION_IDS if c not in players])
    expected = brute_force_shapley(units, chosen) if len(units) else dict.fromkeys(chosen, 0.0)
    for row in impact.itertuples():
        assert row.shapley == pytest.approx(expected[row.criterion])


def test_review_pass_rates_give_the_expected_number_under_independence():
    units = random_patients(400, seed=11)
    rates = {"inc_lat_amenable": 0.6, "inc_informed_consent": 0.9}
    table = attrition_table(build_histogram(units), review_pass_rates=rates)
    no_fail = ~units[list(CRITERION_IDS)].eq("fail").any(axis=1)
    all_known = ~units[list(CRITERION_IDS)].isin(["fail", "unknown"]).any(axis=1)
    weight = np.ones(len(units))
    for criterion, rate in rates.items():
        weight *= np.where(units[criterion] == "review", rate, 1.0)
    assert table["expected_remaining"].iloc[-1] == pytest.approx(weight[no_fail].sum())
    assert table["expected_if_unknown_fail"].iloc[-1] == pytest.approx(weight[all_known].sum())
    assert table.set_index("criterion").loc["inc_lat_amenable", "assumed_pass_rate"] == 0.6
    assert table["expected_remaining"].iloc[-1] < table["remaining"].iloc[-1]


def test_review_pass_rates_only_for_review_criteria_and_between_0_and_1():
    hist = build_histogram(random_patients(20))
    with pytest.raises(UsageError, match="chart review"):
        attrition_table(hist, review_pass_rates={"inc_age_18": 0.5})
    with pytest.raises(UsageError, match="between 0 and 1"):
        attrition_table(hist, review_pass_rates={"inc_lat_amenable": 1.5})


def test_order_errors_name_the_bad_ids():
    with pytest.raises(UsageError, match="inc_nonsense"):
        resolve_order(CRITERION_IDS, ["inc_nonsense"])
    with pytest.raises(UsageError, match="twice"):
        resolve_order(CRITERION_IDS, ["inc_age_18", "inc_age_18"])
    with pytest.raises(UsageError, match="both"):
        resolve_order(CRITERION_IDS, ["inc_age_18"], drop=["inc_age_18"])


def test_review_capable_criteria_follow_the_registry_ones_in_the_chosen_order():
    order = resolve_order(CRITERION_IDS, ["exc_pregnancy", "inc_age_18", "inc_lat_amenable"])
    assert order.registry[0] == "inc_age_18"
    assert order.review[:2] == ("exc_pregnancy", "inc_lat_amenable")
    assert set(order.registry) == set(REGISTRY) and set(order.review) == set(REVIEW_CAPABLE)


def test_masks_reject_outcomes_that_are_not_outcomes():
    units = random_patients(3)
    units.loc[1, "inc_age_18"] = "maybe"
    with pytest.raises(ValueError, match="inc_age_18 holds 'maybe'"):
        outcome_masks(units)


def test_histogram_is_small_and_exact_for_many_patients():
    units = random_patients(20_000, seed=5)
    hist = build_histogram(units)
    assert hist.total == 20_000
    assert len(hist.frame) < 20_000  # distinct outcome patterns, not patients
    counts = hist.status_counts()
    assert counts == status_of(units).value_counts().reindex(list(counts)).fillna(0).astype(int).to_dict()


def test_failure_sets_count_each_failing_unit_once_largest_first():
    units = random_patients(300, seed=2, fail_rate=0.15)
    sets = failure_sets(build_histogram(units))
    failing = units[list(CRITERION_IDS)].eq("fail")
    assert sets["n"].sum() == failing.any(axis=1).sum()
    assert sets["n"].is_monotonic_decreasing
    combo = sets["criteria"].iloc[0]
    exact = failing[list(combo)].all(axis=1) & (failing.sum(axis=1) == len(combo))
    assert sets["n"].iloc[0] == exact.sum()


def test_demo_outcomes_patient_attrition():
    """The demo's hand-derived outcomes: 34 patients, 16 not failing anything (5 eligible + 11 unknown)."""
    table = attrition_table(build_histogram(demo_expected_patients())).set_index("criterion")
    assert table.loc["", "remaining"] == 34
    assert table["remaining"].iloc[-1] == 16 and table["remaining_if_unknown_fail"].iloc[-1] == 5
    # 00193 (cytology) is the first exclusion; nobody is excluded by inc_therapy_class in protocol order.
    assert table.loc["inc_invasive_breast_cancer", "excluded"] == 1
    assert table.loc["inc_therapy_class", "excluded"] == 0
    impact = impact_table(build_histogram(demo_expected_patients())).set_index("criterion")
    assert impact["shapley"].sum() == pytest.approx(34 - 16)


def test_controlled_tables_hold_no_count_from_1_to_7_and_recompute_percentages():
    units = random_patients(2_000, seed=9)
    table = controlled_attrition(attrition_table(build_histogram(units, by="site")))
    for column in ("remaining", "excluded", "unknown", "remaining_if_unknown_fail", "to_review"):
        values = table[column].astype(int)
        assert ((values == 0) | ((values >= 10) & (values % 5 == 0))).all(), column
    first = table.groupby("site_id")["remaining"].transform("first")
    assert np.allclose(table["remaining_pct"], 100 * table["remaining"] / first)
    impact = controlled_impact(impact_table(build_histogram(units)))
    assert (impact["shapley"].astype(int) % 5 == 0).all()
    assert np.allclose(impact["fail_pct"], 100 * impact["fail"] / impact["units"])


def histogram_in_duckdb(units: pd.DataFrame, **kwargs) -> OutcomeHistogram:
    con = duckdb.connect()
    con.register("units_frame", units)
    return histogram_of_relation(con.table("units_frame"), **kwargs)


@settings(max_examples=costly_draws(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units=outcome_tables(), by=st.sampled_from([None, "site", "year"]))
def test_duckdb_histogram_equals_the_pandas_one(units, by):
    """The histogram a result's attrition views come from is counted by DuckDB; pandas counts it independently."""
    assert_same_histogram(histogram_in_duckdb(units, by=by), build_histogram(units, by=by))


def assert_same_histogram(got: OutcomeHistogram, expected: OutcomeHistogram) -> None:
    """Same groups, masks and counts in the same order (the group labels' pandas dtype aside)."""
    assert (got.group, got.criteria, got.level) == (expected.group, expected.criteria, expected.level)
    assert all(got.frame[c].dtype == np.int64 for c in ("failed", "unknown", "review", "n"))
    labels = {expected.group: object} if expected.group else {}
    pd.testing.assert_frame_equal(got.frame.astype(labels), expected.frame.astype(labels))


def test_duckdb_histogram_of_many_patients_and_of_a_screen():
    demo_result = screen(demo_extract_dir())
    units = random_patients(20_000, seed=7)
    for by in (None, "site", "year"):
        assert_same_histogram(histogram_in_duckdb(units, by=by), build_histogram(units, by=by))
    for level in ("patients", "events"):
        units = demo_result.patients if level == "patients" else demo_result.events
        for by in (None, "site", "year"):
            got = histogram_of_result(demo_result, level=level, by=by)
            assert_same_histogram(got, build_histogram(units, level=level, by=by))


def test_duckdb_histogram_rejects_outcomes_that_are_not_outcomes():
    units = random_patients(3)
    units.loc[1, "inc_age_18"] = "maybe"
    with pytest.raises(ValueError, match="inc_age_18 holds 'maybe'"):
        histogram_in_duckdb(units)
    units.loc[1, "inc_age_18"] = None
    with pytest.raises(ValueError, match="inc_age_18 holds 'None'"):
        histogram_in_duckdb(units)
