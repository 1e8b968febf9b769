"""From a screening result to the feasibility report and its shareable bundle, in one call.

Layout of the output folder:

    OUT/README.txt           what may leave the institution and what may not
    OUT/shareable/           aggregates only: report.html, tables/, figures/, settings.json, disclosure.md/.json
    OUT/shareable.zip        the same, zipped for sending
    OUT/screen/              the patient-level screening result (patients, events, reasons): internal only

The whole folder is written all-or-nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from oligo_cohort.attrition.bundle import (
    CONTROLLED_NOTE,
    PATIENT_LEVEL_FILES,
    SETTINGS,
    relative_names,
    write_figures,
    write_settings,
    write_tables,
)
from oligo_cohort.attrition.charts import FORMATS
from oligo_cohort.attrition.histogram import histogram_of_result
from oligo_cohort.attrition.report import ReportContent, render_report
from oligo_cohort.attrition.views import Options, Views, controlled, result_views
from oligo_cohort.attrition.whatif import WhatIf, compare_histograms, controlled_comparison, controlled_status
from oligo_cohort.disclosure import apply_to_frame, write_statement
from oligo_cohort.outputs import staged_folder

MARKER = f"shareable/{SETTINGS}"
INTERNAL_ONLY = "EXACT COUNTS: disclosure control was turned off; internal use only."
README = """Feasibility report written by oligo-cohort.

shareable/      Aggregate counts, figures and the HTML report (report.html). {control}
shareable.zip   The same folder, zipped.
screen/         The patient-level screening result (patients.csv, events.csv, reasons.csv, findings.csv).
                It identifies patients: keep it inside the institution. It is never part of the shareable bundle.
"""


def result_settings(result, options: Options, *, disclosure_control: bool) -> dict[str, object]:
    """What produced a report: protocol, parameters, cut-off, engine, options, disclosure control."""
    return {
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
        "extract": Path(str(result.source)).name if result.source else "",
        "attrition": options.describe(),
        "disclosure_control": disclosure_control,
    }


def findings_summary(findings: pd.DataFrame) -> pd.DataFrame:
    """Data-quality findings counted by severity and table (no record ids, values or messages)."""
    if findings.empty:
        return pd.DataFrame({"severity": [], "table": [], "n": []})
    return findings.groupby(["severity", "table"], as_index=False, dropna=False).size().rename(columns={"size": "n"})


def differing_parameters(whatif: WhatIf) -> pd.DataFrame:
    """The protocol parameters that differ between the two sides of a what-if."""
    a = whatif.protocol_a.parameters.as_row()
    b = whatif.protocol_b.parameters.as_row()
    names = [k for k in a if a[k] != b.get(k)]
    return pd.DataFrame({"parameter": names, "a": [str(a[k]) for k in names], "b": [str(b[k]) for k in names]})


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
        raise RuntimeError(f"patient-level file(s) {', '.join(found)} in the shareable bundle")


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
    comparison.table.to_csv(tables / "whatif_patients.csv", index=False)
    comparison.status.to_csv(tables / "whatif_status.csv", index=False)
    return ["tables/whatif_patients.csv", "tables/whatif_status.csv"]


def _content(result, shown: tuple[Views, Views], comparison: _Comparison | None, **extra) -> ReportContent:
    protocol = result.protocol
    return ReportContent(
        title=f"COSMO feasibility report — {protocol.name} ({protocol.version})",
        facts={
            "Extract": Path(str(result.source)).name if result.source else "(in memory)",
            "Protocol": f"{protocol.title} — {protocol.name}, version {protocol.version}",
            "Data cut-off": result.as_of.isoformat(),
            "Engine": result.engine,
            "Compared with": comparison.labels[1] if comparison is not None else "—",
        },
        parameters=protocol.parameters.as_row(),
        patients=shown[0],
        events=shown[1],
        whatif_table=comparison.table if comparison is not None else None,
        whatif_status=comparison.status if comparison is not None else None,
        whatif_labels=comparison.labels if comparison is not None else ("A", "B"),
        whatif_parameters=comparison.parameters if comparison is not None else None,
        **extra,
    )


def write_feasibility_report(
    result,
    out_dir: str | Path,
    *,
    options: Options | None = None,
    compare_result=None,
    disclosure_control: bool = True,
    write_screen: bool = True,
    formats: Sequence[str] = FORMATS,
    extra_sections: Sequence = (),
) -> Path:
    """Write the report, the shareable bundle and (unless `write_screen` is false) the patient-level result.

    `extra_sections`: aggregate sections from other modules (the chart review stage, `oligo_cohort.review.flow`),
    each with `write(tables_dir) -> file names` and `html() -> str`, already disclosure-controlled as the report."""
    options = options or Options(by=("site", "year"))
    event_options = Options(
        level="events", order=options.order, drop=options.drop, review_pass_rates=options.review_pass_rates
    )
    views = (result_views(result, options), result_views(result, event_options))
    shown = (controlled(views[0]), controlled(views[1])) if disclosure_control else views
    comparison = _comparison(result, compare_result, options, disclosure_control=disclosure_control)
    findings = findings_summary(result.findings)
    if disclosure_control:
        findings = apply_to_frame(findings, ["n"])
    settings = result_settings(result, options, disclosure_control=disclosure_control)
    if comparison is not None:
        settings["compare_protocol"] = comparison.protocol_b
    # The report embeds the SVG files, so SVG is always among the formats written.
    formats = tuple(dict.fromkeys([*formats, "svg"]))
    with staged_folder(Path(out_dir), MARKER) as staging:
        bundle = staging / "shareable"
        (bundle / "tables").mkdir(parents=True)
        files = [f"tables/{name}" for name in write_tables(shown[0], bundle / "tables", "_patients")]
        files += [f"tables/{name}" for name in write_tables(shown[1], bundle / "tables", "_events")]
        findings.to_csv(bundle / "tables" / "findings_summary.csv", index=False)
        files += ["tables/findings_summary.csv", *_write_comparison(comparison, bundle / "tables")]
        for section in extra_sections:  # sections added by other modules (chart review stage)
            files += [f"tables/{name}" for name in section.write(bundle / "tables")]
        patient_figures = write_figures(shown[0], bundle / "figures", "_patients", formats)
        files += relative_names(patient_figures, bundle)
        files += relative_names(write_figures(shown[1], bundle / "figures", "_events", formats), bundle)
        content = _content(
            result,
            shown,
            comparison,
            findings=findings,
            disclosure_control=disclosure_control,
            assumptions=_assumptions(options, result),
            figures=_svgs(patient_figures, "_patients"),
            extra_html=tuple(section.html() for section in extra_sections),
        )
        (bundle / "report.html").write_text(render_report(content), encoding="utf-8")
        files += ["report.html", write_settings(bundle, settings)]
        notes = [CONTROLLED_NOTE] if disclosure_control else []
        write_statement(bundle, applied=disclosure_control, files=files, notes=notes)
        _check_aggregates_only(bundle)
        shutil.make_archive(str(staging / "shareable"), "zip", root_dir=bundle)
        control = "Disclosure control applied." if disclosure_control else INTERNAL_ONLY
        (staging / "README.txt").write_text(README.format(control=control), encoding="utf-8")
        if write_screen:
            result.write(staging / "screen")
    return Path(out_dir)


def attrition_views(result, options: Options, *, disclosure_control: bool = True) -> Views:
    """The attrition views of a result at the options' level, disclosure-controlled unless turned off."""
    views = result_views(result, options)
    return controlled(views) if disclosure_control else views
