"""The drug vocabulary (data_dictionary/drugs.yaml) as tables, for staging to read drug names against."""

from __future__ import annotations

import duckdb

from oligo_cohort.database import create_table
from oligo_cohort.dictionary import drug_aliases, drugs


def create_vocabulary(con: duckdb.DuckDBPyConnection) -> None:
    """Create `drug_vocabulary`, `drug_components` and `drug_lookup` (every accepted spelling → drug)."""
    vocabulary = [(d.drug, d.drug_class, d.subclass, d.atc, d.former_atc) for d in drugs()]
    components = [(d.drug, c) for d in drugs() for c in d.regimen_components]
    lookup = [(d.drug, d.drug) for d in drugs()] + sorted(drug_aliases().items())
    for name, columns, rows in (
        ("drug_vocabulary", ("drug", "drug_class", "subclass", "atc", "former_atc"), vocabulary),
        ("drug_components", ("drug", "component"), components),
        ("drug_lookup", ("name", "drug"), lookup),
    ):
        create_table(con, name, dict.fromkeys(columns, "text"), rows)
