"""Profile of an extract: rows per table, distributions of key fields, and the screening outcome mix.

Distributions are computed by DuckDB straight from the extract's files (CSV
or Parquet), so a national-scale extract is profiled without loading it into
pandas. The screening part runs `oligo_cohort.api.screen` on the extract.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.database import connect
from oligo_cohort.dictionary import drugs
from oligo_cohort.errors import UsageError
from oligo_cohort.sql_text import literal, literals
from oligo_cohort.synth.tables import TABLE_ORDER

# Anti-HER2 drugs that mark HER2-positive disease (trastuzumab deruxtecan is also given for HER2-low disease).
HER2_DRUGS = (
    "trastuzumab", "pertuzumab", "pertuzumab+trastuzumab", "trastuzumab emtansine",
    "lapatinib", "tucatinib", "neratinib", "margetuximab",
)  # fmt: skip
FIRST_LINE_WINDOW_DAYS = 28
CODES = clinical_codes()
# The SQL conditions the figures share, from the clinical codes.
BREAST = f"upper(topography) LIKE {literal(CODES.breast_topography + '%')}"
SKIN = f"upper(topography) LIKE {literal(CODES.skin_topography + '%')}"
INVASIVE = f"behaviour = {literal(CODES.invasive_behaviour)}"
M1 = f"tnm_m = {literal(CODES.metastatic_at_diagnosis)}"
# Larger extracts are screened on a sample of this many patients (screening is per patient).
SCREEN_SAMPLE_PATIENTS = 100_000


@dataclass
class ExtractSummary:
    """What `summarise_extract` found; `render()` gives the text report."""

    folder: Path
    rows: dict[str, int]
    figures: dict[str, float]
    distributions: dict[str, pd.DataFrame]
    status: dict[str, int] = field(default_factory=dict)
    outcomes: pd.DataFrame | None = None
    as_of: dt.date | None = None
    screened_patients: int = 0

    def render(self) -> str:
        """The profile as plain text (Markdown-friendly)."""
        lines = [f"# Extract profile: {self.folder}", "", "## Rows per table", ""]
        lines += [f"- {name}: {count:,}" for name, count in self.rows.items()]
        lines += ["", "## Key figures", ""]
        lines += [f"- {name}: {_number(value)}" for name, value in self.figures.items()]
        for title, frame in self.distributions.items():
            lines += ["", f"## {title}", "", frame.to_string(index=False)]
        if self.outcomes is not None:
            total = sum(self.status.values())
            sample = "" if total == self.rows.get("patients") else f", the first of {self.rows['patients']:,}"
            lines += ["", f"## Screening (cut-off {self.as_of}; {total:,} patients{sample})", ""]
            lines += [
                f"- {status}: {self.status.get(status, 0):,} ({_share(self.status.get(status, 0), total)})"
                for status in ("eligible", "unknown", "ineligible")
            ]
            lines += ["", "Patients per outcome of each criterion (their best event):", "", self.outcomes.to_string()]
        return "\n".join(lines) + "\n"


def summarise_extract(
    extract_dir: str | Path,
    *,
    screen: bool = True,
    as_of: str | dt.date | None = None,
    engine: str = "duckdb",
    screen_limit: int = SCREEN_SAMPLE_PATIENTS,
) -> ExtractSummary:
    """Profile an extract folder; with `screen`, also screen it and count outcomes per criterion.

    Extracts of more than `screen_limit` patients are screened on their first
    `screen_limit` patients (patients are screened independently, so this is a
    sample of the same mix), at the cut-off of the whole extract.
    """
    folder = Path(extract_dir)
    con = connect()
    present = _register_tables(con, folder)
    rows = {name: con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0] for name in present}
    summary = ExtractSummary(folder, rows, _figures(con, present), _distributions(con, present))
    if screen:
        from oligo_cohort.api import screen as run_screen  # the engines load only when a screen is asked for

        if rows["patients"] > screen_limit:
            cutoff = as_of or _latest_date(con, present)
            with tempfile.TemporaryDirectory(prefix="synth-sample-") as scratch:
                sample = _first_patients(con, present, Path(scratch), screen_limit)
                result = run_screen(sample, as_of=cutoff, engine=engine)
                summary.screened_patients = screen_limit
        else:
            result = run_screen(folder, as_of=as_of, engine=engine)
            summary.screened_patients = rows["patients"]
        summary.status = result.counts()
        summary.outcomes = result.outcome_table()
        summary.as_of = result.as_of
    con.close()
    return summary


def _latest_date(con: duckdb.DuckDBPyConnection, present: list[str]) -> dt.date:
    """The default cut-off of the whole extract: its latest date, birth dates aside."""
    parts = []
    for name in present:
        for (column,) in con.execute(f"SELECT column_name FROM (DESCRIBE {name})").fetchall():
            if column in _DATE_COLUMNS and column != "birth_date":
                parts.append(f"SELECT max({column}) AS d FROM {name}")
    return con.execute(f"SELECT max(d) FROM ({' UNION ALL '.join(parts)})").fetchall()[0][0]


def _first_patients(con: duckdb.DuckDBPyConnection, present: list[str], folder: Path, count: int) -> Path:
    """Copy the rows of the first `count` patients (by id) of every table into Parquet files in `folder`."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE sample_ids AS SELECT patient_id FROM patients ORDER BY 1 LIMIT {count}")
    for name in present:
        target = literal(str(folder / f"{name}.parquet"))
        con.execute(
            f"COPY (SELECT * FROM raw_{name} WHERE CAST(patient_id AS VARCHAR) IN (SELECT patient_id FROM sample_ids)) "
            f"TO {target} (FORMAT parquet)"
        )
    return folder


