"""Oligoprogression: which lesions on the screening scan are progressive, and which sets of them pass.

A lesion on S is progressive when it is new (no row on the reference study),
or `size_S >= 1.20 x size_ref` and (bone, or `size_S > 15 mm`), or both
studies are FDG-PET-CT and `suv_S >= 1.20 x suv_ref`. Missing values make it
undetermined, in three-valued logic (D14).

Pass: 1 or 2 progressive distant lesions, all in one organ, with no progressive
primary/locoregional lesion; or only progressive primary/locoregional lesions
(any number). Fail: none, 3+ distant, 2+ organs, distant with locoregional.
Undetermined lesions decide only when every way of resolving them agrees.

Most cases add lesions to the baseline, where liver lesion L1 grew 20 → 30 mm.
Those adding a lung lesion L2 read its classification from the outcome: if L2 is
progressive, progression spans two organs and the criterion fails; if not, it
passes; if L2 is undetermined, it is unknown.
"""

from __future__ import annotations

import pandas as pd

from tests.spec.cases import SpecCase, cases, expect
from tests.spec.harness import Case, baseline_with, case
from tests.spec.tables import table

TWO_ORGANS = "fail"  # L2 progressive: liver and lung
ONE_ORGAN = "pass"  # L2 not progressive: only the liver lesion
EITHER = "unknown"  # L2 undetermined: one or two organs
RULE = {"pass": "oligoprogressive", "fail": "not_oligoprogressive", "unknown": "undecided"}


def on_s(title: str, given: Case, outcome: str, *, only: bool = True, **expected: object) -> SpecCase:
    """inc_oligoprogression has this outcome on S, by the rule that gives it on a candidate event."""
    rule = {"inc_oligoprogression": RULE[outcome]}
    return expect(title, given, only=only, rule=rule, inc_oligoprogression=outcome, **expected)  # type: ignore[arg-type]


def with_lung_lesion(ref_size: str | None, s_size: str, organ: str = "lung") -> Case:
    """Baseline plus lesion L2 sized `ref_size` on the reference CT (None: no row) and `s_size` on S ("" = missing)."""
    rows = ["study_id | lesion_id | location | organ | size_mm"]
    if ref_size is not None:
        rows.append(f"ref | L2 | distant | {organ} | {ref_size}")
    rows.append(f"S | L2 | distant | {organ} | {s_size}")
    return case(lesions=baseline_with("lesions", "\n".join(rows)))


@cases(
    on_s("exactly +20 % and above 15 mm", with_lung_lesion("20", "24"), TWO_ORGANS),
    on_s("just below +20 %", with_lung_lesion("20", "23.999"), ONE_ORGAN),
    on_s("+20 % to exactly 15 mm (floor is strict)", with_lung_lesion("12.5", "15"), ONE_ORGAN),
    on_s("+20 % to just above 15 mm", with_lung_lesion("12.5", "15.001"), TWO_ORGANS),
    on_s("+20 % but below the floor", with_lung_lesion("5", "6"), ONE_ORGAN),
    on_s("bone +20 %, no size floor", with_lung_lesion("5", "6", organ="bone"), TWO_ORGANS),
    on_s("bone just below +20 %", with_lung_lesion("5", "5.999", organ="bone"), ONE_ORGAN),
    on_s("shrinking", with_lung_lesion("20", "10"), ONE_ORGAN),
    on_s("new lesion, any size", with_lung_lesion(None, "8"), TWO_ORGANS),
)
def test_size_rule(checked, spec):
    """Progressive by size: at least 20 % larger than on the reference and larger than 15 mm (bone: no floor)."""
    checked(spec)


@cases(
    on_s("size missing on S", with_lung_lesion("20", ""), EITHER),
    on_s("size missing on the reference (D13: measured, not new)", with_lung_lesion("", "30"), EITHER),
    on_s("size missing on the reference, 12 mm on S (D14)", with_lung_lesion("", "12"), ONE_ORGAN),
    on_s("bone, size missing on the reference", with_lung_lesion("", "12", organ="bone"), EITHER),
)
def test_missing_sizes_make_a_lesion_undetermined_only_when_they_could_change_it(checked, spec):
    """D13/D14: a missing size leaves a lesion undetermined unless the known values decide (12 mm is never > 15)."""
    checked(spec)


