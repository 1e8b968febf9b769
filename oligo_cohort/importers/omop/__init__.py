"""OMOP CDM v5.4 (with the OHDSI Oncology extension) → the canonical extract.

docs/importers.md lists each concept choice with its reason. Codes are matched through the `concept` table when
the source has it (by vocabulary code, class and name), and otherwise through the source values
(`*_source_value`), so a CDM exported without its vocabulary still imports. The few concept ids used directly
are OMOP metadata or Oncology-extension concepts that a vocabulary export may lack.

One module per concern, each domain holding its own concept rules:
- `source`: reading the CDM tables (folder or DuckDB database) and the vocabulary, as text;
- `context`: what the domains of one import share (source, concepts, report, problems, persons);
- `persons`: person, care_site, location, death → patients;
- `facts`: measurement and observation → classified oncology facts;
- `conditions`: condition_occurrence (+ facts) → tumours;
- `drugs`: drug_exposure (+ episodes) → systemic_therapy;
- `assessments`: facts and episodes → performance_status, response_assessments;
- `lineage`: where each canonical column comes from, for the mapping report.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from oligo_cohort.errors import InputError
from oligo_cohort.importers import DEFAULT_GAP_DAYS
from oligo_cohort.importers.common import SourceProblems, sorted_frame
from oligo_cohort.importers.extract import ImportResult, finish_import
from oligo_cohort.importers.omop.assessments import performance_status, responses
from oligo_cohort.importers.omop.conditions import tumours
from oligo_cohort.importers.omop.context import OmopImport
from oligo_cohort.importers.omop.drugs import systemic_therapy
from oligo_cohort.importers.omop.facts import facts
from oligo_cohort.importers.omop.persons import patients
from oligo_cohort.importers.omop.source import open_omop
from oligo_cohort.importers.report import MappingReport

__all__ = ["import_omop"]


def import_omop(
    source: str | Path, *, imaging: str | Path | None = None, gap_days: int = DEFAULT_GAP_DAYS
) -> ImportResult:
    """Map an OMOP CDM v5.4 source to a canonical extract (validated), with its mapping report."""
    problems = SourceProblems()
    src = open_omop(source, problems)
    try:
        report = MappingReport("OMOP CDM v5.4", src.origin)
        for table in src.columns:
            report.read(table, src.count(table))
        for note in src.notes:
            report.note(note)
        if problems:
            raise InputError(problems.in_row_order())
        frames = map_tables(OmopImport(src, report, problems, gap_days))
        if problems:
            raise InputError(problems.in_row_order())
        for table, repeated in src.repeated.items():
            report.drop(table, "-", "a row repeating another row exactly (read once)", repeated)
    finally:
        src.close()
    return finish_import(frames, report, imaging)


def map_tables(run: OmopImport) -> dict[str, pd.DataFrame]:
    """The canonical tables the source can fill, domain by domain (persons first: the others keep to them)."""
    patient_rows = patients(run)
    run.check_person_ids()
    oncology_facts = facts(run)
    frames = {
        "patients": patient_rows,
        "tumours": tumours(run, oncology_facts),
        "systemic_therapy": systemic_therapy(run),
    }
    if run.src.has("measurement") or run.src.has("observation"):
        frames["performance_status"] = performance_status(run, oncology_facts)
    if run.src.has("measurement") or run.src.has("observation") or run.src.has("episode"):
        frames["response_assessments"] = responses(run, oncology_facts)
    run.report.note(
        "observations (pregnancy, breastfeeding, amenability to local therapy, informed consent) have no "
        "OMOP source here: the table is not written."
    )
    return {name: sorted_frame(frame) for name, frame in frames.items()}