def _register_tables(con: duckdb.DuckDBPyConnection, folder: Path) -> list[str]:
    """A view per table file found; returns the table names present."""
    if not folder.is_dir():
        raise UsageError(f"{folder} is not an extract folder")
    present = []
    for name in TABLE_ORDER:
        parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
        if parquet.is_file():
            source = f"read_parquet({literal(str(parquet))})"
        elif csv.is_file():
            source = f"read_csv({literal(str(csv))}, header = true, all_varchar = true)"
        else:
            continue
        con.execute(f"CREATE VIEW raw_{name} AS SELECT * FROM {source}")
        con.execute(f"CREATE VIEW {name} AS SELECT {_typed_columns(con, name)} FROM raw_{name}")
        present.append(name)
    for required in ("patients", "tumours", "systemic_therapy", "imaging", "lesions"):
        if required not in present:
            raise UsageError(f"{folder} has no {required} table (.csv or .parquet)")
    return present


_DATE_COLUMNS = {
    "birth_date", "death_date", "diagnosis_date", "metastasis_date", "last_treatment_date", "start_date",
    "end_date", "study_date", "assessment_date",
}  # fmt: skip
_NUMBER_COLUMNS = {"size_mm": "DOUBLE", "suv_max": "DOUBLE", "score": "INTEGER"}


