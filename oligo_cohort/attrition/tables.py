"""Attrition and criterion-impact tables, every number a weighted sum over an OutcomeHistogram.

Sequential attrition (in a chosen order): a unit is excluded at the first
criterion, in that order, that it fails. `remaining` after a step counts the
units with no fail so far — unknowns kept, the optimistic bound;
`remaining_if_unknown_fail` counts those whose criteria so far all pass (or
await chart review) — the pessimistic bound. Criteria that can answer `review`
(chart review) are listed after the registry-computable ones; a recorded fail
on them excludes like any fail, a `review` never does. With an assumed pass
rate per review criterion, `expected_remaining` is the expected number left,
each `review` outcome passing independently with its rate.

Impact (independent of order): failing at all, failing alone (this is the
unit's only failed criterion: the leave-one-out gain in `remaining`), unknown,
the leave-one-out gain in the all-known count, and the exact Shapley value of
each criterion in the game v(S) = units failing some criterion of S. That is a
union-coverage game, whose Shapley value splits each excluded unit equally
among the criteria it fails; the values sum to all units − units failing none.

At patient level the first step (and the first impact row) is the root cause
`no_candidate_event`: patients without a candidate screening scan, counted
there once and in no criterion's row (histogram.NO_EVENT, docs/attrition.md
A14). It is not a criterion: it cannot be ordered or dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from oligo_cohort.attrition.histogram import NO_EVENT, OutcomeHistogram, popcount
from oligo_cohort.attrition.labels import can_need_review, exclusion_reason, protocol_text, requirement
from oligo_cohort.counts_in_words import names_of, noun_for
from oligo_cohort.disclosure import apply_to_frame, controlled_parts
from oligo_cohort.errors import UsageError

SECTION_START = "start"
SECTION_REGISTRY = "registry"
SECTION_REVIEW = "review"

ATTRITION_COLUMNS = (
    "step",
    "section",
    "criterion",
    "label",
    "reason",
    "protocol_text",
    "remaining",
    "remaining_pct",
    "excluded",
    "excluded_pct",
    "unknown",
    "remaining_if_unknown_fail",
    "to_review",
    "assumed_pass_rate",
    "expected_remaining",
    "expected_if_unknown_fail",
)
ATTRITION_COUNTS = (
    "remaining",
    "excluded",
    "unknown",
    "remaining_if_unknown_fail",
    "to_review",
    "expected_remaining",
    "expected_if_unknown_fail",
)
IMPACT_COLUMNS = (
    "criterion",
    "section",
    "label",
    "reason",
    "units",
    "fail",
    "fail_pct",
    "fail_only",
    "unknown",
    "review",
    "gain_all_known",
    "shapley",
    "shapley_pct",
    "shapley_if_unknown_fail",
)
IMPACT_COUNTS = (
    "units",
    "fail",
    "fail_only",
    "unknown",
    "review",
    "gain_all_known",
    "shapley",
    "shapley_if_unknown_fail",
)


@dataclass(frozen=True)
class StepOrder:
    """The steps, in order: the root cause (patient level), registry-computable criteria, then those that can
    need chart review."""

    registry: tuple[str, ...]
    review: tuple[str, ...]
    dropped: tuple[str, ...] = ()
    root: tuple[str, ...] = ()  # (NO_EVENT,) when patients without a candidate event are taken out first

    @property
    def steps(self) -> tuple[str, ...]:
        """Every step in order: the root cause first, then every applied criterion."""
        return self.root + self.registry + self.review

    def section(self, criterion_id: str) -> str:
        """`registry` or `review`."""
        return SECTION_REVIEW if criterion_id in self.review else SECTION_REGISTRY


def parse_criteria_list(text: str | None) -> list[str]:
    """`"a,b , c"` → `["a", "b", "c"]` (for --order / --drop)."""
    if not text:
        return []
    return [part.strip() for part in text.split(",") if part.strip()]


def resolve_order(
    available: Sequence[str], order: Sequence[str] | None = None, drop: Sequence[str] = (), *, root: bool = False
) -> StepOrder:
    """The step order: the listed criteria first, the rest in protocol order; review-capable ones last.

    Criteria in `drop` are left out (what-if: the criterion removed). Unknown or
    repeated ids are a UsageError. With `root` the root cause `no_candidate_event`
    comes first, whatever the order; it cannot be listed or dropped.
    """
    listed = list(order or [])
    for name, ids in (("order", listed), ("drop", list(drop))):
        if NO_EVENT in ids:
            raise UsageError(
                f"--{name}: {NO_EVENT} is not a criterion: patients without a candidate screening scan are always "
                "taken out first (docs/attrition.md A14)"
            )
        unknown = [c for c in ids if c not in available]
        if unknown:
            known = ", ".join(available)
            raise UsageError(f"--{name}: unknown {names_of('criterion id', unknown)}; known: {known}")
        repeated = sorted({c for c in ids if ids.count(c) > 1})
        if repeated:
            raise UsageError(f"--{name}: {noun_for(len(repeated), 'criterion id')} listed twice: {', '.join(repeated)}")
    both = [c for c in listed if c in drop]
    if both:
        raise UsageError(f"{noun_for(len(both), 'criterion id')} both ordered and dropped: {', '.join(both)}")
    full = listed + [c for c in available if c not in listed]
    applied = [c for c in full if c not in drop]
    return StepOrder(
        registry=tuple(c for c in applied if not can_need_review(c)),
        review=tuple(c for c in applied if can_need_review(c)),
        dropped=tuple(c for c in available if c in drop),
        root=(NO_EVENT,) if root else (),
    )


def _group_sums(hist: OutcomeHistogram, selected: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Sum of n (times `weights`) over histogram rows selected per step: (K, H) booleans → (K, G) sums."""
    n = hist.frame["n"].to_numpy(dtype=float)
    weighted = selected * (n if weights is None else n * weights)
    if hist.group is None:
        return weighted.sum(axis=1)[:, None]
    # Rows are sorted by group (build_histogram sorts), so each group is one contiguous slice.
    codes = pd.Categorical(hist.frame[hist.group], categories=hist.groups()).codes
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.array([], dtype=int)
    sums = np.add.reduceat(weighted, starts, axis=1) if len(starts) else np.zeros((len(weighted), 0))
    out = np.zeros((len(weighted), len(hist.groups())))
    out[:, codes[starts]] = sums
    return out


