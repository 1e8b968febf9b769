"""The chart review round trip on every engine: export -> answers -> import -> screen gives what the answers imply.

Every exported event is checked: with every answer favourable, an event whose open criteria were all asked
becomes eligible with every criterion passing, and the others keep the criteria no answer could decide; with an
unfavourable answer the event is ineligible, and the reason of the criterion names the answer (the observation
code, or the score or response, with its date). On the demo and on a synthetic extract.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from oligo_cohort.api import screen
from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.engines import CORE_ENGINES, OPTIONAL_ENGINES
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.review.export import export_review, write_review_csv
from oligo_cohort.review.importer import import_answers
from oligo_cohort.review.items import BY_CODE
from oligo_cohort.review.simulate import fill_answers
from oligo_cohort.synth import generate_extract

ENGINE_PARAMS = [
    *CORE_ENGINES,
    *(pytest.param(name, marks=getattr(pytest.mark, extra)) for name, extra in OPTIONAL_ENGINES.items()),
]
NURSE = "M. Bakker"
UNFAVOURABLE = {"yes": "no", "no": "yes", "0": "3", "CR": "PD"}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    return generate_extract(tmp_path_factory.mktemp("synth") / "extract", patients=800, sites=4, seed=7, fmt="csv")


@pytest.fixture(params=["demo", "synthetic"])
def extract(request, synthetic) -> Path:
    return demo_extract_dir() if request.param == "demo" else synthetic


def unfavourable_choice(rows: pd.DataFrame) -> dict[tuple[str, str], str]:
    """One unfavourable answer for every third patient asked, on a different item each time."""
    choice = {}
    for k, (patient_id, items) in enumerate(rows.groupby("patient_id", sort=True)["item"]):
        if k % 3 == 0:
            item = sorted(items)[k // 3 % len(items)]
            choice[(patient_id, item)] = UNFAVOURABLE[BY_CODE[item].favourable[0]]
    return choice


@pytest.mark.parametrize("engine", ENGINE_PARAMS)
def test_the_answers_decide_the_criteria_they_were_asked_for(engine, extract, tmp_path):
    before = screen(extract, engine=engine)
    before.write(tmp_path / "before")
    rows = export_review(tmp_path / "before", tmp_path / "review").rows
    assert len(rows) > 20
    overrides = unfavourable_choice(rows)
    answers = tmp_path / "answers.csv"
    filled = fill_answers(rows, answered_by=NURSE, overrides=overrides)
    write_review_csv(filled, answers)
    answered_on = {(r.patient_id, r.item): str(r.answer_date) for r in filled.itertuples(index=False)}
    import_answers([answers], extract, tmp_path / "reviewed", today=dt.date(2026, 1, 1))
    after = screen(tmp_path / "reviewed", as_of=before.as_of, engine=engine)

    events_before = before.events.set_index(["patient_id", "event_id"])
    events = after.events.set_index(["patient_id", "event_id"])
    reasons = after.reasons.set_index(["patient_id", "criterion"])  # the best event's
    checked = {"eligible": 0, "ineligible": 0, "unknown": 0}
    for (patient_id, event_id), asked in rows.groupby(["patient_id", "event_id"])["item"]:
        row = events.loc[(patient_id, event_id)]
        decided = {BY_CODE[item].criterion for item in asked}
        refused = [item for item in asked if (patient_id, item) in overrides]
        still_open = [c for c in CRITERION_IDS if events_before.loc[(patient_id, event_id), c] in ("unknown", "review")]
        if refused:
            criterion = BY_CODE[refused[0]].criterion
            assert row[criterion] == "fail" and row["status"] == "ineligible", (patient_id, refused)
            if after.patients.set_index("patient_id").loc[patient_id, "event_id"] == event_id:
                said = reasons.loc[(patient_id, criterion)]
                item = refused[0]
                answer = (overrides[(patient_id, item)], answered_on[(patient_id, item)])
                assert _names_the_answer(said["rule"], said["reason"], item, *answer), said["reason"]
        else:
            assert all(row[c] == "pass" for c in decided), (patient_id, {c: row[c] for c in decided})
            expected = "eligible" if set(still_open) <= decided else "unknown"
            assert row["status"] == expected, (patient_id, still_open, decided)
        checked[row["status"]] += 1
    assert checked["eligible"] and checked["ineligible"]
    # Patients not asked about keep their result.
    untouched = ~before.patients["patient_id"].isin(rows["patient_id"])
    compared = ["patient_id", "status", "event_id", *CRITERION_IDS]
    assert before.patients.loc[untouched, compared].equals(after.patients.loc[untouched, compared])


def _names_the_answer(rule: str, reason: str, item: str, answer: str, answer_date: str) -> bool:
    """The reason quotes the record the answer became: an observation of that date, `WHO 3 on ...`, `(PD) ...`."""
    if item == "who_ps":
        return f"WHO {answer} on {answer_date}" in reason
    if item == "response":
        return f"(PD) assessed on {answer_date}" in reason
    recorded = "recorded_true" if answer == "yes" else "recorded_false"
    return rule == recorded and f"(recorded {answer_date})" in reason
