"""The single-file destination (`--problems FILE`, `dictionary --out FILE`): replaced only when recognisably ours.

A file is not a folder: it carries no marker, so an existing one is replaced only when it is empty or
starts the way this tool writes it (`starts_with_line`), and it appears whole or not at all.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from oligo_cohort.destination.failures import DestinationError, write_failure
from oligo_cohort.destination.placement import (
    _OPEN_FLAGS,
    Protected,
    _make_parents,
    _overlap,
    _writable_ancestor,
    new_partial,
    resolved,
)
from oligo_cohort.interruption import deferred


class OutputFile:
    """A single output file (a problems CSV, the data dictionary): replaced only when recognisably ours.

    An existing file is replaced only when it is empty or `recognise(path)` says this tool wrote it (a
    problems CSV starts with the problems header, the data dictionary with its title lines). The file
    appears whole or not at all (written beside it, then renamed), with the user's normal permissions.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        what: str,
        recognise: Callable[[Path], bool],
        inputs: Iterable[str | os.PathLike[str] | None] = (),
        protected: Iterable[Protected] = (),
        option: str,
    ) -> None:
        self.requested = Path(path)
        self.path = resolved(path)
        self.what = what
        self.recognise = recognise
        self.protected = [*Protected.inputs(inputs), *protected]
        self.option = option

    def check(self) -> None:
        """Refuse (DestinationError) unless the file may be written; no side effects."""
        target = self.path
        reason = _overlap(target, self.protected, option=self.option)
        if reason:
            raise DestinationError(f"{reason}; write it elsewhere")
        if target.is_dir():
            raise DestinationError(f"{self.option} {target} is a folder; give a file name")
        if os.path.lexists(target):
            if not target.is_file():
                raise DestinationError(f"{self.option} {target} is not a regular file; it is left alone")
            if target.stat().st_size and not self._recognised(target):
                raise DestinationError(
                    f"{self.option} {target} exists and is not {self.what}; it is left alone. "
                    "Choose a new file name (or delete that file yourself)"
                )
        _writable_ancestor(target, self.option)

    def _recognised(self, path: Path) -> bool:
        try:
            return self.recognise(path)
        except (OSError, UnicodeDecodeError, ValueError):
            return False

    def write(self, fill: Callable[[Path], None]) -> Path:
        """Check again, let `fill(temporary_path)` write the content, then move it into place."""
        self.check()
        _make_parents(self.path.parent)
        temporary = self._new_temporary()
        try:
            fill(temporary)
            with deferred():
                os.replace(temporary, self.path)
        except BaseException as exc:
            with deferred(), contextlib.suppress(OSError):
                temporary.unlink()
            reason = write_failure(exc)
            if reason is not None:
                raise DestinationError(f"could not write {self.path}: {reason}; nothing was written") from exc
            raise
        return self.path

    def write_text(self, text: str) -> Path:
        """Write `text` (UTF-8) as the whole file."""
        return self.write(lambda path: path.write_text(text, encoding="utf-8"))

    def _new_temporary(self) -> Path:
        def create(path: Path) -> None:
            # Created with the user's umask (not mkstemp's 0600): the file becomes the output.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS, 0o666))

        return new_partial(self.path, create, "a temporary file")


def starts_with_line(*expected: str) -> Callable[[Path], bool]:
    """A recogniser: the file's first line(s) are exactly one of `expected` (the headers this tool writes)."""
    wanted = [line.encode("utf-8") for line in expected]
    size = 2 * max(len(line) for line in wanted)  # room for CRLF line ends

    def recognise(path: Path) -> bool:
        with path.open("rb") as handle:
            head = handle.read(size).replace(b"\r\n", b"\n")
        return any(head.startswith(line) for line in wanted)

    return recognise
