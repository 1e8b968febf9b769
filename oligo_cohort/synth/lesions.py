"""Lesions per organ and how they evolve: shrink or stay stable on a line, then grow or appear at progression.

Each patient has `SLOTS` lesion slots. A slot holds one lesion (organ,
location, the day it first shows on imaging) once used; new lesions take free
slots. The course is walked one segment ordinal at a time (first segments of
every patient, then second ones, ...), vectorised over patients, and each
segment keeps its sizes at the start, its per-lesion nadir and its sizes at the
progression study, from which every study's measurements are computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oligo_cohort.synth import parameters as p
from oligo_cohort.synth.arrays import NO_DATE, draw_rows, group_positions
from oligo_cohort.synth.cohort import Patients
from oligo_cohort.synth.course import OLIGO, POLY, Segments
from oligo_cohort.synth.regimens import LINE_CLASS_ORDER

ORGANS = (
    "breast", "axillary_node", "liver", "lung", "bone", "brain",
    "distant_node", "adrenal", "pleura", "peritoneum", "skin", "other",
)  # fmt: skip
LOCATIONS = ("primary", "locoregional_node", "distant")
ORGAN_LOCATION = np.array([0, 1] + [2] * (len(ORGANS) - 2), dtype=np.int8)
BREAST, AXILLA, BONE = ORGANS.index("breast"), ORGANS.index("axillary_node"), ORGANS.index("bone")
DISTANT = 2
SLOTS = 16
BASELINE_DISTANT_MAX = 7
ALWAYS = np.int32(np.iinfo(np.int32).min)  # appears before any study

# Response category of a segment.
COMPLETE, PARTIAL, STABLE = range(3)


@dataclass
class LesionState:
    """The lesion slots of every patient of a block (shape [patients, SLOTS])."""

    organ: np.ndarray  # -1 = free slot
    appear: np.ndarray  # first day the lesion shows on imaging (NO_DATE: free)
    size: np.ndarray  # current size (mm), NaN before it appears
    suv: np.ndarray
    reference_size: np.ndarray  # size at the start of the current line (NaN: new since)
    reference_suv: np.ndarray
    progressed: np.ndarray  # progressive at the latest progression (ablated if the line goes on)


@dataclass
class SegmentSizes:
    """Per segment (shape [segments, SLOTS]): sizes at its start, nadir factor, sizes at its end study."""

    start_size: np.ndarray
    start_suv: np.ndarray
    nadir: np.ndarray
    end_size: np.ndarray
    end_suv: np.ndarray
    response: np.ndarray  # per segment: COMPLETE, PARTIAL or STABLE


def baseline_lesions(rng: np.random.Generator, patients: Patients) -> LesionState:
    """The lesions seen at the metastatic diagnosis: organs per the domain-facts shares, a few per organ."""
    n = len(patients)
    counts = np.zeros((n, len(ORGANS)), np.int32)
    bone = rng.random(n) < p.BONE_SHARE
    counts[:, BONE] = bone
    for organ, share in p.ORGAN_SHARES.items():
        counts[:, ORGANS.index(organ)] = rng.random(n) < share
    lonely = ~counts.any(axis=1)
    fallback_codes = np.array([ORGANS.index(o) for o in p.FALLBACK_ORGANS])
    weights = np.array(list(p.FALLBACK_ORGANS.values()))
    fallback = fallback_codes[np.searchsorted(np.cumsum(weights) / weights.sum(), rng.random(n), side="right")]
    counts[np.nonzero(lonely)[0], fallback[lonely]] = 1
    for organ, most in p.LESIONS_PER_ORGAN_MAX.items():
        code = ORGANS.index(organ)
        extra = np.minimum(rng.geometric(1 - p.LESIONS_PER_ORGAN_CONTINUE, n) - 1, most - 1)
        counts[:, code] += np.where(counts[:, code] > 0, extra, 0)
    distant = counts[:, 2:]
    cumulative = np.cumsum(distant, axis=1)
    counts[:, 2:] = np.minimum(cumulative, BASELINE_DISTANT_MAX) - np.minimum(
        cumulative - distant, BASELINE_DISTANT_MAX
    )
    primary = patients.de_novo & (rng.random(n) < p.DE_NOVO_PRIMARY_LESION_SHARE)
    axilla = patients.de_novo & (rng.random(n) < p.DE_NOVO_AXILLARY_NODE_SHARE)
    regional = ~patients.de_novo & (rng.random(n) < p.RECURRENT_LOCOREGIONAL_SHARE)
    counts[:, BREAST] = primary | (regional & (rng.random(n) < 0.5))
    counts[:, AXILLA] = axilla | (regional & (counts[:, BREAST] == 0))

    # Slot k of a patient holds the organ whose cumulative count first exceeds k.
    cumulative = np.cumsum(counts, axis=1)
    slot = np.arange(SLOTS)
    organ = (cumulative[:, None, :] <= slot[None, :, None]).sum(axis=2).astype(np.int8)
    used = slot[None, :] < cumulative[:, -1:]
    organ = np.where(used, organ, -1).astype(np.int8)
    median = np.array([p.LESION_SIZE_MEDIAN_MM.get(o, 15.0) for o in ORGANS])
    size = np.rint(
        np.maximum(
            median[np.maximum(organ, 0)] * np.exp(p.LESION_SIZE_LOG_SIGMA * rng.standard_normal(organ.shape)),
            p.LESION_SIZE_MIN_MM,
        )
    )
    suv = np.round(p.SUV_MEDIAN * np.exp(p.SUV_LOG_SIGMA * rng.standard_normal(organ.shape)), 1)
    return LesionState(
        organ=organ,
        appear=np.where(used, ALWAYS, NO_DATE).astype(np.int32),
        size=np.where(used, size, np.nan),
        suv=np.where(used, suv, np.nan),
        reference_size=np.full(organ.shape, np.nan),
        reference_suv=np.full(organ.shape, np.nan),
        progressed=np.zeros(organ.shape, bool),
    )


def evolve(rng: np.random.Generator, state: LesionState, segments: Segments) -> SegmentSizes:
    """Walk every patient's segments in order, recording sizes per segment and updating the lesion slots."""
    total = len(segments)
    out = SegmentSizes(
        start_size=np.full((total, SLOTS), np.nan),
        start_suv=np.full((total, SLOTS), np.nan),
        nadir=np.ones((total, SLOTS)),
        end_size=np.full((total, SLOTS), np.nan),
        end_suv=np.full((total, SLOTS), np.nan),
        response=np.full(total, STABLE, np.int8),
    )
    _, ordinal = group_positions(np.bincount(segments.patient, minlength=int(segments.patient.max(initial=0)) + 1))
    for step in range(int(ordinal.max(initial=-1)) + 1):
        rows = np.nonzero(ordinal == step)[0]
        _evolve_segments(rng, state, segments, rows, out)
    return out


