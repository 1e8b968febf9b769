"""`oligo-cohort accrual SCREEN_DIR --target N --start YYYY-MM-DD --out DIR`: site accrual forecast with 95 % intervals."""

from __future__ import annotations

import argparse
import datetime as dt
import math
from pathlib import Path

from oligo_cohort.accrual.assumptions import (
    CONSENT_RATE,
    DAYS_PER_MONTH,
    DISCRETION_RATE,
    DURATION_MONTHS,
    HORIZON_MONTHS,
    LAT_AMENABLE_RATE,
    PRIOR_CERTAINTY,
    Assumptions,
)
from oligo_cohort.errors import UsageError

HELP = "forecast trial accrual per site from a screening result (time to N with 95 % intervals, plots)"


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share in (0, 1]")
    return value


# The forecast options' ranges (docs/decisions.md D59): a target no trial of local therapy approaches (exact
# quantiles grow with it: 8 s at 10,000 on the demo, 46 s at 100,000), and dates and durations within the
# century the forecast's calendar covers.
MAX_TARGET = 10_000
EARLIEST_START = dt.date(1900, 1, 1)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def target_count(text: str) -> int:
    """`--target`: patients to enrol, a whole number from 1 to MAX_TARGET."""
    value = _positive_int(text)
    if value > MAX_TARGET:
        raise argparse.ArgumentTypeError(
            f"{text} is more patients than a forecast is made for (at most {MAX_TARGET:,})"
        )
    return value


def _positive_months(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of months") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of months")
    if value > HORIZON_MONTHS:
        raise argparse.ArgumentTypeError(
            f"{text} months is longer than the forecast reaches ({HORIZON_MONTHS:g} months)"
        )
    return value


def accrual_start(text: str) -> dt.date:
    """`--start`: a calendar date YYYY-MM-DD from 1900-01-01 to a century after today."""
    try:
        if len(text) != 10:
            raise ValueError
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None
    latest = dt.date.today() + dt.timedelta(days=round(HORIZON_MONTHS * DAYS_PER_MONTH))
    if not EARLIEST_START <= value <= latest:
        raise argparse.ArgumentTypeError(f"{text} is not between {EARLIEST_START} and {latest} (a century from today)")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the accrual command's arguments."""
    parser.add_argument("screen_dir", metavar="SCREEN_DIR", help="folder written by `oligo-cohort screen`")
    parser.add_argument("--target", type=target_count, required=True, metavar="N", help="patients to enrol")
    parser.add_argument(
        "--start", type=accrual_start, required=True, metavar="YYYY-MM-DD", help="start of trial accrual"
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="output folder (new, or an earlier forecast: replaced whole)",
    )
    parser.add_argument(
        "--sites",
        type=Path,
        metavar="FILE",
        help="candidate sites CSV: site_id, activation_date[, planned_rate per month] (default: every site, open at --start)",
    )
    parser.add_argument(
        "--duration", type=_positive_months, default=DURATION_MONTHS, metavar="MONTHS",
        help=f"planned accrual duration (default {DURATION_MONTHS:g}: COSMO's 4 years)",
    )  # fmt: skip
    shares = (
        ("--consent-rate", CONSENT_RATE, "R", "share of eligible patients who consent (default {:g}, a planning value)"),
        ("--lat-amenable-rate", LAT_AMENABLE_RATE, "R",
         "share whose lesions are amenable to local therapy when not recorded (default {:g})"),
        ("--discretion-rate", DISCRETION_RATE, "R",
         "share passing the clinician's medical-risk and psychosocial review (default {:g})"),
        ("--prior-certainty", PRIOR_CERTAINTY, "P",
         "certainty of the sites' planned rates, constant-accrual model (default {:g})"),
    )  # fmt: skip
    for flag, default, metavar, text in shares:
        parser.add_argument(flag, type=_share, default=default, metavar=metavar, help=text.format(default))
    parser.add_argument("--draws", type=_positive_int, metavar="N", help="simulate N draws instead of exact quantiles")
    parser.add_argument("--seed", type=int, help="random seed for --draws")
    control = parser.add_mutually_exclusive_group()  # as `attrition` and `report` give them
    control.add_argument(
        "--no-disclosure-control", dest="disclosure_control", action="store_false", default=None,
        help="write exact counts, for internal use only (default: counts rounded for release outside the "
        "institution; exact for the bundled demo, which is synthetic)",
    )  # fmt: skip
    control.add_argument(
        "--disclosure-control", dest="disclosure_control", action="store_true", default=None,
        help="apply disclosure control even to synthetic data (to see what a shareable forecast looks like)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Forecast accrual and write the tables, figures and assumptions into --out."""
    from oligo_cohort.accrual.rates import load_screening
    from oligo_cohort.accrual.report import KIND, build_report, headline, write_report
    from oligo_cohort.accrual.sites_file import read_sites_file
    from oligo_cohort.destination import OutputFolder
    from oligo_cohort.disclosure import FORECAST_RULE, choose, synthetic_source

    if args.seed is not None and args.draws is None:
        raise UsageError("--seed needs --draws (the default quantiles are exact, not simulated)")
    # Before any work: a user's folder is never replaced, nor an input.
    with OutputFolder(args.out, KIND, inputs=[args.screen_dir, args.sites]) as destination:
        sites = read_sites_file(args.sites, args.start) if args.sites else None  # a small file: checked first
        result = load_screening(args.screen_dir)
        # On by default, and when asked; off when asked (exact counts, internal only) or for the bundled demo, which
        # is synthetic.
        choice = choose(args.disclosure_control, synthetic_source=synthetic_source(result))
        assumptions = Assumptions(
            lat_amenable_rate=args.lat_amenable_rate,
            consent_rate=args.consent_rate,
            discretion_rate=args.discretion_rate,
            duration_months=args.duration,
            prior_certainty=args.prior_certainty,
            disclosure_control=choice.applied,
            synthetic_source=choice.synthetic_source,
        )
        report = build_report(
            result, target=args.target, start=args.start, sites=sites, assumptions=assumptions,
            draws=args.draws, seed=args.seed,
        )  # fmt: skip
        out = write_report(report, destination, screen_dir=str(args.screen_dir))
    print(f"Accrual forecast for N = {args.target} from {args.start.isoformat()} (cut-off {report.history.as_of}):")
    for line in headline(report):
        print(line.replace("**", ""))
    for note in report.notes:
        print(f"note: {note}")
    # Under control the forecast's own rule (site counts, dates to the month), not the attrition tables' (their
    # excluded counts); the demo's and an opted-out run's sentence as every command says it.
    print(FORECAST_RULE if choice.applied else choice.banner())
    print(f"Tables, figures and assumptions in {out}/")
    return 0
