"""The mapping report: what an import read, mapped and dropped, where each column came from, what stays empty.

The last part says which COSMO criteria the imported data therefore cannot decide, from the declaration of
which criteria read which data and what each becomes without it (`oligo_cohort.criterion_inputs`, the file
data_dictionary/criterion_inputs.yaml): for every entry whose data the import leaves empty, for every patient
or for some, the criteria it names take the outcome it states.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pandas as pd

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.counts_in_words import counted
from oligo_cohort.criteria import CRITERIA, Outcome
from oligo_cohort.criterion_inputs import CriterionInput, criterion_inputs
from oligo_cohort.csv_output import write_csv
from oligo_cohort.dictionary import tables

REPORT_MD = "mapping_report.md"
REPORT_CSV = "mapping_report.csv"
REPORT_COLUMNS = ("section", "table", "column", "source", "reason", "count", "total", "detail")

# How the report names the tumour rows an entry reads (`rows` in criterion_inputs.yaml).
ROW_LABELS = {"all": None, "breast": "breast_tumours", "other": "other_primaries", "skin": "skin_primaries"}
CONFLICT_REASON = (
    "records of one patient or tumour give different values: the value of the first record giving one is kept "
    "(docs/importers.md says which record comes first)"
)
# When several missing data give a criterion different outcomes, the one that decides most is reported.
OUTCOME_PRECEDENCE: tuple[Outcome, ...] = ("fail", "unknown", "review", "pass")


def tumour_rows(tumours: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The tumours as `rows` names them: index breast tumours (C50, behaviour 3), other primaries, skin ones (C44)."""
    codes = clinical_codes()
    topography = tumours["topography"].fillna("").str.upper().str.replace(".", "", regex=False)
    malignant = tumours["behaviour"].fillna("").str.strip() == codes.invasive_behaviour
    breast = topography.str.startswith(codes.breast_topography)
    skin = topography.str.startswith(codes.skin_topography)
    return {
        "breast": tumours[breast & malignant],
        "other": tumours[~breast & malignant],
        "skin": tumours[skin & malignant],
    }


def data_state(frames: dict[str, pd.DataFrame], entry: CriterionInput) -> str:
    """`empty`, `partial` or `full`: how much of the entry's data the imported tables hold; `n/a` when the rows
    it reads do not occur (no other primary: nothing to decide)."""
    frame = frames.get(entry.table)
    if frame is not None and entry.rows != "all":
        frame = tumour_rows(frame)[entry.rows]
    if frame is None or len(frame) == 0:
        return "n/a" if entry.rows in ("other", "skin") and frame is not None else "empty"
    if entry.whole_table:
        return "full"
    states = set()
    for column in entry.columns:
        filled = int(frame[column].notna().sum()) if column in frame else 0
        states.add("empty" if filled == 0 else ("full" if filled == len(frame) else "partial"))
    if "full" in states:
        return "full"
    return "partial" if "partial" in states else "empty"


def _label(entry: CriterionInput) -> str:
    """The entry's data as the report names them (`breast_tumours.basis_of_diagnosis`, `imaging or lesions`)."""
    table = ROW_LABELS[entry.rows] or entry.table
    return " or ".join(f"{table}.{c}" for c in entry.columns) if entry.columns else table


