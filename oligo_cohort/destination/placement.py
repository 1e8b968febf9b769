"""Where an output may go: never an input, in a folder the user can write, its missing parents made.

Paths are compared with symbolic links resolved, so that no spelling of an input's path gets past the
checks; the folders made for an output are removed again when the run fails.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from oligo_cohort.destination.failures import DestinationError
from oligo_cohort.errors import UsageError

# Files this tool opens itself: not inherited by child processes, and never through a symbolic link.
_OPEN_FLAGS = getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)


def resolved(path: str | os.PathLike[str]) -> Path:
    """An absolute path with symbolic links resolved (as far as the path exists).

    A path through a link loop resolves to nothing: it is refused here, naming it, before any command reads or
    writes through it (Python raises RuntimeError or ELOOP for it, depending on its version).
    """
    try:
        return Path(os.path.abspath(os.fspath(path))).resolve()
    except (RuntimeError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno != errno.ELOOP:
            raise
        raise UsageError(f"{os.fspath(path)} is a link loop (a symbolic link that leads back to itself)") from None


@dataclass(frozen=True)
class Protected:
    """A path no output may be, hold or lie inside: an input, or another output of the same run."""

    path: Path
    role: str = "input"

    @classmethod
    def inputs(cls, paths: Iterable[str | os.PathLike[str] | None]) -> list[Protected]:
        """Inputs named by the user (None and Spark table names that are no path are skipped)."""
        return [cls(resolved(p)) for p in paths if p not in (None, "", "-")]


def _overlap(target: Path, protected: Iterable[Protected], *, option: str) -> str | None:
    """Why `target` (resolved) may not be written, given what must not be touched (None if it may)."""
    for item in protected:
        other = item.path
        if target == other or _same_file(target, other):
            return f"{option} {target} is the {item.role} {other}"
        if other.is_relative_to(target):
            return f"{option} {target} holds the {item.role} {other}"
        if target.is_relative_to(other) and not other.is_file():
            return f"{option} {target} lies inside the {item.role} {other}"
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _writable_ancestor(target: Path, option: str) -> Path:
    """The nearest existing folder above `target`, checked writable (the one a missing path would be made in)."""
    ancestor = target.parent
    while not ancestor.exists():
        if ancestor == ancestor.parent:
            break
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise DestinationError(f"{option} {target}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        why = "is on a read-only file system" if _read_only(ancestor) else "is not writable for you"
        raise DestinationError(f"{option} {target}: the folder {ancestor} {why}; choose another place")
    return ancestor


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _make_parents(folder: Path) -> list[Path]:
    """Make `folder` and missing parents; the folders made, outermost first (removed again if the run fails)."""
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise DestinationError(f"cannot make the folder {path}: {exc.strerror}") from None
    return list(reversed(missing))


def _remove_empty(folders: list[Path]) -> None:
    for path in reversed(folders):
        with contextlib.suppress(OSError):
            path.rmdir()  # only if still empty: nothing of anyone's is removed


def new_partial(target: Path, make: Callable[[Path], None], what: str) -> Path:
    """A new hidden `.NAME.<random>.partial` beside `target`, made by `make` (which must fail when the name
    exists), where an output is written before it is moved into place: a file or a folder, never one that was
    there before. A folder that cannot be written in is a DestinationError naming it."""
    parent = target.parent
    for _ in range(100):
        path = parent / f".{target.name}.{secrets.token_hex(4)}.partial"
        try:
            make(path)
        except FileExistsError:
            continue
        except OSError as exc:
            raise DestinationError(f"cannot write in {parent}: {exc.strerror}") from None
        return path
    raise DestinationError(f"cannot make {what} in {parent}")
