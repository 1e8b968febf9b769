"""The 18 COSMO criteria over screening units, each as criteria.md's "decided as" column says.

Each function returns a frame aligned with the units: `outcome` plus the facts
that decided it (the reasons quote them). Per-unit aggregates are merges and
groupbys over the patient's records, never a loop over patients.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from oligo_cohort.criteria import CRITERION_IDS, OUTCOMES
from oligo_cohort.engines.pandas_engine.calendar import add_months, full_years
from oligo_cohort.engines.pandas_engine.inputs import Inputs
from oligo_cohort.engines.pandas_engine.lines import breast_tumours
from oligo_cohort.engines.pandas_engine.text import join_by_group
from oligo_cohort.engines.pandas_engine.units import Units

HISTOLOGY = ("histology_primary", "histology_metastasis")
NOT_HISTOLOGY = ("cytology", "clinical", "death_certificate")
CONTROL_RESPONSES = ("CR", "PR", "SD")


def _decide(conditions: list[np.ndarray], choices: list[str], default: str) -> pd.Categorical:
    """The outcome of the first matching condition per row (np.select), as a categorical of OUTCOMES."""
    codes = np.select(
        [np.asarray(c, dtype=bool) for c in conditions], [OUTCOMES.index(c) for c in choices], OUTCOMES.index(default)
    )
    return pd.Categorical.from_codes(codes.astype(np.int8), categories=list(OUTCOMES))


def _with_records(units: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """Each unit joined with its patient's records (unit, day = S, registration = R, then the record's columns)."""
    return units[["unit", "pid", "day", "registration"]].merge(records, on="pid")


def _per_unit(values: pd.Series, units: pd.DataFrame, fill: object = np.nan) -> np.ndarray:
    """A groupby-by-unit result aligned with the units (missing units get `fill`)."""
    return values.reindex(units["unit"].to_numpy()).fillna(fill).to_numpy()


def _index_tumours(u: pd.DataFrame, breast: pd.DataFrame) -> pd.DataFrame:
    """The index tumour's row for each unit (all missing when it has none)."""
    return breast.reindex(u["tumour_pos"].to_numpy()).reset_index(drop=True)


