"""A folder of CSV and Parquet files, one file per table of the model, each read by its own reader."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from oligo_cohort.database import close, connect
from oligo_cohort.dictionary import tables
from oligo_cohort.errors import UsageError
from oligo_cohort.file_kinds import NOT_FILES, UnreadableError, file_kind, with_article
from oligo_cohort.problems import Problem
from oligo_cohort.sources.csv_files import read_csv_file, without_inert_marks
from oligo_cohort.sources.parquet_files import parquet_table
from oligo_cohort.sources.text_tables import NOT_A_TABLE_FILE, RawExtract, RawTable

if TYPE_CHECKING:
    from oligo_cohort.destination import Marker

# Extracts this tool writes (`import`, `review import`): their CSV tables went through the one CSV writer, which
# marks formula-like text inert with a leading apostrophe; read back, the apostrophe comes off again, so an id
# such as `-00107` is the same id in every table and in every screen of the extract. The marker says so, and is
# written before such a folder is checked (`staged_output(check=...)`), so the check reads it as every later
# reader does.
TOOL_EXTRACTS = ("import", "reviewed-extract")


def tool_extract_marker(folder: Path) -> Marker | None:
    """The marker of `folder` when it is an extract this tool wrote (its CSV tables carry the writer's inert
    mark), else None."""
    from oligo_cohort.destination import Marker

    marker = Marker.read(folder)
    return marker if marker is not None and marker.kind in TOOL_EXTRACTS else None


def written_by_tool(folder: Path) -> bool:
    """Whether `folder` is an extract this tool wrote: its CSV tables carry the writer's inert mark."""
    return tool_extract_marker(folder) is not None


def _refuse_other_outputs(folder: Path) -> None:
    """A folder another command of this tool wrote (a screen result, a report, attrition tables...) is no extract:
    read as one, a screen result's patients.csv was taken for the patients table and the rest named missing
    ("tumours: required table is missing"), which sent the user looking for tables that were never there."""
    from oligo_cohort.destination.markers import EXTRACT_WRITERS, Marker, what_was_written

    marker = Marker.read(folder)
    if marker is None or marker.kind in EXTRACT_WRITERS:
        return
    if marker.kind == "screen":
        instead = "give the extract it screened (its manifest.json names the files it read)"
    else:
        instead = "give an extract: a folder of one <table>.csv or <table>.parquet per table, or a DuckDB file"
    raise UsageError(f"{folder} is not an extract: it is {what_was_written(marker)}; {instead}")


def read_folder(folder: Path, con: duckdb.DuckDBPyConnection | None = None) -> RawExtract:
    """Every table of the model in `folder`, each file read by the reader of its kind (Parquet footers on `con`,
    or on a connection of their own)."""
    known = tables()
    by_table: dict[str, list[Path]] = {}
    problems: list[Problem] = []
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise UsageError(f"the extract folder {folder} cannot be read ({exc.strerror})") from None
    _refuse_other_outputs(folder)
    marker = tool_extract_marker(folder)
    for file in entries:
        stem, suffix = file.stem.lower(), file.suffix.lower()
        if file.name.startswith(".") or suffix not in (".csv", ".parquet"):
            continue
        if marker is not None and stem not in known and file.name in marker.entries:
            continue  # the tool's own report beside the tables (mapping_report.csv, review_audit.csv)
        if stem not in known:
            problems.append(Problem("finding", stem, None, None, None, file.name, NOT_A_TABLE_FILE))
            continue
        kind = file_kind(file)
        if kind in ("folder", "missing", *NOT_FILES) or kind.startswith("unreadable"):
            # Named like a table yet no file to read: never skipped in silence, and a FIFO is never opened.
            problems.append(Problem("fatal", stem, None, None, None, file.name, f"{with_article(kind)}, not a file"))
            continue
        by_table.setdefault(stem, []).append(file)
    found: dict[str, RawTable] = {}
    files: list[Path] = []
    footers = con  # one connection reads every Parquet file's footer
    try:
        for name, candidates in by_table.items():
            if len(candidates) > 1:
                names = ", ".join(c.name for c in candidates)
                problems.append(Problem("fatal", name, None, None, None, names, "the table is given more than once"))
                continue
            file = candidates[0]
            files.append(file)
            notes: list[str] = []
            try:
                if file.suffix.lower() == ".csv":
                    text = read_csv_file(file, notes)
                    table = RawTable(name, str(file), without_inert_marks(text) if marker is not None else text)
                else:
                    if footers is None:
                        footers = connect()
                    table = parquet_table(name, file, footers, problems)
            except UnreadableError as exc:
                problems.append(Problem("fatal", name, None, None, None, file.name, str(exc)))
                continue
            problems += [Problem("finding", name, None, None, None, file.name, note) for note in notes]
            found[name] = table
    finally:
        if footers is not None and footers is not con:
            close(footers)
    return RawExtract(found, problems, str(folder), tuple(files))
