"""Lines of therapy for metastatic disease (criteria.md "Derived: lines of therapy"; decisions D4-D10).

Lines are computed per (patient, candidate index tumour) group. The line
algorithm is sequential within a group, so it walks the k-th episode of every
group at once: one vectorized step per episode rank, never a loop over patients.
Regimens are bitsets over regimen components (D6), packed in uint64 words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.engines.pandas_engine.calendar import ONGOING
from oligo_cohort.engines.pandas_engine.inputs import Inputs
from oligo_cohort.engines.pandas_engine.joins import asof_backward

TREATMENT_CLASSES = ("endocrine", "targeted", "chemotherapy", "immunotherapy")
NO_TUMOUR = -1  # tumour_pos of the "no index tumour" group (D4)
CODES = clinical_codes()


def breast_tumours(inputs: Inputs) -> pd.DataFrame:
    """Invasive breast tumours (C50.x, behaviour 3), one row each; `tumour_pos` is the row number.

    `onset` is the first day metastatic disease is documented: the metastasis
    date, or the diagnosis date of an M1 tumour (metastatic at diagnosis),
    whichever is earlier (criteria.md, metastatic episodes).
    """
    t = inputs.tumours
    is_breast = t["topography"].str.startswith(CODES.breast_topography).fillna(False)
    breast = t[is_breast & (t["behaviour"] == CODES.invasive_behaviour).fillna(False)]
    breast = breast.reset_index(drop=True)
    is_m1 = (breast["tnm_m"] == CODES.metastatic_at_diagnosis).fillna(False).to_numpy(dtype=bool)
    metastasis = breast["metastasis_date"].to_numpy(dtype=np.float64)
    at_diagnosis = np.where(is_m1, breast["diagnosis_date"].to_numpy(dtype=np.float64), np.nan)
    breast["onset"] = np.fmin(metastasis, at_diagnosis)  # fmin ignores a missing one
    breast["tumour_pos"] = np.arange(len(breast))
    return breast


def index_tumour_positions(pid: np.ndarray, day: np.ndarray, breast: pd.DataFrame) -> np.ndarray:
    """For each (patient, day): the latest breast tumour diagnosed on or before it (ties: smallest tumour_id)."""
    right = breast[["pid", "diagnosis_date", "tumour_id", "tumour_pos"]].sort_values(
        ["diagnosis_date", "tumour_id"], ascending=[True, False], kind="stable"
    )
    # The last of equal keys wins, so sorting tumour_id descending picks the smallest on a tie.
    found = asof_backward(pid, day, right["pid"].to_numpy(), right["diagnosis_date"].to_numpy(dtype=np.float64))
    positions = np.append(right["tumour_pos"].to_numpy(dtype=np.int64), NO_TUMOUR)  # found = -1: the last one
    return positions[found]


def group_keys(pid: np.ndarray, tumour_pos: np.ndarray, n_breast: int) -> np.ndarray:
    """One integer per (patient, index tumour) group (tumour_pos -1 = no index tumour)."""
    return pid.astype(np.int64) * (n_breast + 1) + (tumour_pos.astype(np.int64) + 1)


@dataclass(frozen=True)
class ComponentBits:
    """Regimen components of each drug (D6) as packed bitsets; drugs missing from the vocabulary are their own."""

    drug_codes: pd.Index  # drug name -> row of `bits`
    bits: np.ndarray  # (drugs, words) uint64
    known: np.ndarray  # drug is in the vocabulary with a treatment class


def component_bits(inputs: Inputs, drugs: pd.Series) -> ComponentBits:
    """Bitsets for every vocabulary drug and every unknown drug name in `drugs`."""
    vocab_drugs = inputs.vocabulary["drug"]
    unknown = pd.Index(drugs.unique()).difference(pd.Index(vocab_drugs))
    pairs = pd.concat(
        [
            inputs.components[["drug", "component"]],
            pd.DataFrame({"drug": unknown.to_numpy(), "component": unknown.to_numpy()}),
        ],
        ignore_index=True,
    )
    names = pd.Index(pd.concat([vocab_drugs, pd.Series(unknown.to_numpy())], ignore_index=True).unique())
    comp_codes, _ = pd.factorize(pairs["component"])
    words = max(1, (int(comp_codes.max(initial=-1)) + 64) // 64)
    bits = np.zeros((len(names), words), dtype=np.uint64)
    rows = names.get_indexer(pairs["drug"])
    np.bitwise_or.at(bits, (rows, comp_codes // 64), np.left_shift(np.uint64(1), (comp_codes % 64).astype(np.uint64)))
    classes = inputs.vocabulary.set_index("drug")["drug_class"].reindex(names)
    known = classes.isin(TREATMENT_CLASSES).to_numpy(dtype=bool)
    return ComponentBits(drug_codes=names, bits=bits, known=known)


def metastatic_episodes(inputs: Inputs, groups: pd.DataFrame, breast: pd.DataFrame) -> pd.DataFrame:
    """Episodes counted as metastatic treatment in each group, supportive drugs left out, in D5 order.

    groups: gid, pid, tumour_pos. With an index tumour an episode counts when its
    setting is metastatic, or missing/unknown and it starts on or after the
    tumour's onset (none: D10); without one only `setting = metastatic` counts.
    """
    classes = inputs.vocabulary.set_index("drug")["drug_class"]
    therapy = inputs.therapy
    supportive = therapy["drug"].map(classes).eq(CODES.supportive_drug_class).fillna(False).to_numpy(dtype=bool)
    therapy = therapy.loc[~supportive, ["pid", "drug", "start_date", "end_date", "setting"]]
    merged = groups[["gid", "pid", "tumour_pos"]].merge(therapy, on="pid", how="inner")
    # A trailing NaN makes position -1 (no index tumour) read as "no onset".
    onset = np.append(breast["onset"].to_numpy(dtype=np.float64), np.nan)
    group_onset = onset[merged["tumour_pos"].to_numpy()]
    setting = merged["setting"]
    stated = setting.eq(CODES.metastatic_setting).fillna(False).to_numpy(dtype=bool)
    unstated = (setting.isna() | setting.eq("unknown").fillna(False)).to_numpy(dtype=bool)
    inferred = unstated & (merged["start_date"].to_numpy(dtype=np.float64) >= group_onset)  # NaN onset: False
    episodes = merged.loc[stated | inferred, ["gid", "pid", "drug", "start_date", "end_date"]].copy()
    episodes["end_eff"] = episodes["end_date"].fillna(ONGOING)
    # D5: start date, then drug name, then end date (ongoing last); input row order never matters.
    episodes = episodes.sort_values(["gid", "start_date", "drug", "end_eff"], kind="stable").reset_index(drop=True)
    return episodes


@dataclass(frozen=True)
class LineTable:
    """Lines (one row per line) and which episodes belong to each (carried ones included)."""

    lines: pd.DataFrame  # line_id, gid, line_number, start, end (NaN = open), has_known_drug
    members: pd.DataFrame  # line_id, episode (row of `episodes`), carried
    episodes: pd.DataFrame


def assign_lines(
    episodes: pd.DataFrame, bits: ComponentBits, regimen_window_days: int, line_gap_days: int
) -> LineTable:
    """Run the line algorithm over every group at once, one step per episode rank (D6-D9)."""
    n = len(episodes)
    gid_codes, gid_values = pd.factorize(episodes["gid"], sort=False)
    n_groups = len(gid_values)
    start = episodes["start_date"].to_numpy(dtype=np.float64)
    end = episodes["end_eff"].to_numpy(dtype=np.float64)
    drug_rows = bits.drug_codes.get_indexer(episodes["drug"])
    ep_bits = bits.bits[drug_rows]
    ep_known = bits.known[drug_rows]
    counts = np.bincount(gid_codes, minlength=n_groups)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    rank = np.arange(n) - offsets[gid_codes]

    words = bits.bits.shape[1]
    regimen = np.zeros((n_groups, words), dtype=np.uint64)
    line_start = np.full(n_groups, np.nan)
    max_end = np.full(n_groups, -np.inf)
    has_known = np.zeros(n_groups, dtype=bool)
    current = np.full(n_groups, -1, dtype=np.int64)
    number = np.zeros(n_groups, dtype=np.int64)

    line_gid = np.zeros(n, dtype=np.int64)
    line_number = np.zeros(n, dtype=np.int64)
    line_first = np.zeros(n, dtype=np.float64)
    line_max_end = np.zeros(n, dtype=np.float64)
    line_known = np.zeros(n, dtype=bool)
    next_line = 0
    member_line: list[np.ndarray] = []
    member_episode: list[np.ndarray] = []
    member_carried: list[np.ndarray] = []

    for r in range(int(counts.max(initial=0))):
        g = np.nonzero(counts > r)[0]
        ep = offsets[g] + r
        s = start[ep]
        if r == 0:
            new = np.ones(len(g), dtype=bool)
        else:
            in_window = s <= line_start[g] + regimen_window_days
            within_regimen = ((ep_bits[ep] & ~regimen[g]) == 0).all(axis=1)
            within_gap = s <= max_end[g] + line_gap_days
            new = ~(in_window | (within_regimen & within_gap))

        join_g, join_ep = g[~new], ep[~new]
        regimen[join_g] |= ep_bits[join_ep]
        max_end[join_g] = np.maximum(max_end[join_g], end[join_ep])
        has_known[join_g] |= ep_known[join_ep]

        new_g, new_ep = g[new], ep[new]
        ids = next_line + np.arange(len(new_g))
        next_line += len(new_g)
        number[new_g] += 1
        current[new_g] = ids
        line_gid[ids] = new_g
        line_number[ids] = number[new_g]
        line_first[ids] = start[new_ep]
        line_start[new_g] = start[new_ep]
        regimen[new_g] = ep_bits[new_ep]
        max_end[new_g] = end[new_ep]
        has_known[new_g] = ep_known[new_ep]
        if r > 0 and len(new_g):
            # D8: earlier episodes still running on the new line's start day carry into it.
            day_of_group = np.full(n_groups, np.nan)
            day_of_group[new_g] = start[new_ep]
            carried = np.nonzero((rank < r) & (end >= day_of_group[gid_codes]))[0]  # NaN day: False
            cg = gid_codes[carried]
            np.bitwise_or.at(regimen, cg, ep_bits[carried])
            np.maximum.at(max_end, cg, end[carried])
            np.logical_or.at(has_known, cg, ep_known[carried])
            member_line.append(current[cg])
            member_episode.append(carried)
            member_carried.append(np.ones(len(carried), dtype=bool))

        member_line.append(current[g])
        member_episode.append(ep)
        member_carried.append(np.zeros(len(g), dtype=bool))
        line_max_end[current[g]] = max_end[g]
        line_known[current[g]] = has_known[g]

    lines = pd.DataFrame(
        {
            "line_id": np.arange(next_line),
            "gid": gid_values[line_gid[:next_line]] if next_line else np.zeros(0, dtype=np.int64),
            "line_number": line_number[:next_line],
            "start": line_first[:next_line],
            "max_end": line_max_end[:next_line],
            "has_known_drug": line_known[:next_line],
        }
    ).sort_values(["gid", "line_number"], kind="stable")
    next_start = lines.groupby("gid", sort=False)["start"].shift(-1).fillna(ONGOING).to_numpy(dtype=np.float64)
    # D9: the line ends at its last episode's end or the next line's start, whichever is first; open = NaN.
    line_end = np.minimum(lines["max_end"].to_numpy(dtype=np.float64), next_start)
    lines["end"] = np.where(np.isinf(line_end), np.nan, line_end)
    members = pd.DataFrame(
        {
            "line_id": np.concatenate(member_line) if member_line else np.zeros(0, dtype=np.int64),
            "episode": np.concatenate(member_episode) if member_episode else np.zeros(0, dtype=np.int64),
            "carried": np.concatenate(member_carried) if member_carried else np.zeros(0, dtype=bool),
        }
    )
    return LineTable(lines=lines.reset_index(drop=True), members=members, episodes=episodes)


def line_of_day(gid: np.ndarray, day: np.ndarray, lines: pd.DataFrame, grace_days: int) -> pd.DataFrame:
    """For each (group, day): the latest line started on or before the day, and whether it is active then.

    Active = `start <= day <= end + grace` (open lines: any day after the start).
    Lines of a group never share a start day, so the latest started line is the
    only one that can be active. `lines_started` counts lines started by the day.
    """
    day = np.asarray(day, dtype=np.float64)
    found_row = asof_backward(gid, day, lines["gid"].to_numpy(), lines["start"].to_numpy(dtype=np.float64))
    found = lines.reset_index(drop=True).reindex(found_row)  # -1: no line started -> all missing
    found["day"] = day
    number = found["line_number"].to_numpy(dtype=np.float64, na_value=np.nan)
    end = found["end"].to_numpy(dtype=np.float64, na_value=np.nan)
    started = ~np.isnan(number)
    active = started & (np.isnan(end) | (found["day"].to_numpy() <= end + grace_days))
    return pd.DataFrame(
        {
            "lines_started": np.where(started, number, 0).astype(np.int64),
            "active": active,
            "line_id": np.where(active, found["line_id"].to_numpy(dtype=np.float64, na_value=np.nan), np.nan),
            "line_number": np.where(active, number, np.nan),
            "line_start": np.where(active, found["start"].to_numpy(dtype=np.float64, na_value=np.nan), np.nan),
            "line_end": np.where(active, end, np.nan),
            "line_has_known_drug": active & found["has_known_drug"].fillna(False).to_numpy(dtype=bool),
        }
    )
