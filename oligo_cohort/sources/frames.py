"""Tables handed over in Python: pandas or polars DataFrames or Arrow tables, every value as text."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from datetime import time
from typing import TYPE_CHECKING, TypeVar

import polars as pl

from oligo_cohort.column_names import model_name
from oligo_cohort.dictionary import tables
from oligo_cohort.file_kinds import UnreadableError
from oligo_cohort.problems import Problem
from oligo_cohort.sources.text_tables import (
    NOT_A_TABLE,
    ROW,
    RawExtract,
    RawTable,
    as_text_table,
    check_unique,
    first_error_line,
    nested_cells,
)

if TYPE_CHECKING:
    import pandas as pd  # never imported here: a pandas frame can only arrive when its caller imported pandas
    import pyarrow as pa  # imported only to read a pandas frame; an Arrow table's caller imported it


_Text = TypeVar("_Text", "pa.Array", pl.Series)


class NumericIdWarning(UserWarning):
    """An id column of a DataFrame arrived as numbers: leading zeros (`00123`) may have been lost on the way."""


def read_frames(frames: Mapping[str, object]) -> RawExtract:
    """Tables given as pandas or polars DataFrames or Arrow tables, every value as text.

    Numbers, dates and booleans become the text the dictionary reads (`12`, `2024-01-31`, `true`); a float column
    holding only whole numbers reads as integers (`123`, not `123.0`: pandas reads an integer column with a
    missing value as floats). An id column of numbers is read, with a `NumericIdWarning` naming table and column:
    `pd.read_csv` without `dtype=str` turns `00123` into 123.
    """
    found: dict[str, RawTable] = {}
    problems: list[Problem] = []
    for name, frame in frames.items():
        if name not in tables():
            problems.append(Problem("finding", name, None, None, None, None, NOT_A_TABLE))
            continue
        try:
            text = _frame_as_text(name, frame)
            found[name] = RawTable(name, f"DataFrame {name}", as_text_table(text.with_row_index(ROW, 1)))
        except UnreadableError as exc:
            problems.append(Problem("fatal", name, None, None, None, None, str(exc)))
        except Exception as exc:  # pandas/polars/Arrow raise many types for values they cannot turn into text
            problems.append(
                Problem("fatal", name, None, None, None, None, f"cannot be read as text ({first_error_line(exc)})")
            )
    return RawExtract(found, problems, "DataFrames", ())


def _frame_as_text(name: str, frame: object) -> pl.DataFrame:
    """One table of any supported kind as a polars frame of text columns (missing values stay missing).

    Only the model's columns are made text; another column, whatever its type, is kept by name with no values
    (named and ignored by validation), as the Parquet and DuckDB readers never read one.
    """
    model = set(tables()[name].column_names)
    pandas = sys.modules.get("pandas")  # loaded by whoever made a pandas frame; not loaded, there is none
    arrow = sys.modules.get("pyarrow")  # the same of an Arrow table
    if pandas is not None and isinstance(frame, pandas.DataFrame):
        import pyarrow as pa

        columns = [str(c) for c in frame.columns]
        check_unique(columns)
        kinds = {c: _pandas_kind(frame.iloc[:, i]) for i, c in enumerate(columns)}
        _warn_numeric_ids(name, kinds)
        data = pa.table(
            [
                _column_text(column, lambda i=i: _pandas_text(frame.iloc[:, i]))
                if _in_model(column, model)
                else pa.nulls(len(frame), pa.string())
                for i, column in enumerate(columns)
            ],
            names=columns,
        )
        converted = pl.from_arrow(data)
        assert isinstance(converted, pl.DataFrame)
        return converted
    if arrow is not None and isinstance(frame, arrow.Table):
        check_unique(frame.column_names)
        converted = pl.from_arrow(frame)
        assert isinstance(converted, pl.DataFrame)
        frame = converted
    if isinstance(frame, pl.DataFrame):
        check_unique(frame.columns)
        kinds = {c: ("number" if frame.schema[c].is_numeric() else "other") for c in frame.columns}
        _warn_numeric_ids(name, kinds)
        return frame.select(
            [
                _column_text(column, lambda column=column: _polars_text(frame.get_column(column))).alias(column)
                if _in_model(column, model)
                else pl.lit(None, pl.String).alias(column)
                for column in frame.columns
            ]
        )
    raise UnreadableError(
        f"is a {type(frame).__module__}.{type(frame).__name__}, not a pandas or polars DataFrame or an Arrow table"
    )


def _in_model(column: str, model: set[str]) -> bool:
    return model_name(column) in model


def _column_text(column: str, convert: Callable[[], _Text]) -> _Text:
    """One column made text by `convert`; a column that cannot be is named, with its reader's reason."""
    try:
        return convert()
    except UnreadableError:
        raise
    except Exception as exc:  # pandas/polars/Arrow raise many types for values they cannot turn into text
        message = f"column {column!r} cannot be read as text ({first_error_line(exc)})"
        raise UnreadableError(message) from None


