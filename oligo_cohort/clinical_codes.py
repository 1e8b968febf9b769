"""The clinical codes and thresholds the criteria decide with (`data_dictionary/clinical_codes.yaml`), typed.

One definition of each clinical fact: which topography is the breast, which behaviour is invasive, which modality
confirms oligoprogression, how a performance status maps to pass or fail. Every reader takes them from
`clinical_codes()`: the SQL models (as `codes` in their Jinja context, `oligo_cohort.engines.models`), the pandas
engine, the importers, the synthetic generator and the chart review. By convention a reader names the object
`CODES` (or `codes` in a template), so that `readers()` can say where each entry is read.

The data dictionary (`tables.yaml`) says which values a column may hold; this table says what some of them mean
to a criterion. tests/definitions/test_clinical_codes.py holds each entry to the dictionary's values, and fails when
one of these values is written as a literal anywhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

from oligo_cohort.paths import dictionary_dir, sql_dir
from oligo_cohort.sql_text import literal
from oligo_cohort.yaml_input import load_package_yaml

CODES_FILE = "clinical_codes.yaml"


@dataclass(frozen=True)
class CodeRange:
    """An inclusive range of four-digit codes (ICD-O-3 morphologies), compared as text as the SQL compares them."""

    first: str
    last: str

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"

    def between_sql(self) -> str:
        """The range as SQL: `BETWEEN '8090' AND '8098'`."""
        return f"BETWEEN {literal(self.first)} AND {literal(self.last)}"


@dataclass(frozen=True)
class ClinicalCodes:
    """Every entry of clinical_codes.yaml under its name (see the file for what each means)."""

    version: int
    # tumours
    breast_topography: str
    invasive_behaviour: str
    skin_topography: str
    basal_cell_morphology: CodeRange
    squamous_cell_morphology: CodeRange
    histological_bases: tuple[str, ...]
    non_histological_bases: tuple[str, ...]
    metastatic_at_diagnosis: str
    non_metastatic_at_diagnosis: str
    curative_intent: str
    non_curative_intents: tuple[str, ...]
    # systemic therapy and the drug vocabulary
    metastatic_setting: str
    supportive_drug_class: str
    # imaging and lesions
    pet_modality: str
    distant_location: str
    bone_organ: str
    # response assessments
    control_responses: tuple[str, ...]
    progression_response: str
    # performance status
    who_scales: tuple[str, ...]
    who_highest_passing_score: int
    karnofsky_scale: str
    karnofsky_lowest_passing_score: int
    karnofsky_highest_failing_score: int
    # observations
    pregnancy_observations: tuple[str, ...]
    amenability_observation: str
    consent_observation: str
    medical_risk_observation: str
    compliance_risk_observation: str


@dataclass(frozen=True)
class Entry:
    """One entry as the file states it: for the rendered dictionary and the tests."""

    name: str
    column: str
    value: str | int | tuple[str, ...] | CodeRange
    means: str
    is_prefix: bool = False

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes it names, as text (a range: its two ends)."""
        if isinstance(self.value, CodeRange):
            return (self.value.first, self.value.last)
        if isinstance(self.value, tuple):
            return self.value
        return (str(self.value),)

    def shown(self) -> str:
        """The value as the rendered dictionary shows it: `C50*`, `8090-8098`, `SD, PR, CR`."""
        if self.is_prefix:
            return f"{self.value}*"
        if isinstance(self.value, tuple):
            return ", ".join(self.value)
        return str(self.value)


_PREFIX = re.compile(r"C[0-9]{2}")
_MORPHOLOGY = re.compile(r"[0-9]{4}")


