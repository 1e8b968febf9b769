"""What every decider reads: the units, the inputs, and the facts of the units themselves.

A fact's name means one thing wherever it is recorded, so the facts of the unit itself (its dates, index
tumour, active line, scan and reference) are computed here once (`Context`), and `record` puts a decider's
own facts beside them.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.criteria import BY_ID
from oligo_cohort.engines.pandas_engine import imaging as img
from oligo_cohort.engines.pandas_engine.decisions import Decision
from oligo_cohort.engines.pandas_engine.grouped_text import as_text, joined_per_key, lists_per_key, take_text
from oligo_cohort.engines.pandas_engine.inputs import Inputs
from oligo_cohort.engines.pandas_engine.lines import breast_tumours
from oligo_cohort.engines.pandas_engine.units import Units

CODES = clinical_codes()


def true_only(values: pd.Series) -> np.ndarray:
    """A nullable boolean column: True only where the value is true."""
    return values.eq(True).fillna(False).to_numpy(dtype=bool)


def take_at(values: object, positions: np.ndarray, missing: object = np.nan) -> np.ndarray:
    """`values[positions]`, `missing` where a position is negative."""
    return np.append(np.asarray(values), missing)[positions]


class Context:
    """What the deciders read: the units, the inputs, and the facts of the units themselves (computed once).

    Text facts are Arrow string arrays taken from the tables they come from by position (a study, an index
    tumour, a line), so that no Python string is made per unit; the rules compare codes, not strings.
    """

    def __init__(self, units: Units, inputs: Inputs) -> None:
        self.units = units
        self.inputs = inputs
        self.p = inputs.p
        self.u = units.units.reset_index(drop=True)
        self.n = len(self.u)
        unit_ids = self.u["unit"].to_numpy(dtype=np.int64)
        self._row_of_unit = np.full(int(unit_ids.max(initial=-1)) + 1, -1, dtype=np.int64)
        self._row_of_unit[unit_ids] = np.arange(self.n)
        self.pid = self.u["pid"].to_numpy(dtype=np.int64)
        self.active = self.u["active"].to_numpy(dtype=bool)
        self.event = self.u["event"].to_numpy(dtype=np.int64)  # study code of S (NO_STUDY: none)
        self.ref_study = self.u["ref_study"].to_numpy(dtype=np.int64)
        self.tumour_pos = self.u["tumour_pos"].to_numpy(dtype=np.int64)  # row of `breast` (-1: none)
        self.breast = breast_tumours(inputs)

    def rows(self, unit_ids: object) -> np.ndarray:
        """The row of each unit id."""
        return self._row_of_unit[np.asarray(unit_ids, dtype=np.int64)]

    def with_records(self, records: pd.DataFrame) -> pd.DataFrame:
        """Each unit joined with its patient's records: row (of the unit), S, R, then the records' columns."""
        left = pd.DataFrame(
            {
                "row": np.arange(self.n),
                "pid": self.pid,
                "day": self.screening_date,
                "registration": self.registration_date,
            }
        )
        return left.merge(records, on="pid")

    @cached_property
    def _study_ids(self) -> pa.Array:
        return as_text(self.inputs.imaging["study_id"])

    def study_ids(self, codes: object) -> pa.Array:
        """Study ids of study codes (NO_STUDY: missing)."""
        return take_text(self._study_ids, codes)

    def study_dates(self, codes: object) -> np.ndarray:
        """Dates of studies (NO_STUDY: missing)."""
        return take_at(self.inputs.imaging["study_date"].to_numpy(dtype=np.float64), np.asarray(codes, dtype=np.int64))

    def modality_codes(self, codes: object) -> np.ndarray:
        """The modality of studies as a code (NO_STUDY: -1)."""
        return take_at(self.inputs.imaging["modality"].cat.codes.to_numpy(dtype=np.int64), np.asarray(codes), -1)

    def tumour_flag(self, on_breast: object) -> np.ndarray:
        """A condition on the breast tumours, read for each unit's index tumour (False without one)."""
        return take_at(np.asarray(on_breast, dtype=bool), self.tumour_pos, False)

    # --- The unit: its scan, S, R and the cut-off -------------------------------------------------------------

    @cached_property
    def has_event(self) -> np.ndarray:
        return self.u["is_event"].to_numpy(dtype=bool)

    @cached_property
    def screening_date(self) -> np.ndarray:
        return self.u["day"].to_numpy(dtype=np.float64)

    @cached_property
    def registration_date(self) -> np.ndarray:
        return self.u["registration"].to_numpy(dtype=np.float64)

    @cached_property
    def cutoff_date(self) -> np.ndarray:
        return np.full(self.n, self.inputs.settings.as_of)

    @cached_property
    def scan_study_id(self) -> pa.Array:
        return self.study_ids(self.event)

    @cached_property
    def scan_modality(self) -> pa.Array:
        return take_text(as_text(self.inputs.imaging["modality"]), self.event)

    # --- The index breast tumour (D4, D24) ----------------------------------------------------------------------

    def _tumour_text(self, column: str) -> pa.Array:
        return take_text(as_text(self.breast[column]), self.tumour_pos)

    def _tumour_date(self, column: str) -> np.ndarray:
        return take_at(self.breast[column].to_numpy(dtype=np.float64), self.tumour_pos)

    @cached_property
    def has_tumour(self) -> np.ndarray:
        return self.tumour_pos >= 0

    @cached_property
    def tumour_id(self) -> pa.Array:
        return self._tumour_text("tumour_id")

    @cached_property
    def tumour_topography(self) -> pa.Array:
        return self._tumour_text("topography")

    @cached_property
    def tumour_diagnosis_date(self) -> np.ndarray:
        return self._tumour_date("diagnosis_date")

    @cached_property
    def basis_of_diagnosis(self) -> pa.Array:
        return self._tumour_text("basis_of_diagnosis")

    @cached_property
    def tnm_m(self) -> pa.Array:
        return self._tumour_text("tnm_m")

    @cached_property
    def metastasis_date(self) -> np.ndarray:
        return self._tumour_date("metastasis_date")

    # --- The line active at S (D9, D33) -------------------------------------------------------------------------

    @cached_property
    def line_number(self) -> np.ndarray:
        return self.u["line_number"].to_numpy(dtype=np.float64)

    @cached_property
    def line_start(self) -> np.ndarray:
        return self.u["line_start"].to_numpy(dtype=np.float64)

    @cached_property
    def lines_started(self) -> np.ndarray:
        return self.u["lines_started"].to_numpy(dtype=np.int64)

    @cached_property
    def _line_id(self) -> np.ndarray:
        line_id = self.u["line_id"].to_numpy(dtype=np.float64)
        return np.where(np.isnan(line_id), -1, line_id).astype(np.int64)

    @cached_property
    def line_drugs(self) -> pa.Array:
        """The drugs of the line (carried ones included, D28), sorted, comma-separated."""
        table = self.units.line_table
        drugs = as_text(table.episodes["drug"]).take(pa.array(table.members["episode"].to_numpy(dtype=np.int64)))
        per_line = joined_per_key(table.members["line_id"].to_numpy(), drugs, len(table.lines))
        return take_text(per_line, self._line_id)

    @cached_property
    def line_drug_classes(self) -> pa.Array:
        """The treatment classes of the line's drugs, sorted, comma-separated ('' when every drug is unknown)."""
        table = self.units.line_table
        drugs = as_text(table.episodes["drug"]).take(pa.array(table.members["episode"].to_numpy(dtype=np.int64)))
        vocabulary = self.inputs.vocabulary
        found = pc.index_in(drugs, value_set=as_text(vocabulary["drug"]))
        classes = as_text(vocabulary["drug_class"]).take(found)  # a drug missing from the vocabulary: no class
        known = classes.is_valid().to_numpy(zero_copy_only=False)
        line_id = table.members["line_id"].to_numpy()[known]
        per_line = joined_per_key(line_id, classes.filter(pa.array(known)), len(table.lines))
        return take_text(pc.fill_null(per_line, ""), self._line_id)

    # --- The reference of S (D11, D15) --------------------------------------------------------------------------

    @cached_property
    def reference_basis(self) -> pa.Array:
        nadir = self.u["nadir"].fillna(False).to_numpy(dtype=bool) if "nadir" in self.u else np.zeros(self.n, bool)
        basis = np.where(nadir & self.has_event, 1, np.where(self.ref_study != img.NO_STUDY, 0, -1))
        return take_text(pa.array(["line_start", "nadir"]), basis)

    @cached_property
    def reference_study_id(self) -> pa.Array:
        return self.study_ids(self.ref_study)

    @cached_property
    def reference_modality(self) -> pa.Array:
        return take_text(as_text(self.inputs.imaging["modality"]), self.ref_study)

    @cached_property
    def reference_date(self) -> np.ndarray:
        return self.study_dates(self.ref_study)

    @cached_property
    def window_start(self) -> np.ndarray:
        return np.where(self.has_event, self.line_start - self.p.reference_window_before_days, np.nan)

    @cached_property
    def window_end(self) -> np.ndarray:
        return np.where(self.has_event, self.line_start + self.p.reference_window_after_days, np.nan)

    @cached_property
    def window_modalities(self) -> pa.Array:
        if "window_modalities" not in self.u:  # no candidate scan at all
            return pa.nulls(self.n, pa.string())
        return as_text(self.u["window_modalities"])

    # --- The patient ----------------------------------------------------------------------------------------------

    @cached_property
    def birth_date(self) -> np.ndarray:
        return self.inputs.patients["birth_date"].to_numpy(dtype=np.float64)[self.pid]

    @cached_property
    def death_date(self) -> np.ndarray:
        return self.inputs.patients["death_date"].to_numpy(dtype=np.float64)[self.pid]

    def lesion_lists(self, lesions: pd.DataFrame, rows: np.ndarray) -> dict[str, pa.ListArray]:
        """Progressive distant, progressive local and undetermined lesions ('organ lesion_id'), per unit row.

        `lesions` are lesion verdicts (`imaging.lesion_progression`); `rows` the unit row each belongs to.
        """
        state = lesions["progressive"].array
        counted = np.asarray(state.fillna(True), dtype=bool)  # progressive or undetermined: the ones listed
        lesions, rows = lesions[counted], np.asarray(rows)[counted]
        state = lesions["progressive"].array
        progressive = state.fillna(False).to_numpy(dtype=bool)
        undetermined = np.asarray(state.isna(), dtype=bool)
        distant = (lesions["location"] == CODES.distant_location).to_numpy(dtype=bool)
        names = as_text(self.inputs.lesions["lesion_id"].cat.categories.to_numpy(dtype=object))
        labels = pc.binary_join_element_wise(
            as_text(lesions["organ"]), names.take(pa.array(lesions["lesion"].to_numpy(dtype=np.int64))), " "
        )

        def listed(mask: np.ndarray) -> pa.ListArray:
            return lists_per_key(rows[mask], labels.filter(pa.array(mask)), self.n)

        return {
            "distant_lesions": listed(progressive & distant),
            "local_lesions": listed(progressive & ~distant),
            "undetermined_lesions": listed(undetermined),
        }


def record(c: Context, criterion: str, rule: pd.Categorical, **own: object) -> Decision:
    """The decision: the rule taken, the criterion's own facts, and the facts of the unit it speaks of."""
    facts = {}
    for name in BY_ID[criterion].facts:
        if name not in own and not isinstance(getattr(type(c), name, None), cached_property):
            raise TypeError(f"{criterion} records {name}: neither given by its decider nor a fact of the unit")
        facts[name] = own[name] if name in own else getattr(c, name)
    return Decision(BY_ID[criterion], rule, facts)
