"""Reference studies, lesion progression and the oligoprogression rule (criteria.md "Derived: candidate events").

Progression is three-valued (D14): pandas' nullable boolean arrays give Kleene
AND/OR, so TRUE = progressive, NA = undetermined. Sizes and SUVs are integer
thousandths, so "≥ 20 % larger" is decided exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.engines.pandas_engine.grouped_text import joined_per_key, take_text
from oligo_cohort.engines.pandas_engine.inputs import Inputs

CODES = clinical_codes()
PET = CODES.pet_modality
LOCAL_LOCATIONS = ("primary", "locoregional_node")


NO_STUDY = -1  # `ref_study` of a unit without a reference study
DENSE_KEYS = 50_000_000  # largest key space looked up through a dense table (int32: 200 MB)


def key_lookup(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The row of each wanted key among `keys` (unique non-negative integers), -1 where absent."""
    size = int(max(keys.max(initial=-1), wanted.max(initial=-1))) + 1
    if size <= DENSE_KEYS:
        table = np.full(size, -1, dtype=np.int64 if len(keys) >= 2**31 else np.int32)
        table[keys] = np.arange(len(keys))
        return table[wanted].astype(np.int64)
    return pd.Index(keys).get_indexer(wanted)


def choose_references(units: pd.DataFrame, imaging: pd.DataFrame, before_days: int, after_days: int) -> pd.DataFrame:
    """The reference study of each unit (columns pid, modality, line_start).

    Among the patient's studies in [line start - before, line start + after]:
    the latest of the unit's modality, else the latest of any modality (same
    day: smallest study_id, D11). Returns, aligned with `units`: ref_study
    (NO_STUDY when none), ref_is_pet, and window_modalities: the distinct modalities of the studies in the
    window, sorted and comma-separated (missing when there is none).
    """
    windows = units[["pid", "line_start"]].drop_duplicates()
    studies = windows.merge(imaging[["pid", "study", "study_date", "modality", "study_key"]], on="pid")
    in_window = (studies["study_date"] >= studies["line_start"] - before_days) & (
        studies["study_date"] <= studies["line_start"] + after_days
    )
    studies = studies[in_window].sort_values(
        ["pid", "line_start", "study_date", "study_key"], ascending=[True, True, False, True], kind="stable"
    )
    studies["window"] = studies.groupby(["pid", "line_start"], sort=False).ngroup().to_numpy()
    latest_any = studies.drop_duplicates(["pid", "line_start"])[["pid", "line_start", "study", "window"]]
    latest_same = studies.drop_duplicates(["pid", "line_start", "modality"])[["pid", "line_start", "modality", "study"]]
    modalities = joined_per_key(studies["window"].to_numpy(), studies["modality"], len(latest_any))
    keyed = units[["pid", "line_start", "modality"]]
    same = keyed.merge(latest_same, on=["pid", "line_start", "modality"], how="left")["study"]
    any_window = keyed.merge(latest_any, on=["pid", "line_start"], how="left")
    any_modality = any_window["study"].to_numpy(dtype=np.float64, na_value=np.nan)
    same = same.to_numpy(dtype=np.float64, na_value=np.nan)
    chosen = np.where(np.isnan(same), any_modality, same)
    ref_study = np.where(np.isnan(chosen), NO_STUDY, chosen).astype(np.int64)
    is_pet = np.append((imaging["modality"] == PET).to_numpy(dtype=bool), False)  # position -1: no study
    window = any_window["window"].to_numpy(dtype=np.float64, na_value=np.nan)
    window_modalities = take_text(modalities, np.where(np.isnan(window), -1, window))
    return pd.DataFrame(
        {
            "ref_study": ref_study,
            "ref_is_pet": is_pet[ref_study],
            "window_modalities": pd.arrays.ArrowExtensionArray(window_modalities),
        },
        index=units.index,
    )


