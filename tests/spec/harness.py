"""Spec cases: the baseline extract with a few tables replaced, screened through `oligo_cohort.api.screen`.

Loading an extract costs a few hundred milliseconds, so cases declared with
`case(...)` (at import time, next to their test) are screened together: all
cases sharing a cut-off, protocol, mode and set of present tables go into one
extract, each case's ids prefixed so that its patients stay apart, and the
result is split back per case (a case leaving the cut-off to the extract's
default is screened alone). A case whose batch fails is screened on its own,
so that a failure always shows that case's own error. `screen_case(...)`
screens one case directly. Every candidate event is explained (not only the
best), so that a case can name the rule taken on any of its events.

A cell written `NULL` is a missing value the loader would refuse (a required
column): the case loads a placeholder there and sets the cell to NULL after
loading, as a typed table handed to an engine without the loader can hold it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from oligo_cohort.api import _screen_loaded, screen
from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.dictionary import tables as model_tables
from oligo_cohort.load import load_extract, materialise
from oligo_cohort.protocol import Protocol, load_protocol
from oligo_cohort.sources import ROW
from tests.spec.baseline import AS_OF, BASELINE, BASELINE_OUTCOMES, PATIENT
from tests.spec.tables import concat, table

# Columns holding ids that must be unique across the whole extract; a batch prefixes them per case.
ID_COLUMNS = ("patient_id", "tumour_id", "study_id")
PREFIX_END = "~"
PREFIX_PATTERN = r"c(\d{4})~"  # the case number in a prefixed id
# A missing value where the loader requires one: loaded as the column type's placeholder, then set to NULL.
TYPED_NULL = "NULL"
PLACEHOLDERS = {"boolean": "true"}

_numbers = itertools.count(1)
_registered: list[Case] = []


@dataclass(frozen=True, eq=False)
class Case:
    """One spec case: complete input tables (None = table absent), cut-off, protocol and worklist mode.

    `given` holds the replaced tables as the case wrote them (what the casebook shows); `typed_nulls` the cells
    (table, row, column) set to NULL after loading.
    """

    tables: Mapping[str, pd.DataFrame | None]
    as_of: str | None
    protocol: str | Protocol
    worklist: bool
    given: Mapping[str, pd.DataFrame | None] = field(default_factory=dict)
    typed_nulls: tuple[tuple[str, int, str], ...] = ()
    number: int = field(default_factory=lambda: next(_numbers))

    @property
    def prefix(self) -> str:
        """The id prefix that keeps this case's records apart inside a batch."""
        return f"c{self.number:04d}{PREFIX_END}"

    @property
    def batch_key(self) -> tuple[object, ...]:
        """Cases sharing this key can be screened in one extract.

        A case without a cut-off is screened alone: its default cut-off is read from the whole extract, so
        another case's dates in the same extract would move it.
        """
        present = frozenset(name for name, frame in self.tables.items() if frame is not None)
        alone = self.number if self.as_of is None else None
        return (self.as_of, self.protocol, self.worklist, present, alone)

    def source(self) -> dict[str, pd.DataFrame]:
        """The extract as `screen` takes it: present tables only."""
        return {name: frame for name, frame in self.tables.items() if frame is not None}


def build_case(
    *,
    as_of: str | None = AS_OF,
    protocol: str | Protocol = "cosmo",
    parameters: Mapping[str, object] | None = None,
    worklist: bool = False,
    **replaced: Any,
) -> Case:
    """The baseline with the named tables replaced (a DataFrame, or None to leave the table out).

    `parameters` changes some of the protocol's parameters, e.g. `parameters={"max_line_number": 3}`.
    """
    unknown = sorted(set(replaced) - set(model_tables()))
    if unknown:
        raise TypeError(f"not a table of the input model: {', '.join(unknown)}")
    if parameters:
        base = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
        protocol = base.with_overrides({name: str(value) for name, value in parameters.items()})
    completed = {name: (None if frame is None else _complete(name, frame)) for name, frame in replaced.items()}
    loadable, typed_nulls = _placeholders_for_typed_nulls(completed)
    return Case({**_completed_baseline(), **loadable}, as_of, protocol, worklist, dict(replaced), typed_nulls)


