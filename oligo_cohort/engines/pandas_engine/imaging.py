"""Reference studies, lesion progression and the oligoprogression rule (criteria.md "Derived: candidate events").

Progression is three-valued (D14): pandas' nullable boolean arrays give Kleene
AND/OR, so TRUE = progressive, NA = undetermined. Sizes and SUVs are integer
thousandths, so "≥ 20 % larger" is decided exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from oligo_cohort.engines.pandas_engine.inputs import Inputs

PET = "FDG-PET-CT"
LOCAL_LOCATIONS = ("primary", "locoregional_node")


NO_STUDY = -1  # `ref_study` of a unit without a reference study


def choose_references(units: pd.DataFrame, imaging: pd.DataFrame, before_days: int, after_days: int) -> pd.DataFrame:
    """The reference study of each unit (columns pid, modality, line_start).

    Among the patient's studies in [line start - before, line start + after]:
    the latest of the unit's modality, else the latest of any modality (same
    day: smallest study_id, D11). Returns, aligned with `units`: ref_study
    (NO_STUDY when none), ref_is_pet, window_has_study, window_has_modality.
    """
    windows = units[["pid", "line_start"]].drop_duplicates()
    studies = windows.merge(imaging[["pid", "study", "study_date", "modality", "study_key"]], on="pid")
    in_window = (studies["study_date"] >= studies["line_start"] - before_days) & (
        studies["study_date"] <= studies["line_start"] + after_days
    )
    studies = studies[in_window].sort_values(
        ["pid", "line_start", "study_date", "study_key"], ascending=[True, True, False, True], kind="stable"
    )
    latest_any = studies.drop_duplicates(["pid", "line_start"])[["pid", "line_start", "study"]]
    latest_same = studies.drop_duplicates(["pid", "line_start", "modality"])[["pid", "line_start", "modality", "study"]]
    keyed = units[["pid", "line_start", "modality"]]
    same = keyed.merge(latest_same, on=["pid", "line_start", "modality"], how="left")["study"]
    any_modality = keyed.merge(latest_any, on=["pid", "line_start"], how="left")["study"]
    same = same.to_numpy(dtype=np.float64, na_value=np.nan)
    any_modality = any_modality.to_numpy(dtype=np.float64, na_value=np.nan)
    chosen = np.where(np.isnan(same), any_modality, same)
    ref_study = np.where(np.isnan(chosen), NO_STUDY, chosen).astype(np.int64)
    is_pet = np.append((imaging["modality"] == PET).to_numpy(dtype=bool), False)  # position -1: no study
    return pd.DataFrame(
        {
            "ref_study": ref_study,
            "ref_is_pet": is_pet[ref_study],
            "window_has_study": ~np.isnan(any_modality),
            "window_has_modality": ~np.isnan(same),
        },
        index=units.index,
    )


def line_start_reference_lesions(units: pd.DataFrame, lesions: pd.DataFrame) -> pd.DataFrame:
    """Reference measurements per unit from its reference study: unit, lesion, ref_size, ref_suv, ref_is_pet."""
    with_ref = units.loc[units["ref_study"] != NO_STUDY, ["unit", "ref_study", "ref_is_pet"]]
    rows = with_ref.merge(
        lesions[["study", "lesion", "size_milli", "suv_milli"]], left_on="ref_study", right_on="study"
    )
    return rows.rename(columns={"size_milli": "ref_size", "suv_milli": "ref_suv"})[
        ["unit", "lesion", "ref_size", "ref_suv", "ref_is_pet"]
    ]


def nadir_reference_lesions(
    units: pd.DataFrame, imaging: pd.DataFrame, lesions: pd.DataFrame, before_days: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """D15: per lesion the smallest size (and SUV) over studies of S's modality in [window start, S).

    Returns the reference lesions of the units that have such a study, and a
    mask (aligned with `units`) of those units; the others keep the line-start reference.
    """
    window = units[["unit", "pid", "modality", "line_start", "day"]].merge(
        imaging[["pid", "study", "study_date", "modality"]], on=["pid", "modality"]
    )
    window = window[
        (window["study_date"] >= window["line_start"] - before_days) & (window["study_date"] < window["day"])
    ]
    window = window.assign(ref_is_pet=(window["modality"] == PET).to_numpy(dtype=bool))
    rows = window[["unit", "study", "ref_is_pet"]].merge(
        lesions[["study", "lesion", "size_milli", "suv_milli"]], on="study"
    )
    nadir = rows.groupby(["unit", "lesion"], sort=False).agg(
        ref_size=("size_milli", "min"), ref_suv=("suv_milli", "min"), ref_is_pet=("ref_is_pet", "first")
    )
    has_nadir = units["unit"].isin(window["unit"]).to_numpy()
    return nadir.reset_index(), has_nadir


def lesion_progression(
    pairs: pd.DataFrame, lesions: pd.DataFrame, reference: pd.DataFrame, has_reference: np.ndarray, inputs: Inputs
) -> pd.DataFrame:
    """Every lesion on each compared study X, with `progressive` TRUE / FALSE / NA (undetermined).

    pairs: unit, x_study, x_is_pet. reference: unit, lesion, ref_size, ref_suv,
    ref_is_pet. has_reference: bool per unit id (units are numbered 0..n-1).
    """
    p = inputs.p
    columns = ["study", "lesion", "location", "organ", "size_milli", "suv_milli"]
    rows = pairs.merge(lesions[columns], left_on="x_study", right_on="study").drop(columns="study")
    rows = rows.merge(reference, on=["unit", "lesion"], how="left", indicator="on_reference")
    measured = (rows.pop("on_reference") == "both").to_numpy(dtype=bool)
    with_reference = has_reference[rows["unit"].to_numpy()]
    size = rows["size_milli"].astype("Int64").array
    suv = rows["suv_milli"].astype("Int64").array
    grew = size * 100 >= rows["ref_size"].astype("Int64").array * (100 + p.size_increase_pct)
    is_bone = pd.array((rows["organ"] == "bone").to_numpy(dtype=bool), dtype="boolean")
    size_rule = grew & (is_bone | (size > p.size_floor_mm * 1000))
    suv_grew = suv * 100 >= rows["ref_suv"].astype("Int64").array * (100 + p.suv_increase_pct)
    both_pet = rows["x_is_pet"].to_numpy(dtype=bool) & rows["ref_is_pet"].fillna(False).to_numpy(dtype=bool)
    suv_rule = suv_grew.copy()
    suv_rule[~both_pet] = False  # D14: no SUV rule unless both studies are FDG-PET-CT
    progressive = pd.array(~measured, dtype="boolean") | size_rule | suv_rule
    progressive[~with_reference] = pd.NA  # no reference study: every lesion undetermined
    rows["new"] = ~measured & with_reference
    rows["progressive"] = progressive
    return rows


def oligoprogression(progression: pd.DataFrame, pairs: pd.DataFrame, inputs: Inputs) -> pd.DataFrame:
    """The oligoprogression rule per pair, resolved over every way the undetermined lesions could turn out.

    Pass only if every resolution passes, fail only if every one fails, else
    unknown; both are decided in closed form from counts of progressive (T) and
    undetermined (U) lesions, split into distant and local, and their organs.
    Returns pairs with columns t_distant, t_local, u_distant, u_local, organs_t,
    organs_all and outcome.
    """
    p = inputs.p
    state = progression["progressive"]
    is_t = state.fillna(False).to_numpy(dtype=bool)
    is_u = state.isna().to_numpy()
    local = progression["location"].isin(LOCAL_LOCATIONS).to_numpy()
    distant = (progression["location"] == "distant").to_numpy()
    keys = ["unit", "x_study"]
    counts = progression[keys].assign(
        t_distant=is_t & distant, t_local=is_t & local, u_distant=is_u & distant, u_local=is_u & local
    )
    counts = counts.groupby(keys, sort=False).sum()

    def organ_count(mask: np.ndarray) -> pd.Series:
        organs = progression.loc[mask, [*keys, "organ"]].drop_duplicates()
        return organs.groupby(keys, sort=False).size()

    counts["organs_t"] = organ_count(is_t & distant)
    counts["organs_all"] = organ_count((is_t | is_u) & distant)
    out = pairs.merge(counts.reset_index(), on=keys, how="left")
    names = ["t_distant", "t_local", "u_distant", "u_local", "organs_t", "organs_all"]
    out[names] = out[names].fillna(0).astype(np.int64)
    out["outcome"] = rule_outcome(
        *(out[n].to_numpy() for n in names),
        max_lesions=p.max_progressive_distant_lesions,
        max_organs=p.max_progressive_organs,
    )
    return out


def rule_outcome(
    t_distant: np.ndarray,
    t_local: np.ndarray,
    u_distant: np.ndarray,
    u_local: np.ndarray,
    organs_t: np.ndarray,
    organs_all: np.ndarray,
    *,
    max_lesions: int,
    max_organs: int,
) -> np.ndarray:
    """pass / fail / unknown from the counts (see `oligoprogression`)."""
    # A passing set is all local (no distant), or 1..max distant lesions in at most max_organs organs.
    # The smallest choice of undetermined lesions is the best chance to pass.
    only_local = (t_distant == 0) & (t_local + u_local >= 1)
    distant_from_progressive = (t_distant >= 1) & (t_distant <= max_lesions) & (organs_t <= max_organs)
    distant_from_undetermined = (t_distant == 0) & (u_distant >= 1) & (max_lesions >= 1) & (max_organs >= 1)
    can_pass = only_local | ((t_local == 0) & (distant_from_progressive | distant_from_undetermined))
    # A failing set is empty, mixes distant with local, or has too many distant lesions or organs;
    # taking every undetermined lesion is the best chance to fail.
    nothing = (t_distant + t_local) == 0
    mixed = (t_local + u_local >= 1) & (t_distant + u_distant >= 1)
    too_many = (t_local == 0) & ((t_distant + u_distant > max_lesions) | (organs_all > max_organs))
    can_fail = nothing | mixed | too_many
    return np.select([can_pass & ~can_fail, can_fail & ~can_pass], ["pass", "fail"], "unknown").astype(object)