SEEN_ONLY_ON_A_LATER_SCAN = case(
    imaging=baseline_with(
        "imaging",
        """
        study_id | study_date | modality
        mid      | 2022-09-01 | CT
        """,
    ),
    lesions=baseline_with(
        "lesions",
        """
        study_id | lesion_id | location | organ | size_mm
        mid      | L2        | distant  | lung  | 25
        S        | L2        | distant  | lung  | 25
        """,
    ),
)


@cases(on_s("lung lesion first seen on an intermediate scan", SEEN_ONLY_ON_A_LATER_SCAN, TWO_ORGANS))
def test_a_lesion_without_a_row_on_the_reference_study_is_new(checked, spec):
    """A lesion with no measurement on the reference study is new on S, even if an intermediate scan saw it."""
    checked(spec)


LESION_ONLY_ON_ANOTHER_SCAN = case(
    imaging=baseline_with(
        "imaging",
        """
        study_id | study_date | modality
        mid      | 2022-09-01 | CT
        """,
    ),
    lesions=baseline_with(
        "lesions",
        """
        study_id | lesion_id | location | organ | size_mm
        ref      | L2        | distant  | lung  | 10
        mid      | L2        | distant  | lung  | 40
        """,
    ),
)


@cases(on_s("lung lesion grew on an intermediate scan, no row on S", LESION_ONLY_ON_ANOTHER_SCAN, ONE_ORGAN))
def test_only_lesion_rows_of_the_screening_scan_count(checked, spec):
    """D13: a lesion that grew on an intermediate scan but has no row on S does not count for S."""
    checked(spec)


PET_STUDIES = table("""
    study_id | study_date | modality
    ref      | 2021-12-20 | FDG-PET-CT
    S        | 2023-03-01 | FDG-PET-CT
""")


def pet_to_pet(l2_rows: str, imaging: pd.DataFrame = PET_STUDIES) -> Case:
    """Reference and S as given (both PET by default); L1 progressive by size, plus the L2 rows given."""
    lesions = table(f"""
        study_id | lesion_id | location | organ | size_mm | suv_max
        ref      | L1        | distant  | liver | 20      | 4.0
        S        | L1        | distant  | liver | 30      | 4.0
        {l2_rows}
    """)
    return case(imaging=imaging, lesions=lesions)


def l2(ref: str, s: str) -> str:
    """Two rows of lesion L2 (lung): `size | suv` on the reference and on S."""
    return f"ref | L2 | distant | lung | {ref}\nS | L2 | distant | lung | {s}"


@cases(
    on_s("SUVmax exactly +20 %", pet_to_pet(l2("20 | 5.0", "20 | 6.0")), TWO_ORGANS, only=False),
    on_s("SUVmax just below +20 %", pet_to_pet(l2("20 | 5.0", "20 | 5.999")), ONE_ORGAN, only=False),
    on_s("sizes missing, SUVmax +20 % decides", pet_to_pet(l2(" | 5.0", " | 6.0")), TWO_ORGANS, only=False),
    on_s("size stable, SUVmax missing on S", pet_to_pet(l2("20 | 5.0", "20 | ")), EITHER, only=False),
    on_s("bone FDG uptake +20 %", pet_to_pet(l2("5 | 5.0", "5 | 6.0").replace("lung", "bone")), TWO_ORGANS, only=False),
)
def test_suv_rule_between_two_pet_studies(checked, spec):
    """Progressive by metabolism: both studies FDG-PET-CT and SUVmax at least 20 % higher on S."""
    checked(spec)


