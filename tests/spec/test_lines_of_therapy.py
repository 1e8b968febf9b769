"""Lines of therapy for metastatic disease: what starts a new line, what does not, and the criteria built on them.

Each case replaces the baseline's therapy (first-line letrozole + palbociclib
since 2022-01-03) and reads the line of the therapy active at the screening
scan S (2023-03-01): `line_number` on the event, `inc_line_1_or_2` (line 1 or
2) and `exc_more_than_two_lines` (more than 2 lines started on or before S).
Cases whose history starts before the baseline's diagnosis use a breast cancer
diagnosed metastatic (M1) in 2019.
"""

from __future__ import annotations

from tests.spec.baseline import S, days_after
from tests.spec.cases import SpecCase, cases, expect
from tests.spec.harness import Case, case
from tests.spec.tables import table
from tests.spec.variations import DIAGNOSED_2019, therapy


def on_line(title: str, given: Case, number: int, *, only: bool = False, **expected: object) -> SpecCase:
    """S is on line `number`: lines 1 and 2 pass both line criteria, line 3 fails both (at most 2 lines)."""
    outcome = "pass" if number <= 2 else "fail"
    return expect(
        title,
        given,
        only=only,
        columns={"line_number": number},
        inc_line_1_or_2=outcome,
        exc_more_than_two_lines=outcome,
        **expected,  # type: ignore[arg-type]
    )


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


@cases(
    on_line("docetaxel stops", DE_ESCALATION, 1, only=True),
    on_line("pertuzumab/trastuzumab recorded again", DE_ESCALATION_NEW_EPISODES, 1, only=True),
    on_line("continued as the fixed combination (D6)", DE_ESCALATION_FIXED_COMBINATION, 1, only=True),
    on_line("trastuzumab continued subcutaneously", DE_ESCALATION_SUBCUTANEOUS, 1, only=True),
)
def test_de_escalation_stays_one_line(checked, spec):
    """Pertuzumab/trastuzumab + docetaxel followed by pertuzumab/trastuzumab is one line of therapy."""
    checked(spec)


FIXED_COMBINATION_ADDS_PERTUZUMAB = therapy(
    """
    drug                   | start_date | end_date   | setting
    trastuzumab            | 2021-06-07 | 2022-01-02 | metastatic
    vinorelbine            | 2021-06-07 | 2022-01-02 | metastatic
    pertuzumab+trastuzumab | 2022-01-03 |            | metastatic
    """,
    tumours=DIAGNOSED_2019,
)


@cases(on_line("trastuzumab + vinorelbine, then pertuzumab+trastuzumab", FIXED_COMBINATION_ADDS_PERTUZUMAB, 2))
def test_fixed_combination_after_trastuzumab_alone_adds_a_drug(checked, spec):
    """D6: a later drug stays in the line only if all its components are in the regimen; pertuzumab is not."""
    checked(spec)


def added_after(days: int) -> Case:
    return therapy(f"""
        drug        | start_date               | end_date | setting
        letrozole   | 2022-01-03               |          | metastatic
        palbociclib | {days_after("2022-01-03", days)} |          | metastatic
    """)


@cases(
    on_line("palbociclib 28 days after letrozole: same regimen", added_after(28), 1),
    on_line("palbociclib 29 days after letrozole: added drug", added_after(29), 2),
)
def test_a_drug_added_after_the_regimen_window_starts_a_new_line(checked, spec):
    """D7: drugs starting within 28 days of the line start (inclusive) form its regimen; a later one is a new line."""
    checked(spec)


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


@cases(on_line("three lines written latest first", THIRD_LINE_ROWS_REVERSED, 3))
def test_row_order_of_the_input_never_matters(checked, spec):
    """D5: episodes are ordered by their dates and names, not by their rows in the extract."""
    checked(spec)


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


