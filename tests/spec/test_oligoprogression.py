"""Oligoprogression: which sets of progressive lesions on S pass.

Pass: 1 or 2 progressive distant lesions, all in one organ, with no progressive
primary/locoregional lesion; or only progressive primary/locoregional lesions
(any number). Fail: none, 3+ distant, 2+ organs, distant with locoregional.
Undetermined lesions decide only when every way of resolving them agrees.

Each case adds rows to the baseline, where liver lesion L1 grew 20 → 30 mm.
A lesion growing 10 → 20 mm is progressive, 10 → 10 is stable, 10 → (blank)
is undetermined.
"""

from __future__ import annotations

import pytest

from tests.spec.harness import Case, assert_only_changes, baseline_with, case
from tests.spec.tables import table


def plus_lesions(rows: str) -> Case:
    """The baseline with lesions added: `lesion | location | organ | size on ref | size on S` per line."""
    lines = ["study_id | lesion_id | location | organ | size_mm"]
    for line in rows.strip().splitlines():
        lesion, location, organ, on_ref, on_s = (cell.strip() for cell in line.split("|"))
        lines.append(f"ref | {lesion} | {location} | {organ} | {on_ref}")
        lines.append(f"S | {lesion} | {location} | {organ} | {on_s}")
    return case(lesions=baseline_with("lesions", "\n".join(lines)))


COUNT_CASES = [
    pytest.param(plus_lesions("L2 | distant | liver | 10 | 20"), "pass", id="2 distant, one organ"),
    pytest.param(
        plus_lesions("L2 | distant | liver | 10 | 20\nL3 | distant | liver | 10 | 20"),
        "fail",
        id="3 distant, one organ",
    ),
    pytest.param(plus_lesions("L2 | distant | lung | 10 | 20"), "fail", id="2 distant, two organs"),
    pytest.param(
        plus_lesions("L2 | locoregional_node | axillary_node | 10 | 20"), "fail", id="distant + locoregional node"
    ),
    pytest.param(plus_lesions("L2 | primary | breast | 20 | 30"), "fail", id="distant + primary"),
    pytest.param(
        plus_lesions("L2 | locoregional_node | axillary_node | 10 | 10"), "pass", id="distant + stable locoregional"
    ),
    pytest.param(
        plus_lesions("L2 | distant | liver | 10 | 20\nL3 | distant | lung | 10 | 10"),
        "pass",
        id="2 distant in one organ + a stable one elsewhere",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), COUNT_CASES)
def test_one_or_two_distant_lesions_in_one_organ(screened, spec, expected):
    """One or two progressive distant lesions in one organ pass; a third, a second organ or a locoregional one fails."""
    assert_only_changes(screened(spec).event("S"), inc_oligoprogression=expected)


# Liver lesion L1 stable: only the primary and two axillary nodes progress (on S and on the confirmation PET).
ONLY_LOCOREGIONAL = case(
    lesions=table("""
        study_id | lesion_id | location          | organ         | size_mm
        ref      | L1        | distant           | liver         | 20
        S        | L1        | distant           | liver         | 20
        pet      | L1        | distant           | liver         | 20
        ref      | P1        | primary           | breast        | 20
        S        | P1        | primary           | breast        | 30
        pet      | P1        | primary           | breast        | 30
        ref      | N1        | locoregional_node | axillary_node | 10
        S        | N1        | locoregional_node | axillary_node | 20
        pet      | N1        | locoregional_node | axillary_node | 20
        ref      | N2        | locoregional_node | axillary_node | 10
        S        | N2        | locoregional_node | axillary_node | 20
        pet      | N2        | locoregional_node | axillary_node | 20
    """)
)


def test_only_primary_and_locoregional_progression_passes_in_any_number(screened):
    """Progression of only the primary tumour and locoregional nodes passes, however many lesions progress."""
    assert_only_changes(screened(ONLY_LOCOREGIONAL).event("S"))


UNDETERMINED_CASES = [
    pytest.param(plus_lesions("L2 | distant | liver | 10 | "), "pass", id="1 progressive + 1 undetermined, same organ"),
    pytest.param(
        plus_lesions("L2 | distant | liver | 10 | 20\nL3 | distant | liver | 10 | "),
        "unknown",
        id="2 progressive + 1 undetermined, same organ",
    ),
    pytest.param(plus_lesions("L2 | distant | lung | 10 | "), "unknown", id="1 progressive + 1 undetermined elsewhere"),
    pytest.param(
        plus_lesions("L2 | distant | liver | 10 | 20\nL3 | distant | liver | 10 | 20\nL4 | distant | lung | 10 | "),
        "fail",
        id="3 progressive + 1 undetermined",
    ),
    pytest.param(
        plus_lesions("L2 | distant | lung | 10 | 20\nL3 | distant | bone | 10 | "),
        "fail",
        id="two organs + 1 undetermined",
    ),
    pytest.param(
        plus_lesions("L2 | locoregional_node | axillary_node | 10 | "),
        "unknown",
        id="distant progressive + undetermined locoregional",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), UNDETERMINED_CASES)
def test_undetermined_lesions_decide_only_when_every_resolution_agrees(screened, spec, expected):
    """Undetermined lesions make the outcome unknown only if counting them progressive or not changes the answer."""
    assert_only_changes(screened(spec).event("S"), inc_oligoprogression=expected)


def locoregional_with(extra_rows: str) -> Case:
    """Liver L1 stable, axillary node N1 progressive (10 → 20), plus the rows given."""
    return case(
        lesions=table(f"""
            study_id | lesion_id | location          | organ         | size_mm
            ref      | L1        | distant           | liver         | 20
            S        | L1        | distant           | liver         | 20
            ref      | N1        | locoregional_node | axillary_node | 10
            S        | N1        | locoregional_node | axillary_node | 20
            {extra_rows}
        """)
    )


LOCOREGIONAL_UNDETERMINED_CASES = [
    pytest.param(
        locoregional_with(
            "ref | N2 | locoregional_node | axillary_node | 10\nS | N2 | locoregional_node | axillary_node |"
        ),
        "pass",
        id="undetermined second node",
    ),
    pytest.param(
        locoregional_with("ref | L2 | distant | lung | 10\nS | L2 | distant | lung |"),
        "unknown",
        id="undetermined distant lesion",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), LOCOREGIONAL_UNDETERMINED_CASES)
def test_undetermined_lesions_next_to_locoregional_progression(screened, spec, expected):
    """With locoregional progression, an undetermined node changes nothing; an undetermined distant lesion might."""
    assert screened(spec).event("S")["inc_oligoprogression"] == expected


ONLY_UNDETERMINED = case(
    lesions=table("""
        study_id | lesion_id | location | organ | size_mm | suv_max
        ref      | L1        | distant  | liver | 20      |
        S        | L1        | distant  | liver |         |
        pet      | L1        | distant  | liver | 31      | 9.5
    """)
)


def test_a_single_undetermined_lesion_is_unknown(screened):
    """One undetermined lesion and nothing else: none (fail) or one (pass) progressive lesion, so unknown."""
    assert_only_changes(screened(ONLY_UNDETERMINED).event("S"), inc_oligoprogression="unknown")
