"""Messages say how many: "1 problem", "3 problems", "column x is missing", never "problem(s)" or "column(s)".

- No string the package writes hedges a noun's number with "(s)": every string literal and every literal part of an
  f-string in oligo_cohort/**/*.py is read (docstrings left out, and the criteria's `protocol_text`, which quotes
  the trial protocol word for word). A failure names the file and the line.
- `counted`, `noun_for` and `names_of` (oligo_cohort/counts_in_words.py) give the noun in the number the count asks
  for: 0, 1, 2 and 1,234.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import oligo_cohort
from oligo_cohort.counts_in_words import counted, names_of, noun_for

PACKAGE = Path(oligo_cohort.__file__).parent
HEDGE = re.compile(r"[A-Za-z}]\((?:s|es|ies)\)")  # `file(s)`, `box(es)`, `{unit}(s)`
QUOTED_VERBATIM = "protocol_text"  # Criterion(protocol_text=...): the protocol's own words, kept as written


def _left_out(tree: ast.AST) -> set[int]:
    """The ids of the string nodes that are no message: docstrings and the protocol's verbatim text."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            skipped.add(id(node.value))  # a string standing as a statement: a docstring
        elif isinstance(node, ast.keyword) and node.arg == QUOTED_VERBATIM:
            skipped.update(id(inner) for inner in ast.walk(node.value))
    return skipped


def _text(node: ast.Constant | ast.JoinedStr) -> str:
    """A literal's text; an f-string's placeholders stand as `{}`, so that `f"{unit}(s)"` reads `{}(s)`."""
    if isinstance(node, ast.Constant):
        return node.value
    return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)


def hedged_numbers(source: str, name: str) -> Iterator[str]:
    """`file:line: text` for every string literal of `source` in which a word is followed by "(s)"."""
    tree = ast.parse(source, filename=name)
    skipped = _left_out(tree)
    in_fstrings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    lines = source.splitlines()
    for node in sorted(ast.walk(tree), key=lambda node: getattr(node, "lineno", 0)):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_fstrings:
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = _text(node)
        else:
            continue
        found = HEDGE.search(text)
        if found is None:
            continue
        # The line of the hedge itself, in a literal that spans lines (implicitly joined pieces).
        span = range(node.lineno, (node.end_lineno or node.lineno) + 1)
        line = next((n for n in span if HEDGE.search(lines[n - 1])), node.lineno)
        yield f"{name}:{line}: …{text[max(found.start() - 40, 0) : found.end() + 20]}…"


def test_no_message_hedges_the_number_of_a_noun():
    found = [
        hedge
        for path in sorted(PACKAGE.rglob("*.py"))
        for hedge in hedged_numbers(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent)))
    ]
    assert not found, (
        "say the number (oligo_cohort.counts_in_words: counted, noun_for, names_of), and let the verb agree:\n"
        + "\n".join(found)
    )


def test_the_scan_finds_a_hedge_in_a_literal_and_in_an_f_string_and_skips_docstrings_and_protocol_text():
    source = '''
"""A module docstring with file(s) in it."""
def f(n, unit, missing):
    """A docstring: value(s)."""
    a = "column(s) x are missing"
    b = f"{n} file(s) written"
    c = f"{n} {unit}(s)"
    d = (
        "the first piece, "
        f"then {n} box(es)"
    )
    e = ord(n) + len(missing)  # code, not a message
    return Criterion(protocol_text="Lesion(s) must be amenable")
'''
    assert [hedge.split(": ")[0] for hedge in hedged_numbers(source, "m.py")] == [
        "m.py:5",
        "m.py:6",
        "m.py:7",
        "m.py:10",
    ]


@pytest.mark.parametrize(
    ("n", "said"),
    [(0, "0 problems"), (1, "1 problem"), (2, "2 problems"), (1234, "1,234 problems")],
)
def test_a_count_says_its_noun_in_the_number_it_asks_for(n, said):
    assert counted(n, "problem") == said
    assert noun_for(n, "problem") == said.split(" ", 1)[1]


@pytest.mark.parametrize(
    ("n", "said"),
    [(0, "0 criteria"), (1, "1 criterion"), (2, "2 criteria"), (1234, "1,234 criteria")],
)
def test_a_count_with_an_irregular_plural_says_that_plural(n, said):
    assert counted(n, "criterion", "criteria") == said


@pytest.mark.parametrize(
    ("n", "said"),
    [
        (1, "column c0"),
        (2, "columns c0, c1"),
        (1234, "columns c0, c1, c2, "),
    ],
)
def test_names_are_introduced_by_the_noun_in_their_number(n, said):
    named = names_of("column", [f"c{i}" for i in range(n)])
    assert named.startswith(said) and named.endswith(f"c{n - 1}")
    assert named.count(", ") == n - 1
