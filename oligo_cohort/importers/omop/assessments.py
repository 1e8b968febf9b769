"""OMOP measurement/observation facts and episodes → performance_status and response_assessments."""

from __future__ import annotations

import re

import pandas as pd

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.importers.common import canonical_frame, date_column
from oligo_cohort.importers.omop.context import OmopImport
from oligo_cohort.importers.omop.facts import DISEASE_STATUS_CONCEPTS, response_of
from oligo_cohort.importers.omop.lineage import record_lineage


def performance_status(run: OmopImport, facts: pd.DataFrame) -> pd.DataFrame:
    """The performance-status facts of mapped persons whose score lies on its scale, one per day and scale."""
    record_lineage(run.report, "performance_status")
    rows = []
    for r in facts[facts["kind"] == "performance_status"].to_dict("records") if len(facts) else []:
        if not run.known_person(r["table"], r["person_id"], "performance_status"):
            continue
        scale, score = r["value"]
        limit = 100 if scale == clinical_codes().karnofsky_scale else 5
        if score is None or not 0 <= score <= limit:
            run.report.drop(r["table"], "performance_status", f"no {scale} score in 0-{limit}")
            continue
        rows.append({"patient_id": r["person_id"], "assessment_date": r["date"], "scale": scale, "score": score})
    return canonical_frame(
        "performance_status",
        run.unique(rows, ("patient_id", "assessment_date", "scale", "score"), "performance_status"),
    )


def responses(run: OmopImport, facts: pd.DataFrame) -> pd.DataFrame:
    """Response facts and disease-dynamic episodes of mapped persons, one per day and response."""
    record_lineage(run.report, "response_assessments")
    rows = []
    for r in facts[facts["kind"] == "response"].to_dict("records") if len(facts) else []:
        if run.known_person(r["table"], r["person_id"], "response_assessments"):
            rows.append({"patient_id": r["person_id"], "assessment_date": r["date"], "response": r["value"]})
    if run.src.has("episode"):
        ep = run.src.frame(
            "episode",
            [
                "episode_id",
                "person_id",
                "episode_concept_id",
                "episode_object_concept_id",
                "episode_start_date",
                "episode_source_value",
            ],
        )
        ep["date"] = date_column(
            ep, "episode_start_date", table="episode", problems=run.problems, required=True, id_column="episode_id"
        )
        run.concepts.load(set(ep["episode_concept_id"]) | set(ep["episode_object_concept_id"]))
        used = 0
        for r in ep.to_dict("records"):
            status = DISEASE_STATUS_CONCEPTS.get(r["episode_concept_id"] or "") or DISEASE_STATUS_CONCEPTS.get(
                r["episode_object_concept_id"] or ""
            )
            if not status:
                names = [
                    run.concepts.get(r[c]).get("concept_name")
                    for c in ("episode_concept_id", "episode_object_concept_id")
                ]
                text = " ".join(n for n in [*names, r["episode_source_value"]] if n)
                if not re.search(r"regimen|cycle|treatment|first occurrence|occurrence", text, re.I):
                    status = response_of([text]) if text else None
            if status and r["date"] is not None and run.known_person("episode", r["person_id"], "response_assessments"):
                rows.append({"patient_id": r["person_id"], "assessment_date": r["date"], "response": status})
                used += 1
        run.report.drop("episode", "response_assessments", "not a disease-dynamic (response) episode", len(ep) - used)
    return canonical_frame(
        "response_assessments",
        run.unique(rows, ("patient_id", "assessment_date", "response"), "response_assessments"),
    )
