"""OMOP drug_exposure → systemic_therapy: every concept rule of the drug domain.

A product is resolved to the project's drug vocabulary through its RxNorm ingredients (concept_ancestor), else
its ATC codes, else a vocabulary name or alias in its text; vocabulary drugs in non-cancer products and
non-antineoplastic drugs outside the vocabulary are dropped. Exposures of one drug at most `gap_days` apart form
one episode; a linked episode (episode_event) gives the setting.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from oligo_cohort.counts_in_words import counted
from oligo_cohort.importers.common import (
    ANTINEOPLASTIC_ATC_PREFIXES,
    ROW,
    add_days,
    canonical_frame,
    date_column,
    looks_like_atc,
    to_days,
)
from oligo_cohort.importers.omop.context import OmopImport
from oligo_cohort.importers.omop.lineage import record_lineage

# Metadata concept naming the table/field an episode event points at.
DRUG_EXPOSURE_FIELD = "1147094"  # drug_exposure.drug_exposure_id


def systemic_therapy(run: OmopImport) -> pd.DataFrame:
    """Drug exposures of cancer drugs, resolved to the vocabulary and merged into episodes per drug."""
    record_lineage(run.report, "systemic_therapy", gap_days=run.gap_days)
    if not run.src.has("drug_exposure"):
        run.report.note("drug_exposure is absent: systemic_therapy is empty (no line of therapy).")
        return canonical_frame("systemic_therapy", [])
    de = run.src.frame(
        "drug_exposure",
        [
            "drug_exposure_id",
            "person_id",
            "drug_concept_id",
            "drug_exposure_start_date",
            "drug_exposure_end_date",
            "days_supply",
            "drug_source_value",
            "drug_source_concept_id",
        ],
    )
    de["start"] = date_column(
        de,
        "drug_exposure_start_date",
        table="drug_exposure",
        problems=run.problems,
        required=True,
        id_column="drug_exposure_id",
    )
    de["end"] = date_column(
        de, "drug_exposure_end_date", table="drug_exposure", problems=run.problems, id_column="drug_exposure_id"
    )
    resolved = _resolve_drugs(run, de)
    settings = _settings(run)
    data_end = _data_end(run, de)
    exposures: list[dict] = []
    for r, drugs in zip(de.to_dict("records"), resolved, strict=True):
        if not run.known_person("drug_exposure", r["person_id"], "systemic_therapy"):
            continue
        if isinstance(drugs, str):
            run.report.drop("drug_exposure", "systemic_therapy", drugs)
            continue
        if r["start"] is None:
            continue
        end = r["end"] or _supplied_until(run, r)
        if end is None:
            continue
        if end < r["start"]:
            run.problems.add(
                "drug_exposure",
                "drug_exposure_end_date",
                r[ROW],
                r["drug_exposure_end_date"],
                "end date before the start date",
                r["drug_exposure_id"],
            )
            continue
        for drug in drugs:
            exposures.append(
                {
                    "patient_id": r["person_id"],
                    "drug": drug,
                    "start": r["start"],
                    "end": end,
                    "setting": settings.get(r["drug_exposure_id"]),
                }
            )
    rows = _episodes(run, exposures, data_end)
    return canonical_frame("systemic_therapy", rows)


def _supplied_until(run: OmopImport, r: dict) -> dt.date | None:
    """The last day of an exposure without an end date: start + days_supply - 1, else the start day; None when
    days_supply is not a usable number of days (a problem)."""
    supply = to_days(r["days_supply"])
    if r["days_supply"] is not None and (supply is None or supply < 0):
        run.problems.add(
            "drug_exposure",
            "days_supply",
            r[ROW],
            r["days_supply"],
            "not a whole number of days from 0 to 150 years",
            r["drug_exposure_id"],
        )
        return None
    end = add_days(r["start"], supply - 1) if supply and supply > 0 else r["start"]
    if end is None:
        run.problems.add(
            "drug_exposure",
            "days_supply",
            r[ROW],
            r["days_supply"],
            "the start date plus the days supplied lies beyond the calendar",
            r["drug_exposure_id"],
        )
    return end


def _resolve_drugs(run: OmopImport, de: pd.DataFrame) -> list[list[str] | str]:
    """Per exposure: the drug names (vocabulary, or unknown antineoplastic) or a drop reason."""
    ids = set(de["drug_concept_id"]) | set(de["drug_source_concept_id"])
    run.concepts.load(ids)
    ingredients: dict[str, list[dict]] = {}
    for r in run.src.ancestors(set(de["drug_concept_id"])).to_dict("records"):
        ingredients.setdefault(r["descendant_concept_id"], []).append(r)
    if run.src.has("concept_ancestor"):
        run.report.note("drug_exposure: drugs rolled up to RxNorm ingredients through concept_ancestor.")
    cache: dict[tuple, list[str] | str] = {}
    out: list[list[str] | str] = []
    for r in de[["drug_concept_id", "drug_source_concept_id", "drug_source_value"]].to_dict("records"):
        key = (r["drug_concept_id"], r["drug_source_concept_id"], r["drug_source_value"])
        if key not in cache:
            cache[key] = _resolve_one(run, *key, ingredients.get(r["drug_concept_id"] or "", []))
        out.append(cache[key])
    return out


def _resolve_one(
    run: OmopImport,
    concept_id: str | None,
    source_concept_id: str | None,
    source_value: str | None,
    ancestors: list[dict],
) -> list[str] | str:
    """One product's vocabulary drugs (ingredient, else ATC, else a name in its text), or why it is dropped."""
    concept = run.concepts.get(concept_id)
    source_concept = run.concepts.get(source_concept_id)
    ingredient_names = [
        a["concept_name"] for a in ancestors if (a.get("concept_class_id") or "").lower() == "ingredient"
    ]
    if (concept.get("concept_class_id") or "").lower() == "ingredient" and concept.get("concept_name"):
        ingredient_names.append(concept["concept_name"])
    atc_codes = [
        a["concept_code"]
        for a in ancestors
        if (a.get("vocabulary_id") or "").upper() == "ATC" and a.get("concept_code")
    ]
    for c in (concept, source_concept):
        if (c.get("vocabulary_id") or "").upper() == "ATC" and c.get("concept_code"):
            atc_codes.append(c["concept_code"])
    if looks_like_atc(source_value):
        atc_codes.append(source_value.strip().upper())
    known: list[str] = []
    for name in ingredient_names:
        match = run.matcher.by_name(name)
        if match:
            known.append(match.drug)
    if not known:
        for code in atc_codes:
            match = run.matcher.by_atc(code)
            if match:
                known.append(match.drug)
    if not known:
        for text in (concept.get("concept_name"), source_concept.get("concept_name"), source_value):
            match = run.matcher.by_name(text) or run.matcher.by_contained_name(text)
            if match:
                known.append(match.drug)
                break
    cancer_classes = (*ANTINEOPLASTIC_ATC_PREFIXES, "M05")  # M05: bone agents (denosumab, zoledronic acid)
    if known and atc_codes and not any(code.upper().startswith(cancer_classes) for code in atc_codes):
        # e.g. medroxyprogesterone as a contraceptive (G03AC06), methotrexate for arthritis (L04AX03)
        return f"a vocabulary drug in a non-cancer product (ATC {', '.join(sorted(set(atc_codes)))})"
    if known:
        return run.matcher.combine(known)
    antineoplastic = any(code.upper().startswith(ANTINEOPLASTIC_ATC_PREFIXES) for code in atc_codes)
    if antineoplastic:
        name = (ingredient_names[0] if ingredient_names else None) or concept.get("concept_name") or source_value
        return [re.sub(r"\s+", " ", str(name).strip().lower())]
    return "not in the drug vocabulary and not an antineoplastic/endocrine (ATC L01/L02) drug"


