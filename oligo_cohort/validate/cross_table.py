"""The rules that read two tables: every record's patient in patients, every lesion's study in imaging and of the
same patient, dates in order, and no event dated before the patient's birth.
"""

from __future__ import annotations

import duckdb

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.dictionary import tables
from oligo_cohort.problems import Problem
from oligo_cohort.sql_text import literals
from oligo_cohort.validate.dates import PlausibleDates
from oligo_cohort.validate.rules import Rule, collect_problems, raw_columns, rule_checks
from oligo_cohort.validate.typed_tables import raw_ref

# Tables whose every record names a patient of the patients table.
_ORPHAN_TABLES = (
    "tumours",
    "systemic_therapy",
    "imaging",
    "lesions",
    "response_assessments",
    "performance_status",
    "observations",
)

# Tables of episodes, whose end cannot precede their start.
_EPISODE_TABLES = ("systemic_therapy", "observations")

# Dates that cannot precede the patient's birth (a sign of rows attached to the wrong patient).
_EVENT_DATES = (
    ("patients", "death_date"),
    ("tumours", "diagnosis_date"),
    ("systemic_therapy", "start_date"),
    ("imaging", "study_date"),
    ("response_assessments", "assessment_date"),
    ("performance_status", "assessment_date"),
    ("observations", "start_date"),
)


def cross_table_checks(con: duckdb.DuckDBPyConnection, dates: PlausibleDates) -> list[Problem]:
    model = tables()
    checks: list[tuple[str, Rule]] = []
    for name in _ORPHAN_TABLES:
        checks.append(
            (
                name,
                Rule(
                    "fatal",
                    "patient_id",
                    "t.patient_id IS NOT NULL AND t.patient_id NOT IN (SELECT patient_id FROM typed_patients "
                    "WHERE patient_id IS NOT NULL)",
                    "patient is not in the patients table",
                    raw_ref("patient_id"),
                ),
            )
        )
    checks += [
        (
            "lesions",
            Rule(
                "fatal",
                "study_id",
                "t.study_id IS NOT NULL AND t.study_id NOT IN (SELECT study_id FROM typed_imaging "
                "WHERE study_id IS NOT NULL)",
                "study is not in the imaging table",
                raw_ref("study_id"),
            ),
        ),
        (
            "lesions",
            Rule(
                "fatal",
                "patient_id",
                "EXISTS (SELECT 1 FROM typed_imaging AS i WHERE i.study_id = t.study_id "
                "AND i.patient_id <> t.patient_id)",
                "'the study belongs to patient ' || (SELECT min(i.patient_id) FROM typed_imaging AS i "
                "WHERE i.study_id = t.study_id)",
                raw_ref("patient_id"),
                message_is_sql=True,
            ),
        ),
        *((name, _ends_before_start(dates)) for name in _EPISODE_TABLES),
        (
            "performance_status",
            Rule(
                "fatal",
                "score",
                f"t.scale IN ({literals(clinical_codes().who_scales)}) AND t.score > 5",
                "'impossible value: ' || t.scale || ' scores run from 0 to 5'",
                raw_ref("score"),
                message_is_sql=True,
            ),
        ),
        (
            "systemic_therapy",
            Rule(
                "finding",
                "drug",
                "t.drug IS NOT NULL AND lower(t.drug) NOT IN (SELECT name FROM drug_lookup)",
                "drug is not in the vocabulary: it still defines lines of therapy, but its class is unknown",
                raw_ref("drug"),
            ),
        ),
    ]
    for name, column in _EVENT_DATES:
        checks.append(
            (
                name,
                Rule(
                    "fatal",
                    column,
                    f"{dates.holds(f't.{column}')} AND "
                    f"t.{column} < (SELECT min(p.birth_date) FROM typed_patients AS p WHERE p.patient_id = t.patient_id)",
                    "'dated before the patient''s birth ('  || CAST((SELECT min(p.birth_date) FROM typed_patients AS p "
                    "WHERE p.patient_id = t.patient_id) AS VARCHAR) || ')'",
                    raw_ref(column),
                    message_is_sql=True,
                ),
            )
        )
    # Absent tables have no rows; a rule on an optional column the extract leaves out has nothing to check.
    present = {name: raw_columns(con, model[name]) for name in dict.fromkeys(name for name, _ in checks)}
    by_table: dict[str, list[Rule]] = {}
    for name, rule in checks:
        if rule.column in present[name]:
            by_table.setdefault(name, []).append(rule)
    found = [c for name, rules in by_table.items() for c in rule_checks(con, model[name], rules, present[name])]
    return collect_problems(con, found)


def _ends_before_start(dates: PlausibleDates) -> Rule:
    """An episode ending before it starts (both dates plausible: an implausible one is a finding of its own)."""
    return Rule(
        "fatal",
        "end_date",
        f"t.end_date < t.start_date AND {dates.holds('t.end_date')} AND {dates.holds('t.start_date')}",
        "'end date is before the start date ' || CAST(t.start_date AS VARCHAR)",
        raw_ref("end_date"),
        message_is_sql=True,
    )
