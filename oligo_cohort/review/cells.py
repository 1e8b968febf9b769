"""Text cells that a spreadsheet opens as text, never as a formula, and back.

Review files are opened by research nurses in Excel or LibreOffice. A cell whose text starts with `=`, `+`, `-`,
`@` (or a tab or carriage return) would be run as a formula there, and ids and facts come from a registry
extract, so every text cell of a CSV file is written through `formula_safe` (the rule of the screen's CSV
outputs: a leading apostrophe). In the workbook the cells are typed as text instead (see `workbook`), so no
apostrophe is needed there. Reading answers back, `unescape` takes the apostrophe off again.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
APOSTROPHE = "'"


def formula_safe(text: str) -> str:
    """The text with a leading apostrophe when a spreadsheet would read it as a formula."""
    return APOSTROPHE + text if text.startswith(FORMULA_STARTS) else text


def unescape(text: str) -> str:
    """The text as it was before `formula_safe`."""
    if text.startswith(APOSTROPHE) and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
