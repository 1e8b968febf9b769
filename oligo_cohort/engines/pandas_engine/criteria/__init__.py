"""The 18 COSMO criteria over screening units: the rule each unit takes, and the facts the criterion records.

Each decider follows criteria.md's "decided as" column and docs/decisions.md,
naming the branch a unit takes by a rule of `oligo_cohort.criteria` (whose
outcome it gives) and recording the criterion's facts (`Criterion.facts`) for
every unit, whichever rule it took (`context.record`). Per-unit aggregates are
merges, sorts and groupbys over the patients' records, never a loop over
patients.

The deciders are grouped as the SQL criteria models are: the criteria that
`sql/criteria/therapy.sql` decides are decided in `therapy` here, and so on
(tests/engines/pandas_engine/test_decider_modules.py holds each to its model),
so that a criterion's two definitions are found by the same name. `context`
holds what they all read: the units, the inputs, and the facts of the units
themselves, computed once.
"""

from __future__ import annotations

from collections.abc import Callable

from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.engines.pandas_engine.criteria.context import Context
from oligo_cohort.engines.pandas_engine.criteria.diagnosis import invasive_breast_cancer, metastatic
from oligo_cohort.engines.pandas_engine.criteria.imaging import (
    imaging_window,
    oligoprogression,
    pet_confirmation,
    same_modality,
)
from oligo_cohort.engines.pandas_engine.criteria.observations import (
    informed_consent,
    lat_amenable,
    medical_risk,
    pregnancy,
    psychosocial,
)
from oligo_cohort.engines.pandas_engine.criteria.patient import age_18, other_malignancy, who_ps_0_1
from oligo_cohort.engines.pandas_engine.criteria.therapy import (
    disease_control_6m,
    line_1_or_2,
    more_than_two_lines,
    therapy_class,
)
from oligo_cohort.engines.pandas_engine.decisions import Decision
from oligo_cohort.engines.pandas_engine.inputs import Inputs
from oligo_cohort.engines.pandas_engine.units import Units

Decider = Callable[[Context], Decision]

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


def decide_all(units: Units, inputs: Inputs) -> dict[str, Decision]:
    """Every criterion's decision over all units (rows in the order of `units.units`), in protocol order."""
    context = Context(units, inputs)
    return {criterion: decide(context) for criterion, decide in DECIDERS.items()}
