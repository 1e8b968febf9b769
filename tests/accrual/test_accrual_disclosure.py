"""A disclosure-controlled forecast reveals no more than its controlled counts: generated twins, compared whole.

Two screening results that differ only at one site, in ways its controlled counts cannot show, must give the
same controlled forecast, cell for cell and byte for byte:

- a *small* site: 0, 1, 2 or up to 7 eligible or unknown patients (any status, any chart review answers, any
  month), all shown as 0 — so no output may tell 0 from 1–7, nor 1 from 2;
- a *rounded* site: 8 or more patients, plus a few more whose every controlled count (per bound, per month,
  per share of patients expected to enrol) is unchanged — so no output may give the exact count away.

Every output is compared: the tables as written, the notes, assumptions.md, the curves and bars the figures are
drawn from, the files themselves (CSV, PNG, SVG, Markdown), and the accrual section of the feasibility report.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from oligo_cohort.accrual import Assumptions, build_report
from oligo_cohort.accrual import report as report_module
from oligo_cohort.accrual.assumptions import REVIEW_CRITERIA
from oligo_cohort.accrual.rates import BOUNDS
from oligo_cohort.accrual.report import assumptions_markdown, headline, output_tables, write_report
from oligo_cohort.destination.markers import MARKER
from oligo_cohort.disclosure import APPLIED, DisclosureChoice, round_count
from oligo_cohort.errors import UsageError
from tests.accrual.test_accrual_rates import as_result, patient_rows
from tests.draws import costly_draws

START = dt.date(2025, 1, 1)
TARGET = 20
REVIEW = tuple(REVIEW_CRITERIA)  # the criteria whose `review` answer thins a site's rate
SMALL_SITE = "X"
FIRST_DAY = pd.Timestamp("2021-01-04")  # every site's first screening date (an ineligible patient)
LAST_DAY = pd.Timestamp("2024-12-31")  # the result's last screening date (an ineligible patient)
DAYS = int((LAST_DAY - FIRST_DAY).days) - 60  # a varied patient is screened strictly inside the window
# Shares that differ for every subset of review answers, so that a mean over patients would tell them apart.
RATES = Assumptions(lat_amenable_rate=0.61, consent_rate=0.5, discretion_rate=0.9)


def _date(day: int) -> str:
    return (FIRST_DAY + pd.Timedelta(days=30 + day)).strftime("%Y-%m-%d")


def _patients(rows: list[tuple[str, str, str, str, tuple[str, ...]]]) -> pd.DataFrame:
    """Patients (id, site, status, date, answers to the review criteria)."""
    frame = patient_rows([row[:4] for row in rows])
    answers = pd.DataFrame([row[4] for row in rows], columns=list(REVIEW), index=frame.index, dtype=object)
    frame[list(REVIEW)] = answers
    return frame


def _fixed_sites() -> list[tuple[str, str, str, str, tuple[str, ...]]]:
    """Three sites with enough patients for a forecast, and the small site's ineligible patients; fixed."""
    rng = np.random.default_rng(7)
    rows = []
    for site, n in (("A", 60), ("B", 45), ("C", 30)):
        days = np.sort(rng.integers(30, DAYS, size=n))
        for i, day in enumerate(days):
            status = str(rng.choice(["eligible", "unknown", "ineligible"], p=[0.4, 0.3, 0.3]))
            answers = tuple(str(a) for a in rng.choice(["pass", "review"], size=len(REVIEW)))
            rows.append((f"{site}{i:03d}", site, status, _date(int(day)), answers))
    for site in ("A", "B", "C", SMALL_SITE):
        rows.append((f"{site}-first", site, "ineligible", FIRST_DAY.strftime("%Y-%m-%d"), ("review",) * 4))
    # The small site's count of eligible or unknown patients is small, not the site itself: with 10 patients in all
    # it is shown, as in the attrition tables (a site of 1 to 7 patients in all is left out: A21, tested below).
    for i in range(9):
        rows.append((f"{SMALL_SITE}-ineligible{i}", SMALL_SITE, "ineligible", _date(100 * i), ("review",) * 4))
    rows.append(("A-last", "A", "ineligible", LAST_DAY.strftime("%Y-%m-%d"), ("review",) * 4))
    return rows


FIXED = _fixed_sites()


ANSWERS = st.tuples(*[st.sampled_from(["pass", "review"])] * len(REVIEW))
STATUS = st.sampled_from(["eligible", "unknown"])
PATIENT = st.tuples(STATUS, ANSWERS, st.integers(0, DAYS))