@cases(
    on_s("size +50 %, SUVmax missing on S", pet_to_pet(l2("20 | 5.0", "30 | ")), TWO_ORGANS, only=False),
    on_s("sizes missing, SUVmax +10 %", pet_to_pet(l2(" | 5.0", " | 5.5")), EITHER, only=False),
)
def test_between_two_pet_studies_one_rule_decides_when_the_other_is_missing(checked, spec):
    """criteria.md: a lesion is progressive by size or by metabolism, and a missing value leaves it undetermined only
    where it could change that (Outcomes: Kleene logic). Grown 50 % to 30 mm it is progressive whatever its missing
    SUVmax; with its sizes missing, an SUVmax up only 10 % does not decide, so it is undetermined."""
    checked(spec)


CT_REFERENCE_PET_SCAN = table("""
    study_id | study_date | modality
    ref      | 2021-12-20 | CT
    S        | 2023-03-01 | FDG-PET-CT
""")
PET_REFERENCE_CT_SCAN = table("""
    study_id | study_date | modality
    ref      | 2021-12-20 | FDG-PET-CT
    S        | 2023-03-01 | CT
""")
REFERENCE = {"reference_study_id": "ref"}


@cases(
    on_s(
        "CT reference, PET scan",
        pet_to_pet(l2("20 | 5.0", "20 | 8.0"), CT_REFERENCE_PET_SCAN),
        ONE_ORGAN,
        only=False,
        columns=REFERENCE,
    ),
    on_s(
        "PET reference, CT scan",
        pet_to_pet(l2("20 | 5.0", "20 | 8.0"), PET_REFERENCE_CT_SCAN),
        ONE_ORGAN,
        only=False,
        columns=REFERENCE,
    ),
    on_s(
        "CT reference without SUV (D14)",
        pet_to_pet(l2("20 | ", "20 | 8.0"), CT_REFERENCE_PET_SCAN),
        ONE_ORGAN,
        only=False,
        columns=REFERENCE,
    ),
)
def test_suv_counts_only_from_pet_to_pet(checked, spec):
    """D14: SUVmax +60 % makes a lesion progressive only if both studies are FDG-PET-CT (else the rule is false)."""
    checked(spec)


def plus_lesions(rows: str) -> Case:
    """The baseline with lesions added: `lesion | location | organ | size on ref | size on S` per line.

    A lesion growing 10 → 20 mm is progressive, 10 → 10 is stable, 10 → (blank) is undetermined.
    """
    lines = ["study_id | lesion_id | location | organ | size_mm"]
    for line in rows.strip().splitlines():
        lesion, location, organ, on_ref, on_s = (cell.strip() for cell in line.split("|"))
        lines.append(f"ref | {lesion} | {location} | {organ} | {on_ref}")
        lines.append(f"S | {lesion} | {location} | {organ} | {on_s}")
    return case(lesions=baseline_with("lesions", "\n".join(lines)))


@cases(
    on_s("2 distant, one organ", plus_lesions("L2 | distant | liver | 10 | 20"), "pass"),
    on_s(
        "3 distant, one organ",
        plus_lesions("L2 | distant | liver | 10 | 20\nL3 | distant | liver | 10 | 20"),
        "fail",
    ),
    on_s("2 distant, two organs", plus_lesions("L2 | distant | lung | 10 | 20"), "fail"),
    on_s(
        "distant + locoregional node",
        plus_lesions("L2 | locoregional_node | axillary_node | 10 | 20"),
        "fail",
    ),
    on_s("distant + primary", plus_lesions("L2 | primary | breast | 20 | 30"), "fail"),
    on_s(
        "distant + stable locoregional",
        plus_lesions("L2 | locoregional_node | axillary_node | 10 | 10"),
        "pass",
    ),
    on_s(
        "2 distant in one organ + a stable one elsewhere",
        plus_lesions("L2 | distant | liver | 10 | 20\nL3 | distant | lung | 10 | 10"),
        "pass",
    ),
)
def test_one_or_two_distant_lesions_in_one_organ(checked, spec):
    """One or two progressive distant lesions in one organ pass; a third, a second organ or a locoregional one fails."""
    checked(spec)


