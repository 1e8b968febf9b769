"""What-if: the same extract under two protocols (or parameter sets), attrition side by side with differences.

Each protocol means a screen of its own (the criteria themselves change);
dropping or reordering criteria does not, and is answered from one histogram
by `compare_attrition(attrition_table(h), attrition_table(h, drop=[...]))`.
Differences are B − A: a positive `remaining_diff` means protocol B keeps more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from oligo_cohort.attrition.histogram import OutcomeHistogram, histogram_of_result
from oligo_cohort.attrition.tables import attrition_table
from oligo_cohort.disclosure import apply_to_frame, controlled_parts
from oligo_cohort.protocol import Protocol, load_protocol

COMPARED = ("remaining", "excluded", "remaining_if_unknown_fail")
KEY_COLUMNS = ("step_a", "step_b", "section", "criterion", "label")


@dataclass(frozen=True)
class WhatIf:
    """Two screens of one extract and their attrition side by side (`table`: A, B and B − A per step)."""

    protocol_a: Protocol
    protocol_b: Protocol
    histogram_a: OutcomeHistogram
    histogram_b: OutcomeHistogram
    table: pd.DataFrame
    status: pd.DataFrame

    @property
    def label_a(self) -> str:
        """How side A is named in tables and figures."""
        return describe_protocol(self.protocol_a)

    @property
    def label_b(self) -> str:
        """How side B is named in tables and figures."""
        return describe_protocol(self.protocol_b)


def describe_protocol(protocol: Protocol) -> str:
    """`name (version)`, e.g. `cosmo (current)`."""
    return f"{protocol.name} ({protocol.version})"


def protocol_with(name_or_path: str | Path | Protocol, overrides: Mapping[str, str] | None = None) -> Protocol:
    """A protocol by name, path or object, with some parameters changed (`{"size_floor_mm": "10"}`)."""
    protocol = name_or_path if isinstance(name_or_path, Protocol) else load_protocol(name_or_path)
    return protocol.with_overrides(dict(overrides)) if overrides else protocol


def compare_attrition(table_a: pd.DataFrame, table_b: pd.DataFrame) -> pd.DataFrame:
    """Two attrition tables side by side, matched by criterion (A's order, then criteria only B applies)."""
    keep = ["step", "section", "criterion", "label", *COMPARED]
    merged = table_a[keep].merge(table_b[keep], on="criterion", how="outer", suffixes=("_a", "_b"), sort=False)
    merged["section"] = merged["section_a"].fillna(merged["section_b"])
    merged["label"] = merged["label_a"].fillna(merged["label_b"])
    merged = merged.sort_values(["step_a", "step_b"], na_position="last", kind="stable", ignore_index=True)
    out = merged[list(KEY_COLUMNS)].copy()
    for name in COMPARED:
        out[f"{name}_a"] = merged[f"{name}_a"].astype("Int64")
        out[f"{name}_b"] = merged[f"{name}_b"].astype("Int64")
        out[f"{name}_diff"] = out[f"{name}_b"] - out[f"{name}_a"]
    out["step_a"] = out["step_a"].astype("Int64")
    out["step_b"] = out["step_b"].astype("Int64")
    return out


def controlled_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """The side-by-side table after disclosure control, each side adding up as printed.

    Each side's `remaining` and `remaining_if_unknown_fail` are controlled cell
    by cell; its `excluded` is the difference of its consecutive controlled
    `remaining` counts in its own step order (as in `controlled_attrition`);
    differences B − A are taken of the controlled counts.
    """
    sides = [f"{name}_{side}" for name in COMPARED if name != "excluded" for side in ("a", "b")]
    out = apply_to_frame(table, sides)
    for side in ("a", "b"):
        applied = out[out[f"step_{side}"].notna()].sort_values(f"step_{side}", kind="stable")
        remaining = applied[f"remaining_{side}"].astype("Int64")
        excluded = (remaining.shift(1).fillna(remaining) - remaining).astype("Int64")
        out[f"excluded_{side}"] = excluded.reindex(out.index).astype("Int64")
    for name in COMPARED:
        out[f"{name}_diff"] = out[f"{name}_b"] - out[f"{name}_a"]
    return out


def compare_status(hist_a: OutcomeHistogram, hist_b: OutcomeHistogram) -> pd.DataFrame:
    """Units per status under A and B, with B − A."""
    a, b = hist_a.status_counts(), hist_b.status_counts()
    statuses = ["eligible", "unknown", "ineligible"]
    frame = pd.DataFrame({"status": statuses, "a": [a[s] for s in statuses], "b": [b[s] for s in statuses]})
    total = pd.DataFrame({"status": ["total"], "a": [sum(a.values())], "b": [sum(b.values())]})
    frame = pd.concat([frame, total], ignore_index=True)
    frame["diff"] = frame["b"] - frame["a"]
    return frame.astype({"a": np.int64, "b": np.int64, "diff": np.int64})


def controlled_status(table: pd.DataFrame) -> pd.DataFrame:
    """Status comparison after disclosure control: each side's statuses add up to its total (see
    tables.controlled_status); the difference is taken of the controlled counts."""
    out = table.copy()
    statuses = ["eligible", "unknown", "ineligible"]
    rows = out.set_index("status")
    for side in ("a", "b"):
        parts = controlled_parts(rows.loc[statuses, side].to_numpy(dtype=float))
        values = dict(zip(statuses, parts, strict=True))
        values["total"] = float(parts.sum())
        out[side] = out["status"].map(values).astype(np.int64)
    out["diff"] = out["b"] - out["a"]
    return out


def compare_histograms(
    hist_a: OutcomeHistogram,
    hist_b: OutcomeHistogram,
    protocol_a: Protocol,
    protocol_b: Protocol,
    *,
    order: Sequence[str] | None = None,
    drop: Sequence[str] = (),
    review_pass_rates: Mapping[str, float] | None = None,
) -> WhatIf:
    """The what-if comparison of two histograms of the same extract (same level)."""
    table = compare_attrition(
        attrition_table(hist_a, order, drop=drop, review_pass_rates=review_pass_rates),
        attrition_table(hist_b, order, drop=drop, review_pass_rates=review_pass_rates),
    )
    return WhatIf(
        protocol_a=protocol_a,
        protocol_b=protocol_b,
        histogram_a=hist_a,
        histogram_b=hist_b,
        table=table,
        status=compare_status(hist_a, hist_b),
    )


def whatif(
    extract,
    protocol_a=None,
    protocol_b: str | Path | Protocol = "cosmo-earlier-amendment",
    *,
    overrides_b: Mapping[str, str] | None = None,
    as_of=None,
    engine: str = "duckdb",
    level: str = "patients",
    order: Sequence[str] | None = None,
    drop: Sequence[str] = (),
    review_pass_rates: Mapping[str, float] | None = None,
) -> WhatIf:
    """Screen `extract` under protocol A and protocol B (optionally with parameters changed) and compare.

    `protocol_a` is a protocol (name, path or object; default `cosmo`) or a
    ScreeningResult of this extract already screened, which is then not screened
    again. B uses A's cut-off unless `as_of` is given.
    """
    from oligo_cohort.api import screen

    if hasattr(protocol_a, "patients"):  # a ScreeningResult: side A is already screened
        result_a = protocol_a
        chosen_a = result_a.protocol
        as_of = as_of or result_a.as_of
    else:
        chosen_a = protocol_with(protocol_a or "cosmo")
        result_a = screen(extract, as_of=as_of, protocol=chosen_a, engine=engine)
        as_of = as_of or result_a.as_of
    # Each histogram is taken right after its screen; only the histograms are kept.
    hist_a = histogram_of_result(result_a, level=level)
    chosen_b = protocol_with(protocol_b, overrides_b)
    hist_b = histogram_of_result(screen(extract, as_of=as_of, protocol=chosen_b, engine=engine), level=level)
    return compare_histograms(
        hist_a, hist_b, chosen_a, chosen_b, order=order, drop=drop, review_pass_rates=review_pass_rates
    )
