"""Signed written informed consent before patient registration.

Read from the optional `observations` table (code `informed_consent`), else left
to chart review. S is 2023-03-01, R = S + 49 = 2023-04-19, cut-off 2023-04-20.
"""

from __future__ import annotations

from tests.spec.cases import cases, expect
from tests.spec.variations import AMENABLE, observations


@cases(
    expect(
        "consented",
        observations(f"{AMENABLE}\ninformed_consent | 2023-04-17 | | true"),
        inc_informed_consent="pass",
        rule="recorded_true",
    ),
    expect(
        "declined",
        observations(f"{AMENABLE}\ninformed_consent | 2023-04-17 | | false"),
        inc_informed_consent="fail",
        rule="recorded_false",
    ),
    expect("not recorded", observations(AMENABLE), inc_informed_consent="review", rule="not_recorded"),
    expect(
        "signed on R",
        observations(f"{AMENABLE}\ninformed_consent | 2023-04-19 | | true"),
        inc_informed_consent="pass",
        rule="recorded_true",
    ),
    expect(
        "signed after R",
        observations(f"{AMENABLE}\ninformed_consent | 2023-04-20 | | true"),
        inc_informed_consent="review",
        rule="not_recorded",
    ),
    expect(
        "true and false on one day (D18)",
        observations(f"{AMENABLE}\ninformed_consent | 2023-04-17 | | true\ninformed_consent | 2023-04-17 | | false"),
        inc_informed_consent="review",
        rule="conflicting",
    ),
)
def test_informed_consent_on_or_before_registration(checked, spec):
    """An informed_consent observation on or before R decides; none, or true and false that day (D18): review."""
    checked(spec)


@cases(
    expect(
        "signed, then withdrawn",
        observations(f"{AMENABLE}\ninformed_consent | 2023-04-10 | | true\ninformed_consent | 2023-04-17 | | false"),
        inc_informed_consent="fail",
        rule="recorded_false",
    ),
    expect(
        "declined, then signed",
        observations(f"{AMENABLE}\ninformed_consent | 2023-04-10 | | false\ninformed_consent | 2023-04-17 | | true"),
        inc_informed_consent="pass",
        rule="recorded_true",
    ),
)
def test_the_latest_consent_observation_decides(checked, spec):
    """Decision: of several informed_consent observations on or before R the latest decides, as for lat_amenable."""
    checked(spec)


@cases(
    expect(
        "the baseline's record without a value",
        observations(f"{AMENABLE}\ninformed_consent | 2023-03-22 | | NULL"),
        inc_informed_consent="review",
    )
)
def test_consent_without_a_value_is_left_to_chart_review(checked, spec):
    """The criterion has no unknown outcome (criteria.md): a latest record without a value (NULL: past the loader,
    which refuses it) is as none, left to chart review (D51)."""
    checked(spec)