@cases(
    on_s(
        "liver lesion progressive, axillary node +20 % to 12 mm",
        plus_lesions("L2 | locoregional_node | axillary_node | 10 | 12"),
        "pass",
    )
)
def test_the_size_floor_applies_to_lymph_nodes(checked, spec):
    """criteria.md: the 15 mm floor spares only `organ = bone`, so an axillary node grown 20 % to a 12 mm short axis is
    not progressive, and the liver lesion progresses alone (a progressive node beside it would fail)."""
    checked(spec)


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


@cases(on_s("the primary and two axillary nodes progress, the liver lesion is stable", ONLY_LOCOREGIONAL, "pass"))
def test_only_primary_and_locoregional_progression_passes_in_any_number(checked, spec):
    """Progression of only the primary tumour and locoregional nodes passes, however many lesions progress."""
    checked(spec)


@cases(
    on_s("1 progressive + 1 undetermined, same organ", plus_lesions("L2 | distant | liver | 10 | "), "pass"),
    on_s(
        "2 progressive + 1 undetermined, same organ",
        plus_lesions("L2 | distant | liver | 10 | 20\nL3 | distant | liver | 10 | "),
        "unknown",
    ),
    on_s("1 progressive + 1 undetermined elsewhere", plus_lesions("L2 | distant | lung | 10 | "), "unknown"),
    on_s(
        "3 progressive + 1 undetermined",
        plus_lesions("L2 | distant | liver | 10 | 20\nL3 | distant | liver | 10 | 20\nL4 | distant | lung | 10 | "),
        "fail",
    ),
    on_s(
        "two organs + 1 undetermined",
        plus_lesions("L2 | distant | lung | 10 | 20\nL3 | distant | bone | 10 | "),
        "fail",
    ),
    on_s(
        "distant progressive + undetermined locoregional",
        plus_lesions("L2 | locoregional_node | axillary_node | 10 | "),
        "unknown",
    ),
)
def test_undetermined_lesions_decide_only_when_every_resolution_agrees(checked, spec):
    """Undetermined lesions make the outcome unknown only if counting them progressive or not changes the answer."""
    checked(spec)


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


@cases(
    on_s(
        "undetermined second node",
        locoregional_with(
            "ref | N2 | locoregional_node | axillary_node | 10\nS | N2 | locoregional_node | axillary_node |"
        ),
        "pass",
        only=False,
    ),
    on_s(
        "undetermined distant lesion",
        locoregional_with("ref | L2 | distant | lung | 10\nS | L2 | distant | lung |"),
        "unknown",
        only=False,
    ),
)
def test_undetermined_lesions_next_to_locoregional_progression(checked, spec):
    """With locoregional progression, an undetermined node changes nothing; an undetermined distant lesion might."""
    checked(spec)


ONLY_UNDETERMINED = case(
    lesions=table("""
        study_id | lesion_id | location | organ | size_mm | suv_max
        ref      | L1        | distant  | liver | 20      |
        S        | L1        | distant  | liver |         |
        pet      | L1        | distant  | liver | 31      | 9.5
    """)
)


@cases(on_s("the liver lesion's size missing on S", ONLY_UNDETERMINED, "unknown"))
def test_a_single_undetermined_lesion_is_unknown(checked, spec):
    """One undetermined lesion and nothing else: none (fail) or one (pass) progressive lesion, so unknown."""
    checked(spec)


THREE_LIVER_LESIONS = baseline_with(
    "lesions",
    """
    study_id | lesion_id | location | organ | size_mm
    ref      | L2        | distant  | liver | 10
    S        | L2        | distant  | liver | 20
    ref      | L3        | distant  | liver | 10
    S        | L3        | distant  | liver | 20
    """,
)