@cases(
    on_line("restart 120 days after the line ended", restarted_after(120), 1),
    on_line("restart 121 days after the line ended", restarted_after(121), 2),
)
def test_a_restart_more_than_120_days_after_the_line_ended_is_a_new_line(checked, spec):
    """The same regimen restarted more than 120 days after every episode of the line ended is a new line."""
    checked(spec)


def switched(first: str, then: str) -> Case:
    return therapy(f"""
        drug    | start_date | end_date   | setting
        {first} | 2022-01-03 | 2022-04-25 | metastatic
        {then}  | 2022-05-02 |            | metastatic
    """)


@cases(
    on_line("paclitaxel to nab-paclitaxel", switched("paclitaxel", "nab-paclitaxel"), 1),
    on_line("fluorouracil to capecitabine", switched("fluorouracil", "capecitabine"), 1),
    on_line("carboplatin to cisplatin", switched("carboplatin", "cisplatin"), 1),
    on_line("trastuzumab to a biosimilar", switched("trastuzumab", "trastuzumab-dkst"), 1),
    on_line("paclitaxel to docetaxel (a different drug)", switched("paclitaxel", "docetaxel"), 2),
)
def test_a_substitute_drug_stays_in_the_line(checked, spec):
    """A substitute (nab-paclitaxel for paclitaxel, capecitabine for 5-FU) continues the line; a switch does not."""
    checked(spec)


FIXED_COMBINATION_THEN_APART = therapy("""
    drug                   | start_date | end_date   | setting
    pertuzumab+trastuzumab | 2022-01-03 | 2022-04-25 | metastatic
    pertuzumab             | 2022-05-02 |            | metastatic
    trastuzumab            | 2022-05-02 |            | metastatic
""")


@cases(on_line("the fixed combination, then pertuzumab and trastuzumab apart", FIXED_COMBINATION_THEN_APART, 1))
def test_the_fixed_combination_substitutes_both_ways(checked, spec):
    """criteria.md: trastuzumab+pertuzumab <-> the fixed combination is a substitution in either direction, so
    switching from the fixed combination back to the two drugs given apart continues line 1."""
    checked(spec)


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


@cases(on_line("neoadjuvant and adjuvant therapy before the metastasis", ADJUVANT_BEFORE_METASTASIS, 1, only=True))
def test_adjuvant_and_neoadjuvant_therapy_never_counts(checked, spec):
    """Neoadjuvant and adjuvant episodes are no metastatic line, even one running past the metastasis date."""
    checked(spec)


WITH_SUPPORTIVE_DRUGS = therapy("""
    drug        | start_date | end_date | setting
    denosumab   | 2021-12-01 |          | metastatic
    letrozole   | 2022-01-03 |          | metastatic
    palbociclib | 2022-01-03 |          | metastatic
    goserelin   | 2022-03-14 |          | metastatic
""")


@cases(on_line("denosumab before the line, goserelin added later", WITH_SUPPORTIVE_DRUGS, 1, only=True))
def test_supportive_drugs_never_start_or_define_a_line(checked, spec):
    """A bone agent started a month before, and ovarian suppression added later, change nothing: still line 1."""
    checked(spec)


ONLY_SUPPORTIVE = therapy("""
    drug      | start_date | end_date | setting
    denosumab | 2021-12-01 |          | metastatic
    goserelin | 2022-01-03 |          | metastatic
""")


@cases(
    expect(
        "denosumab and goserelin only",
        ONLY_SUPPORTIVE,
        at=None,
        only=False,
        events=[],
        inc_therapy_class="fail",
        inc_line_1_or_2="fail",
        inc_disease_control_6m="fail",
        exc_more_than_two_lines="pass",
    )
)
def test_supportive_drugs_alone_are_no_line(checked, spec):
    """A bone agent and ovarian suppression alone form no line: no event, and the therapy criteria fail."""
    checked(spec)


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


