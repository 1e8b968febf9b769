"""`review import`: answer files -> checked answers -> canonical records in a copy of the extract, with the audit.

Nothing is written unless every answer of every file is valid (`AnswerFileError` lists every problem).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from oligo_cohort.destination import OutputFolder
from oligo_cohort.protocol import Protocol, load_protocol
from oligo_cohort.review.answers import AnswerFileError, read_answer_files
from oligo_cohort.review.checks import check_answers
from oligo_cohort.review.facts import RegistryFacts, registry_facts
from oligo_cohort.review.records import ReviewRecords, answers_to_records
from oligo_cohort.review.reviewed_extract import write_reviewed_extract


@dataclass(frozen=True)
class ReviewImport:
    """What an import did: the records added, the audit, and the cut-off of the extract they were added to."""

    out_dir: Path
    records: ReviewRecords
    facts: RegistryFacts

    @property
    def latest_answer(self) -> dt.date | None:
        dates = self.records.audit["answer_date"].dropna()
        return dt.date.fromisoformat(max(dates)) if len(dates) else None

    @property
    def moves_cutoff(self) -> bool:
        """Whether an answer is dated after the extract's cut-off (a screen without --as-of then moves it)."""
        latest = self.latest_answer
        return latest is not None and latest > self.facts.as_of


def import_answers(
    files: Sequence[str | Path],
    extract: str | Path,
    out_dir: str | Path | OutputFolder,
    *,
    today: dt.date | None = None,
    protocol: str | Path | Protocol = "cosmo",
) -> ReviewImport:
    """Check the answer files against the extract and write the reviewed extract; AnswerFileError if any problem."""
    rows, problems = read_answer_files(list(files))
    if problems and not rows:  # no file could be read: nothing to check against the extract
        raise AnswerFileError(problems)
    chosen = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    asked = {row.get("patient_id") for row in rows if row.get("patient_id")}
    facts = registry_facts(extract, protocol=chosen, patients=asked)  # only the patients answered about are derived
    checked = check_answers(rows, facts, today=today or dt.date.today())
    problems += checked.problems
    if problems:
        raise AnswerFileError(problems)
    records = answers_to_records(checked, facts, chosen.parameters, imported_on=today or dt.date.today())
    target = write_reviewed_extract(Path(extract), out_dir, records.tables, records.audit)
    return ReviewImport(target, records, facts)
