"""Differential test: the DuckDB and pandas engines write the same screening result for generated extracts.

Hypothesis generates small extracts around the spec tests' baseline patient,
perturbed at the rules' edges (tests/differential/extracts.py), screens each
with both engines and compares their outputs (tests/differential/compare.py).
A disagreement fails with the smallest failing extract that hypothesis found,
as a `screen_case(...)` call of pipe tables ready to become a spec test, and
the differing rows of each output.

The default suite runs a fixed (derandomized) set of examples, without an
example database, so that CI is deterministic. `make differential` (or
OLIGO_DIFFERENTIAL=thorough) runs thousands, randomized, with failures kept
in the git-ignored `.hypothesis/` folder for replay; OLIGO_DIFFERENTIAL_EXAMPLES
sets the number.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from tests.differential.compare import differences, report, screen_both
from tests.differential.extracts import GeneratedExtract, extracts

THOROUGH = os.environ.get("OLIGO_DIFFERENTIAL", "") == "thorough"
SLOW_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

if THOROUGH:
    SETTINGS = settings(
        max_examples=int(os.environ.get("OLIGO_DIFFERENTIAL_EXAMPLES", "2000")),
        deadline=None,
        database=DirectoryBasedExampleDatabase(Path(__file__).resolve().parents[2] / ".hypothesis" / "differential"),
        suppress_health_check=SLOW_CHECKS,
        print_blob=True,
    )
else:
    SETTINGS = settings(
        max_examples=int(os.environ.get("OLIGO_DIFFERENTIAL_EXAMPLES", "25")),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=SLOW_CHECKS,
    )


@SETTINGS
@given(extracts())
def test_engines_write_the_same_result(extract: GeneratedExtract) -> None:
    found = differences(screen_both(extract))
    assert not found, report(extract, found)
