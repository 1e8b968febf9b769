"""A flat file — delimited text or Parquet — as a table of text: what the NKR adapter and a side folder read.

Every value is text or None, column names are lower case, `_row` numbers the data rows (1 = the first). The
reading never guesses around damage: a row with more or fewer fields than the header, a column named twice or a
NUL byte is a problem naming file, column, row and value. It accepts what registries' exports commonly do: `,`
`;` tab or `|` as the delimiter (the one the header uses most), a delimiter closing every row, Latin-1 text.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from oligo_cohort.errors import UsageError
from oligo_cohort.importers.common import ROW, SourceProblems, names_unique, nul_bytes

Record = tuple[int, list[str | None]]  # a data row's number (1 = the first) and its values as text


def read_flat_file(file: Path, problems: SourceProblems, notes: list[str]) -> pd.DataFrame:
    """The file's rows as text with lower-case column names and `_row` (CSV with , ; tab or |, or Parquet).

    What makes rows unreadable — a column named twice, a row with more or fewer fields than the header, a NUL
    byte — is added to `problems`, each naming the file, column, row and value; how the file was read (Latin-1,
    a delimiter closing every row) to `notes`. A file that cannot be read at all is a UsageError.
    """
    if file.suffix.lower() == ".parquet":
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
    raw = file.read_bytes()
    if not raw.strip():
        raise UsageError(f"{file} is empty (not even a header line)")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise UsageError(f"{file} is UTF-16 text (Excel's 'Unicode text'): save it as UTF-8 CSV")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Registry exports from Windows systems are often Latin-1/cp1252; every byte decodes in Latin-1.
        text = raw.decode("latin-1")
        notes.append(f"{file.name} is not UTF-8 (first bad byte at offset {exc.start}): read as Latin-1")
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t", "|"), key=lambda d: (first.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = [row for row in reader if row]  # blank lines are not rows
    except csv.Error as exc:
        raise UsageError(f"{file} cannot be read as a delimited file (line {reader.line_num}: {exc})") from None
    if not rows:
        raise UsageError(f"{file} is empty (not even a header line)")
    header, data = rows[0], rows[1:]
    width = len(header)
    if data and all(len(row) == width + 1 and not row[-1].strip() for row in data):
        data = [row[:-1] for row in data]  # a delimiter closing every data row: no column of its own
        notes.append(f"{file.name}: every row ends with a delimiter; the empty last field is not a column")
    if header and not header[-1].strip() and all(len(row) == width and not row[-1].strip() for row in data):
        header, data = header[:-1], [row[:-1] for row in data]  # the header closed by a delimiter too
        width -= 1
    records: list[Record] = []
    for number, row in enumerate(data, start=1):
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
