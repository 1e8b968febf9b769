"""Where the package's SQL models and data dictionary live, in a checkout and in an installed wheel.

The files sit at the top of the repository (`sql/`, `data_dictionary/`) so
that they read as the project's documentation; a wheel carries copies under
`oligo_cohort/_resources/`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def _resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_resources" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the package's {name}/ folder is missing; reinstall oligo-cohort")


def sql_dir() -> Path:
    """The folder of SQL models (staging, derived, criteria, outcomes)."""
    return _resource_dir("sql")


def dictionary_dir() -> Path:
    """The folder of the machine-readable data dictionary and drug vocabulary."""
    return _resource_dir("data_dictionary")


def demo_extract_dir() -> Path:
    """The bundled demo extract."""
    return _PACKAGE / "demo" / "extract"
