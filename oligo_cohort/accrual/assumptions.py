"""The planning assumptions an accrual forecast rests on: shares expected to pass chart review and consent.

The registry decides most criteria, but four are left to chart review or the
patient (`review` outcomes): lesions amenable to local therapy, informed
consent, and the clinician's judgement of medical risk and of psychosocial
compliance. Their pass rates are not in the data; they are stated here, with
their sources, and printed in every output.
"""

from __future__ import annotations

from dataclasses import dataclass

# Oligoprogression among patients progressing on endocrine therapy: 61 % had sites amenable
# to local therapy (see ../shared/reference/domain-facts.md, "Figures for a realistic synthetic registry").
LAT_AMENABLE_RATE = 0.61
# No published consent rate for COSMO; a planning value, to be replaced by the sites' experience.
CONSENT_RATE = 0.5
# Clinician's discretion (medical risk, psychosocial compliance): not modelled unless the user says otherwise.
DISCRETION_RATE = 1.0
# COSMO's planned study duration is 4 years (domain facts); used as the accrual period unless given.
DURATION_MONTHS = 48.0
# The Gajewski prior certainty used for sites' planned rates (the R package `accrual`'s examples use 0.5).
PRIOR_CERTAINTY = 0.5

# The forecast's calendar: a month is 365.25/12 days; the forecast's axes, durations and start dates reach no
# further than a century (docs/decisions.md D59).
DAYS_PER_MONTH = 365.25 / 12
HORIZON_MONTHS = 1200.0

# Which criterion's `review` outcome each share stands for; `pass` counts as 1, and
# `exc_pregnancy` `review` (no observations table) as 1: pregnancy in metastatic disease is rare (criteria.md).
REVIEW_CRITERIA = {
    "inc_lat_amenable": "lat_amenable_rate",
    "inc_informed_consent": "consent_rate",
    "exc_medical_risk": "discretion_rate",
    "exc_psychosocial": "discretion_rate",
}


@dataclass(frozen=True)
class Assumptions:
    """User-adjustable planning values; every forecast states the ones it used."""

    lat_amenable_rate: float = LAT_AMENABLE_RATE
    consent_rate: float = CONSENT_RATE
    discretion_rate: float = DISCRETION_RATE
    duration_months: float = DURATION_MONTHS
    prior_certainty: float = PRIOR_CERTAINTY
    disclosure_control: bool = True
    synthetic_source: str = ""  # set when the data are synthetic (control off, counts exact, nothing to protect)

    def __post_init__(self) -> None:
        for name in ("lat_amenable_rate", "consent_rate", "discretion_rate"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {value!r}")
        if not self.duration_months > 0:
            raise ValueError(f"duration_months must be positive, got {self.duration_months!r}")
        if not 0 < self.prior_certainty <= 1:
            raise ValueError(f"prior_certainty must be in (0, 1], got {self.prior_certainty!r}")

    def share(self, criterion: str) -> float:
        """Share of patients with a `review` outcome on this criterion expected to pass it."""
        return float(getattr(self, REVIEW_CRITERIA[criterion]))

    def lines(self) -> list[str]:
        """The assumptions as Markdown bullet points."""
        return [
            f"- Lesions amenable to local ablative therapy (`inc_lat_amenable` = review): "
            f"{self.lat_amenable_rate:.0%} pass (default 61 %: oligoprogression on endocrine therapy, "
            f"61 % had sites amenable to local therapy).",
            f"- Informed consent (`inc_informed_consent` = review): {self.consent_rate:.0%} consent "
            f"(default 50 %: a planning value, not an estimate; set `--consent-rate`).",
            f"- Clinician's discretion (`exc_medical_risk`, `exc_psychosocial` = review): "
            f"{self.discretion_rate:.0%} pass (default 100 %: not modelled).",
            "- `exc_pregnancy` = review (no observations table) counts as passed: pregnancy during metastatic "
            "disease is rare.",
            "- A criterion already `pass` in the registry counts as passed (share 1).",
            f"- Accrual period (planned duration): {self.duration_months:g} months (default 48: COSMO's planned "
            "study duration of 4 years).",
            f"- Prior certainty of sites' planned rates (constant-accrual model): P = {self.prior_certainty:g}.",
        ]
