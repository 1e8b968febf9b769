"""The loaded tables of docs/design.md fetched from DuckDB into pandas, with dates as day numbers.

Every table keeps its contract columns; dates become float day numbers
(`calendar` conventions: NaN = missing), sizes and SUVs exact integer
thousandths (nullable Int64), codes categoricals, and patients, studies and
lesions integer codes (`pid`, `study`, `lesion`) so that later merges join
integers, not strings. Tables travel as Arrow, which keeps strings zero-copy.
Lesions (the largest table) are ordered by study and grouped (`lesions_by_study`),
so that the lesions of any set of studies are gathered by offsets, not merged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from oligo_cohort.engines.pandas_engine.joins import Grouped
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
    """The `params` row: protocol parameters, the cut-off, the mode, which optional tables were given, and
    whether every unit is explained or only each patient's best."""

    parameters: Parameters
    as_of: float  # day number
    worklist: bool
    explain_all_events: bool
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
    lesions_by_study: Grouped  # lesion rows per study code

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


def _fetch(
    con: duckdb.DuckDBPyConnection, table: str, patient_ids: pa.ChunkedArray | None, arrow: pa.Table | None = None
) -> pd.DataFrame:
    arrow = _arrow(con, table) if arrow is None else arrow
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
        explain_all_events=bool(row["explain_all_events"]),
        has_response_assessments=bool(row["has_response_assessments"]),
        has_performance_status=bool(row["has_performance_status"]),
        has_observations=bool(row["has_observations"]),
    )


def _text_order(values: pa.ChunkedArray) -> np.ndarray:
    """Each value's position when the values are sorted as text (D11: ties go to the smallest study_id)."""
    order = pc.sort_indices(values).to_numpy(zero_copy_only=False)  # byte order of UTF-8 = code point order
    keys = np.empty(len(order), dtype=np.int64)
    keys[order] = np.arange(len(order))
    return keys


def _dictionary_codes(column: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Integer codes (-1 = missing) and the distinct values of a string column (Arrow hashing, no Python strings)."""
    encoded = pc.dictionary_encode(column).combine_chunks()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, encoded.dictionary


def _lesions(
    con: duckdb.DuckDBPyConnection, study_ids: pa.ChunkedArray, study_pid: np.ndarray
) -> tuple[pd.DataFrame, Grouped]:
    """Lesions with integer codes, grouped by study (rows of one study stay in their input order)."""
    result = con.table("lesions").project("study_id, lesion_id, location, organ, size_mm, suv_max").arrow()
    arrow = result.read_all() if isinstance(result, pa.RecordBatchReader) else result
    # The loader checks that every lesion's study exists and belongs to the lesion's patient.
    study = _positions(arrow.column("study_id"), study_ids)
    grouped = Grouped.of(study, len(study_ids))
    order = grouped.order  # rows by study: only integer arrays are reordered, never strings

    def codes_of(name: str) -> tuple[np.ndarray, pd.Index]:
        codes, values = _dictionary_codes(arrow.column(name))
        return codes[order], pd.Index(values.to_pylist(), dtype=object)

    def thousandths(name: str) -> pd.api.extensions.ExtensionArray:
        return _thousandths(arrow.column(name)).array.take(order)

    lesion, lesion_names = codes_of("lesion_id")
    location, locations = codes_of("location")
    organ, organs = codes_of("organ")
    frame = pd.DataFrame(
        {
            "pid": study_pid[study[order]],
            "study": study[order],
            "lesion": lesion,
            "lesion_id": pd.Categorical.from_codes(lesion, categories=lesion_names),
            "location": pd.Categorical.from_codes(location, categories=locations),
            "organ": pd.Categorical.from_codes(organ, categories=organs),
            "size_milli": thousandths("size_mm"),
            "suv_milli": thousandths("suv_max"),
        }
    )
    return frame, Grouped(order=np.arange(len(frame), dtype=np.int64), offsets=grouped.offsets)


def read_inputs(con: duckdb.DuckDBPyConnection) -> Inputs:
    """Fetch the loaded tables and the run parameters from the connection."""
    # Each table is fetched once: row positions are the keys (`pid`, `study`), and two scans of a table need not
    # return its rows in the same order (the connection does not preserve insertion order).
    patients_arrow = _arrow(con, "patients")
    patients = _fetch(con, "patients", None, patients_arrow)
    patients["pid"] = np.arange(len(patients))
    patient_ids = patients_arrow.column("patient_id")
    imaging_arrow = _arrow(con, "imaging")
    imaging = _fetch(con, "imaging", patient_ids, imaging_arrow)
    imaging["study"] = np.arange(len(imaging))
    study_ids = imaging_arrow.column("study_id")
    imaging["study_key"] = _text_order(study_ids)
    lesions, lesions_by_study = _lesions(con, study_ids, imaging["pid"].to_numpy())
    return Inputs(
        settings=_settings(con),
        patients=patients,
        tumours=_fetch(con, "tumours", patient_ids),
        therapy=_fetch(con, "systemic_therapy", patient_ids),
        imaging=imaging,
        lesions=lesions,
        responses=_fetch(con, "response_assessments", patient_ids),
        performance=_fetch(con, "performance_status", patient_ids),
        observations=_fetch(con, "observations", patient_ids),
        vocabulary=_fetch(con, "drug_vocabulary", None),
        components=_fetch(con, "drug_components", None),
        lesions_by_study=lesions_by_study,
    )