def _evolve_segments(
    rng: np.random.Generator, state: LesionState, seg: Segments, rows: np.ndarray, out: SegmentSizes
) -> None:
    m = rows.size
    who = seg.patient[rows]
    start, end = seg.start[rows], seg.end[rows]
    new_line = seg.part[rows] == 0
    # The reference of a line is the lesion picture at its start.
    state.reference_size[who[new_line]] = state.size[who[new_line]]
    state.reference_suv[who[new_line]] = state.suv[who[new_line]]

    start_size, start_suv = state.size[who], state.suv[who]
    response = _response(rng, seg.line_class[rows])
    low = np.array([p.RESPONSE_NADIR[k][0] for k in ("complete", "partial", "stable")])[response]
    high = np.array([p.RESPONSE_NADIR[k][1] for k in ("complete", "partial", "stable")])[response]
    segment_nadir = rng.uniform(low, high)
    nadir = np.clip(segment_nadir[:, None] * (1 + 0.1 * rng.standard_normal((m, SLOTS))), 0.0, 1.08)
    # After local therapy the same line goes on: ablated lesions shrink, the rest stay about stable.
    after_local = ~new_line
    nadir[after_local] = rng.uniform(0.92, 1.05, (int(after_local.sum()), SLOTS))
    nadir = np.where(after_local[:, None] & state.progressed[who], p.ABLATED_SIZE_FACTOR, nadir)
    response = np.where(after_local, STABLE, response)

    factor = shrink_factor(nadir, (end - start)[:, None])
    end_size = np.rint(start_size * factor * (1 + p.SIZE_NOISE_SD * rng.standard_normal((m, SLOTS))))
    end_suv = np.round(start_suv * factor * (1 + p.SUV_NOISE_SD * rng.standard_normal((m, SLOTS))), 1)
    visible = state.appear[who] <= start[:, None]
    progressive = np.zeros((m, SLOTS), bool)

    kind = seg.kind[rows]
    progressing = np.isin(kind, (OLIGO, POLY))
    distant = visible & (ORGAN_LOCATION[np.maximum(state.organ[who], 0)] == DISTANT)
    regional = visible & ~distant & (state.organ[who] >= 0)
    use_regional = (kind == OLIGO) & regional.any(axis=1) & (rng.random(m) < p.OLIGO_LOCOREGIONAL_SHARE)
    candidates = np.where(use_regional[:, None], regional, distant)
    anchor = draw_rows(rng, candidates.astype(np.float64))
    has_anchor = progressing & (anchor >= 0)
    anchor_organ = np.where(anchor >= 0, state.organ[who, np.maximum(anchor, 0)], BONE).astype(np.int8)
    slot = np.arange(SLOTS)[None, :]
    is_anchor = has_anchor[:, None] & (slot == anchor[:, None])

    oligo = kind == OLIGO
    two = rng.random(m) >= p.OLIGO_ONE_LESION_SHARE
    by_growth = rng.random(m) < p.OLIGO_GROWTH_SHARE
    same_organ = candidates & (state.organ[who] == anchor_organ[:, None]) & ~is_anchor
    second = draw_rows(rng, same_organ.astype(np.float64))
    grows_second = oligo & by_growth & two & (second >= 0)
    growth = (oligo & by_growth)[:, None] & is_anchor
    growth |= grows_second[:, None] & (slot == second[:, None])
    new_in_anchor_organ = np.where(oligo & by_growth & two & (second < 0), 1, 0)
    new_in_anchor_organ = np.where(oligo & ~by_growth, np.where(two, 2, 1), new_in_anchor_organ)
    new_in_anchor_organ = np.where(oligo & ~has_anchor, np.where(two, 2, 1), new_in_anchor_organ)

    poly = kind == POLY
    single_organ = poly & (rng.random(m) < p.POLY_SINGLE_ORGAN_SHARE)
    growth |= poly[:, None] & is_anchor
    growth |= (poly & ~single_organ)[:, None] & visible & (rng.random((m, SLOTS)) < p.POLY_GROWTH_SHARE)
    new_in_anchor_organ = np.where(single_organ, 2, new_in_anchor_organ)
    other_organ = _other_organ(rng, anchor_organ)
    new_elsewhere = np.where(poly & ~single_organ, np.where(rng.random(m) < 0.5, 2, 1), 0)

    base = np.where(np.isnan(state.reference_size[who]), start_size, state.reference_size[who])
    base_suv = np.where(np.isnan(state.reference_suv[who]), start_suv, state.reference_suv[who])
    grown = np.ceil(base * rng.uniform(*p.GROWTH_FACTOR, (m, SLOTS)))
    floor = np.where(state.organ[who] == BONE, 0.0, np.rint(rng.uniform(*p.GROWTH_FLOOR_MM, (m, SLOTS))))
    end_size = np.minimum(np.where(growth, np.maximum(grown, floor), end_size), p.LESION_SIZE_MAX_MM)
    end_suv = np.where(growth, np.round(np.maximum(end_suv, base_suv * rng.uniform(1.25, 2.0, (m, SLOTS))), 1), end_suv)
    progressive |= growth

    for count_needed, organ_code, appear_day in (
        (new_in_anchor_organ, anchor_organ, end),
        (new_elsewhere, other_organ, end),
        (np.where(seg.pet_shows_more[rows], 1, 0), other_organ, end + 1),
    ):
        for k in (1, 2):
            wanted = count_needed >= k
            added = _add_lesion(rng, state, who, wanted, organ_code, appear_day, end_size, end_suv)
            progressive |= added & (appear_day == end)[:, None]

    out.start_size[rows], out.start_suv[rows] = start_size, start_suv
    out.nadir[rows], out.response[rows] = nadir, response
    out.end_size[rows], out.end_suv[rows] = end_size, end_suv
    shown = state.appear[who] <= (end + 1)[:, None]
    state.size[who] = np.where(shown, end_size, state.size[who])
    state.suv[who] = np.where(shown, end_suv, state.suv[who])
    state.progressed[who] = progressive


