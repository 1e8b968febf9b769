"""A site's controlled attrition reveals no more than its controlled counts: generated sites of 0 to 7 patients.

The site has the same number of patients screened every time; 0, 1, 2 … 7 of them get past the first criterion
(with any outcomes after it: fail, unknown, review), the rest are excluded there. Every count of theirs is then
shown as 0, so every row of the site — its attrition, statuses, line in the report's by-site table and flow
diagram — must be the same whatever their number and outcomes: no cell may tell 0 from 1–7, nor 1 from 2.
(The overall tables count the site's patients among the others', rounded as any total: they may move by a
rounding step, as any count does when a patient is added.)
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.attrition.consort import site_diagrams
from oligo_cohort.attrition.report import group_summary
from oligo_cohort.attrition.views import Options, compute_views, controlled
from tests.attrition.test_attrition_fixtures import random_patients, status_of
from tests.draws import costly_draws

SITE = "X"
SCREENED = 12  # the site's patients, every time (shown as 10)
FIRST = "inc_invasive_breast_cancer"  # the first criterion after the root cause
OPTIONS = Options(by=("site",), review_pass_rates={"inc_lat_amenable": 0.61, "inc_informed_consent": 0.5})


def _units(small: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Other sites' patients, and the site's: `small` past the first criterion, the rest excluded there."""
    others = random_patients(150, seed=seed).assign(patient_id=lambda f: "o" + f["patient_id"])
    excluded = random_patients(SCREENED - len(small), seed=seed + 1)
    excluded = excluded.assign(patient_id="e" + excluded["patient_id"], site_id=SITE, **{FIRST: "fail"})
    small = small.assign(patient_id="s" + small["patient_id"], site_id=SITE, **{FIRST: "pass"})
    units = pd.concat([others, excluded, small], ignore_index=True)
    units["status"] = status_of(units)
    return units


def _site_rows(units: pd.DataFrame) -> dict[str, object]:
    """What the controlled outputs show of the site."""
    views = controlled(compute_views(units, OPTIONS))
    attrition, status = views.by["site"], views.status_by["site"]
    mine = attrition[attrition["site_id"] == SITE].reset_index(drop=True)
    summary = group_summary(views, "site")
    diagram = next(d for d in site_diagrams(attrition, unit=views.unit) if d.label == SITE)
    return {
        "attrition_patients_by_site.csv": mine,
        "status_patients_by_site.csv": status[status["group"] == SITE].reset_index(drop=True),
        "report by-site row": summary[summary["group"] == SITE].reset_index(drop=True),
        "site diagram": diagram.rows.reset_index(drop=True),
    }


@settings(max_examples=costly_draws(15), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    k=st.integers(1, 7),
    seed=st.integers(0, 10_000),
    fail_rate=st.sampled_from([0.0, 0.1, 0.4]),
    unknown_rate=st.sampled_from([0.0, 0.1, 0.4]),
)
def test_a_sites_controlled_rows_are_the_same_for_0_to_7_patients_past_a_criterion(k, seed, fail_rate, unknown_rate):
    small = random_patients(k, seed=seed + 2, fail_rate=fail_rate, unknown_rate=unknown_rate)
    shown = {n: _site_rows(_units(small.iloc[:n], seed)) for n in sorted({0, 1, min(2, k), k})}
    for n, rows in shown.items():
        for name, table in rows.items():
            pd.testing.assert_frame_equal(table, shown[0][name], check_exact=True, obj=f"{name}: {n} against 0")


def _grouped_outputs(units: pd.DataFrame) -> dict[str, object]:
    """Every controlled output by site and by year: tables, the report's rows and the sites' diagrams."""
    views = controlled(compute_views(units, Options(by=("site", "year"))))
    shown: dict[str, object] = {}
    for grouping in ("site", "year"):
        shown[f"attrition by {grouping}"] = views.by[grouping]
        shown[f"status by {grouping}"] = views.status_by[grouping]
        summary = group_summary(views, grouping)
        shown[f"report by {grouping}"] = summary.iloc[:-1].reset_index(drop=True)  # the groups, not their sum
    shown["site diagrams"] = [d.label for d in site_diagrams(views.by["site"], unit=views.unit)]
    return shown


@settings(max_examples=costly_draws(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k=st.integers(1, 7), seed=st.integers(0, 10_000), fail_rate=st.sampled_from([0.0, 0.3]))
def test_a_site_or_year_with_1_to_7_patients_is_shown_as_one_with_none(k, seed, fail_rate):
    """A site and a year of their own with 1-7 patients: every controlled output by site and by year is the same as
    without them. A group has a row only because a patient is there, so a row of 0s would tell 0 from 1-7."""
    others = random_patients(200, seed=seed).assign(patient_id=lambda f: "o" + f["patient_id"])
    small = random_patients(k, seed=seed + 1, fail_rate=fail_rate)
    small = small.assign(patient_id="s" + small["patient_id"], site_id=SITE, screening_date="2011-06-01")
    alone = _grouped_outputs(others)
    with_small = _grouped_outputs(pd.concat([others, small], ignore_index=True))
    for name, table in alone.items():
        if isinstance(table, pd.DataFrame):
            pd.testing.assert_frame_equal(with_small[name], table, check_exact=True, obj=name)
        else:
            assert with_small[name] == table, name
