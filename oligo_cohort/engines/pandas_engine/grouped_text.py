"""Text facts built column-wise: values joined per group ("letrozole, palbociclib"), and lists of labels per unit.

A fact such as a line's drugs or a scan's progressive lesions gathers many
records into one value per unit. Gathering them with a Python call per unit
would dominate the run time at a hundred thousand patients, so the records are
sorted once (Arrow) and cut at group boundaries (numpy offsets).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa


def _sorted_by_group(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """Keys and values sorted by key, then by value (code-point order, as DuckDB sorts text)."""
    table = pa.table({"key": pa.array(keys, type=pa.int64()), "value": pa.array(values, type=pa.string())})
    table = table.sort_by([("key", "ascending"), ("value", "ascending")])
    return table.column("key").to_numpy(), table.column("value").combine_chunks()


def join_by_group(keys: np.ndarray, values: np.ndarray, sep: str = ", ", *, distinct: bool = True) -> pd.Series:
    """The values of each key, sorted (and made distinct) and joined by `sep`: a Series indexed by the keys present."""
    keys = np.asarray(keys, dtype=np.int64)
    if len(keys) == 0:
        return pd.Series([], dtype=object, index=pd.Index([], dtype=np.int64))
    keys, sorted_values = _sorted_by_group(keys, np.asarray(values, dtype=object))
    text = np.asarray(sorted_values.to_pylist(), dtype=object)
    if distinct:
        keep = np.r_[True, (keys[1:] != keys[:-1]) | (text[1:] != text[:-1])]
        keys, text = keys[keep], text[keep]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    pieces = sep + text
    pieces[starts] = text[starts]
    # Object arrays add by Python string concatenation, so reduceat joins each run of equal keys in C.
    return pd.Series(np.add.reduceat(pieces, starts), index=keys[starts], dtype=object)


def lists_per_unit(units: np.ndarray, labels: np.ndarray, n_units: int) -> pa.ListArray:
    """For units 0..n_units-1 the sorted list of their labels (`units[i]` owns `labels[i]`); no label: missing."""
    units = np.asarray(units, dtype=np.int64)
    keys, values = _sorted_by_group(units, np.asarray(labels, dtype=object))
    counts = np.bincount(keys, minlength=n_units)
    offsets = np.zeros(n_units + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=pa.array(counts == 0))
