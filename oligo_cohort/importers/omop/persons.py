"""OMOP persons → patients: person, with its care site or location, and death."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from oligo_cohort.counts_in_words import counted
from oligo_cohort.importers.common import ROW, UNKNOWN_SITE, canonical_frame, date_column, to_int
from oligo_cohort.importers.omop.context import OmopImport
from oligo_cohort.importers.omop.lineage import record_lineage

GENDER_CONCEPTS = {"8532": "F", "8507": "M"}  # OMOP Gender vocabulary: FEMALE, MALE
GENDER_SOURCE_VALUES = {"f": "F", "female": "F", "v": "F", "vrouw": "F", "2": "F", "m": "M", "male": "M", "man": "M"}


def patients(run: OmopImport) -> pd.DataFrame:
    """One patient per person (a missing or repeated person_id is a problem); sets `run.persons`."""
    person = run.src.frame(
        "person",
        [
            "person_id",
            "year_of_birth",
            "month_of_birth",
            "day_of_birth",
            "birth_datetime",
            "gender_concept_id",
            "gender_source_value",
            "care_site_id",
            "location_id",
        ],
    )
    births = date_column(person, "birth_datetime", table="person", problems=run.problems, id_column="person_id")
    sites = _sites(run)
    deaths, dead = _deaths(run)
    rows = []
    approximate = 0
    seen: set[str] = set()
    for i, record in enumerate(person.to_dict("records")):
        pid = record["person_id"]
        if pid is None:
            run.problems.add("person", "person_id", record[ROW], None, "person_id is missing")
            continue
        if pid in seen:
            run.problems.add("person", "person_id", record[ROW], pid, "person_id is not unique", pid)
            continue
        seen.add(pid)
        birth = births[i]
        if birth is None and record["year_of_birth"] is not None:
            birth, exact = _birth_from_parts(run, record)
            approximate += 0 if exact else 1
        sex = GENDER_CONCEPTS.get(record["gender_concept_id"] or "") or GENDER_SOURCE_VALUES.get(
            (record["gender_source_value"] or "").strip().lower(), "U"
        )
        site = sites.get(("care_site", record["care_site_id"])) or sites.get(("location", record["location_id"]))
        rows.append(
            {
                "patient_id": pid,
                "site_id": site or UNKNOWN_SITE,
                "birth_date": birth,
                "sex": sex,
                "death_date": deaths.get(pid),
            }
        )
    run.persons = seen
    for pid in dead:  # deaths of persons not in person, counted once the persons are known
        if pid not in seen:
            run.report.drop("death", "patients", "person_id not in person")
    if approximate:
        have = "has" if approximate == 1 else "have"
        run.report.note(
            f"birth_date: {counted(approximate, 'person')} {have} no full birth date; the last possible day of the "
            "known year (or month) is used, so age is never overestimated (inc_age_18 cannot pass wrongly)."
        )
    unknown_sites = sum(1 for r in rows if r["site_id"] == UNKNOWN_SITE)
    if unknown_sites:
        have = "has" if unknown_sites == 1 else "have"
        run.report.note(
            f"site_id: {counted(unknown_sites, 'person')} {have} no care site or location; site_id is '{UNKNOWN_SITE}'."
        )
    record_lineage(run.report, "patients")
    return canonical_frame("patients", rows)


def _birth_from_parts(run: OmopImport, record: dict) -> tuple[dt.date | None, bool]:
    """The birth date from year/month/day_of_birth, a missing part the last possible day; and whether exact."""
    year = to_int(record["year_of_birth"])
    if year is None or not 1850 <= year <= 2100:
        run.problems.add(
            "person", "year_of_birth", record[ROW], record["year_of_birth"], "not a year", record["person_id"]
        )
        return None, True
    month, day = to_int(record["month_of_birth"]), to_int(record["day_of_birth"])
    for column, number in (("month_of_birth", month), ("day_of_birth", day)):
        if number is None and record[column] is not None:
            run.problems.add("person", column, record[ROW], record[column], "not a whole number", record["person_id"])
    if month is not None and not 1 <= month <= 12:  # a month that is none is an error, not a month unknown
        run.problems.add(
            "person", "month_of_birth", record[ROW], record["month_of_birth"], "not a month (1-12)", record["person_id"]
        )
        return None, True
    if month is None:
        return dt.date(year, 12, 31), False
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    if day is not None and not 1 <= day <= last:
        message = f"not a day of {year}-{month:02d}"
        run.problems.add("person", "day_of_birth", record[ROW], record["day_of_birth"], message, record["person_id"])
        return None, True
    if day is None:
        return dt.date(year, month, last), False
    return dt.date(year, month, day), True


def _sites(run: OmopImport) -> dict[tuple[str, str | None], str]:
    """("care_site" | "location", id) → the site's name as the screen shows it."""
    sites: dict[tuple[str, str | None], str] = {}
    if run.src.has("care_site"):
        care = run.src.frame("care_site", ["care_site_id", "care_site_source_value", "care_site_name"])
        for r in run.by_id("care_site", care, "care_site_id"):
            sites[("care_site", r["care_site_id"])] = (
                r["care_site_source_value"] or r["care_site_name"] or r["care_site_id"]
            )
    if run.src.has("location"):
        loc = run.src.frame("location", ["location_id", "location_source_value", "city"])
        for r in run.by_id("location", loc, "location_id"):
            sites[("location", r["location_id"])] = r["location_source_value"] or r["city"] or r["location_id"]
    return sites


def _deaths(run: OmopImport) -> tuple[dict[str, dt.date], list[str]]:
    """person_id → the earliest death date recorded; and the person_id of each dated death row, for those of
    persons not in person to be counted once the persons are known."""
    if not run.src.has("death"):
        run.report.note("death: no death table; death_date is empty.")
        return {}, []
    death = run.src.frame("death", ["person_id", "death_date"])
    dates = date_column(death, "death_date", table="death", problems=run.problems, required=True, id_column="person_id")
    out: dict[str, dt.date] = {}
    dead: list[str] = []
    for pid, day in zip(death["person_id"], dates, strict=True):
        if day is not None and pid is not None:
            out[pid] = min(day, out.get(pid, day))
            dead.append(pid)
    return out, dead