def _with(site_patients: list[tuple[str, tuple[str, ...], int]]) -> pd.DataFrame:
    """The fixed sites plus these eligible or unknown patients at the small site."""
    extra = [
        (f"{SMALL_SITE}{i:03d}", SMALL_SITE, status, _date(day), answers)
        for i, (status, answers, day) in enumerate(site_patients)
    ]
    return _patients(FIXED + extra)


def _report(patients: pd.DataFrame, *, points: int | None = None):
    """The controlled forecast; with `points`, its curves drawn at fewer points (the generated tests compare many)."""
    if points is None:
        return build_report(as_result(patients), target=TARGET, start=START, assumptions=RATES)
    with patch.object(report_module, "FAN_POINTS", points), patch.object(report_module, "DENSITY_POINTS", points):
        return build_report(as_result(patients), target=TARGET, start=START, assumptions=RATES)


def _shown(report) -> dict[str, object]:
    """Everything a controlled forecast shows: tables, words, and the data every figure is drawn from."""
    return {
        **{f"{name}.csv": table for name, table in output_tables(report).items()},
        "notes": list(report.notes),
        "headline": headline(report),
        "assumptions.md": assumptions_markdown(report),
        **{f"fan {key}": fan for key, fan in report.fans.items()},
        **{f"density {key}": density for key, density in report.densities.items()},
        "intervals": report.intervals(),
        # What every forecast, interval and curve is computed from: each site's gamma-distributed rate.
        **{
            f"process {s.key}": pd.DataFrame(
                {"site": s.process.names, "shape": s.process.shape, "rate": s.process.rate}
            )
            for s in report.scenarios
        },
        **{f"new centre {s.key}": (s.new_centre.shape.tolist(), s.new_centre.rate.tolist()) for s in report.scenarios},
    }


def _assert_same(first: dict[str, object], second: dict[str, object], what: str) -> None:
    assert first.keys() == second.keys(), what
    for name, value in first.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, second[name], check_exact=True, obj=f"{name} ({what})")
        else:
            assert value == second[name], f"{name} differs ({what})"


@pytest.fixture(scope="module")
def fixed_sites_alone() -> dict[str, object]:
    """What the controlled forecast of the fixed sites shows with no eligible or unknown patient at the small site
    and no site of 1 to 7 patients (curves at 24 points): the forecast every generated example is compared against,
    the same in each, so built once."""
    return _shown(_report(_with([]), points=24))


