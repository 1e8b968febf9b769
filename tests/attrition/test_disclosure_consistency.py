"""Every disclosure-controlled table adds up as printed, and no two of them contradict each other.

Generated outcome tables (any size, any number of sites, any mix of fail,
unknown and review, criteria reordered or dropped) go through the same
`controlled` views the CLI and the report write; each identity a reader would
check is asserted on the controlled numbers themselves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from oligo_cohort.attrition.comparison import (
    compare_attrition,
    compare_status,
    controlled_comparison,
    controlled_status,
)
from oligo_cohort.attrition.histogram import build_histogram
from oligo_cohort.attrition.labels import exclusion_reason, n_text
from oligo_cohort.attrition.report import group_summary
from oligo_cohort.attrition.tables import attrition_table, controlled_attrition
from oligo_cohort.attrition.views import Options, compute_views, controlled, views_from_histograms
from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.disclosure import DERIVED_TEXT, SETS_RULE, controlled_parts, round_count
from tests.attrition.test_attrition_fixtures import random_patients, status_of
from tests.draws import costly_draws


def generated_units(n: int, seed: int, sites: int, fail_rate: float, unknown_rate: float) -> pd.DataFrame:
    """`n` patients with random outcomes spread over `sites` sites of very different sizes."""
    units = random_patients(n, seed=seed, fail_rate=fail_rate, unknown_rate=unknown_rate)
    rng = np.random.default_rng(seed + 1)
    weights = rng.dirichlet(np.full(sites, 0.7))
    units["site_id"] = rng.choice([f"S{i:02d}" for i in range(sites)], size=n, p=weights)
    return units


def is_controlled(values: pd.Series) -> bool:
    """A count after the rule: 0, or a multiple of 5 from 10 up."""
    numbers = pd.to_numeric(values).astype(float)
    return bool(((numbers == 0) | ((numbers >= 10) & (numbers % 5 == 0))).all())


def assert_flow_adds_up(table: pd.DataFrame) -> None:
    """remaining before − excluded = remaining after on every row, and sections sum to their drop."""
    remaining = table["remaining"].astype(int).to_numpy()
    excluded = table["excluded"].astype(int).to_numpy()
    assert excluded[0] == 0
    assert (remaining[:-1] - excluded[1:] == remaining[1:]).all()
    assert (excluded >= 0).all() and (excluded % 5 == 0).all()
    assert excluded.sum() == remaining[0] - remaining[-1]
    for column in ("remaining", "remaining_if_unknown_fail", "unknown", "to_review"):
        assert is_controlled(table[column]), column
    assert (table["remaining_if_unknown_fail"].astype(int) <= table["remaining"].astype(int)).all()


outcome_mixes = st.fixed_dictionaries(
    {
        "n": st.integers(min_value=1, max_value=600),
        "seed": st.integers(min_value=0, max_value=10_000),
        "sites": st.integers(min_value=1, max_value=15),
        "fail_rate": st.sampled_from([0.0, 0.005, 0.02, 0.08, 0.3]),
        "unknown_rate": st.sampled_from([0.0, 0.01, 0.05, 0.2]),
    }
)


@settings(max_examples=costly_draws(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mix=outcome_mixes, drop=st.lists(st.sampled_from(CRITERION_IDS), max_size=3, unique=True), data=st.data())
def test_every_controlled_table_adds_up_and_agrees_with_the_others(mix, drop, data):
    units = generated_units(**mix)
    order = data.draw(st.permutations(CRITERION_IDS).map(lambda ids: tuple(c for c in ids[:4] if c not in drop)))
    options = Options(order=order or None, drop=tuple(drop), by=("site", "year"))
    hist = build_histogram(units)
    grouped = {g: build_histogram(units, by=g) for g in options.by}
    shown = controlled(views_from_histograms(hist, grouped, options))
    attrition = shown.attrition
    assert_flow_adds_up(attrition)
    total = int(attrition["remaining"].iloc[0])
    assert total == round_count(len(units))
    excluded_total = total - int(attrition["remaining"].iloc[-1])

    # Status: its parts add up to the total, which is the attrition's first count.
    status = shown.status.iloc[0]
    assert status["eligible"] + status["unknown"] + status["ineligible"] == status["total"] == total
    if not drop:  # with every criterion applied, the attrition ends on the status counts
        assert status["eligible"] == attrition["remaining_if_unknown_fail"].iloc[-1]
        assert status["eligible"] + status["unknown"] == attrition["remaining"].iloc[-1]
        assert status["ineligible"] == excluded_total

    # Shapley shares and exclusion combinations are parts of the excluded units.
    impact = shown.impact
    assert int(impact["shapley"].sum()) == excluded_total
    assert int(impact["shapley_if_unknown_fail"].sum()) == total - int(attrition["remaining_if_unknown_fail"].iloc[-1])
    for column in ("units", "fail", "fail_only", "unknown", "review", "gain_all_known"):
        assert is_controlled(impact[column]), column
    assert int(shown.sets["n"].sum()) == excluded_total
    assert (shown.sets["n"] > 0).all()

    # Per site and per year: every group's flow and statuses add up and agree with each other.
    for grouping, table in shown.by.items():
        group = table.columns[0]
        statuses = shown.status_by[grouping].set_index("group")
        for label, steps in table.groupby(group, sort=False):
            assert_flow_adds_up(steps)
            row = statuses.loc[str(label)]
            assert row["eligible"] + row["unknown"] + row["ineligible"] == row["total"] == steps["remaining"].iloc[0]
            if not drop:
                assert row["eligible"] == steps["remaining_if_unknown_fail"].iloc[-1]
        # A group whose units are all shown as 0 is left out (docs/attrition.md A21): every group shown has some.
        assert all(steps["remaining"].iloc[0] > 0 for _, steps in table.groupby(group, sort=False))
        summary = group_summary(shown, grouping)
        if summary.empty:  # every group left out
            continue
        sums = summary.iloc[-1]
        assert sums["screened"] == summary["screened"].iloc[:-1].map(float).sum()


@settings(max_examples=costly_draws(25), deadline=None)
@given(a=outcome_mixes, b=outcome_mixes)
def test_a_controlled_what_if_adds_up_on_each_side(a, b):
    a["n"], b["n"] = max(a["n"], 1), max(b["n"], 1)
    hist_a, hist_b = build_histogram(generated_units(**a)), build_histogram(generated_units(**b))
    table = controlled_comparison(
        compare_attrition(attrition_table(hist_a), attrition_table(hist_b, drop=["inc_age_18"]))
    )
    for side in ("a", "b"):
        steps = table[table[f"step_{side}"].notna()].sort_values(f"step_{side}")
        assert_flow_adds_up(
            steps.rename(
                columns={f"{c}_{side}": c for c in ("remaining", "excluded", "remaining_if_unknown_fail")}
            ).assign(unknown=0, to_review=0)
        )
    assert (table["excluded_diff"] == table["excluded_b"] - table["excluded_a"]).all()
    status = controlled_status(compare_status(hist_a, hist_b)).set_index("status")
    for side in ("a", "b"):
        assert status.loc[["eligible", "unknown", "ineligible"], side].sum() == status.loc["total", side]


@given(st.lists(st.integers(min_value=0, max_value=5_000), max_size=30), st.integers(min_value=0, max_value=500))
def test_controlled_parts_add_up_to_the_controlled_whole(parts, offset):
    controlled = controlled_parts(parts, offset=offset)
    assert controlled.sum() == round_count(offset + sum(parts)) - round_count(offset)
    assert (controlled >= 0).all() and (controlled % 5 == 0).all()
    # Each part stays within 9 of its true count (two roundings, one of which may be a suppression).
    assert (np.abs(controlled - np.array(parts, dtype=float)) <= 9).all() if parts else True


def test_the_issue_example_adds_up_at_every_step():
    """35 patients with 'excluded 0' at every step while 'remaining' fell to 15: no longer possible."""
    units = generated_units(34, seed=5, sites=3, fail_rate=0.08, unknown_rate=0.05)
    table = controlled_attrition(attrition_table(build_histogram(units)))
    assert_flow_adds_up(table)
    if table["remaining"].iloc[-1] < table["remaining"].iloc[0]:
        assert table["excluded"].sum() > 0


@pytest.mark.parametrize("sites", [1, 12, 40])
def test_site_summary_states_its_sum(sites):
    units = generated_units(900, seed=sites, sites=sites, fail_rate=0.05, unknown_rate=0.05)
    options = Options(by=("site",))
    shown = controlled(
        views_from_histograms(build_histogram(units), {"site": build_histogram(units, by="site")}, options)
    )
    summary = group_summary(shown, "site")
    sizes = units["site_id"].value_counts()
    assert len(summary) == int((sizes.map(round_count) > 0).sum()) + 1, "a site shown as 0 is left out (A21)"
    assert summary["group"].iloc[-1].startswith("Sum of the")


def _overall(views) -> dict[str, float]:
    """The overall counts the by-group table's sum row is read against."""
    from oligo_cohort.attrition.report.summary import section_end
    from oligo_cohort.attrition.tables import SECTION_REGISTRY

    table = views.attrition
    registry, last = section_end(table, SECTION_REGISTRY), table.iloc[-1]
    return {
        "screened": table["remaining"].iloc[0],
        "excluded": table["remaining"].iloc[0] - last["remaining"],
        "registry_known": registry["remaining_if_unknown_fail"],
        "registry": registry["remaining"],
        "eligible": last["remaining_if_unknown_fail"],
        "potential": last["remaining"],
    }


