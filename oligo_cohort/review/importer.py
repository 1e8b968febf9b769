"""`review import`: answer files -> checked answers -> canonical records in a copy of the extract, with the audit.

Nothing is written unless every answer of every file is valid (`AnswerFileError` lists every problem).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from oligo_cohort.destination import OutputFolder
from oligo_cohort.load import parse_as_of
from oligo_cohort.protocol import Protocol, load_protocol
from oligo_cohort.review.answers import AnswerFileError, AnswerProblem, read_answer_files
from oligo_cohort.review.checks import check_answers
from oligo_cohort.review.export import EXPORT_MANIFEST
from oligo_cohort.review.facts import RegistryFacts, registry_facts
from oligo_cohort.review.records import EXTRACT, GIVEN, SCREEN, Cutoff, ReviewRecords, answers_to_records
from oligo_cohort.review.reviewed_extract import write_reviewed_extract


@dataclass(frozen=True)
class ReviewImport:
    """What an import did: the records added, the audit, the cut-off the answers' dates were checked against
    (`records.cutoff`), and the registry facts of the extract they were added to."""

    out_dir: Path
    records: ReviewRecords
    facts: RegistryFacts


def import_answers(
    files: Sequence[str | Path],
    extract: str | Path,
    out_dir: str | Path | OutputFolder,
    *,
    today: dt.date | None = None,
    protocol: str | Path | Protocol = "cosmo",
    as_of: str | dt.date | None = None,
) -> ReviewImport:
    """Check the answer files against the extract and write the reviewed extract; AnswerFileError if any problem.

    `as_of`: the cut-off the reviewed extract is to be screened at, which the answers' dates are checked against
    (an answer dated after it is not read by that screen: the audit warns). By default the first screen's, as
    `review export` recorded it beside the answer files; else the extract's default cut-off.
    """
    run_day = today or dt.date.today()
    given = parse_as_of(as_of, run_day)
    rows, problems = read_answer_files(list(files))
    screened, trouble = (None, []) if given is not None else exported_cutoff(files)
    problems += trouble
    if problems and not rows:  # no file could be read: nothing to check against the extract
        raise AnswerFileError(problems)
    chosen = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    asked = {row.get("patient_id") for row in rows if row.get("patient_id")}
    facts = registry_facts(extract, protocol=chosen, patients=asked)  # only the patients answered about are derived
    checked = check_answers(rows, facts, today=run_day)
    problems += checked.problems
    if problems:
        raise AnswerFileError(problems)
    cutoff = Cutoff(given, GIVEN) if given is not None else screened or Cutoff(facts.as_of, EXTRACT)
    records = answers_to_records(checked, facts, chosen.parameters, imported_on=run_day, cutoff=cutoff)
    target = write_reviewed_extract(Path(extract), out_dir, records.tables, records.audit)
    return ReviewImport(target, records, facts)


def exported_cutoff(files: Sequence[str | Path]) -> tuple[Cutoff | None, list[AnswerProblem]]:
    """The first screen's cut-off, as `review export` recorded it beside the answer files (review_export.json in
    a file's folder); None when no answer file has one beside it.

    Answer files exported at different cut-offs are a problem of each: which cut-off the reviewed extract is to be
    screened at is then the user's to say (`--as-of`). So is a review_export.json that cannot be read.
    """
    found: dict[str, tuple[dt.date, Path]] = {}
    problems = []
    for given in files:
        manifest = Path(given).parent / EXPORT_MANIFEST
        if not manifest.is_file():
            continue  # answers saved elsewhere (mailed back, renamed folders): the cut-off is not known
        try:
            info = json.loads(manifest.read_text(encoding="utf-8"))
            found[str(given)] = (dt.date.fromisoformat(info["as_of"]), manifest)
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
            problems.append(
                AnswerProblem(
                    str(manifest),
                    None,
                    None,
                    "as_of",
                    None,
                    "the cut-off of the screen the review was exported from cannot be read: give it with --as-of",
                )
            )
    cutoffs = {day for day, _ in found.values()}
    if len(cutoffs) > 1:
        for file, (day, manifest) in found.items():
            others = ", ".join(str(other) for other in sorted(cutoffs - {day}))
            problems.append(
                AnswerProblem(
                    file,
                    None,
                    None,
                    None,
                    None,
                    f"exported at the cut-off {day} ({manifest}), other answer files at {others}: a reviewed "
                    "extract is screened at one cut-off; give the cut-off to screen at with --as-of",
                )
            )
        return None, problems
    if not found:
        return None, problems
    day, manifest = next(iter(found.values()))
    return Cutoff(day, SCREEN, str(manifest)), problems
