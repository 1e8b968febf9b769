"""From a screening result to the feasibility report and its shareable bundle, in one call.

Layout of the output folder:

    OUT/README.txt           what may leave the institution and what may not
    OUT/shareable/           aggregates only: report.html, tables/, figures/, settings.json, disclosure.md/.json
    OUT/shareable.zip        the same, zipped for sending
    OUT/screen/              the patient-level screening result (patients, events, reasons): internal only

The whole folder is written all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
import platform
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from oligo_cohort import __version__
from oligo_cohort.attrition.bundle import (
    DEFAULT_FORMATS,
    PATIENT_LEVEL_FILES,
    disclosure_notes,
    figure_note,
    relative_names,
    site_figure_stems,
    write_figures,
    write_settings,
    write_tables,
)
from oligo_cohort.attrition.comparison import WhatIf, compare_histograms, controlled_comparison, controlled_status
from oligo_cohort.attrition.histogram import histogram_of_result
from oligo_cohort.attrition.report import AccrualSection, ReportContent, render_report
from oligo_cohort.attrition.views import Options, Views, controlled, result_views
from oligo_cohort.counts_in_words import names_of
from oligo_cohort.csv_output import write_csv
from oligo_cohort.destination import OutputFolder, staged_output
from oligo_cohort.disclosure import (
    FORECAST_RULE,
    DisclosureChoice,
    apply_to_frame,
    choose,
    one_digest_per_file,
    sha256_of,
    synthetic_source,
    write_statement,
)
from oligo_cohort.errors import UsageError
from oligo_cohort.outputs import result_inputs
from oligo_cohort.parameter_labels import parameter_label, parameter_value

KIND = "report"
INTERNAL_ONLY = "EXACT COUNTS: disclosure control was turned off; internal use only."
README = """Feasibility report written by oligo-cohort.

shareable/      Aggregate counts, figures and the HTML report (report.html). {control}
shareable.zip   The same folder, zipped.
"""
# The line of README.txt for the patient-level result, when the report keeps it (not with --no-screen-output).
README_SCREEN = """screen/         The patient-level screening result (patients.csv, events.csv, reasons.csv, findings.csv).
                It identifies patients: keep it inside the institution. It is never part of the shareable bundle.