@settings(max_examples=costly_draws(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(20, 400), by=st.sampled_from(["site", "year"]))
@example(seed=1, n=20, by="year")  # every year's patients shown as 0: no table at all
def test_a_breakdown_whose_rows_do_not_sum_to_the_total_says_why(seed, n, by):
    """Whichever column's sum differs from the overall count (screened, excluded, either bound), the caption says that
    each group is controlled on its own; when none differs it says nothing of it."""
    from types import SimpleNamespace

    from oligo_cohort.attrition.report.sections import breakdown_section
    from oligo_cohort.attrition.views import compute_views

    views = controlled(compute_views(generated_units(n, seed, 3, 0.1, 0.1), Options(by=(by,))))
    summary = group_summary(views, by)
    html = "".join(breakdown_section(SimpleNamespace(patients=views)))
    if summary.empty:  # every group shown as 0 is left out (A21): no table, so no sum to explain
        assert html == ""
        return
    sums = summary.iloc[-1]
    differs = [c for c, value in _overall(views).items() if int(sums[c]) != int(value)]
    assert ("disclosure-controlled on its own" in html) == bool(differs), differs


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=60), min_size=2, max_size=12, unique=True), st.integers(0, 40))
def test_combinations_shown_alike_are_ordered_by_what_is_shown_never_by_their_exact_size(sizes, failing_none):
    """Exact sizes in any order, each combination a different set of criteria: the controlled table is ordered by
    the count shown, then by the combination, so two combinations shown alike do not tell which is larger."""
    from oligo_cohort.attrition.tables import controlled_sets

    masks = [(1 << k) | (1 << (k + 1)) if k % 2 else 1 << k for k in range(len(sizes))]
    exact = pd.DataFrame({"criteria": [(f"c{m}",) for m in masks], "failed": masks, "n": sizes})
    exact["degree"] = [bin(m).count("1") for m in masks]
    exact = exact.sort_values("n", ascending=False, ignore_index=True)  # as failure_sets gives them: largest first
    shown = controlled_sets(exact, units=int(exact["n"].sum()) + failing_none)
    expected = shown.sort_values(["n", "degree", "failed"], ascending=[False, True, True], ignore_index=True)
    pd.testing.assert_frame_equal(shown, expected)


