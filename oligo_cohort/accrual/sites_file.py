"""The candidate trial sites a user plans to open: `--sites FILE`, a CSV of site_id, activation_date[, planned_rate].

`activation_date` is when the site opens for the trial (a date before the
trial's start means open from the start). `planned_rate`, optional, is the
site's own estimate of patients enrolled per month; it feeds the
constant-accrual forecast. A site missing from the extract has no history and
predicts from the fitted prior of centre rates. Every problem in the file is
reported at once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from oligo_cohort.accrual.rates import DAYS_PER_MONTH
from oligo_cohort.errors import UsageError

REQUIRED = ("site_id", "activation_date")


def read_sites_file(path: str | Path, start: dt.date) -> pd.DataFrame:
    """Candidate sites with `opens` (months from the trial's start, >= 0) and `planned_rate` (NaN when not given)."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"--sites {file}: no such file")
    frame = pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""])
    frame.columns = [c.strip().lower() for c in frame.columns]
    return parse_sites(frame, start, origin=str(file))


def parse_sites(frame: pd.DataFrame, start: dt.date, *, origin: str = "sites") -> pd.DataFrame:
    """Validate a sites table (strings as read from CSV) and compute opening times; all problems in one error."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise UsageError(
            f"{origin}: missing column(s) {', '.join(missing)}; expected site_id, activation_date[, planned_rate]"
        )
    problems: list[str] = []
    rows = pd.Series(np.arange(2, len(frame) + 2), index=frame.index)  # line numbers, header = line 1
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
        planned = pd.to_numeric(frame["planned_rate"], errors="coerce")
        bad = frame["planned_rate"].notna() & ~(planned >= 0)
        for line, value in zip(rows[bad], frame.loc[bad, "planned_rate"], strict=True):
            problems.append(f"line {line}: planned_rate {value!r} is not a non-negative number (patients per month)")
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
