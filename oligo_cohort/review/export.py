"""`review export`: from a screen's output folder to the list of chart-review questions, per patient and open item.

One row per patient and item that can still change the patient's status: for the patients of the chosen
statuses (by default eligible and unknown, whom no registry criterion excludes), every chart-review criterion
still `review` and every `unknown` that an answer can resolve (see `items`). Rows are sorted by site, then by the
last day of the patient's registration window (the deadline), so that the most urgent charts come first.

The registry facts shown beside each question come from the extract the screen read (named in the screen's
manifest, or given with `extract=`), checked unchanged against the manifest's checksums.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from oligo_cohort.api import ScreeningResult, read_screen_dir
from oligo_cohort.criteria import CRITERION_IDS, STATUSES
from oligo_cohort.csv_output import write_csv
from oligo_cohort.destination import OutputFolder, staged_output
from oligo_cohort.disclosure import sha256_of
from oligo_cohort.errors import UsageError
from oligo_cohort.review.facts import RegistryFacts, lesion_text, registry_facts
from oligo_cohort.review.items import ITEM_ORDER, Item, items_for
from oligo_cohort.review.workbook import write_workbook

REVIEW_COLUMNS = (
    "patient_id",
    "site_id",
    "event_id",
    "screening_date",
    "deadline",
    "item",
    "question",
    "facts",
    "allowed_answers",
    "answer",
    "answer_date",
    "answered_by",
    "note",
)
ANSWER_COLUMNS = ("answer", "answer_date", "answered_by", "note")
REVIEW_CSV = "review.csv"
REVIEW_XLSX = "review.xlsx"
EXPORT_MANIFEST = "review_export.json"
DEFAULT_STATUSES = ("eligible", "unknown")


@dataclass(frozen=True)
class ReviewExport:
    """The review rows of a screen, and where they were written (once written)."""

    rows: pd.DataFrame  # REVIEW_COLUMNS; dates as datetime.date, answers empty
    screen: ScreeningResult
    extract: str
    statuses: tuple[str, ...]
    sites: tuple[str, ...] | None

    def summary(self) -> dict[str, object]:
        """Counts of what is asked: rows, patients, per item, per site."""
        rows = self.rows
        return {
            "items": len(rows),
            "patients": int(rows["patient_id"].nunique()),
            "by_item": {k: int(v) for k, v in rows["item"].value_counts().sort_index().items()},
            "by_site": {k: int(v) for k, v in rows["site_id"].value_counts().sort_index().items()},
        }

    def write(self, out_dir: str | Path | OutputFolder) -> Path:
        """Write review.csv, review.xlsx and review_export.json into `out_dir`, all or nothing."""
        return write_export(self, out_dir if isinstance(out_dir, OutputFolder) else Path(out_dir))


def review_rows(
    screen_dir: str | Path,
    *,
    statuses: Sequence[str] = DEFAULT_STATUSES,
    sites: Iterable[str] | None = None,
    extract: str | Path | None = None,
) -> ReviewExport:
    """The review questions of a screen (nothing written)."""
    screen = read_screen_dir(screen_dir)
    chosen_statuses = _statuses(statuses)
    # Only the patients asked about, and only their reasons, become pandas rows: at 100,000 patients, every
    # patient's row and reason took 11 s, for the 6 % whose status is open.
    selected = screen.rows_where("patients", "status", chosen_statuses)
    chosen_sites = _sites(sites, screen)
    if chosen_sites is not None:
        selected = selected[selected["site_id"].isin(chosen_sites)]
    source = _extract_of(screen, extract, screen_dir)
    # `_extract_of` has checked the extract is the one screened: only the asked patients' rows need reading.
    facts = registry_facts(
        source, as_of=screen.as_of, protocol=screen.protocol, patients=selected["patient_id"], screened=True
    )
    reasons = screen.rows_where("reasons", "patient_id", selected["patient_id"])
    reason_of = {(r.patient_id, r.criterion): r.reason for r in reasons.itertuples(index=False)}
    latest = screen.protocol.parameters.imaging_window_latest_days
    rows = [
        row
        for patient in selected.to_dict("records")
        for row in _patient_rows(patient, facts, reason_of, screen, latest)
    ]
    frame = pd.DataFrame(rows, columns=list(REVIEW_COLUMNS), dtype=object)
    frame["_order"] = frame["item"].map(ITEM_ORDER)
    frame["_deadline"] = pd.to_datetime(frame["deadline"])
    frame = frame.sort_values(["site_id", "_deadline", "patient_id", "_order"], na_position="last", kind="stable")
    frame = frame.drop(columns=["_order", "_deadline"]).reset_index(drop=True)
    return ReviewExport(frame, screen, str(source), chosen_statuses, chosen_sites)


def export_review(
    screen_dir: str | Path,
    out_dir: str | Path | OutputFolder,
    *,
    statuses: Sequence[str] = DEFAULT_STATUSES,
    sites: Iterable[str] | None = None,
    extract: str | Path | None = None,
) -> ReviewExport:
    """Build the review questions of a screen and write them into `out_dir` (review.csv, review.xlsx)."""
    export = review_rows(screen_dir, statuses=statuses, sites=sites, extract=extract)
    export.write(out_dir)
    return export


def _patient_rows(
    patient: dict[str, object],
    facts: RegistryFacts,
    reason_of: dict[tuple[str, str], str],
    screen: ScreeningResult,
    latest_registration_days: int,
) -> list[dict[str, object]]:
    """The open items of one patient's best event, with the registry facts a nurse needs beside them."""
    patient_id = str(patient["patient_id"])
    event_id = patient["event_id"] or None
    unit = facts.unit(patient_id, event_id)
    if unit is None:
        raise UsageError(
            f"patient {patient_id}, event {event_id or '(none)'}: not found when the extract was derived again; "
            "was the extract changed after the screen?"
        )
    items = [item for c in CRITERION_IDS for item in items_for(c, str(patient[c]))]
    if not items:
        return []
    s: dt.date = unit["screening_date"]  # type: ignore[assignment]
    r: dt.date = unit["registration_date"]  # type: ignore[assignment]
    deadline = s + dt.timedelta(days=latest_registration_days) if event_id else None
    context = _context(patient, unit, facts, items)
    window_start = s - dt.timedelta(days=screen.protocol.parameters.performance_status_window_days)
    rows = []
    for item in items:
        question = item.question.format(
            line=unit["line_number"] or "(none)",
            line_start=unit["line_start"] or "(no line)",
            s=s.isoformat(),
        )
        counts = {
            "R": f"an answer dated on or before R {r} counts",
            "ps": f"an assessment dated {window_start} to {r} counts",
            "line": f"an evaluation dated after {unit['line_start']} and before {s} counts",
        }[item.window]
        registry = reason_of.get((patient_id, item.criterion), "")
        rows.append(
            {
                "patient_id": patient_id,
                "site_id": patient["site_id"],
                "event_id": event_id,
                "screening_date": s if event_id else None,
                "deadline": deadline,
                "item": item.code,
                "question": question,
                "facts": f"{context} Registry: {registry}. {counts[0].upper()}{counts[1:]}.",
                "allowed_answers": item.allowed_answers,
                "answer": None,
                "answer_date": None,
                "answered_by": None,
                "note": None,
            }
        )
    return rows