def invasive_breast_cancer(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """Index tumour with a histological basis -> pass; none, or a non-histological basis -> fail; else unknown."""
    has = (u["tumour_pos"] >= 0).to_numpy()
    tumour = _index_tumours(u, breast)
    basis = tumour["basis_of_diagnosis"]
    outcome = _decide(
        [~has, basis.isin(HISTOLOGY).to_numpy(), basis.isin(NOT_HISTOLOGY).to_numpy()],
        ["fail", "pass", "fail"],
        "unknown",
    )
    return pd.DataFrame({"outcome": outcome, "tumour_id": tumour["tumour_id"], "basis": basis})


def metastatic(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """M1, or a metastasis date on or before S -> pass; no index tumour, a later date, M0 undated -> fail."""
    has = (u["tumour_pos"] >= 0).to_numpy()
    tumour = _index_tumours(u, breast)
    tnm = tumour["tnm_m"]
    met = tumour["metastasis_date"].to_numpy(dtype=np.float64)
    s = u["day"].to_numpy()
    m1 = has & (tnm == "M1").to_numpy()
    outcome = _decide(
        [m1 | (met <= s), ~has, met > s, (tnm == "M0").to_numpy() & np.isnan(met)],
        ["pass", "fail", "fail", "fail"],
        "unknown",
    )
    return pd.DataFrame({"outcome": outcome, "tnm_m": tnm, "metastasis_date": met})


def oligoprogression(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """The rule's verdict on S (decided in `imaging`); a patient without an event fails."""
    event = u["is_event"].to_numpy(dtype=bool)
    oligo = u["oligo"].to_numpy(dtype=object)
    return pd.DataFrame(
        {"outcome": _decide([~event, oligo == "pass", oligo == "fail"], ["fail", "pass", "fail"], "unknown")}
    )


def therapy_class(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """The active line holds a drug of a treatment class -> pass; no active line -> fail; else unknown."""
    active = u["active"].to_numpy(dtype=bool)
    known = u["line_has_known_drug"].to_numpy(dtype=bool)
    return pd.DataFrame({"outcome": _decide([~active, known], ["fail", "pass"], "unknown")})


def line_1_or_2(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """Active line number within the allowed lines -> pass; a later line or none -> fail."""
    number = u["line_number"].to_numpy(dtype=np.float64)
    allowed = (number >= 1) & (number <= inputs.p.max_line_number)
    return pd.DataFrame({"outcome": _decide([allowed], ["pass"], "fail")})


def disease_control_6m(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """Under 6 months on the line, or PD during it -> fail; else CR/PR/SD during it -> pass; else unknown."""
    active = u["active"].to_numpy(dtype=bool)
    start = u["line_start"].to_numpy(dtype=np.float64)
    s = u["day"].to_numpy(dtype=np.float64)
    enough = add_months(start, inputs.p.min_months_on_line)
    rows = _with_records(u[active], inputs.responses[["pid", "assessment_date", "response"]])
    rows = rows.merge(u[["unit", "line_start"]], on="unit")
    rows = rows[(rows["assessment_date"] > rows["line_start"]) & (rows["assessment_date"] < rows["day"])]
    first_pd = rows[rows["response"] == "PD"].groupby("unit")["assessment_date"].min()
    controlled = rows[rows["response"].isin(CONTROL_RESPONSES)].groupby("unit")["assessment_date"].size()
    first_pd_day = _per_unit(first_pd, u)
    n_controlled = _per_unit(controlled, u, 0).astype(np.int64)
    outcome = _decide(
        [~active, s < enough, ~np.isnan(first_pd_day), n_controlled > 0], ["fail", "fail", "fail", "pass"], "unknown"
    )
    return pd.DataFrame(
        {"outcome": outcome, "six_months": enough, "first_pd": first_pd_day, "n_controlled": n_controlled}
    )


def same_modality(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """Reference of S's modality -> pass; studies in the window but none of it -> fail; none -> unknown."""
    event = u["is_event"].to_numpy(dtype=bool)
    same = u["window_has_modality"].fillna(False).to_numpy(dtype=bool)
    any_study = u["window_has_study"].fillna(False).to_numpy(dtype=bool)
    outcome = _decide([~event, same, any_study], ["fail", "pass", "fail"], "unknown")
    return pd.DataFrame({"outcome": outcome})


def imaging_window(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """Death before the earliest registration day, or (worklist) a window already closed -> fail."""
    p = inputs.p
    event = u["is_event"].to_numpy(dtype=bool)
    s = u["day"].to_numpy(dtype=np.float64)
    death = inputs.patients["death_date"].to_numpy(dtype=np.float64)[u["pid"].to_numpy()]
    died = death < s + p.imaging_window_earliest_days
    closed = inputs.settings.worklist & (inputs.settings.as_of > s + p.imaging_window_latest_days)
    outcome = _decide([~event, died, np.asarray(closed)], ["fail", "fail", "fail"], "pass")
    return pd.DataFrame({"outcome": outcome, "death_date": death, "closed": closed})


def pet_confirmation(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, units: Units) -> pd.DataFrame:
    """A passing confirmation PET -> pass; an undetermined one, or none yet while pending -> unknown."""
    event = u["is_event"].to_numpy(dtype=bool)
    checks = units.pet_checks
    passing = _per_unit(checks["outcome"].eq("pass").groupby(checks["unit"]).any(), u, False)
    unknown = _per_unit(checks["outcome"].eq("unknown").groupby(checks["unit"]).any(), u, False)
    n_pet = _per_unit(checks.groupby("unit").size(), u, 0).astype(np.int64)
    due = inputs.settings.as_of >= u["day"].to_numpy(dtype=np.float64) + inputs.p.pet_window_end_days
    outcome = _decide(
        [~event, passing.astype(bool), unknown.astype(bool), n_pet > 0, due],
        ["fail", "pass", "unknown", "fail", "fail"],
        "unknown",
    )
    return pd.DataFrame({"outcome": outcome, "n_pet": n_pet, "due": due})


# The latest record's answer on or before R (criteria.md; D18, D43).
TRUE, FALSE, BOTH, MISSING, NONE = "true", "false", "both", "missing", "none"


def _latest_answer(u: pd.DataFrame, inputs: Inputs, code: str) -> pd.DataFrame:
    """The latest `code` observation on or before R per unit: its date and answer (true, false, both, missing, none).

    True and false on that date -> both (D18); else a true record -> true; else a record without a value -> missing
    (D43; only tables that bypass the loader can hold one); else false. No record on or before R -> none.
    """
    observations = inputs.observations
    records = observations.loc[observations["code"] == code, ["pid", "start_date", "value"]]
    rows = _with_records(u, records)
    rows = rows[rows["start_date"] <= rows["registration"]]
    rows = rows[rows["start_date"] == rows.groupby("unit")["start_date"].transform("max")]
    value = rows["value"].astype("boolean")
    flags = (
        pd.DataFrame(
            {
                "unit": rows["unit"].to_numpy(),
                "true": value.fillna(False).to_numpy(dtype=bool),
                "false": (~value).fillna(False).to_numpy(dtype=bool),
                "missing": value.isna().to_numpy(dtype=bool),
            }
        )
        .groupby("unit")[["true", "false", "missing"]]
        .any()
    )
    latest = _per_unit(rows.groupby("unit")["start_date"].max(), u)
    any_true = _per_unit(flags["true"], u, False).astype(bool)
    any_false = _per_unit(flags["false"], u, False).astype(bool)
    any_missing = _per_unit(flags["missing"], u, False).astype(bool)
    answer = np.select(
        [np.isnan(latest), any_true & any_false, any_true, any_missing], [NONE, BOTH, TRUE, MISSING], FALSE
    )
    return pd.DataFrame({"answer": answer.astype(object), "date": latest})


def _observation_outcome(u: pd.DataFrame, inputs: Inputs, code: str, *, true_means: str) -> pd.DataFrame:
    """Outcome from the latest `code` observation: true -> `true_means`, false -> the other of pass/fail,
    missing value -> unknown, none or true and false that day -> review."""
    latest = _latest_answer(u, inputs, code)
    answer = latest["answer"].to_numpy(dtype=object)
    false_means = "fail" if true_means == "pass" else "pass"
    outcome = _decide(
        [answer == TRUE, answer == FALSE, answer == MISSING], [true_means, false_means, "unknown"], "review"
    )
    return latest.assign(outcome=outcome)


def lat_amenable(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """Latest `lat_amenable` observation on or before R: true -> pass."""
    return _observation_outcome(u, inputs, "lat_amenable", true_means="pass")


def informed_consent(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """Latest `informed_consent` observation on or before R (D31): true -> pass."""
    return _observation_outcome(u, inputs, "informed_consent", true_means="pass")


def medical_risk(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """Latest `medical_risk` observation on or before R: true (a condition of unusual risk) -> fail."""
    return _observation_outcome(u, inputs, "medical_risk", true_means="fail")


def psychosocial(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """Latest `compliance_risk` observation on or before R: true (compliance hampered) -> fail."""
    return _observation_outcome(u, inputs, "compliance_risk", true_means="fail")


def age_18(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """Full years at R (D3) against the minimum age; no birth date -> unknown."""
    birth = inputs.patients["birth_date"].to_numpy(dtype=np.float64)[u["pid"].to_numpy()]
    age = full_years(birth, u["registration"].to_numpy(dtype=np.float64))
    outcome = _decide([np.isnan(age), age >= inputs.p.min_age_years], ["unknown", "pass"], "fail")
    return pd.DataFrame({"outcome": outcome, "age": age})


PS_PASS, PS_UNKNOWN, PS_FAIL = 0, 1, 2


def who_ps_0_1(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """Latest performance status in [S - 60 days, R]; the worst one on that day (D18)."""
    rows = _with_records(u, inputs.performance[["pid", "assessment_date", "scale", "score"]])
    window_start = rows["day"] - inputs.p.performance_status_window_days
    rows = rows[(rows["assessment_date"] >= window_start) & (rows["assessment_date"] <= rows["registration"])].copy()
    score = rows["score"].to_numpy(dtype=np.int64)
    kps = (rows["scale"] == "KPS").to_numpy(dtype=bool)
    # WHO and ECOG are one 0-5 scale; KPS 80+ maps to ECOG 0-1 and 60- to 2+; in between is ambiguous (D19).
    rows["verdict"] = np.select(
        [~kps & (score <= 1), ~kps, score >= 80, score <= 60], [PS_PASS, PS_FAIL, PS_PASS, PS_FAIL], PS_UNKNOWN
    )
    rows = rows[rows["assessment_date"] == rows.groupby("unit")["assessment_date"].transform("max")]
    # D18: several assessments on the latest day -> the worst.
    worst = rows.sort_values(["unit", "verdict"], ascending=[True, False]).drop_duplicates("unit").set_index("unit")
    verdict = _per_unit(worst["verdict"], u, PS_UNKNOWN).astype(np.int64)
    return pd.DataFrame(
        {
            "outcome": _decide([verdict == PS_PASS, verdict == PS_FAIL], ["pass", "fail"], "unknown"),
            "date": _per_unit(worst["assessment_date"], u),
            "scale": worst["scale"].reindex(u["unit"].to_numpy()).to_numpy(dtype=object),
            "score": _per_unit(worst["score"].astype(np.float64), u),
        }
    )


def more_than_two_lines(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """More metastatic lines started on or before S than allowed -> fail."""
    started = u["lines_started"].to_numpy(dtype=np.int64)
    outcome = _decide([started > inputs.p.max_lines_before_scan], ["fail"], "pass")
    return pd.DataFrame({"outcome": outcome, "lines_started": started})


BCC_MORPHOLOGY = (8090, 8098)
SCC_MORPHOLOGY = (8050, 8084)


def other_malignancy(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """Kleene per tumour: applies = other malignancy AND NOT exempt (D20); any TRUE fails, any NA is unknown."""
    t = inputs.tumours
    others = t[(t["behaviour"] == "3").fillna(False) & ~t["topography"].str.startswith("C50").fillna(False)]
    rows = _with_records(u, others.drop(columns=["patient_id"]))
    rows = rows[rows["diagnosis_date"] <= rows["registration"]].reset_index(drop=True)
    skin = rows["topography"].str.startswith("C44").fillna(False).to_numpy(dtype=bool)
    morphology = pd.to_numeric(rows["morphology"], errors="coerce").astype("Float64").array
    bcc = (morphology >= BCC_MORPHOLOGY[0]) & (morphology <= BCC_MORPHOLOGY[1])
    scc = (morphology >= SCC_MORPHOLOGY[0]) & (morphology <= SCC_MORPHOLOGY[1])
    is_other = ~(pd.array(skin, dtype="boolean") & (bcc | scc))  # D20: skin without morphology -> NA

    intent = rows["treatment_intent"]
    curative = pd.array((intent == "curative").to_numpy(dtype=bool), dtype="boolean")
    curative[(intent.isna() | (intent == "unknown")).to_numpy(dtype=bool)] = pd.NA
    no_chemo = ~rows["chemotherapy"].astype("boolean").array
    no_rt = ~rows["radiotherapy"].astype("boolean").array
    cutoff = add_months(rows["registration"].to_numpy(dtype=np.float64), -12 * inputs.p.other_malignancy_years)
    last = rows["last_treatment_date"].to_numpy(dtype=np.float64)
    long_ago = pd.array(last <= cutoff, dtype="boolean")
    # A missing last treatment date is undecidable only when the diagnosis itself is old enough;
    # a diagnosis within the period cannot have been treated before it.
    long_ago[np.isnan(last) & (rows["diagnosis_date"].to_numpy(dtype=np.float64) <= cutoff)] = pd.NA
    exempt = curative & no_chemo & no_rt & long_ago
    applies = is_other & ~exempt
    rows["applies"] = applies.fillna(False).to_numpy(dtype=bool)
    rows["undecided"] = applies.isna()
    failing = join_by_group(rows.loc[rows["applies"], "unit"], rows.loc[rows["applies"], "tumour_id"])
    undecided = join_by_group(rows.loc[rows["undecided"], "unit"], rows.loc[rows["undecided"], "tumour_id"])
    failing_ids = failing.reindex(u["unit"].to_numpy()).to_numpy(dtype=object)
    undecided_ids = undecided.reindex(u["unit"].to_numpy()).to_numpy(dtype=object)
    n_considered = _per_unit(rows.groupby("unit").size(), u, 0).astype(np.int64)
    outcome = _decide([pd.notna(failing_ids), pd.notna(undecided_ids)], ["fail", "unknown"], "pass")
    return pd.DataFrame(
        {"outcome": outcome, "failing": failing_ids, "undecided": undecided_ids, "n_considered": n_considered}
    )


PREGNANCY_CODES = ("pregnant", "breastfeeding")


def pregnancy(u: pd.DataFrame, inputs: Inputs, breast: pd.DataFrame, _: Units) -> pd.DataFrame:
    """A true pregnancy/breastfeeding observation current between S and R -> fail; no table -> review."""
    observations = inputs.observations
    records = observations.loc[
        observations["code"].isin(PREGNANCY_CODES) & observations["value"].astype("boolean").fillna(False),
        ["pid", "code", "start_date", "end_date"],
    ]
    rows = _with_records(u, records)
    current = (rows["start_date"] <= rows["registration"]) & ~(rows["end_date"] < rows["day"])
    rows = rows[current].sort_values(["unit", "start_date"])
    first = rows.drop_duplicates("unit").set_index("unit")
    code = first["code"].reindex(u["unit"].to_numpy()).to_numpy(dtype=object)
    if not inputs.settings.has_observations:
        outcome = _decide([np.ones(len(u), dtype=bool)], ["review"], "review")
    else:
        outcome = _decide([pd.notna(code)], ["fail"], "pass")
    return pd.DataFrame({"outcome": outcome, "code": code, "start": _per_unit(first["start_date"], u)})


Decider = Callable[[pd.DataFrame, Inputs, pd.DataFrame, Units], pd.DataFrame]

DECIDERS: dict[str, Decider] = {
    "inc_invasive_breast_cancer": invasive_breast_cancer,
    "inc_metastatic": metastatic,
    "inc_oligoprogression": oligoprogression,
    "inc_therapy_class": therapy_class,
    "inc_line_1_or_2": line_1_or_2,
    "inc_disease_control_6m": disease_control_6m,
    "inc_same_modality": same_modality,
    "inc_imaging_window": imaging_window,
    "inc_pet_confirmation": pet_confirmation,
    "inc_lat_amenable": lat_amenable,
    "inc_age_18": age_18,
    "inc_who_ps_0_1": who_ps_0_1,
    "inc_informed_consent": informed_consent,
    "exc_more_than_two_lines": more_than_two_lines,
    "exc_other_malignancy": other_malignancy,
    "exc_pregnancy": pregnancy,
    "exc_medical_risk": medical_risk,
    "exc_psychosocial": psychosocial,
}
assert tuple(DECIDERS) == CRITERION_IDS, "criteria must be decided in protocol order"


def decide_all(units: Units, inputs: Inputs) -> dict[str, pd.DataFrame]:
    """Every criterion's outcome (and deciding facts) per unit, in protocol order."""
    breast = breast_tumours(inputs)
    u = units.units
    return {criterion: decide(u, inputs, breast, units) for criterion, decide in DECIDERS.items()}
