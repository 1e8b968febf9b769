"""The folder destination: claimed (checked and locked) before the work, replaced all at once.

Every command that writes a folder (screen, attrition, report, accrual, import, synth, review) goes
through `OutputFolder`: the rules are in the package's notes (`oligo_cohort.destination`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; the final renames still detect a concurrent winner
    fcntl = None  # type: ignore[assignment]

from oligo_cohort.counts_in_words import counted
from oligo_cohort.destination.failures import DestinationError, write_failure
from oligo_cohort.destination.legacy import legacy_listing
from oligo_cohort.destination.markers import (
    KINDS,
    MARKER,
    MarkerError,
    changed_entries,
    foreign_entries,
    read_marker,
    write_marker,
)
from oligo_cohort.destination.placement import (
    _OPEN_FLAGS,
    Protected,
    _make_parents,
    _overlap,
    _remove_empty,
    _writable_ancestor,
    new_partial,
    resolved,
)
from oligo_cohort.file_kinds import with_article
from oligo_cohort.interruption import deferred, raise_if_interrupted

LOCK_SIGNATURE = b"oligo-cohort output lock\n"
_SHOWN = 8  # names listed in a refusal


class OutputFolder:
    """A destination folder for one kind of output, claimed before the work and replaced all at once.

    >>> with OutputFolder("screen-out", "screen", inputs=[extract]) as out:   # checks + lock, before any work
    ...     result = screen(extract)
    ...     with out.staging() as folder:                                       # write files into `folder`
    ...         ...
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        kind: str,
        *,
        inputs: Iterable[str | os.PathLike[str] | None] = (),
        protected: Iterable[Protected] = (),
        option: str = "--out",
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown kind of output {kind!r}")
        self.requested = Path(path)
        self.path = resolved(path)
        self.kind = kind
        self.protected = [*Protected.inputs(inputs), *protected]
        self.option = option
        self._lock: tuple[int, Path] | None = None
        self._made: list[Path] = []
        self._claims = 0
        self._digests: dict[tuple[int, ...], str] = {}  # files checked in this run (markers.changed_entries)

    def __repr__(self) -> str:
        return f"OutputFolder({str(self.path)!r}, {self.kind!r})"

    # checks

    def check(self) -> None:
        """Refuse (DestinationError) unless the folder may be written: see the module notes. No side effects."""
        target = self.path
        reason = _overlap(target, self.protected, option=self.option)
        if reason:
            raise DestinationError(f"{reason}; an output folder must be apart from the inputs")
        if target == Path(target.anchor):
            raise DestinationError(f"{self.option} {target} is the root folder; choose a folder of its own")
        if resolved(os.getcwd()).is_relative_to(target):
            # Replacing it would pull the folder away from under this shell (and this run).
            raise DestinationError(f"{self.option} {target} is or holds the current folder; choose a folder beside it")
        if target.exists() and not target.is_dir():
            raise DestinationError(f"{self.option} {target} is a file, not a folder; choose a folder")
        _writable_ancestor(target, self.option)
        if target.is_dir():
            self._check_replaceable(target)

    def _check_replaceable(self, folder: Path) -> None:
        problem = self.why_not_replaceable(folder)
        if problem:
            raise DestinationError(f"{self.option} {self.path} {problem}")

    def why_not_replaceable(self, folder: Path) -> str | None:
        """Why `folder` may not be replaced by this output (None when it is empty, or an earlier output of this kind
        holding nothing but the files its marker lists, each as it was written)."""
        try:
            if not any(folder.iterdir()):
                return None
        except OSError as exc:
            return f"cannot be read ({exc.strerror}); it is left alone"
        keep = "it is left alone. Choose another folder (or delete that one yourself once nothing in it is needed)"
        try:
            marker = read_marker(folder)
        except MarkerError as exc:
            return f"has a damaged marker {MARKER}: {exc}. What oligo-cohort wrote there cannot be told, so {keep}"
        if marker is None:
            looks_like = legacy_listing(folder, self.kind) is not None
            if looks_like:
                return (
                    f"looks like an earlier `{self.kind}` output of oligo-cohort, but has no {MARKER} (deleted, or "
                    f"written by an earlier version): its files cannot be checked against what was written, so {keep}"
                )
            shown = _names(sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir()))
            return (
                f"is not an empty folder nor an earlier `{self.kind}` output of oligo-cohort (it holds {shown}, "
                f"and no {MARKER}); it is left alone. Choose a new or empty folder"
            )
        if marker.kind != self.kind:
            return (
                f"holds an earlier `{marker.kind}` output of oligo-cohort; this is {with_article(f'`{self.kind}` output')}. "
                "Choose another folder (or delete that one yourself)"
            )
        if marker.checksums is None:
            return (
                f"holds an earlier `{self.kind}` output written by an earlier version of oligo-cohort, whose {MARKER} "
                f"records no checksums: its files cannot be checked for changes, so {keep}"
            )
        extra = foreign_entries(folder, marker.entries)
        if extra:
            return (
                f"is an earlier `{self.kind}` output, but it also holds {counted(len(extra), 'file')} oligo-cohort "
                f"did not write: {_names(extra)}. Move them out (they would be lost) or choose another folder"
            )
        changed = changed_entries(folder, marker.checksums, self._digests)
        if changed:
            return (
                f"is an earlier `{self.kind}` output, but {len(changed)} of its files changed since oligo-cohort "
                f"wrote them (edited or filled in by hand?): {_names(changed)}. Move them out (the changes would be "
                "lost) or choose another folder"
            )
        return None

    # claiming

    def __enter__(self) -> OutputFolder:
        self._claims += 1
        if self._claims > 1:
            return self  # claimed already (a command passes its claimed folder to a writer)
        try:
            self.check()
            self._made = _make_parents(self.path.parent)
            self._acquire_lock()
            self.check()  # again, under the lock: another run may have written the folder meanwhile
        except BaseException:
            self._claims -= 1
            self._release(failed=True)
            raise
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        self._claims -= 1
        if self._claims == 0:
            self._release(failed=exc is not None)

    @property
    def claimed(self) -> bool:
        return self._claims > 0

    def _release(self, *, failed: bool) -> None:
        with deferred():
            if self._lock is not None:
                fd, path = self._lock
                self._lock = None
                with contextlib.suppress(OSError):
                    os.unlink(path)  # while still holding it: a waiting run then sees a fresh file
                os.close(fd)
            if failed:
                _remove_empty(self._made)
            self._made = []

    def _acquire_lock(self) -> None:
        if fcntl is None:
            return
        path = self.path.parent / f".{self.path.name}.oligo-cohort.lock"
        for _ in range(50):
            try:
                try:
                    fd, created = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS, 0o666), True
                except FileExistsError:
                    fd, created = os.open(path, os.O_RDWR | _OPEN_FLAGS), False  # left by a run that was killed?
            except FileNotFoundError:
                continue  # removed in between by the run that held it
            except OSError as exc:
                raise DestinationError(f"{self.option} {self.path}: cannot write beside it ({exc.strerror})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise DestinationError(
                    f"{self.option} {self.path}: another oligo-cohort run is writing this folder now; "
                    "wait for it to finish or choose another folder"
                ) from None
            except OSError:
                os.close(fd)  # no locks on this file system: the final renames still detect a concurrent winner
                if created:
                    with contextlib.suppress(OSError):
                        path.unlink()
                return
            try:
                current = os.stat(path, follow_symlinks=False)
            except FileNotFoundError:
                os.close(fd)
                continue  # the previous holder removed it as it finished: take a fresh one
            held = os.fstat(fd)
            if (held.st_dev, held.st_ino) != (current.st_dev, current.st_ino):
                os.close(fd)
                continue
            content = os.pread(fd, len(LOCK_SIGNATURE), 0)
            if content and content != LOCK_SIGNATURE:
                os.close(fd)
                raise DestinationError(
                    f"{self.option} {self.path}: {path} exists and was not written by oligo-cohort; it is left "
                    "alone. Remove it or choose another folder"
                )
            os.ftruncate(fd, 0)
            os.pwrite(fd, LOCK_SIGNATURE + f"pid {os.getpid()}\n".encode(), 0)
            self._lock = (fd, path)
            return
        raise DestinationError(f"{self.option} {self.path}: could not take the lock beside it; try again")

    # writing

    @contextlib.contextmanager
    def staging(self, check: Callable[[Path], None] | None = None) -> Iterator[Path]:
        """A new folder beside the destination; when the block ends without error it replaces the destination.

        `check`, if given, is called with the finished folder, its marker written, before it replaces anything:
        what it reads is the output as every later reader reads it (an extract this tool wrote is read knowing
        its CSV tables carry the writer's inert mark). An error it raises leaves nothing behind.
        """
        if not self.claimed:
            with self, self.staging(check) as folder:
                yield folder
            return
        staging = self._new_staging()
        try:
            yield staging
            raise_if_interrupted()
            write_marker(staging, self.kind)
            if check is not None:
                check(staging)
                raise_if_interrupted()
            with deferred():
                self._swap(staging)
        except BaseException as exc:
            with deferred():
                shutil.rmtree(staging, ignore_errors=True)
            reason = write_failure(exc)
            if reason is not None:
                raise DestinationError(
                    f"could not write {self.path}: {reason}. Nothing was written; "
                    f"{'the earlier output there is unchanged' if self.path.exists() else 'no folder was made'}"
                ) from exc
            raise

    def _new_staging(self) -> Path:
        # The user's umask, unlike mkdtemp's 0700: the folder becomes the output.
        return new_partial(self.path, Path.mkdir, "a staging folder")

    def _swap(self, staging: Path) -> None:
        target = self.path
        if not os.path.lexists(target):
            try:
                os.rename(staging, target)
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    raise DestinationError(
                        f"{self.option} {target} appeared while this run was writing (another program or run "
                        "made it); it is left alone and nothing was written"
                    ) from None
                raise
            return
        self._check_replaceable(target)  # again: the user may have added files during the run
        holder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".replaced", dir=target.parent))
        earlier = holder / target.name
        try:
            os.rename(target, earlier)
        except OSError as exc:
            holder.rmdir()
            if exc.errno == errno.ENOENT:
                raise DestinationError(
                    f"{self.option} {target} was replaced by another run while this one was writing; "
                    "nothing was written by this run"
                ) from None
            raise
        problem = self.why_not_replaceable(earlier)  # nothing slipped in between the check and the move
        if problem:
            os.rename(earlier, target)
            holder.rmdir()
            raise DestinationError(f"{self.option} {target} {problem}")
        try:
            os.rename(staging, target)
        except OSError:
            if not os.path.lexists(target):
                os.rename(earlier, target)
                holder.rmdir()
            raise
        shutil.rmtree(holder)


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


@contextlib.contextmanager
def staged_output(
    destination: str | os.PathLike[str] | OutputFolder,
    kind: str,
    *,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    check: Callable[[Path], None] | None = None,
) -> Iterator[Path]:
    """A staging folder for `destination`: a path (claimed here) or a folder a command has claimed already;
    `check` reads the finished folder, marker included, before it is moved into place (`OutputFolder.staging`)."""
    folder = destination if isinstance(destination, OutputFolder) else OutputFolder(destination, kind, inputs=inputs)
    if folder.kind != kind:
        raise ValueError(f"{folder} is claimed for `{folder.kind}` output, not `{kind}`")
    with folder, folder.staging(check) as staging:
        yield staging
