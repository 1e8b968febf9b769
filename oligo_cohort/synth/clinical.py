"""Performance status assessments and the sparse clinical observations (amenability, consent, pregnancy, risks)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.synth import parameters as p
from oligo_cohort.synth.arrays import DAYS_PER_YEAR, NO_DATE, uniform_days
from oligo_cohort.synth.cohort import PS_SCALES, Patients, Sites
from oligo_cohort.synth.course import OLIGO, Course
from oligo_cohort.synth.studies import CONFIRMATION, PROGRESSION, Studies

OBSERVATION_CODES = ("pregnant", "breastfeeding", "lat_amenable", "informed_consent", "medical_risk", "compliance_risk")
PREGNANT, BREASTFEEDING, LAT_AMENABLE, CONSENT, MEDICAL_RISK, COMPLIANCE_RISK = range(len(OBSERVATION_CODES))


@dataclass
class PerformanceStatus:
    """One entry per assessment: scale is an index into PS_SCALES, score on that scale."""

    patient: np.ndarray
    day: np.ndarray
    scale: np.ndarray
    score: np.ndarray


@dataclass
class Observations:
    """One entry per observation (code index into OBSERVATION_CODES)."""

    patient: np.ndarray
    code: np.ndarray
    start: np.ndarray
    end: np.ndarray  # NO_DATE = still true at the end of the extract
    value: np.ndarray


def make_performance_status(
    rng: np.random.Generator, patients: Patients, sites: Sites, course: Course, studies: Studies, last_day: int
) -> PerformanceStatus:
    """Assessments at line starts, progression studies and confirmation PETs; worse with every line."""
    n = len(patients)
    base = np.searchsorted(np.cumsum(p.PS_SHARES_LINE_1) / sum(p.PS_SHARES_LINE_1), patients.frailty, side="right")
    worsening = np.cumsum(rng.random((n, p.MAX_LINES)) < p.PS_LINE_WORSENING_SHARE, axis=1)
    worsening[:, 0] = 0

    patient_l, line_l = np.nonzero(
        course.lines.exists & (rng.random(course.lines.exists.shape) < p.PS_AT_LINE_START_SHARE)
    )
    day_l = course.lines.start[patient_l, line_l] - uniform_days(rng, (0, 14), patient_l.size)
    share = np.where(
        studies.kind == PROGRESSION,
        p.PS_AT_PROGRESSION_SHARE,
        np.where(studies.kind == CONFIRMATION, p.PS_AT_CONFIRMATION_SHARE, 0.0),
    )
    picked = np.nonzero(rng.random(len(studies)) < share)[0]
    patient_s = studies.patient[picked]
    line_s = course.segments.line[studies.segment[picked]]
    day_s = studies.day[picked] - uniform_days(rng, (0, 10), picked.size)

    patient = np.concatenate([patient_l, patient_s]).astype(np.int32)
    line = np.concatenate([line_l, line_s])
    day = np.concatenate([day_l, day_s]).astype(np.int32)
    progression_bump = np.concatenate([np.zeros(patient_l.size, bool), rng.random(picked.size) < 0.1])
    score = np.minimum(base[patient] + worsening[patient, line] + progression_bump, 4)

    scale = sites.scale[patients.site[patient]]
    kps_table = np.array(p.KPS_FOR_ECOG)
    kps = kps_table[score, (rng.random(patient.size) < 0.4).astype(int)]
    value = np.where(scale == PS_SCALES.index(clinical_codes().karnofsky_scale), kps, score)
    death = course.death[patient].astype(np.int64)
    keep = (day <= last_day) & (day < np.where(death == NO_DATE, np.iinfo(np.int64).max, death))
    order = np.lexsort((day[keep], patient[keep]))
    return PerformanceStatus(
        patient[keep][order], day[keep][order], scale[keep][order].astype(np.int8), value[keep][order].astype(np.int16)
    )


def make_observations(
    rng: np.random.Generator, patients: Patients, course: Course, studies: Studies, last_day: int
) -> Observations:
    """Amenability and consent after some oligoprogressions; pregnancy tests and rare pregnancies."""
    oligo = (studies.kind == PROGRESSION) & (course.segments.kind[studies.segment] == OLIGO)
    rows = np.nonzero(oligo)[0]
    who, day = studies.patient[rows], studies.day[rows].astype(np.int64)
    m = rows.size
    lat = rng.random(m) < p.LAT_AMENABLE_RECORDED_SHARE
    amenable = rng.random(m) < p.LAT_AMENABLE_TRUE_SHARE
    lat_day = day + uniform_days(rng, p.LAT_AMENABLE_RECORD_DAYS, m)
    consent = lat & amenable & (rng.random(m) < p.CONSENT_RECORDED_SHARE)
    consent_day = day + uniform_days(rng, p.CONSENT_RECORD_DAYS, m)
    consents = rng.random(m) < p.CONSENT_TRUE_SHARE
    female = ~patients.male[who]
    young = (day - patients.birth[who]) / DAYS_PER_YEAR < p.PREGNANCY_AGE_MAX_YEARS
    tested = female & young & (rng.random(m) < p.PREGNANCY_TEST_SHARE)
    test_day = day + uniform_days(rng, (0, 20), m)

    # Pregnancies: at the metastatic diagnosis (pregnancy-associated cancer) or, rarely, later in the course.
    n = len(patients)
    young_woman = ~patients.male & (patients.age < p.PREGNANCY_AGE_MAX_YEARS)
    u = rng.random(n)
    at_diagnosis = young_woman & (u < p.PREGNANCY_AT_DIAGNOSIS_SHARE)
    later = young_woman & ~at_diagnosis & (u < p.PREGNANCY_AT_DIAGNOSIS_SHARE + p.PREGNANCY_DURING_COURSE_SHARE)
    mothers = np.nonzero(at_diagnosis | later)[0]
    into_pregnancy = uniform_days(rng, p.PREGNANCY_WEEKS_AT_DIAGNOSIS_DAYS, mothers.size)
    course_day = patients.metastasis[mothers] + np.floor(
        rng.random(mothers.size) * (last_day - patients.metastasis[mothers] + 1)
    ).astype(np.int64)
    conception = np.where(at_diagnosis[mothers], patients.metastasis[mothers] - into_pregnancy, course_day)
    birth_day = conception + 280
    feeds = rng.random(mothers.size) < p.BREASTFEEDING_AFTER_PREGNANCY_SHARE

    parts = [
        (who[lat], LAT_AMENABLE, lat_day[lat], np.full(int(lat.sum()), NO_DATE), amenable[lat]),
        (who[consent], CONSENT, consent_day[consent], np.full(int(consent.sum()), NO_DATE), consents[consent]),
        (who[tested], PREGNANT, test_day[tested], test_day[tested], np.zeros(int(tested.sum()), bool)),
        (mothers, PREGNANT, conception, birth_day, np.ones(mothers.size, bool)),
        (mothers[feeds], BREASTFEEDING, birth_day[feeds] + 1, birth_day[feeds] + 180, np.ones(int(feeds.sum()), bool)),
    ]
    patient = np.concatenate([q[0] for q in parts]).astype(np.int32)
    code = np.concatenate([np.full(q[0].size, q[1]) for q in parts]).astype(np.int8)
    start = np.concatenate([q[2] for q in parts]).astype(np.int64)
    end = np.concatenate([q[3] for q in parts]).astype(np.int64)
    value = np.concatenate([q[4] for q in parts])
    death = course.death[patient].astype(np.int64)
    keep = (start <= last_day) & (start < np.where(death == NO_DATE, np.iinfo(np.int64).max, death))
    end = np.where(end > last_day, NO_DATE, end)
    order = np.lexsort((code[keep], start[keep], patient[keep]))
    return Observations(
        patient[keep][order],
        code[keep][order],
        start[keep][order].astype(np.int32),
        end[keep][order].astype(np.int32),
        value[keep][order],
    )


def make_risk_observations(
    rng: np.random.Generator, patients: Patients, course: Course, studies: Studies, last_day: int
) -> Observations:
    """The clinician's judgement of medical risk and of compliance after some oligoprogressions.

    Both are recorded together, at the visit where local therapy (or a trial) is discussed; some patients are
    judged again a few weeks later (a condition resolved or newly found), so that the latest judgement decides.
    Drawn from their own random stream, so adding them changes no other record of the extract.
    """
    oligo = (studies.kind == PROGRESSION) & (course.segments.kind[studies.segment] == OLIGO)
    rows = np.nonzero(oligo)[0]
    recorded = rng.random(rows.size) < p.RISK_RECORDED_SHARE
    who = studies.patient[rows][recorded]
    day = studies.day[rows][recorded].astype(np.int64) + uniform_days(rng, p.RISK_RECORD_DAYS, int(recorded.sum()))
    again = rng.random(who.size) < p.RISK_REASSESSED_SHARE
    later = day[again] + uniform_days(rng, p.RISK_REASSESSMENT_DAYS, int(again.sum()))
    parts = []
    for code, share in ((MEDICAL_RISK, p.MEDICAL_RISK_TRUE_SHARE), (COMPLIANCE_RISK, p.COMPLIANCE_RISK_TRUE_SHARE)):
        parts.append((who, code, day, rng.random(who.size) < share))
        parts.append((who[again], code, later, rng.random(later.size) < share))
    patient = np.concatenate([q[0] for q in parts]).astype(np.int32)
    code = np.concatenate([np.full(q[0].size, q[1]) for q in parts]).astype(np.int8)
    start = np.concatenate([q[2] for q in parts]).astype(np.int64)
    value = np.concatenate([q[3] for q in parts])
    death = course.death[patient].astype(np.int64)
    keep = (start <= last_day) & (start < np.where(death == NO_DATE, np.iinfo(np.int64).max, death))
    return Observations(
        patient[keep],
        code[keep],
        start[keep].astype(np.int32),
        np.full(int(keep.sum()), NO_DATE, dtype=np.int32),
        value[keep],
    )


def combine_observations(*parts: Observations) -> Observations:
    """Observations of several kinds as one set, ordered by patient, start date and code."""
    patient = np.concatenate([o.patient for o in parts])
    code = np.concatenate([o.code for o in parts])
    start = np.concatenate([o.start for o in parts])
    order = np.lexsort((code, start, patient))
    return Observations(
        patient[order],
        code[order],
        start[order],
        np.concatenate([o.end for o in parts])[order],
        np.concatenate([o.value for o in parts])[order],
    )
