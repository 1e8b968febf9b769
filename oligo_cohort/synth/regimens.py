"""Regimen menus by subtype and line, compiled into lookup arrays for vectorised drawing.

A regimen is written as drugs joined by `+`. `name:126` is a fixed course of
about 126 days (six three-weekly cycles; 85-120 % of it) after which the drug
stops while the rest goes on - the de-escalation the protocol counts as one
line; `name:126-168` is a course of 126 to 168 days (6-8 cycles); a trailing `~`
marks a partner drug that may stop early for toxicity. Weights are relative
within a menu. Sources: the domain facts ("Systemic drugs in metastatic breast
cancer", "Usually dropped in de-escalation", palbociclib 91 % of CDK4/6 use in
SONIA); the exact mix of later lines is an assumption.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from oligo_cohort.dictionary import drugs
from oligo_cohort.synth import parameters as p

# Menus: subtype -> one menu per line (1, 2, 3, 4+); each entry (weight, time-on-line multiplier, regimen).
MENUS: dict[str, tuple[tuple[tuple[float, float, str], ...], ...]] = {
    "er_pos_her2_neg": (
        (
            (0.40, 1.0, "letrozole + palbociclib~"),
            (0.22, 1.0, "anastrozole + palbociclib~"),
            (0.04, 1.0, "letrozole + ribociclib~"),
            (0.03, 1.0, "letrozole + abemaciclib~"),
            (0.07, 0.9, "fulvestrant + palbociclib~"),
            (0.08, 0.6, "letrozole"),
            (0.03, 0.5, "tamoxifen"),
            (0.07, 0.4, "paclitaxel"),
            (0.04, 0.4, "capecitabine"),
            (0.02, 0.3, "doxorubicin + cyclophosphamide"),
        ),
        (
            (0.25, 0.8, "exemestane + everolimus~"),
            (0.15, 1.0, "fulvestrant + alpelisib~"),
            (0.10, 1.0, "fulvestrant + capivasertib~"),
            (0.16, 0.7, "fulvestrant"),
            (0.05, 1.0, "fulvestrant + abemaciclib~"),
            (0.04, 0.8, "elacestrant"),
            (0.13, 0.8, "capecitabine"),
            (0.10, 0.8, "paclitaxel"),
            (0.02, 1.0, "olaparib"),
        ),
        (
            (0.28, 1.0, "capecitabine"),
            (0.20, 1.0, "paclitaxel"),
            (0.14, 0.9, "exemestane + everolimus~"),
            (0.12, 1.0, "eribulin"),
            (0.12, 1.2, "trastuzumab deruxtecan"),
            (0.06, 1.0, "sacituzumab govitecan"),
            (0.08, 0.9, "doxorubicin"),
        ),
        (
            (0.28, 1.0, "eribulin"),
            (0.20, 1.0, "vinorelbine"),
            (0.15, 1.0, "capecitabine"),
            (0.15, 1.2, "trastuzumab deruxtecan"),
            (0.10, 1.0, "sacituzumab govitecan"),
            (0.12, 0.9, "gemcitabine + carboplatin"),
        ),
    ),
    "her2_pos": (
        (
            (0.55, 1.0, "pertuzumab + trastuzumab + docetaxel:126-168"),
            (0.15, 1.0, "pertuzumab+trastuzumab + paclitaxel:126-168"),
            (0.10, 0.7, "trastuzumab + paclitaxel:126-168"),
            (0.06, 0.8, "trastuzumab + vinorelbine"),
            (0.06, 0.8, "trastuzumab emtansine"),
            (0.08, 1.0, "pertuzumab + trastuzumab + letrozole"),
        ),
        (
            (0.60, 1.3, "trastuzumab deruxtecan"),
            (0.25, 0.6, "trastuzumab emtansine"),
            (0.15, 0.8, "tucatinib + trastuzumab + capecitabine"),
        ),
        (
            (0.30, 0.8, "trastuzumab emtansine"),
            (0.30, 1.0, "tucatinib + trastuzumab + capecitabine"),
            (0.15, 0.8, "lapatinib + capecitabine"),
            (0.15, 0.8, "trastuzumab + vinorelbine"),
            (0.10, 1.2, "trastuzumab deruxtecan"),
        ),
        (
            (0.30, 1.0, "trastuzumab + eribulin"),
            (0.20, 1.0, "lapatinib + trastuzumab"),
            (0.20, 1.0, "neratinib + capecitabine"),
            (0.10, 1.0, "margetuximab + gemcitabine"),
            (0.20, 1.0, "vinorelbine"),
        ),
    ),
    "triple_negative": (
        (
            (0.30, 1.2, "pembrolizumab + paclitaxel:168"),
            (0.10, 1.2, "pembrolizumab + nab-paclitaxel:168"),
            (0.10, 1.2, "pembrolizumab + gemcitabine:126 + carboplatin:126"),
            (0.05, 1.1, "atezolizumab + nab-paclitaxel:168"),
            (0.18, 1.0, "paclitaxel"),
            (0.10, 1.0, "gemcitabine + carboplatin"),
            (0.07, 0.9, "capecitabine"),
            (0.05, 0.9, "doxorubicin"),
            (0.05, 1.3, "olaparib"),
        ),
        (
            (0.50, 1.3, "sacituzumab govitecan"),
            (0.15, 1.0, "capecitabine"),
            (0.15, 1.0, "eribulin"),
            (0.10, 0.9, "gemcitabine + carboplatin"),
            (0.10, 1.2, "trastuzumab deruxtecan"),
        ),
        (
            (0.35, 1.0, "eribulin"),
            (0.25, 1.0, "capecitabine"),
            (0.20, 1.0, "vinorelbine"),
            (0.10, 1.0, "sacituzumab govitecan"),
            (0.10, 1.0, "gemcitabine"),
        ),
        (
            (0.30, 1.0, "vinorelbine"),
            (0.30, 1.0, "eribulin"),
            (0.20, 1.0, "gemcitabine"),
            (0.20, 1.0, "cyclophosphamide + methotrexate"),
        ),
    ),
}

# Alternative when a drawn regimen repeats only drugs of the line before (which the line algorithm would
# read as the same line going on): a regimen of other drugs, of the same intent.
FALLBACKS: dict[str, str] = {
    "capecitabine": "eribulin",
    "eribulin": "vinorelbine",
    "vinorelbine": "eribulin",
    "paclitaxel": "capecitabine",
    "doxorubicin": "eribulin",
    "gemcitabine": "vinorelbine",
    "gemcitabine + carboplatin": "vinorelbine",
    "trastuzumab deruxtecan": "eribulin",
    "sacituzumab govitecan": "eribulin",
    "exemestane + everolimus~": "capecitabine",
    "trastuzumab emtansine": "tucatinib + trastuzumab + capecitabine",
    "tucatinib + trastuzumab + capecitabine": "trastuzumab + eribulin",
    "trastuzumab + vinorelbine": "trastuzumab + eribulin",
    "trastuzumab + eribulin": "neratinib + capecitabine",
    "lapatinib + trastuzumab": "neratinib + capecitabine",
    "lapatinib + capecitabine": "trastuzumab + eribulin",
    "neratinib + capecitabine": "trastuzumab + eribulin",
    "fulvestrant": "exemestane + everolimus~",
    "olaparib": "capecitabine",
}

# Adjuvant (and neoadjuvant) treatment of the breast cancer before a relapse, by subtype: chemotherapy
# courses as (drug, start offset days from the course start, duration days), and the endocrine or
# anti-HER2 therapy that follows. Assumption: standard anthracycline-taxane schedules.
ADJUVANT_CHEMO: dict[str, tuple[tuple[float, tuple[tuple[str, int, int], ...]], ...]] = {
    "er_pos_her2_neg": (
        (0.45, ()),
        (0.40, (("doxorubicin", 0, 63), ("cyclophosphamide", 0, 63), ("paclitaxel", 70, 84))),
        (0.15, (("docetaxel", 0, 84), ("cyclophosphamide", 0, 84))),
    ),
    "her2_pos": (
        (0.55, (("docetaxel", 0, 126), ("carboplatin", 0, 126), ("trastuzumab", 0, 365), ("pertuzumab", 0, 365))),
        (0.45, (("doxorubicin", 0, 63), ("cyclophosphamide", 0, 63), ("paclitaxel", 70, 84), ("trastuzumab", 70, 365))),
    ),
    "triple_negative": (
        (0.60, (("doxorubicin", 0, 63), ("cyclophosphamide", 0, 63), ("paclitaxel", 70, 84))),
        (0.25, (("doxorubicin", 0, 63), ("cyclophosphamide", 0, 63), ("paclitaxel", 70, 84), ("carboplatin", 70, 84))),
        (
            0.15,
            (("doxorubicin", 0, 63), ("cyclophosphamide", 0, 63), ("paclitaxel", 70, 84), ("capecitabine", 180, 168)),
        ),
    ),
}
ADJUVANT_ENDOCRINE = {"tamoxifen": 0.45, "letrozole": 0.35, "anastrozole": 0.20}
ADJUVANT_ENDOCRINE_SUBTYPES = {"er_pos_her2_neg": 1.0, "her2_pos": 0.5, "triple_negative": 0.0}

LINE_CLASS_ORDER = ("endocrine", "her2", "targeted", "chemo")
# A course written with one length (`name:126`) runs this share of it, from the shortest to the longest.
COURSE_SHARE = (0.85, 1.2)


@dataclass(frozen=True)
class DrugSlot:
    """One drug of a regimen: its code, its fixed course, whether it may stop early.

    `course_days` is the shortest and the longest course, drawn uniformly between them; (0, 0) = the drug goes
    on until the line ends.
    """

    drug: str
    course_days: tuple[float, float]
    may_stop: bool


@dataclass(frozen=True)
class Regimen:
    """A regimen of a menu: its drugs and the class that sets imaging cadence and progression pattern."""

    name: str
    slots: tuple[DrugSlot, ...]
    line_class: str


def parse_regimen(text: str) -> Regimen:
    """Parse `a + b:126 + c~` into a Regimen; the class follows the drug classes of the vocabulary."""
    slots = []
    for token in (t.strip() for t in text.split(" + ")):
        may_stop = token.endswith("~")
        token = token.rstrip("~")
        name, _, days = token.partition(":")
        slots.append(DrugSlot(name, _course_days(days), may_stop))
    classes = {vocabulary_class(s.drug) for s in slots}
    subclasses = {vocabulary_subclass(s.drug) for s in slots}
    if "endocrine" in classes:
        line_class = "endocrine"
    elif any(sub.startswith("HER2") for sub in subclasses) or {"trastuzumab emtansine"} & {s.drug for s in slots}:
        line_class = "her2"
    elif "chemotherapy" in classes:
        line_class = "chemo"
    else:
        line_class = "targeted"
    return Regimen(text, tuple(slots), line_class)


def _course_days(text: str) -> tuple[float, float]:
    """`126` -> about 126 days (COURSE_SHARE of it); `126-168` -> 126 to 168 days; `` -> (0, 0), no fixed course."""
    if not text:
        return (0.0, 0.0)
    shortest, _, longest = text.partition("-")
    if longest:
        return (float(shortest), float(longest))
    return (int(shortest) * COURSE_SHARE[0], int(shortest) * COURSE_SHARE[1])


@cache
def _vocabulary() -> dict[str, tuple[str, str, tuple[str, ...]]]:
    return {d.drug: (d.drug_class, d.subclass, d.regimen_components) for d in drugs()}


def vocabulary_class(drug: str) -> str:
    """Drug class from the shipped vocabulary."""
    return _vocabulary()[drug][0]


def vocabulary_subclass(drug: str) -> str:
    """Drug subclass from the shipped vocabulary."""
    return _vocabulary()[drug][1]


@dataclass(frozen=True)
class CompiledRegimens:
    """The menus as arrays: regimen ids per (subtype, line group) with probabilities, drug slots per regimen."""

    drug_names: tuple[str, ...]  # code -> name written to systemic_therapy
    regimens: tuple[Regimen, ...]
    menu_ids: dict[tuple[int, int], np.ndarray]  # (subtype, line group) -> regimen ids
    menu_probs: dict[tuple[int, int], np.ndarray]
    pfs_multiplier: dict[tuple[int, int], np.ndarray]
    slot_offsets: np.ndarray  # regimen r's slots are slot_* [offsets[r]:offsets[r+1]]
    slot_drug: np.ndarray
    slot_course_days: np.ndarray  # [slot, 2]: shortest and longest fixed course, (0, 0) = until the line ends
    slot_may_stop: np.ndarray
    line_class: np.ndarray  # regimen -> index in LINE_CLASS_ORDER
    repeats_previous: np.ndarray  # [new, previous] True when new adds no component to previous
    fallback: np.ndarray  # regimen -> alternative regimen id
    code: dict[str, int]  # drug name -> code


@cache
def compiled() -> CompiledRegimens:
    """Compile the menus once per process."""
    vocabulary = _vocabulary()
    names = [d.drug for d in drugs()]
    names += [n for n in p.UNKNOWN_DRUG_NAMES.values() if n not in names]
    names += [n for n in p.TRIAL_DRUG_NAMES if n not in names]
    code = {n: i for i, n in enumerate(names)}

    texts: list[str] = []
    for menus in MENUS.values():
        for menu in menus:
            texts += [t for _, _, t in menu if t not in texts]
    texts += [t for t in FALLBACKS.values() if t not in texts]
    regimens = tuple(parse_regimen(t) for t in texts)
    index = {r.name: i for i, r in enumerate(regimens)}

    menu_ids: dict[tuple[int, int], np.ndarray] = {}
    menu_probs: dict[tuple[int, int], np.ndarray] = {}
    multipliers: dict[tuple[int, int], np.ndarray] = {}
    for s, subtype in enumerate(p.SUBTYPES):
        for g, menu in enumerate(MENUS[subtype]):
            weights = np.array([w for w, _, _ in menu])
            menu_ids[s, g] = np.array([index[t] for _, _, t in menu])
            menu_probs[s, g] = weights / weights.sum()
            multipliers[s, g] = np.array([m for _, m, _ in menu])

    counts = np.array([len(r.slots) for r in regimens])
    offsets = np.concatenate([[0], np.cumsum(counts)])
    slots = [s for r in regimens for s in r.slots]
    components = [{c for s in r.slots for c in vocabulary[s.drug][2]} for r in regimens]
    repeats = np.array([[a <= b for b in components] for a in components])
    fallback = np.array([index.get(FALLBACKS.get(r.name, ""), i) for i, r in enumerate(regimens)])
    return CompiledRegimens(
        drug_names=tuple(names),
        regimens=regimens,
        menu_ids=menu_ids,
        menu_probs=menu_probs,
        pfs_multiplier=multipliers,
        slot_offsets=offsets,
        slot_drug=np.array([code[s.drug] for s in slots], dtype=np.int16),
        slot_course_days=np.array([s.course_days for s in slots], dtype=np.float64).reshape(-1, 2),
        slot_may_stop=np.array([s.may_stop for s in slots]),
        line_class=np.array([LINE_CLASS_ORDER.index(r.line_class) for r in regimens], dtype=np.int8),
        repeats_previous=repeats,
        fallback=fallback,
        code=code,
    )
