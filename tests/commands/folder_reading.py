"""Reading a screen folder whole: the folder, then every table of it.

`read_screen_dir` reads reasons.csv only when its table is first asked for (`screen_folder.READ_WHEN_ASKED`), so a
test of what the reader finds in any file asks for every table.
"""

from __future__ import annotations

from pathlib import Path

from oligo_cohort.api import ScreeningResult, read_screen_dir
from oligo_cohort.results import RESULT_TABLES


def read_whole(folder: Path) -> ScreeningResult:
    """The folder's result with every table read (and checked); a ScreenFolderError for anything wrong."""
    result = read_screen_dir(folder)
    for name in RESULT_TABLES:
        result.query(name)
    return result
