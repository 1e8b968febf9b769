"""What a synthetic run can be asked for: the file format, the optional tables it may leave out, the batch size.

A module of its own so that the command line can offer these without loading the generator (NumPy, Arrow).
"""

from __future__ import annotations

from typing import Literal

Format = Literal["parquet", "csv"]
FORMATS: tuple[Format, ...] = ("parquet", "csv")
OPTIONAL_TABLES = ("response_assessments", "performance_status", "observations")
DEFAULT_BATCH_SIZE = 100_000
