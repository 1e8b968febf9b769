"""The data cut-off and the protocol file: what the screen may see, and which numbers it uses.

Nothing dated after the cut-off is used (D2): such records are dropped, and end
dates, metastasis, last-treatment and death dates after it read as missing,
each reported as a finding. The protocol parameters come from a protocol file;
the earlier amendment allowed progression imaging up to 70 days before the
local therapy (registration from S + 35 to S + 70).
"""

from __future__ import annotations

import pytest

from oligo_cohort.protocol import Protocol, load_protocol
from tests.spec.baseline import AS_OF, S, days_after, imaging_scanned_on
from tests.spec.harness import Case, assert_only_changes, assert_outcomes, baseline_with, case, with_other_tumours
from tests.spec.tables import table

AMENDMENT = "cosmo-earlier-amendment"


def died_on(date: str, *, scanned_on: str = S, protocol: str = "cosmo") -> Case:
    """The baseline patient dying on `date`, with S on `scanned_on` (its PET at S + 42)."""
    return case(
        patients=table(f"""
            patient_id | site_id | birth_date | sex | death_date
            p1         | AVL     | 1965-03-15 | F   | {date}
        """),
        imaging=imaging_scanned_on(scanned_on),
        protocol=protocol,
    )


# S on 2023-03-15: registration no earlier than S + 46 = 2023-04-30, after the cut-off 2023-04-20.
LATE_SCAN = "2023-03-15"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(died_on("2023-04-25", scanned_on=LATE_SCAN), "pass", id="death after the cut-off"),
        pytest.param(died_on("2023-04-19", scanned_on=LATE_SCAN), "fail", id="death before the cut-off"),
    ],
)
def test_a_death_after_the_cut_off_is_not_known(screened, spec, expected):
    """D2: a death date after the cut-off reads as missing, so it cannot close the imaging window."""
    assert_outcomes(screened(spec).event("S"), inc_imaging_window=expected)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            case(imaging=imaging_scanned_on(days_after(AS_OF, -45), pet_after_days=47)),
            "unknown",
            id="PET on S + 47, after the cut-off on S + 45: pending",
        ),
        pytest.param(
            case(imaging=imaging_scanned_on(days_after(AS_OF, -50), pet_after_days=47)),
            "pass",
            id="PET on S + 47, before the cut-off on S + 50",
        ),
    ],
)
def test_a_study_after_the_cut_off_is_ignored(screened, spec, expected):
    """D2: a confirmation PET dated after the cut-off is not seen: the confirmation is still pending."""
    assert_outcomes(screened(spec).event("S"), inc_pet_confirmation=expected)


def colon_cancer_on(date: str) -> Case:
    """A palliatively treated colon cancer diagnosed on `date`; S on 2023-03-15, so R = 2023-05-03."""
    return case(
        tumours=baseline_with(
            "tumours",
            f"""
            tumour_id | diagnosis_date | topography | behaviour | treatment_intent | chemotherapy | radiotherapy
            T2        | {date}         | C18.7      | 3         | palliative       | true         | false
            """,
        ),
        imaging=imaging_scanned_on(LATE_SCAN),
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(colon_cancer_on("2023-04-25"), "pass", id="diagnosed after the cut-off, before R"),
        pytest.param(colon_cancer_on("2023-04-17"), "fail", id="diagnosed before the cut-off"),
    ],
)
def test_a_tumour_diagnosed_after_the_cut_off_is_ignored(screened, spec, expected):
    """D2: a second cancer diagnosed after the cut-off (though before R) is not known at the cut-off."""
    assert_outcomes(screened(spec).event("S"), exc_other_malignancy=expected)


def metastasis_on(date: str) -> Case:
    return case(
        tumours=table(f"""
            tumour_id | diagnosis_date | topography | behaviour | basis_of_diagnosis | tnm_m | metastasis_date
            T1        | 2021-12-01     | C50.4      | 3         | histology_primary  | MX    | {date}
        """)
    )


METASTASIS_AFTER_CUTOFF = metastasis_on("2023-05-10")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(METASTASIS_AFTER_CUTOFF, "unknown", id="metastasis date after the cut-off: missing"),
        pytest.param(metastasis_on("2023-03-10"), "fail", id="metastasis date after S, before the cut-off"),
    ],
)
def test_a_metastasis_date_after_the_cut_off_reads_as_missing(screened, spec, expected):
    """D2: a metastasis date after the cut-off is not yet known: with MX the stage is unknown, not 'after S'."""
    assert_only_changes(screened(spec).event("S"), inc_metastatic=expected)


# Colon cancer of 2010: curative, no chemotherapy or radiotherapy, last treated after the cut-off (2023-05-01).
LAST_TREATMENT_AFTER_CUTOFF = case(
    tumours=with_other_tumours("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative | false | false | 2023-05-01")
)


def test_a_last_treatment_date_after_the_cut_off_reads_as_missing(screened):
    """D2: a last treatment date after the cut-off is missing; for a tumour diagnosed in 2010 that is undecidable."""
    assert_only_changes(screened(LAST_TREATMENT_AFTER_CUTOFF).event("S"), exc_other_malignancy="unknown")


