"""Problems found in an extract: fatal ones stop the run, findings are reported beside the results.

Where a problem is found decides whether it stops the run (`fatal`) or not (a
*finding*). A finding's severity comes from its **kind**, assigned here and
nowhere else (`FINDING_KINDS`, docs/decisions.md D52):

- `fatal` — the run stops with exit code 2 and writes nothing;
- `warning` — the screen ran, but some patients' results may be affected (a
  value read as missing, a record left out, a drug's class unknown);
- `information` — the extract was read as the contract allows (another
  delimiter, Latin-1 text, a file or column ignored, records after the
  cut-off): nothing in the results changed because of it.

Producers (sources, validate, load) create findings with severity `finding`
and a message; `classified` recognises each message's kind, gives it the
kind's severity and, for a drug name missing from the vocabulary, the closest
vocabulary name ("did you mean palbociclib?"). `summary_lines` words a list of
problems for a terminal, grouped by kind with counts, every problem still in
the CSV file.

The package holds three rooms: this module (the problem, its kind and
severity, its rows), `suggestions` (did you mean) and `summary` (the words
for a terminal).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from oligo_cohort.problems.suggestions import suggestion_for

if TYPE_CHECKING:
    import pandas as pd  # a screen stores and prints its findings without pandas: it starts faster

# `finding` is what a producer says of a problem that does not stop the run, before its kind gives its severity.
Severity = Literal["fatal", "finding", "warning", "information"]
FindingSeverity = Literal["warning", "information"]
SEVERITIES: tuple[str, ...] = ("fatal", "warning", "information")  # most serious first

PROBLEM_COLUMNS = ("severity", "table", "column", "row", "record_id", "value", "message")


@dataclass(frozen=True)
class Problem:
    """One problem, named by table, column, row number (1 = first data row) or record id, and value.

    `kind` is set by `classified` for findings (a key of FINDING_KINDS); it is not written to the CSV files.
    """

    severity: Severity
    table: str
    column: str | None
    row: int | None
    record_id: str | None
    value: str | None
    message: str
    kind: str = field(default="", compare=False)

    def describe(self) -> str:
        """One line for a terminal: where, what value, what is wrong (control characters and newlines escaped)."""
        from oligo_cohort.terminal import one_line

        value = "" if self.value is None else f" value {shortened(self.value)!r}:"
        return one_line(f"{self.where()}:{value} {self.message}")

    def where(self) -> str:
        """`table.column row N (record id)`, as much of it as is known."""
        where = self.table
        if self.column:
            where += f".{self.column}"
        if self.row is not None:
            where += f" row {self.row}"
        if self.record_id:
            where += f" ({self.record_id})"
        return where


# --- kinds of finding and their severity ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingKind:
    """One kind of finding: how its message reads, its severity, and what the summary calls a group of them."""

    name: str
    severity: FindingSeverity
    pattern: str  # a regular expression matching the start of the message
    summary: str  # the group's label when its messages differ (e.g. dates in them)


WARNING: FindingSeverity = "warning"
INFORMATION: FindingSeverity = "information"

# The one table of finding kinds (docs/decisions.md D52; README "Input problems"). A message no kind recognises is
# an `unclassified` warning: the safe side, and a test holds every finding the package produces to a kind.
FINDING_KINDS: dict[str, FindingKind] = {
    kind.name: kind
    for kind in (
        # warning: the screen ran, but some patients' results may be affected
        FindingKind(
            "unknown_drug",
            WARNING,
            r"drug is not in the vocabulary",
            "drug names not in the vocabulary (class unknown)",
        ),
        FindingKind("implausible_value", WARNING, r"implausibly large", "implausibly large values read as missing"),
        FindingKind("implausible_date", WARNING, r"implausible date", "implausible dates read as missing"),
        FindingKind("optional_column_absent", WARNING, r"optional column is absent", "optional columns absent"),
        FindingKind("empty_table", WARNING, r"the table has no records", "tables without records"),
        FindingKind(
            "uninferable_setting",
            WARNING,
            r"setting missing or unknown and no metastasis date",
            "therapy of unknown setting not counted as metastatic treatment",
        ),
        # information: read as the contract allows; nothing in the results changed because of it
        FindingKind(
            "after_cutoff_record", INFORMATION, r"dated after the cut-off", "records dated after the cut-off: ignored"
        ),
        FindingKind("after_cutoff_date", INFORMATION, r"after the cut-off", "dates after the cut-off: read as missing"),
        FindingKind("not_utf8", INFORMATION, r"not UTF-8", "text that is not UTF-8, read as Windows-1252 (Latin-1)"),
        FindingKind("delimiter", INFORMATION, r"read with .* as the delimiter", "files with another delimiter"),
        FindingKind(
            "not_a_table", INFORMATION, r"(file is )?not a table of the model", "files that are not tables: ignored"
        ),
        FindingKind(
            "unknown_column",
            INFORMATION,
            r"column is not in the data dictionary",
            "columns not in the data dictionary: ignored",
        ),
    )
}
UNCLASSIFIED = FindingKind("unclassified", WARNING, r"", "other findings")

# The line `validate.collect_problems` adds after the rows it lists of one check: it belongs to that check's kind.
_MORE_ROWS = re.compile(r"\.\.\. and ([0-9]+) more rows with the same problem \(([0-9]+) in all\)")


def kind_of(message: str) -> FindingKind:
    """The kind of a finding's message (UNCLASSIFIED when no kind recognises it)."""
    for kind in FINDING_KINDS.values():
        if re.match(kind.pattern, message):
            return kind
    return UNCLASSIFIED


