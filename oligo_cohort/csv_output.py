"""Every CSV file the package writes: text that a spreadsheet would run as a formula is written inert.

Spreadsheets run a cell starting with `=`, `+`, `-` or `@` (and, in some, a tab
or carriage return) as a formula; `=HYPERLINK("http://…"&A1)` in a site name
or a drug name would leak data or run commands when an analyst opens the
file. Every CSV file written by this package goes through `write_csv`, for
pandas DataFrames and DuckDB relations alike.

The rule is by column type, not by how a value looks:

- a cell of a text column that starts with `=`, `+`, `-`, `@`, a tab, a
  carriage return or an apostrophe gets one leading apostrophe (`-3` from the
  data becomes `'-3`, `+6 new centres` becomes `'+6 new centres`). Text that
  already starts with an apostrophe gets one more, so the rule can be undone
  exactly: `read_back` strips one leading apostrophe (the screen folder reader
  does, so a site named `=X` is `=X` again for attrition and accrual);
- number, date and boolean columns are written as they are: a negative number
  is a number (`-3`), not text;
- `number_columns` names text columns that hold numbers written as text (an
  imported extract holds every value as text): their cells that are plain
  numbers (`-3`, `1.5e2`) stay, anything else in them is made inert as text.

Parquet files keep the values unchanged (no spreadsheet opens them).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import duckdb

if TYPE_CHECKING:
    import pandas as pd  # DataFrames arrive already made; a screen writes relations and never imports pandas

from oligo_cohort.sql_text import identifier

# What makes a spreadsheet read a cell as a formula (OWASP's list), plus the apostrophe that marks it inert.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
INERT_MARK = "'"
MARKED_STARTS = (*FORMULA_STARTS, INERT_MARK)  # a text starting with one of these is written marked
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_PLAIN_NUMBER_SQL = r"[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?"


def inert(text: str) -> str:
    """One text cell as written: an apostrophe before a formula start (or before an apostrophe)."""
    return INERT_MARK + text if text.startswith(MARKED_STARTS) else text


def read_back(text: str) -> str:
    """A text cell read from a file `write_csv` wrote: the value it was written from."""
    return text[1:] if text.startswith(INERT_MARK) else text


def write_csv(
    table: pd.DataFrame | duckdb.DuckDBPyRelation,
    destination: Path | TextIO,
    *,
    number_columns: Collection[str] = (),
    float_format: str | None = None,
    order: str = "",
    own_columns: Collection[str] = (),
) -> None:
    """Write `table` as CSV (header, no index) with formula-like text made inert.

    `order` (relations only) is the ORDER BY of the rows written; `own_columns` (relations only) hold only the
    program's own words (see `inert_relation`); `float_format` (DataFrames only) formats float columns, as
    `DataFrame.to_csv` does.
    """
    if isinstance(table, duckdb.DuckDBPyRelation):
        if not isinstance(destination, Path):
            raise TypeError("a DuckDB relation is written to a file path")
        inert_relation(table, number_columns, order, own_columns).write_csv(str(destination), header=True)
    else:
        frame = inert_frame(table, number_columns)
        # Python's CSV writer quotes a field holding a newline but not one holding a lone carriage return, which
        # readers take for the end of a row: a table with such text is written with every text field quoted.
        quoting = csv.QUOTE_NONNUMERIC if _holds_carriage_return(frame) else csv.QUOTE_MINIMAL
        frame.to_csv(destination, index=False, float_format=float_format, quoting=quoting)


def inert_frame(frame: pd.DataFrame, number_columns: Collection[str] = ()) -> pd.DataFrame:
    """A copy of `frame` whose text cells are written inert (see the module notes)."""
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue  # numbers, dates, booleans are not text
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        keep_numbers = column in number_columns
        out[column] = values.map(lambda v, keep=keep_numbers: _cell(v, keep), na_action="ignore")
    return out


def _holds_carriage_return(frame: pd.DataFrame) -> bool:
    import pandas as pd

    return any(
        frame[column].map(lambda v: isinstance(v, str) and "\r" in v, na_action="ignore").any()
        for column in frame.columns
        if pd.api.types.is_object_dtype(frame[column]) or pd.api.types.is_string_dtype(frame[column])
    )


def _cell(value: object, keep_numbers: bool) -> object:
    if not isinstance(value, str):
        return value  # a number in a mixed column stays a number
    if keep_numbers and PLAIN_NUMBER.fullmatch(value):
        return value
    return inert(value)


def inert_relation(
    relation: duckdb.DuckDBPyRelation,
    number_columns: Collection[str] = (),
    order: str = "",
    own_columns: Collection[str] = (),
) -> duckdb.DuckDBPyRelation:
    """The same relation with its text (VARCHAR) cells written inert; other types pass unchanged.

    `own_columns` hold only words of the program's own (outcomes, statuses, criterion ids, rule names), which
    never start a formula: they are written as they are, unchecked (on 18 million reason rows that counts).
    """
    columns = []
    for name, dtype in zip(relation.columns, relation.dtypes, strict=True):
        quoted = identifier(name)
        if str(dtype) != "VARCHAR" or name in own_columns:
            columns.append(quoted)
            continue
        risky = _starts_marked(quoted)
        if name in number_columns:
            risky += f" AND NOT regexp_full_match({quoted}, '{_PLAIN_NUMBER_SQL}')"
        columns.append(f"CASE WHEN {risky} THEN chr({ord(INERT_MARK)}) || {quoted} ELSE {quoted} END AS {quoted}")
    # An ORDER BY inside a subquery does not order the rows written, so the order is given here.
    order_by = f" ORDER BY {order}" if order else ""
    return relation.query("unsafe", f"SELECT {', '.join(columns)} FROM unsafe{order_by}")


def _starts_marked(quoted: str) -> str:
    """SQL: the text starts with a character `inert` marks.

    The first character's code point, not the first character as text: no string is made per cell (0.05 s on
    1.8 million reasons). Compared one by one, not with `IN (...)`: DuckDB turns an IN list of five or more
    values into a join against them, and a join may pass rows on in another order. The rows of a table stored
    in output order (the reasons) are written without a sort, in the order they come, so the writer's query
    must stay a plain projection (tests/safety/test_formula_cells.py).
    """
    code = f"ascii({quoted})"
    return "(" + " OR ".join(f"{code} = {ord(s)}" for s in MARKED_STARTS) + ")"
