"""The metastatic course: lines of therapy, the progressions that end them, deaths.

Each line is one or two *segments*. A segment ends at a progression study
(oligo-, poly- or unmeasured progression), at death or at the end of the
extract. An oligoprogression treated locally lets the same line go on for a
second segment - the situation COSMO studies. Lines are built one line number
at a time, vectorised over every patient who reaches that line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oligo_cohort.synth import parameters as p
from oligo_cohort.synth.arrays import DAYS_PER_MONTH, NO_DATE, lognormal_days, uniform_days
from oligo_cohort.synth.cohort import Patients
from oligo_cohort.synth.regimens import LINE_CLASS_ORDER, compiled

# How a segment ends.
OLIGO, POLY, UNMEASURED, DEATH, OPEN = range(5)
PROGRESSIONS = (OLIGO, POLY, UNMEASURED)


@dataclass
class Lines:
    """Per patient and line number (shape [patients, MAX_LINES])."""

    exists: np.ndarray
    start: np.ndarray
    regimen: np.ndarray
    trial: np.ndarray  # the line is a blinded trial drug (imperfection)
    stop: np.ndarray  # day the regimen's drugs stop (NO_DATE: still going at the end of the extract)


@dataclass
class Segments:
    """One entry per segment, in line order within each patient."""

    patient: np.ndarray  # row of the block's Patients
    line: np.ndarray  # 0-based line number
    part: np.ndarray  # 0 = from the line start; 1 = after local therapy of an oligoprogression
    start: np.ndarray
    end: np.ndarray  # day of the progression study, of death, or the last day of the extract
    kind: np.ndarray  # OLIGO, POLY, UNMEASURED, DEATH, OPEN
    line_start: np.ndarray
    line_class: np.ndarray  # index into LINE_CLASS_ORDER
    previous_end: np.ndarray  # end of the patient's previous segment (NO_DATE for the first)
    pet_day: np.ndarray  # confirmation FDG-PET-CT (NO_DATE: none)
    pet_shows_more: np.ndarray
    continues: np.ndarray  # an oligoprogression treated locally; the line's part 1 follows

    def __len__(self) -> int:
        return int(self.patient.size)


@dataclass
class Course:
    """The lines, their segments and each patient's death day (NO_DATE if alive at the end)."""

    lines: Lines
    segments: Segments
    death: np.ndarray


@dataclass
class _LineDraw:
    """One line number for the patients who reach it: regimen, its segments' ends, kinds and PETs."""

    start: np.ndarray
    regimen: np.ndarray
    line_class: np.ndarray
    trial: np.ndarray
    end0: np.ndarray
    kind0: np.ndarray
    pet0: np.ndarray
    more0: np.ndarray
    continues: np.ndarray
    end1: np.ndarray
    kind1: np.ndarray
    pet1: np.ndarray
    more1: np.ndarray

    @property
    def final_end(self) -> np.ndarray:
        return np.where(self.continues, self.end1, self.end0)

    @property
    def final_kind(self) -> np.ndarray:
        return np.where(self.continues, self.kind1, self.kind0)

    @property
    def final_pet(self) -> np.ndarray:
        return np.where(self.continues, self.pet1, self.pet0)


