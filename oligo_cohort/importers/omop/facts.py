"""OMOP measurement and observation rows → the oncology facts the other domains use.

Each row is classified once: a performance status (LOINC 89247-1 ECOG, 89243-0 Karnofsky, WHO by name), a
disease response (Oncology-extension disease-status concepts, or a response record naming one), the basis of
diagnosis (NAACCR item 490), a TNM M category (Cancer Modifier), or a metastasis (present, absent, regional).
Every other row is counted as dropped. Conditions use the M category, basis and metastases; assessments the
performance status and responses.
"""

from __future__ import annotations

import re

import pandas as pd

from oligo_cohort.importers.common import MAX_WHOLE, ROW, date_column, to_int, to_number
from oligo_cohort.importers.omop.context import OmopImport

ECOG_LOINC = "89247-1"  # ECOG Performance Status score
KARNOFSKY_LOINC = "89243-0"  # Karnofsky Performance Status score
ECOG_ANSWERS = {"LA9622-7": 0, "LA9623-5": 1, "LA9624-3": 2, "LA9625-0": 3, "LA9626-8": 4, "LA9627-6": 5}

# Oncology extension disease-status (disease dynamic) concepts.
DISEASE_STATUS_CONCEPTS = {"32946": "CR", "32947": "PR", "32948": "SD", "32949": "PD"}

# NAACCR item 490 "Diagnostic Confirmation" → basis_of_diagnosis.
NAACCR_490 = {
    "1": "histology_primary",  # positive histology (of the primary or a metastasis: both pass)
    "2": "cytology",
    "3": "histology_primary",  # histology plus immunophenotyping / genetics
    "4": "unknown",  # microscopic confirmation, method not specified: histology or cytology?
    "5": "clinical",  # positive laboratory test or marker
    "6": "clinical",  # direct visualisation
    "7": "clinical",  # radiography / imaging
    "8": "clinical",  # clinical diagnosis only
    "9": "unknown",
}

M_CODE = re.compile(r"^[cpyr]{0,2}\s*M\s*([01X])(?:[abcd]|\(i\+\)|\s*\(i\+\))?$", re.IGNORECASE)
M_IN_TEXT = re.compile(r"(?:^|[-_/ ])[cpyr]{0,2}M([01X])(?:[abcd]|\(i\+\))?(?:$|[-_/ ])", re.IGNORECASE)
RESPONSE_WORDS = (
    (re.compile(r"complete (response|remission)", re.I), "CR"),
    (re.compile(r"partial (response|remission)", re.I), "PR"),
    (re.compile(r"stable disease", re.I), "SD"),
    (re.compile(r"progressi(ve disease|on)", re.I), "PD"),
    (re.compile(r"not evaluable", re.I), "NE"),
)
_ONCOLOGY_FACT = re.compile(
    rf"{re.escape(ECOG_LOINC)}|{re.escape(KARNOFSKY_LOINC)}|ecog|karnofsky|performance|respon|recist|disease status|"
    r"disease dynamic|(?:^|\s)490@|diagnostic confirmation|m category|metasta|tnm|ajcc|uicc",
    re.IGNORECASE,
)
RESPONSE_CODES = {"CR": "CR", "PR": "PR", "SD": "SD", "PD": "PD", "NE": "NE"}


def m_category(texts: list[str], *, tnm_context: bool) -> str | None:
    """`M0`/`M1`/`MX` from a Cancer Modifier code, name or source value (cM0(i+) is M0)."""
    for text in texts:
        if M_CODE.match(text.strip()):
            return "M" + M_CODE.match(text.strip()).group(1).upper()  # type: ignore[union-attr]
        if tnm_context or re.search(r"AJCC|UICC|TNM", text, re.I):
            m = M_IN_TEXT.search(text)
            if m:
                return "M" + m.group(1).upper()
    return None


def response_of(texts: list[str]) -> str | None:
    """CR/PR/SD/PD/NE from the first text that is such a code or names one ("stable disease", "progression")."""
    for text in texts:
        code = RESPONSE_CODES.get(text.strip().upper())
        if code:
            return code
        for pattern, value in RESPONSE_WORDS:
            if pattern.search(text):
                return value
    return None


