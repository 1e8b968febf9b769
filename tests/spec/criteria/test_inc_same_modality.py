"""Progression detected on the same imaging modality as used at the start of systemic therapy.

The reference study is the latest study of S's modality in the reference window
around the line start, [line start - 60 days, line start + 30 days]. Baseline:
line start 2022-01-03, so the window is [2021-11-04, 2022-02-02]; reference CT
`ref` on 2021-12-20; screening CT S on 2023-03-01.
"""

from __future__ import annotations

import pandas as pd

from tests.spec.baseline import LINE_START, days_after
from tests.spec.cases import cases, expect
from tests.spec.harness import Case, baseline_without, case
from tests.spec.tables import concat, table


def studies(rows: str) -> pd.DataFrame:
    """Baseline S and pet plus the given reference-window studies (`study_id | study_date | modality`)."""
    return concat(table("study_id | study_date | modality\n" + rows), baseline_without("imaging", study_id="ref"))


def reference_lesions(*study_ids: str) -> pd.DataFrame:
    """The baseline lesions with the reference row of L1 (20 mm) on each of these studies instead of `ref`."""
    rows = "\n".join(f"{study} | L1 | distant | liver | 20" for study in study_ids)
    return concat(
        table("study_id | lesion_id | location | organ | size_mm\n" + rows), baseline_without("lesions", study_id="ref")
    )


@cases(
    expect(
        "an MRI near the line start, S a CT",
        case(imaging=studies("ref | 2021-12-20 | MRI")),
        columns={"reference_study_id": "ref"},
        inc_same_modality="fail",
        rule="other_modality",
    )
)
def test_a_reference_of_another_modality_fails_same_modality(checked, spec):
    """Without a CT in the reference window, the latest study of another modality is the reference: S fails."""
    checked(spec)


LATEST_OF_OTHER_MODALITIES = case(
    imaging=studies("mri | 2021-12-01 | MRI\nus | 2021-12-20 | US"),
    lesions=reference_lesions("mri", "us"),
)


@cases(
    expect(
        "an MRI and a later ultrasound near the line start, S a CT",
        LATEST_OF_OTHER_MODALITIES,
        columns={"reference_study_id": "us"},
        inc_same_modality="fail",
        rule="other_modality",
    )
)
def test_without_a_study_of_the_same_modality_the_latest_of_any_is_the_reference(checked, spec):
    """criteria.md: with no study of S's modality in the window the reference is the latest of any modality (the
    ultrasound, not the earlier MRI), and same modality fails."""
    checked(spec)


SAME_MODALITY_PREFERRED = case(
    imaging=studies("ref | 2021-12-20 | CT\nmri | 2021-12-28 | MRI"),
    lesions=reference_lesions("ref", "mri"),
)
LATEST_OF_TWO = case(
    imaging=studies("early | 2021-11-15 | CT\nref | 2021-12-20 | CT"),
    lesions=reference_lesions("early", "ref"),
)
SAME_DAY_TIE = case(
    imaging=studies("ref-b | 2021-12-20 | CT\nref-a | 2021-12-20 | CT"),
    lesions=reference_lesions("ref-b", "ref-a"),
)


@cases(
    expect(
        "same modality before a later MRI",
        SAME_MODALITY_PREFERRED,
        columns={"reference_study_id": "ref"},
        inc_same_modality="pass",
        rule="same_modality",
    ),
    expect(
        "latest of two CTs",
        LATEST_OF_TWO,
        columns={"reference_study_id": "ref"},
        inc_same_modality="pass",
        rule="same_modality",
    ),
    expect(
        "two CTs on one day: smallest study_id (D11)",
        SAME_DAY_TIE,
        columns={"reference_study_id": "ref-a"},
        inc_same_modality="pass",
        rule="same_modality",
    ),
)
def test_the_reference_is_the_latest_same_modality_study_in_the_window(checked, spec):
    """D11: the reference is the latest study of S's modality in the window; on a tie the smallest study_id."""
    checked(spec)


def reference_on(date: str, **settings: object) -> Case:
    return case(imaging=studies(f"ref | {date} | CT"), **settings)  # type: ignore[arg-type]


# No reference: every lesion is undetermined, on S and on the confirmation PET alike.
WITHOUT_REFERENCE = {"inc_oligoprogression": "unknown", "inc_pet_confirmation": "unknown"}


@cases(
    expect(
        "line start - 60",
        reference_on(days_after(LINE_START, -60)),
        columns={"reference_study_id": "ref"},
        inc_same_modality="pass",
        rule="same_modality",
    ),
    expect(
        "line start + 30",
        reference_on(days_after(LINE_START, 30)),
        columns={"reference_study_id": "ref"},
        inc_same_modality="pass",
        rule="same_modality",
    ),
    expect(
        "line start - 61",
        reference_on(days_after(LINE_START, -61)),
        columns={"reference_study_id": None},
        rule={"inc_same_modality": "no_study_near_line_start"},
        inc_same_modality="unknown",
        **WITHOUT_REFERENCE,
    ),
    expect(
        "line start + 31",
        reference_on(days_after(LINE_START, 31)),
        columns={"reference_study_id": None},
        rule={"inc_same_modality": "no_study_near_line_start"},
        inc_same_modality="unknown",
        **WITHOUT_REFERENCE,
    ),
)
def test_reference_window_bounds(checked, spec):
    """A study on line start - 60 or + 30 days is in the window; a day further out there is no reference."""
    checked(spec)


@cases(
    expect(
        "line start - 61, window from line start - 61",
        reference_on(days_after(LINE_START, -61), parameters={"reference_window_before_days": 61}),
        columns={"reference_study_id": "ref"},
        inc_same_modality="pass",
        rule="same_modality",
    ),
    expect(
        "line start + 30, window to line start + 29",
        reference_on(days_after(LINE_START, 30), parameters={"reference_window_after_days": 29}),
        columns={"reference_study_id": None},
        rule={"inc_same_modality": "no_study_near_line_start"},
        inc_same_modality="unknown",
        **WITHOUT_REFERENCE,
    ),
)
def test_the_reference_window_comes_from_the_protocol(checked, spec):
    """The window's bounds are the protocol's `reference_window_before_days` and `reference_window_after_days`:
    widened by a day, a study on line start - 61 is the reference; narrowed by a day, one on line start + 30 is
    not."""
    checked(spec)
