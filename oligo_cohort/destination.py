"""Where outputs go: only what this tool wrote is ever replaced, never an input, and always all at once.

Every command writes through this module: a folder (`OutputFolder`: screen,
attrition, report, accrual, import, synth) or a single file (`OutputFile`:
`--problems FILE`, `dictionary --out FILE`). The rules:

- **A marker says what wrote a folder.** Each output folder holds
  `.oligo-cohort-output.json`: the tool, its version, the kind of output
  (`screen`, `attrition`, …) and every file and folder it wrote. A destination
  folder that exists and is not empty is replaced only when its marker says it
  is an earlier output of the same kind and it holds nothing but what the
  marker lists. Anything else is refused (exit 2) with the reason, and files a
  user added are named: they are never deleted. Operating-system litter
  (`.DS_Store`, `Thumbs.db`, `desktop.ini`) does not count as a user's file.
  A file merely named like a result file (`manifest.json`) proves nothing.
  Folders written before markers existed are recognised only where they listed
  their own files (see `legacy_listing`); otherwise they are refused.
- **Never an input.** A destination that is an input, holds one or lies inside
  an input folder is refused; paths are compared with symbolic links resolved.
- **Decided before the work.** A command claims its destination first
  (`with OutputFolder(...) as out:`): the checks run, missing parent folders
  are made, and a lock is taken, before the extract is even read; a refusal
  costs nothing.
- **All or nothing.** Files are written into a staging folder beside the
  destination, with the user's normal permissions (umask); the marker is
  written last, then the folder is renamed into place. An earlier output is
  moved aside first and deleted only after the new one is in place, and only
  when it still holds nothing but what its marker lists. An error, Ctrl-C or
  SIGTERM removes the staging folder; a full or read-only disk is a message
  (exit 2), and the earlier output stays as it was.
- **One writer at a time.** The lock (`.<name>.oligo-cohort.lock` beside the
  destination, `flock`) is held from the claim to the end: a second run
  writing the same destination stops at once with exit 2. Where the file
  system has no locks, the final renames still detect a concurrent winner.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

try:
    import fcntl
except ImportError:  # Windows: no flock; the final renames still detect a concurrent winner
    fcntl = None  # type: ignore[assignment]

from oligo_cohort import __version__
from oligo_cohort.errors import UsageError
from oligo_cohort.interruption import deferred, raise_if_interrupted

TOOL = "oligo-cohort"
MARKER = ".oligo-cohort-output.json"
MARKER_FORMAT = 1
KINDS = ("screen", "attrition", "report", "accrual", "import", "synth", "review-export", "reviewed-extract")
OS_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
LOCK_SIGNATURE = b"oligo-cohort output lock\n"
_SHOWN = 8  # names listed in a refusal
_OPEN_FLAGS = getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)


class DestinationError(UsageError):
    """An output cannot be written where asked (exit 2): the message says why and what to do."""


# --- markers ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """What wrote an output folder: kind of output, version, and the entries written (folders end with `/`)."""

    kind: str
    version: str
    entries: frozenset[str]

    def to_json(self) -> str:
        info = {
            "written_by": TOOL,
            "marker_format": MARKER_FORMAT,
            "output": self.kind,
            "version": self.version,
            "files": sorted(self.entries),
        }
        return json.dumps(info, indent=2) + "\n"

    @classmethod
    def read(cls, folder: Path) -> Marker | None:
        """The marker of `folder`, or None when it has none or it is not one of ours."""
        path = folder / MARKER
        if path.is_symlink() or not path.is_file():
            return None
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return None
        if not isinstance(info, dict) or info.get("written_by") != TOOL:
            return None
        files = info.get("files")
        if not isinstance(info.get("output"), str) or not isinstance(files, list):
            return None
        if not all(isinstance(f, str) and _is_relative_entry(f) for f in files):
            return None
        return cls(info["output"], str(info.get("version", "")), frozenset(files))


def _is_relative_entry(name: str) -> bool:
    parts = name.rstrip("/").split("/")
    return bool(name) and not name.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def folder_entries(folder: Path) -> dict[str, str]:
    """Every entry under `folder` (not following links) as relative path → 'file', 'folder' or 'other'.

    Folders are named with a trailing `/`; a symbolic link, FIFO or device is 'other': this tool never writes one.
    """
    found: dict[str, str] = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        base = Path(root).relative_to(folder)
        for name in dirs:
            path = Path(root) / name
            rel = (base / name).as_posix()
            if path.is_symlink():
                found[rel] = "other"
            else:
                found[rel + "/"] = "folder"
        for name in files:
            path = Path(root) / name
            rel = (base / name).as_posix()
            found[rel] = "file" if path.is_file() and not path.is_symlink() else "other"
    return found


def write_marker(folder: Path, kind: str) -> Marker:
    """List everything in `folder` (a finished output) in its marker; the marker is the last file written."""
    entries = frozenset(name for name, what in folder_entries(folder).items() if name != MARKER and what != "other")
    marker = Marker(kind, __version__, entries)
    (folder / MARKER).write_text(marker.to_json(), encoding="utf-8")
    return marker


def foreign_entries(folder: Path, listed: frozenset[str]) -> list[str]:
    """What `folder` holds beyond `listed` (its marker's entries): files this tool did not write."""
    extra = []
    for name, what in folder_entries(folder).items():
        if name == MARKER or Path(name.rstrip("/")).name in OS_LITTER:
            continue
        if what == "other" or name not in listed:
            extra.append(name)
    return sorted(extra)


# --- folders written before markers -------------------------------------------------------------------------


def legacy_listing(folder: Path, kind: str) -> frozenset[str] | None:
    """The entries of an output written by an earlier version (no marker), from the file list it kept itself.

    Only outputs that listed their own files are recognised: a screen (`manifest.json` with `tool` and
    `files`), an accrual forecast (`accrual.json`), attrition tables (`settings.json` beside a
    `disclosure.json` listing the files), a report (its README, shareable/ and screen/), an import
    (`mapping_report.csv` with its header, and table files only). Anything else gives None.
    """
    reader = _LEGACY.get(kind)
    return reader(folder) if reader else None


def _json(path: Path) -> dict | None:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _listed(names: object) -> frozenset[str] | None:
    if not isinstance(names, list) or not all(isinstance(n, str) and _is_relative_entry(n) for n in names):
        return None
    entries = set(names)
    for name in names:  # the folders the files sit in
        parts = name.split("/")[:-1]
        entries.update("/".join(parts[: i + 1]) + "/" for i in range(len(parts)))
    return frozenset(entries)


def _legacy_screen(folder: Path) -> frozenset[str] | None:
    info = _json(folder / "manifest.json")
    if not info or info.get("tool") != TOOL or not {"protocol", "as_of", "rows"} <= info.keys():
        return None
    files = _listed(info.get("files"))
    return None if files is None else files | {"manifest.json"}


def _legacy_accrual(folder: Path) -> frozenset[str] | None:
    info = _json(folder / "accrual.json")
    if not info or info.get("tool") != TOOL or info.get("command") != "accrual":
        return None
    return _listed(info.get("files"))


def _legacy_attrition(folder: Path) -> frozenset[str] | None:
    settings, statement = _json(folder / "settings.json"), _json(folder / "disclosure.json")
    if not settings or not statement or "attrition" not in settings or "disclosure_control" not in statement:
        return None
    files = _listed(statement.get("files"))
    return None if files is None else files | {"disclosure.json", "disclosure.md"}


def _legacy_report(folder: Path) -> frozenset[str] | None:
    try:
        readme = (folder / "README.txt").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not readme.startswith("Feasibility report written by oligo-cohort."):
        return None
    entries = {"README.txt", "shareable.zip", "shareable/"}
    shareable = _legacy_attrition(folder / "shareable")
    if shareable is None:
        return None
    entries |= {f"shareable/{name}" for name in shareable}
    if (folder / "screen").is_dir():
        screen = _legacy_screen(folder / "screen")
        if screen is None:
            return None
        entries |= {"screen/"} | {f"screen/{name}" for name in screen}
    return frozenset(entries)


def _legacy_import(folder: Path) -> frozenset[str] | None:
    from oligo_cohort.dictionary import tables
    from oligo_cohort.importers.report import REPORT_COLUMNS, REPORT_CSV, REPORT_MD

    try:
        with (folder / REPORT_CSV).open(encoding="utf-8") as handle:
            header = handle.readline().rstrip("\r\n")
    except (OSError, UnicodeDecodeError):
        return None
    if header != ",".join(REPORT_COLUMNS):
        return None
    return frozenset({REPORT_CSV, REPORT_MD} | {f"{name}.csv" for name in tables()})


_LEGACY: dict[str, Callable[[Path], frozenset[str] | None]] = {
    "screen": _legacy_screen,
    "accrual": _legacy_accrual,
    "attrition": _legacy_attrition,
    "report": _legacy_report,
    "import": _legacy_import,
}


# --- paths ------------------------------------------------------------------------------------------------------


def resolved(path: str | os.PathLike[str]) -> Path:
    """An absolute path with symbolic links resolved (as far as the path exists)."""
    return Path(os.path.abspath(os.fspath(path))).resolve()


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


# What the file system says when an output cannot be written: the user's to solve, not a bug.
WRITE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EIO, errno.EFBIG, errno.EMFILE,
     errno.ENFILE, errno.ENAMETOOLONG, errno.EXDEV, errno.EBUSY}
)  # fmt: skip


