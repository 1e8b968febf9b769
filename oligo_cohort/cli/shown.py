"""Paths and commands as a user types them here: relative to the current folder, quoted for a shell, and the
command as this user runs it (`oligo-cohort`, `.venv/bin/oligo-cohort` or `python -m oligo_cohort`).
"""

import os
import shlex
import shutil
import sys
from pathlib import Path


def shown_path(path: str | Path) -> str:
    """A path as a user types it here: relative to the current folder when inside it, else absolute; quoted for a
    shell when it needs to be."""
    absolute = Path(os.path.abspath(path))
    try:
        text = str(absolute.relative_to(Path.cwd())) or "."
    except ValueError:
        text = str(absolute)
    return shlex.quote(text)


def command_prefix() -> str:
    """How this user runs oligo-cohort from the current folder: `oligo-cohort` when the shell finds this very
    command, else its path (`.venv/bin/oligo-cohort`), or `python -m oligo_cohort` as it was started."""
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if started is not None and started.name == "__main__.py" and started.parent.name == "oligo_cohort":
        return f"{shown_path(sys.executable)} -m oligo_cohort"
    script = started if started is not None and started.name == "oligo-cohort" and started.is_file() else None
    # Called from Python (a notebook, the tests): the command installed beside this interpreter.
    script = script or Path(sys.executable).parent / "oligo-cohort"
    if not script.is_file():
        return "oligo-cohort"
    found = shutil.which("oligo-cohort")
    if found and Path(found).resolve() == script.resolve():
        return "oligo-cohort"
    return shown_path(script)


def command_line(*words: str | Path) -> str:
    """An oligo-cohort command that runs as printed from the current folder (paths shown as `shown_path`)."""
    shown = [shown_path(w) if isinstance(w, Path) else shlex.quote(w) for w in words]
    return " ".join([command_prefix(), *shown])