def _pandas_kind(values: pd.Series) -> str:
    import pandas as pd

    if pd.api.types.is_bool_dtype(values):
        return "other"
    return "number" if pd.api.types.is_numeric_dtype(values) else "other"


def _pandas_text(values: pd.Series) -> pa.Array:
    """A pandas column's values as text: whole floats as integers, dates as YYYY-MM-DD (with a time if any)."""
    import pandas as pd
    import pyarrow as pa

    _refuse_nested(values)
    if pd.api.types.is_float_dtype(values) and _whole(values.dropna().to_numpy(dtype=float)):
        values = values.astype("Int64")
    text = values.astype("string")
    return pa.array(text.to_numpy(dtype=object, na_value=None), type=pa.string(), from_pandas=True)


def _refuse_nested(values: pd.Series) -> None:
    """Refuse a pandas column whose cells hold several values (lists, arrays, dicts...), as the other readers do.

    Made text as they are, they would read as one value each (`['P1', 'P2']` an id). Only a column pandas finds
    mixed is searched cell by cell: a column of text is told apart in compiled code.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    if isinstance(values.dtype, pd.ArrowDtype) and pa.types.is_nested(values.dtype.pyarrow_dtype):
        raise nested_cells(str(values.name), str(values.dtype))
    mixed = pd.api.types.is_object_dtype(values) and pd.api.types.infer_dtype(values, skipna=True).startswith("mixed")
    if not mixed:
        return
    nested = next((v for v in values if isinstance(v, list | tuple | dict | set | frozenset | np.ndarray)), None)
    if nested is not None:
        raise nested_cells(str(values.name), f"object (a {type(nested).__name__} in a cell)")


def _polars_text(values: pl.Series) -> pl.Series:
    """A polars column's values as text: whole floats as integers, dates (and datetimes at midnight) as YYYY-MM-DD."""
    if values.dtype.is_float():
        values = values.fill_nan(None)  # NaN is pandas' missing value
        if _whole(values.drop_nulls().to_numpy()):
            values = values.cast(pl.Int64)
    if values.dtype == pl.Boolean:
        return values.cast(pl.String).str.to_lowercase()
    # A date read as a datetime (`try_parse_dates`, an Arrow timestamp) is the date, as pandas writes it.
    naive_datetime = isinstance(values.dtype, pl.Datetime) and values.dtype.time_zone is None
    if naive_datetime and (values.drop_nulls().dt.time() == time(0)).all():
        values = values.dt.date()
    if values.dtype.is_nested():  # List, Array, Struct, and Map (from an Arrow map column)
        raise nested_cells(values.name, str(values.dtype))
    return values.cast(pl.String)


def _whole(numbers) -> bool:
    import numpy as np

    finite = np.isfinite(numbers)
    return bool(finite.all() and (numbers == np.floor(numbers)).all() and (np.abs(numbers) < 2**53).all())


def _warn_numeric_ids(table: str, kinds: Mapping[str, str]) -> None:
    """Warn once per id column of numbers, naming table and column (leading zeros may be gone)."""
    import warnings

    ids = {c.name for c in tables()[table].columns if c.name.endswith("_id")}
    for column, kind in kinds.items():
        if kind == "number" and model_name(column) in ids:
            warnings.warn(
                f"{table}.{column} arrived as numbers: ids are text, and leading zeros (00123) may already be lost. "
                "Read the file with every column as text, e.g. pd.read_csv(path, dtype=str) or "
                "pl.read_csv(path, infer_schema=False).",
                NumericIdWarning,
                stacklevel=_caller_outside_package(),
            )


def _caller_outside_package() -> int:
    """The `stacklevel` of the first caller outside oligo_cohort (so a warning points at the user's own line)."""
    import sys

    frame, level = sys._getframe(1), 1
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("oligo_cohort"):
        frame, level = frame.f_back, level + 1
    return level
