"""The end of every import: add side files, validate the canonical tables, write them atomically with the report.

The imported tables are validated exactly as `oligo-cohort validate` would
validate the folder (the same loader), before anything is written. The
folder is written through `oligo_cohort.destination` (a temporary folder beside
the destination, renamed into place only when complete; only an earlier import
is ever replaced) and every CSV file through `oligo_cohort.csv_output`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from oligo_cohort.csv_output import write_csv
from oligo_cohort.destination import OutputFolder, staged_output
from oligo_cohort.dictionary import tables
from oligo_cohort.errors import InputError, UsageError
from oligo_cohort.importers.common import ROW, SourceProblems, canonical_columns, empty_frame
from oligo_cohort.importers.flat_files import read_flat_file
from oligo_cohort.importers.report import REPORT_CSV, REPORT_MD, MappingReport

# Canonical tables a side folder (--imaging DIR) may add: registries rarely hold them.
SIDE_TABLES = ("imaging", "lesions", "observations")
# A side table saved in a form the reader does not take: refused, never skipped (the table would be silently empty).
UNREAD_FORMATS = ("tsv", "txt", "xlsx", "xls", "json", "feather", "arrow")
UNREAD_PACKINGS = (".gz", ".zip", ".bz2", ".xz", ".zst")


@dataclass
class ImportResult:
    """A canonical extract built from another model, with its mapping report."""

    tables: dict[str, pd.DataFrame]
    report: MappingReport

    def write(self, out_dir: str | Path | OutputFolder) -> Path:
        """Write `<table>.csv` per table plus mapping_report.md/.csv into `out_dir`, atomically."""
        return write_extract(self, out_dir)


def finish_import(frames: dict[str, pd.DataFrame], report: MappingReport, side: str | Path | None) -> ImportResult:
    """Add the side tables, fill absent required tables, validate, and complete the report."""
    if side is not None:
        side_tables, notes = read_side_folder(Path(side))
        for note in notes:
            report.note(note)
        for name, frame in side_tables.items():
            frames[name] = frame
            report.read(f"{name} (side file)", len(frame))
            for column in canonical_columns(name):
                report.source_of(name, column, f"side file {name}.{column}")
    missing = [name for name, table in tables().items() if table.required and name not in frames]
    for name in missing:
        frames[name] = empty_frame(name)
    if {"imaging", "lesions"} & set(missing):
        report.note(
            f"{' and '.join(n for n in ('imaging', 'lesions') if n in missing)}: the source holds no imaging studies "
            "or lesion measurements, so the table is empty; no patient has a candidate event and the imaging "
            "criteria fail. Give them in the canonical format with --imaging DIR."
        )
    ordered = {name: frames[name] for name in tables() if name in frames}
    report.finish(ordered)
    _validate(ordered, report)
    return ImportResult(ordered, report)


def read_side_folder(folder: Path) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Canonical imaging/lesions/observations tables given beside the source (CSV or Parquet), read as the NKR
    file is (`flat_files`); and notes on how they were read. Unreadable rows raise InputError."""
    if not folder.is_dir():
        raise UsageError(f"--imaging {folder} is not a folder")
    files: dict[str, Path] = {}
    for file in sorted(folder.iterdir()):
        stem, _, suffix = file.name.lower().partition(".")
        if stem not in SIDE_TABLES:
            continue
        if suffix not in ("csv", "parquet"):
            if suffix.split(".")[0] in UNREAD_FORMATS or suffix.endswith(UNREAD_PACKINGS):
                raise UsageError(
                    f"--imaging {folder}: {file.name} is not read (only {stem}.csv or {stem}.parquet is): "
                    f"save it as {stem}.csv"
                )
            continue  # a copy kept beside it (imaging.csv.bak)
        if stem in files:  # before either is read: which one holds the table cannot be known
            raise UsageError(f"--imaging {folder}: {stem} is given more than once ({files[stem].name}, {file.name})")
        files[stem] = file  # a table's name that is not a file (a folder, a FIFO, a broken link) is named by the reader
    found: dict[str, pd.DataFrame] = {}
    problems = SourceProblems()
    notes: list[str] = []
    for stem, file in files.items():
        found[stem] = read_flat_file(file, problems, notes).drop(columns=ROW)
    if problems:
        raise InputError(problems.items)
    if not found:
        raise UsageError(f"--imaging {folder} holds none of {', '.join(f'{t}.csv' for t in SIDE_TABLES)}")
    return found, notes


def _validate(frames: dict[str, pd.DataFrame], report: MappingReport) -> None:
    """Validate the canonical tables as the screen would; fatal problems raise InputError.

    The cut-off is the day of the import: no plausible date lies after it, so it drops nothing the extract's own
    latest date would keep, and an extract holding no date but birth dates (a source with persons only) is
    validated too; the screen, not the import, asks for a cut-off then.
    """
    from oligo_cohort.load import load_extract

    loaded = load_extract(frames, as_of=dt.date.today())
    report.findings = [finding.describe() for finding in loaded.findings]
    loaded.con.close()


def write_extract(result: ImportResult, out_dir: str | Path | OutputFolder) -> Path:
    """Write the extract folder atomically; refuse to replace a folder that is not an earlier import."""
    known = tables()
    with staged_output(out_dir, "import", inputs=[result.report.source]) as staging:
        for name, frame in result.tables.items():
            # Numbers, dates and flags have been validated: they are written as they are; text is made inert.
            typed = [c.name for c in known[name].columns if c.type in ("number", "integer", "date", "boolean")]
            write_csv(frame, staging / f"{name}.csv", number_columns=typed)
        (staging / REPORT_MD).write_text(result.report.to_markdown(), encoding="utf-8")
        (staging / REPORT_CSV).write_text(result.report.to_csv(), encoding="utf-8")
    return out_dir.requested if isinstance(out_dir, OutputFolder) else Path(out_dir)
