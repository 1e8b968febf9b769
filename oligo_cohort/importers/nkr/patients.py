"""An NKR file's patients: one per patient key, from all their records; the hospital of diagnosis is the site."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from oligo_cohort.importers.common import UNKNOWN_SITE, to_int
from oligo_cohort.importers.nkr.reader import NkrFile

SEX = {"1": "M", "2": "F", "9": "U"}


def patient_order(nkr: NkrFile, pair: tuple[dict, dict | None]) -> tuple:
    """A patient's records: those of an invasive breast cancer first (the tumour COSMO screens), diagnosis
    records before follow-up ones, the latest incidence first, then by the record's values."""
    record, tumour = pair
    breast = tumour is not None and tumour["_breast"]
    latest = -nkr.anchor(record).toordinal()
    return (not breast, not nkr.is_diagnosis(record), latest, nkr.content(record))


def patient_of(nkr: NkrFile, pid: str, records: list[dict]) -> dict:
    """One patient from their records (in `patient_order`): each item from the first record giving it."""

    def settle(column: str, source: str, value_of: Callable[[dict], object]) -> object:
        return nkr.settle("patients", pid, column, source, [(value_of(r), r) for r in records])

    def sex_of(record: dict) -> str | None:
        return nkr.read(record, "sex", None, SEX.get, "not a sex code (1 man, 2 woman, 9 unknown)")

    sex = settle("sex", nkr.name("sex"), lambda r: sex_of(r) if sex_of(r) != "U" else None)
    if sex is None and "U" in {sex_of(r) for r in records}:
        sex = "U"
    site = next((h for h in (nkr.get(r, "hospital") for r in records) if h is not None), None)
    if site is None:  # site_id is required: a patient no record places at a hospital is screened, at no site
        site = UNKNOWN_SITE
        nkr.unplaced += 1
    birth = settle(
        "birth_date",
        nkr.name("birth_date"),
        lambda r: nkr.date(r, "birth_date") if nkr.has("birth_date") else None,
    )
    # Every age a record without a birth date gives is read; the latest birth date all of them allow is kept.
    ages = [birth_from_age(nkr, r) for r in records]
    if birth is None and any(ages):
        birth = min(day for day in ages if day is not None)
        nkr.approximate(
            "birth date taken as incidence date minus age (the latest birth date that age allows)", "patient"
        )
    deaths = [death(nkr, r) for r in records]
    return {
        "patient_id": pid,
        "site_id": site,
        "birth_date": birth,
        "sex": sex,
        "death_date": min((day for day in deaths if day is not None), default=None),
    }


def birth_from_age(nkr: NkrFile, record: dict) -> dt.date | None:
    if not nkr.has("age") or (nkr.has("birth_date") and nkr.date(record, "birth_date") is not None):
        return None
    age = nkr.read(
        record,
        "age",
        None,
        lambda v: a if (a := to_int(v)) is not None and 0 <= a <= 120 else None,
        "not an age in years (0-120)",
    )
    return None if age is None else _years_before(nkr.anchor(record), age)


def death(nkr: NkrFile, record: dict) -> dt.date | None:
    status = nkr.read(
        record,
        "vital_status",
        None,
        lambda v: v if v in ("0", "1") else None,
        "not a vital status code (0 alive, 1 dead)",
    )
    if status != "1":
        return None
    death, _ = nkr.dated(record, nkr.anchor(record), "vital_status_date", "vital_status_interval")
    if death is None:
        nkr.report.drop(nkr.table, "patients", "dead without a date or interval of vital status (death_date empty)")
    return death


def _years_before(day: dt.date, years: int) -> dt.date | None:
    """The same day `years` earlier (28 February for 29 February); None before year 1."""
    if day.year - years < dt.MINYEAR:
        return None
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
