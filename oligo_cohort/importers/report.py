"""The mapping report: what an import read, mapped and dropped, where each column came from, what stays empty.

The last part says which COSMO criteria the imported data therefore cannot
decide. It is derived from the criterion definitions in `oligo_cohort/criteria.py`:
`CRITERION_INPUTS` names the canonical data each criterion reads, and the
outcome it falls back to when that data is missing follows from the outcomes
the criterion can take (`review` for chart-review criteria, `unknown` where
the criterion has it, `fail` for the imaging criteria that a patient without a
candidate event fails).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import pandas as pd

from oligo_cohort.criteria import CRITERIA, FAILED_WITHOUT_EVENT, Criterion
from oligo_cohort.dictionary import tables

REPORT_MD = "mapping_report.md"
REPORT_CSV = "mapping_report.csv"
REPORT_COLUMNS = ("section", "table", "column", "source", "reason", "count", "total", "detail")

# The canonical data each criterion reads. Each entry is a tuple of groups; a group is a tuple of
# alternatives ("table" or "table.column"), any one of which is enough. `breast_tumours` and
# `other_primaries` are the tumours rows with and without a C50 topography.
CRITERION_INPUTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "inc_invasive_breast_cancer": (("breast_tumours.basis_of_diagnosis",),),
    "inc_metastatic": (("breast_tumours.tnm_m", "breast_tumours.metastasis_date"),),
    "inc_oligoprogression": (("imaging",), ("lesions",)),
    "inc_therapy_class": (("systemic_therapy",),),
    "inc_line_1_or_2": (("systemic_therapy",),),
    "inc_disease_control_6m": (("response_assessments",),),
    "inc_same_modality": (("imaging",),),
    "inc_imaging_window": (("imaging",),),
    "inc_pet_confirmation": (("imaging",), ("lesions",)),
    "inc_lat_amenable": (("observations",),),
    "inc_age_18": (("patients.birth_date",),),
    "inc_who_ps_0_1": (("performance_status",),),
    "inc_informed_consent": (("observations",),),
    "exc_more_than_two_lines": (("systemic_therapy",),),
    "exc_other_malignancy": (
        ("other_primaries.treatment_intent",),
        ("other_primaries.chemotherapy",),
        ("other_primaries.radiotherapy",),
        ("other_primaries.last_treatment_date",),
    ),
    "exc_pregnancy": (("observations",),),
    "exc_medical_risk": (("observations",),),
    "exc_psychosocial": (("observations",),),
}

# When a whole table is empty, these criteria decide instead of falling back; the phrase (from the
# criterion's `decided_as` in criteria.py) is what says so, and the outcome is only used while it is there.
EMPTY_TABLE_OUTCOMES: dict[tuple[str, str], tuple[str, str]] = {
    ("inc_invasive_breast_cancer", "breast_tumours"): ("fail", "no index tumour"),
    ("inc_metastatic", "breast_tumours"): ("fail", "No index tumour"),
    ("inc_therapy_class", "systemic_therapy"): ("fail", "no active line -> fail"),
    ("inc_line_1_or_2", "systemic_therapy"): ("fail", "no active line -> fail"),
    ("exc_more_than_two_lines", "systemic_therapy"): ("pass", "else pass"),
}

# Pseudo-tables that only matter when they have rows (no other primary: nothing to decide).
_SCOPED = ("other_primaries",)


def outcome_when_missing(criterion: Criterion, missing: tuple[str, ...] = ()) -> str:
    """The outcome a criterion falls back to when the data it reads is absent."""
    if criterion.id in FAILED_WITHOUT_EVENT and any(m.split(".")[0] in ("imaging", "lesions") for m in missing):
        return "fail"  # no imaging → no candidate event (criteria.md "Time")
    if "review" in criterion.outcomes and any(m.split(".")[0] == "observations" for m in missing):
        return "review"  # no observation recorded: chart review, even where a missing value reads as unknown
    if "unknown" in criterion.outcomes:
        return "unknown"
    if "review" in criterion.outcomes:
        return "review"
    return "fail"


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
        views = dict(frames)
        tumours = frames.get("tumours")
        if tumours is not None:
            breast = (
                tumours["topography"].fillna("").str.upper().str.replace(".", "", regex=False).str.startswith("C50")
            )
            views["breast_tumours"] = tumours[breast]
            views["other_primaries"] = tumours[~breast & (tumours["behaviour"] == "3")]
        gaps: list[dict[str, str]] = []
        for criterion in CRITERIA:
            groups = CRITERION_INPUTS[criterion.id]
            if not groups:
                gaps.append(
                    {
                        "criterion": criterion.id,
                        "outcome": "review",
                        "scope": "every patient",
                        "missing": "",
                        "detail": "always chart review (no registry holds it)",
                    }
                )
                continue
            decided = self._decided_by_empty_table(criterion, groups, views)
            if decided:
                gaps.append(decided)
                continue
            missing_all: list[str] = []
            missing_some: list[str] = []
            for group in groups:
                states = [self._state(views, ref) for ref in group]
                if all(s == "empty" for s in states):
                    missing_all.append(" or ".join(group))
                elif "full" not in states and "partial" in states:
                    missing_some.append(" or ".join(group))
            if missing_all:
                scope = "every patient"
                if all(m.startswith(_SCOPED) for m in missing_all):
                    scope = "patients with another primary"
                missing = tuple(missing_all)
            elif missing_some:
                scope = "patients whose records lack it"
                missing = tuple(missing_some)
            else:
                continue
            outcome = outcome_when_missing(criterion, missing)
            gaps.append(
                {
                    "criterion": criterion.id,
                    "outcome": outcome,
                    "scope": scope,
                    "missing": "; ".join(missing),
                    "detail": criterion.decided_as,
                }
            )
        return gaps

    @staticmethod
    def _decided_by_empty_table(
        criterion: Criterion, groups: tuple[tuple[str, ...], ...], views: dict[str, pd.DataFrame]
    ) -> dict[str, str] | None:
        for group in groups:
            for ref in group:
                table = ref.split(".")[0]
                rule = EMPTY_TABLE_OUTCOMES.get((criterion.id, table))
                frame = views.get(table)
                if rule and rule[1].lower() in criterion.decided_as.lower() and (frame is None or len(frame) == 0):
                    return {
                        "criterion": criterion.id,
                        "outcome": rule[0],
                        "scope": f"every patient ({table.replace('_', ' ')}: none in the source)",
                        "missing": table,
                        "detail": criterion.decided_as,
                    }
        return None

    @staticmethod
    def _state(views: dict[str, pd.DataFrame], ref: str) -> str:
        table, _, column = ref.partition(".")
        frame = views.get(table)
        if frame is None:
            return "empty"
        if len(frame) == 0:
            return "n/a" if table in _SCOPED else "empty"
        if not column:
            return "full"
        filled = int(frame[column].notna().sum())
        return "empty" if filled == 0 else ("full" if filled == len(frame) else "partial")

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

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(REPORT_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for row in self.rows():
            writer.writerow({k: _safe(v) for k, v in row.items()})
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
            lines.append(f"{len(self.findings):,} finding(s) (the screen reports them too):")
            lines.append("")
            lines += [f"- {_md(f)}" for f in self.findings[:50]]
            if len(self.findings) > 50:
                lines.append(f"- ... and {len(self.findings) - 50:,} more")
        else:
            lines.append("No findings.")
        return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _safe(value: object) -> object:
    """Text starting with = + - @ gets a leading apostrophe (spreadsheets run such cells as formulas)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