def case(
    *,
    as_of: str | None = AS_OF,
    protocol: str | Protocol = "cosmo",
    parameters: Mapping[str, object] | None = None,
    worklist: bool = False,
    **replaced: Any,
) -> Case:
    """Declare a spec case (baseline with the named tables replaced); it is screened in the session's batch."""
    declared = build_case(as_of=as_of, protocol=protocol, parameters=parameters, worklist=worklist, **replaced)
    _registered.append(declared)
    return declared


def registered_cases() -> tuple[Case, ...]:
    """Every case declared so far, in the order declared."""
    return tuple(_registered)


def baseline_with(name: str, rows: str) -> pd.DataFrame:
    """The baseline table `name` with the rows of a pipe table added."""
    return concat(BASELINE[name], table(rows))


def baseline_without(name: str, **match: str) -> pd.DataFrame:
    """The baseline table `name` without the rows whose columns equal the given values."""
    frame = BASELINE[name]
    drop = pd.Series(True, index=frame.index)
    for column, value in match.items():
        drop &= frame[column] == value
    return frame[~drop].reset_index(drop=True)


OTHER_TUMOUR_COLUMNS = (
    "tumour_id | diagnosis_date | topography | morphology | behaviour | treatment_intent | chemotherapy "
    "| radiotherapy | last_treatment_date"
)


def with_other_tumours(*rows: str) -> pd.DataFrame:
    """The baseline tumours plus other primaries, each one pipe row of OTHER_TUMOUR_COLUMNS."""
    return baseline_with("tumours", "\n".join([OTHER_TUMOUR_COLUMNS, *rows]))


@cache
def _completed_baseline() -> dict[str, pd.DataFrame]:
    """The baseline tables with all their columns, built once and shared (read-only) by every case."""
    return {name: _complete(name, frame) for name, frame in BASELINE.items()}


def _placeholders_for_typed_nulls(
    tables: dict[str, pd.DataFrame | None],
) -> tuple[dict[str, pd.DataFrame | None], tuple[tuple[str, int, str], ...]]:
    """The tables with each NULL cell holding its column type's placeholder, and where those cells are."""
    cells: list[tuple[str, int, str]] = []
    loadable: dict[str, pd.DataFrame | None] = {}
    for name, frame in tables.items():
        if frame is None:
            loadable[name] = None
            continue
        frame = frame.copy()
        for column in frame.columns:
            rows = [int(i) for i in np.flatnonzero(frame[column].to_numpy() == TYPED_NULL)]
            if not rows:
                continue
            column_type = model_tables()[name].column(column).type
            if column_type not in PLACEHOLDERS:
                raise TypeError(f"{name}.{column}: no placeholder for a {TYPED_NULL} cell of type {column_type}")
            frame.loc[rows, column] = PLACEHOLDERS[column_type]
            cells += [(name, row, column) for row in rows]
        loadable[name] = frame
    return loadable, tuple(cells)


