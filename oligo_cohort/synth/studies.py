"""Imaging studies and the lesions measured on them, plus the overall response read from each study.

Per segment: a baseline study before a line starts, regular studies at the
cadence of the line's therapy class, the progression study that ends it and,
after some oligoprogressions, a confirmation FDG-PET-CT. Every study's lesion
rows come from one boolean mask [studies, SLOTS] and the segment's sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oligo_cohort.synth import parameters as p
from oligo_cohort.synth.arrays import NO_DATE, group_positions, uniform_days
from oligo_cohort.synth.cohort import BONE_SCAN, MODALITIES, PET, US, XRAY, Patients
from oligo_cohort.synth.course import DEATH, PROGRESSIONS, Course
from oligo_cohort.synth.lesions import BONE, COMPLETE, PARTIAL, LesionState, SegmentSizes, shrink_factor
from oligo_cohort.synth.regimens import LINE_CLASS_ORDER

# Kinds of study.
BASELINE, REGULAR, PROGRESSION, CONFIRMATION = range(4)
RESPONSES = ("CR", "PR", "SD", "PD", "NE")
CR, PR, SD, PD, NE = range(len(RESPONSES))


@dataclass
class Studies:
    """One entry per imaging study, ordered by patient, date, kind; `number` is 1.. within the patient."""

    patient: np.ndarray
    segment: np.ndarray
    day: np.ndarray
    kind: np.ndarray
    modality: np.ndarray
    number: np.ndarray
    with_lesions: np.ndarray  # False: a study whose lesions were not registered (partial imaging)

    def __len__(self) -> int:
        return int(self.patient.size)


@dataclass
class LesionRows:
    """One entry per lesion measured on a study."""

    study: np.ndarray  # index into Studies
    slot: np.ndarray  # lesion_id is L + slot + 1
    organ: np.ndarray
    size: np.ndarray  # NaN = not measured
    suv: np.ndarray


@dataclass
class Responses:
    """Overall response per assessment."""

    patient: np.ndarray
    day: np.ndarray
    response: np.ndarray


def make_studies(
    rng: np.random.Generator, patients: Patients, course: Course, last_day: int, *, imperfect: bool
) -> Studies:
    """Every study of every segment, dated, with its modality; none after death or the end of the extract."""
    seg = course.segments
    s = len(seg)
    first_part = seg.part == 0

    # Baseline before each line: the diagnostic study for line 1, mostly a fresh one for later lines.
    first_line = first_part & (seg.line == 0)
    baseline_day = np.where(
        first_line,
        patients.metastasis[seg.patient] - uniform_days(rng, p.DIAGNOSTIC_SCAN_BEFORE_METASTASIS_DAYS, s),
        np.clip(
            seg.line_start - uniform_days(rng, p.BASELINE_BEFORE_LINE_DAYS, s),
            np.where(seg.previous_end == NO_DATE, 0, seg.previous_end + 1),
            seg.line_start + 14,
        ),
    )
    # A later line reuses the progression study as its baseline unless that study is getting old.
    stale = seg.line_start - seg.previous_end > p.BASELINE_STALE_AFTER_DAYS
    fresh = rng.random(s) < np.where(stale, p.LINE_BASELINE_SCAN_SHARE, p.LINE_BASELINE_REPEAT_SHARE)
    has_baseline = first_line | (first_part & fresh)
    base_rows = np.nonzero(has_baseline)[0]

    # Regular studies at the line's cadence, up to shortly before the progression study.
    low = np.array([p.SCAN_INTERVAL_DAYS[c][0] for c in LINE_CLASS_ORDER])[seg.line_class]
    high = np.array([p.SCAN_INTERVAL_DAYS[c][1] for c in LINE_CLASS_ORDER])[seg.line_class]
    interval = rng.integers(low, high + 1).astype(np.int32)
    limit = np.where(np.isin(seg.kind, PROGRESSIONS), seg.end - 21, np.where(seg.kind == DEATH, seg.end - 7, seg.end))
    count = np.maximum((limit - seg.start) // interval, 0)
    reg_seg, position = group_positions(count)
    jitter = rng.integers(-p.SCAN_JITTER_DAYS, p.SCAN_JITTER_DAYS + 1, reg_seg.size)
    reg_day = np.minimum(seg.start[reg_seg] + (position + 1) * interval[reg_seg] + jitter, limit[reg_seg])

    prog_rows = np.nonzero(np.isin(seg.kind, PROGRESSIONS))[0]
    pet_rows = np.nonzero(seg.pet_day != NO_DATE)[0]

    segment = np.concatenate([base_rows, reg_seg, prog_rows, pet_rows]).astype(np.int32)
    day = np.concatenate([baseline_day[base_rows], reg_day, seg.end[prog_rows], seg.pet_day[pet_rows]]).astype(np.int32)
    kind = np.concatenate([
        np.full(base_rows.size, BASELINE), np.full(reg_seg.size, REGULAR),
        np.full(prog_rows.size, PROGRESSION), np.full(pet_rows.size, CONFIRMATION),
    ]).astype(np.int8)  # fmt: skip
    patient = seg.patient[segment]
    alive = day < np.where(course.death[patient] == NO_DATE, np.iinfo(np.int32).max, course.death[patient])
    keep = alive & (day <= last_day)
    segment, day, kind, patient = segment[keep], day[keep], kind[keep], patient[keep]

    modality = _modality(rng, patients.modality[patient], kind)
    partial_patient = imperfect & (rng.random(len(patients)) < p.PARTIAL_IMAGING_PATIENT_SHARE)
    with_lesions = ~(partial_patient[patient] & (rng.random(day.size) < p.PARTIAL_IMAGING_STUDY_SHARE))

    order = np.lexsort((kind, day, patient))
    patient, segment, day, kind, modality, with_lesions = (
        a[order] for a in (patient, segment, day, kind, modality, with_lesions)
    )
    _, position = group_positions(np.bincount(patient, minlength=len(patients)))
    return Studies(patient, segment, day, kind, modality, (position + 1).astype(np.int32), with_lesions)


def _modality(rng: np.random.Generator, usual: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """The patient's usual modality, sometimes another; plain films or ultrasound now and then."""
    n = usual.size
    switch_codes = np.array([MODALITIES.index(m) for m in p.SWITCH_MODALITY_SHARES], dtype=np.int8)
    weights = np.array(list(p.SWITCH_MODALITY_SHARES.values()))
    other = switch_codes[
        np.minimum(np.searchsorted(np.cumsum(weights) / weights.sum(), rng.random(n), "right"), weights.size - 1)
    ]
    modality = np.where(rng.random(n) < p.MODALITY_SWITCH_SHARE, other, usual)
    plain = (kind == REGULAR) & (rng.random(n) < p.PLAIN_STUDY_SHARE)
    modality = np.where(plain, np.where(rng.random(n) < 0.5, XRAY, US), modality)
    return np.where(kind == CONFIRMATION, PET, modality).astype(np.int8)


