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
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Literal

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

        value = "" if self.value is None else f" value {_shorten(self.value)!r}:"
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
        FindingKind("not_utf8", INFORMATION, r"not UTF-8", "text that is not UTF-8, read as Latin-1"),
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
        hint = _SUGGESTERS.get(kind.name, _no_suggestion)(problem.value)
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


# --- did you mean ---------------------------------------------------------------------------------------------------


def suggest_drug(value: str | None) -> str | None:
    """The vocabulary name a drug name not in the vocabulary most likely means, or None.

    A vocabulary name (or alias) that the value starts with, followed by a dose or form (`fulvestrant 500 mg`),
    else the closest spelling (difflib ratio >= 0.8: `palbociclb`, `anastrazole`, `letrozol`). An alias found is
    named with its drug: `herceptin (trastuzumab)`.
    """
    if not value:
        return None
    return _drug_suggestion(" ".join(value.lower().split()))


@cache
def _drug_vocabulary() -> tuple[dict[str, str], tuple[str, ...]]:
    from oligo_cohort.dictionary import drug_aliases, drugs

    names = {d.drug: d.drug for d in drugs()} | drug_aliases()
    return names, tuple(sorted(names, key=len, reverse=True))


@cache
def _drug_suggestion(value: str) -> str | None:
    names, longest_first = _drug_vocabulary()
    if value in names:
        return None
    prefixed = next(
        (name for name in longest_first if value.startswith(name) and not value[len(name)].isalpha()),
        None,
    )
    found = prefixed or next(iter(difflib.get_close_matches(value, list(names), n=1, cutoff=0.8)), None)
    if found is None:
        return None
    return found if names[found] == found else f"{found} ({names[found]})"


def _no_suggestion(value: str | None) -> str | None:
    return None


_SUGGESTERS: dict[str, Callable[[str | None], str | None]] = {"unknown_drug": suggest_drug}


# --- the summary for a terminal -------------------------------------------------------------------------------------

MAX_GROUPS = 25  # groups printed; the rest are counted
MAX_EXAMPLES = 3  # rows printed per group
MAX_NAMES = 12  # distinct drug names printed per group


@dataclass
class ProblemGroup:
    """Problems of one kind in one table and column: the rows listed and the rows only counted."""

    severity: str
    table: str
    column: str | None
    kind: str
    listed: list[Problem] = field(default_factory=list)
    unlisted: int = 0  # rows a "... and N more rows" line stands for

    @property
    def count(self) -> int:
        return len(self.listed) + self.unlisted

    @property
    def where(self) -> str:
        return f"{self.table}.{self.column}" if self.column else self.table

    @property
    def label(self) -> str:
        """The message of every problem in the group, or the kind's summary when they differ."""
        messages = {_without_hint(p.message) for p in self.listed}
        if len(messages) == 1:
            return messages.pop()
        if self.kind in FINDING_KINDS:
            return FINDING_KINDS[self.kind].summary
        return _masked(next(iter(sorted(messages)), ""))


def grouped(problems: Iterable[Problem]) -> list[ProblemGroup]:
    """Problems grouped by severity, table, column and kind (fatal: the message with its dates and ids masked).

    Most serious first, then largest first. A "... and N more rows" line is counted in the group of the rows before
    it (same table and column).
    """
    groups: dict[tuple[str, str, str | None, str], ProblemGroup] = {}
    last: dict[tuple[str, str | None], ProblemGroup] = {}
    for problem in classified(problems):
        more = unlisted_rows(problem)
        if more and (problem.table, problem.column) in last:
            last[(problem.table, problem.column)].unlisted += more
            continue
        kind = problem.kind or _masked(problem.message)
        key = (problem.severity, problem.table, problem.column, kind)
        group = groups.setdefault(key, ProblemGroup(problem.severity, problem.table, problem.column, kind))
        if more:
            group.unlisted += more
        else:
            group.listed.append(problem)
        last[(problem.table, problem.column)] = group
    rank = {severity: i for i, severity in enumerate(SEVERITIES)}
    return sorted(
        groups.values(), key=lambda g: (rank.get(g.severity, len(rank)), -g.count, g.table, g.column or "", g.kind)
    )


def counts_by_severity(problems: Iterable[Problem]) -> dict[str, int]:
    """Problems per severity (rows a "... and N more" line stands for included), most serious first."""
    counts: dict[str, int] = {}
    for group in grouped(problems):
        counts[group.severity] = counts.get(group.severity, 0) + group.count
    return counts