def write_failure(exc: BaseException) -> str | None:
    """The reason an output could not be written, when `exc` is the file system's doing (disk full, read-only…)."""
    if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
        return exc.strerror or str(exc)
    if isinstance(exc, duckdb.IOException | duckdb.PermissionException):
        return str(exc).splitlines()[0]
    return None


# --- folders ----------------------------------------------------------------------------------------------------


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
        """Why `folder` may not be replaced by this output (None when it is empty or an earlier one of this kind)."""
        try:
            if not any(folder.iterdir()):
                return None
        except OSError as exc:
            return f"cannot be read ({exc.strerror}); it is left alone"
        marker = Marker.read(folder)
        listed: frozenset[str] | None
        if marker is not None:
            if marker.kind != self.kind:
                return (
                    f"holds an earlier `{marker.kind}` output of oligo-cohort; this is a `{self.kind}` output. "
                    "Choose another folder (or delete that one yourself)"
                )
            listed = marker.entries
        else:
            listed = legacy_listing(folder, self.kind)
            if listed is None:
                shown = _names(sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir()))
                return (
                    f"is not an empty folder nor an earlier `{self.kind}` output of oligo-cohort (it holds {shown}, "
                    f"and no {MARKER}); it is left alone. Choose a new or empty folder"
                )
        extra = foreign_entries(folder, listed)
        if extra:
            return (
                f"is an earlier `{self.kind}` output, but it also holds {len(extra)} file(s) oligo-cohort did not "
                f"write: {_names(extra)}. Move them out (they would be lost) or choose another folder"
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
    def staging(self) -> Iterator[Path]:
        """A new folder beside the destination; when the block ends without error it replaces the destination."""
        if not self.claimed:
            with self, self.staging() as folder:
                yield folder
            return
        staging = self._new_staging()
        try:
            yield staging
            raise_if_interrupted()
            write_marker(staging, self.kind)
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
        parent = self.path.parent
        for _ in range(100):
            staging = parent / f".{self.path.name}.{secrets.token_hex(4)}.partial"
            try:
                staging.mkdir()  # the user's umask, unlike mkdtemp's 0700: the folder becomes the output
            except FileExistsError:
                continue
            except OSError as exc:
                raise DestinationError(f"cannot write in {parent}: {exc.strerror}") from None
            return staging
        raise DestinationError(f"cannot make a staging folder in {parent}")

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
) -> Iterator[Path]:
    """A staging folder for `destination`: a path (claimed here) or a folder a command has claimed already."""
    folder = destination if isinstance(destination, OutputFolder) else OutputFolder(destination, kind, inputs=inputs)
    if folder.kind != kind:
        raise ValueError(f"{folder} is claimed for `{folder.kind}` output, not `{kind}`")
    with folder, folder.staging() as staging:
        yield staging


