"""A column's name as the model reads it, the one rule every reader of a user's file applies to a header.

Registries export headers in any case, with spaces around them, and Excel puts a byte-order mark before the
first; the extract's readers (`sources`) and the readers of the other files a user gives (`user_files`) compare
names after this rule, so ` Site_ID ` after a byte-order mark is `site_id` wherever it is read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl


def model_name(column: str) -> str:
    """A column's name as the model reads it: without a byte-order mark, trimmed, lower case."""
    return column.replace("\ufeff", "").strip().lower()


# A record whose fields are the header's names: two exports joined end to end (`cat a.csv b.csv > c.csv`), the
# second one's header read as a record. Every reader of a delimited file refuses it in these words, naming its row
# (or line): a table where nothing checks a value's form would otherwise keep a patient named `patient_id`.
HEADER_REPEATED = "repeats the header (files joined together?)"
# What is taken from around a name or field to compare them (`_bare`): the whitespace and the byte-order mark
# `model_name` takes, and the quotes a byte-order mark hides from a CSV reader (a second export's
# `\ufeff"patient_id"` is read as written), each character one that DuckDB's trim() takes too.
_AROUND = ' \t\n\r\x0b\x0c\xa0\ufeff"'


def repeats_header(fields: Sequence[str | None], header: Sequence[str]) -> bool:
    """Whether a record's fields are the header's names, compared as names are (`model_name`: trimmed, in lower
    case), quotes aside (`_AROUND`); an empty field closing the record or the header (a delimiter closing every
    line) is no field."""
    if not fields or not header or _bare(fields[0] or "") != _bare(header[0]):
        return False  # most records: one name compared
    return _closed([_bare(field or "") for field in fields]) == _closed([_bare(name) for name in header])


def header_rows(frame: pl.DataFrame, header: Sequence[str], row: str) -> list[int]:
    """`repeats_header` over a polars table of text, column-wise: the `row` numbers of the records whose fields
    are the header's names (the columns besides `row` in the header's order)."""
    import polars as pl

    columns = [column for column in frame.columns if column != row]
    if not columns or len(columns) != len(header):
        return []

    def named(column: str, name: str) -> pl.Expr:
        return pl.col(column).fill_null("").str.strip_chars(_AROUND).str.to_lowercase() == _bare(name)

    # Most records are told apart by a cheap search of the first field for the first name (as `header_hint_sql`).
    hint = pl.col(columns[0]).fill_null("").str.contains("(?i)" + re.escape(_bare(header[0])))
    candidates = frame.filter(hint)
    if candidates.is_empty():
        return []
    every = pl.all_horizontal([named(column, name) for column, name in zip(columns, header, strict=True)])
    return candidates.filter(every)[row].to_list()


def header_repeat_sql(columns: Sequence[str], header: Sequence[str]) -> str:
    """`repeats_header` as a DuckDB condition on text columns (in the header's order)."""
    from oligo_cohort.sql_text import identifier, literal

    return " AND ".join(
        f"lower(trim(coalesce({identifier(column)}, ''), {literal(_AROUND)})) = {literal(_bare(name))}"
        for column, name in zip(columns, header, strict=True)
    )


def header_hint_sql(columns: Sequence[str], header: Sequence[str]) -> str:
    """A DuckDB condition every record repeating the header meets, and few others: its first field holds the
    first name. It costs a scan next to nothing where `header_repeat_sql` (every field trimmed and compared) costs
    several times the reading of the file, so that only a file with such a record is searched with that."""
    from oligo_cohort.sql_text import identifier, literal

    return f"contains(lower(coalesce({identifier(columns[0])}, '')), {literal(_bare(header[0]))})"


def _bare(text: str) -> str:
    """A name or field as `repeats_header` compares it: without the characters `_AROUND` it, in lower case."""
    return text.strip(_AROUND).lower()


def _closed(names: list[str]) -> list[str]:
    """Names without the empty ones closing them."""
    while names and not names[-1]:
        names.pop()
    return names
