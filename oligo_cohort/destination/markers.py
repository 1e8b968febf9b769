"""The marker that says what wrote an output folder, and what a folder holds beyond it.

Each output folder holds `.oligo-cohort-output.json`: the tool, its version, the kind of output and every
file and folder it wrote. It is what lets a later run replace the folder, and only the folder, while
naming (never deleting) the files a user added.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from oligo_cohort import __version__

TOOL = "oligo-cohort"
MARKER = ".oligo-cohort-output.json"
MARKER_FORMAT = 1
KINDS = ("screen", "attrition", "report", "accrual", "import", "synth", "review-export", "reviewed-extract")
OS_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


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
