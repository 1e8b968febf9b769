"""Joins on dense integer keys (patient or study codes) without hashing: rows grouped by key, then gathered.

A pandas merge of a few hundred thousand screening units with four million
lesion rows hashes both sides and copies every column; here the right side
is grouped once (a stable argsort and an offset per key, as in a CSR matrix)
and a join is two integer arrays: for every match, its left row and its right
row. The matches come in the order of an inner merge: left rows in order, and
for each the right rows in their original order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Grouped:
    """The rows of a table grouped by a dense integer key 0..n-1."""

    order: np.ndarray  # row numbers sorted by key (stable: original order within a key)
    offsets: np.ndarray  # rows of key k are order[offsets[k]:offsets[k + 1]]

    @classmethod
    def of(cls, keys: np.ndarray, n_keys: int) -> Grouped:
        keys = np.asarray(keys, dtype=np.int64)
        if len(keys) and np.all(keys[1:] >= keys[:-1]):
            order = np.arange(len(keys), dtype=np.int64)  # already grouped (the usual case): no sort
        else:
            order = np.argsort(keys, kind="stable").astype(np.int64)
        offsets = np.zeros(n_keys + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys, minlength=n_keys), out=offsets[1:])
        return cls(order=order, offsets=offsets)

    def join(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inner join of `keys` (one per left row; negative = no key) with the grouped rows: (left rows, right rows)."""
        keys = np.asarray(keys, dtype=np.int64)
        valid = keys >= 0
        safe = np.where(valid, keys, 0)
        starts = self.offsets[safe]
        counts = np.where(valid, self.offsets[safe + 1] - starts, 0)
        left = np.repeat(np.arange(len(keys), dtype=np.int64), counts)
        total = int(counts.sum())
        first = np.cumsum(counts) - counts
        within = np.arange(total, dtype=np.int64) - np.repeat(first, counts)
        right = self.order[np.repeat(starts, counts) + within]
        return left, right


def asof_backward(
    left_group: np.ndarray, left_day: np.ndarray, right_group: np.ndarray, right_day: np.ndarray
) -> np.ndarray:
    """For each left row: the right row of the same group with the latest day on or before the left row's day.

    Days are whole day numbers (no NaN). Of right rows with equal group and day
    the last in the given order wins (as `pd.merge_asof`, so the caller orders
    the right rows by its tie-break). -1 where there is none.
    """
    left_day = np.asarray(left_day, dtype=np.float64)
    right_day = np.asarray(right_day, dtype=np.float64)
    if len(left_day) == 0 or len(right_day) == 0:
        return np.full(len(left_day), -1, dtype=np.int64)
    codes, _ = pd.factorize(np.concatenate([np.asarray(left_group), np.asarray(right_group)]))
    left_code, right_code = codes[: len(left_day)].astype(np.int64), codes[len(left_day) :].astype(np.int64)
    low = min(left_day.min(), right_day.min())
    span = int(max(left_day.max(), right_day.max()) - low) + 1
    right_key = right_code * span + (right_day - low).astype(np.int64)
    order = np.argsort(right_key, kind="stable")
    sorted_key = right_key[order]
    position = np.searchsorted(sorted_key, left_code * span + (left_day - low).astype(np.int64), side="right") - 1
    safe = np.maximum(position, 0)
    found = (position >= 0) & (right_code[order[safe]] == left_code)
    return np.where(found, order[safe], -1).astype(np.int64)