# Where each field of a fact comes from, per source table: the columns to read, the first filled one wins.
FACT_SOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "measurement": {
        "person_id": ("person_id",),
        "concept_id": ("measurement_concept_id",),
        "source_concept_id": ("measurement_source_concept_id",),
        "source_value": ("measurement_source_value",),
        "value_number": ("value_as_number",),
        "value_concept_id": ("value_as_concept_id",),
        "value_text": ("value_source_value",),
        # the Oncology extension's link to the condition a modifier describes (and its older columns)
        "event_id": ("measurement_event_id", "modifier_of_event_id"),
        "event_field": ("meas_event_field_concept_id", "modifier_of_field_concept_id"),
    },
    "observation": {
        "person_id": ("person_id",),
        "concept_id": ("observation_concept_id",),
        "source_concept_id": ("observation_source_concept_id",),
        "source_value": ("observation_source_value",),
        "value_number": ("value_as_number",),
        "value_concept_id": ("value_as_concept_id",),
        "value_text": ("value_source_value", "value_as_string"),
        "event_id": ("observation_event_id",),
        "event_field": ("obs_event_field_concept_id",),
    },
}


def _fact_rows(run: OmopImport, table: str) -> pd.DataFrame:
    """The rows of `measurement` or `observation` as facts: `table`, `row`, `date` and the FACT_SOURCES fields."""
    sources = FACT_SOURCES[table]
    date = f"{table}_date"
    frame = run.src.frame(table, [date, *(column for columns in sources.values() for column in columns)])
    rows: dict[str, object] = {
        "table": table,
        "row": frame[ROW],
        "date": date_column(frame, date, table=table, problems=run.problems, required=True),
    }
    for field, columns in sources.items():
        value = frame[columns[0]]
        for fallback in columns[1:]:
            value = value.where(value.notna(), frame[fallback])
        rows[field] = value
    return pd.DataFrame(rows)


def facts(run: OmopImport) -> pd.DataFrame:
    """measurement and observation rows in one frame, each classified (PS, response, M, metastasis, basis)."""
    parts = [_fact_rows(run, table) for table in FACT_SOURCES if run.src.has(table)]
    if not parts:
        return pd.DataFrame(columns=["table", "row", "person_id", "date", "kind", "value"])
    facts = pd.concat(parts, ignore_index=True).astype(object)
    facts = facts.where(facts.notna(), None)
    run.concepts.load(set(facts["concept_id"]) | set(facts["source_concept_id"]) | set(facts["value_concept_id"]))
    kinds, values = [], []
    relevant: dict[tuple, bool] = {}
    for record in facts.to_dict("records"):
        key = (
            record["concept_id"],
            record["source_concept_id"],
            record["source_value"],
            record["value_concept_id"],
        )
        if key not in relevant:  # most rows (vital signs, labs) are ruled out once per distinct code
            relevant[key] = _may_be_oncology_fact(run, record)
        kind, value = _classify_fact(run, record) if relevant[key] else (None, None)
        kinds.append(kind)
        values.append(value)
    facts["kind"] = kinds
    facts["value"] = values
    for (table, kind), n in facts.groupby(["table", facts["kind"].fillna("")]).size().items():
        if not kind:
            run.report.drop(
                table,
                "-",
                "not a performance status, response, TNM M, metastasis or basis-of-diagnosis record",
                int(n),
            )
    return facts


def _may_be_oncology_fact(run: OmopImport, r: dict) -> bool:
    """A quick test that rules out most rows (vital signs, labs) before they are classified."""
    if r["concept_id"] in DISEASE_STATUS_CONCEPTS or r["value_concept_id"] in DISEASE_STATUS_CONCEPTS:
        return True
    concept = run.concepts.get(r["concept_id"])
    if (concept.get("vocabulary_id") or "").lower() == "cancer modifier":
        return True
    source_concept = run.concepts.get(r["source_concept_id"])
    texts = [
        concept.get("concept_code"),
        concept.get("concept_name"),
        source_concept.get("concept_code"),
        source_concept.get("concept_name"),
        r["source_value"],
    ]
    text = " ".join(t for t in texts if t)
    return bool(_ONCOLOGY_FACT.search(text) or M_CODE.match(r["source_value"] or ""))