def _settings(run: OmopImport) -> dict[str, str]:
    """drug_exposure_id → setting, from Treatment Regimen episodes (and their parent disease episode)."""
    if not (run.src.has("episode") and run.src.has("episode_event")):
        run.report.note(
            "systemic_therapy.setting: no episode/episode_event tables; every episode's setting is 'unknown' "
            "and the screen infers it from the breast tumour's metastasis date."
        )
        return {}
    ep = run.src.frame(
        "episode",
        [
            "episode_id",
            "person_id",
            "episode_concept_id",
            "episode_parent_id",
            "episode_number",
            "episode_object_concept_id",
            "episode_source_value",
        ],
    )
    ev = run.src.frame("episode_event", ["episode_id", "event_id", "episode_event_field_concept_id"])
    run.concepts.load(set(ep["episode_concept_id"]) | set(ep["episode_object_concept_id"]))
    episodes = {r["episode_id"]: r for r in ep.to_dict("records")}

    def text(r: dict) -> str:
        parts = [r.get("episode_source_value")]
        parts += [
            run.concepts.get(r.get(c)).get("concept_name") for c in ("episode_concept_id", "episode_object_concept_id")
        ]
        return " ".join(p for p in parts if p).lower()

    def setting_of(r: dict) -> str | None:
        for candidate in (r, episodes.get(r.get("episode_parent_id"))):
            if not candidate:
                continue
            words = text(candidate)
            if "neoadjuvant" in words or "neo-adjuvant" in words:
                return "neoadjuvant"
            if "adjuvant" in words:
                return "adjuvant"
            if re.search(r"metasta|palliat|recurren|progress|advanced|line", words):
                return "metastatic"
        return None

    found: dict[str, set[str]] = {}
    numbered = 0
    for r in ev.to_dict("records"):
        if r["episode_event_field_concept_id"] not in (None, DRUG_EXPOSURE_FIELD):
            continue
        episode = episodes.get(r["episode_id"])
        if episode is None:
            continue
        numbered += episode.get("episode_number") is not None
        setting = setting_of(episode)
        if setting:
            found.setdefault(r["event_id"], set()).add(setting)
    # An exposure in episodes of different settings has none the screen can trust: it infers one (unknown).
    settings = {event: next(iter(kinds)) for event, kinds in found.items() if len(kinds) == 1}
    take = "takes its" if len(settings) == 1 else "take their"
    run.report.note(
        f"systemic_therapy.setting: {counted(len(settings), 'drug exposure')} {take} setting from a treatment "
        f"episode; episode_number present on {counted(numbered, 'linked exposure')} (a cross-check only: lines are "
        "derived by the screen)."
    )
    if len(found) > len(settings):
        mixed = len(found) - len(settings)
        are, their = ("is", "its") if mixed == 1 else ("are", "their")
        run.report.note(
            f"systemic_therapy.setting: {counted(mixed, 'drug exposure')} {are} linked to treatment episodes of "
            f"different settings: {their} setting is 'unknown' (the screen infers it from the metastasis date)."
        )
    return settings


