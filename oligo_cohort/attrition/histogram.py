"""One pass over the screening result: per unit the bitmasks of criteria failed, unknown and needing review.

Bit i of each mask stands for `criteria[i]` (protocol order by default). Units
with the same three masks (and the same group, when split by site or year) are
counted together in a histogram, the OHDSI Circe approach: every attrition
view — any order, any subset of criteria, per-criterion impact, overlaps — is
a weighted sum over the histogram's rows, so reordering or dropping a criterion
never re-reads the patients. A result with hundreds of thousands of patients
has at most a few thousand distinct rows.

A unit is a patient (its best event, `patients.csv`) or an event (`events.csv`).

A patient without a candidate event (no screening scan showing progression
during a metastatic line; `event_id` empty) fails the four imaging criteria
and usually the three therapy ones, all from that one root cause. At patient
level such a patient is counted once, under the root cause `NO_EVENT` (its own
mask bit, after the criteria's): its failed mask is that bit alone, its
unknown and review masks empty (docs/attrition.md A14). The criteria are thus
counted over the patients who have a candidate event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from oligo_cohort.attrition.levels import LEVELS
from oligo_cohort.counts_in_words import names_of
from oligo_cohort.criteria import CRITERION_IDS, OUTCOMES
from oligo_cohort.criteria import NO_EVENT as NO_EVENT_RULE
from oligo_cohort.sql_text import identifier as quote

GroupBy = Literal["site", "year"]

GROUPINGS: dict[str, str] = {"site": "site_id", "year": "year"}
NO_EVENT_YEAR = "no event"  # the year group of patients without a screening scan
MASK_COLUMNS = ("failed", "unknown", "review")
# The root cause of a patient without a candidate event: not a criterion, the first step of the attrition.
NO_EVENT = NO_EVENT_RULE.name  # "no_candidate_event", the rule the imaging criteria take for such a patient


@dataclass(frozen=True)
class OutcomeHistogram:
    """Units counted per distinct (failed, unknown, review) mask triple, optionally per group.

    `frame` has the columns `[group,] failed, unknown, review, n`; masks are
    int64 with bit i set when `criteria[i]` has that outcome. With `root`
    (patient level, the units' event ids known) bit `len(criteria)` is the root
    cause `NO_EVENT`, the whole failed mask of a patient without a candidate event.
    """

    criteria: tuple[str, ...]
    level: str
    group: str | None
    frame: pd.DataFrame
    root: bool = False

    @property
    def causes(self) -> tuple[str, ...]:
        """What a unit can fail: the root cause first (when counted), then the criteria."""
        return ((NO_EVENT,) if self.root else ()) + self.criteria

    @property
    def total(self) -> int:
        """Number of units counted."""
        return int(self.frame["n"].sum())

    def bit(self, criterion_id: str) -> int:
        """The mask bit of one criterion (or of the root cause `NO_EVENT`)."""
        if criterion_id == NO_EVENT and self.root:
            return 1 << len(self.criteria)
        return 1 << self.criteria.index(criterion_id)

    def mask_of(self, criterion_ids: Sequence[str]) -> int:
        """The mask with the bits of the given criteria set."""
        mask = 0
        for criterion_id in criterion_ids:
            mask |= self.bit(criterion_id)
        return mask

    def groups(self) -> list[str]:
        """The group labels in display order (sorted; `no event` last); empty when not grouped."""
        return list(self._groups)

    @cached_property
    def _groups(self) -> tuple[str, ...]:
        if self.group is None:
            return ()
        labels = sorted(str(g) for g in pd.unique(self.frame[self.group]))
        return tuple([g for g in labels if g != NO_EVENT_YEAR] + [g for g in labels if g == NO_EVENT_YEAR])

    def only(self, group_value: str) -> OutcomeHistogram:
        """The histogram of one group, ungrouped."""
        if self.group is None:
            raise ValueError("the histogram is not grouped")
        rows = self.frame[self.frame[self.group] == group_value].drop(columns=self.group)
        return replace(self, group=None, frame=rows.reset_index(drop=True))

    def ungrouped(self) -> OutcomeHistogram:
        """The same units, all groups together."""
        if self.group is None:
            return self
        frame = self.frame.groupby(list(MASK_COLUMNS), as_index=False, sort=True)["n"].sum()
        return replace(self, group=None, frame=frame)

    def status_counts(self) -> dict[str, int]:
        """Units per status over all criteria: ineligible (a fail), unknown (an unknown, no fail), eligible."""
        failed = self.frame["failed"].to_numpy() != 0
        unknown = self.frame["unknown"].to_numpy() != 0
        n = self.frame["n"].to_numpy()
        return {
            "eligible": int(n[~failed & ~unknown].sum()),
            "unknown": int(n[~failed & unknown].sum()),
            "ineligible": int(n[failed].sum()),
        }


def outcome_masks(units: pd.DataFrame, criteria: Sequence[str] = CRITERION_IDS, *, root: bool = False) -> pd.DataFrame:
    """Per unit (row of `units`), the failed / unknown / review bitmasks over `criteria`.

    With `root`, a unit without an event (`event_id` empty) has the root cause's bit alone as its failed mask and
    no unknown or review bits. Raises ValueError naming the column and value when an outcome is missing or not one
    of pass/fail/unknown/review.
    """
    _require_criteria(criteria, units.columns)
    masks = {name: np.zeros(len(units), dtype=np.int64) for name in MASK_COLUMNS}
    for i, criterion_id in enumerate(criteria):
        # Factorize once per column (hashing; Arrow-native for Arrow strings), then look the few values up.
        codes, values = pd.factorize(units[criterion_id], use_na_sentinel=True)
        labels = [str(v) for v in values]
        bad = [v for v in labels if v not in OUTCOMES] + (["None"] if (codes < 0).any() else [])
        if bad:
            raise ValueError(f"column {criterion_id} holds {bad[0]!r}, not one of {', '.join(OUTCOMES)}")
        bit = np.int64(1 << i)
        for name, outcome in zip(MASK_COLUMNS, ("fail", "unknown", "review"), strict=True):
            if outcome in labels:
                masks[name] |= np.where(codes == labels.index(outcome), bit, 0)
    if root:
        no_event = without_event(units)
        masks["failed"] = np.where(no_event, np.int64(1 << len(criteria)), masks["failed"])
        masks["unknown"] = np.where(no_event, 0, masks["unknown"])
        masks["review"] = np.where(no_event, 0, masks["review"])
    return pd.DataFrame(masks, index=units.index)


def counts_root(level: str, columns: Sequence[str]) -> bool:
    """Whether the root cause is counted: at patient level, when the units' event ids are known."""
    return level == "patients" and "event_id" in columns


def without_event(units: pd.DataFrame) -> np.ndarray:
    """Per unit, True when it has no candidate event (`event_id` missing or empty)."""
    ids = units["event_id"].astype("string")
    return (ids.isna() | (ids.str.strip() == "")).fillna(True).to_numpy(dtype=bool)


def group_labels(units: pd.DataFrame, by: str) -> pd.Series:
    """The group of each unit: its site, or the calendar year of its screening scan (`no event` when none)."""
    if by == "site":
        return units["site_id"].astype("string").fillna("(no site)").astype(object)
    if by == "year":
        years = units["screening_date"].astype("string").str.slice(0, 4)
        return years.mask(years.fillna("") == "", NO_EVENT_YEAR).astype(object)
    raise ValueError(f"cannot group by {by!r}; choose site or year")


def build_histogram(
    units: pd.DataFrame,
    *,
    level: str = "patients",
    by: str | None = None,
    criteria: Sequence[str] = CRITERION_IDS,
) -> OutcomeHistogram:
    """Count units per distinct mask triple (and group). `units` is result.patients or result.events."""
    _require_level(level)
    root = counts_root(level, units.columns)
    frame = outcome_masks(units, criteria, root=root)
    keys = list(MASK_COLUMNS)
    group = _group_column(by)
    if by is not None and group is not None:
        frame.insert(0, group, group_labels(units, by).to_numpy())
        keys = [group, *keys]
    counted = frame.groupby(keys, as_index=False, sort=True).size().rename(columns={"size": "n"})
    counted["n"] = counted["n"].astype(np.int64)
    return OutcomeHistogram(criteria=tuple(criteria), level=level, group=group, frame=counted, root=root)


def histogram_of_result(
    result, *, level: str = "patients", by: str | None = None, criteria: Sequence[str] = CRITERION_IDS
) -> OutcomeHistogram:
    """The histogram of a ScreeningResult at patient level (best events) or event level.

    Counted by DuckDB where the result lives, so a million patients' rows never travel to pandas (which took a
    minute at that size); `build_histogram` counts the same from a DataFrame, and the tests hold them equal.
    """
    _require_level(level)
    return histogram_of_relation(result.query(level), level=level, by=by, criteria=criteria)


def histogram_of_relation(
    units: duckdb.DuckDBPyRelation,
    *,
    level: str = "patients",
    by: str | None = None,
    criteria: Sequence[str] = CRITERION_IDS,
) -> OutcomeHistogram:
    """`build_histogram` for a DuckDB relation of patient or event rows, counted in SQL."""
    _require_level(level)
    _require_criteria(criteria, units.columns)
    allowed = ", ".join(f"'{o}'" for o in OUTCOMES)
    checks = ", ".join(
        f"min(CASE WHEN {quote(c)} IS NULL THEN 'None' WHEN {quote(c)} NOT IN ({allowed}) THEN {quote(c)} END)"
        for c in criteria
    )
    bad = units.query("units", f"SELECT {checks} FROM units").fetchall()[0]
    for criterion_id, value in zip(criteria, bad, strict=True):
        if value is not None:
            raise ValueError(f"column {criterion_id} holds {value!r}, not one of {', '.join(OUTCOMES)}")
    masks = [
        " + ".join(f"(CAST({quote(c)} = '{outcome}' AS BIGINT) << {i})" for i, c in enumerate(criteria)) or "0"
        for outcome in ("fail", "unknown", "review")
    ]
    root = counts_root(level, units.columns)
    if root:  # a patient without a candidate event: the root cause alone (outcome_masks does the same)
        no_event = "coalesce(trim(CAST(event_id AS VARCHAR)), '') = ''"
        root_bit = 1 << len(criteria)
        masks = [
            f"CASE WHEN {no_event} THEN {root_bit if outcome == 'fail' else 0} ELSE {mask} END"
            for outcome, mask in zip(("fail", "unknown", "review"), masks, strict=True)
        ]
    keys = [f"CAST({m} AS BIGINT) AS {name}" for m, name in zip(masks, MASK_COLUMNS, strict=True)]
    group = _group_column(by)
    if by is not None and group is not None:
        keys.insert(0, f"{_group_sql(by)} AS {group}")
    names = [group] if group else []
    names += list(MASK_COLUMNS)
    frame = units.query(
        "units",
        f"SELECT {', '.join(keys)}, count(*) AS n FROM units GROUP BY ALL ORDER BY {', '.join(names)}",
    ).df()
    frame = frame.astype({name: np.int64 for name in (*MASK_COLUMNS, "n")})
    if group:
        frame[group] = frame[group].astype(object)
    return OutcomeHistogram(criteria=tuple(criteria), level=level, group=group, frame=frame, root=root)


def _require_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")


def _require_criteria(criteria: Sequence[str], columns: Sequence[str]) -> None:
    """The criteria fit in a mask and every one is a column of the units."""
    if len(criteria) > 61:
        raise ValueError("at most 61 criteria fit in a mask (with the root cause's bit)")
    missing = [c for c in criteria if c not in columns]
    if missing:
        raise ValueError(f"the result lacks {names_of('criterion column', missing)}")


def _group_column(by: str | None) -> str | None:
    """The histogram's group column for a grouping (None when ungrouped)."""
    if by is None:
        return None
    if by not in GROUPINGS:
        raise ValueError(f"cannot group by {by!r}; choose site or year")
    return GROUPINGS[by]


def _group_sql(by: str) -> str:
    """SQL for `group_labels`: the site, or the year of the screening scan (`no event` when none)."""
    if by == "site":
        return "coalesce(CAST(site_id AS VARCHAR), '(no site)')"
    year = "left(CAST(screening_date AS VARCHAR), 4)"
    return f"CASE WHEN coalesce({year}, '') = '' THEN '{NO_EVENT_YEAR}' ELSE {year} END"


def popcount(masks: np.ndarray) -> np.ndarray:
    """Number of set bits of each mask."""
    return np.bitwise_count(np.asarray(masks, dtype=np.int64)).astype(np.int64)
