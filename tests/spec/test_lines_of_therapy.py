"""Lines of therapy for metastatic disease: what starts a new line, what does not, and the criteria built on them.

Each case replaces the baseline's therapy (first-line letrozole + palbociclib
since 2022-01-03) and reads the line of the therapy active at the screening
scan S (2023-03-01): `line_number` on the event, `inc_line_1_or_2` (line 1 or
2) and `exc_more_than_two_lines` (more than 2 lines started on or before S).
Cases whose history starts before the baseline's diagnosis use a breast cancer
diagnosed metastatic (M1) in 2019.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.spec.baseline import S, days_after
from tests.spec.harness import Case, assert_only_changes, assert_outcomes, case
from tests.spec.tables import table

DIAGNOSED_2019 = table("""
    tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m
    T1        | 2019-11-04     | C50.4      | 8500       | 3         | histology_primary  | M1
""")


def therapy(rows: str, tumours: pd.DataFrame | None = None) -> Case:
    """The baseline with this systemic therapy (and, when given, these tumours)."""
    replaced = {"systemic_therapy": table(rows)}
    if tumours is not None:
        replaced["tumours"] = tumours
    return case(**replaced)


def line_of(event: dict) -> tuple[object, str, str]:
    """What the lines decide for an event: its line number, inc_line_1_or_2, exc_more_than_two_lines."""
    return event["line_number"], event["inc_line_1_or_2"], event["exc_more_than_two_lines"]


DE_ESCALATION = therapy("""
    drug        | start_date | end_date   | setting
    pertuzumab  | 2022-01-03 |            | metastatic
    trastuzumab | 2022-01-03 |            | metastatic
    docetaxel   | 2022-01-03 | 2022-05-30 | metastatic
""")
DE_ESCALATION_NEW_EPISODES = therapy("""
    drug        | start_date | end_date   | setting
    pertuzumab  | 2022-01-03 | 2022-05-30 | metastatic
    trastuzumab | 2022-01-03 | 2022-05-30 | metastatic
    docetaxel   | 2022-01-03 | 2022-05-30 | metastatic
    pertuzumab  | 2022-06-20 |            | metastatic
    trastuzumab | 2022-06-20 |            | metastatic
""")
DE_ESCALATION_FIXED_COMBINATION = therapy("""
    drug                   | start_date | end_date   | setting
    pertuzumab             | 2022-01-03 | 2022-05-30 | metastatic
    trastuzumab            | 2022-01-03 | 2022-05-30 | metastatic
    docetaxel              | 2022-01-03 | 2022-05-30 | metastatic
    pertuzumab+trastuzumab | 2022-06-20 |            | metastatic
""")
DE_ESCALATION_SUBCUTANEOUS = therapy("""
    drug           | start_date | end_date   | setting
    pertuzumab     | 2022-01-03 | 2022-05-30 | metastatic
    trastuzumab    | 2022-01-03 | 2022-05-30 | metastatic
    docetaxel      | 2022-01-03 | 2022-05-30 | metastatic
    pertuzumab     | 2022-06-20 |            | metastatic
    trastuzumab SC | 2022-06-20 |            | metastatic