def _context(patient: dict[str, object], unit: dict[str, object], facts: RegistryFacts, items: list[Item]) -> str:
    """The screening event in one sentence or two: scan, registration date, line, lesions, status."""
    event_id = unit["event_id"]
    if event_id:
        lesions = facts.lesions_of(str(unit["patient_id"]), str(event_id))
        text = (
            f"Screening scan {event_id} on {unit['screening_date']} ({unit['modality']}); planned registration R "
            f"{unit['registration_date']}; progressing: {lesion_text(lesions)}."
        )
    else:
        text = f"No screening scan; evaluated at the cut-off {unit['screening_date']}."
    if unit["line_number"] is not None:
        text += f" Line {unit['line_number']} ({unit['line_drugs']}) from {unit['line_start']}."
    asked = {item.criterion for item in items}
    other = [f"{c} {patient[c]}" for c in CRITERION_IDS if patient[c] in ("unknown", "review") and c not in asked]
    failed = [c for c in CRITERION_IDS if patient[c] == "fail"]
    if failed:
        text += f" Status {patient['status']}: fails {', '.join(failed)}."
    if other:
        text += f" Also open, not asked here: {', '.join(other)}."
    return text


def _statuses(statuses: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(s.strip().lower() for s in statuses if s.strip()))
    unknown = [s for s in chosen if s not in STATUSES]
    if unknown or not chosen:
        raise UsageError(f"--status {','.join(statuses)}: choose from {', '.join(STATUSES)}")
    return chosen


