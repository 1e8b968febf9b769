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

Measured on the whole suite, derandomized as CI runs it, on this project's 2-core machine the same afternoon: the
costly tests took 198 s instead of 414 s of their workers' time, and `make test` 505 s of wall time (879 user-s)
instead of 576–656 s. (That run also halved the two kept whole, 18 s of worker time.)
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
