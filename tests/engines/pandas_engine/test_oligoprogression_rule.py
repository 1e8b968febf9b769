"""The closed-form resolution of undetermined lesions against a brute force over every resolution."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from oligo_cohort.engines.pandas_engine.imaging import rule_outcome

ORGANS = ("liver", "lung", "bone")
Lesion = tuple[str, str, str]  # (state T/U/F, location local/distant, organ)


def _passes(progressive: list[Lesion], max_lesions: int, max_organs: int) -> bool:
    """criteria.md's rule on a set of progressive lesions, read directly."""
    distant = [organ for _, location, organ in progressive if location == "distant"]
    local = [1 for _, location, _ in progressive if location == "local"]
    if not progressive:
        return False
    if not distant:
        return True
    return not local and len(distant) <= max_lesions and len(set(distant)) <= max_organs


def _brute_force(lesions: list[Lesion], max_lesions: int, max_organs: int) -> str:
    certain = [lesion for lesion in lesions if lesion[0] == "T"]
    undetermined = [lesion for lesion in lesions if lesion[0] == "U"]
    verdicts = {
        _passes(certain + [u for u, take in zip(undetermined, chosen, strict=True) if take], max_lesions, max_organs)
        for chosen in itertools.product((False, True), repeat=len(undetermined))
    }
    return "pass" if verdicts == {True} else "fail" if verdicts == {False} else "unknown"


def _closed_form(lesions: list[Lesion], max_lesions: int, max_organs: int) -> str:
    def count(state: str, location: str) -> int:
        return sum(1 for s, loc, _ in lesions if s == state and loc == location)

    organs_t = len({o for s, loc, o in lesions if s == "T" and loc == "distant"})
    organs_all = len({o for s, loc, o in lesions if s in "TU" and loc == "distant"})
    counts = [count("T", "distant"), count("T", "local"), count("U", "distant"), count("U", "local")]
    arrays = [np.array([n]) for n in [*counts, organs_t, organs_all]]
    return str(rule_outcome(*arrays, max_lesions=max_lesions, max_organs=max_organs)[0])


lesion = st.tuples(st.sampled_from("TUF"), st.sampled_from(("local", "distant")), st.sampled_from(ORGANS))


@settings(max_examples=400, deadline=None)
@given(st.lists(lesion, max_size=7), st.integers(0, 3), st.integers(0, 2))
def test_closed_form_matches_every_resolution(lesions: list[Lesion], max_lesions: int, max_organs: int) -> None:
    assert _closed_form(lesions, max_lesions, max_organs) == _brute_force(lesions, max_lesions, max_organs)


def test_examples_from_the_spec() -> None:
    cosmo = {"max_lesions": 2, "max_organs": 1}
    assert _closed_form([("T", "distant", "liver")], **cosmo) == "pass"
    assert (
        _closed_form([("T", "distant", "liver"), ("T", "distant", "liver"), ("T", "distant", "liver")], **cosmo)
        == "fail"
    )
    assert _closed_form([("T", "distant", "liver"), ("T", "distant", "lung")], **cosmo) == "fail"
    assert _closed_form([("T", "local", "liver"), ("T", "local", "liver"), ("T", "local", "liver")], **cosmo) == "pass"
    assert _closed_form([("T", "distant", "bone"), ("T", "local", "liver")], **cosmo) == "fail"
    assert _closed_form([], **cosmo) == "fail"
    # Two undetermined lesions in two organs: none (fail), one (pass) or both (fail) -> unknown.
    assert _closed_form([("U", "distant", "bone"), ("U", "distant", "lung")], **cosmo) == "unknown"
    # A progressive local lesion passes whatever an undetermined local one turns out to be.
    assert _closed_form([("T", "local", "liver"), ("U", "local", "liver")], **cosmo) == "pass"
