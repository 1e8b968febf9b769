"""Generate a synthetic registry extract: blocks of patients drawn with numpy, written batch by batch.

Patients are drawn in blocks of `BLOCK_PATIENTS`, each from its own random
stream seeded by (seed, block number), so the content depends on the seed and
the arguments only - not on the batch size, which just sets how many
patients go into one Parquet row group (and bounds memory).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from oligo_cohort.destination import OutputFolder, staged_output
from oligo_cohort.errors import UsageError
from oligo_cohort.synth.arrays import day_number
from oligo_cohort.synth.clinical import (
    combine_observations,
    make_observations,
    make_performance_status,
    make_risk_observations,
)
from oligo_cohort.synth.cohort import Sites, make_patients, make_sites
from oligo_cohort.synth.course import make_course
from oligo_cohort.synth.lesions import baseline_lesions, evolve
from oligo_cohort.synth.options import DEFAULT_BATCH_SIZE, FORMATS, OPTIONAL_TABLES, Format
from oligo_cohort.synth.studies import make_lesion_rows, make_responses, make_studies
from oligo_cohort.synth.tables import SCHEMAS, TABLE_ORDER, BlockData, assemble, patient_id_width
from oligo_cohort.synth.therapy import make_episodes
from oligo_cohort.synth.tumours import make_tumours
from oligo_cohort.synth.writer import ExtractWriter

BLOCK_PATIENTS = 10_000
_SITES_STREAM = 0
_BLOCK_STREAM = 1
_RISK_STREAM = 2  # medical_risk / compliance_risk observations: their own stream leaves every other record as it was

Progress = Callable[[int, int], None]  # (patients written, patients in total)


def generate_extract(
    out_dir: str | Path | OutputFolder,
    *,
    patients: int,
    sites: int,
    seed: int = 0,
    fmt: Format = "parquet",
    start: str | dt.date = "2015-01-01",
    end: str | dt.date = "2024-12-31",
    imperfect: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    omit_tables: Iterable[str] = (),
    progress: Progress | None = None,
) -> Path:
    """Write a synthetic extract (all eight tables unless some optional ones are omitted) into `out_dir`.

    `out_dir` must be new, empty or an earlier synthetic extract (oligo_cohort.destination: any other folder is
    refused and left alone); the extract appears there complete or not at all. `batch_size` patients (rounded
    up to whole blocks) make one Parquet row group and bound memory. Returns the folder.
    """
    first_day, last_day = _period(start, end)
    omitted = _omitted(omit_tables)
    if patients < 1:
        raise UsageError("--patients must be at least 1")
    if sites < 1:
        raise UsageError("--sites must be at least 1")
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if batch_size < 1:
        raise UsageError("the batch size must be at least 1")
    target = out_dir if isinstance(out_dir, OutputFolder) else OutputFolder(out_dir, "synth")
    site_table = make_sites(np.random.default_rng([seed, _SITES_STREAM]), sites, first_day, last_day)
    schemas = {name: SCHEMAS[name] for name in TABLE_ORDER if name not in omitted}
    with staged_output(target, "synth") as staging, ExtractWriter(staging, schemas, fmt) as writer:
        batches = _batches(seed, patients, site_table, last_day, imperfect, batch_size)
        for done, batch in batches:
            for name in schemas:
                writer.write(name, batch[name])
            if progress:
                progress(done, patients)
    return target.requested


def generate_block(
    seed: int, block: int, count: int, sites: Sites, last_day: int, *, imperfect: bool, id_width: int
) -> dict[str, pa.Table]:
    """The eight tables of one block of `count` patients (block number `block`)."""
    rng = np.random.default_rng([seed, _BLOCK_STREAM, block])
    patients = make_patients(rng, block * BLOCK_PATIENTS, count, sites)
    course = make_course(rng, patients, last_day, imperfect=imperfect)
    lesions = baseline_lesions(rng, patients)
    episodes = make_episodes(rng, patients, course, lesions, last_day)
    sizes = evolve(rng, lesions, course.segments)
    studies = make_studies(rng, patients, course, last_day, imperfect=imperfect)
    data = BlockData(
        patients=patients,
        course=course,
        tumours=make_tumours(rng, patients, episodes, last_day),
        episodes=episodes,
        studies=studies,
        lesions=make_lesion_rows(rng, studies, course, lesions, sizes),
        responses=make_responses(rng, studies, course, sizes),
        performance=make_performance_status(rng, patients, sites, course, studies, last_day),
        observations=combine_observations(
            make_observations(rng, patients, course, studies, last_day),
            make_risk_observations(
                np.random.default_rng([seed, _RISK_STREAM, block]), patients, course, studies, last_day
            ),
        ),
    )
    return assemble(rng, data, sites, imperfect=imperfect, id_width=id_width)


def _batches(
    seed: int, patients: int, sites: Sites, last_day: int, imperfect: bool, batch_size: int
) -> Iterator[tuple[int, dict[str, pa.Table]]]:
    """Yield (patients so far, tables) per batch of whole blocks, in block order."""
    blocks_per_batch = max(1, math.ceil(batch_size / BLOCK_PATIENTS))
    total_blocks = math.ceil(patients / BLOCK_PATIENTS)
    width = patient_id_width(patients)
    for first in range(0, total_blocks, blocks_per_batch):
        parts = [
            generate_block(
                seed,
                block,
                min(BLOCK_PATIENTS, patients - block * BLOCK_PATIENTS),
                sites,
                last_day,
                imperfect=imperfect,
                id_width=width,
            )
            for block in range(first, min(first + blocks_per_batch, total_blocks))
        ]
        batch = {name: pa.concat_tables([part[name] for part in parts]) for name in TABLE_ORDER}
        yield min(patients, (first + len(parts)) * BLOCK_PATIENTS), batch


def _period(start: str | dt.date, end: str | dt.date) -> tuple[int, int]:
    try:
        first = start if isinstance(start, dt.date) else dt.date.fromisoformat(start)
        last = end if isinstance(end, dt.date) else dt.date.fromisoformat(end)
    except ValueError:
        raise UsageError(f"--start/--end must be dates in YYYY-MM-DD form (got {start!r}, {end!r})") from None
    if (last - first).days < 365:
        raise UsageError("--end must be at least a year after --start")
    return day_number(first), day_number(last)


def _omitted(omit_tables: Iterable[str]) -> set[str]:
    omitted = {name.strip().lower() for name in omit_tables}
    unknown = omitted - set(OPTIONAL_TABLES)
    if unknown:
        raise UsageError(
            f"only optional tables can be left out ({', '.join(OPTIONAL_TABLES)}); not {', '.join(sorted(unknown))}"
        )
    return omitted