def severity_counts_text(problems: Sequence[Problem], *, noun: str = "problem") -> str:
    """`943 findings: 612 warnings, 331 information`-style words for a list of problems."""
    counts = counts_by_severity(problems)
    total = sum(counts.values())
    parts = severity_words(counts)
    return f"{total:,} {noun if total == 1 else noun + 's'}" + (f": {parts}" if parts else "")


def severity_words(counts: dict[str, int]) -> str:
    """`612 warnings, 331 information` (empty for no problems)."""
    return ", ".join(f"{n:,} {_plural(severity, n)}" for severity, n in counts.items())


def summary_lines(
    problems: Sequence[Problem], *, see: str, examples: int = MAX_EXAMPLES, max_groups: int = MAX_GROUPS
) -> list[str]:
    """The problems for a terminal, grouped by kind with counts; `see` names where every one of them is.

    Each group is one line (severity, table.column, what, how many), then up to `examples` of its problems as
    `Problem.describe()` lines and "… and N more (see FILE)". Drug names not in the vocabulary are listed once per
    distinct name instead, with their count and the closest vocabulary name. Every line is one line (control
    characters escaped).
    """
    from oligo_cohort.terminal import one_line

    groups = grouped(problems)
    lines: list[str] = []
    for group in groups[:max_groups]:
        # A fatal report holds fatal problems only: their severity goes without saying.
        severity = "" if group.severity == "fatal" else f"{group.severity:<11} "
        lines.append(one_line(f"  {severity}{group.where}: {group.label}{_count_text(group)}"))
        if group.kind == "unknown_drug":
            lines += [one_line(line) for line in _name_lines(group, see)]
        elif examples:
            lines += _example_lines(group, see, examples)
    hidden = groups[max_groups:]
    if hidden:
        count = sum(g.count for g in hidden)
        lines.append(
            f"  … and {len(hidden)} more kinds ({count:,} {'problem' if count == 1 else 'problems'}; see {see})"
        )
    return lines


def _count_text(group: ProblemGroup) -> str:
    if any(p.row is not None for p in group.listed) or group.unlisted:
        return f" ({group.count:,} {'row' if group.count == 1 else 'rows'})"
    return f" ({group.count:,})" if group.count > 1 else ""


def _example_lines(group: ProblemGroup, see: str, examples: int) -> list[str]:
    """The group's first problems, each as the one line `describe()` gives (a group of one: only when it says more
    than the group's line)."""
    if group.count == 1 and group.listed and group.listed[0].value is None and group.listed[0].row is None:
        return []
    shown = group.listed[:examples]
    lines = [f"      {p.describe()}" for p in shown]
    rest = group.count - len(shown)
    if rest > 0:
        lines.append(f"      … and {rest:,} more (see {see})")
    return lines


def _name_lines(group: ProblemGroup, see: str) -> list[str]:
    """One line per distinct drug name: its rows and the closest vocabulary name."""
    names: dict[str, int] = {}
    for problem in group.listed:
        name = problem.value if problem.value is not None else ""
        names[name] = names.get(name, 0) + 1
    ranked = sorted(names.items(), key=lambda item: (-item[1], item[0]))
    lines = []
    for name, n in ranked[:MAX_NAMES]:
        hint = suggest_drug(name)
        rows = f"{n:,} {'row' if n == 1 else 'rows'}"
        lines.append(f"      {_shorten(name)!r}: {rows}" + (f", did you mean {hint}?" if hint else ""))
    if len(ranked) > MAX_NAMES:
        lines.append(f"      … and {len(ranked) - MAX_NAMES:,} more names (see {see})")
    if group.unlisted:
        lines.append(
            f"      (names counted in the first {len(group.listed):,} rows; {group.unlisted:,} more rows in {see})"
        )
    return lines


_HINT = re.compile(r" \(did you mean .*\?\)$")
_MASKS = (
    (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), "…"),
    (re.compile(r"(?<=offset )[0-9]+"), "…"),
    (re.compile(r"(?<=belongs to patient ).*$"), "…"),
)


def _without_hint(message: str) -> str:
    return _HINT.sub("", message)


def _masked(message: str) -> str:
    """A message with what differs from row to row (dates, offsets, ids) masked: the key of a group."""
    for pattern, mask in _MASKS:
        message = pattern.sub(mask, message)
    return _without_hint(message)


def _plural(severity: str, n: int) -> str:
    if severity == "information":
        return "information"
    return severity if n == 1 else f"{severity}s"


def _shorten(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
