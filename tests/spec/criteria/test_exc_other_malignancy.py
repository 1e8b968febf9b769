"""Other malignancy, except carcinoma in situ and basal- or squamous-cell carcinoma of the skin.

An other malignancy is exempt when treated with curative intent, without
chemotherapy or radiotherapy, and last treated at least 5 years before
registration. R = S + 49 = 2023-04-19, so "treated 5 years before R" means on
or before 2018-04-19. Each case adds tumours to the baseline's breast cancer,
one row each of tumour_id, diagnosis_date, topography, morphology, behaviour,
treatment_intent, chemotherapy, radiotherapy and last_treatment_date.
"""

from __future__ import annotations

from tests.spec.cases import cases, expect
from tests.spec.harness import Case, case, with_other_tumours


def other_tumour(*rows: str, **settings: object) -> Case:
    """The baseline breast cancer plus other tumours, each a row of OTHER_TUMOUR_COLUMNS."""
    return case(tumours=with_other_tumours(*rows), **settings)  # type: ignore[arg-type]


@cases(
    expect(
        "skin BCC",
        other_tumour("T2 | 2022-05-02 | C44.3 | 8090 | 3 | curative | false | false | 2022-06-01"),
        exc_other_malignancy="pass",
        rule="skin_carcinoma",
    ),
    expect(
        "skin BCC 8098",
        other_tumour("T2 | 2022-05-02 | C44.5 | 8098 | 3 | curative | false | false | 2022-06-01"),
        exc_other_malignancy="pass",
        rule="skin_carcinoma",
    ),
    expect(
        "skin SCC",
        other_tumour("T2 | 2022-05-02 | C44.3 | 8070 | 3 | curative | false | false | 2022-06-01"),
        exc_other_malignancy="pass",
        rule="skin_carcinoma",
    ),
    expect(
        "skin SCC 8050",
        other_tumour("T2 | 2022-05-02 | C44.3 | 8050 | 3 | curative | false | false | 2022-06-01"),
        exc_other_malignancy="pass",
        rule="skin_carcinoma",
    ),
    expect(
        "cervix in situ",
        other_tumour("T2 | 2022-05-02 | C53.9 | 8070 | 2 | curative | false | false | 2022-06-01"),
        exc_other_malignancy="pass",
        rule="none",
    ),
    expect(
        "earlier breast cancer",
        other_tumour("T2 | 2015-03-02 | C50.2 | 8500 | 3 | curative | true | true | 2015-09-01"),
        exc_other_malignancy="pass",
        rule="none",
    ),
    expect(
        "diagnosed after R",
        other_tumour("T2 | 2023-04-20 | C18.7 | 8140 | 3 | palliative | true | false |"),
        exc_other_malignancy="pass",
        rule="none",
    ),
)
def test_skin_bcc_scc_in_situ_and_breast_tumours_are_no_other_malignancy(checked, spec):
    """Basal and squamous cell skin cancers, carcinoma in situ, breast cancers and tumours after R do not exclude."""
    checked(spec)


@cases(
    expect(
        "skin SCC 8084",
        other_tumour("T2 | 2022-05-02 | C44.3 | 8084 | 3 | curative | false | false | 2022-06-01"),
        exc_other_malignancy="pass",
        rule="skin_carcinoma",
    ),
    expect(
        "skin 8085, past the SCC codes",
        other_tumour("T2 | 2022-05-02 | C44.3 | 8085 | 3 | curative | false | false | 2022-06-01"),
        exc_other_malignancy="fail",
        rule="treated_recently",
    ),
    expect(
        "skin 8049, before the SCC codes",
        other_tumour("T2 | 2022-05-02 | C44.3 | 8049 | 3 | curative | false | false | 2022-06-01"),
        exc_other_malignancy="fail",
        rule="treated_recently",
    ),
    expect(
        "skin 8099, past the BCC codes",
        other_tumour("T2 | 2022-05-02 | C44.3 | 8099 | 3 | curative | false | false | 2022-06-01"),
        exc_other_malignancy="fail",
        rule="treated_recently",
    ),
    expect(
        "lung SCC 8070: not skin",
        other_tumour("T2 | 2022-05-02 | C34.1 | 8070 | 3 | curative | false | false | 2022-06-01"),
        exc_other_malignancy="fail",
        rule="treated_recently",
    ),
)
def test_only_skin_tumours_of_the_bcc_and_scc_codes_are_set_aside(checked, spec):
    """criteria.md: not an other malignancy is skin (C44) with BCC (8090-8098) or SCC (8050-8084) morphology, both
    ranges inclusive. A skin tumour coded just outside them, or a squamous cell carcinoma of the lung, is an other
    malignancy (here treated a year before R, so it excludes)."""
    checked(spec)


