"""Statistical disclosure control for every aggregate meant to leave the institution.

The rule is OpenSAFELY's: a count from 1 to 7 is suppressed (shown as 0), every
other count is rounded to the nearest multiple of 5. Each count is treated on
its own, so rounded counts need not add up; percentages and differences shown
next to them are recomputed from the rounded counts (never from the exact
ones), so they reveal nothing more.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

SUPPRESS_UP_TO = 7
ROUND_TO = 5

RULE_TEXT = (
    f"Counts from 1 to {SUPPRESS_UP_TO} are suppressed (shown as 0); every other count is rounded to the "
    f"nearest multiple of {ROUND_TO}. Non-integer counts (expected numbers, Shapley values) are first rounded to "
    "a whole number. Each count is rounded on its own, so rounded counts need not add up; percentages and "
    "differences are computed from the rounded counts."
)


def round_count(n: int) -> int:
    """One count after disclosure control: 1–7 → 0, else the nearest multiple of 5 (8 → 10, 12 → 10, 13 → 15)."""
    value = int(n)
    if value != n or value < 0:
        raise ValueError(f"a count must be a whole number >= 0, got {n!r}")
    if value <= SUPPRESS_UP_TO:
        return 0
    # Integers never fall half-way between two multiples of 5, so there is no tie to break.
    return ROUND_TO * ((value + ROUND_TO // 2) // ROUND_TO)


def round_counts(values: np.ndarray) -> np.ndarray:
    """`round_count` over a numeric array (missing values stay missing); non-integers are rounded first."""
    array = np.asarray(values, dtype=float)
    present = ~np.isnan(array)
    if (array[present] < 0).any():
        raise ValueError("counts must not be negative")
    whole = np.floor(array + 0.5)
    rounded = ROUND_TO * np.floor((whole + ROUND_TO // 2) / ROUND_TO)
    return np.where(present, np.where(whole <= SUPPRESS_UP_TO, 0.0, rounded), np.nan)


def apply_to_frame(df: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy of `df` with the count `columns` disclosure-controlled (nullable integers; missing stays missing)."""
    out = df.copy()
    for column in columns:
        numbers = pd.to_numeric(out[column], errors="raise").astype(float).to_numpy()
        out[column] = pd.array(round_counts(numbers), dtype="Float64").astype("Int64")
    return out


def statement(*, applied: bool, files: Sequence[str] = (), notes: Sequence[str] = ()) -> dict[str, object]:
    """What disclosure control did to a bundle of files, as a JSON-ready dict."""
    return {
        "disclosure_control": applied,
        "rule": RULE_TEXT if applied else "none: exact counts, for internal use only (do not share)",
        "suppress_up_to": SUPPRESS_UP_TO if applied else None,
        "round_to": ROUND_TO if applied else None,
        "files": list(files),
        "notes": list(notes),
        "written": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }


def write_statement(folder: Path, *, applied: bool, files: Sequence[str] = (), notes: Sequence[str] = ()) -> None:
    """Write `disclosure.json` and `disclosure.md` into `folder`, stating which rule applied to which files."""
    info = statement(applied=applied, files=files, notes=notes)
    (folder / "disclosure.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    if applied:
        head = ["# Disclosure control: applied", "", RULE_TEXT, "", "A count shown as 0 means 0 to 7."]
    else:
        head = [
            "# Disclosure control: NOT applied",
            "",
            "These files hold exact counts, small ones included. They are for internal use only: do not "
            "share them outside the institution. Run again without `--no-disclosure-control` for a "
            "shareable version.",
        ]
    lines = [*head, "", "Files covered:", "", *[f"- `{name}`" for name in files]]
    if notes:
        lines += ["", "Notes:", "", *[f"- {note}" for note in notes]]
    lines += ["", "Patient-level files (patients, events, reasons, findings) are never part of this bundle.", ""]
    (folder / "disclosure.md").write_text("\n".join(lines), encoding="utf-8")


__all__ = [
    "ROUND_TO",
    "RULE_TEXT",
    "SUPPRESS_UP_TO",
    "apply_to_frame",
    "round_count",
    "round_counts",
    "statement",
    "write_statement",
]
