"""Protocol parameters: the numbers the criteria use, read from a versioned protocol file.

An amendment is a new YAML file, not a code change. The package ships `cosmo`
(the current text) and `cosmo-earlier-amendment`; `--protocol` takes one of
those names or the path of a user's own file.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Literal

from oligo_cohort.errors import UsageError

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


SHIPPED = ("cosmo", "cosmo-earlier-amendment")


def shipped_protocols() -> list[str]:
    """Names of the protocol files that ship with the package."""
    return list(SHIPPED)


def load_protocol(name_or_path: str | Path = "cosmo") -> Protocol:
    """Read a shipped protocol by name, or a protocol YAML file by path."""
    text_name = str(name_or_path)
    if text_name in SHIPPED:
        ref = resources.files("oligo_cohort.protocols").joinpath(f"{text_name}.yaml")
        return _parse(ref.read_text(encoding="utf-8"), origin=f"{text_name} (shipped)")
    path = Path(name_or_path)
    if not path.is_file():
        raise UsageError(
            f"protocol {text_name!r} is neither a shipped protocol ({', '.join(SHIPPED)}) nor a readable file"
        )
    return _parse(path.read_text(encoding="utf-8"), origin=str(path))


def _parse(text: str, origin: str) -> Protocol:
    import yaml  # only when a protocol is read: the CLI starts without it

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"protocol file {origin}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("parameters"), dict):
        raise UsageError(f"protocol file {origin}: expected a mapping with a 'parameters' mapping")
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
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise UsageError(f"protocol file {origin}: unknown parameter(s) {', '.join(unknown)}")
    missing = sorted(set(known) - set(values))
    if missing:
        raise UsageError(f"protocol file {origin}: missing parameter(s) {', '.join(missing)}")
    problems: list[str] = []
    coerced: dict[str, object] = {}
    for name, value in values.items():
        try:
            if name == "reference":
                if str(value) not in ("line_start", "nadir"):
                    raise ValueError("must be line_start or nadir")
                coerced[name] = str(value)
            elif known[name] == "int":
                number = float(value)  # type: ignore[arg-type]
                if not math.isfinite(number) or number != int(number):
                    raise ValueError("must be a whole number")
                coerced[name] = int(number)
            else:
                coerced[name] = float(value)  # type: ignore[arg-type]
                if not math.isfinite(coerced[name]):  # type: ignore[arg-type]
                    raise ValueError("must be a finite number")
        except (TypeError, ValueError) as exc:
            problems.append(f"{name}={value!r}: {exc}")
            continue
        if name != "reference" and coerced[name] < 0:  # type: ignore[operator]
            problems.append(f"{name}={value!r}: must not be negative")
    if problems:
        raise UsageError(f"protocol file {origin}: " + "; ".join(problems))
    params = Parameters(**coerced)  # type: ignore[arg-type]
    if params.imaging_window_earliest_days > params.imaging_window_latest_days:
        raise UsageError(f"protocol file {origin}: imaging_window_earliest_days is after imaging_window_latest_days")
    if params.pet_confirmation_tolerance_days > params.pet_confirmation_days:
        raise UsageError(f"protocol file {origin}: pet_confirmation_tolerance_days exceeds pet_confirmation_days")
    return params
