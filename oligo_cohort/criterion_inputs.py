"""Which criteria read which canonical data, and what each becomes without it (data_dictionary/criterion_inputs.yaml).

The import mapping report says from these entries which criteria an imported extract cannot decide; the file is
checked on load against the data dictionary and the criteria, and its claims against the engines by
tests/definitions/test_criterion_inputs.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from oligo_cohort.criteria import BY_ID, Outcome
from oligo_cohort.dictionary import tables
from oligo_cohort.paths import dictionary_dir
from oligo_cohort.yaml_input import load_package_yaml

Rows = Literal["all", "breast", "other", "skin"]
FILE = "criterion_inputs.yaml"


@dataclass(frozen=True)
class CriterionInput:
    """Data that criteria cannot do without: alternatives (`table` or `table.column`), any one of them enough."""

    data: tuple[str, ...]
    becomes: dict[str, Outcome]
    rows: Rows = "all"  # tumours only: the index breast tumours, the other primaries, those of the skin

    @property
    def table(self) -> str:
        """The canonical table the data lie in (alternatives share one)."""
        return self.data[0].partition(".")[0]

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns named; empty when the entry is the whole table."""
        return tuple(ref.partition(".")[2] for ref in self.data if "." in ref)

    @property
    def whole_table(self) -> bool:
        """Whether the entry is a table (its rows), not columns of it."""
        return not self.columns


@cache
def criterion_inputs() -> tuple[CriterionInput, ...]:
    """Every entry of the file, in file order, checked against the data dictionary and the criteria."""
    doc = load_package_yaml(dictionary_dir() / FILE)
    entries = tuple(
        CriterionInput(tuple(item["data"]), dict(item["becomes"]), item.get("rows", "all")) for item in doc["inputs"]
    )
    for entry in entries:
        _check(entry)
    return entries


def _check(entry: CriterionInput) -> None:
    """A mistake in the file is a programming error: say which entry and what is wrong."""
    where = f"{FILE}: {', '.join(entry.data)}"
    known = tables()
    if len({ref.partition(".")[0] for ref in entry.data}) != 1 or entry.table not in known:
        raise ValueError(f"{where}: alternatives must name one table of the data model")
    if bool(entry.columns) and len(entry.columns) != len(entry.data):
        raise ValueError(f"{where}: alternatives are all columns or one whole table")
    unknown = [c for c in entry.columns if c not in known[entry.table].column_names]
    if unknown:
        raise ValueError(f"{where}: {entry.table} has no column {', '.join(unknown)}")
    if entry.rows != "all" and entry.table != "tumours":
        raise ValueError(f"{where}: rows narrows tumours only")
    for criterion, outcome in entry.becomes.items():
        if criterion not in BY_ID:
            raise ValueError(f"{where}: no criterion {criterion}")
        if outcome not in BY_ID[criterion].outcomes:
            raise ValueError(f"{where}: {criterion} cannot be {outcome}")
