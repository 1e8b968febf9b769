"""The clinical observations, as sql/criteria/observations.sql decides them: inc_lat_amenable,
inc_informed_consent, exc_pregnancy, exc_medical_risk and exc_psychosocial.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from oligo_cohort.criteria import BY_ID
from oligo_cohort.engines.pandas_engine.criteria.context import CODES, Context, record, true_only
from oligo_cohort.engines.pandas_engine.decisions import Decision, choose_rule


def _latest_observation(c: Context, criterion: str, code: str) -> Decision:
    """The latest `code` observation on or before R decides (D18: true and false on that date -> conflicting)."""
    observations = c.inputs.observations
    records = observations.loc[(observations["code"] == code).to_numpy(dtype=bool), ["pid", "start_date", "value"]]
    rows = c.with_records(records)
    rows = rows[rows["start_date"] <= rows["registration"]]
    rows = rows[rows["start_date"] == rows.groupby("row")["start_date"].transform("max")]
    value = rows["value"].astype("boolean")
    answers = (
        pd.DataFrame(
            {
                "row": rows["row"].to_numpy(),
                "yes": true_only(value),
                "no": true_only(~value),
                "missing": value.isna().to_numpy(dtype=bool),
            }
        )
        .groupby("row")[["yes", "no", "missing"]]
        .any()
    )
    latest = rows.groupby("row")["start_date"].max()
    observation_date = np.full(c.n, np.nan)
    observation_date[latest.index.to_numpy()] = latest.to_numpy()
    yes = np.zeros(c.n, dtype=bool)
    no = np.zeros(c.n, dtype=bool)
    missing = np.zeros(c.n, dtype=bool)
    yes[answers.index.to_numpy()] = answers["yes"].to_numpy()
    no[answers.index.to_numpy()] = answers["no"].to_numpy()
    missing[answers.index.to_numpy()] = answers["missing"].to_numpy()
    recorded = ~np.isnan(observation_date)
    has_rule = {rule.name for rule in BY_ID[criterion].rules}
    # Only the exclusions say "recorded without a value" (criteria.md: missing value -> unknown); for the others
    # a latest record without a value leaves the criterion to chart review, as no record does. A true record of
    # that date still decides; a false one cannot outweigh the missing one (D43).
    without_value = "recorded_without_value" if "recorded_without_value" in has_rule else "not_recorded"
    rule = choose_rule(
        criterion,
        [
            (~recorded & ~c.inputs.settings.has_observations, "no_observations_table"),
            (~recorded, "not_recorded"),
            (yes & no, "conflicting"),
            (yes, "recorded_true"),
            (missing, without_value),
        ],
        "recorded_false",
    )
    return record(c, criterion, rule, observation_date=observation_date)


def lat_amenable(c: Context) -> Decision:
    """Latest `lat_amenable` observation on or before R: true -> pass, false -> fail; none -> review."""
    return _latest_observation(c, "inc_lat_amenable", CODES.amenability_observation)


def informed_consent(c: Context) -> Decision:
    """Latest `informed_consent` observation on or before R (D31)."""
    return _latest_observation(c, "inc_informed_consent", CODES.consent_observation)


def medical_risk(c: Context) -> Decision:
    """Latest `medical_risk` observation on or before R: true -> fail, false -> pass, no value -> unknown."""
    return _latest_observation(c, "exc_medical_risk", CODES.medical_risk_observation)


def psychosocial(c: Context) -> Decision:
    """Latest `compliance_risk` observation on or before R: true -> fail, false -> pass, no value -> unknown."""
    return _latest_observation(c, "exc_psychosocial", CODES.compliance_risk_observation)


def pregnancy(c: Context) -> Decision:
    """A true pregnancy/breastfeeding observation current between S and R -> fail; no table -> review (D49)."""
    observations = c.inputs.observations
    is_pregnancy = observations["code"].isin(CODES.pregnancy_observations).to_numpy(dtype=bool) & true_only(
        observations["value"]
    )
    rows = c.with_records(observations.loc[is_pregnancy, ["pid", "code", "start_date", "end_date"]])
    end = rows["end_date"].to_numpy(dtype=np.float64)
    current = (rows["start_date"] <= rows["registration"]).to_numpy(dtype=bool) & ~(end < rows["day"].to_numpy())
    rows = rows[current].assign(
        code=rows.loc[current, "code"].astype(str),
        # D49: the earliest started, then by code, then the one not ended (missing end first), else ending last.
        end_order=-np.where(np.isnan(end[current]), np.inf, end[current]),
    )
    first = rows.sort_values(["row", "start_date", "code", "end_order"], kind="stable").drop_duplicates("row")
    at = first["row"].to_numpy()
    code = np.full(c.n, None, dtype=object)
    code[at] = first["code"].to_numpy(dtype=object)
    start = np.full(c.n, np.nan)
    start[at] = first["start_date"].to_numpy()
    ended = np.full(c.n, np.nan)
    ended[at] = first["end_date"].to_numpy(dtype=np.float64)
    rule = choose_rule(
        "exc_pregnancy",
        [(np.full(c.n, not c.inputs.settings.has_observations), "no_observations_table"), (pd.notna(code), "current")],
        "none_current",
    )
    return record(c, "exc_pregnancy", rule, pregnancy_code=code, pregnancy_start=start, pregnancy_end=ended)
