"""Human labels and units of the protocol parameters: one definition for every place parameters are shown.

`Parameters` (oligo_cohort.protocol) names each number in snake_case for the
SQL; a steering committee reads "Size floor for a progressive lesion: 15 mm".
Each label says what the number does in the rule, in the protocol's words
where it has them; the unit is printed after the value.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

# parameter -> (label, unit); the unit is empty for counts and choices.
PARAMETER_LABELS: dict[str, tuple[str, str]] = {
    "size_increase_pct": ("Size increase for a progressive lesion (at least)", "%"),
    "size_floor_mm": ("Size floor for a progressive lesion (larger than; not for bone)", "mm"),
    "suv_increase_pct": ("SUVmax increase for metabolic progression on FDG-PET-CT (at least)", "%"),
    "max_progressive_distant_lesions": ("Progressive distant lesions allowed (at most)", "lesions"),
    "max_progressive_organs": ("Organs the progressive lesions may involve (at most)", "organs"),
    "reference": ("Reference study compared with the screening scan", ""),
    "reference_window_before_days": ("Reference study: earliest before the line start", "days"),
    "reference_window_after_days": ("Reference study: latest after the line start", "days"),
    "registration_days": ("Planned registration after the screening scan", "days"),
    "imaging_window_earliest_days": ("Registration no earlier than, after the screening scan", "days"),
    "imaging_window_latest_days": ("Registration no later than, after the screening scan", "days"),
    "pet_confirmation_days": ("Confirmation FDG-PET-CT after the screening scan", "days"),
    "pet_confirmation_tolerance_days": ("Confirmation FDG-PET-CT: tolerance either side", "days"),
    "pet_window_start_days": ("Confirmation FDG-PET-CT window opens, after the screening scan", "days"),
    "pet_window_end_days": ("Confirmation FDG-PET-CT window closes, after the screening scan", "days"),
    "min_months_on_line": ("Time on the current line before progression (at least)", "months"),
    "max_line_number": ("Line of systemic therapy for metastatic disease (at most)", ""),
    "max_lines_before_scan": ("Lines for metastatic disease started before the scan (at most)", "lines"),
    "regimen_window_days": ("Drugs started within this many days form one regimen", "days"),
    "line_gap_days": ("Gap after which a restarted drug begins a new line", "days"),
    "line_end_grace_days": ("Grace period after the last drug of a line ends", "days"),
    "performance_status_window_days": ("Performance status: latest assessment at most this long before", "days"),
    "other_malignancy_years": ("Other malignancy exempt when treated at least this long ago", "years"),
    "min_age_years": ("Age at registration (at least)", "years"),
}

REFERENCE_CHOICES = {"line_start": "the study at the start of the line", "nadir": "each lesion's smallest size (nadir)"}


def parameter_label(name: str) -> str:
    """The human label of a parameter (its name when it has none)."""
    return PARAMETER_LABELS.get(name, (name, ""))[0]


def parameter_value(name: str, value: object) -> str:
    """A parameter's value with its unit: `15 mm`, `49 days`, `the study at the start of the line`."""
    if name == "reference":
        return REFERENCE_CHOICES.get(str(value), str(value))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    unit = PARAMETER_LABELS.get(name, ("", ""))[1]
    if not unit:
        return str(value)
    if value == 1 and unit.endswith("s"):  # every unit is a noun whose plural adds an s: 1 organ, 1 day
        unit = unit[:-1]
    return f"{value} {unit}" if unit != "%" else f"{value} %"


def parameter_table(parameters: Mapping[str, object]) -> pd.DataFrame:
    """Parameters as rows of label, value with unit, and the name used in protocol files and `--set`."""
    return pd.DataFrame(
        {
            "label": [parameter_label(name) for name in parameters],
            "value": [parameter_value(name, value) for name, value in parameters.items()],
            "parameter": list(parameters),
        }
    )