@cases(
    expect(
        "diagnosed on R",
        other_tumour("T2 | 2023-04-19 | C18.7 | 8140 | 3 | palliative | true | false |"),
        exc_other_malignancy="fail",
        rule="not_curative",
    ),
    expect(
        "behaviour 6 (a metastatic site)",
        other_tumour("T2 | 2022-05-02 | C22.0 | 8140 | 6 | palliative | true | false | 2022-06-01"),
        exc_other_malignancy="pass",
        rule="none",
    ),
    expect(
        "behaviour 9 (primary or metastatic uncertain)",
        other_tumour("T2 | 2022-05-02 | C22.0 | 8140 | 9 | palliative | true | false | 2022-06-01"),
        exc_other_malignancy="pass",
        rule="none",
    ),
)
def test_an_other_malignancy_is_of_behaviour_3_diagnosed_on_or_before_r(checked, spec):
    """criteria.md: other malignancy = behaviour 3, topography not C50, diagnosed on or before R. A colon cancer
    diagnosed on R itself counts (the case "diagnosed after R" is the day after); a record of behaviour 6 or 9
    (a metastatic site, or a site uncertain primary or metastatic) is no other primary, as the spec reads."""
    checked(spec)


@cases(
    expect(
        "colon, treated 2010",
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative | false | false | 2010-05-01"),
        exc_other_malignancy="pass",
        rule="exempt",
    ),
    expect(
        "treated exactly 5 years before R",
        other_tumour("T2 | 2018-03-01 | C18.7 | 8140 | 3 | curative | false | false | 2018-04-19"),
        exc_other_malignancy="pass",
        rule="exempt",
    ),
    expect(
        "treated 5 years less a day before R",
        other_tumour("T2 | 2018-03-01 | C18.7 | 8140 | 3 | curative | false | false | 2018-04-20"),
        exc_other_malignancy="fail",
        rule="treated_recently",
    ),
    expect(
        "with chemotherapy",
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative | true | false | 2010-09-01"),
        exc_other_malignancy="fail",
        rule="chemotherapy",
    ),
    expect(
        "with radiotherapy",
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative | false | true | 2010-09-01"),
        exc_other_malignancy="fail",
        rule="radiotherapy",
    ),
    expect(
        "palliative intent",
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | palliative | false | false | 2010-09-01"),
        exc_other_malignancy="fail",
        rule="not_curative",
    ),
    expect(
        "untreated",
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | none | false | false |"),
        exc_other_malignancy="fail",
        rule="not_curative",
    ),
    expect(
        "skin melanoma, recent",
        other_tumour("T2 | 2010-03-01 | C44.6 | 8720 | 3 | curative | false | false | 2021-06-01"),
        exc_other_malignancy="fail",
        rule="treated_recently",
    ),
    expect(
        "chemotherapy missing",
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative |  | false | 2010-05-01"),
        exc_other_malignancy="unknown",
        rule="chemotherapy_missing",
    ),
    expect(
        "radiotherapy missing",
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative | false |  | 2010-05-01"),
        exc_other_malignancy="unknown",
        rule="radiotherapy_missing",
    ),
    expect(
        "intent missing",
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 |  | false | false | 2010-05-01"),
        exc_other_malignancy="unknown",
        rule="intent_missing",
    ),
    expect(
        "chemotherapy missing, radiotherapy given",
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative |  | true | 2010-05-01"),
        exc_other_malignancy="fail",
        rule="radiotherapy",
    ),
    expect(
        "no last treatment date, old diagnosis",
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative | false | false |"),
        exc_other_malignancy="unknown",
        rule="last_treatment_missing",
    ),
    expect(
        "no last treatment date, diagnosed on R - 5 years",
        other_tumour("T2 | 2018-04-19 | C18.7 | 8140 | 3 | curative | false | false |"),
        exc_other_malignancy="unknown",
        rule="last_treatment_missing",
    ),
    expect(
        "no last treatment date, diagnosed after R - 5 years",
        other_tumour("T2 | 2018-04-20 | C18.7 | 8140 | 3 | curative | false | false |"),
        exc_other_malignancy="fail",
        rule="diagnosed_recently",
    ),
    expect(
        "no last treatment date, recent diagnosis",
        other_tumour("T2 | 2020-01-06 | C18.7 | 8140 | 3 | curative | false | false |"),
        exc_other_malignancy="fail",
        rule="diagnosed_recently",
    ),
)
def test_other_malignancy_excludes_unless_treated_curatively_5_years_before_without_chemo_or_radiotherapy(
    checked, spec
):
    """Exempt: curative, no chemotherapy or radiotherapy, last treated by R - 5 years; undecidable → unknown."""
    checked(spec)


