"""The candidate trial sites a user plans to open: `--sites FILE`, a CSV of site_id, activation_date[, planned_rate].

`activation_date` is when the site opens for the trial (a date before the
trial's start means open from the start). `planned_rate`, optional, is the
site's own estimate of patients enrolled per month; it feeds the
constant-accrual forecast. A site missing from the extract has no history and
predicts from the fitted prior of centre rates. Every problem in the file is
reported at once, with its line: a file that is not UTF-8 CSV, a column named
twice or missing, a line with more or fewer fields than the header (a line of
empty fields is skipped), an empty or repeated site, a date that is not YYYY-MM-DD, a
planned rate that is not a finite number from 0 to `MAX_PLANNED_RATE`. A site
name that a spreadsheet would run as a formula is kept as written: the CSV
outputs write it inert (oligo_cohort.csv_output).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from oligo_cohort.accrual.rates import DAYS_PER_MONTH
from oligo_cohort.errors import UsageError

REQUIRED = ("site_id", "activation_date")
# Patients enrolled per month at one site: far above any trial site's rate (COSMO's sites plan a few a year),
# low enough that the forecast's count distributions stay small.
MAX_PLANNED_RATE = 100.0


def read_sites_file(path: str | Path, start: dt.date) -> pd.DataFrame:
    """Candidate sites with `opens` (months from the trial's start, >= 0) and `planned_rate` (NaN when not given)."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"--sites {file}: no such file")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = file.read_bytes()[: exc.start].count(b"\n") + 1
        raise UsageError(f"--sites {file}: line {line} is not UTF-8 text; save the file as UTF-8 CSV") from None
    records: list[tuple[int, list[str]]] = []  # (line number, fields); blank lines are not sites
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                records.append((reader.line_num, row))
    except csv.Error as exc:
        raise UsageError(f"--sites {file}: line {reader.line_num} is not readable CSV ({exc})") from None
    if not records:
        raise UsageError(f"--sites {file}: the file is empty; expected site_id, activation_date[, planned_rate]")
    header = [c.strip().lower() for c in records[0][1]]
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise UsageError(f"--sites {file}: column(s) {', '.join(map(repr, twice))} appear more than once")
    ragged = [line for line, row in records[1:] if len(row) != len(header)]
    if ragged:
        shown = ", ".join(str(n) for n in ragged[:10])
        raise UsageError(f"--sites {file}: line(s) {shown} do not have {len(header)} fields like the header")
    frame = pd.DataFrame([row for _, row in records[1:]], columns=header, dtype=object)
    frame = frame.map(lambda v: v.strip() or None)
    return parse_sites(frame, start, origin=str(file), lines=[line for line, _ in records[1:]])


def parse_sites(
    frame: pd.DataFrame, start: dt.date, *, origin: str = "sites", lines: Sequence[int] | None = None
) -> pd.DataFrame:
    """Validate a sites table (strings as read from CSV) and compute opening times; all problems in one error.

    `lines` are the file's line numbers of the rows (default: the header on line 1, one row per line after it).
    """
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise UsageError(
            f"{origin}: missing column(s) {', '.join(missing)}; expected site_id, activation_date[, planned_rate]"
        )
    problems: list[str] = []
    rows = pd.Series(np.arange(2, len(frame) + 2) if lines is None else list(lines), index=frame.index, dtype=int)
    site = frame["site_id"].astype("string").str.strip()
    for line in rows[site.isna() | (site == "")]:
        problems.append(f"line {line}: site_id is empty")
    for value in site[site.duplicated(keep="first") & site.notna()].unique():
        problems.append(f"site_id {value!r} appears more than once")
    activation = pd.to_datetime(frame["activation_date"], format="%Y-%m-%d", errors="coerce")
    for line, value in zip(rows[activation.isna()], frame.loc[activation.isna(), "activation_date"], strict=True):
        problems.append(f"line {line}: activation_date {value!r} is not a date YYYY-MM-DD")
    planned = pd.Series(np.nan, index=frame.index)
    if "planned_rate" in frame.columns:
        planned = pd.to_numeric(frame["planned_rate"], errors="coerce").astype(float)
        bad = frame["planned_rate"].notna() & ~((planned >= 0) & (planned <= MAX_PLANNED_RATE))
        for line, value in zip(rows[bad], frame.loc[bad, "planned_rate"], strict=True):
            problems.append(
                f"line {line}: planned_rate {value!r} is not a number from 0 to {MAX_PLANNED_RATE:g} "
                "(patients per month)"
            )
    if len(frame) == 0:
        problems.append("no sites listed")
    if problems:
        raise UsageError(f"{origin}: " + "; ".join(problems))
    days = (activation - pd.Timestamp(start)).dt.days.astype(float)
    return pd.DataFrame(
        {
            "site_id": site.astype(str).to_numpy(),
            "activation_date": activation.dt.strftime("%Y-%m-%d").to_numpy(),
            "opens": np.maximum(days.to_numpy(), 0.0) / DAYS_PER_MONTH,
            "planned_rate": planned.to_numpy(dtype=float),
        }
    )
