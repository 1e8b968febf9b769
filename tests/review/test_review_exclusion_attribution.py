"""Why a patient left at chart review: the criterion an answer made fail on the scan screened before review.

A `no` (or an unfavourable `yes`) makes the patient's best event fail; another scan can then become the best event
(fewest fail, then fewest unknown, then earliest S), and the patient-level outcomes after review are those of that
other scan. Comparing them with the outcomes before review credited the exclusion to whatever the other scan
fails. These cases are built by hand from the spec's baseline patient (tests/spec/baseline.py), each answer added
as the review import adds it: a dated `observations` row.

- `m`: an earlier scan E1 with three progressing liver lesions (fails only inc_oligoprogression, confirmed by its
  own PET). A medical risk answered `yes` on S makes S fail one criterion too; tied on fails and unknowns, the
  earlier E1 becomes the best event. Excluded at chart review, for exc_medical_risk; best event moved.
- `s`: the baseline alone. Medical risk `yes` on S: S stays the best event. Excluded for exc_medical_risk.
- `u`: an earlier scan E1 failing nothing, with one lesion undetermined (inc_oligoprogression unknown). Medical risk
  `yes` on S: E1 becomes the best event, and the patient goes from eligible to unknown; best event moved.
"""

from __future__ import annotations

import pandas as pd
import pytest

from oligo_cohort.api import screen
from oligo_cohort.review.flow import controlled, flow_figure, review_flow
from tests.spec.baseline import AS_OF, S
from tests.spec.harness import baseline_with, build_case
from tests.spec.tables import concat

EARLIER_SCAN = "study_id | study_date | modality\nE1 | 2023-01-10 | CT\npet-e1 | 2023-02-21 | FDG-PET-CT"
EARLIER_LESIONS = {
    "m": """
        study_id | lesion_id | location | organ | size_mm
        E1       | L1        | distant  | liver | 30
        E1       | L3        | distant  | liver | 30
        E1       | L4        | distant  | liver | 30
        pet-e1   | L1        | distant  | liver | 30
    """,
    "u": """
        study_id | lesion_id | location | organ | size_mm
        E1       | L1        | distant  | liver | 30
        pet-e1   | L1        | distant  | liver | 30
        ref      | L2        | distant  | lung  | 20
        E1       | L2        | distant  | lung  |
    """,
}
ID_COLUMNS = ("patient_id", "tumour_id", "study_id")


def patient(name: str) -> dict[str, pd.DataFrame]:
    """One hand-built patient's tables, every id prefixed with `name/`."""
    if name in EARLIER_LESIONS:
        tables = build_case(
            imaging=baseline_with("imaging", EARLIER_SCAN), lesions=baseline_with("lesions", EARLIER_LESIONS[name])
        ).source()
    else:
        tables = build_case().source()
    prefixed = {}
    for table, frame in tables.items():
        frame = frame.copy()
        for column in ID_COLUMNS:
            if column in frame.columns:
                frame[column] = frame[column].map(lambda v: None if v is None else f"{name}/{v}")
        prefixed[table] = frame
    return prefixed


def extract(names: list[str], *, medical_risk: bool) -> dict[str, pd.DataFrame]:
    """The patients' tables together; with `medical_risk`, each answered `yes` to the medical risk on S."""
    parts = [patient(name) for name in names]
    tables = {table: concat(*(part[table] for part in parts)) for table in parts[0]}
    if medical_risk:
        answers = pd.DataFrame(
            [{"patient_id": f"{name}/p1", "code": "medical_risk", "start_date": S, "value": "true"} for name in names]
        )
        tables["observations"] = concat(tables["observations"], answers)
    return tables