""")


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(DE_ESCALATION, id="docetaxel stops"),
        pytest.param(DE_ESCALATION_NEW_EPISODES, id="pertuzumab/trastuzumab recorded again"),
        pytest.param(DE_ESCALATION_FIXED_COMBINATION, id="continued as the fixed combination (D6)"),
        pytest.param(DE_ESCALATION_SUBCUTANEOUS, id="trastuzumab continued subcutaneously"),
    ],
)
def test_de_escalation_stays_one_line(screened, spec):
    """Pertuzumab/trastuzumab + docetaxel followed by pertuzumab/trastuzumab is one line of therapy."""
    event = screened(spec).event("S")
    assert line_of(event) == (1, "pass", "pass")
    assert_only_changes(event)


FIXED_COMBINATION_ADDS_PERTUZUMAB = therapy(
    """
    drug                   | start_date | end_date   | setting
    trastuzumab            | 2021-06-07 | 2022-01-02 | metastatic
    vinorelbine            | 2021-06-07 | 2022-01-02 | metastatic
    pertuzumab+trastuzumab | 2022-01-03 |            | metastatic
    """,
    tumours=DIAGNOSED_2019,
)


def test_fixed_combination_after_trastuzumab_alone_adds_a_drug(screened):
    """D6: a later drug stays in the line only if all its components are in the regimen; pertuzumab is not."""
    assert line_of(screened(FIXED_COMBINATION_ADDS_PERTUZUMAB).event("S")) == (2, "pass", "pass")


def added_after(days: int) -> Case:
    return therapy(f"""
        drug        | start_date               | end_date | setting
        letrozole   | 2022-01-03               |          | metastatic
        palbociclib | {days_after("2022-01-03", days)} |          | metastatic
    """)


@pytest.mark.parametrize(
    ("spec", "expected_line"),
    [
        pytest.param(added_after(28), 1, id="palbociclib 28 days after letrozole: same regimen"),
        pytest.param(added_after(29), 2, id="palbociclib 29 days after letrozole: added drug"),
    ],
)
def test_a_drug_added_after_the_regimen_window_starts_a_new_line(screened, spec, expected_line):
    """D7: drugs starting within 28 days of the line start (inclusive) form its regimen; a later one is a new line."""
    assert line_of(screened(spec).event("S")) == (expected_line, "pass", "pass")


THIRD_LINE = therapy(
    """
    drug        | start_date | end_date   | setting
    anastrozole | 2020-01-06 | 2020-12-31 | metastatic
    fulvestrant | 2021-01-04 | 2021-12-31 | metastatic
    letrozole   | 2022-01-03 |            | metastatic
    palbociclib | 2022-01-03 |            | metastatic
    """,
    tumours=DIAGNOSED_2019,
)
THIRD_LINE_ROWS_REVERSED = therapy(
    """
    drug        | start_date | end_date   | setting
    palbociclib | 2022-01-03 |            | metastatic
    letrozole   | 2022-01-03 |            | metastatic
    fulvestrant | 2021-01-04 | 2021-12-31 | metastatic
    anastrozole | 2020-01-06 | 2020-12-31 | metastatic
    """,
    tumours=DIAGNOSED_2019,
)


def test_a_switch_to_a_new_drug_starts_a_new_line_and_a_third_line_is_excluded(screened):
    """Each switch to a drug not in the regimen is a new line: on line 3, both line criteria fail."""
    event = screened(THIRD_LINE).event("S")
    assert line_of(event) == (3, "fail", "fail")
    assert_only_changes(event, inc_line_1_or_2="fail", exc_more_than_two_lines="fail")


def test_row_order_of_the_input_never_matters(screened):
    """D5: episodes are ordered by their dates and names, not by their rows in the extract."""
    assert line_of(screened(THIRD_LINE_ROWS_REVERSED).event("S")) == (3, "fail", "fail")


THIRD_LINE_AFTER_S = therapy(
    """
    drug         | start_date | end_date   | setting
    fulvestrant  | 2021-01-04 | 2021-12-31 | metastatic
    letrozole    | 2022-01-03 | 2023-03-19 | metastatic
    palbociclib  | 2022-01-03 | 2023-03-19 | metastatic
    capecitabine | 2023-03-20 |            | metastatic
    """,
    tumours=DIAGNOSED_2019,
)


def test_lines_started_after_the_scan_do_not_count(screened):
    """Only lines started on or before S count: a third line started after S leaves S on line 2 of 2."""
    assert line_of(screened(THIRD_LINE_AFTER_S).event("S")) == (2, "pass", "pass")


def restarted_after(gap_days: int) -> Case:
    restart = days_after("2021-06-30", gap_days)
    return therapy(
        f"""
        drug        | start_date | end_date   | setting
        letrozole   | 2021-01-04 | 2021-06-30 | metastatic
        palbociclib | 2021-01-04 | 2021-06-30 | metastatic
        letrozole   | {restart} |            | metastatic
        palbociclib | {restart} |            | metastatic
        """,
        tumours=DIAGNOSED_2019,
    )


@pytest.mark.parametrize(
    ("spec", "expected_line"),
    [
        pytest.param(restarted_after(120), 1, id="restart 120 days after the line ended"),
        pytest.param(restarted_after(121), 2, id="restart 121 days after the line ended"),
    ],
)
def test_a_restart_more_than_120_days_after_the_line_ended_is_a_new_line(screened, spec, expected_line):
    """The same regimen restarted more than 120 days after every episode of the line ended is a new line."""
    assert line_of(screened(spec).event("S")) == (expected_line, "pass", "pass")


def switched(first: str, then: str) -> Case:
    return therapy(f"""
        drug    | start_date | end_date   | setting
        {first} | 2022-01-03 | 2022-04-25 | metastatic
        {then}  | 2022-05-02 |            | metastatic
    """)


@pytest.mark.parametrize(
    ("spec", "expected_line"),
    [
        pytest.param(switched("paclitaxel", "nab-paclitaxel"), 1, id="paclitaxel to nab-paclitaxel"),
        pytest.param(switched("fluorouracil", "capecitabine"), 1, id="fluorouracil to capecitabine"),
        pytest.param(switched("carboplatin", "cisplatin"), 1, id="carboplatin to cisplatin"),
        pytest.param(switched("trastuzumab", "trastuzumab-dkst"), 1, id="trastuzumab to a biosimilar"),
        pytest.param(switched("paclitaxel", "docetaxel"), 2, id="paclitaxel to docetaxel (a different drug)"),
    ],
)
def test_a_substitute_drug_stays_in_the_line(screened, spec, expected_line):
    """A substitute (nab-paclitaxel for paclitaxel, capecitabine for 5-FU) continues the line; a switch does not."""
    assert line_of(screened(spec).event("S")) == (expected_line, "pass", "pass")


ADJUVANT_BEFORE_METASTASIS = therapy(
    """
    drug             | start_date | end_date   | setting
    paclitaxel       | 2018-01-08 | 2018-03-26 | neoadjuvant
    epirubicin       | 2018-05-07 | 2018-07-30 | adjuvant
    cyclophosphamide | 2018-05-07 | 2018-07-30 | adjuvant
    tamoxifen        | 2018-08-20 | 2021-12-20 | adjuvant
    letrozole        | 2022-01-03 |            | metastatic
    palbociclib      | 2022-01-03 |            | metastatic
    """,
    tumours=table("""
        tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m | metastasis_date
        T1        | 2017-12-04     | C50.4      | 8500       | 3         | histology_primary  | M0    | 2021-12-01
    """),
)


def test_adjuvant_and_neoadjuvant_therapy_never_counts(screened):
    """Neoadjuvant and adjuvant episodes are no metastatic line, even one running past the metastasis date."""
    event = screened(ADJUVANT_BEFORE_METASTASIS).event("S")
    assert line_of(event) == (1, "pass", "pass")
    assert_only_changes(event)


WITH_SUPPORTIVE_DRUGS = therapy("""
    drug        | start_date | end_date | setting
    denosumab   | 2021-12-01 |          | metastatic
    letrozole   | 2022-01-03 |          | metastatic
    palbociclib | 2022-01-03 |          | metastatic
    goserelin   | 2022-03-14 |          | metastatic