RESPONSE_AFTER_CUTOFF = case(
    response_assessments=baseline_with("response_assessments", "assessment_date | response\n2023-04-25 | PD")
)


@pytest.mark.parametrize(
    ("spec", "table_name", "column"),
    [
        pytest.param(RESPONSE_AFTER_CUTOFF, "response_assessments", None, id="record dropped"),
        pytest.param(METASTASIS_AFTER_CUTOFF, "tumours", "metastasis_date", id="date read as missing"),
    ],
)
def test_what_the_cut_off_hides_is_reported(screened, spec, table_name, column):
    """D2: every record dropped and every date cleared by the cut-off is a data-quality finding."""
    findings = screened(spec).findings
    named = findings[
        (findings["table"] == table_name)
        & (findings["column"].isna() if column is None else findings["column"] == column)
    ]
    assert len(named) == 1


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(died_on(days_after(S, 40)), "fail", id="current protocol: registration from S + 46"),
        pytest.param(died_on(days_after(S, 40), protocol=AMENDMENT), "pass", id="amendment: registration from S + 35"),
    ],
)
def test_the_earlier_amendment_registers_from_s_plus_35(screened, spec, expected):
    """A death on S + 40 closes the current window (from S + 46) but not the amendment's (from S + 35)."""
    assert_only_changes(screened(spec).event("S"), inc_imaging_window=expected)


def worklist_at(days_after_s: int, protocol: str) -> Case:
    """Worklist mode with the cut-off `days_after_s` days after S (S moved back, its PET at S + 42)."""
    return case(imaging=imaging_scanned_on(days_after(AS_OF, -days_after_s)), protocol=protocol, worklist=True)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(worklist_at(60, "cosmo"), "fail", id="current protocol, cut-off S + 60"),
        pytest.param(worklist_at(60, AMENDMENT), "pass", id="amendment, cut-off S + 60"),
        pytest.param(worklist_at(70, AMENDMENT), "pass", id="amendment, cut-off S + 70"),
        pytest.param(worklist_at(71, AMENDMENT), "fail", id="amendment, cut-off S + 71"),
    ],
)
def test_the_earlier_amendment_keeps_the_window_open_to_s_plus_70(screened, spec, expected):
    """In worklist mode the amendment's window stays open until S + 70 days; the current one closes after S + 52."""
    assert_only_changes(screened(spec).event("S"), inc_imaging_window=expected)


AMENDMENT_BASELINE = case(protocol=AMENDMENT)


def test_the_amendment_changes_nothing_else(screened):
    """Under the earlier amendment the baseline patient is just as eligible."""
    assert_only_changes(screened(AMENDMENT_BASELINE).patient)


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
UP_TO_THREE_LESIONS = load_protocol("cosmo").with_overrides({"max_progressive_distant_lesions": "3"})


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(case(lesions=THREE_LIVER_LESIONS), "fail", id="COSMO: at most 2"),
        pytest.param(case(lesions=THREE_LIVER_LESIONS, protocol=UP_TO_THREE_LESIONS), "pass", id="parameter set to 3"),
    ],
)
def test_the_thresholds_come_from_the_protocol(screened, spec, expected):
    """The number of progressive distant lesions allowed is a protocol parameter, not a constant in code."""
    assert_only_changes(screened(spec).event("S"), inc_oligoprogression=expected)


NADIR = load_protocol("cosmo").with_overrides({"reference": "nadir"})


def shrank_then_grew(mid_modality: str, protocol: str | Protocol) -> Case:
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
        protocol=protocol,
    )


@pytest.mark.parametrize(
    ("spec", "is_event"),
    [
        pytest.param(shrank_then_grew("CT", "cosmo"), False, id="line-start reference: 16 vs 20 mm"),
        pytest.param(shrank_then_grew("CT", NADIR), True, id="nadir: 16 vs 12 mm"),
        pytest.param(shrank_then_grew("MRI", NADIR), False, id="nadir on another modality does not count"),
    ],
)
def test_the_nadir_option_compares_each_lesion_with_its_smallest_size(screened, spec, is_event):
    """D15: with `reference: nadir` a lesion is compared with its smallest size on same-modality studies before S."""
    result = screened(spec)
    assert ("S" in result.event_ids()) is is_event
    if is_event:
        assert result.event("S")["inc_oligoprogression"] == "pass"


NADIR_WITHOUT_SAME_MODALITY = case(
    imaging=table("""
        study_id | study_date | modality
        ref      | 2021-12-20 | MRI
        S        | 2023-03-01 | CT
        pet      | 2023-04-12 | FDG-PET-CT
    """),
    protocol=NADIR,
)


def test_the_nadir_option_falls_back_to_the_line_start_reference(screened):
    """D15: with no study of S's modality before S, the nadir option uses the line-start reference (here an MRI)."""
    assert_outcomes(
        screened(NADIR_WITHOUT_SAME_MODALITY).event("S"), inc_oligoprogression="pass", inc_same_modality="fail"
    )
