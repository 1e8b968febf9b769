"""The synthetic registry reproduces the domain facts' figures ("Figures for a realistic synthetic registry").

Each figure is measured on many patients drawn with a fixed seed, so the result is exact for the seed; the
tolerances allow a few standard errors, for a seed that happens to land off the expected value.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from oligo_cohort.load import load_extract
from oligo_cohort.synth import parameters
from oligo_cohort.synth.arrays import NO_DATE, day_number
from oligo_cohort.synth.cohort import Patients, make_patients, make_sites
from oligo_cohort.synth.course import OPEN, make_course
from oligo_cohort.synth.generate import generate_extract
from oligo_cohort.synth.lesions import BONE, ORGANS, baseline_lesions
from oligo_cohort.synth.therapy import make_episodes

FIRST_DAY = day_number(dt.date(2015, 1, 1))
LAST_DAY = day_number(dt.date(2024, 12, 31))
THREE_WEEKLY_CYCLE_DAYS = 21


def draw_patients(count: int, seed: int) -> tuple[np.random.Generator, Patients]:
    """`count` patients at ten sites, and the random stream that goes on drawing their course."""
    sites = make_sites(np.random.default_rng([seed, 0]), 10, FIRST_DAY, LAST_DAY)
    rng = np.random.default_rng([seed, 1])
    return rng, make_patients(rng, 0, count, sites)


def test_metastatic_sites_follow_the_domain_facts():
    """Bone 56-69 %, bone only 20-21 %, lung 37 %, liver 29 % of patients at metastatic diagnosis."""
    rng, patients = draw_patients(100_000, seed=5)
    organ = baseline_lesions(rng, patients).organ
    bone = (organ == BONE).any(axis=1)
    other_distant = ((organ >= ORGANS.index("liver")) & (organ != BONE)).any(axis=1)
    assert 0.56 <= bone.mean() <= 0.69
    assert 0.20 - 0.005 <= (bone & ~other_distant).mean() <= 0.21 + 0.005
    assert (organ == ORGANS.index("lung")).any(axis=1).mean() == pytest.approx(0.37, abs=0.006)
    assert (organ == ORGANS.index("liver")).any(axis=1).mean() == pytest.approx(0.29, abs=0.006)


def test_no_next_line_after_lines_1_and_2_as_in_praegnant():
    """30 % start no next line after line 1 and 24 % after line 2 (PRAEGNANT), 29.6 % of HER2+ after line 1:
    counted over every line that ended, by progression or by death on it (a patient who dies on a line starts
    no next one). Lines still running at the end of the extract, or ending in its last year, are left out."""
    rng, patients = draw_patients(40_000, seed=6)
    course = make_course(rng, patients, LAST_DAY, imperfect=False)
    segments, lines = course.segments, course.lines
    her2 = parameters.SUBTYPES.index("her2_pos")

    def no_next_line(line: int, subtype: int | None = None) -> float:
        last_part = (segments.line == line) & ~segments.continues
        ended = last_part & (segments.kind != OPEN) & (segments.end <= LAST_DAY - 365)
        who = segments.patient[ended]
        if subtype is not None:
            who = who[patients.subtype[who] == subtype]
        return float((~lines.exists[who, line + 1]).mean())

    assert no_next_line(0) == pytest.approx(0.30, abs=0.015)
    assert no_next_line(1) == pytest.approx(0.24, abs=0.015)
    assert no_next_line(0, her2) == pytest.approx(0.296, abs=0.025)


def test_the_her2_taxane_backbone_stops_after_six_to_eight_cycles(tmp_path):
    """Trastuzumab + pertuzumab go on while the taxane stops after 6-8 three-weekly cycles (domain facts,
    "Usually dropped in de-escalation"): every taxane episode that ends while its anti-HER2 partner goes on."""
    import duckdb

    folder = generate_extract(tmp_path / "her2", patients=3000, sites=4, seed=8, imperfect=False)
    episodes = folder / "systemic_therapy.parquet"
    days = duckdb.sql(
        f"""
        SELECT date_diff('day', t.start_date, t.end_date) AS days
        FROM '{episodes}' AS t JOIN '{episodes}' AS h
          ON h.patient_id = t.patient_id AND h.drug IN ('trastuzumab', 'pertuzumab', 'pertuzumab+trastuzumab')
         AND h.start_date BETWEEN t.start_date - 14 AND t.start_date + 14
        WHERE t.setting = 'metastatic' AND t.drug IN ('docetaxel', 'paclitaxel') AND t.end_date IS NOT NULL
          AND (h.end_date IS NULL OR h.end_date > t.end_date + 30)
          AND t.patient_id NOT IN (SELECT patient_id FROM '{episodes}' WHERE drug = 'nab-paclitaxel')
        """
    ).fetchnumpy()["days"]
    assert days.size >= 200, "too few de-escalated HER2+ regimens to judge"
    cycles = days / THREE_WEEKLY_CYCLE_DAYS
    assert cycles.min() >= 6 and cycles.max() <= 8


def test_a_clean_extract_raises_no_data_quality_finding(tmp_path):
    """Without imperfections nothing is implausible: SUVmax stays within what FDG-PET-CT shows of breast cancer
    metastases (the data dictionary reads an SUVmax above 100 as an entry error), however often a lesion grew."""
    import duckdb

    folder = generate_extract(tmp_path / "clean", patients=4000, sites=8, seed=3, fmt="csv", imperfect=False)
    assert [(f.table, f.column, f.message) for f in load_extract(folder).findings] == []
    highest = duckdb.sql(f"SELECT max(suv_max) FROM read_csv('{folder / 'lesions.csv'}')").fetchall()[0][0]
    assert highest <= parameters.SUV_MAX


def test_no_drug_is_given_after_death():
    """Supportive drugs start some weeks into line 1: a patient who dies before then never gets them."""
    rng, patients = draw_patients(40_000, seed=9)
    course = make_course(rng, patients, LAST_DAY, imperfect=False)
    episodes = make_episodes(rng, patients, course, baseline_lesions(rng, patients), LAST_DAY)
    death = course.death[episodes.patient]
    assert not (episodes.start > death).any()
    assert not ((episodes.end != NO_DATE) & (episodes.end > death)).any()