"""


def disclosure_for(result, requested: bool | DisclosureChoice | None) -> DisclosureChoice:
    """The disclosure choice of a run: as requested (True forces control on, False opts out), else automatic —
    on, except for the bundled synthetic demo extract."""
    if isinstance(requested, DisclosureChoice):
        return requested
    return choose(requested, synthetic_source=synthetic_source(result))


def result_settings(result, options: Options, *, disclosure_control: bool) -> dict[str, object]:
    """What produced a report: protocol, parameters, cut-off, engine, options, disclosure control."""
    return {
        "tool": {"name": "oligo-cohort", "version": __version__},
        "protocol": {
            "name": result.protocol.name,
            "version": result.protocol.version,
            "title": result.protocol.title,
            "source": Path(str(result.protocol.source).split(" (")[0]).name,
        },
        "parameters": result.protocol.parameters.as_row(),
        "as_of": result.as_of.isoformat(),
        "engine": result.engine,
        "worklist_mode": result.worklist,
        # The extract screened: a screen folder read back names it in its manifest (`source` is then the folder).
        "extract": Path(str(getattr(result, "screened_source", "") or result.source or "")).name,
        "attrition": options.describe(),
        "disclosure_control": disclosure_control,
    }


def input_checksums(result) -> list[tuple[str, str]]:
    """(file name, SHA-256) of each input file: hashed for a fresh result, from the manifest of a screen folder."""
    files = tuple(getattr(result, "input_files", ()) or ())
    if files:
        return [(Path(p).name, sha256_of(Path(p))) for p in files]
    recorded = getattr(result, "input_checksums", None) or {}  # read from its manifest by `screen_folder`
    return sorted((Path(path).name, digest) for path, digest in recorded.items())


def provenance(
    result, choice: DisclosureChoice, *, author: str | None = None, compared: str | None = None
) -> dict[str, str]:
    """What produced the report, as label → value: tool, protocol and amendment, cut-off, extract, engine, run."""
    import duckdb

    protocol = result.protocol
    control = {"applied": "applied (counts controlled; see the note below)", "synthetic": "not needed: synthetic data"}
    facts = {
        "Tool": f"oligo-cohort {__version__} (Python {platform.python_version()}, DuckDB {duckdb.__version__})",
        "Protocol": protocol.title,
        "Protocol version": f"{protocol.name}, {protocol.version}; file: {protocol.source}",
        "Data cut-off": result.as_of.isoformat(),
        "Extract": Path(str(result.source)).name if result.source else "(in memory)",
        "Engine": result.engine,
        "Report written": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "Run by": author or "not stated (give --author)",
        "Disclosure control": control.get(choice.mode, "OFF: exact counts, internal use only"),
    }
    if compared:
        facts["Compared with"] = compared
    return facts


def findings_summary(findings: pd.DataFrame) -> pd.DataFrame:
    """Data-quality findings counted by severity and table (no record ids, values or messages)."""
    if findings.empty:
        return pd.DataFrame({"severity": [], "table": [], "n": []})
    return findings.groupby(["severity", "table"], as_index=False, dropna=False).size().rename(columns={"size": "n"})


def differing_parameters(whatif: WhatIf) -> pd.DataFrame:
    """The protocol parameters that differ between the two sides of a what-if, with human labels and units."""
    a = whatif.protocol_a.parameters.as_row()
    b = whatif.protocol_b.parameters.as_row()
    names = [k for k in a if a[k] != b.get(k)]
    return pd.DataFrame(
        {
            "parameter": names,
            "label": [parameter_label(k) for k in names],
            "a": [parameter_value(k, a[k]) for k in names],
            "b": [parameter_value(k, b[k]) for k in names],
        }
    )


def _assumptions(options: Options, result) -> list[str]:
    notes = [f"Data cut-off (as_of): {result.as_of.isoformat()}; nothing dated after it is used."]
    if options.review_pass_rates:
        rates = ", ".join(f"{k} = {v:.0%}" for k, v in options.review_pass_rates.items())
        notes.append(
            f"Expected numbers assume each chart-review criterion passes independently with the stated rate ({rates}); "
            "chart-review criteria without a stated rate are assumed met."
        )
    else:
        notes.append(
            "No pass rates were assumed for the chart-review criteria: the final count is before chart review."
        )
    if options.drop:
        notes.append(f"Criteria left out of the attrition: {', '.join(options.drop)}.")
    if options.order:
        notes.append(f"Criterion order chosen by the analyst: {', '.join(options.order)}.")
    return notes


def _svgs(written: dict[str, list[Path]], suffix: str) -> dict[str, str]:
    """The SVG text of each written figure, keyed by its stem without the suffix (for the HTML report)."""
    svgs = {}
    for stem, paths in written.items():
        svg = next((p for p in paths if p.suffix == ".svg"), None)
        if svg is not None:
            svgs[stem.replace(suffix, "", 1)] = svg.read_text(encoding="utf-8")
    return svgs


def _check_aggregates_only(bundle: Path) -> None:
    """Refuse to finish a bundle that holds a patient-level file (it must never leave the institution)."""
    found = sorted(p.name for p in bundle.rglob("*") if p.name in PATIENT_LEVEL_FILES)
    if found:
        raise RuntimeError(f"{names_of('patient-level file', found)} in the shareable bundle")


@dataclass(frozen=True)
class _Comparison:
    """The what-if tables as shown (disclosure-controlled or not), with the two sides' names."""

    table: pd.DataFrame
    status: pd.DataFrame
    parameters: pd.DataFrame
    labels: tuple[str, str]
    protocol_b: dict[str, object]


