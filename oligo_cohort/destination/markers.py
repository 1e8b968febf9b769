"""The marker that says what wrote an output folder, and what a folder holds beyond it or changed in it.

Each output folder holds `.oligo-cohort-output.json`: the tool, its version, the kind of output, every file and
folder it wrote and each file's SHA-256. It is what lets a later run replace the folder, and only the folder:
files a user added are named, files changed since they were written are named, and neither is ever deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from oligo_cohort import __version__
from oligo_cohort.file_kinds import with_article

TOOL = "oligo-cohort"
MARKER = ".oligo-cohort-output.json"
MARKER_FORMAT = 2  # 2: each file's SHA-256 (`sha256`); 1 listed the files only
KINDS = ("screen", "attrition", "report", "accrual", "import", "synth", "review-export", "reviewed-extract")
OS_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_SHA256 = re.compile(r"[0-9a-f]{64}")
_BLOCK = 1 << 20


# The outputs that are extracts, to be screened, by the command that writes each.
EXTRACT_WRITERS = {"import": "import", "synth": "synth", "reviewed-extract": "review import"}


def what_was_written(marker: Marker) -> str:
    """What the command that left `marker` wrote, as a reader who gave the folder to another command needs to
    hear it: "an extract (written by `oligo-cohort synth`)", "a `screen` output of oligo-cohort"."""
    writer = EXTRACT_WRITERS.get(marker.kind)
    if writer is not None:
        return f"an extract (written by `oligo-cohort {writer}`)"
    return with_article(f"`{marker.kind}` output of oligo-cohort")


class MarkerError(Exception):
    """A file with the marker's name that cannot be taken for one: the message says what is wrong with it."""


@dataclass(frozen=True)
class Marker:
    """What wrote an output folder: kind of output, version, the entries written (folders end with `/`) and each
    file's SHA-256 (None in a marker of an earlier version, which recorded none)."""

    kind: str
    version: str
    entries: frozenset[str]
    checksums: Mapping[str, str] | None = field(default=None, compare=False)

    def to_json(self) -> str:
        info = {
            "written_by": TOOL,
            "marker_format": MARKER_FORMAT,
            "output": self.kind,
            "version": self.version,
            "files": sorted(self.entries),
            "sha256": dict(sorted((self.checksums or {}).items())),
        }
        return json.dumps(info, indent=2) + "\n"

    @classmethod
    def read(cls, folder: Path) -> Marker | None:
        """The marker of `folder`, or None when it has none or it cannot be read as one (see `read_marker`)."""
        try:
            return read_marker(folder)
        except MarkerError:
            return None


def read_marker(folder: Path) -> Marker | None:
    """The marker of `folder`; None when there is none. A file of that name that is not a marker this tool wrote
    (a link, empty, cut short, not JSON, another tool's, its lists damaged) is a MarkerError saying why."""
    path = folder / MARKER
    if not os.path.lexists(path):
        return None
    if path.is_symlink() or not path.is_file():
        raise MarkerError("it is not a regular file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MarkerError(f"it cannot be read: {exc.strerror}") from None
    if not data.strip():
        raise MarkerError("it is empty")
    try:
        info = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise MarkerError("it is not UTF-8 text") from None
    except ValueError:
        raise MarkerError("it is not valid JSON (cut short or edited?)") from None
    if not isinstance(info, dict):
        raise MarkerError("it is not a JSON object")
    if info.get("written_by") != TOOL:
        raise MarkerError("it was not written by oligo-cohort")
    kind, files = info.get("output"), info.get("files")
    if not isinstance(kind, str) or not kind:
        raise MarkerError("it names no kind of output")
    if not isinstance(files, list) or not all(isinstance(f, str) and _is_relative_entry(f) for f in files):
        raise MarkerError("its list of files is damaged")
    entries = frozenset(files)
    form = info.get("marker_format", 1)
    if not isinstance(form, int) or isinstance(form, bool) or form < 1:
        raise MarkerError("its format is damaged")
    checksums: dict[str, str] | None = None
    if form >= 2:
        sums = info.get("sha256")
        if not isinstance(sums, dict) or not all(isinstance(v, str) and _SHA256.fullmatch(v) for v in sums.values()):
            raise MarkerError("its checksums are damaged")
        files_listed = {name for name in entries if not name.endswith("/")}
        if set(sums) != files_listed:
            raise MarkerError("its checksums do not match its list of files")
        checksums = dict(sums)
    return Marker(kind, str(info.get("version", "")), entries, checksums)


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
    """List everything in `folder` (a finished output) with each file's SHA-256 in its marker, the last file
    written."""
    found = {name: what for name, what in folder_entries(folder).items() if name != MARKER and what != "other"}
    checksums = {name: file_sha256(folder / name) for name, what in found.items() if what == "file"}
    marker = Marker(kind, __version__, frozenset(found), checksums)
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


def changed_entries(folder: Path, checksums: Mapping[str, str], known: dict[tuple[int, ...], str]) -> list[str]:
    """The files of `folder` whose content is no longer what the marker's `checksums` record (a file the marker
    lists and the folder no longer holds has lost nothing). `known` keeps the digests computed in this run, by
    file identity and times, so that checking a folder again reads only what changed since."""
    changed = []
    for name, digest in sorted(checksums.items()):
        if Path(name).name in OS_LITTER:
            continue
        path = folder / name
        if not os.path.lexists(path):
            continue
        try:
            found = _known_sha256(path, known)
        except OSError:
            found = None  # cannot be read: cannot be shown unchanged
        if found != digest:
            changed.append(name)
    return changed


def _known_sha256(path: Path, known: dict[tuple[int, ...], str]) -> str | None:
    """The SHA-256 of the regular file `path` (None when it is no regular file), computed once per file state."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        key = file_state(info)
        if key not in known:
            known[key] = sha256_of_fd(fd)
        return known[key]
    finally:
        os.close(fd)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        return sha256_of_fd(fd)
    finally:
        os.close(fd)


def file_state(info: os.stat_result) -> tuple[int, ...]:
    """What tells one state of a file from another (its `fstat`): which file it is, its size and its times. A
    digest kept by this key is read again once the file changes (unless rewritten to the same size within one
    tick of the file system's clock)."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def sha256_of_fd(fd: int) -> str:
    """The SHA-256 of an open file, read in blocks from where it stands."""
    digest = hashlib.sha256()
    while block := os.read(fd, _BLOCK):
        digest.update(block)
    return digest.hexdigest()
