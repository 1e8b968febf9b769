"""The casebook: every spec case, grouped by criterion, rendered as Markdown (docs/casebook.md).

    python -m tests.spec.casebook        (or: make casebook)

The spec tests declare their cases as data (tests/spec/cases.py); this module
reads those declarations, not the test code, and renders each case's tables
that differ from the baseline, the protocol parameters it changes and the
outcomes (and rules) it expects, the way OpenSAFELY's ehrQL renders its spec
tests into its reference. For each criterion it quotes the protocol text and
the spec's decision from oligo_cohort/criteria.py. tests/spec/test_casebook.py
fails when docs/casebook.md is not what this module renders.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

import pandas as pd

from oligo_cohort.criteria import BY_ID, CRITERION_IDS, Criterion
from oligo_cohort.dictionary import tables as model_tables
from oligo_cohort.protocol import Protocol, load_protocol
from tests.spec import baseline
from tests.spec.baseline import AS_OF, BASELINE, BASELINE_OUTCOMES, PATIENT
from tests.spec.cases import Group, SpecCase, groups
from tests.spec.harness import Case, build_case

ROOT = Path(__file__).resolve().parents[2]
CASEBOOK = ROOT / "docs" / "casebook.md"
REFERENCE_PROTOCOL = "cosmo"
TABLE_FROM = 3  # expected outcomes of this many criteria or more are shown as a table


@dataclass(frozen=True)
class Section:
    """One chapter of the casebook: the spec test module it renders, and the criterion it is about (if one)."""

    module: str
    title: str
    criterion: str | None = None

    @property
    def anchor(self) -> str:
        """The Markdown heading's anchor, as GitHub makes it."""
        return _anchor(self.title)


SECTIONS: tuple[Section, ...] = (
    *(Section(f"tests.spec.criteria.test_{c}", c, c) for c in CRITERION_IDS),
    Section("tests.spec.test_lines_of_therapy", "Lines of therapy"),
    Section("tests.spec.test_best_event", "Events and the best event"),
    Section("tests.spec.test_cutoff", "The data cut-off"),
)


def module_of(section: Section) -> ModuleType:
    """The spec test module of a section, imported (its cases declared)."""
    return importlib.import_module(section.module)


def section_groups(section: Section) -> list[Group]:
    """The groups of cases of a section, in the order written."""
    return groups(module_of(section))


def section_cases(section: Section) -> list[SpecCase]:
    """Every case of a section."""
    return [spec for group in section_groups(section) for spec in group.cases]


def changed_parameters(given: Case) -> dict[str, tuple[object, object]]:
    """The protocol parameters a case changes: name -> (its value, the reference protocol's value)."""
    protocol = given.protocol if isinstance(given.protocol, Protocol) else load_protocol(given.protocol)
    reference = dataclasses.asdict(load_protocol(REFERENCE_PROTOCOL).parameters)
    own = dataclasses.asdict(protocol.parameters)
    return {name: (own[name], reference[name]) for name in own if own[name] != reference[name]}


def render() -> str:
    """The whole casebook as Markdown."""
    counts = {section: len(section_cases(section)) for section in SECTIONS}
    lines = [
        "# Casebook: the COSMO criteria, case by case",
        "",
        "Generated from the spec tests (`tests/spec/`) by `make casebook`; do not edit by hand.",
        "",
        f"Each of the {sum(counts.values())} cases below is a spec test: the baseline extract with a few tables "
        "replaced, screened by every engine (DuckDB and pandas in `make test`, Spark in `make spark-check`), and "
        "the outcomes the screen must give. A case shows only the tables that differ from the baseline, the "
        "protocol parameters it changes, and what is expected of one row of the output: an event (a screening "
        "scan) or the patient's row (its best event).",
        "",
        "Conventions: dates are ISO; a blank cell is missing; `NULL` is a missing value the loader refuses (a "
        "required column), set after loading, as a typed table handed to an engine can hold it. S is the "
        "screening scan, R the planned registration (S + 49 days). Each criterion's rules are the branches of "
        "its decision (`oligo_cohort/criteria.py`); a rule named in a case is the one `reasons.csv` records. "
        "Where a case says *every other criterion as in the baseline*, the criteria it does not name keep the "
        "baseline's outcomes.",
        "",
        "## Contents",
        "",
        "- [The baseline](#the-baseline)",
    ]
    for section in SECTIONS:
        about = f": {BY_ID[section.criterion].protocol_text}" if section.criterion else ""
        lines.append(f"- [{section.title}](#{section.anchor}){_shortened(about)} ({counts[section]} cases)")
    lines += ["", *_baseline_chapter()]
    for section in SECTIONS:
        lines += ["", *_section(section)]
    return "\n".join(lines).rstrip() + "\n"


