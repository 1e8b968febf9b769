"""Screen folders in tests: a file's rows read and written as a user's editor would, and a folder read whole.

`read_screen_dir` reads reasons.csv only when its table is first asked for (`screen_folder.READ_WHEN_ASKED`), so a
test of what the reader finds in any file asks for every table (`read_whole`).
"""

from __future__ import annotations

import csv
from pathlib import Path

from oligo_cohort.api import ScreeningResult, read_screen_dir
from oligo_cohort.results import RESULT_TABLES


def read_whole(folder: Path) -> ScreeningResult:
    """The folder's result with every table read (and checked); a ScreenFolderError for anything wrong."""
    result = read_screen_dir(folder)
    for name in RESULT_TABLES:
        result.query(name)
    return result


def rows_of(path: Path) -> list[list[str]]:
    """A CSV file's rows, its header first."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    """Write rows as CSV, every field quoted: Python leaves a lone carriage return unquoted otherwise (a row break
    to readers)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
