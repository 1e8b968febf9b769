"""Build the loaded tables of docs/design.md directly in DuckDB, so that the SQL models are tested on their own.

`Registry` collects rows (dicts of ISO-date strings, numbers and booleans; any
column left out is NULL) and `connect()` creates every loaded table with
exactly the contract's columns and types, the drug vocabulary from
data_dictionary/drugs.csv and the one-row `params` table. `build(con, until)`
then runs the engine's models up to and including one of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb

from oligo_cohort.engines.duckdb_engine import MODELS, build_models
from oligo_cohort.load import OPTIONAL_TABLES, create_params
from oligo_cohort.paths import dictionary_dir
from oligo_cohort.protocol import load_protocol

# The loaded tables' columns and types (docs/design.md, "The loaded tables"), `_row` first.
CONTRACT: dict[str, tuple[tuple[str, str], ...]] = {
    "patients": (
        ("patient_id", "VARCHAR"),
        ("site_id", "VARCHAR"),
        ("birth_date", "DATE"),
        ("sex", "VARCHAR"),
        ("death_date", "DATE"),
    ),
    "tumours": (
        ("tumour_id", "VARCHAR"),
        ("patient_id", "VARCHAR"),
        ("diagnosis_date", "DATE"),
        ("topography", "VARCHAR"),
        ("morphology", "VARCHAR"),
        ("behaviour", "VARCHAR"),
        ("basis_of_diagnosis", "VARCHAR"),
        ("tnm_m", "VARCHAR"),
        ("metastasis_date", "DATE"),
        ("treatment_intent", "VARCHAR"),
        ("chemotherapy", "BOOLEAN"),
        ("radiotherapy", "BOOLEAN"),
        ("last_treatment_date", "DATE"),
    ),
    "systemic_therapy": (
        ("patient_id", "VARCHAR"),
        ("drug", "VARCHAR"),
        ("start_date", "DATE"),
        ("end_date", "DATE"),
        ("setting", "VARCHAR"),
    ),
    "imaging": (
        ("study_id", "VARCHAR"),
        ("patient_id", "VARCHAR"),
        ("study_date", "DATE"),
        ("modality", "VARCHAR"),
    ),
    "lesions": (
        ("study_id", "VARCHAR"),
        ("patient_id", "VARCHAR"),
        ("lesion_id", "VARCHAR"),
        ("location", "VARCHAR"),
        ("organ", "VARCHAR"),
        ("size_mm", "DECIMAL(12,3)"),
        ("suv_max", "DECIMAL(12,3)"),
    ),
    "response_assessments": (
        ("patient_id", "VARCHAR"),
        ("assessment_date", "DATE"),
        ("response", "VARCHAR"),
    ),
    "performance_status": (
        ("patient_id", "VARCHAR"),
        ("assessment_date", "DATE"),
        ("scale", "VARCHAR"),
        ("score", "INTEGER"),
    ),
    "observations": (
        ("patient_id", "VARCHAR"),
        ("code", "VARCHAR"),
        ("start_date", "DATE"),
        ("end_date", "DATE"),
        ("value", "BOOLEAN"),
    ),
}


def days_after(date: str, days: int) -> str:
    """The ISO date `days` after `date` (negative: before): tests state offsets, not arithmetic."""
    return (dt.date.fromisoformat(date) + dt.timedelta(days=days)).isoformat()


@dataclass
class Registry:
    """Rows of an extract as loaded; helpers add the usual rows with defaults a test can override."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {name: [] for name in CONTRACT})
    absent: set[str] = field(default_factory=set)  # optional tables left out of the extract

    def add(self, table: str, **values: Any) -> Registry:
        unknown = set(values) - {name for name, _ in CONTRACT[table]}
        if unknown:
            raise ValueError(f"{table} has no column(s) {sorted(unknown)}")
        self.rows[table].append(values)
        return self

    def patient(self, patient_id: str = "p1", **values: Any) -> Registry:
        return self.add(
            "patients", **({"patient_id": patient_id, "site_id": "AVL", "birth_date": "1960-05-01"} | values)
        )

    def breast_tumour(self, patient_id: str = "p1", **values: Any) -> Registry:
        defaults = {
            "tumour_id": f"{patient_id}-T1",
            "patient_id": patient_id,
            "diagnosis_date": "2018-01-15",
            "topography": "C50.4",
            "morphology": "8500",
            "behaviour": "3",
            "basis_of_diagnosis": "histology_primary",
            "tnm_m": "M0",
            "metastasis_date": "2021-12-01",
        }
        return self.add("tumours", **(defaults | values))

    def episode(
        self, drug: str, start: str, end: str | None = None, setting: str | None = "metastatic", patient_id: str = "p1"
    ) -> Registry:
        return self.add(
            "systemic_therapy", patient_id=patient_id, drug=drug, start_date=start, end_date=end, setting=setting
        )

    def study(self, study_id: str, date: str, modality: str = "CT", patient_id: str = "p1") -> Registry:
        return self.add("imaging", study_id=study_id, patient_id=patient_id, study_date=date, modality=modality)

    def lesion(
        self,
        study_id: str,
        lesion_id: str,
        size_mm: str | float | None,
        organ: str = "liver",
        location: str = "distant",
        suv_max: str | float | None = None,
        patient_id: str = "p1",
    ) -> Registry:
        return self.add(
            "lesions",
            study_id=study_id,
            patient_id=patient_id,
            lesion_id=lesion_id,
            location=location,
            organ=organ,
            size_mm=None if size_mm is None else str(size_mm),
            suv_max=None if suv_max is None else str(suv_max),
        )

    def connect(self, as_of: str, *, worklist: bool = False, **parameters: Any) -> duckdb.DuckDBPyConnection:
        """A connection holding the loaded tables, the drug vocabulary and `params` (cosmo defaults + overrides)."""
        con = duckdb.connect()
        for table, columns in CONTRACT.items():
            definition = ", ".join(f"{name} {kind}" for name, kind in (("_row", "BIGINT"), *columns))
            con.execute(f"CREATE TABLE {table} ({definition})")
            table_rows = self.rows[table]
            if table_rows:
                # One statement per table: the casts turn ISO strings into dates and decimals.
                one = "(?, " + ", ".join(f"CAST(? AS {kind})" for _, kind in columns) + ")"
                values = [
                    value
                    for number, row in enumerate(table_rows, start=1)
                    for value in (number, *(row.get(name) for name, _ in columns))
                ]
                con.execute(f"INSERT INTO {table} VALUES {', '.join([one] * len(table_rows))}", values)
        _create_vocabulary(con)
        _create_params(con, as_of, worklist, present={t for t in OPTIONAL_TABLES if t not in self.absent}, **parameters)
        return con


