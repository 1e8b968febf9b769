"""Lesions amenable to resection, radiotherapy or radiofrequency ablation with the intent of local obliteration.

Registries rarely hold it: it is read from the optional `observations` table
(code `lat_amenable`, usually recorded at chart review), else left to chart
review. S is 2023-03-01, R = S + 49 = 2023-04-19, cut-off 2023-04-20.
"""

from __future__ import annotations

from tests.spec.cases import cases, expect
from tests.spec.variations import CONSENTED, observations


@cases(
    expect(
        "amenable",
        observations(f"lat_amenable | 2023-03-08 | | true\n{CONSENTED}"),
        inc_lat_amenable="pass",
        rule="recorded_true",
    ),
    expect(
        "not amenable",
        observations(f"lat_amenable | 2023-03-08 | | false\n{CONSENTED}"),
        inc_lat_amenable="fail",
        rule="recorded_false",
    ),
    expect("not recorded", observations(CONSENTED), inc_lat_amenable="review", rule="not_recorded"),
    expect(
        "latest says not amenable",
        observations(f"lat_amenable | 2023-03-08 | | true\nlat_amenable | 2023-04-10 | | false\n{CONSENTED}"),
        inc_lat_amenable="fail",
        rule="recorded_false",
    ),
    expect(
        "latest says amenable",
        observations(f"lat_amenable | 2023-03-08 | | false\nlat_amenable | 2023-04-10 | | true\n{CONSENTED}"),
        inc_lat_amenable="pass",
        rule="recorded_true",
    ),
    expect(
        "recorded on R",
        observations(f"lat_amenable | 2023-04-19 | | true\n{CONSENTED}"),
        inc_lat_amenable="pass",
        rule="recorded_true",
    ),
    expect(
        "recorded after R",
        observations(f"lat_amenable | 2023-04-20 | | true\n{CONSENTED}"),
        inc_lat_amenable="review",
        rule="not_recorded",
    ),
    expect(
        "true and false on one day (D18)",
        observations(f"lat_amenable | 2023-03-08 | | true\nlat_amenable | 2023-03-08 | | false\n{CONSENTED}"),
        inc_lat_amenable="review",
        rule="conflicting",
    ),
)
def test_lat_amenable_from_the_latest_observation_on_or_before_registration(checked, spec):
    """The latest lat_amenable observation on or before R decides; none, or true and false that day (D18): review."""
    checked(spec)


@cases(
    expect(
        "the baseline's record without a value",
        observations(f"lat_amenable | 2023-03-08 | | NULL\n{CONSENTED}"),
        inc_lat_amenable="review",
    )
)
def test_amenability_without_a_value_is_left_to_chart_review(checked, spec):
    """The criterion has no unknown outcome (criteria.md): a latest record without a value (NULL: past the loader,
    which refuses it) is as none, left to chart review (D51)."""
    checked(spec)
