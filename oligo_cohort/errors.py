"""The errors the package raises on purpose; the CLI turns each into a clear message and an exit code."""

from __future__ import annotations

import sys

from oligo_cohort.counts_in_words import counted


class OligoCohortError(Exception):
    """Base of the errors meant for the user, not for a traceback."""

    exit_code = 1


class UsageError(OligoCohortError):
    """A command, option or protocol file is wrong (exit 2, like argparse)."""

    exit_code = 2


class InputError(OligoCohortError):
    """The extract has fatal problems; `problems` lists every one found (exit 2)."""

    exit_code = 2

    def __init__(self, problems: list) -> None:  # list[Problem]; typed loosely to avoid an import cycle
        self.problems = problems
        super().__init__(f"{counted(len(problems), 'fatal problem')} in the extract")


def is_duckdb_error(exc: BaseException, *kinds: str) -> bool:
    """Whether `exc` is one of DuckDB's errors named `kinds` ("IOException", ...), without importing DuckDB: one of
    its errors can only arrive once something has imported it, and a command's `--help` never does."""
    duckdb = sys.modules.get("duckdb")
    return duckdb is not None and isinstance(exc, tuple(getattr(duckdb, kind) for kind in kinds))