def _check_rates(rates: Mapping[str, float] | None, order: StepOrder) -> dict[str, float]:
    checked: dict[str, float] = {}
    for criterion_id, rate in (rates or {}).items():
        if criterion_id not in order.review:
            raise UsageError(
                f"assumed pass rate for {criterion_id}: only criteria that need chart review take one "
                f"({', '.join(order.review) or 'none applied'})"
            )
        value = float(rate)
        if not 0.0 <= value <= 1.0:
            raise UsageError(f"assumed pass rate for {criterion_id} must be between 0 and 1, got {rate}")
        checked[criterion_id] = value
    return checked


def attrition_table(
    hist: OutcomeHistogram,
    order: Sequence[str] | None = None,
    *,
    drop: Sequence[str] = (),
    review_pass_rates: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Sequential attrition, one row per step (step 0 = all units); per group when the histogram is grouped.

    At patient level step 1 is the root cause: patients without a candidate screening scan.
    """
    steps_order = resolve_order(hist.criteria, order, drop, root=hist.root)
    rates = _check_rates(review_pass_rates, steps_order)
    if hist.group is not None and not hist.groups():
        return pd.DataFrame(columns=[hist.group, *ATTRITION_COLUMNS])
    steps = steps_order.steps
    failed = hist.frame["failed"].to_numpy(dtype=np.int64)
    unknown = hist.frame["unknown"].to_numpy(dtype=np.int64)
    review = hist.frame["review"].to_numpy(dtype=np.int64)
    bits = np.array([hist.bit(c) for c in steps], dtype=np.int64)
    prefix = np.bitwise_or.accumulate(np.concatenate([[0], bits])) if len(bits) else np.zeros(1, dtype=np.int64)
    no_fail = (failed[None, :] & prefix[:, None]) == 0  # (K+1, H): no fail so far
    all_known = ((failed | unknown)[None, :] & prefix[:, None]) == 0
    step_bits = np.concatenate([[0], bits])[:, None]
    # Each `review` outcome on a criterion with an assumed rate passes with that probability, independently.
    factors = np.ones((len(steps) + 1, len(failed)))
    for k, criterion_id in enumerate(steps, start=1):
        if criterion_id in rates:
            factors[k] = np.where(review & hist.bit(criterion_id), rates[criterion_id], 1.0)
    expected_weight = np.cumprod(factors, axis=0)

    remaining = _group_sums(hist, no_fail)
    pessimistic = _group_sums(hist, all_known)
    unknown_here = _group_sums(hist, no_fail & ((unknown[None, :] & step_bits) != 0))
    review_here = _group_sums(hist, no_fail & ((review[None, :] & step_bits) != 0))
    expected = _group_sums(hist, no_fail, expected_weight)
    expected_pessimistic = _group_sums(hist, all_known, expected_weight)

    groups = hist.groups() or [None]
    n_steps, n_groups = len(steps) + 1, len(groups)
    total = remaining[0]
    before = np.vstack([remaining[:1], remaining[:-1]])
    excluded = before - remaining
    start_label = "All patients" if hist.level == "patients" else "All candidate events"
    per_step = pd.DataFrame(
        {
            "step": np.arange(n_steps),
            "section": [SECTION_START] + [steps_order.section(c) for c in steps],
            "criterion": ["", *steps],
            "label": [start_label] + [requirement(c) for c in steps],
            "reason": ["", *[exclusion_reason(c) for c in steps]],
            "protocol_text": ["", *[protocol_text(c) for c in steps]],
            "assumed_pass_rate": [np.nan] + [rates.get(c, np.nan) for c in steps],
        }
    )
    table = pd.concat([per_step] * n_groups, ignore_index=True)
    column = lambda values: values.T.reshape(-1)  # noqa: E731 - (K, G) → group-major column
    with np.errstate(divide="ignore", invalid="ignore"):
        table["remaining"] = column(remaining).astype(np.int64)
        table["remaining_pct"] = column(100.0 * remaining / total)
        table["excluded"] = column(excluded).astype(np.int64)
        table["excluded_pct"] = column(100.0 * excluded / before)
    table["unknown"] = column(unknown_here).astype(np.int64)
    table["remaining_if_unknown_fail"] = column(pessimistic).astype(np.int64)
    table["to_review"] = column(review_here).astype(np.int64)
    table["expected_remaining"] = column(expected) if rates else np.nan
    table["expected_if_unknown_fail"] = column(expected_pessimistic) if rates else np.nan
    table = table[list(ATTRITION_COLUMNS)]
    if hist.group is not None:
        table.insert(0, hist.group, np.repeat(np.array(groups, dtype=object), n_steps))
    return table


def impact_table(
    hist: OutcomeHistogram, criteria: Sequence[str] | None = None, *, drop: Sequence[str] = ()
) -> pd.DataFrame:
    """Per criterion, independent of order: fail, fail_only, unknown, review, gains and Shapley values.

    At patient level the first row is the root cause: its patients fail nothing else (every count of the row is
    the number of patients without a candidate event), and no criterion's row counts them.
    """
    steps_order = resolve_order(hist.criteria, criteria, drop, root=hist.root)
    if hist.group is not None and not hist.groups():
        return pd.DataFrame(columns=[hist.group, *IMPACT_COLUMNS])
    applied = steps_order.steps
    active = hist.mask_of(applied)
    failed = hist.frame["failed"].to_numpy(dtype=np.int64) & active
    unknown = hist.frame["unknown"].to_numpy(dtype=np.int64) & active
    review = hist.frame["review"].to_numpy(dtype=np.int64) & active
    not_pass = failed | unknown
    bits = np.array([hist.bit(c) for c in applied], dtype=np.int64)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(failed != 0, 1.0 / popcount(failed), 0.0)
        share_pessimistic = np.where(not_pass != 0, 1.0 / popcount(not_pass), 0.0)
    fails = (failed[None, :] & bits) != 0
    n_units = _group_sums(hist, np.ones((1, len(failed)), dtype=bool))[0]
    fail = _group_sums(hist, fails)
    fail_only = _group_sums(hist, failed[None, :] == bits)
    unknown_n = _group_sums(hist, (unknown[None, :] & bits) != 0)
    review_n = _group_sums(hist, (review[None, :] & bits) != 0)
    # Leave-one-out on the all-known count: every other criterion passes, this one fails or is unknown.
    gain_all_known = _group_sums(hist, ((not_pass[None, :] & ~bits) == 0) & ((not_pass[None, :] & bits) != 0))
    shapley = _group_sums(hist, fails, share[None, :].repeat(len(applied), axis=0))
    shapley_pessimistic = _group_sums(
        hist, (not_pass[None, :] & bits) != 0, share_pessimistic[None, :].repeat(len(applied), axis=0)
    )
    excluded_total = shapley.sum(axis=0)

    groups = hist.groups() or [None]
    per_criterion = pd.DataFrame(
        {
            "criterion": list(applied),
            "section": [steps_order.section(c) for c in applied],
            "label": [requirement(c) for c in applied],
            "reason": [exclusion_reason(c) for c in applied],
        }
    )
    table = pd.concat([per_criterion] * len(groups), ignore_index=True)
    column = lambda values: values.T.reshape(-1)  # noqa: E731 - (K, G) → group-major column
    with np.errstate(divide="ignore", invalid="ignore"):
        table["units"] = np.repeat(n_units, len(applied)).astype(np.int64)
        table["fail"] = column(fail).astype(np.int64)
        table["fail_pct"] = column(100.0 * fail / n_units[None, :])
        table["fail_only"] = column(fail_only).astype(np.int64)
        table["unknown"] = column(unknown_n).astype(np.int64)
        table["review"] = column(review_n).astype(np.int64)
        table["gain_all_known"] = column(gain_all_known).astype(np.int64)
        table["shapley"] = column(shapley)
        table["shapley_pct"] = column(100.0 * shapley / excluded_total[None, :])
        table["shapley_if_unknown_fail"] = column(shapley_pessimistic)
    table = table[list(IMPACT_COLUMNS)]
    if hist.group is not None:
        table.insert(0, hist.group, np.repeat(np.array(groups, dtype=object), len(applied)))
    return table


def failure_sets(
    hist: OutcomeHistogram, criteria: Sequence[str] | None = None, *, drop: Sequence[str] = ()
) -> pd.DataFrame:
    """Units per distinct set of failed criteria (units failing none left out), largest first: the UpSet data.

    Patients without a candidate event form the set of the root cause alone.
    """
    applied = resolve_order(hist.criteria, criteria, drop, root=hist.root).steps
    failed = hist.frame["failed"].to_numpy(dtype=np.int64) & hist.mask_of(applied)
    counted = (
        pd.DataFrame({"failed": failed, "n": hist.frame["n"].to_numpy()})
        .query("failed != 0")
        .groupby("failed", as_index=False)["n"]
        .sum()
    )
    counted["degree"] = popcount(counted["failed"].to_numpy())
    counted = counted.sort_values(["n", "degree", "failed"], ascending=[False, True, True], ignore_index=True)
    # The few distinct sets (not units) are spelled out as tuples of ids.
    counted["criteria"] = [tuple(c for c in applied if mask & hist.bit(c)) for mask in counted["failed"]]
    return counted[["criteria", "degree", "n", "failed"]]


def _percent(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    num = numerator.astype("Float64")
    den = denominator.astype("Float64")
    return (100.0 * num / den.where(den != 0)).astype(float)


def _group_keys(table: pd.DataFrame, first_column: str) -> list[str]:
    """The group columns in front of a table's own columns (none for an ungrouped table)."""
    return list(table.columns[: list(table.columns).index(first_column)])


# Counts controlled cell by cell; `excluded` is derived from the controlled `remaining` (see controlled_attrition).
ATTRITION_ROUNDED = tuple(c for c in ATTRITION_COUNTS if c != "excluded")


def controlled_attrition(table: pd.DataFrame) -> pd.DataFrame:
    """The attrition table after disclosure control, adding up as printed.

    `remaining` and the other counts are controlled cell by cell; `excluded` is
    the difference of consecutive controlled `remaining` counts (the rule is
    monotone, so it is never negative), so remaining before − excluded =
    remaining after on every row, and a section's exclusions sum to its drop.
    Percentages are recomputed from the controlled counts.
    """
    out = apply_to_frame(table, [c for c in ATTRITION_ROUNDED if c in table.columns])
    keys = _group_keys(table, "step")
    remaining = out["remaining"].astype("Int64")
    before = remaining.groupby([out[k] for k in keys], sort=False).shift(1) if keys else remaining.shift(1)
    first = remaining.groupby([out[k] for k in keys], sort=False).transform("first") if keys else remaining.iloc[0]
    before = before.fillna(remaining)  # step 0: nothing excluded
    out["excluded"] = (before - remaining).astype("Int64")
    out["remaining_pct"] = _percent(remaining, pd.Series(first, index=out.index))
    out["excluded_pct"] = _percent(out["excluded"], before)
    return out


def _parts_by_group(table: pd.DataFrame, keys: list[str], column: str, offset: pd.Series) -> pd.Series:
    """`controlled_parts` of `column` within each group, the running total starting at the group's `offset`."""
    values = pd.to_numeric(table[column], errors="coerce").astype(float)
    if not keys:
        return pd.Series(controlled_parts(values.to_numpy(), offset=float(offset.iloc[0])), index=table.index)
    parts = pd.Series(0.0, index=table.index)
    for _, rows in table.groupby(keys, sort=False).groups.items():
        parts.loc[rows] = controlled_parts(values.loc[rows].to_numpy(), offset=float(offset.loc[rows[0]]))
    return parts


def controlled_impact(table: pd.DataFrame) -> pd.DataFrame:
    """The impact table after disclosure control; the Shapley values add up to the controlled exclusions.

    Counts per criterion (fail, fail only, unknown, review, gains) are
    controlled cell by cell; they overlap and are not meant to add up. The
    Shapley values share every excluded unit among criteria, so they are parts
    of a whole: controlled as differences of controlled running totals that
    start at the units failing none, they sum to controlled(all units) −
    controlled(units failing none) — the attrition's total exclusions and, with
    every criterion applied, the status table's ineligible count.
    """
    out = apply_to_frame(table, [c for c in IMPACT_COUNTS if c in table.columns and not c.startswith("shapley")])
    keys = _group_keys(table, "criterion")
    units = pd.to_numeric(table["units"]).astype(float)
    for column in ("shapley", "shapley_if_unknown_fail"):
        share = pd.to_numeric(table[column]).astype(float)
        total = share.groupby([table[k] for k in keys], sort=False).transform("sum") if keys else share.sum()
        offset = (units - total).round()  # units failing none (or, pessimistic, all known)
        out[column] = _parts_by_group(table, keys, column, pd.Series(offset, index=table.index)).astype("Int64")
    excluded = out.groupby(keys, sort=False)["shapley"].transform("sum") if keys else out["shapley"].sum()
    out["fail_pct"] = _percent(out["fail"], out["units"])
    out["shapley_pct"] = _percent(out["shapley"], pd.Series(excluded, index=out.index))
    return out


def controlled_sets(sets: pd.DataFrame, units: int) -> pd.DataFrame:
    """Exclusion combinations after disclosure control, adding up to the controlled number of units excluded.

    The combinations are parts of the units failing some criterion: each is a
    difference of controlled running totals (largest first, starting at the
    `units` − excluded failing none), so together they equal controlled(units)
    − controlled(units failing none), the attrition's total exclusions.
    Combinations controlled to 0 are left out, and the rest are ordered by
    the count shown, then by the combination (fewest criteria first), never
    by the exact count: kept in the exact order, two combinations shown with
    the same count would tell which of them is larger.
    """
    n = pd.to_numeric(sets["n"]).astype(float).to_numpy()
    out = sets.copy()
    out["n"] = controlled_parts(n, offset=float(units) - float(n.sum())).astype(np.int64)
    shown = out[out["n"] > 0]
    return shown.sort_values(["n", "degree", "failed"], ascending=[False, True, True], kind="stable", ignore_index=True)


def status_table(hist: OutcomeHistogram) -> pd.DataFrame:
    """Units per status (eligible, unknown, ineligible), per group when grouped, with a total row."""
    columns = ["group", "eligible", "unknown", "ineligible", "total"]
    if hist.group is None:
        counts = hist.status_counts()
        return pd.DataFrame([{"group": "all", **counts, "total": sum(counts.values())}], columns=columns)
    # One pass over the histogram rows for every group (not one filtered copy per group).
    frame = hist.frame
    failed = frame["failed"].to_numpy() != 0
    unknown = frame["unknown"].to_numpy() != 0
    n = frame["n"].to_numpy()
    parts = pd.DataFrame(
        {
            "group": frame[hist.group].astype(str).to_numpy(),
            "eligible": np.where(~failed & ~unknown, n, 0),
            "unknown": np.where(~failed & unknown, n, 0),
            "ineligible": np.where(failed, n, 0),
        }
    )
    sums = parts.groupby("group", sort=False).sum().reindex(hist.groups(), fill_value=0).astype(np.int64)
    sums["total"] = sums[["eligible", "unknown", "ineligible"]].sum(axis=1)
    return sums.rename_axis("group").reset_index()[columns]


def controlled_status(table: pd.DataFrame) -> pd.DataFrame:
    """A status table after disclosure control, each row adding up to its controlled total.

    The statuses are parts of the total in the order eligible, unknown,
    ineligible: controlled running totals give eligible = controlled(E),
    eligible + unknown = controlled(E + U) and total = controlled(all), exactly
    the attrition's last `remaining_if_unknown_fail`, last `remaining` and first
    `remaining` — so the status table and the attrition never contradict each other.
    """
    out = table.copy()
    parts = (
        np.vstack([controlled_parts(row) for row in table[["eligible", "unknown", "ineligible"]].to_numpy(dtype=float)])
        if len(table)
        else np.zeros((0, 3))
    )
    for i, column in enumerate(("eligible", "unknown", "ineligible")):
        out[column] = parts[:, i].astype(np.int64)
    out["total"] = out[["eligible", "unknown", "ineligible"]].sum(axis=1).astype(np.int64)
    return out


def controlled_counts(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Any count table after disclosure control, cell by cell (for counts that are not parts of a total shown)."""
    return apply_to_frame(table, columns)
