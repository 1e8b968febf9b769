"""What attrition counts: patients (each at their best event) or candidate events.

A module of its own so that the command line can offer the choice without loading the histogram (pandas, DuckDB).
"""

from __future__ import annotations

from typing import Literal

Level = Literal["patients", "events"]
LEVELS: tuple[str, ...] = ("patients", "events")