def unlisted_rows(problem: Problem) -> int:
    """The rows a "... and N more rows with the same problem" line stands for (0 for any other problem)."""
    match = _MORE_ROWS.fullmatch(problem.message)
    return int(match.group(1)) if match else 0


def classified(problems: Iterable[Problem]) -> list[Problem]:
    """Every finding with its kind and the kind's severity (fatal problems as they are), in the order given.

    A "... and N more rows" line takes the kind of the rows before it (same table and column); a drug name
    missing from the vocabulary gets the closest vocabulary name in its message. Classifying twice changes nothing.
    """
    out: list[Problem] = []
    last_kind: dict[tuple[str, str | None], FindingKind] = {}
    for problem in problems:
        if problem.severity == "fatal" or problem.kind:
            out.append(problem)
            continue
        if unlisted_rows(problem):
            kind = last_kind.get((problem.table, problem.column), UNCLASSIFIED)
        else:
            kind = kind_of(problem.message)
        last_kind[(problem.table, problem.column)] = kind
        message = problem.message
        hint = suggestion_for(kind.name, problem.value)
        if hint:
            message += f" (did you mean {hint}?)"
        out.append(replace(problem, severity=kind.severity, kind=kind.name, message=message))
    return out


def ordered_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Problems classified, in the stable order every table of them is written in: severity, table, row, column,
    message, a missing row or column after the present ones."""

    def key(problem: Problem) -> tuple[object, ...]:
        return (
            problem.severity,
            problem.table,
            (problem.row is None, problem.row or 0),
            (problem.column is None, problem.column or ""),
            problem.message,
        )

    return sorted(classified(problems), key=key)


def problem_rows(problems: Iterable[Problem]) -> list[tuple[object, ...]]:
    """Problems as rows of PROBLEM_COLUMNS, in `ordered_problems` order."""
    return [tuple(getattr(p, c) for c in PROBLEM_COLUMNS) for p in ordered_problems(problems)]


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """Problems as a DataFrame in `ordered_problems` order, findings classified."""
    import pandas as pd

    frame = pd.DataFrame(problem_rows(problems), columns=list(PROBLEM_COLUMNS))
    frame["row"] = frame["row"].astype("Int64")
    return frame


def problems_from_rows(rows: Iterable[Sequence[object]]) -> list[Problem]:
    """Problems back from rows of PROBLEM_COLUMNS (a stored findings table), in their order; None is missing."""

    def text(value: object) -> str | None:
        return None if value is None else str(value)

    problems = []
    for severity, table, column, row, record_id, value, message in rows:
        problems.append(
            Problem(
                text(severity) or "finding",  # type: ignore[arg-type]
                text(table) or "",
                text(column),
                None if text(row) is None else int(row),  # type: ignore[call-overload]
                text(record_id),
                text(value),
                text(message) or "",
            )
        )
    return problems


def shortened(value: str, limit: int = 60) -> str:
    """A value cut to `limit` characters (an ellipsis marking the cut), for one line of a terminal."""
    return value if len(value) <= limit else value[: limit - 1] + "…"