def _comparison(result, compare_result, options: Options, *, disclosure_control: bool) -> _Comparison | None:
    if compare_result is None:
        return None
    whatif = compare_histograms(
        histogram_of_result(result),
        histogram_of_result(compare_result),
        result.protocol,
        compare_result.protocol,
        order=options.order,
        drop=options.drop,
        review_pass_rates=options.review_pass_rates,
    )
    return _Comparison(
        table=controlled_comparison(whatif.table) if disclosure_control else whatif.table,
        status=controlled_status(whatif.status) if disclosure_control else whatif.status,
        parameters=differing_parameters(whatif),
        labels=(whatif.label_a, whatif.label_b),
        protocol_b={
            "name": whatif.protocol_b.name,
            "version": whatif.protocol_b.version,
            "parameters": whatif.protocol_b.parameters.as_row(),
        },
    )


def _write_comparison(comparison: _Comparison | None, tables: Path) -> list[str]:
    if comparison is None:
        return []
    write_csv(comparison.table, tables / "whatif_patients.csv")
    write_csv(comparison.status, tables / "whatif_status.csv")
    return ["tables/whatif_patients.csv", "tables/whatif_status.csv"]


def _month(start: dt.date, months: float) -> str:
    """A forecast date to the month ("Oct 2031"); a forecast is no more precise, and the bundle holds no days.

    Python's calendar (`date_after`), not pandas', which ends in 2262: an unattainable target lies centuries away."""
    from oligo_cohort.accrual.rates import date_after

    date = date_after(start, months) if pd.notna(months) else None
    return "not within the horizon" if date is None else f"{date:%b} {date.year}"


def _probability(value: float) -> str:
    """A probability as a whole percentage that never rounds a possibility to 0 % or a doubt to 100 %."""
    if 0 < value < 0.005:
        return "< 1 %"
    if 0.995 <= value < 1:
        return "> 99 %"
    return f"{100 * value:.0f} %"


CONTROLLED_FORECAST = (
    "Disclosure control: the forecast is fitted to the controlled counts per site alone; each site's share expected "
    "to pass chart review and consent comes from controlled counts of its patients per share, and a site shown "
    "with 0 patients (0 to 7) takes the mean share over all sites, so no figure reveals more than the counts shown."
)


def _accrual(
    result, target: int, start: dt.date, choice: DisclosureChoice, figures: Path
) -> tuple[AccrualSection, list[Path], pd.DataFrame | None]:
    """The accrual section (forecast from the registry history of every site), its figure files and table."""
    from oligo_cohort.accrual import Assumptions, build_report
    from oligo_cohort.accrual.plots import fan_chart, save

    section = AccrualSection(target=target, start=start.isoformat())
    try:
        report = build_report(
            result, target=target, start=start, assumptions=Assumptions(disclosure_control=choice.applied)
        )
    except UsageError as error:
        section.unavailable = str(error)
        return section, [], None
    rows = []
    for row in report.forecast.itertuples():
        rows.append(
            {
                "scenario": row.scenario,
                "description": row.description,
                "median": f"{row.time_to_target_median_months:.0f} months ({_month(start, row.time_to_target_median_months)})",
                "interval": f"{row.time_to_target_lower_months:.0f}–{row.time_to_target_upper_months:.0f} months "
                f"({_month(start, row.time_to_target_lower_months)} – {_month(start, row.time_to_target_upper_months)})",
                "by_end": f"{row.expected_by_end:.1f} ({row.count_by_end_lower:.0f}–{row.count_by_end_upper:.0f}) "
                f"in {row.duration_months:g} months",
                "probability": _probability(row.probability_target_within_duration),
                "per_year": f"{row.patients_per_year_all_open:.1f} ({row.sites} sites)",
            }
        )
    table = pd.DataFrame(rows)
    a = report.assumptions
    caption = (
        f"Registry history to the cut-off ({result.as_of:%b %Y}); accrual from {start:%b %Y}. Shares passing review: "
        f"lesions amenable {a.lat_amenable_rate:.0%}, consent {a.consent_rate:.0%}, clinician's discretion "
        f"{a.discretion_rate:.0%}. {choice.figure_note(FORECAST_RULE)}"
    )
    first = report.contributions[report.contributions["scenario"] == report.scenarios[0].key]
    figure = fan_chart(
        report.fans, start=start, target=target, duration=a.duration_months, time_intervals=report.intervals(),
        site_opens=first[["site_id", "opens_month"]], caption=caption,
    )  # fmt: skip
    figures.mkdir(parents=True, exist_ok=True)
    paths = save(figure, figures, "accrual_fan_chart")  # PNG and SVG, as every accrual figure
    section.forecast = table
    section.duration = f"{a.duration_months:g} months"
    section.figure_svg = next(p for p in paths if p.suffix == ".svg").read_text(encoding="utf-8")
    section.notes = [
        *report.notes,
        f"Shares expected to pass chart review and consent: lesions amenable {a.lat_amenable_rate:.0%}, consent "
        f"{a.consent_rate:.0%}, clinician's discretion {a.discretion_rate:.0%} (planning values; see docs).",
        "Rates are constant in time (no ramp-up, no seasonality); intervals are somewhat too narrow because the "
        "fitted prior is plugged in as if known.",
    ]
    if choice.applied:
        section.notes.append(CONTROLLED_FORECAST)
    return section, paths, table


