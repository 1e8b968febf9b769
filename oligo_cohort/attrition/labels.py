"""Wording for tables and figures: what each criterion requires, why a patient was excluded, how a count reads.

The protocol text (oligo_cohort.criteria) is too long for a flow-diagram box;
these phrases are what a feasibility report prints beside the counts.
"""

from __future__ import annotations

import math

import pandas as pd

from oligo_cohort.criteria import BY_ID, CRITERION_IDS, NO_EVENT

# criterion id -> (requirement, exclusion reason)
_WORDING: dict[str, tuple[str, str]] = {
    "inc_invasive_breast_cancer": (
        "Histologically confirmed invasive breast cancer",
        "No histologically confirmed invasive breast cancer",
    ),
    "inc_metastatic": ("Metastatic breast cancer", "Not metastatic (TNM)"),
    "inc_oligoprogression": ("Oligoprogression", "No oligoprogression (1–2 lesions in one organ)"),
    "inc_therapy_class": (
        "Endocrine, targeted, chemo- or immunotherapy",
        "No endocrine, targeted, chemo- or immunotherapy",
    ),
    "inc_line_1_or_2": ("First- or second-line therapy", "Not in first- or second-line therapy"),
    "inc_disease_control_6m": ("Disease control for ≥ 6 months", "No disease control for ≥ 6 months"),
    "inc_same_modality": ("Same imaging modality as at line start", "Different imaging modality than at line start"),
    "inc_imaging_window": ("Imaging within 49 ± 3 days of registration", "Outside the imaging window"),
    "inc_pet_confirmation": ("Confirmed by FDG-PET-CT at 6 weeks", "Not confirmed by FDG-PET-CT at 6 weeks"),
    "inc_lat_amenable": ("Amenable to local ablative therapy", "Not amenable to local ablative therapy"),
    "inc_age_18": ("Age ≥ 18 years", "Age < 18 years"),
    "inc_who_ps_0_1": ("WHO performance status 0–1", "WHO performance status ≥ 2"),
    "inc_informed_consent": ("Written informed consent", "No informed consent"),
    "exc_more_than_two_lines": ("At most two lines for MBC", "More than two lines for MBC"),
    "exc_other_malignancy": ("No other malignancy", "Other malignancy"),
    "exc_pregnancy": ("Not pregnant or breastfeeding", "Pregnant or breastfeeding"),
    "exc_medical_risk": ("No medical condition of unusual risk", "Medical condition of unusual risk"),
    "exc_psychosocial": ("No condition hampering compliance", "Condition hampering compliance"),
}

assert set(_WORDING) == set(CRITERION_IDS), "every criterion needs its wording"

# The root cause of a patient without a candidate event, counted once before the criteria (docs/attrition.md A14).
ROOT_CAUSE = NO_EVENT.name
_WORDING[ROOT_CAUSE] = (
    "A candidate screening scan",
    "No candidate screening scan (no progression scan during a metastatic line)",
)
_ROOT_TEXT = (
    "Not a protocol criterion: the screening scan every criterion is decided on. No imaging study during an active "
    "metastatic line of systemic therapy shows a progressive or unassessable lesion, so the imaging criteria (and "
    "usually the therapy criteria) fail from this one cause."
)


def requirement(criterion_id: str) -> str:
    """What the criterion requires, in a few words ("Age ≥ 18 years")."""
    return _WORDING[criterion_id][0] if criterion_id in _WORDING else criterion_id


def exclusion_reason(criterion_id: str) -> str:
    """Why a unit failing the criterion is excluded, in a few words ("Age < 18 years")."""
    return _WORDING[criterion_id][1] if criterion_id in _WORDING else criterion_id


def protocol_text(criterion_id: str) -> str:
    """The protocol sentence the criterion encodes."""
    if criterion_id == ROOT_CAUSE:
        return _ROOT_TEXT
    return BY_ID[criterion_id].protocol_text if criterion_id in BY_ID else ""


def can_need_review(criterion_id: str) -> bool:
    """True for criteria that can answer `review` (chart review): listed after the registry-computable ones."""
    return criterion_id in BY_ID and "review" in BY_ID[criterion_id].outcomes


def n_text(value: object) -> str:
    """A count with thousands separators (`12,345`); missing → `–`."""
    if value is None or value is pd.NA:
        return "–"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    return "–" if math.isnan(number) else f"{round(number):,}"
