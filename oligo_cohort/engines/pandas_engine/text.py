"""Vectorized text for the reasons: sentences filled from whole columns at once (Arrow string kernels).

Building a sentence per row in Python would dominate the run time at a
hundred thousand patients; Arrow joins, formats and selects strings in C++.
"""

from __future__ import annotations

import string

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

Text = pa.Array | str


def as_text(values: object, missing: str = "not recorded") -> pa.Array:
    """Any column of values as Arrow strings, missing ones as `missing`."""
    array = pd.Series(values).astype(object).to_numpy()
    present = pd.notna(array)
    out = np.full(len(array), missing, dtype=object)
    out[present] = array[present].astype(str)
    return pa.array(out, type=pa.string())


def numbers(values: object, missing: str = "?") -> pa.Array:
    """Whole numbers (float arrays with NaN allowed) as text."""
    array = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(array)
    ints = pa.array(np.where(finite, array, 0).astype(np.int64), mask=~finite)
    return pc.fill_null(pc.cast(ints, pa.string()), missing)


def iso_dates(days: object, missing: str = "?") -> pa.Array:
    """Day numbers (NaN = missing) as 'YYYY-MM-DD'."""
    array = np.asarray(days, dtype=np.float64)
    finite = np.isfinite(array)
    dates = pa.array(np.where(finite, array, 0).astype(np.int32), type=pa.int32(), mask=~finite).cast(pa.date32())
    return pc.fill_null(pc.cast(dates, pa.string()), missing)  # Arrow casts dates to ISO text


def sentence(template: str, **values: Text) -> Text:
    """`template.format(**values)` element-wise; values are Arrow string arrays (all one length) or strings."""
    parts: list[Text] = []
    for literal, field, _, _ in string.Formatter().parse(template):
        if literal:
            parts.append(literal)
        if field is not None:
            parts.append(values[field])
    if all(isinstance(part, str) for part in parts):
        return "".join(parts)  # type: ignore[arg-type]
    scalars = [pa.scalar(part, pa.string()) if isinstance(part, str) else part for part in parts]
    return pc.binary_join_element_wise(*scalars, "")


def pick(size: int, cases: list[tuple[np.ndarray, Text]], default: Text) -> pa.Array:
    """The text of the first case whose condition holds, else the default (np.select for text)."""
    if not cases:
        return _column(default, size)
    conditions = pa.StructArray.from_arrays(
        [pa.array(np.asarray(condition, dtype=bool)) for condition, _ in cases],
        names=[f"case{i}" for i in range(len(cases))],
    )
    values = [pa.scalar(text, pa.string()) if isinstance(text, str) else text for _, text in cases]
    fallback = pa.scalar(default, pa.string()) if isinstance(default, str) else default
    if size == 0:
        return pa.array([], type=pa.string())
    return pc.case_when(conditions, *values, fallback)


def _column(text: Text, size: int) -> pa.Array:
    return pa.array([text] * size, type=pa.string()) if isinstance(text, str) else text


def join_by_group(keys: pd.Series | np.ndarray, values: pd.Series | np.ndarray, sep: str = ", ") -> pd.Series:
    """`sep`-joined values per key, in the order given; a Series indexed by the distinct keys."""
    keys = np.asarray(keys)
    values = np.asarray(values, dtype=object)
    if len(keys) == 0:
        return pd.Series([], dtype=object)
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    pieces = sep + values.astype(str).astype(object)
    pieces[starts] = values[starts].astype(str)
    # Object arrays add by Python string concatenation, so reduceat joins each run of equal keys.
    return pd.Series(np.add.reduceat(pieces, starts), index=keys[starts], dtype=object)