# --- single files -----------------------------------------------------------------------------------------------


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
        parent = self.path.parent
        for _ in range(100):
            path = parent / f".{self.path.name}.{secrets.token_hex(4)}.partial"
            try:
                # Created with the user's umask (not mkstemp's 0600): the file becomes the output.
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS, 0o666))
            except FileExistsError:
                continue
            except OSError as exc:
                raise DestinationError(f"cannot write in {parent}: {exc.strerror}") from None
            return path
        raise DestinationError(f"cannot make a temporary file in {parent}")


def starts_with_line(expected: str) -> Callable[[Path], bool]:
    """A recogniser: the file's first line(s) are exactly `expected` (a header this tool writes)."""
    wanted = expected.encode("utf-8")

    def recognise(path: Path) -> bool:
        with path.open("rb") as handle:
            head = handle.read(2 * len(wanted))  # room for CRLF line ends
        return head.replace(b"\r\n", b"\n").startswith(wanted)

    return recognise


__all__ = [
    "KINDS",
    "MARKER",
    "DestinationError",
    "Marker",
    "OutputFile",
    "OutputFolder",
    "Protected",
    "folder_entries",
    "foreign_entries",
    "legacy_listing",
    "resolved",
    "staged_output",
    "starts_with_line",
    "write_failure",
    "write_marker",
]