@cases(
    on_s("COSMO: at most 2", case(lesions=THREE_LIVER_LESIONS), "fail"),
    on_s(
        "parameter set to 3",
        case(lesions=THREE_LIVER_LESIONS, parameters={"max_progressive_distant_lesions": 3}),
        "pass",
    ),
)
def test_the_thresholds_come_from_the_protocol(checked, spec):
    """The number of progressive distant lesions allowed is a protocol parameter, not a constant in code."""
    checked(spec)


def shrank_then_grew(mid_modality: str, reference: str) -> Case:
    """L1: 20 mm on the reference CT, 12 mm on a scan in June 2022, 16 mm on S and on the confirmation PET."""
    return case(
        imaging=baseline_with("imaging", f"study_id | study_date | modality\nmid | 2022-06-01 | {mid_modality}"),
        lesions=table("""
            study_id | lesion_id | location | organ | size_mm
            ref      | L1        | distant  | liver | 20
            mid      | L1        | distant  | liver | 12
            S        | L1        | distant  | liver | 16
            pet      | L1        | distant  | liver | 16
        """),
        parameters=None if reference == "line_start" else {"reference": reference},
    )


@cases(
    expect(
        "line-start reference: 16 vs 20 mm",
        shrank_then_grew("CT", "line_start"),
        at=None,
        only=False,
        events=[],
    ),
    on_s("nadir: 16 vs 12 mm", shrank_then_grew("CT", "nadir"), "pass", only=False, events=["S"]),
    expect(
        "nadir on another modality does not count",
        shrank_then_grew("MRI", "nadir"),
        at=None,
        only=False,
        events=[],
    ),
)
def test_the_nadir_option_compares_each_lesion_with_its_smallest_size(checked, spec):
    """D15: with `reference: nadir` a lesion is compared with its smallest size on same-modality studies before S."""
    checked(spec)


def nadir_with_a_missing_size(ref_size: str) -> Case:
    """L1: `ref_size` mm on the reference CT, its size missing on a CT in June 2022, 16 mm on S and the PET."""
    return case(
        imaging=baseline_with("imaging", "study_id | study_date | modality\nmid | 2022-06-01 | CT"),
        lesions=table(f"""
            study_id | lesion_id | location | organ | size_mm
            ref      | L1        | distant  | liver | {ref_size}
            mid      | L1        | distant  | liver |
            S        | L1        | distant  | liver | 16
            pet      | L1        | distant  | liver | 16
        """),
        parameters={"reference": "nadir"},
    )


@cases(
    on_s(
        "the known sizes do not decide: 16 mm is not +20 % over 20, but could be over the missing one",
        nadir_with_a_missing_size("20"),
        "unknown",
        only=False,
        events=["mid", "S"],
        inc_pet_confirmation="unknown",
    ),
    on_s(
        "the known sizes decide: 16 mm is +20 % over 12 whatever the missing one was",
        nadir_with_a_missing_size("12"),
        "pass",
        only=False,
        events=["mid", "S", "pet"],  # the PET has no PET before it: line-start reference, 16 vs 12 mm
        inc_pet_confirmation="pass",
    ),
)
def test_a_nadir_over_a_missing_size_is_known_only_as_far_as_the_known_sizes_go(checked, spec):
    """D62: the smallest size is unknown where one is missing, so "+20 % over the nadir" holds when it holds over a
    known size, and is otherwise undetermined: the missing size could have been the smallest (Kleene logic)."""
    checked(spec)


NADIR_WITHOUT_SAME_MODALITY = case(
    imaging=table("""
        study_id | study_date | modality
        ref      | 2021-12-20 | MRI
        S        | 2023-03-01 | CT
        pet      | 2023-04-12 | FDG-PET-CT
    """),
    parameters={"reference": "nadir"},
)


@cases(
    on_s(
        "nadir option, the only earlier study an MRI",
        NADIR_WITHOUT_SAME_MODALITY,
        "pass",
        only=False,
        inc_same_modality="fail",
    )
)
def test_the_nadir_option_falls_back_to_the_line_start_reference(checked, spec):
    """D15: with no study of S's modality before S, the nadir option uses the line-start reference (here an MRI)."""
    checked(spec)
