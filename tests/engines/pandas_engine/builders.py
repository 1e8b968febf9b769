"""Small extracts built row by row for the pandas engine's building-block tests.

Each test case is one patient of a shared extract, so a whole module screens
once. Extracts go through the real loader, so the engine reads exactly the
loaded tables of docs/design.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from oligo_cohort.criteria import BY_ID
from oligo_cohort.dictionary import tables
from oligo_cohort.engines import pandas_engine
from oligo_cohort.engines.pandas_engine.inputs import Inputs, read_inputs
from oligo_cohort.engines.pandas_engine.units import Units, build_units
from oligo_cohort.explain import explain_reasons, facts_sql
from oligo_cohort.load import load_extract, write_run_parameters
from oligo_cohort.protocol import load_protocol

# Every table's columns in data-model order, from the data dictionary.
COLUMNS = {name: list(table.column_names) for name, table in tables().items()}
REQUIRED = ("patients", "tumours", "systemic_therapy", "imaging", "lesions")


def day(text: str, plus: int = 0) -> str:
    """An ISO date `plus` days after `text`."""
    return (dt.date.fromisoformat(text) + dt.timedelta(days=plus)).isoformat()


@dataclass
class Extract:
    """Rows of every table, as the strings a CSV would hold."""

    rows: dict[str, list[dict[str, str]]] = field(default_factory=lambda: {name: [] for name in COLUMNS})

    def patient(
        self,
        pid: str,
        *,
        birth: str = "1960-05-01",
        metastasis: str = "2022-01-10",
        tnm_m: str = "M0",
        breast: bool = True,
        death: str = "",
    ) -> Extract:
        """A patient with (by default) one invasive breast tumour, metastatic from `metastasis`."""
        self.rows["patients"].append(
            {"patient_id": pid, "site_id": "S1", "birth_date": birth, "sex": "F", "death_date": death}
        )
        if breast:
            self.tumour(pid, f"{pid}-T1", "2015-03-01", metastasis=metastasis, tnm_m=tnm_m)
        return self

    def tumour(self, pid: str, tumour_id: str, diagnosed: str, **values: str) -> Extract:
        row = {
            "tumour_id": tumour_id,
            "patient_id": pid,
            "diagnosis_date": diagnosed,
            "topography": values.pop("topography", "C50.4"),
            "morphology": values.pop("morphology", "8500"),
            "behaviour": values.pop("behaviour", "3"),
            "basis_of_diagnosis": values.pop("basis", "histology_primary"),
            "tnm_m": values.pop("tnm_m", "M0"),
            "metastasis_date": values.pop("metastasis", ""),
            "treatment_intent": values.pop("intent", "curative"),
            "chemotherapy": values.pop("chemotherapy", "false"),
            "radiotherapy": values.pop("radiotherapy", "false"),
            "last_treatment_date": values.pop("last_treatment", ""),
        }
        assert not values, f"unknown tumour fields {values}"
        self.rows["tumours"].append(row)
        return self

    def therapy(self, pid: str, drug: str, start: str, end: str = "", setting: str = "metastatic") -> Extract:
        self.rows["systemic_therapy"].append(
            {"patient_id": pid, "drug": drug, "start_date": start, "end_date": end, "setting": setting}
        )
        return self

    def study(self, pid: str, study_id: str, date: str, modality: str = "CT", lesions: tuple = ()) -> Extract:
        """A study with lesions given as (lesion_id, organ, size_mm[, suv_max]); organ breast/axillary_node is local."""
        self.rows["imaging"].append({"study_id": study_id, "patient_id": pid, "study_date": date, "modality": modality})
        for lesion in lesions:
            lesion_id, organ, size, *suv = lesion
            location = {"breast": "primary", "axillary_node": "locoregional_node"}.get(organ, "distant")
            self.rows["lesions"].append(
                {
                    "study_id": study_id,
                    "patient_id": pid,
                    "lesion_id": lesion_id,
                    "location": location,
                    "organ": organ,
                    "size_mm": size,
                    "suv_max": suv[0] if suv else "",
                }
            )
        return self

    def add(self, table: str, **row: str) -> Extract:
        self.rows[table].append(row)
        return self

    def frames(self, *, without: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
        """Every table as strings; optional tables without rows are left out unless they got some."""
        frames = {}
        for name, columns in COLUMNS.items():
            if name in without or (name not in REQUIRED and not self.rows[name]):
                continue
            frames[name] = pd.DataFrame(self.rows[name], columns=columns, dtype=object).fillna("")
        return frames


@dataclass
class Screened:
    """The loaded connection after the engine ran, with the engine's own intermediate tables."""

    con: duckdb.DuckDBPyConnection
    inputs: Inputs
    units: Units

    def events(self) -> pd.DataFrame:
        return self.con.sql("SELECT * FROM result_events ORDER BY patient_id, screening_date").df()

    def patients(self) -> pd.DataFrame:
        return self.con.sql("SELECT * FROM result_patients ORDER BY patient_id").df().set_index("patient_id")

    def reasons(self) -> pd.DataFrame:
        """The reasons the shared explain step words from the engine's facts."""
        return self.con.sql("SELECT * FROM result_reasons").df()

    def facts(self, patient_id: str, criterion: str, event_id: str | None = None) -> dict[str, object]:
        """The rule and facts one explained unit recorded for a criterion (dates as datetime.date, lists sorted).

        Without `event_id` the patient's one explained unit (its best, unless every unit is explained).
        """
        relation = self.con.sql(
            f"SELECT * FROM ({facts_sql()}) WHERE patient_id = $patient AND criterion = $criterion",
            params={"patient": patient_id, "criterion": criterion},
        )
        rows = [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]
        if event_id is not None:
            rows = [row for row in rows if row["event_id"] == event_id]
        assert len(rows) == 1, f"expected one explained unit of {patient_id}, found {len(rows)}"
        own = {"rule", *BY_ID[criterion].facts}
        return {name: value for name, value in rows[0].items() if name in own}

    def lines(self, pid: str) -> list[tuple[int, str, str | None, tuple[str, ...]]]:
        """(number, start, end, drugs) of the patient's lines for the index tumour at the cut-off."""
        table = self.units.line_table
        pid_code = self.inputs.patients.index[self.inputs.patients["patient_id"] == pid][0]
        unit = self.units.units
        gids = set(unit.loc[unit["pid"] == pid_code, "gid"])
        lines = table.lines[table.lines["gid"].isin(gids)].sort_values("start")
        drugs = table.members.assign(drug=table.episodes["drug"].to_numpy()[table.members["episode"].to_numpy()])
        out = []
        for row in lines.itertuples():
            names = tuple(sorted(set(drugs.loc[drugs["line_id"] == row.line_id, "drug"])))
            out.append((int(row.line_number), _iso(row.start), None if pd.isna(row.end) else _iso(row.end), names))
        return out


def _iso(days: float) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(days))).isoformat()


def screen(
    extract: Extract,
    as_of: str,
    *,
    without: tuple[str, ...] = (),
    all_events: bool = False,
    worklist: bool = False,
    **overrides: str,
) -> Screened:
    """Load the extract, run the pandas engine and the shared explain step; keep the engine's units for inspection.

    `all_events`: explain every unit, not only each patient's best.
    """
    loaded = load_extract(extract.frames(without=without), as_of=as_of)
    protocol = load_protocol("cosmo")
    if overrides:
        protocol = protocol.with_overrides(overrides)
    write_run_parameters(loaded, protocol, worklist=worklist, explain_all_events=all_events)
    pandas_engine.run(loaded.con)
    explain_reasons(loaded.con)
    inputs = read_inputs(loaded.con)
    return Screened(loaded.con, inputs, build_units(inputs))