def make_lesion_rows(
    rng: np.random.Generator, studies: Studies, course: Course, state: LesionState, sizes: SegmentSizes
) -> LesionRows:
    """The lesions visible on each study with their sizes (and SUVmax on FDG-PET-CT)."""
    seg = course.segments
    who, segment = studies.patient, studies.segment
    visible = (state.appear[who] <= studies.day[:, None]) & (state.organ[who] >= 0)
    visible &= studies.with_lesions[:, None] & ~np.isin(studies.modality, (XRAY, US))[:, None]
    visible &= (studies.modality != BONE_SCAN)[:, None] | (state.organ[who] == BONE)
    study, slot = np.nonzero(visible)
    row_segment = segment[study]
    kind = studies.kind[study]

    elapsed = (studies.day[study] - seg.start[row_segment]).astype(np.float64)
    factor = shrink_factor(sizes.nadir[row_segment, slot], elapsed)
    noise = 1 + p.SIZE_NOISE_SD * rng.standard_normal(study.size)
    suv_noise = 1 + p.SUV_NOISE_SD * rng.standard_normal(study.size)
    start_size, start_suv = sizes.start_size[row_segment, slot], sizes.start_suv[row_segment, slot]
    size = np.select(
        [kind == BASELINE, kind == REGULAR],
        [start_size, np.rint(start_size * factor * noise)],
        sizes.end_size[row_segment, slot],
    )
    suv = np.select(
        [kind == BASELINE, kind == REGULAR],
        [start_suv, np.round(start_suv * factor * suv_noise, 1)],
        sizes.end_suv[row_segment, slot],
    )
    modality = studies.modality[study]
    size = np.where(modality == BONE_SCAN, np.nan, np.maximum(size, 0.0))
    suv = np.where(modality == PET, np.clip(suv, 0.5, p.SUV_MAX), np.nan)
    return LesionRows(study.astype(np.int64), slot.astype(np.int8), state.organ[who[study], slot], size, suv)


def make_responses(rng: np.random.Generator, studies: Studies, course: Course, sizes: SegmentSizes) -> Responses:
    """An overall response at each regular and progression study: PD at progression, else by the segment's
    response and the time since its start (responses take a couple of months to show)."""
    read = np.isin(studies.kind, (REGULAR, PROGRESSION)) & ~np.isin(studies.modality, (XRAY, US))
    rows = np.nonzero(read)[0]
    segment = studies.segment[rows]
    elapsed = studies.day[rows] - course.segments.start[segment]
    category = sizes.response[segment]
    response = np.where(category == COMPLETE, np.where(elapsed > 120, CR, PR), SD)
    response = np.where(category == PARTIAL, np.where(elapsed > 50, PR, SD), response)
    response = np.where(studies.kind[rows] == PROGRESSION, PD, response)
    progression_kind = course.segments.kind[segment]
    response = np.where((studies.kind[rows] == PROGRESSION) & ~np.isin(progression_kind, PROGRESSIONS), SD, response)
    return Responses(studies.patient[rows], studies.day[rows], response.astype(np.int8))