def shrink_factor(nadir: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Size relative to the segment start after `days`: from 1 towards the nadir, exponentially."""
    return nadir + (1.0 - nadir) * np.exp(-np.maximum(days, 0) / p.RESPONSE_HALF_TIME_DAYS)


def _response(rng: np.random.Generator, line_class: np.ndarray) -> np.ndarray:
    partial = np.array([p.PARTIAL_RESPONSE_SHARE[c] for c in LINE_CLASS_ORDER])[line_class]
    u = rng.random(line_class.size)
    response = np.where(u < partial, PARTIAL, STABLE)
    return np.where(u < partial * p.COMPLETE_RESPONSE_SHARE, COMPLETE, response).astype(np.int8)


def _other_organ(rng: np.random.Generator, anchor_organ: np.ndarray) -> np.ndarray:
    """A distant organ other than the anchor's, drawn by the metastatic-site shares."""
    weights = np.zeros((anchor_organ.size, len(ORGANS)))
    weights[:, BONE] = p.BONE_SHARE
    for organ, share in p.ORGAN_SHARES.items():
        weights[:, ORGANS.index(organ)] = share
    weights[np.arange(anchor_organ.size), anchor_organ] = 0.0
    return draw_rows(rng, weights).astype(np.int8)


def _add_lesion(
    rng: np.random.Generator,
    state: LesionState,
    who: np.ndarray,
    wanted: np.ndarray,
    organ: np.ndarray,
    appear_day: np.ndarray,
    end_size: np.ndarray,
    end_suv: np.ndarray,
) -> np.ndarray:
    """Put a new lesion in the first free slot of each wanted row; returns the [rows, SLOTS] mask of slots used."""
    free = state.organ[who] < 0
    first = free.argmax(axis=1)
    ok = wanted & free.any(axis=1)
    rows = np.nonzero(ok)[0]
    cols = first[rows]
    state.organ[who[rows], cols] = organ[rows]
    state.appear[who[rows], cols] = appear_day[rows]
    end_size[rows, cols] = np.rint(rng.uniform(*p.NEW_LESION_SIZE_MM, rows.size))
    end_suv[rows, cols] = np.round(p.SUV_MEDIAN * 1.2 * np.exp(p.SUV_LOG_SIGMA * rng.standard_normal(rows.size)), 1)
    used = np.zeros(end_size.shape, bool)
    used[rows, cols] = True
    return used