def line_start_reference_lesions(units: pd.DataFrame, inputs: Inputs) -> pd.DataFrame:
    """Reference measurements per unit from its reference study: unit, lesion, ref_size, ref_suv, ref_is_pet."""
    with_ref = units.loc[units["ref_study"] != NO_STUDY, ["unit", "ref_study", "ref_is_pet"]]
    owner, rows = inputs.lesions_by_study.join(with_ref["ref_study"].to_numpy())
    lesions = inputs.lesions
    return pd.DataFrame(
        {
            "unit": with_ref["unit"].to_numpy()[owner],
            "lesion": lesions["lesion"].to_numpy()[rows],
            "ref_size": lesions["size_milli"].array.take(rows),
            "ref_suv": lesions["suv_milli"].array.take(rows),
            # One measurement: a missing one is the reference's NA itself.
            "ref_sizes_known": True,
            "ref_suvs_known": True,
            "ref_is_pet": with_ref["ref_is_pet"].to_numpy(dtype=bool)[owner],
        }
    )


def nadir_reference_lesions(
    units: pd.DataFrame, imaging: pd.DataFrame, lesions: pd.DataFrame, before_days: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """D15: per lesion the smallest size (and SUV) over studies of S's modality in [window start, S).

    Returns the reference lesions of the units that have such a study, and a
    mask (aligned with `units`) of those units; the others keep the line-start reference.
    `ref_sizes_known` / `ref_suvs_known`: whether every size (SUV) the smallest is taken over is known, as a
    missing one could have been the smallest (D62).
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
    rows = rows.assign(size_known=rows["size_milli"].notna(), suv_known=rows["suv_milli"].notna())
    nadir = rows.groupby(["unit", "lesion"], sort=False).agg(
        ref_size=("size_milli", "min"),
        ref_suv=("suv_milli", "min"),
        ref_sizes_known=("size_known", "all"),
        ref_suvs_known=("suv_known", "all"),
        ref_is_pet=("ref_is_pet", "first"),
    )
    has_nadir = units["unit"].isin(window["unit"]).to_numpy()
    return nadir.reset_index(), has_nadir


def lesion_progression(
    pairs: pd.DataFrame, reference: pd.DataFrame, has_reference: np.ndarray, inputs: Inputs
) -> pd.DataFrame:
    """Every lesion on each compared study X, with `progressive` TRUE / FALSE / NA (undetermined).

    pairs: unit, x_study, x_is_pet (one row per pair). reference: unit, lesion,
    ref_size, ref_suv, ref_is_pet (one row per unit and lesion). has_reference:
    bool per unit id (units are numbered 0..n-1). `pair` is the row of `pairs`.
    """
    p = inputs.p
    lesions = inputs.lesions
    pair, rows = inputs.lesions_by_study.join(pairs["x_study"].to_numpy())
    unit = pairs["unit"].to_numpy(dtype=np.int64)[pair]
    lesion = lesions["lesion"].to_numpy(dtype=np.int64)[rows]
    # The reference measurement of the same lesion in the same unit: one integer key per (unit, lesion).
    span = int(lesions["lesion"].max()) + 1 if len(lesions) else 1
    ref_keys = reference["unit"].to_numpy(dtype=np.int64) * span + reference["lesion"].to_numpy(dtype=np.int64)
    on_ref = key_lookup(ref_keys, unit * span + lesion)
    measured = on_ref >= 0
    with_reference = has_reference[unit]
    size = lesions["size_milli"].array.take(rows)
    suv = lesions["suv_milli"].array.take(rows)
    ref_size = reference["ref_size"].astype("Int64").array.take(on_ref, allow_fill=True)
    ref_suv = reference["ref_suv"].astype("Int64").array.take(on_ref, allow_fill=True)
    ref_is_pet = np.append(reference["ref_is_pet"].to_numpy(dtype=bool), False)[on_ref]  # -1: not on reference
    organ = lesions["organ"].array.take(rows)
    # "+20 % over the smallest" is "+20 % over some value": where a value the smallest is taken over is missing
    # and the known ones do not decide, the rule is unknown (D62).
    grew = size * 100 >= ref_size * (100 + p.size_increase_pct)
    grew = grew | _false_where_known(reference["ref_sizes_known"], on_ref)
    is_bone = pd.array(np.asarray(organ == CODES.bone_organ, dtype=bool), dtype="boolean")
    size_rule = grew & (is_bone | (size > p.size_floor_mm * 1000))
    suv_grew = suv * 100 >= ref_suv * (100 + p.suv_increase_pct)
    suv_grew = suv_grew | _false_where_known(reference["ref_suvs_known"], on_ref)
    both_pet = pairs["x_is_pet"].to_numpy(dtype=bool)[pair] & ref_is_pet
    suv_rule = suv_grew.copy()
    suv_rule[~both_pet] = False  # D14: no SUV rule unless both studies are FDG-PET-CT
    progressive = pd.array(~measured, dtype="boolean") | size_rule | suv_rule
    progressive[~with_reference] = pd.NA  # no reference study: every lesion undetermined
    return pd.DataFrame(
        {
            "pair": pair,
            "unit": unit,
            "x_study": pairs["x_study"].to_numpy()[pair],
            "lesion": lesion,
            "location": lesions["location"].array.take(rows),
            "organ": organ,
            "new": ~measured & with_reference,
            "progressive": progressive,
        }
    )


def _false_where_known(known: pd.Series, on_ref: np.ndarray) -> pd.arrays.BooleanArray:
    """FALSE where every value of the lesion's reference is known (or it has none), NA where one is missing: OR-ed
    into a comparison with the smallest known value, it leaves a decided TRUE and makes a FALSE unknown."""
    known_at = np.append(known.to_numpy(dtype=bool), True)[on_ref]  # -1: not on the reference
    return pd.array(np.where(known_at, False, None), dtype="boolean")


def oligoprogression(progression: pd.DataFrame, pairs: pd.DataFrame, inputs: Inputs) -> pd.DataFrame:
    """The oligoprogression rule per pair, resolved over every way the undetermined lesions could turn out.

    Pass only if every resolution passes, fail only if every one fails, else
    unknown; both are decided in closed form from counts of progressive (T) and
    undetermined (U) lesions, split into distant and local, and their organs.
    Returns pairs with columns t_distant, t_local, u_distant, u_local, organs_t,
    organs_all and outcome. `progression["pair"]` is the row of `pairs` of each lesion.
    """
    p = inputs.p
    n = len(pairs)
    pair = progression["pair"].to_numpy(dtype=np.int64)
    state = progression["progressive"].array
    is_t = state.fillna(False).to_numpy(dtype=bool)
    is_u = state.isna()
    location = progression["location"]
    local = location.isin(LOCAL_LOCATIONS).to_numpy(dtype=bool)
    distant = (location == CODES.distant_location).to_numpy(dtype=bool)
    out = pairs.reset_index(drop=True).copy()
    for name, mask in (
        ("t_distant", is_t & distant),
        ("t_local", is_t & local),
        ("u_distant", is_u & distant),
        ("u_local", is_u & local),
    ):
        out[name] = np.bincount(pair[mask], minlength=n).astype(np.int64)
    # Distinct organs per pair (a missing organ counts as one organ of its own).
    organ = progression["organ"].array.codes.astype(np.int64) + 1
    span = int(organ.max(initial=0)) + 1

    def organ_count(mask: np.ndarray) -> np.ndarray:
        seen = np.zeros((n, span), dtype=bool)  # organs are few: a pair x organ table, not a sort
        seen[pair[mask], organ[mask]] = True
        return seen.sum(axis=1).astype(np.int64)

    out["organs_t"] = organ_count(is_t & distant)
    out["organs_all"] = organ_count((is_t | is_u) & distant)
    names = ["t_distant", "t_local", "u_distant", "u_local", "organs_t", "organs_all"]
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
