"""Text facts built column-wise in Arrow: values joined per group ("letrozole, palbociclib"), lists per unit.

A fact such as a line's drugs or a scan's progressive lesions gathers many
records into one value per unit. Gathering them with a Python call per unit
(or even a Python string per record) would dominate the run time at a hundred
thousand patients, so the records are sorted once, cut at group boundaries
(numpy offsets) and joined by Arrow's kernels.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def as_text(values: object) -> pa.Array:
    """Strings as one Arrow string array (a pandas column, a categorical, an object array or Arrow)."""
    array = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    return array.cast(pa.string())


def take_text(values: pa.Array, positions: object) -> pa.Array:
    """`values[positions]`, missing where a position is negative."""
    positions = np.asarray(positions, dtype=np.int64)
    return values.take(pa.array(positions, mask=positions < 0))


def lists_per_key(keys: object, values: object, n_keys: int, *, distinct: bool = False) -> pa.ListArray:
    """For keys 0..n_keys-1 the sorted list of their values (`keys[i]` owns `values[i]`); no value: missing."""
    table = pa.table({"key": pa.array(np.asarray(keys, dtype=np.int64)), "value": as_text(values)})
    table = table.sort_by([("key", "ascending"), ("value", "ascending")])  # code-point order, as DuckDB sorts
    sorted_keys = table.column("key").to_numpy()
    sorted_values = table.column("value").combine_chunks()
    if distinct and len(sorted_keys):
        codes = pc.dictionary_encode(sorted_values).indices.to_numpy(zero_copy_only=False)
        keep = np.r_[True, (sorted_keys[1:] != sorted_keys[:-1]) | (codes[1:] != codes[:-1])]
        sorted_keys, sorted_values = sorted_keys[keep], sorted_values.filter(pa.array(keep))
    counts = np.bincount(sorted_keys, minlength=n_keys)
    offsets = np.zeros(n_keys + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), sorted_values, mask=pa.array(counts == 0))


def joined_per_key(keys: object, values: object, n_keys: int, sep: str = ", ") -> pa.Array:
    """For keys 0..n_keys-1 their distinct values, sorted and joined by `sep`; no value: missing."""
    return pc.binary_join(lists_per_key(keys, values, n_keys, distinct=True), sep)
