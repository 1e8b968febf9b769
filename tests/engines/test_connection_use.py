"""DuckDB results are read to the end.

Since DuckDB 2.0 a result read with `fetchone()` stays open until a fetch returns no rows, and every later
relation on the same connection then fails ("connection has an unfinished result"). A screen's connection
lives on in its `ScreeningResult`, where a notebook user's next question (`result.patients`) would hit it, so
the package reads results with `fetchall()` only.
"""

from __future__ import annotations

import re
from pathlib import Path

from oligo_cohort.api import screen
from oligo_cohort.paths import demo_extract_dir

PACKAGE = Path(__file__).resolve().parents[2] / "oligo_cohort"


def test_no_package_code_leaves_a_result_unfinished():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\.fetchone\(\)", line.split("#")[0])
    ]
    assert not offenders, f"fetchone() leaves the result open: {offenders}"


def test_every_question_of_a_result_can_follow_every_other():
    result = screen(demo_extract_dir())
    questions = {
        "repr": lambda: repr(result),
        "html": result._repr_html_,
        "counts": result.counts,
        "outcome_table": result.outcome_table,
        "problems": result.problems,
        "manifest": result.manifest,
        "patients": lambda: result.patients,
        "reasons": lambda: result.reasons,
        "to_polars": lambda: result.to_polars("events"),
    }
    for first in questions.values():  # every question right after every other
        first()
        for second in questions.values():
            second()
            first()
    assert len(result.patients) == sum(result.counts().values())
