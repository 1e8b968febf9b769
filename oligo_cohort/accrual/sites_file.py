"""The candidate trial sites a user plans to open: `--sites FILE`, a CSV of site_id, activation_date[, planned_rate].

`activation_date` is when the site opens for the trial (a date before the
trial's start means open from the start). `planned_rate`, optional, is the
site's own estimate of patients enrolled per month; it feeds the
constant-accrual forecast. A site missing from the extract has no history and
predicts from the fitted prior of centre rates.

The file is read by the rules every file a user gives follows (`oligo_cohort.user_files`): UTF-8 text, `,` `;`
tab or `|` as the delimiter its header uses, a quote closed where it opens, blank lines skipped, a column named
twice in any case or spacing refused. Every problem in the file is then reported at once, with its line, column
and value: a line with more or fewer fields than the header, a NUL byte, an empty or repeated site (each line
named), a date that is not a calendar date written YYYY-MM-DD from 1900-01-01 to a century after the trial's
start (`MAX_OPENING_YEARS`), a planned rate that is not a number from 0 to `MAX_PLANNED_RATE` (written as numbers
are in an extract: `dictionary.NUMBER_PATTERN`). A site name that a spreadsheet would run as a formula is kept
as written: the CSV outputs write it inert (oligo_cohort.csv_output).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from oligo_cohort.accrual.rates import DAYS_PER_MONTH
from oligo_cohort.counts_in_words import names_of, noun_for
from oligo_cohort.dictionary import EARLIEST_PLAUSIBLE_DATE, NUMBER_PATTERN
from oligo_cohort.errors import UsageError
from oligo_cohort.problems import shortened
from oligo_cohort.user_files import UserFileProblem, header_names, nul_cells, read_delimited

REQUIRED = ("site_id", "activation_date")
EXPECTED = "expected site_id, activation_date[, planned_rate]"
# Patients enrolled per month at one site: far above any trial site's rate (COSMO's sites plan a few a year),
# low enough that the forecast's count distributions stay small.
MAX_PLANNED_RATE = 100.0
# A site opening more than a century after the trial starts is a typing error (9999-12-31), not a plan; the
# forecast's calendar reaches no further.
MAX_OPENING_YEARS = 100
MAX_LISTED = 20  # problems listed in the message
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def read_sites_file(path: str | Path, start: dt.date) -> pd.DataFrame:
    """Candidate sites with `opens` (months from the trial's start, >= 0) and `planned_rate` (NaN when not given)."""
    file = Path(path)
    try:
        read = read_delimited(file)
    except UserFileProblem as exc:
        hint = f"; {EXPECTED}" if "empty" in exc.reason else ""
        raise UsageError(f"--sites {file}: {exc.reason}{hint}") from None
    header, twice = header_names(read.header)
    if twice:
        named = ", ".join(f"{name!r} (columns {first} and {again})" for name, first, again in twice)
        raise UsageError(f"--sites {file}: {named} named more than once in the header")
    problems: list[str] = []
    ragged = [record.line for record in read.records if len(record.fields) != len(header)]
    if ragged:
        shown = ", ".join(str(n) for n in ragged[:10]) + (f" and {len(ragged) - 10} more" if len(ragged) > 10 else "")
        do = "does" if len(ragged) == 1 else "do"
        problems.append(f"{noun_for(len(ragged), 'line')} {shown} {do} not have {len(header)} fields like the header")
    for record, column, value in nul_cells(read.records, header):
        problems.append(f"line {record.line}: {column} {shortened(value)!r} holds a NUL byte: the file is damaged")
    if problems:
        raise UsageError(_listed(f"--sites {file}", problems))
    frame = pd.DataFrame([record.fields for record in read.records], columns=header, dtype=object)
    frame = frame.loc[:, [c for c in dict.fromkeys(header) if c]]  # a nameless column (`a,b,`) holds nothing
    frame = frame.map(lambda v: v.strip() or None)
    return parse_sites(frame, start, origin=f"--sites {file}", lines=[record.line for record in read.records])


def parse_sites(
    frame: pd.DataFrame, start: dt.date, *, origin: str = "sites", lines: Sequence[int] | None = None
) -> pd.DataFrame:
    """Validate a sites table (strings as read from CSV) and compute opening times; all problems in one error.

    `lines` are the file's line numbers of the rows (default: the header on line 1, one row per line after it).
    """
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise UsageError(f"{origin}: missing {names_of('column', missing)}; {EXPECTED}")
    rows = list(range(2, len(frame) + 2)) if lines is None else list(lines)
    latest = _years_after(start, MAX_OPENING_YEARS)
    problems: list[str] = []
    sites: list[str] = []
    opens: list[dt.date] = []
    first_line: dict[str, int] = {}
    repeated: dict[str, list[int]] = {}
    for line, site, date, rate in zip(rows, _texts(frame, "site_id"), _texts(frame, "activation_date"),
                                      _texts(frame, "planned_rate"), strict=True):  # fmt: skip
        if site is None:
            problems.append(f"line {line}: site_id is empty")
        elif site in first_line:
            repeated.setdefault(site, [first_line[site]]).append(line)
        else:
            first_line[site] = line
        day = _date(date)
        if day is None:
            problems.append(f"line {line}: activation_date {_shown(date)} is not a date YYYY-MM-DD")
        elif not EARLIEST_PLAUSIBLE_DATE <= day <= latest:
            problems.append(
                f"line {line}: activation_date {_shown(date)} is not a date from {EARLIEST_PLAUSIBLE_DATE} to "
                f"{latest} ({MAX_OPENING_YEARS} years after the start)"
            )
        if rate is not None and not _rate_ok(rate):
            problems.append(
                f"line {line}: planned_rate {_shown(rate)} is not a number from 0 to {MAX_PLANNED_RATE:g} "
                "(patients per month)"
            )
        sites.append(site or "")
        opens.append(day or start)
    for site, at in repeated.items():
        problems.append(f"site_id {shortened(site)!r} appears more than once (lines {', '.join(map(str, at))})")
    if len(frame) == 0:
        problems.append("no sites listed")
    if problems:
        raise UsageError(_listed(origin, problems))
    planned = [float(r) if r is not None else np.nan for r in _texts(frame, "planned_rate")]
    days = np.array([(day - start).days for day in opens], dtype=float)
    return pd.DataFrame(
        {
            "site_id": np.array(sites, dtype=object),
            "activation_date": np.array([day.isoformat() for day in opens], dtype=object),
            "opens": np.maximum(days, 0.0) / DAYS_PER_MONTH,
            "planned_rate": np.array(planned, dtype=float),
        }
    )


def _texts(frame: pd.DataFrame, column: str) -> list[str | None]:
    """A column's values as trimmed text, None when empty (or when the column is absent)."""
    if column not in frame.columns:
        return [None] * len(frame)
    values = []
    for value in frame[column]:
        text = None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value).strip()
        values.append(text or None)
    return values


def _date(text: str | None) -> dt.date | None:
    if text is None or not _DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _rate_ok(text: str) -> bool:
    if len(text) > 40 or not re.fullmatch(NUMBER_PATTERN, text):
        return False
    return 0 <= float(text) <= MAX_PLANNED_RATE


def _years_after(day: dt.date, years: int) -> dt.date:
    if day.year + years > dt.MAXYEAR:
        return dt.date.max
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _shown(value: str | None) -> str:
    return repr(shortened(value)) if value is not None else "(empty)"


def _listed(origin: str, problems: list[str]) -> str:
    shown = "; ".join(problems[:MAX_LISTED])
    more = f"; ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    return f"{origin}: {shown}{more}"