def _classify_fact(run: OmopImport, r: dict) -> tuple[str | None, object]:
    """(kind, value) of one row: performance status, response, basis, TNM M, (negative/regional) metastasis."""
    concept = run.concepts.get(r["concept_id"])
    source_concept = run.concepts.get(r["source_concept_id"])
    value_concept = run.concepts.get(r["value_concept_id"])
    codes = [c for c in (concept.get("concept_code"), source_concept.get("concept_code"), r["source_value"]) if c]
    names = [n for n in (concept.get("concept_name"), source_concept.get("concept_name")) if n]
    texts = codes + names
    lowered = " ".join(texts).lower()
    # Performance status (LOINC 89247-1 ECOG, 89243-0 Karnofsky; WHO by name).
    scale = None
    if ECOG_LOINC in codes or "ecog" in lowered:
        scale = "ECOG"
    elif KARNOFSKY_LOINC in codes or "karnofsky" in lowered:
        scale = "KPS"
    elif re.search(r"\bwho\b.*performance|performance status", lowered):
        scale = "WHO"
    if scale:
        return "performance_status", (scale, _score(run, r, value_concept))
    # Disease response.
    status = DISEASE_STATUS_CONCEPTS.get(r["concept_id"] or "") or DISEASE_STATUS_CONCEPTS.get(
        r["value_concept_id"] or ""
    )
    if status:
        return "response", status
    if re.search(r"response|recist|disease status|disease dynamic", lowered):
        found = response_of(
            [x for x in (value_concept.get("concept_name"), value_concept.get("concept_code"), r["value_text"]) if x]
        )
        if found:
            return "response", found
    # Basis of diagnosis (NAACCR item 490).
    for code in codes:
        m = re.match(r"^490@(\d)$", code)
        if m:
            return "basis", NAACCR_490.get(m.group(1))
    if "diagnostic confirmation" in lowered:
        digit = next((x for x in (value_concept.get("concept_code"), r["value_text"], r["value_number"]) if x), None)
        basis = NAACCR_490.get(str(to_int(str(digit).split("@")[-1]) if digit else ""))
        if basis:
            return "basis", basis
    # TNM M category (Cancer Modifier, or a plain source value such as cM1).
    is_modifier = (concept.get("vocabulary_id") or "").lower() == "cancer modifier"
    tnm_context = bool(re.search(r"\bm category|distant metastas[ie]s \(m\)|tnm m\b", lowered))
    m = m_category(codes + names, tnm_context=is_modifier)
    if m is None and tnm_context:
        m = m_category(
            [x for x in (value_concept.get("concept_code"), value_concept.get("concept_name"), r["value_text"]) if x],
            tnm_context=True,
        )
    if m:
        return "tnm_m", m
    # Metastasis (Cancer Modifier class "Metastasis", or a "metastasis to ..." record).
    klass = (concept.get("concept_class_id") or "").lower()
    if klass == "metastasis" or re.search(r"metasta", lowered):
        if re.search(r"axill|regional|lymph node", lowered) and "distant" not in lowered:
            return "regional", None
        negative = (r["value_text"] or "").strip().lower() in ("0", "no", "absent", "negative", "false")
        if negative or to_int(r["value_number"]) == 0:
            return "negative_metastasis", None
        return "metastasis", None
    return None, None


def _score(run: OmopImport, r: dict, value_concept: dict) -> int | None:
    """A performance-status score: the number, else a LOINC answer, else the digits of the value.

    A value_as_number that is not a finite number (text, `nan`, `inf`, `1e400`) is a problem: the source's
    numeric column is damaged, and its answer concept or text cannot be trusted to stand in for it.
    """
    if r["value_number"] is not None:
        number = to_number(r["value_number"])
        if number is None or abs(number) > MAX_WHOLE:
            run.problems.add(
                r["table"], "value_as_number", int(r["row"]), r["value_number"], "not a number of a usable size"
            )
            return None
        return int(number) if number == number.to_integral_value() else None
    code = value_concept.get("concept_code")
    if code in ECOG_ANSWERS:
        return ECOG_ANSWERS[code]
    for text in (value_concept.get("concept_name"), r["value_text"]):
        if text:
            m = re.search(r"\d+", text)
            if m:
                return int(m.group(0))
    return None