def _baseline_chapter() -> list[str]:
    doc = _paragraphs(baseline.__doc__ or "")
    lines = ["## The baseline", "", *doc, "", f"Cut-off: {AS_OF}; protocol: `{REFERENCE_PROTOCOL}`.", ""]
    for name, frame in BASELINE.items():
        lines += [f"`{name}`", "", *_markdown_table(frame), ""]
    outcomes = ", ".join(f"{c} **{o}**" for c, o in BASELINE_OUTCOMES.items() if o != "pass")
    lines.append(f"On its screening scan S every criterion passes except {outcomes}.")
    return lines


def _section(section: Section) -> list[str]:
    module = module_of(section)
    doc = _paragraphs(module.__doc__ or "")
    lines = [f"## {section.title}", ""]
    if section.criterion:
        lines += [*_criterion_header(BY_ID[section.criterion]), ""]
        doc = doc[2:]  # the docstring's first line paraphrases the protocol text quoted above
    if doc:
        lines += [*doc, ""]
    for group in groups(module):
        lines += [f"### {group.heading}", ""]
        if group.doc:
            lines += [*_paragraphs(group.doc), ""]
        for spec in group.cases:
            lines += [*_case(spec), ""]
    return lines


def _criterion_header(criterion: Criterion) -> list[str]:
    rules = ", ".join(f"`{rule.name}` ({rule.outcome})" for rule in criterion.rules)
    if criterion.parameters:
        reference = dataclasses.asdict(load_protocol(REFERENCE_PROTOCOL).parameters)
        read = ", ".join(f"`{name}` ({reference[name]})" for name in criterion.parameters)
    else:
        read = "none"
    return [
        f"{criterion.kind.capitalize()} criterion, as the protocol states it:",
        "",
        f"> {criterion.protocol_text}",
        "",
        f"Decided as: {criterion.decided_as}.",
        "",
        f"Protocol parameters read (COSMO's value): {read}. Rules: {rules}.",
    ]


def _case(spec: SpecCase) -> list[str]:
    given = spec.given
    lines = [f"#### {spec.title[:1].upper()}{spec.title[1:]}", ""]
    setting = _setting(given)
    if setting:
        lines += [setting, ""]
    changed = _changed_tables(given)
    if not changed and not setting:
        lines += ["The baseline, unchanged.", ""]
    for name, frame in changed.items():
        if frame is None:
            lines += [f"`{name}`: no such table in the extract.", ""]
        else:
            lines += [f"`{name}`", "", *_markdown_table(frame), ""]
    lines += _expected(spec)
    return lines


def _setting(given: Case) -> str:
    """The cut-off, mode and protocol of a case, where they differ from the baseline's."""
    parts = []
    if given.as_of is None:
        parts.append("No cut-off given: the extract's own default.")
    elif given.as_of != AS_OF:
        parts.append(f"Cut-off {given.as_of}.")
    if given.worklist:
        parts.append("Worklist mode.")
    changed = changed_parameters(given)
    if changed:
        name = given.protocol if isinstance(given.protocol, str) else given.protocol.name
        values = ", ".join(f"`{key}` {own} (COSMO: {cosmo})" for key, (own, cosmo) in changed.items())
        parts.append(f"Protocol `{name}`: {values}." if name != REFERENCE_PROTOCOL else f"Protocol: {values}.")
    return " ".join(parts)


