"""Problems in words for a terminal: grouped by kind, table and column, with counts and a few examples.

Every problem is still in the CSV file the lines point to; a terminal shows what a person reads in a minute.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from oligo_cohort.counts_in_words import counted
from oligo_cohort.problems import FINDING_KINDS, SEVERITIES, Problem, classified, shortened, unlisted_rows
from oligo_cohort.problems.suggestions import suggest_drug

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
    return counted(total, noun) + (f": {parts}" if parts else "")


def severity_words(counts: dict[str, int]) -> str:
    """`612 warnings, 331 information` (empty for no problems)."""
    return ", ".join(
        counted(n, severity, "information" if severity == "information" else None) for severity, n in counts.items()
    )


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
        if group.count == 1 and group.listed[0].row is None:
            # One problem of a table or file, not of a row: its own line says it all, value included, once.
            lines.append(one_line(f"  {severity}{group.listed[0].describe()}"))
            continue
        lines.append(one_line(f"  {severity}{group.where}: {group.label}{_count_text(group)}"))
        if group.kind == "unknown_drug":
            lines += [one_line(line) for line in _name_lines(group, see)]
        elif examples:
            lines += _example_lines(group, see, examples)
    hidden = groups[max_groups:]
    if hidden:
        count = sum(g.count for g in hidden)
        lines.append(f"  … and {len(hidden)} more kinds ({counted(count, 'problem')}; see {see})")
    return lines


def _count_text(group: ProblemGroup) -> str:
    if any(p.row is not None for p in group.listed) or group.unlisted:
        return f" ({counted(group.count, 'row')})"
    return f" ({group.count:,})" if group.count > 1 else ""


def _example_lines(group: ProblemGroup, see: str, examples: int) -> list[str]:
    """The group's first problems, each as the one line `describe()` gives."""
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
        rows = counted(n, "row")
        lines.append(f"      {shortened(name)!r}: {rows}" + (f", did you mean {hint}?" if hint else ""))
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
