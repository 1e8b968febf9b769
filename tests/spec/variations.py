"""Variations of the baseline that several spec files share: its therapy, its responses, its observations."""

from __future__ import annotations

import pandas as pd

from oligo_cohort.criteria import FAILED_WITHOUT_EVENT
from tests.spec.harness import Case, case
from tests.spec.tables import table

# A breast cancer diagnosed metastatic (M1) in 2019, for therapy histories starting before the baseline's diagnosis.
DIAGNOSED_2019 = table("""
    tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m
    T1        | 2019-11-04     | C50.4      | 8500       | 3         | histology_primary  | M1
""")


def therapy(rows: str, tumours: pd.DataFrame | None = None, **settings: object) -> Case:
    """The baseline with this systemic therapy (and, when given, these tumours); `settings` as for `case`."""
    replaced: dict[str, object] = {"systemic_therapy": table(rows)}
    if tumours is not None:
        replaced["tumours"] = tumours
    return case(**replaced, **settings)  # type: ignore[arg-type]


def responses(rows: str) -> Case:
    """The baseline with these response assessments (`assessment_date | response` per line)."""
    return case(response_assessments=table("assessment_date | response\n" + rows))


# The baseline's two observations, as rows of `observations(...)`.
AMENABLE = "lat_amenable | 2023-03-08 | | true"
CONSENTED = "informed_consent | 2023-03-22 | | true"


def observations(rows: str) -> Case:
    """The baseline with these observations (`code | start_date | end_date | value` per line)."""
    return case(observations=table("code | start_date | end_date | value\n" + rows))


# The baseline's liver lesion stable on every scan: no candidate event, so the patient is screened at the cut-off
# (S = R = 2023-04-20), and the criteria that need an event fail.
STABLE_LESIONS = table("""
    study_id | lesion_id | location | organ | size_mm
    ref      | L1        | distant  | liver | 20
    S        | L1        | distant  | liver | 20
    pet      | L1        | distant  | liver | 20
""")
WITHOUT_EVENT = dict.fromkeys(FAILED_WITHOUT_EVENT, "fail")
