"""A count and its noun as a reader says them: `1 problem`, `2 problems`, `12,345 rows`.

One definition for every message, so that no message reads "1 problem(s)" or "1 rows".
"""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` with thousands separators and `noun`, in the plural (`plural`, else `noun` + "s") unless `n` is 1."""
    return f"{n:,} {noun_for(n, noun, plural)}"


def noun_for(n: int, noun: str, plural: str | None = None) -> str:
    """`noun` in the number `n` asks for, without `n`: for a table whose counts stand in a column of their own."""
    return noun if n == 1 else plural or noun + "s"


def names_of(noun: str, names: list[str] | tuple[str, ...], plural: str | None = None) -> str:
    """`column x` or `columns x, y`: the noun in the number the list asks for, then the names."""
    return f"{noun_for(len(names), noun, plural)} {', '.join(names)}"
