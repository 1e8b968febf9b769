"""The machine-readable data dictionary: input tables, columns and the drug vocabulary.

Validation (`oligo_cohort/validate/`) is generated from these definitions, and
`render_markdown()` turns them into the human-readable dictionary, so the
contract with data providers is written down once.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from oligo_cohort.clinical_codes import render_markdown as render_clinical_codes
from oligo_cohort.paths import dictionary_dir
from oligo_cohort.yaml_input import load_package_yaml

ColumnType = Literal["string", "date", "number", "integer", "boolean", "code"]

# How a number is written in an extract (and in a protocol file): optional sign, ASCII digits with an optional
# decimal point, optional exponent. Nothing else: not `1_000` or `2_4` (which Python's float() and DuckDB's casts
# accept), not `inf`/`nan`, not `0x1F`, not `4,000`. One rule, used by validation (SQL) and by protocol files.
NUMBER_PATTERN = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
# A number is kept to this many decimals (0.001 mm for a size), exactly, so that "20 % larger" is decided without
# floating-point error (docs/decisions.md D63). A value with more is rounded to the nearest and reported; digits
# below ROUNDING_NOISE are a binary fraction's own error (a size computed as 1.5 cm * 10 is 15.000000000000002),
# not a measurement, and are rounded away without a word.
NUMBER_DECIMALS = 3
ROUNDING_NOISE = 1e-9
# Dates before this are placeholders or typing errors (criteria.md "Time"), as are dates after the day of the run.
EARLIEST_PLAUSIBLE_DATE = dt.date(1900, 1, 1)


@dataclass(frozen=True)
class Column:
    """One column of an input table, with the rules its values must follow."""

    name: str
    type: ColumnType
    description: str
    required: bool = False
    unique: bool = False
    values: tuple[str, ...] = ()
    normalise: str | None = None
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    plausible_max: float | None = None


def sql_type(column: Column) -> str:
    """The SQL type a column is typed to on loading (every engine reads these types)."""
    return {
        "string": "VARCHAR",
        "code": "VARCHAR",
        "date": "DATE",
        "number": f"DECIMAL(12, {NUMBER_DECIMALS})",
        "integer": "INTEGER",
        "boolean": "BOOLEAN",
    }[column.type]


@dataclass(frozen=True)
class Table:
    """One input table: whether an extract must have it, its key and its columns in contract order."""

    name: str
    required: bool
    key: tuple[str, ...]
    description: str
    columns: tuple[Column, ...]
    unique_together: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        """The column of that name."""
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in contract order."""
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class Drug:
    """One vocabulary drug: its class decides `inc_therapy_class`, its components decide regimen membership."""

    drug: str
    drug_class: str
    subclass: str
    atc: str
    former_atc: str
    regimen_components: tuple[str, ...]
    note: str


@cache
def tables() -> dict[str, Table]:
    """Every input table of the canonical model, in contract order."""
    doc = load_package_yaml(dictionary_dir() / "tables.yaml")
    result: dict[str, Table] = {}
    for table_name, spec in doc["tables"].items():
        columns = tuple(
            Column(
                name=col_name,
                type=col["type"],
                description=col.get("description", ""),
                required=bool(col.get("required", False)),
                unique=bool(col.get("unique", False)),
                values=tuple(str(v) for v in col.get("values", ())),
                normalise=col.get("normalise"),
                pattern=col.get("pattern"),
                min=col.get("min"),
                max=col.get("max"),
                plausible_max=col.get("plausible_max"),
            )
            for col_name, col in spec["columns"].items()
        )
        result[table_name] = Table(
            name=table_name,
            required=bool(spec["required"]),
            key=tuple(spec["key"]),
            description=spec.get("description", ""),
            columns=columns,
            unique_together=tuple(spec.get("unique_together", ())),
        )
    return result


@cache
def drugs() -> tuple[Drug, ...]:
    """The drug vocabulary (data_dictionary/drugs.csv)."""
    with (dictionary_dir() / "drugs.csv").open(encoding="utf-8", newline="") as handle:
        return tuple(
            Drug(
                drug=row["drug"],
                drug_class=row["drug_class"],
                subclass=row["subclass"],
                atc=row["atc"],
                former_atc=row["former_atc"],
                regimen_components=tuple(row["regimen_components"].split(";")),
                note=row["note"],
            )
            for row in csv.DictReader(handle)
        )