""")


def test_supportive_drugs_never_start_or_define_a_line(screened):
    """A bone agent started a month before, and ovarian suppression added later, change nothing: still line 1."""
    event = screened(WITH_SUPPORTIVE_DRUGS).event("S")
    assert line_of(event) == (1, "pass", "pass")
    assert_only_changes(event)


SETTING_FROM_METASTASIS_DATE = therapy(
    """
    drug        | start_date | end_date   | setting
    tamoxifen   | 2018-05-07 | 2021-11-30 |
    letrozole   | 2021-12-01 |            | unknown
    palbociclib | 2021-12-01 |            |
    """,
    tumours=table("""
        tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m | metastasis_date
        T1        | 2017-12-04     | C50.4      | 8500       | 3         | histology_primary  | M0    | 2021-12-01
    """),
)
SETTING_FROM_M1_DIAGNOSIS = therapy("""
    drug        | start_date | end_date | setting
    letrozole   | 2022-01-03 |          |
    palbociclib | 2022-01-03 |          | unknown
""")


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(SETTING_FROM_METASTASIS_DATE, id="from the metastasis date (on or after it)"),
        pytest.param(SETTING_FROM_M1_DIAGNOSIS, id="from the diagnosis date of an M1 tumour"),
    ],
)
def test_a_missing_setting_is_inferred_from_the_metastasis_date(screened, spec):
    """An episode without setting is metastatic when it starts on or after the metastasis date (M1: diagnosis date)."""
    event = screened(spec).event("S")
    assert line_of(event) == (1, "pass", "pass")
    assert_only_changes(event)


SETTING_NOT_INFERABLE = therapy(
    """
    drug        | start_date | end_date | setting
    letrozole   | 2022-01-03 |          |
    palbociclib | 2022-01-03 |          |
    """,
    tumours=table("""
        tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m
        T1        | 2021-12-01     | C50.4      | 8500       | 3         | histology_primary  | MX
    """),
)


def test_a_missing_setting_without_a_metastasis_date_is_not_counted(screened):
    """D10: with neither a metastasis date nor M1 the setting cannot be inferred: no line, and a finding says so."""
    result = screened(SETTING_NOT_INFERABLE)
    assert result.event_ids() == []
    assert_outcomes(result.patient, inc_therapy_class="fail", inc_line_1_or_2="fail", exc_more_than_two_lines="pass")
    settings = result.findings[
        (result.findings["table"] == "systemic_therapy") & (result.findings["column"] == "setting")
    ]
    assert len(settings) == 2


NO_INDEX_TUMOUR_METASTATIC_SETTING = case(
    tumours=table("""
        tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m
        T1        | 2021-12-01     | C50.4      | 8500       | 2         | histology_primary  | M1
    """)
)


def test_without_an_index_tumour_only_recorded_metastatic_episodes_count(screened):
    """D4: with no invasive breast tumour, episodes recorded as metastatic still form lines."""
    event = screened(NO_INDEX_TUMOUR_METASTATIC_SETTING).event("S")
    assert line_of(event) == (1, "pass", "pass")


CARRIED_OVER = therapy(
    """
    drug        | start_date | end_date   | setting
    letrozole   | 2021-01-04 | 2022-06-30 | metastatic
    palbociclib | 2021-03-01 |            | metastatic
    letrozole   | 2022-08-01 |            | metastatic
    """,
    tumours=DIAGNOSED_2019,
)


def test_drugs_running_when_a_line_starts_carry_into_it(screened):
    """D8: letrozole running when palbociclib starts line 2 joins line 2's regimen, so restarting it stays line 2."""
    assert line_of(screened(CARRIED_OVER).event("S")) == (2, "pass", "pass")