@settings(max_examples=costly_draws(10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small=st.lists(PATIENT, min_size=1, max_size=7))
def test_a_site_with_0_to_7_patients_looks_the_same_whatever_their_number_and_answers(fixed_sites_alone, small):
    """0, 1, 2 … 7 eligible or unknown patients at a site, with any answers: one and the same forecast."""
    counts = sorted({1, min(2, len(small)), len(small)})
    for k in counts:
        shown = _shown(_report(_with(small[:k]), points=24))
        _assert_same(fixed_sites_alone, shown, f"{k} patient(s) at the small site against none")


TINY_SITE = "Z"  # a site with 1 to 7 patients in all, of any status
ANY_STATUS = st.sampled_from(["eligible", "unknown", "ineligible"])


@settings(max_examples=costly_draws(12), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny=st.lists(st.tuples(ANY_STATUS, ANSWERS, st.integers(0, DAYS)), min_size=1, max_size=7))
def test_a_site_with_1_to_7_patients_in_all_is_left_out_as_if_it_were_not_there(fixed_sites_alone, tiny):
    """A site is in the result only because a patient of its is: its row, first month or share of the forecast
    would tell 0 from 1–7 (A21). The forecast is the one without the site, table for table and curve for curve."""
    extra = [
        (f"{TINY_SITE}{i:03d}", TINY_SITE, status, _date(day), answers) for i, (status, answers, day) in enumerate(tiny)
    ]
    with_tiny = _report(_patients(FIXED + extra), points=24)
    assert TINY_SITE not in set(with_tiny.history.sites["site_id"])
    _assert_same(fixed_sites_alone, _shown(with_tiny), f"{len(tiny)} patient(s) at a site of their own against none")


def test_a_sites_file_names_a_site_left_out_as_it_names_one_the_result_does_not_hold():
    """Under control a candidate site of 1 to 7 patients is named in the same words as a site that is nowhere in
    the result: the notes differ in the site's name alone."""
    from oligo_cohort.accrual.sites_file import parse_sites

    tiny = [(f"{TINY_SITE}000", TINY_SITE, "eligible", _date(300), ("pass",) * 4)]
    notes = {}
    for candidate in (TINY_SITE, "Q"):
        sites = parse_sites(pd.DataFrame({"site_id": ["A", "B", candidate], "activation_date": "2025-01-01"}), START)
        report = build_report(
            as_result(_patients(FIXED + tiny)), target=TARGET, start=START, sites=sites, assumptions=RATES
        )
        notes[candidate] = [note.replace(repr(candidate), "<site>") for note in report.notes]
    assert notes[TINY_SITE] == notes["Q"]
    assert any("<site>" in note and "too few patients to show" in note for note in notes["Q"])


@st.composite
def rounded_twins(draw):
    """A site's patients and a few more that change none of its controlled counts (the twin has them too).

    The added patients await review on every criterion (the smallest share of patients expected to enrol), so
    only the site's totals grow: the controlled counts per bound, per month and per share stay as they were.
    """
    base = draw(st.lists(PATIENT, min_size=8, max_size=40))
    added = draw(st.lists(st.tuples(STATUS, st.just(("review",) * len(REVIEW)), st.integers(0, DAYS)), min_size=1,
                          max_size=4))  # fmt: skip
    for statuses in BOUNDS.values():
        before = sum(status in statuses for status, _, _ in base)
        after = before + sum(status in statuses for status, _, _ in added)
        assume(round_count(before) == round_count(after))
        months = pd.Series([_date(day)[:7] for status, _, day in base + added if status in statuses], dtype=str)
        assume((months.value_counts() <= 7).all())  # every month's count shown as 0 in both
    return base, base + added


@settings(
    max_examples=costly_draws(10),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(rounded_twins())
def test_a_rounded_site_count_cannot_be_recovered_from_any_other_figure(twins):
    """Two sites whose counts round alike (23 and 24 patients, both shown as 25): one and the same forecast."""
    base, more = twins
    first, second = (_shown(_report(_with(patients), points=24)) for patients in (base, more))
    _assert_same(first, second, "patients added within a rounding")


def _files(folder: Path) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    for name in ("disclosure.json", "accrual.json"):  # when they were written is no count
        info = json.loads(files[name])
        info.pop("written", None)
        files[name] = json.dumps(info, sort_keys=True).encode()
    # The folder's marker holds each file's checksum, those two files' time stamps included: the files themselves
    # are compared above, so only what the marker lists is.
    marker = json.loads(files[MARKER])
    marker.pop("sha256", None)
    files[MARKER] = json.dumps(marker, sort_keys=True).encode()
    return files


SMALL = [("eligible", ("pass", "review", "pass", "pass"), 400), ("unknown", ("review",) * 4, 900)]


def test_every_file_of_a_controlled_forecast_is_the_same_for_0_1_or_2_patients_at_a_site(tmp_path):
    written = {}
    for k in (0, 1, 2):
        out = tmp_path / f"forecast-{k}"
        write_report(_report(_with(SMALL[:k])), out)
        written[k] = _files(out)
    assert written[0].keys() == written[1].keys() == written[2].keys()
    assert {"site_rates.csv", "site_expected_accrual.png", "time_to_target.svg", "assumptions.md"} <= set(written[0])
    for k in (1, 2):
        for name, content in written[0].items():
            assert written[k][name] == content, f"{name}: {k} patient(s) at the small site against none"


def test_the_feasibility_reports_accrual_section_is_the_same_for_0_1_or_2_patients_at_a_site(tmp_path):
    from oligo_cohort.attrition.feasibility import _accrual
    from oligo_cohort.attrition.report.sections import accrual_section

    shown = {}
    for k in (0, 1, 2):
        section, paths, table = _accrual(
            as_result(_with(SMALL[:k])), TARGET, START, DisclosureChoice(APPLIED), tmp_path / f"figures-{k}"
        )
        html = "".join(accrual_section(SimpleNamespace(accrual=section)))
        shown[k] = (html, [p.read_bytes() for p in paths], table.to_csv(index=False))
    for k in (1, 2):
        assert shown[k] == shown[0], f"{k} patient(s) at the small site against none"


@pytest.mark.parametrize("small", [0, 1, 3, 7])
def test_too_few_patients_for_a_shareable_forecast_says_the_same_for_0_and_1_to_7(small):
    """When every site's count is shown as 0, the refusal does not depend on whether the true count is 0."""
    rows = [("Y-first", "Y", "ineligible", FIRST_DAY.strftime("%Y-%m-%d"), ("review",) * 4)]
    rows += [("Y-last", "Y", "ineligible", LAST_DAY.strftime("%Y-%m-%d"), ("review",) * 4)]
    rows += [(f"Y{i}", "Y", "eligible", _date(100 * i), ("pass",) * 4) for i in range(small)]
    with pytest.raises(UsageError) as refused:
        _report(_patients(rows))
    message = str(refused.value)
    assert "shown as 0" in message and "--no-disclosure-control" in message
    # Every count from 0 to 7 is refused in the same words.
    rows_none = rows[:2]
    with pytest.raises(UsageError) as none:
        _report(_patients(rows_none))
    assert str(none.value) == message


# Each example builds two whole forecasts: a failing one is reported as found, not shrunk for minutes.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


@st.composite
def same_months(draw):
    """Patients at three sites, and the same patients each screened on another day of the same month."""
    patients = draw(
        st.lists(
            st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(["eligible", "unknown", "ineligible"]),
                      st.integers(0, 47), st.integers(1, 28)),
            min_size=30, max_size=60,
        )
    )  # fmt: skip
    moved = [draw(st.integers(1, 28)) for _ in patients]

    def rows(days):
        return [
            (f"p{i:03d}", site, status, f"{2021 + month // 12}-{month % 12 + 1:02d}-{day:02d}", ("review",) * 4)
            for i, ((site, status, month, _), day) in enumerate(zip(patients, days, strict=True))
        ]

    return rows([day for *_, day in patients]), rows(moved)


@settings(max_examples=costly_draws(8), deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=NO_SHRINK)
@given(same_months())
def test_a_controlled_forecast_gives_no_screening_date_to_the_day(twins):
    """Patients screened on other days of the same months: the same shareable forecast, dates shown to the month.

    A site's first screening date and the result's last are single patients' scan dates; shown to the day (and
    recoverable from an exposure counted in days) they would date a patient's visit in a shareable file.
    """
    first, second = (_shown_or_refusal(rows) for rows in twins)
    _assert_same(first, second, "the same patients on other days of the same months")
    if "site_rates.csv" in first:
        rates = first["site_rates.csv"]
        assert rates["first_date"].str.fullmatch(r"[0-9]{4}-[0-9]{2}").all()
        assert rates["window_end"].str.fullmatch(r"[0-9]{4}-[0-9]{2}").all()


def _shown_or_refusal(rows) -> dict[str, object]:
    try:
        return _shown(_report(_patients(rows), points=24))
    except UsageError as refused:  # every count shown as 0: refused, in words that must not differ either
        return {"refused": str(refused)}


EXACT = "internal use only, must not leave the institution"
SAID = {  # what every figure of a forecast says of its counts, by mode
    "controlled": ("Disclosure control:", "shown as 0", "rounded to the nearest 5"),
    "opted out": ("Exact counts", EXACT),
    "synthetic": ("Synthetic data (the bundled demo extract): exact counts.",),
}
MODES = {
    "controlled": {"disclosure_control": True},
    "opted out": {"disclosure_control": False},
    "synthetic": {"disclosure_control": False, "synthetic_source": "the bundled demo extract"},
}


def _figure_words(figure) -> str:
    texts = [*figure.texts, *(t for ax in figure.axes for t in (ax.title, ax._left_title, *ax.texts))]
    return " ".join(" ".join(t.get_text() for t in texts).split())


@pytest.mark.parametrize(("mode", "small"), [("controlled", 0), ("controlled", 2), ("opted out", 1), ("synthetic", 1)])
def test_every_forecast_figure_says_whether_its_counts_are_controlled_or_exact(mode, small, tmp_path):
    """A figure travels without disclosure.md: each says under its title how the counts behind it were controlled,
    or that they are exact (internal use only, unless the data are synthetic), in `accrual` and in the report."""
    from dataclasses import replace

    from oligo_cohort.accrual import plots
    from oligo_cohort.attrition.feasibility import _accrual
    from oligo_cohort.disclosure import DisclosureChoice, choose

    result = as_result(_with(SMALL[:small]))
    drawn = {}
    with patch.object(report_module, "FAN_POINTS", 24), patch.object(report_module, "DENSITY_POINTS", 24):
        report = build_report(result, target=TARGET, start=START, assumptions=replace(RATES, **MODES[mode]))
        with patch.object(plots, "save", lambda figure, folder, name: drawn.setdefault(name, figure) and []):
            report_module._write_files(report, tmp_path, screen_dir="")
        if mode != "synthetic":  # the report's own fan chart, drawn by the report's section
            choice = DisclosureChoice(APPLIED) if mode == "controlled" else choose(False)
            section, _, _ = _accrual(result, TARGET, START, choice, tmp_path / "figures")
    assert set(drawn) == {"accrual_fan_chart", "site_expected_accrual", "time_to_target"}
    for name, figure in drawn.items():
        words = _figure_words(figure)
        assert all(part in words for part in SAID[mode]), f"{name}: {words}"
        if mode != "opted out":
            assert EXACT not in words, name
    if mode == "synthetic":
        return
    texts = re.findall(r"<text[^>]*>(.*?)</text>", section.figure_svg, flags=re.S)  # the SVG keeps text as text
    shown = " ".join(html.unescape(" ".join(texts)).split())
    assert all(part in shown for part in SAID[mode]), shown