@dataclass
class MappingReport:
    """Counts, lineage and gaps of one import."""

    kind: str
    source: str
    rows_read: dict[str, int] = field(default_factory=dict)
    mapped: dict[str, int] = field(default_factory=dict)
    drops: dict[tuple[str, str, str], int] = field(default_factory=dict)
    lineage: dict[tuple[str, str], str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    filled: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    absent_tables: list[str] = field(default_factory=list)
    criteria: list[dict[str, str]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    conflicts: list[dict[str, str]] = field(default_factory=list)

    def read(self, source_table: str, rows: int) -> None:
        self.rows_read[source_table] = rows

    def drop(self, source_table: str, table: str, reason: str, count: int = 1) -> None:
        """Source rows (or values) not carried into `table`, with why."""
        if count:
            key = (source_table, table, reason)
            self.drops[key] = self.drops.get(key, 0) + count

    def source_of(self, table: str, column: str, fields: str) -> None:
        """Record which source fields fill a canonical column."""
        self.lineage[(table, column)] = fields

    def conflict(self, table: str, column: str, source: str, detail: str) -> None:
        """Records of one patient or tumour giving different values of one column: the value kept and the others."""
        self.conflicts.append({"table": table, "column": column, "source": source, "detail": detail})

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # --- finishing ---------------------------------------------------------------------------------------------

    def finish(self, frames: dict[str, pd.DataFrame]) -> None:
        """Count mapped rows and filled values; list absent tables and the criteria left undecidable."""
        self.mapped = {name: len(frame) for name, frame in frames.items()}
        self.absent_tables = [t for t in tables() if t not in frames]
        self.filled = {}
        for name, frame in frames.items():
            for column in tables()[name].column_names:
                filled = int(frame[column].notna().sum()) if column in frame else 0
                self.filled[(name, column)] = (filled, len(frame))
        self.criteria = self._criterion_gaps(frames)

    def _criterion_gaps(self, frames: dict[str, pd.DataFrame]) -> list[dict[str, str]]:
        """Per criterion: the outcome it takes for lack of data, for whom, and which data are missing."""
        gaps: list[dict[str, str]] = []
        for criterion in CRITERIA:
            reads = [entry for entry in criterion_inputs() if criterion.id in entry.becomes]
            states = [(entry, data_state(frames, entry)) for entry in reads]
            tables_gone = [entry for entry, state in states if state == "empty" and entry.whole_table]
            all_gone = [entry for entry, state in states if state == "empty"]
            some_gone = [entry for entry, state in states if state == "partial"]
            if tables_gone:  # no rows at all: the criterion is decided (or undecidable) for every patient
                missing = tables_gone
                names = ", ".join(_label(entry).replace("_", " ") for entry in tables_gone)
                scope = f"every patient ({names}: none in the source)"
            elif all_gone:
                missing = all_gone
                other = all(entry.rows in ("other", "skin") for entry in all_gone)
                scope = "patients with another primary" if other else "every patient"
            elif some_gone:
                missing = some_gone
                scope = "patients whose records lack it"
            else:
                continue
            outcome = min((entry.becomes[criterion.id] for entry in missing), key=OUTCOME_PRECEDENCE.index)
            gaps.append(
                {
                    "criterion": criterion.id,
                    "outcome": outcome,
                    "scope": scope,
                    "missing": "; ".join(_label(entry) for entry in missing),
                    "detail": criterion.decided_as,
                }
            )
        return gaps

    # --- rendering ---------------------------------------------------------------------------------------------

    def rows(self) -> list[dict[str, object]]:
        """The report as flat rows (mapping_report.csv)."""
        out: list[dict[str, object]] = []

        def add(section: str, **values: object) -> None:
            out.append({c: values.get(c, "") for c in REPORT_COLUMNS} | {"section": section})

        for source_table, n in self.rows_read.items():
            add("read", source=source_table, count=n)
        for table, n in self.mapped.items():
            add("mapped", table=table, count=n)
        for table in self.absent_tables:
            add("absent_table", table=table, detail="not written: the source holds no such data")
        for (source_table, table, reason), n in sorted(self.drops.items()):
            add("dropped", table=table, source=source_table, reason=reason, count=n)
        for conflict in self.sorted_conflicts():
            add("conflict", reason=CONFLICT_REASON, **conflict)
        for (table, column), (filled, total) in self.filled.items():
            add(
                "column",
                table=table,
                column=column,
                source=self.lineage.get((table, column), ""),
                count=filled,
                total=total,
                detail="empty" if filled == 0 else ("partly filled" if filled < total else "filled"),
            )
        for gap in self.criteria:
            add(
                "criterion",
                column=gap["criterion"],
                reason=gap["outcome"],
                source=gap["missing"],
                detail=gap["scope"],
            )
        for note in self.notes:
            add("note", detail=note)
        for finding in self.findings:
            add("finding", detail=finding)
        return out

    def sorted_conflicts(self) -> list[dict[str, str]]:
        return sorted(self.conflicts, key=lambda c: (c["table"], c["detail"].split(":")[0], c["column"], c["detail"]))

    def to_csv(self) -> str:
        """mapping_report.csv as text, written as every CSV file of the package is (oligo_cohort.csv_output)."""
        buffer = io.StringIO()
        write_csv(pd.DataFrame(self.rows(), columns=list(REPORT_COLUMNS), dtype=object), buffer)
        return buffer.getvalue()

    def to_markdown(self) -> str:
        lines = [f"# Mapping report: {self.kind}", "", f"Source: `{self.source}`", ""]
        patients = self.mapped.get("patients", 0)
        lines += [f"{patients:,} patients imported.", ""]
        lines += ["## Rows read", "", "| source table | rows |", "|---|---:|"]
        lines += [f"| {t} | {n:,} |" for t, n in self.rows_read.items()]
        lines += ["", "## Rows mapped", "", "| canonical table | rows |", "|---|---:|"]
        lines += [f"| {t} | {n:,} |" for t, n in self.mapped.items()]
        if self.absent_tables:
            lines += ["", "Not written (the source holds no such data): " + ", ".join(self.absent_tables) + "."]
        lines += ["", "## Rows dropped", ""]
        if self.drops:
            lines += ["| source | into | reason | rows |", "|---|---|---|---:|"]
            lines += [f"| {s} | {t} | {_md(r)} | {n:,} |" for (s, t, r), n in sorted(self.drops.items())]
        else:
            lines.append("None.")
        if self.conflicts:
            lines += ["", "## Records that disagree", "", CONFLICT_REASON[0].upper() + CONFLICT_REASON[1:] + ".", ""]
            lines += ["| table | column | source | values |", "|---|---|---|---|"]
            lines += [
                f"| {c['table']} | {c['column']} | {_md(c['source'])} | {_md(c['detail'])} |"
                for c in self.sorted_conflicts()
            ]
        lines += ["", "## Where each column comes from", ""]
        lines += ["| table | column | source fields | filled |", "|---|---|---|---:|"]
        for (table, column), (filled, total) in self.filled.items():
            source = self.lineage.get((table, column), "—")
            lines.append(f"| {table} | {column} | {_md(source)} | {filled:,} / {total:,} |")
        empty = [f"{t}.{c}" for (t, c), (filled, total) in self.filled.items() if filled == 0]
        lines += ["", "## Left empty", ""]
        lines.append("Tables: " + (", ".join(self.absent_tables) or "none") + ".")
        lines.append("")
        lines.append("Columns: " + (", ".join(empty) or "none") + ".")
        lines += ["", "## Criteria the imported data cannot decide", ""]
        if self.criteria:
            lines += ["| criterion | becomes | for | missing data |", "|---|---|---|---|"]
            lines += [
                f"| {g['criterion']} | {g['outcome']} | {g['scope']} | {_md(g['missing']) or '—'} |"
                for g in self.criteria
            ]
        else:
            lines.append("None: every criterion has the data it reads.")
        if self.notes:
            lines += ["", "## Notes", ""]
            lines += [f"- {_md(n)}" for n in self.notes]
        lines += ["", "## Validation of the imported extract", ""]
        if self.findings:
            them = "it" if len(self.findings) == 1 else "them"
            lines.append(f"{counted(len(self.findings), 'finding')} (the screen reports {them} too):")
            lines.append("")
            lines += [f"- {_md(f)}" for f in self.findings[:50]]
            if len(self.findings) > 50:
                lines.append(f"- ... and {len(self.findings) - 50:,} more")
        else:
            lines.append("No findings.")
        return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