def ended_before_s(days: int) -> Case:
    end = days_after(S, -days)
    return therapy(f"""
        drug        | start_date | end_date | setting
        letrozole   | 2022-01-03 | {end}    | metastatic
        palbociclib | 2022-01-03 | {end}    | metastatic
    """)


@pytest.mark.parametrize(
    ("spec", "active"),
    [
        pytest.param(ended_before_s(19), True, id="ended 19 days before S"),
        pytest.param(ended_before_s(30), True, id="ended 30 days before S"),
        pytest.param(ended_before_s(31), False, id="ended 31 days before S"),
    ],
)
def test_a_line_stays_active_for_30_days_after_it_ends(screened, spec, active):
    """D9: the line active at S is the one with start <= S <= end + 30 days; a scan after that is no event."""
    result = screened(spec)
    if active:
        assert line_of(result.event("S")) == (1, "pass", "pass")
    else:
        assert "S" not in result.event_ids()


ONLY_INVESTIGATIONAL = therapy("""
    drug           | start_date | end_date | setting
    study drug x01 | 2022-01-03 |          | metastatic
""")
INVESTIGATIONAL_WITH_LETROZOLE = therapy("""
    drug           | start_date | end_date | setting
    letrozole      | 2022-01-03 |          | metastatic
    study drug x01 | 2022-01-03 |          | metastatic
""")
INVESTIGATIONAL_ADDED = therapy("""
    drug           | start_date | end_date | setting
    letrozole      | 2022-01-03 |          | metastatic
    study drug x01 | 2022-06-01 |          | metastatic
""")


