"""How many examples a costly generated test draws: half in the default suite, every one in `make test-thorough`.

Most generated tests draw cheap values (a text, a date, a small table handled in memory) and keep their number of
examples everywhere. A costly one screens an extract, imports a source, runs a command or draws a figure for every
example it draws: about 60 such tests hold a third of the default suite's time (414 of 1,258 worker-seconds,
measured on 2026-12-07). Two of them keep all their examples in every suite, as they hold the engines to the spec:
the engines' agreement on generated extracts (tests/differential) and the active line against the spec's wording
(tests/engines/duckdb_engine/test_active_line_properties.py). The others, in the default suite (`make test`, and
CI through it), each draw half of their examples, never fewer than three (or than they ask, if fewer); the examples
pinned with `@example` always run. `make test-thorough` (`OLIGO_COHORT_TEST_DRAWS=all`) runs the same suite with
every costly test drawing all of its examples, as it should before a release or after a change to what those tests
cover.

Measured on this project's 2-core machine, derandomized as CI runs the suite: `make test` took 505 s of wall time and
967 CPU-s (the two kept whole then halved as well), `make test-thorough` 578 s and 1,109 CPU-s, one run after the
other in the same hour; a fresh clone's CI, `make test` as it stands, 473 s and 895 CPU-s. The costly tests took
198 s of their workers' time instead of 414 s.
"""

from __future__ import annotations

import math
import os

ALL_DRAWS = os.environ.get("OLIGO_COHORT_TEST_DRAWS", "").strip().lower() == "all"
FEWEST = 3


def costly_draws(examples: int) -> int:
    """The examples a costly generated test draws: `examples` under `make test-thorough`, else half of them."""
    if ALL_DRAWS:
        return examples
    return max(min(examples, FEWEST), math.ceil(examples / 2))
