"""The canonical tables of an OMOP source folder, imported once for each content of the folder.

Many importer tests compare a changed source's import with the import of the source it was changed from, often
the same unchanged fixture example after example and case after case. `imported_tables(source)` imports a
folder whose files (names and bytes) it has not seen before, and gives a copy of what that import gave for a
folder it has: what the import gives depends on those files alone (and the package), so a second import of the
same bytes could give nothing else. Use it only for the side a test compares with, never for the import a test is
about.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from oligo_cohort.importers import import_omop

_IMPORTED: dict[bytes, dict[str, pd.DataFrame]] = {}


def folder_digest(folder: Path) -> bytes:
    """sha256 over the names and bytes of every file in `folder` (a flat folder, as a source's tables are)."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        digest.update(path.name.encode("utf-8") + b"\x00")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.digest()


def imported_tables(source: Path) -> dict[str, pd.DataFrame]:
    """`import_omop(source).tables`, the import run once for each content of `source`; a copy each time, so that
    no test sees another's changes."""
    key = folder_digest(source)
    if key not in _IMPORTED:
        _IMPORTED[key] = import_omop(source).tables
    return {name: frame.copy() for name, frame in _IMPORTED[key].items()}
