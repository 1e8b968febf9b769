"""The files `oligo-cohort attrition` writes, recounted independently from the screen folder's patients.csv and
events.csv: per step, per criterion, per status, per site and per year, at patient and at event level.

The recount walks the units row by row in the order the table gives, with nothing from oligo_cohort.attrition: a
patient without a candidate event (empty event_id) leaves at step 1 and counts in no criterion (A14); a unit
leaves at its first fail; `remaining_if_unknown_fail` keeps those whose criteria so far all pass or await review.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oligo_cohort.api import screen
from oligo_cohort.cli import main
from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.paths import demo_extract_dir
from tests.attrition.test_attrition_fixtures import random_patients, write_screen_dir


@pytest.fixture(scope="module", params=["demo", "generated"])
def screen_folder(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param) / "screen"
    if request.param == "demo":
        screen(demo_extract_dir()).write(folder)
    else:
        patients = random_patients(300, seed=5, fail_rate=0.04, unknown_rate=0.08)
        patients.loc[patients.index % 9 == 0, "screening_date"] = None  # no candidate event
        write_screen_dir(folder, patients)
    return folder


def recount(units: pd.DataFrame, steps: list[str], *, root: bool) -> pd.DataFrame:
    """remaining, excluded, remaining_if_unknown_fail, unknown, to_review per step, unit by unit."""
    rows = [{"remaining": len(units), "excluded": 0, "remaining_if_unknown_fail": len(units), "unknown": 0,
             "to_review": 0}]  # fmt: skip
    alive = [True] * len(units)
    known = [True] * len(units)
    records = units.to_dict("records")
    if root:
        alive = [bool(str(r["event_id"]).strip()) for r in records]
        known = list(alive)
        rows.append({"remaining": sum(alive), "excluded": len(units) - sum(alive),
                     "remaining_if_unknown_fail": sum(known), "unknown": 0, "to_review": 0})  # fmt: skip
    for criterion in steps:
        unknown = sum(a and r[criterion] == "unknown" for a, r in zip(alive, records, strict=True))
        review = sum(a and r[criterion] == "review" for a, r in zip(alive, records, strict=True))
        before = sum(alive)
        alive = [a and r[criterion] != "fail" for a, r in zip(alive, records, strict=True)]
        known = [k and r[criterion] in ("pass", "review") for k, r in zip(known, records, strict=True)]
        rows.append({"remaining": sum(alive), "excluded": before - sum(alive), "remaining_if_unknown_fail": sum(known),
                     "unknown": unknown, "to_review": review})  # fmt: skip
    return pd.DataFrame(rows)


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"site_id": str, "year": str}, keep_default_na=False)


@pytest.mark.parametrize("level", ["patients", "events"])
@pytest.mark.parametrize("by", ["site", "year"])
def test_every_count_of_the_attrition_files_equals_a_recount_of_the_screen_csvs(screen_folder, tmp_path, level, by):
    out = tmp_path / "attrition"
    arguments = ["attrition", str(screen_folder), "--out", str(out), "--level", level, "--by", by]
    assert main([*arguments, "--no-disclosure-control", "--no-figures", "-q"]) == 0
    units = pd.read_csv(screen_folder / f"{level}.csv", dtype=str, keep_default_na=False)
    root = level == "patients"
    attrition = read(out / "attrition.csv")
    steps = [c for c in attrition["criterion"] if c and c != "no_candidate_event"]
    assert sorted(steps) == sorted(CRITERION_IDS)
    columns = ["remaining", "excluded", "remaining_if_unknown_fail", "unknown", "to_review"]
    expected = recount(units, steps, root=root)
    pd.testing.assert_frame_equal(attrition[columns].astype(int), expected, check_dtype=False)

    # Statuses: from the outcomes of each unit (patients.csv's own status column at patient level).
    outcomes = units[list(CRITERION_IDS)]
    failed, unknown = (outcomes == "fail").any(axis=1), (outcomes == "unknown").any(axis=1)
    status = pd.Series(np.where(failed, "ineligible", np.where(unknown, "unknown", "eligible")), index=units.index)
    if root:
        assert (status == units["status"]).all()
    got = read(out / "status.csv").iloc[0]
    for name in ("eligible", "unknown", "ineligible"):
        assert int(got[name]) == int((status == name).sum()), name
    assert int(got["total"]) == len(units) == int(attrition["remaining"].iloc[0])

    # Impact: each criterion over the units with a candidate event.
    impact = read(out / "impact.csv").set_index("criterion")
    counted = units[units["event_id"].str.strip() != ""] if root else units
    fails = counted[list(CRITERION_IDS)] == "fail"
    for criterion in CRITERION_IDS:
        row = impact.loc[criterion]
        assert int(row["fail"]) == int(fails[criterion].sum()), criterion
        assert int(row["fail_only"]) == int((fails[criterion] & (fails.sum(axis=1) == 1)).sum()), criterion
        assert int(row["unknown"]) == int((counted[criterion] == "unknown").sum()), criterion
        assert int(row["review"]) == int((counted[criterion] == "review").sum()), criterion
        share = (fails[criterion] / fails.sum(axis=1).where(fails.sum(axis=1) > 0)).fillna(0).sum()
        assert float(row["shapley"]) == pytest.approx(share, abs=1e-3), criterion
    if root:
        assert int(impact.loc["no_candidate_event", "fail"]) == len(units) - len(counted)

    # Breakdown: each group recounted on its own rows; the groups sum to the whole at every step.
    grouped = read(out / f"attrition_by_{by}.csv")
    key = grouped.columns[0]
    labels = units["site_id"] if by == "site" else units["screening_date"].str[:4].replace("", "no event")
    assert sorted(grouped[key].unique()) == sorted(labels.unique())
    for label, rows in units.groupby(labels):
        shown = grouped[grouped[key] == label][columns].astype(int).reset_index(drop=True)
        pd.testing.assert_frame_equal(shown, recount(rows, steps, root=root), check_dtype=False, obj=str(label))
    sums = grouped.groupby("step")[columns].sum().reset_index(drop=True)
    pd.testing.assert_frame_equal(sums.astype(int), attrition[columns].astype(int), check_dtype=False)