@pytest.fixture(scope="module")
def flow():
    names = ["m", "s", "u"]
    before = screen(extract(names, medical_risk=False), as_of=AS_OF)
    after = screen(extract(names, medical_risk=True), as_of=AS_OF)
    # The cases are what they say: eligible on S before; after, S fails exc_medical_risk, and for m and u the
    # earlier scan E1 is the best event (m: failing inc_oligoprogression; u: unknown on it).
    b = before.patients.set_index("patient_id")
    a = after.patients.set_index("patient_id")
    assert (b["status"] == "eligible").all() and set(b["event_id"]) == {"m/S", "s/S", "u/S"}
    assert a["event_id"].to_dict() == {"m/p1": "m/E1", "s/p1": "s/S", "u/p1": "u/E1"}
    assert a["status"].to_dict() == {"m/p1": "ineligible", "s/p1": "ineligible", "u/p1": "unknown"}
    assert a.at["m/p1", "inc_oligoprogression"] == "fail" and a.at["m/p1", "exc_medical_risk"] == "review"
    return review_flow(before, after, None)


def test_an_exclusion_is_credited_to_what_the_answer_made_fail_on_the_scan_screened_before(flow):
    """Both excluded patients are credited to the medical risk, though m's best event after review fails only
    inc_oligoprogression, a registry criterion no answer touches."""
    exclusions = flow.exclusions.set_index("criterion")
    assert exclusions["patients"].to_dict() == {"exc_medical_risk": 2}
    assert flow.count("review_excluded") == 2


def test_the_exclusions_say_when_the_best_event_moved(flow):
    """Of the two, m's best event moved to its earlier scan; s's did not."""
    assert flow.exclusions.set_index("criterion").at["exc_medical_risk", "best_event_moved"] == 1


def test_the_transitions_say_when_the_best_event_moved(flow):
    """u refused too, yet is unknown after review, on another scan: the transitions say so."""
    t = flow.transitions.set_index(["status_before", "status_after"])
    assert t.loc[("eligible", "ineligible"), ["patients", "best_event_moved"]].tolist() == [2, 1]
    assert t.loc[("eligible", "unknown"), ["patients", "best_event_moved"]].tolist() == [1, 1]
    assert t["best_event_moved"].sum() == 2


def test_a_best_event_that_stays_is_credited_as_before(flow):
    """s alone: the comparison on the same scan is the comparison of the patient-level outcomes."""
    before = screen(extract(["s"], medical_risk=False), as_of=AS_OF)
    after = screen(extract(["s"], medical_risk=True), as_of=AS_OF)
    alone = review_flow(before, after, None)
    assert alone.exclusions[["criterion", "patients", "best_event_moved"]].to_dict("records") == [
        {"criterion": "exc_medical_risk", "patients": 1, "best_event_moved": 0}
    ]


def test_the_moved_counts_are_controlled_and_shown(flow):
    shown = controlled(flow)
    # 2 patients excluded, 1 of them moved: shown as 0, the row is left out (a row of 0 would tell 0 from 1-7).
    assert shown.exclusions.empty and shown.transitions["best_event_moved"].sum() == 0
    assert "best event moved" in flow.text()
    assert "Best event moved" in flow.html()
    texts = [t.get_text() for t in flow_figure(flow).axes[0].texts]
    assert any("best event moved to another scan: 1" in t for t in texts)


def test_a_long_list_of_reasons_pushes_the_boxes_below_it_down(flow):
    """Nine reasons (every criterion an answer can make fail, and more) and the moved line: the box of those
    excluded at review ends above the box of those unknown, whose arrow leaves the spine above the last box."""
    from dataclasses import replace

    from oligo_cohort.criteria import CRITERION_IDS

    many = pd.DataFrame(
        {"criterion": CRITERION_IDS[:9], "label": [f"reason {k}" for k in range(9)], "patients": 5,
         "best_event_moved": 1}
    )  # fmt: skip
    figure = flow_figure(replace(flow, exclusions=many))
    figure.draw_without_rendering()
    texts = [t for t in figure.axes[0].texts if t.get_bbox_patch() is not None]  # not the arrows
    boxes = {t.get_text().split("\n")[0]: t.get_bbox_patch().get_window_extent() for t in texts}
    excluded, unknown = boxes["Excluded at chart review"], boxes["Unknown after chart review"]
    last = boxes["Eligible after chart review"]
    assert excluded.y0 > unknown.y1 and (unknown.y0 + unknown.y1) / 2 > last.y1
    assert excluded.y1 < boxes["Sent to chart review"].y0
