"""Screening units: every candidate event, and an `as_of` evaluation for each patient without one.

A unit carries what the criteria read: its patient, S and R, index tumour,
the line active at S, the reference study and the lesion verdicts on S and on
the confirmation PETs (criteria.md "Time", D12, D17, D21).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from oligo_cohort.engines.pandas_engine import imaging as img
from oligo_cohort.engines.pandas_engine import lines as lot
from oligo_cohort.engines.pandas_engine.inputs import Inputs


@dataclass(frozen=True)
class Units:
    """All screening units plus the lesion-level detail the facts quote."""

    units: pd.DataFrame  # one row per unit; `unit` is its integer id
    scan_lesions: pd.DataFrame  # lesions on S with `progressive`, per event unit
    pet_checks: pd.DataFrame  # one row per (event unit, confirmation PET) with the rule's outcome
    pet_lesions: pd.DataFrame  # lesions on those PETs with `progressive`; `pair` is the row of `pet_checks`
    line_table: lot.LineTable


def _attach_line(frame: pd.DataFrame, table: lot.LineTable, grace_days: int) -> pd.DataFrame:
    found = lot.line_of_day(frame["gid"].to_numpy(), frame["day"].to_numpy(), table.lines, grace_days)
    return pd.concat([frame.reset_index(drop=True), found], axis=1)


def build_units(inputs: Inputs) -> Units:
    """Index tumours, lines, active lines, references, events and confirmation PETs for every patient."""
    p = inputs.p
    as_of = inputs.settings.as_of
    breast = lot.breast_tumours(inputs)
    n_breast = len(breast)

    imaging = inputs.imaging[["pid", "study", "study_date", "modality", "study_key"]]
    scans = imaging.rename(columns={"study_date": "day"})
    scans["tumour_pos"] = lot.index_tumour_positions(scans["pid"].to_numpy(), scans["day"].to_numpy(), breast)
    scans["gid"] = lot.group_keys(scans["pid"].to_numpy(), scans["tumour_pos"].to_numpy(), n_breast)

    patients = inputs.patients[["pid"]].copy()
    patients["day"] = as_of
    patients["tumour_pos"] = lot.index_tumour_positions(patients["pid"].to_numpy(), patients["day"].to_numpy(), breast)
    patients["gid"] = lot.group_keys(patients["pid"].to_numpy(), patients["tumour_pos"].to_numpy(), n_breast)

    groups = pd.concat([scans[["gid", "pid", "tumour_pos"]], patients[["gid", "pid", "tumour_pos"]]])
    groups = groups.drop_duplicates("gid")
    episodes = lot.metastatic_episodes(inputs, groups, breast)
    bits = lot.component_bits(inputs, episodes["drug"])
    table = lot.assign_lines(episodes, bits, p.regimen_window_days, p.line_gap_days)

    scans = _attach_line(scans, table, p.line_end_grace_days)
    candidates = scans[scans["active"] & (scans["day"] > scans["line_start"] + p.reference_window_after_days)]
    candidates = candidates.reset_index(drop=True)
    candidates["unit"] = np.arange(len(candidates))
    refs = img.choose_references(candidates, imaging, p.reference_window_before_days, p.reference_window_after_days)
    candidates = pd.concat([candidates, refs], axis=1)

    reference = img.line_start_reference_lesions(candidates, inputs)
    has_reference = (candidates["ref_study"] != img.NO_STUDY).to_numpy()
    if p.reference == "nadir":
        nadir, has_nadir = img.nadir_reference_lesions(
            candidates, imaging, inputs.lesions, p.reference_window_before_days
        )
        nadir_units = candidates.loc[has_nadir, "unit"]
        reference = pd.concat([reference[~reference["unit"].isin(nadir_units)], nadir], ignore_index=True)
        has_reference = has_reference | has_nadir
        candidates["nadir"] = has_nadir
    else:
        candidates["nadir"] = False

    scan_pairs = pd.DataFrame(
        {
            "unit": candidates["unit"].to_numpy(),
            "x_study": candidates["study"].to_numpy(),
            "x_is_pet": (candidates["modality"] == img.PET).to_numpy(dtype=bool),
        }
    )
    scan_lesions = img.lesion_progression(scan_pairs, reference, has_reference, inputs)
    scan_rule = img.oligoprogression(scan_lesions, scan_pairs, inputs)
    # D12: an event has at least one progressive or undetermined lesion on S.
    flagged = (scan_rule[["t_distant", "t_local", "u_distant", "u_local"]].sum(axis=1) > 0).to_numpy()
    events = candidates[flagged].reset_index(drop=True)
    events["oligo"] = scan_rule.loc[flagged, "outcome"].to_numpy()
    scan_lesions = scan_lesions[scan_lesions["unit"].isin(events["unit"])]

    pet_checks, pet_lesions = _pet_checks(events, imaging, inputs, reference, has_reference)

    events["event"] = events["study"]
    events["registration"] = events["day"] + p.registration_days
    no_event = patients[~patients["pid"].isin(events["pid"])]
    no_event = _attach_line(no_event, table, p.line_end_grace_days)
    no_event["unit"] = len(candidates) + np.arange(len(no_event))
    no_event["event"] = img.NO_STUDY
    no_event["study"] = img.NO_STUDY
    no_event["ref_study"] = img.NO_STUDY
    no_event["registration"] = no_event["day"]  # D21: S = R = as_of
    units = pd.concat([events, no_event], ignore_index=True)
    units["is_event"] = (units["event"] != img.NO_STUDY).to_numpy()
    return Units(
        units=units, scan_lesions=scan_lesions, pet_checks=pet_checks, pet_lesions=pet_lesions, line_table=table
    )


def _pet_checks(
    events: pd.DataFrame, imaging: pd.DataFrame, inputs: Inputs, reference: pd.DataFrame, has_reference: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The oligoprogression rule on every FDG-PET-CT in [S + 35, S + 49], against S's reference (D17).

    Returns the checks (unit, x_study, the rule's counts and outcome) and the lesions on their PETs.
    """
    p = inputs.p
    pets = imaging.loc[(imaging["modality"] == img.PET).to_numpy(dtype=bool), ["pid", "study", "study_date"]]
    pairs = events[["unit", "pid", "day"]].merge(pets, on="pid")
    offset = pairs["study_date"] - pairs["day"]
    pairs = pairs[(offset >= p.pet_window_start_days) & (offset <= p.pet_window_end_days)]
    checks = pd.DataFrame(
        {
            "unit": pairs["unit"].to_numpy(),
            "x_study": pairs["study"].to_numpy(),
            "x_is_pet": np.ones(len(pairs), dtype=bool),
        }
    )
    lesions = img.lesion_progression(checks, reference, has_reference, inputs)
    return img.oligoprogression(lesions, checks, inputs), lesions
