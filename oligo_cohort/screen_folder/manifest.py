"""manifest.json of a screen folder: what the screen recorded of its run, read back and checked value by value.

The manifest is what a folder says of itself: the protocol (name, version, title, source) and all of its parameters,
the cut-off date, the engine, worklist mode, and, where recorded, the rows of each file, the patients per status, the
checksums of the files screened and the extract's path. It is read as JSON (UTF-8, no key given twice: JSON keeps the
last silently), each value checked for its kind, the cut-off for a date the screen would have taken, and the
parameters exactly as a protocol file's are, so that a result is never computed under a protocol the screen did not
run. The folder's reader (`oligo_cohort.screen_folder`) holds the CSV files to the counts it records.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from oligo_cohort.criteria import STATUSES
from oligo_cohort.dictionary import EARLIEST_PLAUSIBLE_DATE
from oligo_cohort.errors import UsageError
from oligo_cohort.problems import shortened
from oligo_cohort.protocol import Parameters, Protocol, load_protocol
from oligo_cohort.user_files import UserFileProblem, decode_text, file_bytes

MANIFEST = "manifest.json"


def _manifest_json(path: Path, problems: list[str]) -> dict | None:
    """The manifest as a JSON object (UTF-8, no key twice), or None with the problem listed."""
    where = MANIFEST
    try:
        text = decode_text(file_bytes(path), latin1=False).text
    except UserFileProblem as exc:
        problems.append(f"{where}: {exc.reason}")
        return None
    try:
        info = json.loads(text, object_pairs_hook=_no_key_twice)
    except json.JSONDecodeError as exc:
        problems.append(f"{where} line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})")
        return None
    except _KeyTwice as exc:
        problems.append(f"{where}: key {str(exc)!r} is given twice")
        return None
    except (RecursionError, ValueError) as exc:  # nested thousands deep; an integer of thousands of digits
        problems.append(f"{where}: a value cannot be read ({shortened(' '.join(str(exc).split()), 120)})")
        return None
    if not isinstance(info, dict):
        problems.append(f"{where}: expected a JSON object, found {type(info).__name__}")
        return None
    return info


def read_manifest(path: Path, problems: list[str]) -> dict | None:
    """The manifest's values as the result needs them (Protocol, date, …), or None with the problems listed."""
    where = MANIFEST
    info = _manifest_json(path, problems)
    if info is None:
        return None
    before = len(problems)
    protocol_info = info.get("protocol")
    if not isinstance(protocol_info, dict):
        problems.append(f"{where}: 'protocol' is missing or not an object")
        protocol_info = {}
    for key in ("name", "version", "source"):
        if not isinstance(protocol_info.get(key), str) or (key != "source" and not protocol_info.get(key)):
            problems.append(f"{where}: protocol.{key} is missing or not text (found {_shown(protocol_info.get(key))})")
    title = protocol_info.get("title")  # recorded since the report's provenance reads it; an older folder's is its name
    if title is not None and not (isinstance(title, str) and title.strip()):
        problems.append(f"{where}: protocol.title is not text (found {_shown(title)})")
    parameters = _parameters(info.get("parameters"), problems)
    as_of = _date(info.get("as_of"))
    today = dt.date.today()
    if as_of is None:
        problems.append(f"{where}: as_of {_shown(info.get('as_of'))} is not a date YYYY-MM-DD")
    elif not EARLIEST_PLAUSIBLE_DATE <= as_of <= today:
        # The screen refuses any other cut-off (docs/decisions.md D36): this one was edited.
        problems.append(f"{where}: as_of {as_of} is not a cut-off from {EARLIEST_PLAUSIBLE_DATE} to today ({today})")
    if not isinstance(info.get("engine"), str):
        problems.append(f"{where}: engine is missing or not text (found {_shown(info.get('engine'))})")
    if not isinstance(info.get("worklist"), bool):
        problems.append(f"{where}: worklist is missing or not true/false (found {_shown(info.get('worklist'))})")
    rows = info.get("rows")
    if rows is not None and not (isinstance(rows, dict) and all(_whole(v) for v in rows.values())):
        problems.append(f"{where}: rows {_shown(rows)} is not an object of row counts")
    statuses = info.get("status")
    if statuses is not None and not (
        isinstance(statuses, dict) and set(statuses) <= set(STATUSES) and all(_whole(v) for v in statuses.values())
    ):
        problems.append(f"{where}: status {_shown(statuses)} is not an object of patients per status")
    checksums = _input_checksums(info, problems)
    source = info.get("source")
    if source is not None and not isinstance(source, str):
        problems.append(f"{where}: source {_shown(source)} is not the path of an extract")
    if len(problems) > before or parameters is None:
        return None
    protocol = Protocol(
        name=protocol_info["name"],
        version=protocol_info["version"],
        title=title or protocol_info["name"],
        parameters=parameters,
        source=protocol_info["source"],
    )
    return {
        "protocol": protocol,
        "as_of": as_of,
        "engine": info["engine"],
        "worklist": info["worklist"],
        "rows": rows,
        "status": statuses,
        "input_checksums": checksums,
        "screened_source": source or "",
    }


def _input_checksums(info: dict, problems: list[str]) -> dict[str, str]:
    """The manifest's `input_files` (file -> SHA-256), empty when absent; anything else is a problem listed."""
    files = info.get("input_files")
    if files is None:
        return {}
    if not (isinstance(files, dict) and all(isinstance(v, str) for v in files.values())):
        problems.append(f"{MANIFEST}: input_files {_shown(files)} is not an object of file checksums")
        return {}
    return dict(files)


class _KeyTwice(ValueError):
    """A JSON object naming one key twice (json keeps the last silently)."""


def _no_key_twice(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise _KeyTwice(key)
    return dict(pairs)


def _shown(value: object) -> str:
    return shortened(repr(value), 80)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _date(value: object) -> dt.date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _parameters(values: object, problems: list[str]) -> Parameters | None:
    """The protocol parameters recorded, checked exactly as a protocol file's are."""
    if not isinstance(values, dict):
        problems.append(f"{MANIFEST}: 'parameters' is missing or not an object")
        return None
    names = [f.name for f in dataclasses.fields(Parameters)]
    missing = [n for n in names if n not in values]
    if missing:
        problems.append(f"{MANIFEST}: parameters lack {', '.join(missing)}")
        return None
    try:
        # The derived window bounds (pet_window_*) are recorded too; they follow from the others.
        return load_protocol("cosmo").with_overrides({n: values[n] for n in names}).parameters
    except UsageError as exc:
        problems.append(f"{MANIFEST}: {str(exc).replace('protocol file --set: ', 'parameters: ')}")
        return None
