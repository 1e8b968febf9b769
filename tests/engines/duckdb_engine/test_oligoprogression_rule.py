"""The oligoprogression rule in closed form (sql/derived/oligoprogression.sql) against brute force.

criteria.md inc_oligoprogression: pass/fail only if every way of resolving the
undetermined lesions gives the same answer, else unknown. The model decides
it from counts; here every resolution is enumerated in Python for a few
hundred random lesion sets and the answers must agree.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import pytest

from oligo_cohort.engines.duckdb_engine import MODELS, build_models
from tests.engines.duckdb_engine.loaded import Registry

ORGANS = ("liver", "lung", "bone")
LOCAL = ("breast", "axillary_node")


@dataclass(frozen=True)
class Lesion:
    distant: bool
    organ: str
    progressive: bool | None  # None = undetermined


def rule(lesions: list[Lesion], max_lesions: int, max_organs: int) -> str:
    """The spec's rule on definite lesions, over every resolution of the undetermined ones."""
    undetermined = [lesion for lesion in lesions if lesion.progressive is None]
    answers = set()
    for choice in itertools.product((False, True), repeat=len(undetermined)):
        chosen = dict(zip(map(id, undetermined), choice, strict=True))
        progressive = [lesion for lesion in lesions if lesion.progressive or chosen.get(id(lesion), False)]
        distant = [lesion for lesion in progressive if lesion.distant]
        local = [lesion for lesion in progressive if not lesion.distant]
        passes = (
            1 <= len(distant) <= max_lesions and len({lesion.organ for lesion in distant}) <= max_organs and not local
        ) or (not distant and len(local) >= 1)
        answers.add(passes)
    return {frozenset({True}): "pass", frozenset({False}): "fail"}.get(frozenset(answers), "unknown")


def random_lesions(rng: random.Random) -> list[Lesion]:
    lesions = []
    for _ in range(rng.randint(0, 5)):
        distant = rng.random() < 0.7
        organ = rng.choice(ORGANS if distant else LOCAL)
        lesions.append(Lesion(distant, organ, rng.choice((True, False, None))))
    return lesions


def model_outcomes(cases: list[list[Lesion]], max_lesions: int, max_organs: int) -> list[str]:
    """Run only the oligoprogression models on hand-made assessed_studies and lesion_progression tables."""
    con = Registry().connect(
        "2024-12-31", max_progressive_distant_lesions=max_lesions, max_progressive_organs=max_organs
    )
    con.execute(
        "CREATE TABLE assessed_studies AS SELECT 'p1' AS patient_id, 's' || i AS scan_id, 'line_start' AS "
        "reference_basis, 's' || i AS assessed_id, DATE '2023-03-01' AS assessed_date, 'CT' AS assessed_modality, "
        f"FALSE AS is_confirmation FROM range({len(cases)}) AS t(i)"
    )
    con.execute(
        "CREATE TABLE lesion_progression (scan_id VARCHAR, assessed_id VARCHAR, lesion_id VARCHAR, location VARCHAR, "
        "organ VARCHAR, progressive BOOLEAN)"
    )
    values = [
        (f"s{i}", f"s{i}", f"L{j}", "distant" if lesion.distant else "primary", lesion.organ, lesion.progressive)
        for i, lesions in enumerate(cases)
        for j, lesion in enumerate(lesions)
    ]
    if values:
        con.executemany("INSERT INTO lesion_progression VALUES (?, ?, ?, ?, ?, ?)", values)
    build_models(con, [model for model in MODELS if model.table in ("progressing_lesions", "oligoprogression")])
    found = dict(con.execute("SELECT scan_id, outcome FROM oligoprogression").fetchall())
    return [found[f"s{i}"] for i in range(len(cases))]


@pytest.mark.parametrize(("max_lesions", "max_organs"), [(2, 1), (3, 2)])
def test_closed_form_agrees_with_every_resolution(max_lesions: int, max_organs: int) -> None:
    rng = random.Random(20240611 + max_lesions)
    cases = [random_lesions(rng) for _ in range(400)]
    expected = [rule(lesions, max_lesions, max_organs) for lesions in cases]
    assert set(expected) == {"pass", "fail", "unknown"}  # the sample exercises every outcome
    got = model_outcomes(cases, max_lesions, max_organs)
    disagreements = [(lesions, e, g) for lesions, e, g in zip(cases, expected, got, strict=True) if e != g]
    assert disagreements == []


@pytest.mark.parametrize(
    ("lesions", "expected"),
    [
        ([], "fail"),  # nothing progressive
        ([Lesion(True, "liver", True), Lesion(True, "liver", True)], "pass"),
        ([Lesion(True, "liver", True), Lesion(True, "liver", True), Lesion(True, "liver", True)], "fail"),
        ([Lesion(True, "liver", True), Lesion(True, "lung", True)], "fail"),  # two organs
        ([Lesion(False, "breast", True), Lesion(False, "axillary_node", True), Lesion(False, "breast", True)], "pass"),
        ([Lesion(True, "bone", True), Lesion(False, "axillary_node", True)], "fail"),  # distant with local
        ([Lesion(True, "liver", None), Lesion(True, "liver", None)], "unknown"),
        ([Lesion(True, "liver", True), Lesion(True, "lung", None)], "unknown"),
        ([Lesion(True, "liver", True), Lesion(True, "liver", True), Lesion(True, "liver", None)], "unknown"),
        ([Lesion(True, "liver", True), Lesion(True, "lung", True), Lesion(True, "bone", None)], "fail"),
    ],
)
def test_named_cases(lesions: list[Lesion], expected: str) -> None:
    assert rule(lesions, 2, 1) == expected
    assert model_outcomes([lesions], 2, 1) == [expected]


def test_study_without_lesion_rows_fails() -> None:
    assert model_outcomes([[]], 2, 1) == ["fail"]