def test_a_drug_missing_from_the_vocabulary_defines_lines_and_leaves_the_class_unknown(screened):
    """An unknown drug forms a line like any drug; if it is all the line holds, the therapy class is unknown."""
    result = screened(ONLY_INVESTIGATIONAL)
    assert line_of(result.event("S")) == (1, "pass", "pass")
    assert_only_changes(result.event("S"), inc_therapy_class="unknown")
    assert (result.findings["table"] == "systemic_therapy").any()


def test_a_known_drug_decides_the_class_next_to_an_unknown_one(screened):
    """Letrozole (endocrine) in the regimen decides the therapy class whatever the unknown drug is."""
    assert_only_changes(screened(INVESTIGATIONAL_WITH_LETROZOLE).event("S"))


def test_an_unknown_drug_added_later_starts_a_new_line(screened):
    """A drug missing from the vocabulary added months into a line is a new drug: line 2."""
    event = screened(INVESTIGATIONAL_ADDED).event("S")
    assert line_of(event) == (2, "pass", "pass")
    assert event["inc_therapy_class"] == "pass"


def regimen_of(*drugs: str) -> Case:
    """A line of these drugs, all started on 2022-01-03 and ongoing."""
    rows = "\n".join(f"{drug} | 2022-01-03 | | metastatic" for drug in drugs)
    return therapy("drug | start_date | end_date | setting\n" + rows)


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(regimen_of("pembrolizumab", "paclitaxel"), id="immune checkpoint blockade + chemotherapy"),
        pytest.param(regimen_of("capecitabine"), id="chemotherapy"),
        pytest.param(regimen_of("trastuzumab deruxtecan"), id="antibody-drug conjugate"),
        pytest.param(regimen_of("fulvestrant"), id="endocrine"),
        pytest.param(regimen_of("olaparib"), id="PARP inhibitor"),
    ],
)
def test_therapy_class_endocrine_targeted_chemotherapy_or_immunotherapy(screened, spec):
    """A line holding an endocrine, targeted, chemotherapy or immune-checkpoint drug passes the therapy class."""
    assert_only_changes(screened(spec).event("S"))


ONLY_SUPPORTIVE = therapy("""
    drug      | start_date | end_date | setting
    denosumab | 2021-12-01 |          | metastatic
    goserelin | 2022-01-03 |          | metastatic
""")


def test_supportive_drugs_alone_are_no_line(screened):
    """A bone agent and ovarian suppression alone form no line: no event, and the therapy criteria fail."""
    result = screened(ONLY_SUPPORTIVE)
    assert result.event_ids() == []
    assert_outcomes(
        result.patient,
        inc_therapy_class="fail",
        inc_line_1_or_2="fail",
        inc_disease_control_6m="fail",
        exc_more_than_two_lines="pass",
    )