def _changed_tables(given: Case) -> dict[str, pd.DataFrame | None]:
    """The tables of a case that differ from the baseline, as the case wrote them, in the data model's order."""
    unchanged = _baseline_case()
    changed = {}
    for name in model_tables():
        if name not in given.given:
            continue
        frame = given.tables[name]
        reference = unchanged.tables[name]
        if given.typed_nulls or frame is None or reference is None or not frame.equals(reference):
            changed[name] = given.given[name]
    return changed


@cache
def _baseline_case() -> Case:
    return build_case()


def _expected(spec: SpecCase) -> list[str]:
    if spec.at is None:
        patient = "the patient" if spec.patient == PATIENT else spec.patient
        where = f"on {patient}'s row (its best event, or the cut-off when it has none)"
    else:
        where = f"on event {spec.at}" + ("" if spec.patient == PATIENT else f" of {spec.patient}")
    facts = []
    if spec.events is not None:
        facts.append(f"candidate events {', '.join(spec.events)}" if spec.events else "no candidate event")
    if spec.best is not None:
        facts.append(f"best event {spec.best}")
    facts += [f"{column} {_shown(value)}" for column, value in spec.columns.items()]
    facts += [f"{count} data-quality finding{'s' * (count != 1)} on {place}" for place, count in spec.findings.items()]
    named = [c for c in CRITERION_IDS if c in spec.outcomes or c in spec.rules or c in spec.says]
    rest = ("every other criterion" if named else "every criterion") + " as in the baseline"
    if len(named) < TABLE_FROM:
        parts = [*facts, *(_outcome_phrase(spec, c) for c in named), *([rest] if spec.only else [])]
        return [f"Expected {where}" + (": " + "; ".join(parts) + "." if parts else ".")]
    lines = [f"Expected {where}" + (": " + "; ".join(facts) + "." if facts else ":"), ""]
    says = any(c in spec.says for c in named)
    lines += [_row(["criterion", "outcome", "rule", *(["reason says"] if says else [])])]
    lines += [_row(["---"] * (4 if says else 3))]
    for criterion in named:
        cells = [criterion, _outcome(spec, criterion), _code(spec.rules.get(criterion))]
        lines.append(_row(cells + ([_quoted(spec.says.get(criterion))] if says else [])))
    if spec.only and len(named) < len(CRITERION_IDS):
        lines += ["", rest[:1].upper() + rest[1:] + "."]
    return lines


def _outcome(spec: SpecCase, criterion: str) -> str:
    """The outcome a case expects of a criterion: stated, or the baseline's when the others keep theirs."""
    outcome = spec.outcomes.get(criterion) or (BASELINE_OUTCOMES[criterion] if spec.only else "")
    return f"**{outcome}**" if outcome else ""


def _outcome_phrase(spec: SpecCase, criterion: str) -> str:
    phrase = f"{criterion} {_outcome(spec, criterion)}".rstrip()
    if criterion in spec.rules:
        phrase += f" by rule `{spec.rules[criterion]}`"
    if criterion in spec.says:
        phrase += f", its reason saying {_quoted(spec.says[criterion])}"
    return phrase


def _markdown_table(frame: pd.DataFrame) -> list[str]:
    header = [str(column) for column in frame.columns]
    lines = [_row(header), _row(["---"] * len(header))]
    for record in frame.itertuples(index=False):
        lines.append(_row(["" if value is None else str(value) for value in record]))
    return lines


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _shown(value: object) -> str:
    return "none" if value is None else f"`{value}`"


def _code(name: str | None) -> str:
    return f"`{name}`" if name else ""


def _quoted(text: str | None) -> str:
    return f"“{text}”" if text else ""


def _paragraphs(doc: str) -> list[str]:
    """A docstring as Markdown lines, indentation removed (an indented block stays a code block)."""
    return inspect.cleandoc(doc).splitlines() if doc.strip() else []


def _shortened(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def _anchor(title: str) -> str:
    slug = re.sub(r"[^\w\- ]", "", title.lower())
    return slug.replace(" ", "-")


def main(argv: list[str] | None = None) -> int:
    """Write docs/casebook.md from the spec tests."""
    del argv
    CASEBOOK.write_text(render(), encoding="utf-8")
    print(f"wrote {CASEBOOK.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
