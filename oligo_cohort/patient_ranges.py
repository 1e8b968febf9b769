"""Patients shared out in consecutive ranges of patient_id, for work done a range at a time.

Every criterion is decided within one patient, and every output is ordered by patient first, so a range of
patient_id is a unit of work whose results, taken range after range, come out in output order. The DuckDB
engine screens a large extract in such slices; the explain step words a small one's reasons in such parts.
"""

from __future__ import annotations

import itertools

import duckdb

PatientRange = tuple[str | None, str | None]  # [low, high): None is unbounded


def patient_ranges(con: duckdb.DuckDBPyConnection, table: str, parts: int) -> list[PatientRange]:
    """`parts` ranges of the patient_id values in `table`, about equal in rows, cut at its quantiles; fewer
    should two cuts fall on one patient. The first range has no lower bound, the last no upper one."""
    fractions = ", ".join(str(k / parts) for k in range(1, parts))
    if not fractions:
        return [(None, None)]
    cuts = con.execute(f"SELECT quantile_disc(patient_id, [{fractions}]) FROM {table}").fetchall()[0][0]
    return list(itertools.pairwise([None, *dict.fromkeys(cuts), None]))


def range_tests(patient_range: PatientRange) -> list[tuple[str, str]]:
    """The tests a patient_id must pass to lie in the range, as (operator, bound): `>=` low, `<` high, an
    unbounded end left out. Callers pass the bounds as parameters or variables, never as SQL text."""
    low, high = patient_range
    return [(test, value) for test, value in ((">=", low), ("<", high)) if value is not None]