@cases(
    on_line("from the metastasis date (on or after it)", SETTING_FROM_METASTASIS_DATE, 1, only=True),
    on_line("from the diagnosis date of an M1 tumour", SETTING_FROM_M1_DIAGNOSIS, 1, only=True),
)
def test_a_missing_setting_is_inferred_from_the_metastasis_date(checked, spec):
    """An episode without setting is metastatic when it starts on or after the metastasis date (M1: diagnosis date)."""
    checked(spec)


def unlabelled_fulvestrant_from(start: str) -> Case:
    """Fulvestrant without a setting from `start` to 2021-12-20, then letrozole + palbociclib; metastasis 2021-12-01."""
    return therapy(
        f"""
        drug        | start_date | end_date   | setting
        fulvestrant | {start}    | 2021-12-20 |
        letrozole   | 2022-01-03 |            | metastatic
        palbociclib | 2022-01-03 |            | metastatic
        """,
        tumours=table("""
            tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m | metastasis_date
            T1        | 2020-06-02     | C50.4      | 8500       | 3         | histology_primary  | M0    | 2021-12-01
        """),
    )


@cases(
    on_line(
        "fulvestrant started the day before the metastasis date: not counted",
        unlabelled_fulvestrant_from("2021-11-30"),
        1,
    ),
    on_line(
        "fulvestrant started on the metastasis date: line 1, S on line 2", unlabelled_fulvestrant_from("2021-12-01"), 2
    ),
)
def test_a_missing_setting_counts_from_the_metastasis_date_on(checked, spec):
    """criteria.md: an episode without a setting is metastatic when `start_date >= metastasis_date`: fulvestrant
    started on the metastasis date is line 1 (letrozole + palbociclib line 2), started the day before it is not a
    metastatic line at all."""
    checked(spec)


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


@cases(
    expect(
        "no setting, MX and no metastasis date",
        SETTING_NOT_INFERABLE,
        at=None,
        only=False,
        events=[],
        findings={"systemic_therapy.setting": 2},
        inc_therapy_class="fail",
        inc_line_1_or_2="fail",
        exc_more_than_two_lines="pass",
    )
)
def test_a_missing_setting_without_a_metastasis_date_is_not_counted(checked, spec):
    """D10: with neither a metastasis date nor M1 the setting cannot be inferred: no line, and a finding on the
    setting of each of the two episodes says so."""
    checked(spec)


NO_INDEX_TUMOUR_METASTATIC_SETTING = case(
    tumours=table("""
        tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m
        T1        | 2021-12-01     | C50.4      | 8500       | 2         | histology_primary  | M1
    """)
)


@cases(on_line("breast carcinoma in situ only, therapy recorded as metastatic", NO_INDEX_TUMOUR_METASTATIC_SETTING, 1))
def test_without_an_index_tumour_only_recorded_metastatic_episodes_count(checked, spec):
    """D4: with no invasive breast tumour, episodes recorded as metastatic still form lines."""
    checked(spec)


INDEX_TUMOUR_PER_SCAN = case(
    tumours=table("""
        tumour_id | diagnosis_date | topography | morphology | behaviour | basis_of_diagnosis | tnm_m | metastasis_date
        T_old     | 2015-05-04     | C50.1      | 8500       | 3         | histology_primary  | M0    | 2021-11-22
        T_new     | 2023-03-10     | C50.8      | 8520       | 3         | histology_primary  | M0    |
    """),
    systemic_therapy=table("""
        drug        | start_date | end_date | setting
        letrozole   | 2022-01-03 |          |
        palbociclib | 2022-01-03 |          |
    """),
)


@cases(expect("a second breast tumour diagnosed after S", INDEX_TUMOUR_PER_SCAN, columns={"line_number": 1}))
def test_each_scan_uses_the_index_tumour_it_has(checked, spec):
    """D4: a breast tumour diagnosed after S changes nothing for S; S's index tumour dates the metastatic therapy.
    For S the index tumour is T_old (metastatic since 2021-11-22), so the unlabelled therapy is line 1."""
    checked(spec)