def _sites(sites: Iterable[str] | None, screen: ScreeningResult) -> tuple[str, ...] | None:
    if sites is None:
        return None
    chosen = tuple(dict.fromkeys(s.strip() for s in sites if s.strip()))
    known = {site for (site,) in screen.typed_query("patients").select("site_id").distinct().fetchall()}
    unknown = [s for s in chosen if s not in known]
    if unknown or not chosen:
        raise UsageError(f"--site {','.join(chosen)}: not a site of the screen (sites: {', '.join(sorted(known))})")
    return chosen


def _extract_of(screen: ScreeningResult, extract: str | Path | None, screen_dir: str | Path) -> Path:
    """The extract the screen read, checked unchanged against the checksums in its manifest."""
    named = extract if extract is not None else screen.screened_source
    if not named:
        raise UsageError(f"{screen_dir}/manifest.json names no extract: give it with --extract")
    source = Path(str(named))
    if not source.exists():
        raise UsageError(
            f"the extract {source} (named in {screen_dir}/manifest.json) does not exist; give it with --extract"
        )
    changed = []
    for path, digest in screen.input_checksums.items():
        candidate = source if source.is_file() else source / Path(path).name
        if not candidate.is_file() or sha256_of(candidate) != digest:
            changed.append(Path(path).name)
    if changed:
        raise UsageError(
            f"the extract {source} is not the one screened into {screen_dir} ({', '.join(sorted(changed))} missing "
            "or changed since): screen it again, then export"
        )
    return source


def write_export(export: ReviewExport, out_dir: Path | OutputFolder) -> Path:
    """Write the review files all or nothing. An earlier export is replaced only when its files are as they were
    written (`oligo_cohort.destination`): one with answers typed in, or any other change, is refused."""
    folder = out_dir
    if not isinstance(folder, OutputFolder):
        folder = OutputFolder(out_dir, "review-export", inputs=[export.screen.source, export.extract])
    with staged_output(folder, "review-export") as staging:
        write_review_csv(export.rows, staging / REVIEW_CSV)
        write_workbook(export.rows, staging / REVIEW_XLSX, columns=REVIEW_COLUMNS, answer_columns=ANSWER_COLUMNS)
        manifest = {
            "tool": "oligo-cohort review export",
            "screen_dir": str(Path(export.screen.source)),
            "extract": export.extract,
            "as_of": export.screen.as_of.isoformat(),
            "protocol": {"name": export.screen.protocol.name, "version": export.screen.protocol.version},
            "statuses": list(export.statuses),
            "sites": list(export.sites) if export.sites is not None else None,
            **export.summary(),
            "files": {name: sha256_of(staging / name) for name in (REVIEW_CSV, REVIEW_XLSX)},
        }
        (staging / EXPORT_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return folder.requested


def write_review_csv(rows: pd.DataFrame, path: str | Path) -> None:
    """The rows as CSV, through the one CSV writer: dates in ISO form, every text cell formula-safe."""
    text = [[_csv_cell(value) for value in record] for record in rows[list(REVIEW_COLUMNS)].itertuples(index=False)]
    write_csv(pd.DataFrame(text, columns=list(REVIEW_COLUMNS), dtype=object), Path(path))


def _csv_cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