def _data_end(run: OmopImport, de: pd.DataFrame) -> dict[str | None, dt.date]:
    """person_id → the end of the person's data (observation period); None → the source's latest drug date."""
    ends: dict[str | None, dt.date] = {}
    if run.src.has("observation_period"):
        op = run.src.frame("observation_period", ["person_id", "observation_period_end_date"])
        dates = date_column(op, "observation_period_end_date", table="observation_period", problems=run.problems)
        for pid, day in zip(op["person_id"], dates, strict=True):
            if day is not None:
                ends[pid] = max(day, ends.get(pid, day))
    latest = max([d for d in list(de["start"]) + list(de["end"]) if d is not None], default=None)
    if latest is not None:
        ends[None] = latest
    return ends


def _episodes(run: OmopImport, exposures: list[dict], data_end: dict) -> list[dict]:
    """Collapse exposures of one drug separated by at most gap_days into one episode."""
    rows: list[dict] = []
    merged = 0
    exposures.sort(key=lambda e: (e["patient_id"], e["drug"], e["start"], e["end"]))
    current: dict | None = None
    for e in [*exposures, None]:
        if (
            current is not None
            and e is not None
            and (e["patient_id"], e["drug"]) == (current["patient_id"], current["drug"])
            and (e["start"] - current["end"]).days <= run.gap_days
        ):
            current["end"] = max(current["end"], e["end"])
            current["setting"] = current["setting"] or e["setting"]
            merged += 1
            continue
        if current is not None:
            end = data_end.get(current["patient_id"], data_end.get(None))
            ongoing = end is not None and (end - current["end"]).days <= run.gap_days
            rows.append(
                {
                    "patient_id": current["patient_id"],
                    "drug": current["drug"],
                    "start_date": current["start"],
                    "end_date": None if ongoing else current["end"],
                    "setting": current["setting"] or "unknown",
                }
            )
        current = dict(e) if e is not None else None
    run.report.drop(
        "drug_exposure",
        "systemic_therapy",
        f"exposure continuing an episode (merged, gap <= {run.gap_days} days)",
        merged,
    )
    return rows
