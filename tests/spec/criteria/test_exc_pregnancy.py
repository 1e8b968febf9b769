"""Current pregnancy or breastfeeding.

Read from the optional `observations` table (codes `pregnant` and
`breastfeeding`): a true observation starting on or before R and not ended
before S excludes. S is 2023-03-01, R = S + 49 = 2023-04-19.
"""

from __future__ import annotations

from tests.spec.baseline import WITHOUT_OPTIONAL_TABLES
from tests.spec.cases import SpecCase, cases, expect
from tests.spec.harness import case
from tests.spec.variations import AMENABLE, CONSENTED, observations


def with_pregnancy(title: str, row: str, outcome: str) -> SpecCase:
    """The baseline's observations plus this one; exc_pregnancy has this outcome by the rule that gives it."""
    rule = {"pass": "none_current", "fail": "current"}[outcome]
    return expect(title, observations(f"{AMENABLE}\n{CONSENTED}\n{row}"), exc_pregnancy=outcome, rule=rule)


@cases(
    expect("none recorded", observations(f"{AMENABLE}\n{CONSENTED}"), exc_pregnancy="pass", rule="none_current"),
    with_pregnancy("pregnant", "pregnant | 2023-02-01 | | true", "fail"),
    with_pregnancy("breastfeeding", "breastfeeding | 2022-12-01 | | true", "fail"),
    with_pregnancy("ended months before S", "pregnant | 2022-03-01 | 2022-11-30 | true", "pass"),
    with_pregnancy("ended the day before S", "pregnant | 2022-06-01 | 2023-02-28 | true", "pass"),
    with_pregnancy("ended on S", "pregnant | 2022-06-01 | 2023-03-01 | true", "fail"),
    with_pregnancy("starting on R", "pregnant | 2023-04-19 | | true", "fail"),
    with_pregnancy("starting after R", "pregnant | 2023-04-20 | | true", "pass"),
    with_pregnancy("recorded as not pregnant", "pregnant | 2023-02-01 | | false", "pass"),
)
def test_current_pregnancy_or_breastfeeding_excludes(checked, spec):
    """A true pregnant/breastfeeding observation starting on or before R and not ended before S excludes."""
    checked(spec)


@cases(
    with_pregnancy(
        "pregnant, later recorded as not pregnant",
        "pregnant | 2023-02-01 | | true\npregnant | 2023-03-15 | | false",
        "fail",
    ),
)
def test_a_later_false_record_does_not_undo_a_current_pregnancy(checked, spec):
    """criteria.md: "a true pregnant/breastfeeding observation starting on or before R and not ended before S ->
    fail": any such record excludes, not only the latest (unlike the observations read as the latest on or before
    R). A pregnancy recorded without an end date stays current; a later record of "not pregnant" does not end it."""
    checked(spec)


@cases(
    expect(
        "only the required tables",
        case(**WITHOUT_OPTIONAL_TABLES),
        at=None,
        inc_lat_amenable="review",
        inc_informed_consent="review",
        exc_pregnancy="review",
        inc_disease_control_6m="unknown",
        inc_who_ps_0_1="unknown",
        rule={
            "inc_lat_amenable": "no_observations_table",
            "inc_informed_consent": "no_observations_table",
            "exc_pregnancy": "no_observations_table",
            "exc_medical_risk": "no_observations_table",
            "exc_psychosocial": "no_observations_table",
            "inc_disease_control_6m": "no_response_table",
            "inc_who_ps_0_1": "no_performance_table",
        },
    )
)
def test_an_extract_of_only_the_required_tables_leaves_the_patient_unknown(checked, spec):
    """Only the required tables: amenability, consent and pregnancy go to review; disease control and PS are unknown."""
    checked(spec)