def _content(
    result, shown: tuple[Views, Views], comparison: _Comparison | None, facts: dict[str, str], **extra
) -> ReportContent:
    protocol = result.protocol
    return ReportContent(
        title=f"COSMO feasibility report — {protocol.name} ({protocol.version})",
        subtitle=f"{protocol.title}. Registry pre-screening; data cut-off {result.as_of.isoformat()}.",
        facts=facts,
        parameters=protocol.parameters.as_row(),
        patients=shown[0],
        events=shown[1],
        whatif_table=comparison.table if comparison is not None else None,
        whatif_status=comparison.status if comparison is not None else None,
        whatif_labels=comparison.labels if comparison is not None else ("A", "B"),
        whatif_parameters=comparison.parameters if comparison is not None else None,
        **extra,
    )


# Each input file is read once for its checksum: for the provenance and again for the screen folder's manifest.
@one_digest_per_file()
def write_feasibility_report(
    result,
    out_dir: str | Path | OutputFolder,
    *,
    options: Options | None = None,
    compare_result=None,
    disclosure_control: bool | DisclosureChoice | None = None,
    write_screen: bool = True,
    formats: Sequence[str] = DEFAULT_FORMATS,
    author: str | None = None,
    target: int | None = None,
    start: dt.date | None = None,
    extra_sections: Sequence = (),
) -> Path:
    """Write the report, the shareable bundle and (unless `write_screen` is false) the patient-level result.

    `out_dir` is replaced only when it is empty or an earlier report (oligo_cohort.destination).
    `disclosure_control`: None (default) = on, except for the bundled synthetic
    demo extract, whose exact counts are shown and said to be synthetic; True
    forces it on; False gives exact counts for internal use only. With a
    `target` (and accrual `start`, default the day after the cut-off) the
    report has an accrual section. `extra_sections`: aggregate sections from other modules (the chart review
    stage, `oligo_cohort.review.flow`), each with `write(tables_dir) -> file names`, `write_figures(figures_dir,
    formats, note=) -> paths`, `html(note) -> str` (`note`: the footnote of the report's figures),
    `summary_card() -> (label, value, detail)` and `provenance() -> (facts, files)` (what it read, for the
    provenance), already disclosure-controlled as the report.
    """
    choice = disclosure_for(result, disclosure_control)
    applied = choice.applied
    options = options or Options(by=("site", "year"))
    event_options = Options(
        level="events", order=options.order, drop=options.drop, review_pass_rates=options.review_pass_rates
    )
    views = (result_views(result, options), result_views(result, event_options))
    shown = (controlled(views[0]), controlled(views[1])) if applied else views
    comparison = _comparison(result, compare_result, options, disclosure_control=applied)
    findings = findings_summary(result.findings)
    if applied:
        findings = apply_to_frame(findings, ["n"])
    settings = result_settings(result, options, disclosure_control=applied)
    settings["disclosure"] = choice.mode
    settings["author"] = author or ""
    if comparison is not None:
        settings["compare_protocol"] = comparison.protocol_b
    if target is not None:
        start = start or result.as_of + dt.timedelta(days=1)
        settings["accrual"] = {"target": target, "start": start.isoformat()}
    # The report embeds the SVG files, so SVG is always among the formats written.
    formats = tuple(dict.fromkeys([*formats, "svg"]))
    note = figure_note(shown[0], choice)
    facts = provenance(result, choice, author=author, compared=comparison.labels[1] if comparison else None)
    more_files: dict[str, tuple[tuple[str, str], ...]] = {}
    for section in extra_sections:  # what each added section read, e.g. the reviewed extract
        added_facts, added_files = section.provenance()
        facts |= added_facts
        more_files |= added_files
    with staged_output(out_dir, KIND, inputs=result_inputs(result)) as staging:
        bundle = staging / "shareable"
        (bundle / "tables").mkdir(parents=True)
        files = [f"tables/{name}" for name in write_tables(shown[0], bundle / "tables", "_patients")]
        files += [f"tables/{name}" for name in write_tables(shown[1], bundle / "tables", "_events")]
        write_csv(findings, bundle / "tables" / "findings_summary.csv")
        files += ["tables/findings_summary.csv", *_write_comparison(comparison, bundle / "tables")]
        for section in extra_sections:  # sections added by other modules (chart review stage)
            files += [f"tables/{name}" for name in section.write(bundle / "tables")]
        # The per-site diagrams are embedded (SVG) and printed from the report; a PNG of each would dominate its
        # run time at 40 sites (0.4 s apiece), so they are vector only (`attrition --by site` writes PNGs too).
        site_formats = tuple(f for f in formats if f != "png")
        patient_figures = write_figures(
            shown[0], bundle / "figures", "_patients", formats, note=note, site_formats=site_formats
        )
        files += relative_names(patient_figures, bundle)
        for section in extra_sections:  # their figures beside the report's own, for slides and documents
            files += [
                p.relative_to(bundle).as_posix() for p in section.write_figures(bundle / "figures", formats, note=note)
            ]
        # Event-level attrition is a table in the report; its figures come from `attrition --level events`.
        accrual = None
        if target is not None and start is not None:
            accrual, accrual_files, accrual_table = _accrual(result, target, start, choice, bundle / "figures")
            files += [p.relative_to(bundle).as_posix() for p in accrual_files]
            if accrual_table is not None:
                write_csv(accrual_table, bundle / "tables" / "accrual_forecast.csv")
                files.append("tables/accrual_forecast.csv")
        svgs = _svgs(patient_figures, "_patients")
        sites = site_figure_stems(patient_figures, "_patients")
        site_ids = list(dict.fromkeys(shown[0].by["site"].iloc[:, 0].astype(str))) if "site" in shown[0].by else []
        content = _content(
            result,
            shown,
            comparison,
            facts,
            findings=findings,
            disclosure=choice,
            assumptions=_assumptions(options, result),
            figures=svgs,
            site_figures=[(site, svgs[stem.replace("_patients", "", 1)]) for site, stem in zip(site_ids, sites, strict=True)],
            input_files=input_checksums(result),
            more_files=more_files,
            accrual=accrual,
            extra_html=tuple(section.html(note) for section in extra_sections),
            extra_cards=tuple(section.summary_card() for section in extra_sections),
        )  # fmt: skip
        (bundle / "report.html").write_text(render_report(content), encoding="utf-8")
        files += ["report.html", write_settings(bundle, settings)]
        notes = disclosure_notes(shown[0])
        write_statement(bundle, applied=applied, files=files, notes=notes, synthetic=choice.synthetic_source or None)
        _check_aggregates_only(bundle)
        shutil.make_archive(str(staging / "shareable"), "zip", root_dir=bundle)
        control = (
            "Disclosure control applied."
            if applied
            else "Synthetic data: exact counts."
            if choice.mode == "synthetic"
            else INTERNAL_ONLY
        )
        readme = README.format(control=control) + (README_SCREEN if write_screen else "")
        (staging / "README.txt").write_text(readme, encoding="utf-8")
        if write_screen:
            result.write(staging / "screen")
    return out_dir.requested if isinstance(out_dir, OutputFolder) else Path(out_dir)


def attrition_views(result, options: Options, *, disclosure_control: bool = True) -> Views:
    """The attrition views of a result at the options' level, disclosure-controlled unless turned off."""
    views = result_views(result, options)
    return controlled(views) if disclosure_control else views