def _create_vocabulary(con: duckdb.DuckDBPyConnection) -> None:
    """drug_vocabulary and drug_components from data_dictionary/drugs.csv (components split on ';')."""
    drugs = f"read_csv('{dictionary_dir() / 'drugs.csv'}', all_varchar = true)"
    con.execute(f"CREATE TABLE drug_vocabulary AS SELECT drug, drug_class, subclass, atc, former_atc FROM {drugs}")
    con.execute(
        f"CREATE TABLE drug_components AS SELECT drug, unnest(string_split(regimen_components, ';')) AS component "
        f"FROM {drugs}"
    )


def _create_params(
    con: duckdb.DuckDBPyConnection, as_of: str, worklist: bool, present: set[str], **parameters: Any
) -> None:
    create_params(con, load_protocol("cosmo"), as_of=as_of, present=present, worklist=worklist, **parameters)


def build(con: duckdb.DuckDBPyConnection, until: str | None = None) -> duckdb.DuckDBPyConnection:
    """Run the engine's models in order up to and including table `until` (all of them when None)."""
    names = [model.table for model in MODELS]
    if until is not None and until not in names:
        raise ValueError(f"no model makes table {until!r}")
    last = names.index(until) if until is not None else len(names) - 1
    build_models(con, MODELS[: last + 1])
    return con


def rows(con: duckdb.DuckDBPyConnection, query: str) -> list[tuple[Any, ...]]:
    """All rows of a query, dates as ISO strings (so expectations read like the input)."""
    return [
        tuple(value.isoformat() if isinstance(value, dt.date) else value for value in row)
        for row in con.execute(query).fetchall()
    ]
