"""The patient's own criteria, as sql/criteria/patient.sql decides them: inc_age_18, inc_who_ps_0_1 and
exc_other_malignancy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from oligo_cohort.engines.pandas_engine.calendar import add_months, full_years
from oligo_cohort.engines.pandas_engine.criteria.context import CODES, Context, record, take_at, true_only
from oligo_cohort.engines.pandas_engine.decisions import Decision, choose_rule
from oligo_cohort.engines.pandas_engine.grouped_text import as_text, take_text


def age_18(c: Context) -> Decision:
    """Full years at R (D3) against the minimum age; no birth date -> unknown."""
    age = full_years(c.birth_date, c.registration_date)
    rule = choose_rule(
        "inc_age_18", [(np.isnan(age), "no_birth_date"), (age >= c.p.min_age_years, "adult")], "under_age"
    )
    return record(c, "inc_age_18", rule, age_years=age)


# Severity of a performance status rule on its date (D18: the worst decides): fail, then unknown, then pass.
PS_SEVERITY = {"poor": 0, "kps_poor": 0, "kps_ambiguous": 1, "good": 2, "kps_good": 2}


def who_ps_0_1(c: Context) -> Decision:
    """Latest performance status in [S - 60 days, R]; of several on that date the worst (D18, D19, D33)."""
    window_start = c.screening_date - c.p.performance_status_window_days
    rows = c.with_records(c.inputs.performance[["pid", "assessment_date", "scale", "score"]])
    rows = rows[
        (rows["assessment_date"] >= window_start[rows["row"].to_numpy()])
        & (rows["assessment_date"] <= rows["registration"])
    ]
    score = rows["score"].to_numpy(dtype=np.int64)
    scale = rows["scale"].astype(str).to_numpy(dtype=object)
    kps = ~np.isin(scale, CODES.who_scales)
    # WHO and ECOG are one 0-5 scale; KPS 80+ maps to ECOG 0-1 and 60- to 2+; in between is ambiguous (D19).
    verdict = np.select(
        [
            ~kps & (score <= CODES.who_highest_passing_score),
            ~kps,
            score >= CODES.karnofsky_lowest_passing_score,
            score <= CODES.karnofsky_highest_failing_score,
        ],
        ["good", "poor", "kps_good", "kps_poor"],
        "kps_ambiguous",
    ).astype(object)
    ranked = pd.DataFrame(
        {
            "row": rows["row"].to_numpy(),
            "date": rows["assessment_date"].to_numpy(dtype=np.float64),
            "severity": pd.Series(verdict).map(PS_SEVERITY).to_numpy(dtype=np.int64),
            "scale": scale,
            "score": score,
            "verdict": verdict,
        }
    )
    latest = ranked.sort_values(
        ["row", "date", "severity", "scale", "score"], ascending=[True, False, True, True, True], kind="stable"
    ).drop_duplicates("row")
    at = latest["row"].to_numpy()
    ps_date = np.full(c.n, np.nan)
    ps_date[at] = latest["date"].to_numpy()
    ps_scale = np.full(c.n, None, dtype=object)
    ps_scale[at] = latest["scale"].to_numpy()
    ps_score = np.full(c.n, np.nan)
    ps_score[at] = latest["score"].to_numpy()
    ps_rule = np.full(c.n, None, dtype=object)
    ps_rule[at] = latest["verdict"].to_numpy()
    found = pd.notna(ps_rule)
    rule = choose_rule(
        "inc_who_ps_0_1",
        [
            *((found & (ps_rule == name), name) for name in ("good", "poor", "kps_good", "kps_poor", "kps_ambiguous")),
            (np.full(c.n, not c.inputs.settings.has_performance_status), "no_performance_table"),
        ],
        "none_in_window",
    )
    return record(
        c, "inc_who_ps_0_1", rule, ps_window_start=window_start, ps_date=ps_date, ps_scale=ps_scale, ps_score=ps_score
    )


# The basal- and squamous-cell carcinoma morphologies, as numbers.
SKIN_CARCINOMA_MORPHOLOGIES = tuple(
    (int(codes.first), int(codes.last)) for codes in (CODES.basal_cell_morphology, CODES.squamous_cell_morphology)
)


YES, NO, MISSING = 1, 0, -1  # three-valued (Kleene) truth as small integers


def _kleene_and(*values: np.ndarray) -> np.ndarray:
    """AND in three-valued logic: NO if any is NO, else MISSING if any is MISSING, else YES."""
    stacked = np.vstack(values)
    return np.where((stacked == NO).any(axis=0), NO, np.where((stacked == MISSING).any(axis=0), MISSING, YES))


def _flag(true: np.ndarray, known: np.ndarray) -> np.ndarray:
    return np.where(known, np.where(true, YES, NO), MISSING)


# The rules of exc_other_malignancy per tumour, and which tumour is quoted (D48): an excluding one, else an
# undecidable one, else any, by diagnosis date then tumour_id.
EXCLUDING_RULES = ("not_curative", "chemotherapy", "radiotherapy", "treated_recently", "diagnosed_recently")
UNDECIDED_RULES = (
    "skin_morphology_missing",
    "intent_missing",
    "chemotherapy_missing",
    "radiotherapy_missing",
    "last_treatment_missing",
)


def other_malignancy(c: Context) -> Decision:
    """Per other tumour: excluded = other malignancy AND NOT exempt, in Kleene logic (D20, D30, D48)."""
    t = c.inputs.tumours
    is_considered = true_only(t["behaviour"] == CODES.invasive_behaviour) & ~t["topography"].str.startswith(
        CODES.breast_topography
    ).fillna(False).to_numpy(bool)
    others = t.loc[is_considered].drop(columns=["patient_id"])
    exemption_date = add_months(c.registration_date, -12 * c.p.other_malignancy_years)  # D3: clamped at month end
    rows = c.with_records(others)
    rows = rows[rows["diagnosis_date"] <= rows["registration"]].reset_index(drop=True)
    row = rows["row"].to_numpy(dtype=np.int64)

    skin = rows["topography"].str.startswith(CODES.skin_topography).fillna(False).to_numpy(dtype=bool)
    morphology = pd.to_numeric(rows["morphology"], errors="coerce").to_numpy(dtype=np.float64)
    carcinoma = np.zeros(len(rows), dtype=bool)
    for first, last in SKIN_CARCINOMA_MORPHOLOGIES:
        carcinoma |= (morphology >= first) & (morphology <= last)
    # D20: a skin tumour without a morphology may or may not be a BCC/SCC.
    is_other = np.where(~skin, YES, _flag(~carcinoma, ~np.isnan(morphology)))
    intent = rows["treatment_intent"].astype(object)
    curative = _flag(
        (intent == CODES.curative_intent).to_numpy(dtype=bool),
        intent.isin([CODES.curative_intent, *CODES.non_curative_intents]),
    )
    chemotherapy, radiotherapy = rows["chemotherapy"].astype("boolean"), rows["radiotherapy"].astype("boolean")
    without_chemotherapy = _flag(~true_only(chemotherapy), chemotherapy.notna().to_numpy(dtype=bool))
    without_radiotherapy = _flag(~true_only(radiotherapy), radiotherapy.notna().to_numpy(dtype=bool))
    last = rows["last_treatment_date"].to_numpy(dtype=np.float64)
    diagnosed = rows["diagnosis_date"].to_numpy(dtype=np.float64)
    exemption = exemption_date[row]
    # A missing last treatment date is undecidable only when the diagnosis itself lies far enough back.
    treated_long_ago = np.where(
        ~np.isnan(last), np.where(last <= exemption, YES, NO), np.where(diagnosed > exemption, NO, MISSING)
    )
    exempt = _kleene_and(curative, without_chemotherapy, without_radiotherapy, treated_long_ago)
    excluded = _kleene_and(is_other, np.select([exempt == YES, exempt == NO], [NO, YES], MISSING))
    tumour_rule = np.select(
        [
            (excluded == YES) & (curative == NO),
            (excluded == YES) & (without_chemotherapy == NO),
            (excluded == YES) & (without_radiotherapy == NO),
            (excluded == YES) & ~np.isnan(last),
            excluded == YES,
            (excluded == MISSING) & (is_other == MISSING),
            (excluded == MISSING) & (curative == MISSING),
            (excluded == MISSING) & (without_chemotherapy == MISSING),
            (excluded == MISSING) & (without_radiotherapy == MISSING),
            excluded == MISSING,
            is_other == NO,
        ],
        [*EXCLUDING_RULES, *UNDECIDED_RULES, "skin_carcinoma"],
        "exempt",
    ).astype(object)
    preference = np.where(
        np.isin(tumour_rule, EXCLUDING_RULES), 0, np.where(np.isin(tumour_rule, UNDECIDED_RULES), 1, 2)
    )
    ranking = pa.table(
        {
            "row": pa.array(row),
            "preference": pa.array(preference),
            "diagnosed": pa.array(diagnosed),
            "tumour_id": pa.array(rows["tumour_id"].to_numpy(dtype=object), type=pa.string()),
        }
    )
    ranked = pc.sort_indices(
        ranking, sort_keys=[(key, "ascending") for key in ("row", "preference", "diagnosed", "tumour_id")]
    ).to_numpy()
    first = ranked[np.r_[True, row[ranked][1:] != row[ranked][:-1]]] if len(row) else ranked
    at = row[first]

    quoted = np.full(c.n, -1, dtype=np.int64)  # the row of `rows` each unit quotes (-1: no other tumour)
    quoted[at] = first
    rule = choose_rule(
        "exc_other_malignancy",
        [
            (take_at(tumour_rule, quoted, None) == name, name)
            for name in (*EXCLUDING_RULES, *UNDECIDED_RULES, "skin_carcinoma", "exempt")
        ],
        "none",
    )
    return record(
        c,
        "exc_other_malignancy",
        rule,
        exemption_date=exemption_date,
        other_tumour_id=take_text(as_text(rows["tumour_id"]), quoted),
        other_topography=take_text(as_text(rows["topography"]), quoted),
        other_morphology=take_text(as_text(rows["morphology"]), quoted),
        other_diagnosis_date=take_at(diagnosed, quoted),
        other_treatment_intent=take_text(as_text(rows["treatment_intent"]), quoted),
        other_last_treatment_date=take_at(last, quoted),
        other_tumours=np.bincount(row, minlength=c.n),
    )
