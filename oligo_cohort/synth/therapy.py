"""Drug exposure episodes: adjuvant treatment before a relapse, each metastatic line's regimen, supportive drugs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oligo_cohort.synth import parameters as p
from oligo_cohort.synth import regimens as r
from oligo_cohort.synth.arrays import NO_DATE, draw_categories, group_positions, uniform_days
from oligo_cohort.synth.cohort import Patients
from oligo_cohort.synth.course import Course
from oligo_cohort.synth.lesions import BONE, LesionState

SETTINGS = ("metastatic", "adjuvant", "neoadjuvant", "unknown")
METASTATIC, ADJUVANT, NEOADJUVANT, UNKNOWN_SETTING = range(len(SETTINGS))


@dataclass
class Episodes:
    """One entry per drug exposure episode (drug is a code into regimens.compiled().drug_names)."""

    patient: np.ndarray
    drug: np.ndarray
    start: np.ndarray
    end: np.ndarray  # NO_DATE = ongoing at the end of the extract
    setting: np.ndarray

    @staticmethod
    def join(parts: list[Episodes]) -> Episodes:
        """Concatenate, ordered by patient, start, drug."""
        fields = ("patient", "drug", "start", "end", "setting")
        joined = {f: np.concatenate([getattr(e, f) for e in parts]) for f in fields}
        order = np.lexsort((joined["drug"], joined["start"], joined["patient"]))
        return Episodes(**{f: joined[f][order] for f in fields})


def make_episodes(
    rng: np.random.Generator, patients: Patients, course: Course, baseline: LesionState, last_day: int
) -> Episodes:
    """All systemic therapy of a block of patients."""
    return Episodes.join(
        [
            _metastatic_lines(rng, course, last_day),
            _adjuvant(rng, patients),
            _supportive(rng, patients, course, baseline, last_day),
        ]
    )


def _metastatic_lines(rng: np.random.Generator, course: Course, last_day: int) -> Episodes:
    table = r.compiled()
    lines = course.lines
    patient, line = np.nonzero(lines.exists)
    regimen = lines.regimen[patient, line]
    trial = lines.trial[patient, line]
    counts = np.where(trial, 1, table.slot_offsets[regimen + 1] - table.slot_offsets[regimen])
    owner, position = group_positions(counts)
    slot = table.slot_offsets[regimen[owner]] + position
    trial_codes = np.array([table.code[name] for name in p.TRIAL_DRUG_NAMES])
    drug = np.where(trial[owner], trial_codes[rng.integers(0, trial_codes.size, owner.size)], table.slot_drug[slot])
    course = np.where(trial[owner, None], 0.0, table.slot_course_days[slot])
    fixed = course[:, 1] > 0
    may_stop = ~trial[owner] & table.slot_may_stop[slot]

    line_start = lines.start[patient, line][owner]
    stop = lines.stop[patient, line][owner].astype(np.int64)
    # Partner drugs sometimes start a little later, within the 28-day regimen window.
    delayed = (position > 0) & (rng.random(owner.size) < 0.3)
    start = line_start + np.where(delayed, uniform_days(rng, (1, 14), owner.size), 0)
    horizon = np.minimum(stop, last_day)
    course_days = course[:, 0] + (course[:, 1] - course[:, 0]) * rng.random(owner.size)
    fixed_end = start + np.rint(course_days).astype(np.int64)
    end = np.where(fixed, np.minimum(fixed_end, stop), stop)
    toxic = may_stop & (rng.random(owner.size) < p.TOXICITY_STOP_SHARE) & (horizon - start > 60)
    end = np.where(toxic, start + ((horizon - start) * rng.uniform(0.1, 0.7, owner.size)).astype(np.int64), end)
    end = np.where(end > last_day, NO_DATE, np.maximum(end, start))
    start = np.minimum(start, last_day)
    setting = np.full(owner.size, METASTATIC, np.int8)
    episodes = Episodes(
        patient[owner].astype(np.int32), drug.astype(np.int16), start.astype(np.int32), end.astype(np.int32), setting
    )
    return _nab_paclitaxel_switches(rng, episodes, last_day)


def _nab_paclitaxel_switches(rng: np.random.Generator, episodes: Episodes, last_day: int) -> Episodes:
    """Some paclitaxel courses go on as nab-paclitaxel (a substitution: the same line)."""
    table = r.compiled()
    length = np.where(episodes.end == NO_DATE, last_day, episodes.end) - episodes.start
    switch = (episodes.drug == table.code["paclitaxel"]) & (length > 75)
    switch &= rng.random(switch.size) < p.NAB_PACLITAXEL_SWITCH_SHARE
    rows = np.nonzero(switch)[0]
    day = episodes.start[rows] + uniform_days(rng, (21, 60), rows.size)
    follow = Episodes(
        episodes.patient[rows], np.full(rows.size, table.code["nab-paclitaxel"], np.int16), (day + 7).astype(np.int32),
        episodes.end[rows], episodes.setting[rows],
    )  # fmt: skip
    episodes.end[rows] = day
    return Episodes.join([episodes, follow])


def _adjuvant(rng: np.random.Generator, patients: Patients) -> Episodes:
    """Treatment of the primary before a relapse: a chemotherapy course and years of endocrine therapy."""
    table = r.compiled()
    recurrent = np.nonzero(~patients.de_novo)[0]
    subtype = patients.subtype[recurrent]
    diagnosis = patients.breast_diagnosis[recurrent]
    relapse = patients.metastasis[recurrent]
    neoadjuvant = rng.random(recurrent.size) < p.NEOADJUVANT_CHEMO_SHARE
    course_start = diagnosis + np.where(
        neoadjuvant, uniform_days(rng, (7, 21), recurrent.size), uniform_days(rng, (21, 56), recurrent.size)
    )

    # Flatten the course menus into drug rows: (subtype, option) -> drugs with offset and duration.
    parts: list[Episodes] = []
    course_end = np.array(course_start, dtype=np.int64)
    for s, subtype_name in enumerate(p.SUBTYPES):
        rows = np.nonzero(subtype == s)[0]
        options = r.ADJUVANT_CHEMO[subtype_name]
        choice = draw_categories(rng, [w for w, _ in options], rows.size)
        for o, (_, drugs) in enumerate(options):
            chosen = rows[choice == o]
            for drug, offset, duration in drugs:
                start = course_start[chosen] + offset
                end = start + np.rint(duration * rng.uniform(0.9, 1.1, chosen.size)).astype(np.int64)
                course_end[chosen] = np.maximum(course_end[chosen], np.where(duration < 300, end, start))
                setting = np.where(neoadjuvant[chosen] & (duration < 300), NEOADJUVANT, ADJUVANT)
                parts.append(
                    Episodes(
                        recurrent[chosen].astype(np.int32),
                        np.full(chosen.size, table.code[drug], np.int16),
                        start.astype(np.int32),
                        end.astype(np.int32),
                        setting.astype(np.int8),
                    )
                )

    share = np.array([r.ADJUVANT_ENDOCRINE_SUBTYPES[s] for s in p.SUBTYPES])[subtype]
    endocrine = rng.random(recurrent.size) < share
    names = list(r.ADJUVANT_ENDOCRINE)
    drug = np.array([table.code[d] for d in names])[
        draw_categories(rng, list(r.ADJUVANT_ENDOCRINE.values()), recurrent.size)
    ]
    start = course_end + uniform_days(rng, (14, 42), recurrent.size)
    rows = np.nonzero(endocrine)[0]
    parts.append(
        Episodes(
            recurrent[rows].astype(np.int32),
            drug[rows].astype(np.int16),
            start[rows].astype(np.int32),
            (start[rows] + p.ADJUVANT_ENDOCRINE_DAYS).astype(np.int32),
            np.full(rows.size, ADJUVANT, np.int8),
        )
    )
    adjuvant = Episodes.join(parts)
    # A relapse ends adjuvant treatment; nothing adjuvant starts after it.
    relapse_of = np.full(len(patients), NO_DATE, np.int64)
    relapse_of[recurrent] = relapse
    limit = relapse_of[adjuvant.patient] - uniform_days(rng, (1, 30), adjuvant.patient.size)
    keep = adjuvant.start < limit
    end = np.minimum(adjuvant.end, limit)
    return Episodes(
        adjuvant.patient[keep],
        adjuvant.drug[keep],
        adjuvant.start[keep],
        np.maximum(end, adjuvant.start)[keep].astype(np.int32),
        adjuvant.setting[keep],
    )


def _supportive(
    rng: np.random.Generator, patients: Patients, course: Course, baseline: LesionState, last_day: int
) -> Episodes:
    """Bone agents for bone metastases and ovarian suppression for premenopausal women on endocrine therapy."""
    table = r.compiled()
    lines = course.lines
    treated = lines.exists[:, 0]
    n = len(patients)
    bone = (baseline.organ == BONE).any(axis=1) & treated & (rng.random(n) < p.BONE_AGENT_SHARE)
    rows = np.nonzero(bone)[0]
    agent = np.where(
        rng.random(rows.size) < p.BONE_AGENT_DENOSUMAB_SHARE, table.code["denosumab"], table.code["zoledronic acid"]
    )
    start = np.minimum(lines.start[rows, 0] + uniform_days(rng, (0, 60), rows.size), last_day)
    death = course.death[rows].astype(np.int64)
    end = np.where(death == NO_DATE, NO_DATE, np.maximum(death - uniform_days(rng, (0, 30), rows.size), start))
    stopped = rng.random(rows.size) < 0.2
    stop_day = start + uniform_days(rng, (365, 730), rows.size)
    end = np.where(stopped & (stop_day < np.minimum(end, last_day)), stop_day, end)
    given = start < death  # who dies before the bone agent would start never gets it
    bone_agents = Episodes(
        rows[given].astype(np.int32),
        agent[given].astype(np.int16),
        start[given].astype(np.int32),
        end[given].astype(np.int32),
        np.full(int(given.sum()), METASTATIC, np.int8),
    )

    endocrine_first = table.line_class[np.maximum(lines.regimen[:, 0], 0)] == r.LINE_CLASS_ORDER.index("endocrine")
    young = (patients.age < p.PREMENOPAUSAL_AGE_YEARS) & ~patients.male
    suppressed = treated & endocrine_first & young & (rng.random(n) < p.OVARIAN_SUPPRESSION_SHARE)
    rows = np.nonzero(suppressed)[0]
    ovarian = Episodes(
        rows.astype(np.int32),
        np.full(rows.size, table.code["goserelin"], np.int16),
        lines.start[rows, 0],
        lines.stop[rows, 0],
        np.full(rows.size, METASTATIC, np.int8),
    )
    return Episodes.join([bone_agents, ovarian])