CARRIED_OVER = therapy(
    """
    drug        | start_date | end_date   | setting
    letrozole   | 2021-01-04 | 2022-06-30 | metastatic
    palbociclib | 2021-03-01 |            | metastatic
    letrozole   | 2022-08-01 |            | metastatic
    """,
    tumours=DIAGNOSED_2019,
)


@cases(on_line("letrozole stopped and restarted during palbociclib", CARRIED_OVER, 2))
def test_drugs_running_when_a_line_starts_carry_into_it(checked, spec):
    """D8: letrozole running when palbociclib starts line 2 joins line 2's regimen, so restarting it stays line 2."""
    checked(spec)


def letrozole_ended_on(end: str) -> Case:
    """Letrozole from 2021-01-04 to `end`; palbociclib (a new line) from 2021-03-01; letrozole again from 2022-08."""
    return therapy(
        f"""
        drug        | start_date | end_date | setting
        letrozole   | 2021-01-04 | {end}    | metastatic
        palbociclib | 2021-03-01 |          | metastatic
        letrozole   | 2022-08-01 |          | metastatic
        """,
        tumours=DIAGNOSED_2019,
    )


@cases(
    on_line("letrozole ended on the day palbociclib started: carried", letrozole_ended_on("2021-03-01"), 2),
    on_line("letrozole ended the day before: not carried", letrozole_ended_on("2021-02-28"), 3),
)
def test_a_drug_ending_on_the_next_lines_start_day_carries_into_it(checked, spec):
    """criteria.md: drugs still running at the next line's start (start <= that day <= end) carry into it. Letrozole
    ending on the day palbociclib starts line 2 is in line 2's regimen, so restarting it stays line 2; ending the
    day before, it is not, and restarting it adds a drug: line 3."""
    checked(spec)


PALBOCICLIB_RESUMED_ON_LETROZOLE = therapy(
    """
    drug        | start_date | end_date   | setting
    letrozole   | 2021-01-04 |            | metastatic
    palbociclib | 2021-01-04 | 2021-06-30 | metastatic
    palbociclib | 2022-01-03 |            | metastatic
    """,
    tumours=DIAGNOSED_2019,
)


@cases(on_line("palbociclib resumed 187 days after it stopped, letrozole ongoing", PALBOCICLIB_RESUMED_ON_LETROZOLE, 1))
def test_the_line_gap_counts_from_the_end_of_every_episode_of_the_line(checked, spec):
    """criteria.md: a new line starts when a drug starts more than 120 days after every episode of the current line
    ended. While letrozole goes on, palbociclib resumed after a pause of more than 120 days is still line 1."""
    checked(spec)


def ended_before_s(days: int) -> Case:
    end = days_after(S, -days)
    return therapy(f"""
        drug        | start_date | end_date | setting
        letrozole   | 2022-01-03 | {end}    | metastatic
        palbociclib | 2022-01-03 | {end}    | metastatic
    """)


@cases(
    on_line("ended 19 days before S", ended_before_s(19), 1),
    on_line("ended 30 days before S", ended_before_s(30), 1),
    expect("ended 31 days before S", ended_before_s(31), at=None, only=False, events=[]),
)
def test_a_line_stays_active_for_30_days_after_it_ends(checked, spec):
    """D9: the line active at S is the one with start <= S <= end + 30 days; a scan after that is no event."""
    checked(spec)


INVESTIGATIONAL_ADDED = therapy("""
    drug           | start_date | end_date | setting
    letrozole      | 2022-01-03 |          | metastatic
    study drug x01 | 2022-06-01 |          | metastatic
""")


@cases(on_line("an investigational drug added five months in", INVESTIGATIONAL_ADDED, 2, inc_therapy_class="pass"))
def test_an_unknown_drug_added_later_starts_a_new_line(checked, spec):
    """A drug missing from the vocabulary added months into a line is a new drug: line 2."""
    checked(spec)
