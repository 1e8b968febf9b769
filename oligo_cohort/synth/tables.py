"""Turn a block's arrays into the eight extract tables (Arrow), applying the imperfections of real extracts.

Columns and their order are exactly those of the data model; ids are built
with Arrow string kernels (vectorised), codes are looked up from small label
arrays, missing values are Arrow nulls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.dictionary import tables
from oligo_cohort.synth import parameters as p
from oligo_cohort.synth.arrays import DAYS_PER_YEAR, NO_DATE
from oligo_cohort.synth.clinical import BREASTFEEDING, OBSERVATION_CODES, PREGNANT, Observations, PerformanceStatus
from oligo_cohort.synth.cohort import MODALITIES, PS_SCALES, Patients, Sites
from oligo_cohort.synth.course import Course
from oligo_cohort.synth.lesions import LOCATIONS, ORGAN_LOCATION, ORGANS
from oligo_cohort.synth.regimens import compiled
from oligo_cohort.synth.studies import RESPONSES, LesionRows, Responses, Studies
from oligo_cohort.synth.therapy import SETTINGS, UNKNOWN_SETTING, Episodes
from oligo_cohort.synth.tumours import BASES, BEHAVIOURS, INTENTS, MORPHOLOGIES, TNM_M, TOPOGRAPHIES, Tumours

TABLE_ORDER = tuple(tables())  # the data model's tables, in its order

SCHEMAS: dict[str, pa.Schema] = {
    "patients": pa.schema(
        [
            ("patient_id", pa.string()),
            ("site_id", pa.string()),
            ("birth_date", pa.date32()),
            ("sex", pa.string()),
            ("death_date", pa.date32()),
        ]
    ),
    "tumours": pa.schema(
        [
            ("tumour_id", pa.string()),
            ("patient_id", pa.string()),
            ("diagnosis_date", pa.date32()),
            ("topography", pa.string()),
            ("morphology", pa.string()),
            ("behaviour", pa.string()),
            ("basis_of_diagnosis", pa.string()),
            ("tnm_m", pa.string()),
            ("metastasis_date", pa.date32()),
            ("treatment_intent", pa.string()),
            ("chemotherapy", pa.bool_()),
            ("radiotherapy", pa.bool_()),
            ("last_treatment_date", pa.date32()),
        ]
    ),
    "systemic_therapy": pa.schema(
        [
            ("patient_id", pa.string()),
            ("drug", pa.string()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
            ("setting", pa.string()),
        ]
    ),
    "imaging": pa.schema(
        [("study_id", pa.string()), ("patient_id", pa.string()), ("study_date", pa.date32()), ("modality", pa.string())]
    ),
    "lesions": pa.schema(
        [
            ("study_id", pa.string()),
            ("patient_id", pa.string()),
            ("lesion_id", pa.string()),
            ("location", pa.string()),
            ("organ", pa.string()),
            ("size_mm", pa.float64()),
            ("suv_max", pa.float64()),
        ]
    ),
    "response_assessments": pa.schema(
        [("patient_id", pa.string()), ("assessment_date", pa.date32()), ("response", pa.string())]
    ),
    "performance_status": pa.schema(
        [("patient_id", pa.string()), ("assessment_date", pa.date32()), ("scale", pa.string()), ("score", pa.int32())]
    ),
    "observations": pa.schema(
        [
            ("patient_id", pa.string()),
            ("code", pa.string()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
            ("value", pa.bool_()),
        ]
    ),
}


@dataclass
class BlockData:
    """Everything generated for one block of patients, before it becomes tables."""

    patients: Patients
    course: Course
    tumours: Tumours
    episodes: Episodes
    studies: Studies
    lesions: LesionRows
    responses: Responses
    performance: PerformanceStatus
    observations: Observations


def assemble(
    rng: np.random.Generator, data: BlockData, sites: Sites, *, imperfect: bool, id_width: int
) -> dict[str, pa.Table]:
    """The block's eight tables, in data-model column order; patient numbers padded to `id_width` digits."""
    patient_ids = _patient_ids(data.patients.number, id_width)
    return {
        "patients": _patients(rng, data, sites, patient_ids, imperfect),
        "tumours": _tumours(rng, data, patient_ids, imperfect),
        "systemic_therapy": _therapy(rng, data.episodes, patient_ids, imperfect),
        "imaging": _imaging(data.studies, patient_ids),
        "lesions": _lesions(rng, data.lesions, data.studies, patient_ids, imperfect),
        "response_assessments": _responses(rng, data.responses, patient_ids, imperfect),
        "performance_status": _performance(data.performance, patient_ids),
        "observations": _observations(rng, data.observations, patient_ids, imperfect),
    }


def patient_id_width(total_patients: int) -> int:
    """Digits of the patient number: 7 (P0000001) unless the extract needs more."""
    return max(7, len(str(total_patients)))


def _patient_ids(numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers + 1), pa.string()), width, "0")
    return pc.binary_join_element_wise("P", digits, "")