def _upset_totals(views) -> dict[str, str]:
    """What the controlled UpSet plot writes at each criterion's total bar, by criterion."""
    from oligo_cohort.attrition.bundle import figure_note, sets_note
    from oligo_cohort.attrition.charts import upset_figure

    figure = upset_figure(
        views.sets, views.set_sizes(), unit=views.unit, note=sets_note(figure_note(views)), controlled=True
    )
    if len(figure.axes) < 3:  # nothing drawn
        return {}
    totals = figure.axes[2]
    names = [label.get_text() for label in totals.get_yticklabels()]
    reasons = {exclusion_reason(c): c for c in views.set_sizes()}
    written = {reasons[names[int(text.xy[1])]]: text.get_text() for text in totals.texts}
    assert SETS_RULE in [t.get_text() for t in figure.texts], "the footnote states the UpSet's own rule"
    return written


def _derived_beside_zero(views) -> list[str]:
    """Criteria shown failing 0 beside a derived count of 5 or more: a combination with them, or their Shapley value."""
    fail = dict(zip(views.impact["criterion"], views.impact["fail"].astype(int), strict=True))
    in_combinations = {c for combo in views.sets["criteria"] for c in combo}
    shapley = dict(zip(views.impact["criterion"], views.impact["shapley"].astype(int), strict=True))
    return sorted(c for c, n in fail.items() if n == 0 and (c in in_combinations or shapley[c] > 0))


@settings(max_examples=costly_draws(12), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mix=outcome_mixes)
def test_a_derived_count_beside_a_criterion_shown_as_0_is_explained_where_they_meet(mix):
    """A23: a combination or Shapley value of 5 can sit beside a criterion's fail count shown as 0 (1 to 7 in
    truth). The UpSet plot then writes that total as 0–7 and says why in its footnote; the report's impact table
    says it in its caption. A total is never written as a bare 0 under control."""
    from oligo_cohort.attrition.report.sections import IMPACT_CONTROLLED, impact_section

    shown = controlled(compute_views(generated_units(**mix), Options()))
    written = _upset_totals(shown)
    sizes = shown.set_sizes()
    for criterion, text in written.items():
        assert text == ("0–7" if sizes[criterion] == 0 else n_text(sizes[criterion])), criterion
    assert "0" not in written.values()
    assert IMPACT_CONTROLLED in "".join(impact_section(shown, {}))


def test_a_combination_of_5_with_a_criterion_failed_by_3_shows_that_total_as_0_to_7():
    # 300 patients: 40 fail the performance status, 3 of them also age; every other criterion passes or is unknown.
    units = random_patients(300, seed=3, fail_rate=0.0)
    units.loc[:39, "inc_who_ps_0_1"] = "fail"
    units.loc[:2, "inc_age_18"] = "fail"
    units["status"] = status_of(units)
    shown = controlled(compute_views(units, Options()))
    combinations = {combo: int(n) for combo, n in zip(shown.sets["criteria"], shown.sets["n"], strict=True)}
    assert combinations[("inc_age_18", "inc_who_ps_0_1")] == 5  # 3 in truth, derived from running totals
    assert shown.set_sizes()["inc_age_18"] == 0  # 3, rounded on its own
    assert _derived_beside_zero(shown) == ["inc_age_18"]
    assert _upset_totals(shown)["inc_age_18"] == "0–7"
    assert DERIVED_TEXT.count("shown as 0 (0 to 7)") == 1  # disclosure.md states the pair with the derived counts
