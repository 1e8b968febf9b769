"""Primary tumours: each patient's breast cancer and, for some, another primary (skin, in situ, second cancers)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.dictionary import drugs
from oligo_cohort.synth import parameters as p
from oligo_cohort.synth.arrays import DAYS_PER_YEAR, NO_DATE, draw_categories, uniform_days
from oligo_cohort.synth.cohort import Patients
from oligo_cohort.synth.regimens import compiled
from oligo_cohort.synth.therapy import ADJUVANT, NEOADJUVANT, Episodes

BASES = ("histology_primary", "histology_metastasis", "cytology", "clinical", "death_certificate", "unknown")
TNM_M = ("M0", "M1", "MX")
INTENTS = ("curative", "palliative", "none", "unknown")
CURATIVE, PALLIATIVE = 0, 1
# Every code a tumour row may carry, so that codes are small integers until written.
TOPOGRAPHIES = tuple(
    dict.fromkeys(list(p.BREAST_TOPOGRAPHY_SHARES) + [t for kind in p.OTHER_PRIMARY_KINDS for t in kind.topographies])
)
MORPHOLOGIES = tuple(
    dict.fromkeys(list(p.BREAST_MORPHOLOGY_SHARES) + [m for kind in p.OTHER_PRIMARY_KINDS for m in kind.morphologies])
)
BEHAVIOURS = ("2", "3")


@dataclass
class Tumours:
    """One entry per primary tumour; `number` is 1 for the breast cancer, 2.. for other primaries."""

    patient: np.ndarray
    number: np.ndarray
    diagnosis: np.ndarray
    topography: np.ndarray
    morphology: np.ndarray
    behaviour: np.ndarray
    basis: np.ndarray
    tnm_m: np.ndarray  # -1 = not given
    metastasis: np.ndarray
    intent: np.ndarray
    chemotherapy: np.ndarray
    radiotherapy: np.ndarray
    last_treatment: np.ndarray


def make_tumours(rng: np.random.Generator, patients: Patients, episodes: Episodes, last_day: int) -> Tumours:
    """The breast tumour of every patient, then other primaries."""
    return _join([_breast(rng, patients, episodes), _other_primaries(rng, patients, last_day)])


def _breast(rng: np.random.Generator, patients: Patients, episodes: Episodes) -> Tumours:
    n = len(patients)
    de_novo = patients.de_novo
    topography = _draw_codes(rng, TOPOGRAPHIES, p.BREAST_TOPOGRAPHY_SHARES, n)
    morphology = _draw_codes(rng, MORPHOLOGIES, p.BREAST_MORPHOLOGY_SHARES, n)
    basis_recurrent = _draw_codes(rng, BASES, p.BASIS_SHARES_RECURRENT, n)
    basis_de_novo = _draw_codes(rng, BASES, p.BASIS_SHARES_DE_NOVO, n)
    tnm_recurrent = np.where(rng.random(n) < p.RECURRENT_TNM_MX_SHARE, TNM_M.index("MX"), TNM_M.index("M0"))

    # What the primary's treatment record says: chemotherapy and the end of adjuvant treatment.
    early = np.isin(episodes.setting, (ADJUVANT, NEOADJUVANT))
    had_chemo = np.zeros(n, bool)
    chemo_codes = _chemotherapy_codes()
    had_chemo[episodes.patient[early & np.isin(episodes.drug, chemo_codes)]] = True
    last = np.full(n, -1, np.int64)
    np.maximum.at(last, episodes.patient[early], episodes.end[early].astype(np.int64))
    fallback_last = patients.breast_diagnosis + uniform_days(rng, (30, 200), n)
    last_treatment = np.where(last >= 0, last, fallback_last)
    last_treatment = np.minimum(last_treatment, patients.metastasis)
    radiotherapy = rng.random(n) < np.where(de_novo, p.DE_NOVO_RADIOTHERAPY_SHARE, p.RECURRENT_RADIOTHERAPY_SHARE)
    first_line_chemo = np.zeros(n, bool)
    metastatic = ~early & (episodes.start <= patients.metastasis[episodes.patient] + 90)
    first_line_chemo[episodes.patient[metastatic & np.isin(episodes.drug, chemo_codes)]] = True
    return Tumours(
        patient=np.arange(n, dtype=np.int32),
        number=np.ones(n, np.int8),
        diagnosis=patients.breast_diagnosis,
        topography=topography,
        morphology=morphology,
        behaviour=np.full(n, BEHAVIOURS.index(clinical_codes().invasive_behaviour), np.int8),
        basis=np.where(de_novo, basis_de_novo, basis_recurrent).astype(np.int8),
        tnm_m=np.where(de_novo, TNM_M.index(clinical_codes().metastatic_at_diagnosis), tnm_recurrent).astype(np.int8),
        metastasis=patients.metastasis,
        intent=np.where(de_novo, PALLIATIVE, CURATIVE).astype(np.int8),
        chemotherapy=np.where(de_novo, first_line_chemo, had_chemo),
        radiotherapy=radiotherapy,
        last_treatment=np.where(de_novo, NO_DATE, last_treatment).astype(np.int32),
    )


def _other_primaries(rng: np.random.Generator, patients: Patients, last_day: int) -> Tumours:
    """Other primaries: skin BCC/SCC, in situ tumours and second cancers, before or after the breast cancer."""
    n = len(patients)
    first = rng.random(n) < p.OTHER_PRIMARY_SHARE
    second = first & (rng.random(n) < p.SECOND_OTHER_PRIMARY_SHARE)
    patient = np.concatenate([np.nonzero(first)[0], np.nonzero(second)[0]]).astype(np.int32)
    number = np.concatenate([np.full(int(first.sum()), 2), np.full(int(second.sum()), 3)]).astype(np.int8)
    m = patient.size
    kinds = p.OTHER_PRIMARY_KINDS
    kind = draw_categories(rng, [k.share for k in kinds], m)
    topography = np.empty(m, np.int16)
    morphology = np.empty(m, np.int16)
    for k, spec in enumerate(kinds):
        rows = np.nonzero(kind == k)[0]
        topography_codes = np.array([TOPOGRAPHIES.index(code) for code in spec.topographies])
        morphology_codes = np.array([MORPHOLOGIES.index(code) for code in spec.morphologies])
        topography[rows] = topography_codes[rng.integers(0, topography_codes.size, rows.size)]
        morphology[rows] = morphology_codes[rng.integers(0, morphology_codes.size, rows.size)]
    behaviour = np.array([BEHAVIOURS.index(k.behaviour) for k in kinds], np.int8)[kind]
    chemo = rng.random(m) < np.array([k.chemotherapy_share for k in kinds])[kind]
    radio = rng.random(m) < np.array([k.radiotherapy_share for k in kinds])[kind]
    low, high = p.OTHER_PRIMARY_YEARS_BEFORE_BREAST
    diagnosis = patients.breast_diagnosis[patient] + np.rint(rng.uniform(low, high, m) * DAYS_PER_YEAR).astype(np.int64)
    adult = patients.birth[patient] + int(18 * DAYS_PER_YEAR)
    diagnosis = np.clip(diagnosis, adult, last_day)
    curative = rng.random(m) < p.OTHER_PRIMARY_CURATIVE_SHARE
    last_treatment = diagnosis + uniform_days(rng, p.OTHER_PRIMARY_TREATMENT_DAYS, m)
    last_treatment = np.where(last_treatment > last_day, NO_DATE, last_treatment)
    return Tumours(
        patient=patient,
        number=number,
        diagnosis=diagnosis.astype(np.int32),
        topography=topography,
        morphology=morphology,
        behaviour=behaviour,
        basis=np.full(m, BASES.index("histology_primary"), np.int8),
        tnm_m=np.full(m, -1, np.int8),
        metastasis=np.full(m, NO_DATE, np.int32),
        intent=np.where(curative, CURATIVE, PALLIATIVE).astype(np.int8),
        chemotherapy=chemo,
        radiotherapy=radio,
        last_treatment=last_treatment.astype(np.int32),
    )


def _draw_codes(rng: np.random.Generator, labels: tuple[str, ...], shares: dict[str, float], n: int) -> np.ndarray:
    """Draw `n` of `shares`' keys with their shares, as indices into `labels`."""
    codes = np.array([labels.index(key) for key in shares], np.int16)
    return codes[draw_categories(rng, list(shares.values()), n)]


def _chemotherapy_codes() -> np.ndarray:
    """Codes of the vocabulary's chemotherapy drugs."""
    table = compiled()
    return np.array([table.code[d.drug] for d in drugs() if d.drug_class == "chemotherapy"])


def _join(parts: list[Tumours]) -> Tumours:
    fields = Tumours.__dataclass_fields__
    joined = {f: np.concatenate([getattr(t, f) for t in parts]) for f in fields}
    order = np.lexsort((joined["number"], joined["patient"]))
    return Tumours(**{f: joined[f][order] for f in fields})
