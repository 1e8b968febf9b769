"""The bundled demo extract (34 hand-built patients at three sites) and the outcomes derived for it by hand.

`expected_outcomes.csv` is an independent reading of the spec, not engine
output: the demo tests hold every engine to it, so a disagreement points at
either the engine or the derivation (see README.md for the deciding facts).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DEMO_DIR = Path(__file__).resolve().parent


def expected_outcomes_path() -> Path:
    """The hand-derived per-patient outcomes of the demo extract at its default cut-off."""
    return DEMO_DIR / "expected_outcomes.csv"


def expected_outcomes() -> pd.DataFrame:
    """The hand-derived outcomes as strings (an empty event_id, for a patient without an event, reads as None)."""
    frame = pd.read_csv(expected_outcomes_path(), dtype=str, keep_default_na=False)
    return frame.astype(object).where(frame != "", None)
