"""What every domain of one OMOP import shares: the source, its concepts, the report, the problems, the persons.

The domains (persons, facts, conditions, drugs, assessments) each map their OMOP tables with one
`OmopImport`; what they cannot carry over they record on it, the same way: a fatal value in `problems` (table,
column, row, id, value), a row not carried over in `report.drop` (with why), a row of an unknown person through
`known_person`, a repeated record through `unique`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from oligo_cohort.importers.common import ROW, DrugMatcher, SourceProblems
from oligo_cohort.importers.omop.source import OMOP_TABLES, Concepts, OmopSource
from oligo_cohort.importers.report import MappingReport


@dataclass
class OmopImport:
    """One import in progress: the opened source and what the mapping has found so far."""

    src: OmopSource
    report: MappingReport
    problems: SourceProblems
    gap_days: int
    concepts: Concepts = field(init=False)
    matcher: DrugMatcher = field(init=False, default_factory=DrugMatcher)
    persons: set[str] = field(default_factory=set)  # person_ids mapped to patients

    def __post_init__(self) -> None:
        self.concepts = Concepts(self.src)

    def known_person(self, table: str, pid: str | None, target: str) -> bool:
        """Whether `pid` is a mapped person; a row of anyone else is dropped from `target`, counted (the rows a
        filtered person table leaves behind; an id written otherwise is a problem: `check_person_ids`)."""
        if pid in self.persons:
            return True
        self.report.drop(table, target, "person_id not in person")
        return False

    def check_person_ids(self) -> None:
        """A problem for each row, in every table the import reads, whose person_id is not in person but is a
        person's id written otherwise (`001` for `1`). Ids are text, so its rows would be dropped as a stranger's
        and every record of that table silently taken from the patient (a diagnosis, a death, the drugs' data
        end); which patient it belongs to is not the importer's to guess. Checked over whole tables, whether or
        not a row would be carried over, as one mistake in an export is seldom one row."""
        forms: dict[str, str] = {}
        for known in self.persons:
            forms.setdefault(_id_form(known), known)
        for table, columns in OMOP_TABLES.items():
            if table == "person" or "person_id" not in columns or not self.src.has(table):
                continue
            frame = self.src.frame(table, ["person_id"])
            strangers = frame[frame["person_id"].notna() & ~frame["person_id"].isin(self.persons)]
            for pid, row in zip(strangers["person_id"], strangers[ROW], strict=True):
                if _id_form(pid) not in forms:
                    continue
                self.problems.add(
                    table,
                    "person_id",
                    int(row),
                    pid,
                    f"person_id {pid!r} is not in person, where person_id {forms[_id_form(pid)]!r} is: write each "
                    "id the same way in every table (leading zeros)",
                    pid,
                )

    def by_id(self, table: str, frame: pd.DataFrame, column: str) -> list[dict]:
        """The rows of a table that have `column`; an id on rows that differ is a problem on each of them, since
        which of them holds the record cannot be known (a row repeating another exactly has been read once)."""
        records = [record for record in frame.to_dict("records") if record[column] is not None]
        counts = Counter(record[column] for record in records)
        for record in records:
            if counts[record[column]] > 1:
                key = record[column]
                self.problems.add(table, column, record[ROW], key, f"{column} is not unique", key)
        return [record for record in records if counts[record[column]] == 1]

    def unique(self, rows: list[dict], key: tuple[str, ...], table: str) -> list[dict]:
        """`rows` sorted by `key`, each key once; repeats are dropped as duplicates, counted."""
        seen: set[tuple] = set()
        out = []
        for row in sorted(rows, key=lambda r: tuple(str(r[k]) for k in key)):
            k = tuple(row[c] for c in key)
            if k in seen:
                self.report.drop(
                    "measurement/observation/episode",
                    table,
                    "duplicate of another record (same patient, date and value)",
                )
                continue
            seen.add(k)
            out.append(row)
        return out


def _id_form(pid: str) -> str:
    """An id without spaces around it or leading zeros (`0` stays `0`): how two spellings of one id compare."""
    return pid.strip().lstrip("0") or "0"
