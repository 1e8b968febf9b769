"""Pipe tables → pandas DataFrames of strings, so that a test's input rows read like a registry extract.

    table('''
        study_id | study_date | modality
        ref      | 2021-12-20 | CT
        S        | 2023-03-01 | CT
    ''')

Every cell is text, as read from a CSV file; a blank cell is missing (None).
Cells are separated by `|` with no border pipes, so a trailing `|` ends in a blank cell.
"""

from __future__ import annotations

import pandas as pd


def table(text: str) -> pd.DataFrame:
    """Parse a pipe table (first line = column names; blank cell = missing) into a DataFrame of strings."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        raise ValueError("a table needs at least a header line")
    header = _cells(lines[0])
    if any(not name for name in header):
        raise ValueError(f"blank column name in header {lines[0]!r}")
    rows = []
    for line in lines[1:]:
        cells = _cells(line)
        if len(cells) != len(header):
            raise ValueError(f"row {line!r} has {len(cells)} cells, the header has {len(header)}")
        rows.append([cell or None for cell in cells])
    return pd.DataFrame(rows, columns=header, dtype=object)


def concat(*frames: pd.DataFrame) -> pd.DataFrame:
    """Rows of several tables one after the other (columns missing in one are missing in its rows)."""
    joined = pd.concat(frames, ignore_index=True, sort=False).astype(object)
    return joined.where(joined.notna(), None)


def _cells(line: str) -> list[str]:
    # No border pipes: a line ending in "|" has a blank last cell.
    return [cell.strip() for cell in line.split("|")]