@cases(
    expect(
        "colon, last treated 2019, exemption after 5 years",
        other_tumour("T2 | 2019-03-01 | C18.7 | 8140 | 3 | curative | false | false | 2019-06-03"),
        exc_other_malignancy="fail",
        rule="treated_recently",
    ),
    expect(
        "colon, last treated 2019, exemption after 3 years",
        other_tumour(
            "T2 | 2019-03-01 | C18.7 | 8140 | 3 | curative | false | false | 2019-06-03",
            parameters={"other_malignancy_years": 3},
        ),
        exc_other_malignancy="pass",
        rule="exempt",
    ),
)
def test_the_exemption_period_comes_from_the_protocol(checked, spec):
    """The years since the last treatment that exempt are the protocol's `other_malignancy_years`: a colon cancer
    last treated in June 2019 excludes under COSMO's 5 years and is exempt when the parameter is 3."""
    checked(spec)


@cases(
    expect(
        "treated curatively in 2010: exempt either way",
        other_tumour("T2 | 2010-03-01 | C44.3 |  | 3 | curative | false | false | 2010-05-01"),
        exc_other_malignancy="pass",
        rule="exempt",
    ),
    expect(
        "treated in 2021: excluded unless it is a BCC/SCC",
        other_tumour("T2 | 2021-03-01 | C44.3 |  | 3 | curative | false | false | 2021-05-01"),
        exc_other_malignancy="unknown",
        rule="skin_morphology_missing",
    ),
)
def test_a_skin_cancer_without_morphology_may_be_another_malignancy(checked, spec):
    """D20: skin cancer without morphology may or may not be a BCC/SCC, so it excludes only as 'unknown'."""
    checked(spec)


@cases(
    expect(
        "treatment intent 'unknown'",
        other_tumour("T2 | 2010-03-01 | C18.7 | 8140 | 3 | unknown | false | false | 2010-05-01"),
        exc_other_malignancy="unknown",
        rule="intent_missing",
    )
)
def test_an_unknown_treatment_intent_leaves_the_exemption_undecided(checked, spec):
    """Decision: treatment_intent 'unknown' is read like a missing intent, so an otherwise exempt tumour is unknown."""
    checked(spec)


@cases(
    expect(
        "one undecided, one palliatively treated",
        other_tumour(
            "T2 | 2010-03-01 | C18.7 | 8140 | 3 | curative   |      | false | 2010-05-01",
            "T3 | 2020-02-03 | C34.1 | 8140 | 3 | palliative | true | true  | 2020-08-01",
        ),
        exc_other_malignancy="fail",
    )
)
def test_any_non_exempt_malignancy_excludes_even_next_to_an_undecided_one(checked, spec):
    """Any non-exempt other malignancy fails the exclusion, whatever the undecided ones would turn out to be."""
    checked(spec)
