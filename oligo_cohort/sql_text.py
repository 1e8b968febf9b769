"""SQL text the package writes itself: identifiers and string literals, quoted the one way.

Values read from an extract never become SQL text: they are read from tables or bound as parameters. What is
quoted here are the package's own names and constants (dictionary columns and codes, fact names, clinical codes)
and names a file brings with it (column headers, file paths), which must reach DuckDB as written, whatever
quotes they hold.
"""

from __future__ import annotations

from collections.abc import Iterable


def identifier(name: str) -> str:
    """`name` as a quoted SQL identifier, each double quote in it doubled."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """`text` as a SQL string literal, each single quote in it doubled."""
    return "'" + text.replace("'", "''") + "'"


def literals(texts: Iterable[str]) -> str:
    """String literals separated by commas, for an IN list."""
    return ", ".join(literal(text) for text in texts)
