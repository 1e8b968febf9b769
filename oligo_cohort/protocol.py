"""Protocol parameters: the numbers the criteria use, read from a versioned protocol file.

An amendment is a new YAML file, not a code change. The package ships `cosmo`
(the current text) and `cosmo-earlier-amendment`; `--protocol` takes one of
those names or the path of a user's own file.
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Literal

from oligo_cohort.counts_in_words import names_of
from oligo_cohort.dictionary import NUMBER_PATTERN
from oligo_cohort.errors import UsageError
from oligo_cohort.problems import shortened
from oligo_cohort.yaml_input import load_yaml_file, load_yaml_text

ReferenceStrategy = Literal["line_start", "nadir"]


@dataclass(frozen=True)
class Parameters:
    """Every tunable number of the eligibility rules; values come only from a protocol file."""

    size_increase_pct: int
    size_floor_mm: float
    suv_increase_pct: int
    max_progressive_distant_lesions: int
    max_progressive_organs: int
    reference: ReferenceStrategy
    reference_window_before_days: int
    reference_window_after_days: int
    registration_days: int
    imaging_window_earliest_days: int
    imaging_window_latest_days: int
    pet_confirmation_days: int
    pet_confirmation_tolerance_days: int
    min_months_on_line: int
    max_line_number: int
    max_lines_before_scan: int
    regimen_window_days: int
    line_gap_days: int
    line_end_grace_days: int
    performance_status_window_days: int
    other_malignancy_years: int
    min_age_years: int

    @property
    def pet_window_start_days(self) -> int:
        """First day after S on which a confirmation PET counts (42 - 7 = 35)."""
        return self.pet_confirmation_days - self.pet_confirmation_tolerance_days

    @property
    def pet_window_end_days(self) -> int:
        """Last day after S on which a confirmation PET counts (42 + 7 = 49)."""
        return self.pet_confirmation_days + self.pet_confirmation_tolerance_days

    def as_row(self) -> dict[str, object]:
        """Parameters as one flat row (derived window bounds included), for the SQL `params` table."""
        row = dataclasses.asdict(self)
        row["pet_window_start_days"] = self.pet_window_start_days
        row["pet_window_end_days"] = self.pet_window_end_days
        return row


@dataclass(frozen=True)
class Protocol:
    """A named, versioned set of eligibility parameters."""

    name: str
    version: str
    title: str
    parameters: Parameters
    source: str  # the file it was read from

    def with_overrides(self, overrides: dict[str, str]) -> Protocol:
        """The same protocol with some parameters changed (e.g. from `--set size_floor_mm=10`)."""
        current = dataclasses.asdict(self.parameters)
        for key, raw in overrides.items():
            if key not in current:
                raise UsageError(f"unknown protocol parameter {key!r}; known: {', '.join(sorted(current))}")
            current[key] = raw
        params = _coerce_parameters(current, origin="--set")
        label = ", ".join(f"{k}={v}" for k, v in sorted(overrides.items()))
        return dataclasses.replace(self, parameters=params, version=f"{self.version} ({label})")


def parameter_settings(items: list[str], option: str = "--set") -> dict[str, str]:
    """`PARAM=VALUE` options as a mapping (names and values trimmed); a parameter set twice is refused, since
    which of the two values counts would otherwise depend on the order they were typed in."""
    settings: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"{option} {item!r}: expected PARAM=VALUE")
        if key in settings:
            raise UsageError(f"{option} {key} is given twice ({settings[key]!r} and {value.strip()!r}): give it once")
        settings[key] = value.strip()
    return settings


# The range each parameter may take (inclusive) and its unit: wide enough for any amendment, narrow enough that a
# typing error (`1e300`, `-7`, `36500` days) is refused with its name and value instead of screening nonsense.
# A protocol's name, version and title: labels, never longer than this.
MAX_LABEL_CHARACTERS = 300

_DAYS = (0, 3650, "days")
_PERCENT = (0, 1000, "%")
_COUNT = (0, 100, "")
PARAMETER_RANGES: dict[str, tuple[float, float, str]] = {
    "size_increase_pct": _PERCENT,
    "size_floor_mm": (0, 1000, "mm"),
    "suv_increase_pct": _PERCENT,
    "max_progressive_distant_lesions": _COUNT,
    "max_progressive_organs": _COUNT,
    "reference_window_before_days": _DAYS,
    "reference_window_after_days": _DAYS,
    "registration_days": _DAYS,
    "imaging_window_earliest_days": _DAYS,
    "imaging_window_latest_days": _DAYS,
    "pet_confirmation_days": _DAYS,
    "pet_confirmation_tolerance_days": _DAYS,
    "min_months_on_line": (0, 120, "months"),
    "max_line_number": _COUNT,
    "max_lines_before_scan": _COUNT,
    "regimen_window_days": _DAYS,
    "line_gap_days": _DAYS,
    "line_end_grace_days": _DAYS,
    "performance_status_window_days": _DAYS,
    "other_malignancy_years": (0, 100, "years"),
    "min_age_years": (0, 120, "years"),
}
REFERENCE_STRATEGIES = ("line_start", "nadir")

SHIPPED = ("cosmo", "cosmo-earlier-amendment")


def shipped_protocols() -> list[str]:
    """Names of the protocol files that ship with the package."""
    return list(SHIPPED)


def load_protocol(name_or_path: str | Path = "cosmo") -> Protocol:
    """Read a shipped protocol by name, or a protocol YAML file by path."""
    text_name = str(name_or_path)
    if text_name in SHIPPED:
        ref = resources.files("oligo_cohort.protocols").joinpath(f"{text_name}.yaml")
        origin = f"{text_name} (shipped)"
        return _parse(load_yaml_text(ref.read_text(encoding="utf-8"), f"protocol file {origin}"), origin)
    from oligo_cohort.file_kinds import file_kind  # only when a file is named: a shipped protocol needs none

    path = Path(name_or_path)
    if file_kind(path) == "missing":  # anything else that is not a file is named by load_yaml_file
        raise UsageError(
            f"protocol {text_name!r} is neither a shipped protocol ({', '.join(SHIPPED)}) nor a readable file"
        )
    return _parse(load_yaml_file(path, f"protocol file {path}"), origin=str(path))


def _parse(doc: object, origin: str) -> Protocol:
    if not isinstance(doc, dict) or not isinstance(doc.get("parameters"), dict):
        raise UsageError(f"protocol file {origin}: expected a mapping with a 'parameters' mapping")
    for key in ("name", "version", "title"):
        value = doc.get(key)
        if isinstance(value, float):  # `version: 1.10` reads as the number 1.1: the manifest would record 1.1
            raise UsageError(
                f"protocol file {origin}: '{key}' reads as the number {value!r}: put it in quotes to keep it as written"
            )
        if key in doc and (isinstance(value, bool) or not isinstance(value, str | int)):
            raise UsageError(f"protocol file {origin}: '{key}' must be a line of text")
        # Shown in every output (manifest, report, CSV): one line of text, as long as a label needs, no more.
        text = str(value) if key in doc else ""
        if len(text) > MAX_LABEL_CHARACTERS or any(unicodedata.category(c) == "Cc" for c in text):
            raise UsageError(
                f"protocol file {origin}: '{key}' must be one line of text of at most {MAX_LABEL_CHARACTERS} "
                f"characters, without control characters (found {len(text):,} characters: {shortened(text)!r})"
            )
    for key in ("name", "version"):
        if not doc.get(key):
            raise UsageError(f"protocol file {origin}: '{key}' is missing")
    params = _coerce_parameters(doc["parameters"], origin=origin)
    return Protocol(
        name=str(doc["name"]),
        version=str(doc["version"]),
        title=str(doc.get("title", doc["name"])),
        parameters=params,
        source=origin,
    )


def _coerce_parameters(values: dict[str, object], origin: str) -> Parameters:
    """Check a protocol file's parameters: every one present, none unknown, each of its type."""
    known = {f.name: f.type for f in fields(Parameters)}
    unknown = sorted(repr(name) for name in set(values) - set(known))  # quoted: `'size_floor_mm '` shows its space
    if unknown:
        raise UsageError(f"protocol file {origin}: unknown {names_of('parameter', unknown)}")
    missing = sorted(set(known) - set(values))
    if missing:
        raise UsageError(f"protocol file {origin}: missing {names_of('parameter', missing)}")
    problems: list[str] = []
    coerced: dict[str, object] = {}
    for name, value in values.items():
        try:
            coerced[name] = _parameter_value(name, value, whole=known[name] == "int")
        except ValueError as exc:
            problems.append(f"{name}={_shown(value)}: {exc}")
    if problems:
        raise UsageError(f"protocol file {origin}: " + "; ".join(problems))
    params = Parameters(**coerced)  # type: ignore[arg-type]
    if params.imaging_window_earliest_days > params.imaging_window_latest_days:
        raise UsageError(f"protocol file {origin}: imaging_window_earliest_days is after imaging_window_latest_days")
    if params.pet_confirmation_tolerance_days > params.pet_confirmation_days:
        raise UsageError(f"protocol file {origin}: pet_confirmation_tolerance_days exceeds pet_confirmation_days")
    return params


def _parameter_value(name: str, value: object, *, whole: bool) -> object:
    """One parameter's value checked: its kind (a number, not a boolean; a whole number of days) and its range.

    A value from `--set` arrives as text and must be written as a number is in an extract (`NUMBER_PATTERN`:
    not `1_000`, `inf` or `nan`); a value in the file must be a YAML number (`true` is not one).
    """
    if name == "reference":
        if not isinstance(value, str) or value not in REFERENCE_STRATEGIES:
            raise ValueError(f"must be {' or '.join(REFERENCE_STRATEGIES)}")
        return value
    if isinstance(value, bool):
        raise ValueError("a boolean (true/false), not a number")
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 40 or not re.fullmatch(NUMBER_PATTERN, text):
            raise ValueError("not a number")
        value = int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else float(text)
    if not isinstance(value, int | float):
        raise ValueError("not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("not a finite number")
    low, high, unit = PARAMETER_RANGES[name]
    if not low <= value <= high:
        raise ValueError(f"out of range: from {low:g} to {high:g}{' ' + unit if unit else ''}")
    if whole:
        if value != int(value):
            raise ValueError("must be a whole number")
        return int(value)
    return float(value)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