@cache
def drug_aliases() -> dict[str, str]:
    """Other spellings (brand names, biosimilar suffixes, SC/IV forms) → vocabulary drug name."""
    with (dictionary_dir() / "drug_aliases.csv").open(encoding="utf-8", newline="") as handle:
        return {row["alias"]: row["drug"] for row in csv.DictReader(handle)}


def render_markdown() -> str:
    """The data dictionary as Markdown, for data providers (docs/data-dictionary.md)."""
    lines = [
        "# Data dictionary",
        "",
        "Generated from `data_dictionary/tables.yaml`, `drugs.csv` and `drug_aliases.csv` by",
        "`oligo-cohort dictionary`; do not edit by hand.",
        "",
        "An extract is a folder holding one `<table>.csv` or `<table>.parquet` per table below, or a",
        "DuckDB database file with tables of these names. Dates are ISO `YYYY-MM-DD`; an empty cell is",
        "missing; codes are matched case-insensitively; ids are strings (leading zeros matter). White",
        "space (Unicode's: spaces, tabs, line breaks, no-break and other wide spaces) is removed from",
        "either end of every value, in every kind of file; a value of white space alone is missing.",
        "",
        "A CSV file has a header naming each column once, and every record has as many fields as the",
        "header. A number is written with ASCII digits, an optional sign, decimal point and exponent",
        "(`12`, `-0.5`, `1e3`; not `1_000`, `4,000`, `inf` or `nan`). A date later than the day of the run",
        f"or before {EARLIEST_PLAUSIBLE_DATE.isoformat()} is implausible: a finding, and read as missing (a record whose own",
        "date it is, such as a study's, is then left out).",
        f"A number is kept to {NUMBER_DECIMALS} decimals ({10**-NUMBER_DECIMALS:g} mm for a size), exactly: a value written with more",
        f"is rounded to the nearest {10**-NUMBER_DECIMALS:g}, with a finding, as a rule may decide otherwise on the rounded value.",
        "",
    ]
    for table in tables().values():
        need = "required" if table.required else "optional"
        lines += [f"## {table.name} ({need})", "", table.description, ""]
        lines += ["| column | type | required | allowed values / rule | description |", "|---|---|---|---|---|"]
        for col in table.columns:
            rule = _rule_text(col)
            req = "yes, unique" if col.required and col.unique else ("yes" if col.required else "no")
            lines.append(f"| {col.name} | {col.type} | {req} | {rule} | {col.description} |")
        if table.unique_together:
            lines += ["", f"Unique together: {', '.join(table.unique_together)}."]
        lines.append("")
    lines += [
        "## Drug vocabulary",
        "",
        "Class decides `inc_therapy_class`; `supportive` drugs never start or define a line of therapy.",
        "Drugs sharing a regimen component substitute for each other (same line).",
        "",
        "| drug | class | subclass | ATC | former ATC | regimen components | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in drugs():
        components = ", ".join(d.regimen_components)
        lines.append(
            f"| {d.drug} | {d.drug_class} | {d.subclass} | {d.atc} | {d.former_atc} | {components} | {d.note} |"
        )
    lines += ["", "### Accepted other spellings", "", "| spelling | read as |", "|---|---|"]
    lines += [f"| {alias} | {drug} |" for alias, drug in sorted(drug_aliases().items())]
    lines += ["", render_clinical_codes()]
    return "\n".join(lines)


def _rule_text(col: Column) -> str:
    parts: list[str] = []
    if col.values:
        parts.append(" / ".join(f"`{v}`" for v in col.values))
    if col.pattern:
        parts.append(f"pattern `{col.pattern}`")
    if col.min is not None or col.max is not None:
        low = "" if col.min is None else f"{col.min:g}"
        high = "" if col.max is None else f"{col.max:g}"
        parts.append(f"range [{low}, {high}]")
    if col.plausible_max is not None:
        parts.append(f"above {col.plausible_max:g}: finding")
    if col.type == "boolean":
        parts.append("true/false, yes/no, y/n, t/f, 1/0")
    return "; ".join(parts)