def make_course(rng: np.random.Generator, patients: Patients, last_day: int, *, imperfect: bool) -> Course:
    """Draw every patient's lines, segments and death, one line number at a time."""
    n = len(patients)
    shape = (n, p.MAX_LINES)
    lines = Lines(
        exists=np.zeros(shape, bool),
        start=np.full(shape, NO_DATE, np.int32),
        regimen=np.full(shape, -1, np.int16),
        trial=np.zeros(shape, bool),
        stop=np.full(shape, NO_DATE, np.int32),
    )
    death = np.full(n, NO_DATE, np.int32)
    parts: list[dict[str, np.ndarray]] = []
    next_start = patients.metastasis + uniform_days(rng, p.FIRST_LINE_DELAY_DAYS, n)
    previous_end = np.full(n, NO_DATE, np.int32)
    reaching = next_start <= last_day
    for line in range(p.MAX_LINES):
        rows = np.nonzero(reaching)[0]
        if rows.size == 0:
            break
        previous_regimen = lines.regimen[rows, line - 1] if line > 0 else None
        draw = _draw_line(rng, patients.subtype[rows], next_start[rows], line, previous_regimen, last_day, imperfect)
        lines.exists[rows, line] = True
        lines.start[rows, line] = draw.start
        lines.regimen[rows, line] = draw.regimen
        lines.trial[rows, line] = draw.trial
        parts += _segment_parts(rows, line, draw, previous_end[rows])
        previous_end[rows] = draw.final_end

        # How the line ends: the drugs stop after a progression or at death; then a next line, or not.
        m = rows.size
        final_end, final_kind = draw.final_end, draw.final_kind
        died_on_line = final_kind == DEATH
        death[rows[died_on_line]] = final_end[died_on_line]
        progressed = np.isin(final_kind, PROGRESSIONS)
        stop = np.full(m, NO_DATE, np.int32)
        stop = np.where(progressed, final_end + uniform_days(rng, p.STOP_AFTER_PROGRESSION_DAYS, m), stop)
        stop = np.where(died_on_line, np.maximum(draw.start, final_end - uniform_days(rng, (0, 14), m)), stop)
        stop = np.where(stop > last_day, NO_DATE, stop)

        group = min(line, 3)
        # NEXT_LINE_SHARE counts deaths on the line among the patients who start no next line.
        share_next = np.array([p.NEXT_LINE_SHARE[s][group] for s in p.SUBTYPES])[patients.subtype[rows]]
        share_next = np.minimum(share_next / (1.0 - p.DEATH_ON_LINE_SHARE[group]), 1.0)
        goes_on = progressed & (rng.random(m) < share_next) & (line + 1 < p.MAX_LINES)
        gap_start = final_end + uniform_days(rng, p.NEXT_LINE_GAP_DAYS, m)
        # A confirmation PET is awaited before switching.
        after_pet = np.where(draw.final_pet == NO_DATE, 0, draw.final_pet + uniform_days(rng, (3, 21), m))
        following = np.maximum(gap_start, after_pet).astype(np.int32)
        dies_after = progressed & ~goes_on & (rng.random(m) < p.DEATH_AFTER_LAST_LINE_SHARE)
        survival = np.maximum(
            lognormal_days(rng, p.DEATH_AFTER_LAST_LINE_MEDIAN_DAYS, p.DEATH_AFTER_LAST_LINE_LOG_SIGMA, m), 3
        )
        death_day = final_end + survival
        recorded = dies_after & (death_day <= last_day)
        death[rows[recorded]] = death_day[recorded]
        lines.stop[rows, line] = np.where(recorded, np.minimum(stop, death_day), stop)
        next_start[rows] = following
        reaching = np.zeros(n, bool)
        reaching[rows[goes_on & (following <= last_day)]] = True

    return Course(lines=lines, segments=_concatenate(parts), death=death)


def _draw_line(
    rng: np.random.Generator,
    subtype: np.ndarray,
    start: np.ndarray,
    line: int,
    previous_regimen: np.ndarray | None,
    last_day: int,
    imperfect: bool,
) -> _LineDraw:
    """Regimen, time on line, how each segment ends (censored at the end of the extract)."""
    m = subtype.size
    group = min(line, 3)
    regimen, multiplier = _draw_regimens(rng, subtype, group)
    if previous_regimen is not None:
        regimen, multiplier = _avoid_repeats(regimen, multiplier, previous_regimen)
    line_class = compiled().line_class[regimen]
    trial = imperfect & (rng.random(m) < p.TRIAL_DRUG_LINE_SHARE)

    median = np.array([p.LINE_MEDIAN_MONTHS[s][group] for s in p.SUBTYPES])[subtype] * multiplier
    duration = np.maximum(lognormal_days(rng, median * DAYS_PER_MONTH, p.LINE_LOG_SIGMA, m), p.LINE_MIN_DAYS)
    end0 = start + duration
    kind0 = _progression_kind(rng, line_class)
    dies = rng.random(m) < p.DEATH_ON_LINE_SHARE[group]
    end0 = np.where(dies, start + (duration * rng.uniform(0.2, 1.0, m)).astype(np.int32), end0)
    kind0 = np.where(dies, DEATH, kind0)
    pet0, more0 = _confirmation_pet(rng, kind0, end0)

    # An oligoprogression treated locally: the line goes on (after the confirmation PET, if any).
    continues = (kind0 == OLIGO) & ~more0 & (rng.random(m) < p.LOCAL_THERAPY_CONTINUE_SHARE)
    extra = np.maximum(
        lognormal_days(rng, p.CONTINUED_LINE_MEDIAN_MONTHS * DAYS_PER_MONTH, p.LINE_LOG_SIGMA, m), p.LINE_MIN_DAYS
    )
    resume = np.maximum(end0, np.where(pet0 == NO_DATE, end0, pet0))
    end1 = np.where(continues, resume + extra, NO_DATE)
    kind1 = np.where(continues, _progression_kind(rng, line_class), OPEN)
    pet1, more1 = _confirmation_pet(rng, kind1, end1)

    # Censoring at the end of the extract.
    open0 = end0 > last_day
    continues &= ~open0
    open1 = continues & (end1 > last_day)
    return _LineDraw(
        start=start,
        regimen=regimen,
        line_class=line_class,
        trial=trial,
        end0=np.minimum(end0, last_day),
        kind0=np.where(open0, OPEN, kind0).astype(np.int8),
        pet0=np.where(pet0 > last_day, NO_DATE, pet0),
        more0=more0,
        continues=continues,
        end1=np.minimum(end1, last_day),
        kind1=np.where(open1, OPEN, kind1).astype(np.int8),
        pet1=np.where(pet1 > last_day, NO_DATE, pet1),
        more1=more1,
    )