def _labels(labels: tuple[str, ...] | list[str], codes: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    indices = pa.array(np.asarray(codes, dtype=np.int32), mask=missing)
    return pa.array(list(labels), pa.string()).take(indices)


def _dates(days: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    days = np.asarray(days)
    gone = days == NO_DATE if missing is None else (days == NO_DATE) | missing
    return pa.array(np.where(gone, 0, days).astype(np.int32), pa.int32(), mask=gone).cast(pa.date32())


def _blank(rng: np.random.Generator, size: int, table: str, column: str, imperfect: bool) -> np.ndarray:
    """Rows whose optional value is missing (none in a clean extract)."""
    if not imperfect:
        return np.zeros(size, bool)
    return rng.random(size) < p.MISSING_SHARE[table, column]


def _patients(
    rng: np.random.Generator, data: BlockData, sites: Sites, patient_ids: pa.Array, imperfect: bool
) -> pa.Table:
    patients = data.patients
    n = len(patients)
    birth = patients.birth.astype(np.int64)
    if imperfect:
        # An entry slip making the patient a child; only where it stays before every other date of the patient.
        earliest = _earliest_dates(data, n)
        slip = (rng.random(n) < p.BIRTH_DATE_TYPO_SHARE) & (earliest > birth + 20 * DAYS_PER_YEAR)
        slipped = earliest - np.rint(rng.uniform(3, 15, n) * DAYS_PER_YEAR).astype(np.int64)
        birth = np.where(slip, slipped, birth)
    sex = np.where(patients.male, 1, 0)
    if imperfect:
        sex = np.where(rng.random(n) < p.SEX_UNKNOWN_SHARE, 2, sex)
    return pa.Table.from_arrays(
        [
            patient_ids,
            _labels(sites.ids, patients.site),
            _dates(birth.astype(np.int32), _blank(rng, n, "patients", "birth_date", imperfect)),
            _labels(("F", "M", "U"), sex, _blank(rng, n, "patients", "sex", imperfect)),
            _dates(data.course.death),
        ],
        schema=SCHEMAS["patients"],
    )


def _earliest_dates(data: BlockData, n: int) -> np.ndarray:
    """Each patient's earliest dated record other than birth."""
    earliest = np.full(n, np.iinfo(np.int64).max)
    for who, day in (
        (data.tumours.patient, data.tumours.diagnosis),
        (data.episodes.patient, data.episodes.start),
        (data.studies.patient, data.studies.day),
        (data.performance.patient, data.performance.day),
        (data.observations.patient, data.observations.start),
        (data.responses.patient, data.responses.day),
    ):
        np.minimum.at(earliest, who, day.astype(np.int64))
    return earliest


def _tumours(rng: np.random.Generator, data: BlockData, patient_ids: pa.Array, imperfect: bool) -> pa.Table:
    t = data.tumours
    m = t.patient.size
    ids = patient_ids.take(pa.array(t.patient))
    tumour_ids = pc.binary_join_element_wise(ids, pc.cast(pa.array(t.number.astype(np.int32)), pa.string()), "-T")
    basis = t.basis.copy()
    if imperfect:
        basis = np.where(rng.random(m) < p.UNKNOWN_BASIS_SHARE, BASES.index("unknown"), basis)
    recurrent_breast = (t.number == 1) & (t.tnm_m != TNM_M.index(clinical_codes().metastatic_at_diagnosis))
    metastasis_missing = _blank(rng, m, "tumours", "metastasis_date", imperfect) & recurrent_breast
    return pa.Table.from_arrays(
        [
            tumour_ids,
            ids,
            _dates(t.diagnosis),
            _labels(TOPOGRAPHIES, t.topography),
            _labels(MORPHOLOGIES, t.morphology, _blank(rng, m, "tumours", "morphology", imperfect)),
            _labels(BEHAVIOURS, t.behaviour),
            _labels(BASES, basis, _blank(rng, m, "tumours", "basis_of_diagnosis", imperfect)),
            _labels(TNM_M, np.maximum(t.tnm_m, 0), (t.tnm_m < 0) | _blank(rng, m, "tumours", "tnm_m", imperfect)),
            _dates(t.metastasis, metastasis_missing),
            _labels(INTENTS, t.intent, _blank(rng, m, "tumours", "treatment_intent", imperfect)),
            pa.array(t.chemotherapy, mask=_blank(rng, m, "tumours", "chemotherapy", imperfect)),
            pa.array(t.radiotherapy, mask=_blank(rng, m, "tumours", "radiotherapy", imperfect)),
            _dates(t.last_treatment, _blank(rng, m, "tumours", "last_treatment_date", imperfect)),
        ],
        schema=SCHEMAS["tumours"],
    )


def _therapy(rng: np.random.Generator, e: Episodes, patient_ids: pa.Array, imperfect: bool) -> pa.Table:
    table = compiled()
    m = e.patient.size
    drug = e.drug.astype(np.int32)
    setting = e.setting.astype(np.int32)
    end_missing = np.zeros(m, bool)
    if imperfect:
        for name, spelling in p.UNKNOWN_DRUG_NAMES.items():
            renamed = (drug == table.code[name]) & (rng.random(m) < p.UNKNOWN_DRUG_NAME_SHARE)
            drug = np.where(renamed, table.code[spelling], drug)
        setting = np.where(rng.random(m) < p.UNKNOWN_SETTING_SHARE, UNKNOWN_SETTING, setting)
        end_missing = _blank(rng, m, "systemic_therapy", "end_date", imperfect) & (e.end != NO_DATE)
    return pa.Table.from_arrays(
        [
            patient_ids.take(pa.array(e.patient)),
            _labels(table.drug_names, drug),
            _dates(e.start),
            _dates(e.end, end_missing),
            _labels(SETTINGS, setting, _blank(rng, m, "systemic_therapy", "setting", imperfect)),
        ],
        schema=SCHEMAS["systemic_therapy"],
    )


def _study_ids(studies: Studies, patient_ids: pa.Array) -> pa.Array:
    ids = patient_ids.take(pa.array(studies.patient))
    numbers = pc.utf8_lpad(pc.cast(pa.array(studies.number), pa.string()), 3, "0")
    return pc.binary_join_element_wise(ids, numbers, "-I")


def _imaging(studies: Studies, patient_ids: pa.Array) -> pa.Table:
    return pa.Table.from_arrays(
        [
            _study_ids(studies, patient_ids),
            patient_ids.take(pa.array(studies.patient)),
            _dates(studies.day),
            _labels(MODALITIES, studies.modality),
        ],
        schema=SCHEMAS["imaging"],
    )


def _lesions(
    rng: np.random.Generator, rows: LesionRows, studies: Studies, patient_ids: pa.Array, imperfect: bool
) -> pa.Table:
    m = rows.study.size
    study_ids = _study_ids(studies, patient_ids).take(pa.array(rows.study))
    lesion_ids = pc.binary_join_element_wise(
        "L", pc.utf8_lpad(pc.cast(pa.array(rows.slot.astype(np.int32) + 1), pa.string()), 2, "0"), ""
    )
    size_missing = np.isnan(rows.size) | _blank(rng, m, "lesions", "size_mm", imperfect)
    suv_missing = np.isnan(rows.suv) | _blank(rng, m, "lesions", "suv_max", imperfect)
    return pa.Table.from_arrays(
        [
            study_ids,
            patient_ids.take(pa.array(studies.patient[rows.study])),
            lesion_ids,
            _labels(LOCATIONS, ORGAN_LOCATION[rows.organ]),
            _labels(ORGANS, rows.organ),
            pa.array(np.where(size_missing, 0.0, rows.size), pa.float64(), mask=size_missing),
            pa.array(np.where(suv_missing, 0.0, rows.suv), pa.float64(), mask=suv_missing),
        ],
        schema=SCHEMAS["lesions"],
    )


def _responses(rng: np.random.Generator, r: Responses, patient_ids: pa.Array, imperfect: bool) -> pa.Table:
    keep = np.ones(r.patient.size, bool)
    response = r.response.astype(np.int32)
    if imperfect:
        silent = rng.random(len(patient_ids)) < p.NO_RESPONSE_RECORDS_PATIENT_SHARE
        keep = ~silent[r.patient] & (rng.random(r.patient.size) >= p.RESPONSE_RECORD_MISSING_SHARE)
        response = np.where(
            rng.random(r.patient.size) < p.RESPONSE_NOT_EVALUABLE_SHARE, RESPONSES.index("NE"), response
        )
    return pa.Table.from_arrays(
        [patient_ids.take(pa.array(r.patient[keep])), _dates(r.day[keep]), _labels(RESPONSES, response[keep])],
        schema=SCHEMAS["response_assessments"],
    )


def _performance(ps: PerformanceStatus, patient_ids: pa.Array) -> pa.Table:
    return pa.Table.from_arrays(
        [
            patient_ids.take(pa.array(ps.patient)),
            _dates(ps.day),
            _labels(PS_SCALES, ps.scale),
            pa.array(ps.score.astype(np.int32), pa.int32()),
        ],
        schema=SCHEMAS["performance_status"],
    )


def _observations(rng: np.random.Generator, o: Observations, patient_ids: pa.Array, imperfect: bool) -> pa.Table:
    # A pregnancy or breastfeeding whose end was never registered reads as still going on.
    episodic = np.isin(o.code, (PREGNANT, BREASTFEEDING)) & o.value & (o.end != o.start)
    end_missing = episodic & _blank(rng, o.code.size, "observations", "end_date", imperfect)
    return pa.Table.from_arrays(
        [
            patient_ids.take(pa.array(o.patient)),
            _labels(OBSERVATION_CODES, o.code),
            _dates(o.start),
            _dates(o.end, end_missing),
            pa.array(o.value, pa.bool_()),
        ],
        schema=SCHEMAS["observations"],
    )
