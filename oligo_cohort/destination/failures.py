"""Why an output could not be written: a refusal (`DestinationError`) or the file system's doing.

A refusal is the user's to solve (exit 2), never a traceback. A full or read-only disk, a missing
permission or a name too long are likewise the user's to solve: `write_failure` tells them apart from
bugs, so that a destination can say "nothing was written" instead of crashing.
"""

from __future__ import annotations

import errno

from oligo_cohort.errors import UsageError, is_duckdb_error


class DestinationError(UsageError):
    """An output cannot be written where asked (exit 2): the message says why and what to do."""


# What the file system says when an output cannot be written: the user's to solve, not a bug.
WRITE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EIO, errno.EFBIG, errno.EMFILE,
     errno.ENFILE, errno.ENAMETOOLONG, errno.EXDEV, errno.EBUSY}
)  # fmt: skip


def write_failure(exc: BaseException) -> str | None:
    """The reason an output could not be written, when `exc` is the file system's doing (disk full, read-only…)."""
    if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
        return exc.strerror or str(exc)
    if is_duckdb_error(exc, "IOException", "PermissionException"):
        return str(exc).splitlines()[0]
    return None