@cache
def entries() -> tuple[Entry, ...]:
    """The entries of clinical_codes.yaml, in file order, each checked for its shape."""
    doc = load_package_yaml(dictionary_dir() / CODES_FILE)
    found: list[Entry] = []
    for name, spec in doc["codes"].items():
        keys = set(spec) - {"column", "means"}
        where = f"{CODES_FILE}: {name}"
        if keys == {"prefix"}:
            value: str | int | tuple[str, ...] | CodeRange = _text(spec["prefix"], where)
            if not _PREFIX.fullmatch(value):
                raise ValueError(f"{where}: a topography prefix is C and two digits, not {value!r}")
        elif keys == {"first", "last"}:
            value = CodeRange(_text(spec["first"], where), _text(spec["last"], where))
            if (
                not (_MORPHOLOGY.fullmatch(value.first) and _MORPHOLOGY.fullmatch(value.last))
                or value.first > value.last
            ):
                raise ValueError(f"{where}: a morphology range is two four-digit codes, first <= last")
        elif keys == {"values"}:
            value = tuple(_text(v, where) for v in spec["values"])
        elif keys == {"value"}:
            value = spec["value"] if isinstance(spec["value"], int) else _text(spec["value"], where)
        else:
            raise ValueError(f"{where}: expected column, means and one of value, values, prefix or first/last")
        found.append(Entry(name, spec["column"], value, " ".join(spec["means"].split()), keys == {"prefix"}))
    return tuple(found)


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value or value != value.strip():
        raise ValueError(f"{where}: {value!r} is not a code (quote numbers-as-codes, e.g. '3')")
    return value


@cache
def clinical_codes() -> ClinicalCodes:
    """The clinical codes, read once per process."""
    doc = load_package_yaml(dictionary_dir() / CODES_FILE)
    values = {entry.name: entry.value for entry in entries()}
    expected = {f.name for f in fields(ClinicalCodes)} - {"version"}
    if set(values) != expected:
        missing, unknown = sorted(expected - set(values)), sorted(set(values) - expected)
        raise ValueError(f"{CODES_FILE}: entries missing {missing}, unknown {unknown}")
    codes = ClinicalCodes(version=int(doc["version"]), **values)  # type: ignore[arg-type]
    for f in fields(ClinicalCodes):
        wanted = {"int": int, "str": str, "CodeRange": CodeRange}.get(str(f.type), tuple)
        if not isinstance(getattr(codes, f.name), wanted):
            raise ValueError(f"{CODES_FILE}: {f.name} must be {f.type}")
    return codes


# --------------------------------------------------------------------------------------------------------------
# Who reads what


def _package_dir() -> Path:
    return Path(__file__).resolve().parent


def readers(name: str) -> tuple[str, ...]:
    """The files that read the entry `name`: SQL models (`codes.<name>`), package modules (`CODES.<name>`)."""
    return tuple(
        path for path, text in _sources() if re.search(rf"\b(?:codes|CODES|clinical_codes\(\))\.{name}\b", text)
    )


@cache
def _sources() -> tuple[tuple[str, str], ...]:
    """(path as the repository names it, text) of every SQL model and package module."""
    found = [
        (f"sql/{path.relative_to(sql_dir()).as_posix()}", path.read_text(encoding="utf-8"))
        for path in sorted(sql_dir().rglob("*.sql"))
    ]
    package = _package_dir()
    found += [
        (f"oligo_cohort/{path.relative_to(package).as_posix()}", path.read_text(encoding="utf-8"))
        for path in sorted(package.rglob("*.py"))
        if "_resources" not in path.parts and path.name != "clinical_codes.py"
    ]
    return tuple(found)


def render_markdown() -> str:
    """The clinical codes as a section of the rendered data dictionary: each entry, its meaning and its readers."""
    lines = [
        "## Clinical codes",
        "",
        f"Generated from `data_dictionary/{CODES_FILE}` (version {clinical_codes().version}): what some of the",
        "values above mean to a criterion. Every engine, importer and tool reads them from that one file",
        "(`oligo_cohort/clinical_codes.py`); each entry lists the files that read it. A value ending in `*`",
        "is a prefix: the codes starting with it.",
        "",
        "| entry | column | value | means | read by |",
        "|---|---|---|---|---|",
    ]
    for entry in entries():
        read_by = "<br>".join(f"`{path}`" for path in readers(entry.name)) or "(no reader)"
        lines.append(f"| `{entry.name}` | {entry.column} | `{entry.shown()}` | {entry.means} | {read_by} |")
    return "\n".join(lines) + "\n"
