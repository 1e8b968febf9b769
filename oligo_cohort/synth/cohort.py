"""Sites and patients at the diagnosis of metastatic disease: who, where, when, which subtype."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.synth import parameters as p
from oligo_cohort.synth.arrays import DAYS_PER_YEAR, draw_categories, lognormal_days

CODES = clinical_codes()
# The confirmation scans are PET: the modality the criteria read as one (clinical_codes.yaml).
MODALITIES = ("CT", "MRI", CODES.pet_modality, "bone_scan", "X-ray", "US")
CT, MRI, PET, BONE_SCAN, XRAY, US = range(len(MODALITIES))
PS_SCALES = ("ECOG", "WHO", "KPS")


@dataclass(frozen=True)
class Sites:
    """The treating hospitals: relative volume, first day they report, their performance-status scale."""

    ids: tuple[str, ...]
    volume: np.ndarray
    opening_day: np.ndarray
    scale: np.ndarray  # index into PS_SCALES
    last_day: int  # last day of the extract period

    @property
    def patient_share(self) -> np.ndarray:
        """Chance that a patient belongs to each site: volume times the time it reports."""
        weight = self.volume * (self.last_day - self.opening_day + 1)
        return weight / weight.sum()


def make_sites(rng: np.random.Generator, count: int, first_day: int, last_day: int) -> Sites:
    """Sites of different sizes and opening dates (the first always reports from the start)."""
    width = max(3, len(str(count)))
    ids = tuple(f"S{i + 1:0{width}d}" for i in range(count))  # one id per site, not per patient
    volume = np.exp(p.SITE_SIZE_LOG_SIGMA * rng.standard_normal(count))
    latest_opening = first_day + int((last_day - first_day) * p.SITE_LATEST_OPENING_FRACTION)
    opening = rng.integers(first_day, latest_opening + 1, count)
    opens_at_start = rng.random(count) < p.SITE_OPEN_AT_START_SHARE
    opens_at_start[0] = True
    opening = np.where(opens_at_start, first_day, opening).astype(np.int32)
    scale = draw_categories(rng, list(p.SITE_SCALE_SHARES.values()), count)
    return Sites(ids, volume, opening, scale, last_day)


@dataclass
class Patients:
    """One entry per patient of a block (arrays of equal length)."""

    number: np.ndarray  # global 0-based patient number; patient_id is P + number + 1
    site: np.ndarray
    metastasis: np.ndarray  # day of metastatic diagnosis
    subtype: np.ndarray  # index into parameters.SUBTYPES
    de_novo: np.ndarray
    age: np.ndarray  # years at metastatic diagnosis
    birth: np.ndarray
    male: np.ndarray
    breast_diagnosis: np.ndarray
    modality: np.ndarray  # the patient's usual imaging modality
    frailty: np.ndarray  # uniform(0, 1): higher = worse performance status

    def __len__(self) -> int:
        return int(self.number.size)


def make_patients(rng: np.random.Generator, first_number: int, count: int, sites: Sites) -> Patients:
    """Draw a block of patients: site, metastatic diagnosis date, age, sex, subtype, de novo or recurrent."""
    site = draw_categories(rng, sites.patient_share, count).astype(np.int32)
    opening = sites.opening_day[site]
    metastasis = (opening + np.floor(rng.random(count) * (sites.last_day - opening + 1))).astype(np.int32)
    age = np.clip(p.AGE_MEAN_YEARS + p.AGE_SD_YEARS * rng.standard_normal(count), p.AGE_MIN_YEARS, p.AGE_MAX_YEARS)
    birth = (metastasis - np.rint(age * DAYS_PER_YEAR)).astype(np.int32)
    subtype = draw_categories(rng, p.SUBTYPE_SHARES, count).astype(np.int8)
    de_novo = rng.random(count) < p.DE_NOVO_SHARE
    median_free = np.array([p.DISEASE_FREE_MEDIAN_YEARS[s] for s in p.SUBTYPES]) * DAYS_PER_YEAR
    free_days = np.maximum(
        lognormal_days(rng, median_free[subtype], p.DISEASE_FREE_LOG_SIGMA, count), p.DISEASE_FREE_MIN_DAYS
    )
    # A relapse cannot precede adulthood by much: keep the breast diagnosis after age 20.
    free_days = np.minimum(free_days, np.maximum(metastasis - birth - int(20 * DAYS_PER_YEAR), p.DISEASE_FREE_MIN_DAYS))
    breast_diagnosis = np.where(de_novo, metastasis, metastasis - free_days).astype(np.int32)
    modality_codes = np.array([MODALITIES.index(m) for m in p.PATIENT_MODALITY_SHARES], dtype=np.int8)
    modality = modality_codes[draw_categories(rng, list(p.PATIENT_MODALITY_SHARES.values()), count)]
    return Patients(
        number=np.arange(first_number, first_number + count, dtype=np.int64),
        site=site,
        metastasis=metastasis,
        subtype=subtype,
        de_novo=de_novo,
        age=age,
        birth=birth,
        male=rng.random(count) < p.MALE_SHARE,
        breast_diagnosis=breast_diagnosis,
        modality=modality,
        frailty=rng.random(count),
    )
