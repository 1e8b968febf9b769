"""A column's name as the model reads it, the one rule every reader of a user's file applies to a header.

Registries export headers in any case, with spaces around them, and Excel puts a byte-order mark before the
first; the extract's readers (`sources`) and the readers of the other files a user gives (`user_files`) compare
names after this rule, so ` Site_ID ` after a byte-order mark is `site_id` wherever it is read.
"""

from __future__ import annotations


def model_name(column: str) -> str:
    """A column's name as the model reads it: without a byte-order mark, trimmed, lower case."""
    return column.replace("\ufeff", "").strip().lower()