def _complete(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Give a test table every column of the model: patient p1 when unstated, other columns missing."""
    completed = frame.copy()
    for column in model_tables()[name].column_names:
        if column not in completed.columns:
            completed[column] = PATIENT if column == "patient_id" else None
    return completed.astype(object)


SCREENED_TABLES = ("patients", "events", "reasons", "findings")


@dataclass(frozen=True)
class Screened:
    """The result of screening one case: output tables with the case's own ids."""

    patients: pd.DataFrame
    events: pd.DataFrame
    reasons: pd.DataFrame
    findings: pd.DataFrame

    def patient_row(self, patient_id: str = PATIENT) -> dict[str, Any]:
        """The patients row of one patient, as a dict."""
        rows = self.patients[self.patients["patient_id"] == patient_id]
        assert len(rows) == 1, f"expected one patients row for {patient_id}, found {len(rows)}"
        return rows.iloc[0].to_dict()

    @property
    def patient(self) -> dict[str, Any]:
        """The patients row of p1 (its best event's outcomes)."""
        return self.patient_row(PATIENT)

    def event(self, study_id: str, patient_id: str = PATIENT) -> dict[str, Any]:
        """The events row of the screening scan `study_id`."""
        rows = self.events[(self.events["patient_id"] == patient_id) & (self.events["event_id"] == study_id)]
        assert len(rows) == 1, (
            f"expected study {study_id} to be one candidate event of {patient_id}; "
            f"its events are {self.event_ids(patient_id)}"
        )
        return rows.iloc[0].to_dict()

    def event_ids(self, patient_id: str = PATIENT) -> list[str]:
        """The study ids of a patient's candidate events, sorted."""
        return sorted(self.events.loc[self.events["patient_id"] == patient_id, "event_id"])

    def reason_row(self, criterion: str, event_id: str | None = None, patient_id: str = PATIENT) -> dict[str, Any]:
        """The reasons row of one criterion on the event `event_id` (None: the patient's best event)."""
        if event_id is None:
            event_id = self.patient_row(patient_id)["event_id"]
        reasons = self.reasons
        on_event = reasons["event_id"].isna() if _missing(event_id) else reasons["event_id"] == event_id
        rows = reasons[(reasons["patient_id"] == patient_id) & (reasons["criterion"] == criterion) & on_event]
        assert len(rows) == 1, f"expected one reason for {criterion} on {patient_id}/{event_id}, found {len(rows)}"
        return rows.iloc[0].to_dict()


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def screen_case(
    engine: str,
    *,
    as_of: str | None = AS_OF,
    protocol: str | Protocol = "cosmo",
    parameters: Mapping[str, object] | None = None,
    worklist: bool = False,
    **replaced: Any,
) -> Screened:
    """Screen the baseline with the named tables replaced, on its own, with one engine."""
    one = build_case(as_of=as_of, protocol=protocol, parameters=parameters, worklist=worklist, **replaced)
    return _screen_alone(engine, one)


def _screen_alone(engine: str, one: Case) -> Screened:
    nulls = [(name, column, row + 1) for name, row, column in one.typed_nulls]  # `_row` numbers rows from 1
    return _screen(engine, one, one.source(), nulls)


def _screen(engine: str, first: Case, source: dict[str, pd.DataFrame], nulls: list[tuple[str, str, int]]) -> Screened:
    """Screen an extract with the cut-off, protocol and mode of `first`, every candidate event explained.

    `nulls` are the (table, column, `_row`) cells set to NULL after loading (see TYPED_NULL).
    """
    protocol = first.protocol if isinstance(first.protocol, Protocol) else load_protocol(first.protocol)
    if not nulls:
        result = screen(
            source, as_of=first.as_of, protocol=protocol, engine=engine, worklist=first.worklist, explain="all-events"
        )
        return Screened(*(result.as_text(name) for name in SCREENED_TABLES))
    loaded = load_extract(source, as_of=first.as_of)
    for name, column, row in nulls:
        held = loaded.con.execute(f'SELECT count(*) FROM "{name}" WHERE {ROW} = ? AND "{column}" IS NOT NULL', [row])
        assert held.fetchone() == (1,), f"{name} row {row}: no loaded placeholder in {column} to set to NULL"
        materialise(loaded.con, name)  # a loaded table may be a view of its typed table
        loaded.con.execute(f'UPDATE "{name}" SET "{column}" = NULL WHERE {ROW} = ?', [row])
    result = _screen_loaded(loaded, protocol, engine=engine, worklist=first.worklist, explain="all-events")
    return Screened(*(result.as_text(name) for name in SCREENED_TABLES))


class SpecRunner:
    """Screens every declared case once per engine, many cases to an extract, and hands out each case's result."""

    def __init__(self) -> None:
        self._results: dict[tuple[str, int], Screened | None] = {}

    def result(self, engine: str, one: Case) -> Screened:
        """The screened result of a case with an engine."""
        key = (engine, one.number)
        if key not in self._results:
            self._screen_pending(engine, [*_registered, one])
        batched = self._results.get(key)
        # A case whose batch failed is screened alone, so that the error raised is its own.
        return batched if batched is not None else _screen_alone(engine, one)

    def _screen_pending(self, engine: str, declared: list[Case]) -> None:
        pending = {c.number: c for c in declared if (engine, c.number) not in self._results}
        groups: dict[tuple[object, ...], list[Case]] = {}
        for one in pending.values():
            groups.setdefault(one.batch_key, []).append(one)
        for members in groups.values():
            try:
                split = _screen_batch(engine, members)
            except Exception:
                split = dict.fromkeys((c.number for c in members), None)
            for number, screened in split.items():
                self._results[(engine, number)] = screened


def _screen_batch(engine: str, members: list[Case]) -> dict[int, Screened | None]:
    first = members[0]
    merged = {name: _merged(name, members) for name in first.source()}
    result = _screen(engine, first, merged, _batched_nulls(members))
    frames = {name: getattr(result, name) for name in SCREENED_TABLES}
    per_case = {name: _by_case(name, frame) for name, frame in frames.items()}

    def own(name: str, number: int) -> pd.DataFrame:
        return per_case[name].get(number, frames[name].iloc[0:0])

    return {c.number: Screened(*(own(name, c.number) for name in frames)) for c in members}


def _batched_nulls(members: list[Case]) -> list[tuple[str, str, int]]:
    """The NULL cells of every member as (table, column, `_row`) of the merged tables (members' rows in order)."""
    nulls = []
    offsets: dict[str, int] = {}
    for member in members:
        for name, row, column in member.typed_nulls:
            nulls.append((name, column, offsets.get(name, 0) + row + 1))
        for name, frame in member.source().items():
            offsets[name] = offsets.get(name, 0) + len(frame)
    return nulls


def _merged(name: str, members: list[Case]) -> pd.DataFrame:
    """One table of many cases, each case's ids prefixed with its own prefix."""
    parts = [c.tables[name] for c in members]
    joined = concat(*parts)  # type: ignore[arg-type]
    prefixes = pd.Series(np.repeat([c.prefix for c in members], [len(p) for p in parts]), index=joined.index)
    for column in ID_COLUMNS:
        if column in joined.columns:
            joined[column] = prefixes + joined[column].astype(str)
    return joined


def _by_case(name: str, frame: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """Split an output table by the case number in its ids, taking the prefix off every text value."""
    key = "record_id" if name == "findings" else "patient_id"
    numbers = frame[key].astype("string").str.extract(PREFIX_PATTERN, expand=False).astype("Int64")
    cleaned = frame.copy()
    for column in cleaned.columns:
        values = cleaned[column]
        if values.dtype == object:
            is_text = values.map(lambda v: isinstance(v, str)).astype(bool)
            unprefixed = values.astype("string").str.replace(PREFIX_PATTERN, "", regex=True)
            cleaned[column] = values.where(~is_text, unprefixed)
    return {int(number): part.reset_index(drop=True) for number, part in cleaned.groupby(numbers)}


def kleene_status(row: Mapping[str, Any]) -> str:
    """The status a row's outcomes imply: any fail → ineligible, else any unknown → unknown, else eligible."""
    outcomes = [row[c] for c in CRITERION_IDS]
    if "fail" in outcomes:
        return "ineligible"
    return "unknown" if "unknown" in outcomes else "eligible"


def assert_outcomes(row: Mapping[str, Any], **expected: str) -> None:
    """The named criteria have these outcomes, and the row's status follows from its outcomes."""
    unknown = sorted(set(expected) - set(CRITERION_IDS))
    assert not unknown, f"not criterion ids: {unknown}"
    got = {c: row[c] for c in expected}
    assert got == expected
    assert row["status"] == kleene_status(row), {c: row[c] for c in CRITERION_IDS}


def assert_only_changes(row: Mapping[str, Any], **expected: str) -> None:
    """The named criteria have these outcomes, every other criterion keeps its baseline outcome, status follows."""
    assert_outcomes(row, **expected)
    others = {c: row[c] for c in CRITERION_IDS if c not in expected}
    assert others == {c: BASELINE_OUTCOMES[c] for c in others}