def _typed_columns(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """Dates and numbers typed the same way whether the file was CSV (text) or Parquet."""
    columns = [row[0] for row in con.execute(f"DESCRIBE raw_{name}").fetchall()]
    typed = []
    for column in columns:
        if column in _DATE_COLUMNS:
            typed.append(f"TRY_CAST(NULLIF(CAST({column} AS VARCHAR), '') AS DATE) AS {column}")
        elif column in _NUMBER_COLUMNS:
            typed.append(f"TRY_CAST(NULLIF(CAST({column} AS VARCHAR), '') AS {_NUMBER_COLUMNS[column]}) AS {column}")
        else:
            typed.append(f"NULLIF(CAST({column} AS VARCHAR), '') AS {column}")
    return ", ".join(typed)


def _figures(con: duckdb.DuckDBPyConnection, present: list[str]) -> dict[str, float]:
    """The headline numbers the generator's parameters are checked against."""
    figures: dict[str, float] = {}
    breast = f"""
        SELECT patient_id, tnm_m, coalesce(metastasis_date, CASE WHEN {M1} THEN diagnosis_date END)
               AS metastasis_date, p.birth_date
        FROM tumours JOIN patients AS p USING (patient_id)
        WHERE {BREAST} AND {INVASIVE}
    """
    row = con.execute(
        f"""
        SELECT count(*), avg(CASE WHEN {M1} THEN 1.0 WHEN tnm_m IS NOT NULL THEN 0.0 END),
               median(date_diff('day', birth_date, metastasis_date) / 365.25),
               avg(CASE WHEN date_diff('day', birth_date, metastasis_date) / 365.25 >= 70 THEN 1.0 ELSE 0.0 END)
        FROM ({breast})
        """
    ).fetchall()[0]  # fetched to the end: an unfinished result blocks the connection
    assert row is not None
    figures["patients"] = float(con.execute("SELECT count(*) FROM patients").fetchall()[0][0])
    figures["breast tumours"] = float(row[0])
    figures["de novo share (M1 at diagnosis)"] = _value(row[1])
    figures["median age at metastatic diagnosis"] = _value(row[2])
    figures["share aged 70+ at metastatic diagnosis"] = _value(row[3])
    figures["share deceased"] = _value(
        con.execute("SELECT avg(CASE WHEN death_date IS NOT NULL THEN 1.0 ELSE 0.0 END) FROM patients").fetchall()[0][0]
    )
    first_line = _first_line_classes(con)
    for label, share in first_line.items():
        figures[f"first line: {label}"] = share
    bone, distant = literal(CODES.bone_organ), literal(CODES.distant_location)
    organs = con.execute(
        f"""
        WITH first_study AS (
            SELECT patient_id, arg_min(study_id, study_date) AS study_id
            FROM imaging WHERE study_id IN (SELECT study_id FROM lesions) GROUP BY patient_id)
        SELECT avg(CASE WHEN bone THEN 1.0 ELSE 0.0 END), avg(CASE WHEN lung THEN 1.0 ELSE 0.0 END),
               avg(CASE WHEN liver THEN 1.0 ELSE 0.0 END), avg(CASE WHEN bone AND only_bone THEN 1.0 ELSE 0.0 END)
        FROM (SELECT f.patient_id, bool_or(l.organ = {bone}) AS bone, bool_or(l.organ = 'lung') AS lung,
                     bool_or(l.organ = 'liver') AS liver,
                     bool_and(l.organ = {bone} OR l.location <> {distant}) AS only_bone
              FROM first_study AS f JOIN lesions AS l USING (study_id) GROUP BY f.patient_id)
        """
    ).fetchall()[0]
    assert organs is not None
    figures["bone lesions at first study"] = _value(organs[0])
    figures["lung lesions at first study"] = _value(organs[1])
    figures["liver lesions at first study"] = _value(organs[2])
    figures["bone-only distant disease at first study"] = _value(organs[3])
    if "performance_status" in present:
        ps = con.execute(
            f"""
            SELECT avg(CASE WHEN score <= {CODES.who_highest_passing_score} THEN 1.0 ELSE 0.0 END)
            FROM (SELECT patient_id, arg_min(score, assessment_date) AS score, arg_min(scale, assessment_date) AS scale
                  FROM performance_status GROUP BY patient_id)
            WHERE scale IN ({literals(CODES.who_scales)})
            """
        ).fetchall()[0][0]
        figures["WHO/ECOG 0-1 at first assessment"] = _value(ps)
    return figures


def _first_line_classes(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Share of treated patients whose first metastatic regimen is endocrine-based, anti-HER2, or neither."""
    her2 = literals(HER2_DRUGS)
    endocrine = literals(d.drug for d in drugs() if d.drug_class == "endocrine")
    supportive = literals(d.drug for d in drugs() if d.drug_class == CODES.supportive_drug_class)
    row = con.execute(
        f"""
        WITH metastatic AS (
            SELECT patient_id, lower(drug) AS drug, start_date FROM systemic_therapy
            WHERE setting = {literal(CODES.metastatic_setting)} AND lower(drug) NOT IN ({supportive})),
        first_start AS (SELECT patient_id, min(start_date) AS first_day FROM metastatic GROUP BY patient_id),
        regimen AS (
            SELECT m.patient_id, bool_or(m.drug IN ({her2})) AS her2, bool_or(m.drug IN ({endocrine})) AS endocrine
            FROM metastatic AS m JOIN first_start AS f USING (patient_id)
            WHERE m.start_date <= f.first_day + INTERVAL {FIRST_LINE_WINDOW_DAYS} DAY
            GROUP BY m.patient_id)
        SELECT avg(CASE WHEN her2 THEN 1.0 ELSE 0.0 END),
               avg(CASE WHEN endocrine AND NOT her2 THEN 1.0 ELSE 0.0 END),
               avg(CASE WHEN NOT her2 AND NOT endocrine THEN 1.0 ELSE 0.0 END),
               count(*)
        FROM regimen
        """
    ).fetchall()[0]  # fetched to the end: an unfinished result blocks the connection
    assert row is not None
    return {
        "anti-HER2": _value(row[0]),
        "endocrine-based (no anti-HER2)": _value(row[1]),
        "chemotherapy or other": _value(row[2]),
        "patients treated": float(row[3]),
    }


def _distributions(con: duckdb.DuckDBPyConnection, present: list[str]) -> dict[str, pd.DataFrame]:
    queries = {
        "Patients per site": """
            SELECT site_id, count(*) AS patients FROM patients GROUP BY site_id ORDER BY patients DESC, site_id""",
        "Metastatic drugs (top 15)": f"""
            SELECT lower(drug) AS drug, count(*) AS episodes, count(DISTINCT patient_id) AS patients
            FROM systemic_therapy WHERE coalesce(setting, '') = {literal(CODES.metastatic_setting)}
            GROUP BY 1 ORDER BY episodes DESC, drug LIMIT 15""",
        "Therapy setting": """
            SELECT coalesce(setting, '(missing)') AS setting, count(*) AS episodes
            FROM systemic_therapy GROUP BY 1 ORDER BY episodes DESC, setting""",
        "Imaging modality": """
            SELECT modality, count(*) AS studies, round(count(*) * 100.0 / sum(count(*)) OVER (), 1) AS pct
            FROM imaging GROUP BY 1 ORDER BY studies DESC, modality""",
        "Studies per patient": """
            SELECT min(n) AS min, quantile_cont(n, 0.25) AS q1, median(n) AS median, quantile_cont(n, 0.75) AS q3,
                   max(n) AS max
            FROM (SELECT patient_id, count(*) AS n FROM imaging GROUP BY patient_id)""",
        "Lesion organs (rows)": """
            SELECT organ, count(*) AS rows, round(count(*) * 100.0 / sum(count(*)) OVER (), 1) AS pct
            FROM lesions GROUP BY 1 ORDER BY rows DESC, organ""",
        "Basis of diagnosis (breast)": f"""
            SELECT coalesce(basis_of_diagnosis, '(missing)') AS basis, count(*) AS tumours FROM tumours
            WHERE {BREAST} GROUP BY 1 ORDER BY tumours DESC, basis""",
        "Other primary tumours": f"""
            SELECT CASE WHEN behaviour = '2' THEN 'in situ'
                        WHEN {SKIN} AND morphology {CODES.basal_cell_morphology.between_sql()} THEN 'skin BCC'
                        WHEN {SKIN} AND morphology {CODES.squamous_cell_morphology.between_sql()} THEN 'skin SCC'
                        ELSE 'other malignancy' END AS kind, count(*) AS tumours
            FROM tumours WHERE NOT {BREAST} GROUP BY 1 ORDER BY tumours DESC, kind""",
    }
    if "response_assessments" in present:
        queries["Responses"] = """
            SELECT response, count(*) AS assessments FROM response_assessments GROUP BY 1 ORDER BY assessments DESC"""
    if "performance_status" in present:
        queries["Performance status"] = """
            SELECT scale, score, count(*) AS assessments FROM performance_status GROUP BY 1, 2 ORDER BY 1, 2"""
    if "observations" in present:
        queries["Observations"] = """
            SELECT code, value, count(*) AS observations FROM observations GROUP BY 1, 2 ORDER BY 1, 2"""
    return {title: con.execute(query).df() for title, query in queries.items()}


def _value(value: object) -> float:
    return float("nan") if value is None else float(value)  # type: ignore[arg-type]


def _number(value: float) -> str:
    if value != value:  # NaN
        return "-"
    if value.is_integer() and value > 1:
        return f"{int(value):,}"
    return f"{value:.3f}" if value < 1 else f"{value:.1f}"


def _share(count: int, total: int) -> str:
    return f"{count / total * 100:.1f} %" if total else "-"
