"""A flat file — delimited text or Parquet — as a table of text: what the NKR adapter and a side folder read.

Every value is text or None, column names are lower case, `_row` numbers the data rows (1 = the first; blank
lines are not rows, but are counted, as in the extract's readers). The file is read by the rules of every file a
user gives (`oligo_cohort.user_files`): a folder, FIFO or broken link is named, never opened; UTF-16 is refused;
a quote left open is named by its line. The reading never guesses around damage: a row with more or fewer fields
than the header, a column named twice, a NUL byte, or a Parquet column holding several values per cell (a list,
a struct, a map: in the words the extract's readers use) is a problem naming file, column, row and value. It
accepts what registries' exports commonly do: `,` `;` tab or `|` as the delimiter (the one the header uses
most), a delimiter closing every row, Latin-1 text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from oligo_cohort.column_names import model_name
from oligo_cohort.errors import UsageError
from oligo_cohort.importers.common import ROW, SourceProblems, names_unique, nul_bytes
from oligo_cohort.sources.text_tables import nested_cells
from oligo_cohort.user_files import UserFileProblem, file_bytes, read_delimited

Record = tuple[int, list[str | None]]  # a data row's number (1 = the first) and its values as text


def read_flat_file(file: Path, problems: SourceProblems, notes: list[str]) -> pd.DataFrame:
    """The file's rows as text with lower-case column names and `_row` (CSV with , ; tab or |, or Parquet).

    What makes rows unreadable — a column named twice, a row with more or fewer fields than the header, a NUL
    byte — is added to `problems`, each naming the file, column, row and value; how the file was read (Latin-1,
    a delimiter closing every row) to `notes`. A file that cannot be read at all is a UsageError.
    """
    try:
        file_bytes(file, size=0)  # what the path is: a FIFO is never opened
    except UserFileProblem as exc:
        raise UsageError(f"{file}: {exc.reason}") from None
    if file.suffix.lower() == ".parquet":
        nested = _nested_columns(file)
        for column, problem in nested:
            problems.add(file.name, column, None, None, str(problem))
        if nested:
            return _as_frame(file.name, [], [], problems)
        try:
            frame = pd.read_parquet(file).astype("string")
        except Exception as exc:  # pyarrow raises many kinds for damaged or unusual files: all mean unreadable
            why = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise UsageError(f"{file} cannot be read as Parquet ({why})") from None
        names = [str(c) for c in frame.columns]
        records = [
            (number, [_text(v) for v in row])
            for number, row in enumerate(frame.itertuples(index=False, name=None), start=1)
        ]
    else:
        names, records = _read_delimited(file, problems, notes)
    return _as_frame(file.name, names, records, problems)


def _read_delimited(file: Path, problems: SourceProblems, notes: list[str]) -> tuple[list[str], list[Record]]:
    """Header and rows of a delimited text file (UTF-8, else Latin-1), a trailing delimiter on every row dropped."""
    try:
        read = read_delimited(file, latin1=True)
    except UserFileProblem as exc:
        raise UsageError(f"{file}: {exc.reason}") from None
    notes += [f"{file.name} is {note}" for note in read.notes]
    header, delimiter = read.header, read.delimiter
    data = [(record.number, record.fields) for record in read.records]
    width = len(header)
    if data and all(len(row) == width + 1 and not row[-1].strip() for _, row in data):
        data = [(number, row[:-1]) for number, row in data]  # a delimiter closing every data row: no column of its own
        notes.append(f"{file.name}: every row ends with a delimiter; the empty last field is not a column")
    if header and not header[-1].strip() and all(len(row) == width and not row[-1].strip() for _, row in data):
        header, data = header[:-1], [(number, row[:-1]) for number, row in data]  # the header closed by one too
        width -= 1
    records: list[Record] = []
    for number, row in data:
        if len(row) != width:
            missing = header[len(row)].strip().lower() if len(row) < width else None
            problems.add(
                file.name,
                missing,
                number,
                delimiter.join(row),
                f"the row has {len(row)} fields where the header has {width}",
            )
            continue
        records.append((number, [_text(v) for v in row]))
    return header, records


def _nested_columns(file: Path) -> list[tuple[str, Exception]]:
    """The columns of a Parquet file holding several values per cell, each with the refusal the extract's readers
    give (`sources.text_tables.nested_cells`); none when the footer cannot be read (reading then says why)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(file)
    except Exception:  # pyarrow raises many kinds for a damaged file: reading it names the damage
        return []
    return [
        (model_name(field.name), nested_cells(field.name, str(field.type)))
        for field in schema
        if pa.types.is_nested(field.type)
    ]


def _as_frame(table: str, names: list[str], records: list[Record], problems: SourceProblems) -> pd.DataFrame:
    """The records as a frame of text with lower-case names and `_row`; a name given twice is a problem."""
    columns = [str(c).replace("\ufeff", "").strip().lower() for c in names]
    names_unique(table, columns, problems)
    unique = list(dict.fromkeys(c for c in columns if c))
    keep = [columns.index(c) for c in unique]
    frame = pd.DataFrame(
        {c: pd.Series([r[k] for _, r in records], dtype=object) for c, k in zip(unique, keep, strict=True)},
        columns=unique,
    )
    frame[ROW] = pd.Series([number for number, _ in records], dtype="int64")
    nul_bytes(table, frame, unique, problems)
    return frame


def _text(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None
