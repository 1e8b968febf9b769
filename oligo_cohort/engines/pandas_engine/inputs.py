"""The loaded tables of docs/design.md fetched from DuckDB into pandas, with dates as day numbers.

Every table keeps its contract columns; dates become float day numbers
(`calendar` conventions: NaN = missing), sizes and SUVs exact integer
thousandths (nullable Int64), codes categoricals, and patients, studies and
lesions integer codes (`pid`, `study`, `lesion`) so that later merges join
integers, not strings. Tables travel as Arrow, which keeps strings zero-copy.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from oligo_cohort.protocol import Parameters

CODE_COLUMNS: dict[str, tuple[str, ...]] = {
    "tumours": ("behaviour", "basis_of_diagnosis", "tnm_m", "treatment_intent"),
    "systemic_therapy": ("setting",),
    "imaging": ("modality",),
    "lesions": ("location", "organ"),
    "response_assessments": ("response",),
    "performance_status": ("scale",),
    "observations": ("code",),
}


@dataclass(frozen=True)
class RunSettings:
    """The `params` row: protocol parameters plus the cut-off, the mode and which optional tables were given."""

    parameters: Parameters
    as_of: float  # day number
    worklist: bool
    has_response_assessments: bool
    has_performance_status: bool
    has_observations: bool


@dataclass(frozen=True)
class Inputs:
    """Every loaded table as a DataFrame (see the module docstring for the encodings)."""

    settings: RunSettings
    patients: pd.DataFrame
    tumours: pd.DataFrame
    therapy: pd.DataFrame
    imaging: pd.DataFrame
    lesions: pd.DataFrame
    responses: pd.DataFrame
    performance: pd.DataFrame
    observations: pd.DataFrame
    vocabulary: pd.DataFrame
    components: pd.DataFrame

    @property
    def p(self) -> Parameters:
        """The protocol parameters (short name: they are used everywhere)."""
        return self.settings.parameters


def _arrow(con: duckdb.DuckDBPyConnection, table: str) -> pa.Table:
    result = con.table(table).arrow()
    return result.read_all() if isinstance(result, pa.RecordBatchReader) else result


def day_numbers(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """An Arrow date (or timestamp) column as float day numbers, NaN where missing."""
    if pa.types.is_timestamp(column.type):
        column = pc.cast(column, pa.date32())
    days = pc.cast(pc.cast(column, pa.date32()), pa.int32())
    return pc.fill_null(pc.cast(days, pa.float64()), np.nan).to_numpy(zero_copy_only=False)


def _thousandths(column: pa.ChunkedArray) -> pd.Series:
    """DECIMAL(12,3) values as exact integer thousandths: the float error of x * 1000 is far below 0.5."""
    values = pc.fill_null(pc.cast(column, pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    present = ~np.isnan(values)
    thousandths = np.rint(np.where(present, values, 0) * 1000.0).astype(np.int64)
    return pd.Series(pd.arrays.IntegerArray(thousandths, ~present))


def _positions(values: pa.ChunkedArray, ids: pa.ChunkedArray) -> np.ndarray:
    """Each value's row in `ids` (int64)."""
    return pc.index_in(values, value_set=ids).to_numpy(zero_copy_only=False).astype(np.int64)


def _column(table: str, name: str, column: pa.ChunkedArray) -> object:
    if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
        return day_numbers(column)
    if name in CODE_COLUMNS.get(table, ()):
        return pd.Categorical(column.to_pandas())
    if pa.types.is_boolean(column.type):
        return column.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)
    return column.to_pandas()


def _fetch(con: duckdb.DuckDBPyConnection, table: str, patient_ids: pa.ChunkedArray | None) -> pd.DataFrame:
    arrow = _arrow(con, table)
    frame = pd.DataFrame(
        {name: _column(table, name, arrow.column(name)) for name in arrow.column_names if name != "_row"}
    )
    if patient_ids is not None and "patient_id" in arrow.column_names:
        # The loader rejects rows whose patient is not in `patients`, so every code is found.
        frame["pid"] = _positions(arrow.column("patient_id"), patient_ids)
    return frame


def _settings(con: duckdb.DuckDBPyConnection) -> RunSettings:
    row = _arrow(con, "params").to_pylist()[0]
    names = [f.name for f in dataclasses.fields(Parameters)]
    return RunSettings(
        parameters=Parameters(**{name: row[name] for name in names}),
        as_of=float(day_numbers(pa.array([row["as_of"]]))[0]),
        worklist=bool(row["worklist"]),
        has_response_assessments=bool(row["has_response_assessments"]),
        has_performance_status=bool(row["has_performance_status"]),
        has_observations=bool(row["has_observations"]),
    )


def _text_order(values: pd.Series) -> np.ndarray:
    """Each value's position when the values are sorted as text (D11: ties go to the smallest study_id)."""
    order = np.argsort(values.to_numpy(dtype=object), kind="stable")
    keys = np.empty(len(order), dtype=np.int64)
    keys[order] = np.arange(len(order))
    return keys


def _lesions(con: duckdb.DuckDBPyConnection, patient_ids: pa.ChunkedArray, study_ids: pa.ChunkedArray) -> pd.DataFrame:
    arrow = _arrow(con, "lesions")
    return pd.DataFrame(
        {
            "pid": _positions(arrow.column("patient_id"), patient_ids),
            # The loader checks that every lesion's study exists.
            "study": _positions(arrow.column("study_id"), study_ids),
            "lesion": pc.dictionary_encode(arrow.column("lesion_id"))
            .combine_chunks()
            .indices.to_numpy()
            .astype(np.int64),
            "lesion_id": arrow.column("lesion_id").to_pandas(),
            "location": _column("lesions", "location", arrow.column("location")),
            "organ": _column("lesions", "organ", arrow.column("organ")),
            "size_milli": _thousandths(arrow.column("size_mm")),
            "suv_milli": _thousandths(arrow.column("suv_max")),
        }
    )


def read_inputs(con: duckdb.DuckDBPyConnection) -> Inputs:
    """Fetch the loaded tables and the run parameters from the connection."""
    patients = _fetch(con, "patients", None)
    patients["pid"] = np.arange(len(patients))
    patient_ids = _arrow(con, "patients").column("patient_id")
    imaging = _fetch(con, "imaging", patient_ids)
    imaging["study"] = np.arange(len(imaging))
    imaging["study_key"] = _text_order(imaging["study_id"])
    return Inputs(
        settings=_settings(con),
        patients=patients,
        tumours=_fetch(con, "tumours", patient_ids),
        therapy=_fetch(con, "systemic_therapy", patient_ids),
        imaging=imaging,
        lesions=_lesions(con, patient_ids, _arrow(con, "imaging").column("study_id")),
        responses=_fetch(con, "response_assessments", patient_ids),
        performance=_fetch(con, "performance_status", patient_ids),
        observations=_fetch(con, "observations", patient_ids),
        vocabulary=_fetch(con, "drug_vocabulary", None),
        components=_fetch(con, "drug_components", None),
    )
