"""Output folders without a marker that look like this tool's: recognised, to say so, and never replaced.

An earlier version wrote no marker, and a marker may have been deleted since. Such a folder is recognised
where it kept a list of what was written (a manifest, a disclosure statement, a mapping report), so that the
refusal can say what it is; it is never replaced, since nothing records what its files held when written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from oligo_cohort.destination.markers import TOOL, _is_relative_entry


def legacy_listing(folder: Path, kind: str) -> frozenset[str] | None:
    """The entries of what looks like an output of this kind without a marker, from the file list it kept itself.

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


# An import folder as earlier versions wrote it: its mapping report's files and header. A format of the past, so
# written out here rather than read from the importer, whose report may change (a test holds them equal today).
LEGACY_IMPORT_REPORT = ("mapping_report.csv", "mapping_report.md")
LEGACY_IMPORT_REPORT_COLUMNS = ("section", "table", "column", "source", "reason", "count", "total", "detail")


def _legacy_import(folder: Path) -> frozenset[str] | None:
    from oligo_cohort.dictionary import tables

    report_csv = LEGACY_IMPORT_REPORT[0]
    try:
        with (folder / report_csv).open(encoding="utf-8") as handle:
            header = handle.readline().rstrip("\r\n")
    except (OSError, UnicodeDecodeError):
        return None
    if header != ",".join(LEGACY_IMPORT_REPORT_COLUMNS):
        return None
    return frozenset(set(LEGACY_IMPORT_REPORT) | {f"{name}.csv" for name in tables()})


_LEGACY: dict[str, Callable[[Path], frozenset[str] | None]] = {
    "screen": _legacy_screen,
    "accrual": _legacy_accrual,
    "attrition": _legacy_attrition,
    "report": _legacy_report,
    "import": _legacy_import,
}