def _draw_regimens(rng: np.random.Generator, subtype: np.ndarray, group: int) -> tuple[np.ndarray, np.ndarray]:
    """A regimen from the menu of each patient's subtype for this line group, and its time-on-line multiplier."""
    regimens = compiled()
    regimen = np.empty(subtype.size, np.int16)
    multiplier = np.empty(subtype.size, np.float64)
    for s in range(len(p.SUBTYPES)):
        rows = np.nonzero(subtype == s)[0]
        probs = regimens.menu_probs[s, group]
        choice = np.minimum(np.searchsorted(np.cumsum(probs), rng.random(rows.size), side="right"), probs.size - 1)
        regimen[rows] = regimens.menu_ids[s, group][choice]
        multiplier[rows] = regimens.pfs_multiplier[s, group][choice]
    return regimen, multiplier


def _avoid_repeats(regimen: np.ndarray, multiplier: np.ndarray, previous: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Replace a regimen that adds nothing to the previous line's by its fallback (twice at most)."""
    table = compiled()
    for _ in range(2):
        repeats = table.repeats_previous[regimen, previous]
        regimen = np.where(repeats, table.fallback[regimen], regimen).astype(np.int16)
        multiplier = np.where(repeats, 1.0, multiplier)
    return regimen, multiplier


def _progression_kind(rng: np.random.Generator, line_class: np.ndarray) -> np.ndarray:
    """Oligo-, poly- or unmeasured progression; the oligo share depends on the therapy class."""
    oligo_share = np.array([p.OLIGO_SHARE[c] for c in LINE_CLASS_ORDER])[line_class]
    u = rng.random(line_class.size)
    kind = np.where(u < p.UNMEASURED_PROGRESSION_SHARE, UNMEASURED, POLY)
    oligo = (u >= p.UNMEASURED_PROGRESSION_SHARE) & (u < p.UNMEASURED_PROGRESSION_SHARE + oligo_share)
    return np.where(oligo, OLIGO, kind).astype(np.int8)


def _confirmation_pet(rng: np.random.Generator, kind: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Day of a confirmation FDG-PET-CT after some oligoprogressions (mostly 35-49 days later), and whether
    it shows further disease."""
    m = kind.size
    has = (kind == OLIGO) & (rng.random(m) < p.CONFIRMATION_PET_SHARE)
    inside = uniform_days(rng, (35, 49), m)
    outside = np.where(rng.random(m) < 0.5, uniform_days(rng, (26, 34), m), uniform_days(rng, (50, 63), m))
    offset = np.where(rng.random(m) < p.CONFIRMATION_PET_IN_WINDOW_SHARE, inside, outside)
    day = np.where(has, end + offset, NO_DATE).astype(np.int32)
    shows_more = has & (rng.random(m) < p.CONFIRMATION_PET_SHOWS_MORE_SHARE)
    return day, shows_more


def _segment_parts(
    rows: np.ndarray, line: int, draw: _LineDraw, previous_end: np.ndarray
) -> list[dict[str, np.ndarray]]:
    """The line's first segments (every row) and second segments (rows whose line went on)."""
    first = {
        "patient": rows,
        "part": np.zeros(rows.size),
        "start": draw.start,
        "end": draw.end0,
        "kind": draw.kind0,
        "line_start": draw.start,
        "line_class": draw.line_class,
        "previous_end": previous_end,
        "pet_day": draw.pet0,
        "pet_shows_more": draw.more0,
        "continues": draw.continues,
    }
    on = np.nonzero(draw.continues)[0]
    second = {
        "patient": rows[on],
        "part": np.ones(on.size),
        "start": draw.end0[on],
        "end": draw.end1[on],
        "kind": draw.kind1[on],
        "line_start": draw.start[on],
        "line_class": draw.line_class[on],
        "previous_end": draw.end0[on],
        "pet_day": draw.pet1[on],
        "pet_shows_more": draw.more1[on],
        "continues": np.zeros(on.size, bool),
    }
    return [_typed_part(part, line) for part in (first, second)]


def _typed_part(part: dict[str, np.ndarray], line: int) -> dict[str, np.ndarray]:
    types = {"patient": np.int32, "part": np.int8, "kind": np.int8, "line_class": np.int8, "pet_shows_more": bool,
             "continues": bool}  # fmt: skip
    typed = {key: value.astype(types.get(key, np.int32)) for key, value in part.items()}
    typed["line"] = np.full(part["patient"].size, line, np.int8)
    return typed


def _concatenate(parts: list[dict[str, np.ndarray]]) -> Segments:
    """Join the per-line parts and order segments by patient, then time."""
    joined = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    order = np.lexsort((joined["part"], joined["line"], joined["patient"]))
    return Segments(**{key: value[order] for key, value in joined.items()})
