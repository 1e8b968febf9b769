"""What attrition counts: patients (each at their best event) or candidate events.

A module of its own so that the command line can offer the choice without loading the histogram (pandas, DuckDB).
"""

from __future__ import annotations

LEVELS: tuple[str, ...] = ("patients", "events")
