"""The site worklist: patients whose screening window is still open at the cut-off, with their deadlines.

A site running the trial screens "now" (`--as-of` today, `--worklist`): for
each patient whose best event is not ineligible and whose registration window
(S + 46 to S + 52 days under the current protocol) has not closed, it lists
when the confirmation FDG-PET-CT is due and the last day to register.

A patient whose death is recorded on or before the cut-off is not listed: no one can be registered after their
death, although dying on or after S + 46 passes `inc_imaging_window` (docs/decisions.md D22), which asks whether the
patient could have been registered in time, not whether they still can be. A death after the cut-off is not yet
known (criteria.md "Time") and does not count. The death date is the one the criterion itself read (its facts in
`result_facts`, which every engine leaves). A result read back from a screen folder has no facts, so no death
dates: its worklist is the one the folder's `worklist.csv` lists (`WORKLIST_AS_WRITTEN`), which the folder's reader
checks against its patients, and writing the result again lists those patients, never one the screen left off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from oligo_cohort.counts_in_words import counted
from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.database import has_table
from oligo_cohort.results import FACTS_TABLE

if TYPE_CHECKING:
    from oligo_cohort.results import ScreenResult

WORKLIST_COLUMNS = (
    "patient_id",
    "site_id",
    "event_id",
    "screening_date",
    "status",
    "pet_confirmation_from",
    "pet_confirmation_to",
    "pet_confirmation_done",
    "registration_from",
    "registration_deadline",
    "days_left",
    "open_criteria",
)
# The patients and events a screen folder's worklist.csv lists, as `oligo_cohort.screen_folder` reads them back.
WORKLIST_AS_WRITTEN = "worklist_as_written"


def worklist_relation(
    result: ScreenResult, con: duckdb.DuckDBPyConnection | None = None, *, every_open_window: bool = False
) -> duckdb.DuckDBPyRelation:
    """Open-window patients, soonest deadline first; read on `con` (a cursor of the result's connection) if given.

    Those dead by the cut-off are left off (D78), and a result read back from a screen folder lists only the
    patients its worklist.csv lists; `every_open_window` lists every patient whose window is open, which is what
    the folder's reader checks that file against.
    """
    p = result.protocol.parameters
    values = {
        "as_of": result.as_of,
        "pet_from": p.pet_window_start_days,
        "pet_to": p.pet_window_end_days,
        "earliest": p.imaging_window_earliest_days,
        "latest": p.imaging_window_latest_days,
    }
    open_criteria = ", ".join(
        f"CASE WHEN pt.{c} IN ('unknown', 'review') THEN '{c}:' || pt.{c} END" for c in CRITERION_IDS
    )
    reader = con or result.con
    values["dead"] = [] if every_open_window else _dead_by_cut_off(reader, result.as_of)
    values["listed"] = None if every_open_window else _listed_as_written(reader)
    return reader.sql(
        f"""
        SELECT
            pt.patient_id,
            pt.site_id,
            pt.event_id,
            strftime(pt.screening_date, '%Y-%m-%d') AS screening_date,
            pt.status,
            strftime(pt.screening_date + $pet_from, '%Y-%m-%d') AS pet_confirmation_from,
            strftime(pt.screening_date + $pet_to, '%Y-%m-%d') AS pet_confirmation_to,
            pt.inc_pet_confirmation = 'pass' AS pet_confirmation_done,
            strftime(pt.screening_date + $earliest, '%Y-%m-%d') AS registration_from,
            strftime(pt.screening_date + $latest, '%Y-%m-%d') AS registration_deadline,
            CAST(pt.screening_date + $latest - CAST($as_of AS DATE) AS INTEGER)
                AS days_left,
            concat_ws('; ', {open_criteria}) AS open_criteria
        FROM result_patients AS pt
        WHERE pt.event_id IS NOT NULL
          AND pt.status <> 'ineligible'
          AND pt.screening_date + $latest >= CAST($as_of AS DATE)
          AND NOT list_contains(CAST($dead AS VARCHAR[]), pt.patient_id)
          AND (CAST($listed AS VARCHAR[]) IS NULL OR list_contains(CAST($listed AS VARCHAR[]), pt.patient_id))
        ORDER BY registration_deadline, pt.patient_id
        """,
        params=values,
    )


def _listed_as_written(reader: duckdb.DuckDBPyConnection) -> list[str] | None:
    """The patients a screen folder's worklist.csv lists, for a result read back from one (None for a screen's own
    result, whose facts say who died): a list, as `_dead_by_cut_off`'s, so the worklist's query holds no join."""
    if not has_table(reader, WORKLIST_AS_WRITTEN):
        return None
    rows = reader.execute(f"SELECT patient_id FROM {WORKLIST_AS_WRITTEN} ORDER BY patient_id").fetchall()
    return [patient_id for (patient_id,) in rows]


def _dead_by_cut_off(reader: duckdb.DuckDBPyConnection, as_of: object) -> list[str]:
    """Patients whose death on or before the cut-off `inc_imaging_window` read for their best event, while its
    registration window is still open: the few the worklist would otherwise list (none without `result_facts`).

    Handed to the worklist's query as a list rather than joined in it: the CSV writer's queries hold no join, which
    could pass rows on in another order (tests/safety/test_formula_cells.py).
    """
    if not has_table(reader, FACTS_TABLE):
        return []
    rows = reader.execute(
        f"""
        SELECT DISTINCT facts.patient_id
        FROM {FACTS_TABLE} AS facts
        WHERE facts.is_best
          AND facts.inc_imaging_window.death_date <= CAST($as_of AS DATE)
          AND facts.inc_imaging_window.latest_registration >= CAST($as_of AS DATE)
        ORDER BY facts.patient_id
        """,
        {"as_of": as_of},
    ).fetchall()
    return [patient_id for (patient_id,) in rows]


def worklist_mode_note(result: ScreenResult) -> str | None:
    """What any count of a worklist screen must say beside it (None for a screen of the registry's history): in
    worklist mode every patient whose registration window closed before the cut-off fails `inc_imaging_window`."""
    if not getattr(result, "worklist", False):
        return None
    return (
        f"Screened in worklist mode at the cut-off {result.as_of}: a patient whose registration window had closed by "
        "then fails inc_imaging_window, so these counts are of the patients who could still be registered, not of "
        "the registry's history."
    )


def worklist_figure_note(result: ScreenResult) -> str | None:
    """The worklist mode note in a figure's footnote, short enough for the narrowest diagram (None otherwise)."""
    if not getattr(result, "worklist", False):
        return None
    return f"Worklist mode, cut-off {result.as_of}: a closed registration window fails inc_imaging_window."


def worklist_headline(result: ScreenResult, where: str = "worklist.csv") -> str:
    """What a site reads first about its worklist: how many patients at how many sites can still be registered at
    the cut-off, and the nearest deadline; said even when nobody is listed, so that an empty worklist is not
    mistaken for a run that wrote none."""
    listed = worklist_relation(result).aggregate(
        "count(*) AS patients, count(DISTINCT site_id) AS sites, min(registration_deadline) AS deadline, "
        "min(days_left) AS days_left"
    )
    ((patients, sites, deadline, days_left),) = listed.fetchall()
    if not patients:
        return (
            f"Worklist at the cut-off {result.as_of}: no patient's registration window is open "
            f"({where} holds its header only)."
        )
    who = f"{counted(patients, 'patient')} at {counted(sites, 'site')}"
    left = f"{counted(days_left, 'day')} left"
    return (
        f"Worklist at the cut-off {result.as_of}: {who} can still be registered; "
        f"the nearest deadline {deadline} ({left}). Every one, soonest deadline first, in {where}."
    )
