"""The imaging of the event, as sql/criteria/imaging.sql records them: inc_oligoprogression (decided per study,
as derived/oligoprogression.sql does, in `oligo_cohort.engines.pandas_engine.imaging`), inc_same_modality,
inc_imaging_window and inc_pet_confirmation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from oligo_cohort.engines.pandas_engine import imaging as img
from oligo_cohort.engines.pandas_engine.criteria.context import Context, record
from oligo_cohort.engines.pandas_engine.decisions import Decision, choose_rule

# The confirmation PET quoted: a passing one, else an undecided one, else a failing one.
PET_PREFERENCE = {"pass": 0, "unknown": 1, "fail": 2}


def oligoprogression(c: Context) -> Decision:
    """The rule's verdict on S against its reference (decided in `imaging`); a patient without an event fails."""
    oligo = c.u["oligo"].to_numpy(dtype=object)
    rule = choose_rule(
        "inc_oligoprogression",
        [
            (~c.has_event, "no_candidate_event"),
            (oligo == "pass", "oligoprogressive"),
            (oligo == "fail", "not_oligoprogressive"),
        ],
        "undecided",
    )
    lesions = c.units.scan_lesions
    lists = c.lesion_lists(lesions, c.rows(lesions["unit"]))
    return record(
        c,
        "inc_oligoprogression",
        rule,
        distant_lesions=lists["distant_lesions"],
        local_lesions=lists["local_lesions"],
        undetermined_lesions=lists["undetermined_lesions"],
    )


def same_modality(c: Context) -> Decision:
    """Reference of S's modality -> pass; studies in the window but none of it -> fail; none -> unknown."""
    has_reference = c.ref_study != img.NO_STUDY
    rule = choose_rule(
        "inc_same_modality",
        [
            (~c.has_event, "no_candidate_event"),
            (has_reference & (c.modality_codes(c.ref_study) == c.modality_codes(c.event)), "same_modality"),
            (has_reference, "other_modality"),
        ],
        "no_study_near_line_start",
    )
    return record(c, "inc_same_modality", rule)


def imaging_window(c: Context) -> Decision:
    """Death before the earliest registration day (D22), or (worklist) a window already closed -> fail."""
    p = c.p
    earliest = c.screening_date + p.imaging_window_earliest_days
    latest = c.screening_date + p.imaging_window_latest_days
    closed = c.inputs.settings.worklist & (c.cutoff_date > latest)
    rule = choose_rule(
        "inc_imaging_window",
        [
            (~c.has_event, "no_candidate_event"),
            (c.death_date < earliest, "died_before_registration"),
            (closed, "window_closed"),
        ],
        "window_open",
    )
    return record(c, "inc_imaging_window", rule, earliest_registration=earliest, latest_registration=latest)


def pet_confirmation(c: Context) -> Decision:
    """The best confirmation PET decides (D17, D29); none yet is pending until its window closes."""
    checks = c.units.pet_checks.reset_index(drop=True)
    imaging = c.inputs.imaging
    study = checks["x_study"].to_numpy(dtype=np.int64)
    ranked = pd.DataFrame(
        {
            "pair": np.arange(len(checks)),
            "row": c.rows(checks["unit"]),
            "preference": checks["outcome"].map(PET_PREFERENCE).to_numpy(dtype=np.int64),
            "date": imaging["study_date"].to_numpy(dtype=np.float64)[study],
            "study_key": imaging["study_key"].to_numpy(dtype=np.int64)[study],
        }
    )
    chosen = ranked.sort_values(["row", "preference", "date", "study_key"], kind="stable").drop_duplicates("row")
    rows, pairs = chosen["row"].to_numpy(), chosen["pair"].to_numpy()
    pet_study = np.full(c.n, img.NO_STUDY, dtype=np.int64)
    pet_study[rows] = study[pairs]
    pet_outcome = np.full(c.n, None, dtype=object)
    pet_outcome[rows] = checks["outcome"].to_numpy(dtype=object)[pairs]
    pet_date = c.study_dates(pet_study)

    lesions = c.units.pet_lesions
    is_chosen = np.zeros(len(checks), dtype=bool)
    is_chosen[pairs] = True
    lesions = lesions[is_chosen[lesions["pair"].to_numpy()]]
    lists = c.lesion_lists(lesions, c.rows(lesions["unit"]))

    window_start = c.screening_date + c.p.pet_window_start_days
    window_end = c.screening_date + c.p.pet_window_end_days
    rule = choose_rule(
        "inc_pet_confirmation",
        [
            (~c.has_event, "no_candidate_event"),
            (pet_outcome == "pass", "confirmed"),
            (pet_outcome == "fail", "not_confirmed"),
            (pet_outcome == "unknown", "confirmation_undecided"),
            (c.cutoff_date >= window_end, "no_pet"),
        ],
        "pet_pending",
    )
    return record(
        c,
        "inc_pet_confirmation",
        rule,
        pet_study_id=c.study_ids(pet_study),
        pet_date=pet_date,
        pet_days_after_scan=pet_date - c.screening_date,
        pet_distant_lesions=lists["distant_lesions"],
        pet_local_lesions=lists["local_lesions"],
        pet_undetermined_lesions=lists["undetermined_lesions"],
        pet_window_start=window_start,
        pet_window_end=window_end,
    )
