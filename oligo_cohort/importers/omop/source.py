"""Reading an OMOP CDM v5.4 source: a folder of CSV/Parquet tables (any letter case) or a DuckDB database.

Every table is exposed as a DuckDB view whose columns are text with
lower-case names, plus `_row`, the record's 1-based row number in its file or
table (for messages). Clinical tables are fetched into pandas with only the
columns the mapping uses; the vocabulary (`concept`, `concept_ancestor`) is
queried only for the concept ids the clinical rows hold, so a full Athena
vocabulary is never loaded into memory. The source is only read: a CSV table
that is not UTF-8 is read from a UTF-8 copy in the run's private temporary
folder (`_utf8_copy`), which goes with the source's connection.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import duckdb
import pandas as pd

from oligo_cohort.column_names import HEADER_REPEATED, header_hint_sql, header_repeat_sql
from oligo_cohort.database import close, connect, spill_folder
from oligo_cohort.errors import UsageError
from oligo_cohort.file_kinds import (
    BINARY_FILE,
    NUL_FILE,
    SAMPLE_BYTES,
    content_kind,
    file_kind,
    read_regular,
    with_article,
)
from oligo_cohort.importers.common import ROW, SourceProblems, names_unique, nul_bytes
from oligo_cohort.sources.text_tables import nested_cells
from oligo_cohort.sql_text import identifier, literal
from oligo_cohort.user_files import (
    LINE_END_BYTES,
    SNIFFED_RECORDS,
    UserFileProblem,
    decode_text,
    delimiter_of,
    file_bytes,
    first_line,
    line_ends_in,
    not_utf8_note,
    read_not_utf8,
)

DUCKDB_SUFFIXES = (".duckdb", ".db", ".ddb")

# The OMOP tables the adapter reads, with the columns each must have when present.
OMOP_TABLES: dict[str, tuple[str, ...]] = {
    "person": ("person_id",),
    "death": ("person_id", "death_date"),
    "care_site": ("care_site_id",),
    "location": ("location_id",),
    "observation_period": ("person_id", "observation_period_end_date"),
    "condition_occurrence": ("person_id", "condition_start_date"),
    "measurement": ("person_id", "measurement_date"),
    "observation": ("person_id", "observation_date"),
    "drug_exposure": ("person_id", "drug_exposure_start_date"),
    "episode": ("person_id", "episode_start_date"),
    "episode_event": ("episode_id", "event_id"),
    "concept": ("concept_id", "concept_name", "vocabulary_id", "concept_code"),
    "concept_ancestor": ("ancestor_concept_id", "descendant_concept_id"),
}
_ID = "regexp_replace(trim({}), '\\.0*$', '')"  # concept ids as text, 10.0 read as 10
CONCEPT_COLUMNS = ("concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id", "concept_code")


class OmopSource:
    """An opened OMOP source: which tables it has and their rows as text. Its connection's private folder holds
    the UTF-8 copies of the tables that are not UTF-8 (`_utf8_copy`): `close` removes it."""

    def __init__(self, origin: str, problems: SourceProblems) -> None:
        self.origin = origin
        self.problems = problems  # where a damaged value found while reading is reported
        self.con = connect()
        self.origins: dict[str, str] = {}
        self.columns: dict[str, list[str]] = {}
        self.nested: dict[str, dict[str, str]] = {}  # per table: columns holding several values per cell, their type
        self.refused: set[tuple[str, str]] = set()  # (table, column) of the nested columns named so far
        self.files: list[Path] = []
        self.notes: list[str] = []  # how the source was read, for the mapping report
        self.repeated: dict[str, int] = {}  # per table read: rows repeating another row exactly (read once)

    def has(self, table: str) -> bool:
        return table in self.columns

    def count(self, table: str) -> int:
        if not self.has(table):
            return 0
        return int(self._rows(f"SELECT count(*) FROM {identifier('src_' + table)}")[0][0])

    def frame(self, table: str, columns: Iterable[str]) -> pd.DataFrame:
        """The table's rows with these columns (absent ones all missing) and `_row`; values text or None."""
        wanted = list(dict.fromkeys(columns))
        nested = self.nested.get(table, {})
        for column in wanted:
            if column in nested and (table, column) not in self.refused:  # as text, `[1, 2]` would pass for one value
                self.refused.add((table, column))
                self.problems.add(table, column, None, None, str(nested_cells(column, nested[column])))
        present = set(self.columns.get(table, ())) - set(nested)
        select = [(identifier(c) if c in present else f"CAST(NULL AS VARCHAR) AS {identifier(c)}") for c in wanted]
        order = [f"{identifier(c)} NULLS FIRST" for c in wanted if c in present]
        # A row repeated exactly (every column, read or not) is one record, named by its first row; the rows come
        # ordered by the values read, so that which record a mapping meets first never depends on where it stands.
        source = f"SELECT * EXCLUDE ({identifier(ROW)}), min({identifier(ROW)}) AS {identifier(ROW)} FROM "
        source += f"{identifier('src_' + table)} GROUP BY ALL"
        sql = f"SELECT {', '.join([*select, identifier(ROW)])} FROM ({source}) ORDER BY {', '.join([*order, identifier(ROW)])}"
        frame = self._fetch(sql, [*wanted, ROW])
        if table not in self.repeated:
            self.repeated[table] = self.count(table) - len(frame)
        nul_bytes(table, frame, wanted, self.problems)
        return frame

    def rejected_rows(
        self, table: str, rejects: str, header: list[str]
    ) -> tuple[list[tuple[int, str | None, str, str, str]], list[int]]:
        """Read every value of a CSV-backed table once; the rows DuckDB rejected (line, column, text, error, why),
        and the rows repeating the `header` (`column_names.repeats_header`: files joined end to end).

        Every column is read (hashed), since a scan reading fewer columns would not see their errors; the
        import stops on any rejected row, so that no later read can drop a row unnoticed. The same scan counts
        the records that may repeat the header (`header_hint_sql`: next to nothing); only when there are some are
        they compared field by field. A file DuckDB cannot read to the end raises duckdb.Error.
        """
        view = identifier("src_" + table)
        columns = ", ".join(identifier(c) for c in self.columns[table])
        hint = header_hint_sql(self.columns[table], header)
        _, _, hinted = self.con.execute(
            f"SELECT count(*), bit_xor(hash({columns})), count(*) FILTER (WHERE {hint}) FROM {view}"
        ).fetchall()[0]
        repeated = []
        if hinted:
            repeat = header_repeat_sql(self.columns[table], header)
            found = self.con.execute(
                f"SELECT {identifier(ROW)} FROM {view} WHERE {hint} AND {repeat} ORDER BY 1 LIMIT {MAX_REJECTS}"
            )
            repeated = [int(row) for (row,) in found.fetchall()]
        rows = self.con.execute(
            f"SELECT DISTINCT line, column_name, csv_line, error_type, error_message, column_idx "
            f"FROM {identifier(rejects)} ORDER BY line, column_idx"
        ).fetchall()
        rejected = [
            (int(line), None if c is None else str(c).lower(), str(t).rstrip("\r\n"), e, m)
            for line, c, t, e, m, _ in rows
        ]
        return rejected, repeated

    def _rows(self, sql: str) -> list[tuple]:
        """The rows of a query on the source; a source DuckDB cannot read to the end (a damaged file) is refused."""
        try:
            return self.con.execute(sql).fetchall()
        except duckdb.Error as exc:
            raise UsageError(f"{self.origin} cannot be read ({str(exc).splitlines()[0]})") from None

    def _fetch(self, sql: str, columns: list[str]) -> pd.DataFrame:
        rows = self._rows(sql)
        data = {}
        for i, name in enumerate(columns):
            if name == ROW:
                data[name] = pd.Series([int(r[i]) for r in rows], dtype="int64")
            else:
                identifier = name.endswith("_id")
                data[name] = pd.Series([_clean(r[i], identifier=identifier) for r in rows], dtype=object)
        return pd.DataFrame(data, columns=columns)

    def concepts(self, ids: Iterable[object]) -> pd.DataFrame:
        """concept rows for these concept ids (text), empty when the source has no concept table."""
        if not self.has("concept") or not self._wanted(ids):
            return pd.DataFrame(columns=list(CONCEPT_COLUMNS))
        return self._fetch(
            f"SELECT {self._concept_columns()} FROM src_concept AS c "
            f"JOIN wanted_ids AS w ON {_ID.format('c.concept_id')} = w.id ORDER BY ALL NULLS FIRST",
            list(CONCEPT_COLUMNS),
        )

    def ancestors(self, ids: Iterable[object]) -> pd.DataFrame:
        """Ingredient and ATC ancestors of these drug concepts (descendant_concept_id + the ancestor's concept)."""
        columns = ["descendant_concept_id", *CONCEPT_COLUMNS]
        if not (self.has("concept") and self.has("concept_ancestor")) or not self._wanted(ids):
            return pd.DataFrame(columns=columns)
        class_filter = (
            "lower(c.concept_class_id) = 'ingredient' OR upper(c.vocabulary_id) = 'ATC'"
            if "concept_class_id" in self.columns["concept"]
            else "upper(c.vocabulary_id) = 'ATC'"
        )
        return self._fetch(
            f"SELECT a.descendant_concept_id, {self._concept_columns()} FROM src_concept_ancestor AS a "
            f"JOIN wanted_ids AS w ON {_ID.format('a.descendant_concept_id')} = w.id "
            f"JOIN src_concept AS c ON {_ID.format('c.concept_id')} = {_ID.format('a.ancestor_concept_id')} "
            f"WHERE {class_filter} ORDER BY ALL NULLS FIRST",
            columns,
        )

    def _wanted(self, ids: Iterable[object]) -> bool:
        """Fill the temporary table `wanted_ids` with these concept ids (0 and empty left out); False when none."""
        keys = sorted({str(i) for i in ids if i not in (None, "", "0")})
        if not keys:
            return False
        self.con.execute("CREATE OR REPLACE TEMP TABLE wanted_ids (id VARCHAR)")
        self.con.executemany("INSERT INTO wanted_ids VALUES (?)", [(k,) for k in keys])
        return True

    def _concept_columns(self) -> str:
        """The select list of `concept` (alias c): every column of CONCEPT_COLUMNS, NULL where the source lacks it."""
        present = self.columns["concept"]
        return ", ".join(f"c.{identifier(c)}" if c in present else f"NULL AS {identifier(c)}" for c in CONCEPT_COLUMNS)

    def close(self) -> None:
        close(self.con)


class Concepts:
    """concept rows by id (text), fetched from the source on demand and kept for the rest of the import."""

    def __init__(self, source: OmopSource) -> None:
        self.source = source
        self.rows: dict[str, dict[str, str | None]] = {}

    def load(self, ids: Iterable[object]) -> None:
        """Fetch the rows of these concept ids not fetched yet (an id the source lacks reads as an empty row)."""
        wanted = {str(i) for i in ids if i is not None} - set(self.rows)
        if not wanted:
            return
        for record in self.source.concepts(wanted).to_dict("records"):  # an id given twice: its first row by value
            self.rows.setdefault(str(record["concept_id"]), record)
        for key in wanted:
            self.rows.setdefault(key, {})

    def get(self, concept_id: object) -> dict[str, str | None]:
        """The concept row of a loaded id; empty for None or an unknown id."""
        return self.rows.get(str(concept_id), {}) if concept_id is not None else {}


_WHOLE = re.compile(r"^(-?\d+)\.0*$")


def _clean(value: object, *, identifier: bool) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    if not text:
        return None
    if identifier:  # ids written by a tool that read them as floats: 10.0 is 10
        match = _WHOLE.match(text)
        if match:
            return match.group(1)
    return text


def open_omop(path: str | Path, problems: SourceProblems) -> OmopSource:
    """Open a folder of OMOP tables or a DuckDB database; missing required columns are problems. Whatever stops
    the opening (a refusal, Ctrl-C), the source is closed, and its private folder removed, before it goes on."""
    location = Path(path)
    folder = location.is_dir()
    if not folder and location.is_file() and location.suffix.lower() not in DUCKDB_SUFFIXES:
        raise UsageError(
            f"{location} is a file; give the folder holding the OMOP tables (CSV or Parquet) or a DuckDB "
            f"database file ({', '.join(DUCKDB_SUFFIXES)})"
        )
    if not folder and not location.is_file():  # missing, or a FIFO, socket, broken link: named, never opened
        kind = file_kind(location)
        raise UsageError(
            f"OMOP source {location} does not exist"
            if kind == "missing"
            else f"OMOP source {location} is {with_article(kind)}: give a folder or a DuckDB database file"
        )
    source = OmopSource(str(location), problems)
    try:
        (_open_folder if folder else _open_duckdb)(source, location, problems)
        if not source.has("person") and not problems:
            raise UsageError(f"{location} holds no OMOP person table (person.csv, PERSON.parquet, ...)")
    except BaseException:
        source.close()
        raise
    for table, required in OMOP_TABLES.items():
        if not source.has(table):
            continue
        for column in required:
            if column not in source.columns[table]:
                problems.add(table, column, None, None, f"required column missing from {source.origins[table]}")
    return source


_SUFFIXES = (".csv.gz", ".csv", ".tsv", ".txt", ".parquet")


def _open_folder(source: OmopSource, folder: Path, problems: SourceProblems) -> None:
    found: dict[str, Path] = {}
    for file in sorted(folder.iterdir()):
        if file.name.startswith("."):
            continue
        lower = file.name.lower()
        suffix = next((s for s in _SUFFIXES if lower.endswith(s)), None)
        if suffix is None:
            continue
        table = lower[: -len(suffix)]
        if table not in OMOP_TABLES:
            continue
        try:
            file_bytes(file, size=0)  # a table's name on a folder, FIFO or broken link: named, never skipped
        except UserFileProblem as exc:
            raise UsageError(f"{file}: {exc.reason}") from None
        if table in found:
            raise UsageError(f"{folder}: the OMOP table {table} is given twice ({found[table].name}, {file.name})")
        found[table] = file
    for table, file in found.items():
        if file.name.lower().endswith(".parquet"):
            _create_view(source, table, f"read_parquet({literal(str(file))})", str(file), problems)
        else:
            _open_csv(source, table, file, problems)
        source.files.append(file)


def _open_csv(source: OmopSource, table: str, file: Path, problems: SourceProblems) -> None:
    """A CSV table as a view, every row checked: a row DuckDB cannot read (fewer or more fields than the
    header, an unclosed quote) is a problem naming its row, column and text; a delimiter closing every row is no
    column of its own. A table that is not UTF-8 is read as every such file a user gives is (Windows-1252, else
    Latin-1: docs/decisions.md D81), from a UTF-8 copy DuckDB reads instead (`_utf8_copy`), with a note: copied
    before DuckDB reads it when its first bytes show it, else once DuckDB finds a row that is not UTF-8. A UTF-8
    table, the common case, is read as it is, once."""
    try:
        head = _text_head(file)
        first = _FirstNotUtf8()
        first.read(head)
        text = file if first.line is None else _utf8_copy(source, table, file, found=first.line)
        read = _read_csv(source, table, file, text, problems, head if text == file else None)  # a copy's own head
        if read is not None and text == file:
            found = next((line for line, *_, error, _ in read[0] if error == "INVALID ENCODING"), None)
            if found is not None:
                text = _utf8_copy(source, table, file, found=found)
                read = _read_csv(source, table, file, text, problems)
    except UserFileProblem as exc:
        raise UsageError(f"{file}: {exc.reason}") from None
    if read is None:
        return
    rows, repeated, blank = read
    reported: set[int] = set()
    for line, column, value, error, message in rows:
        if line not in reported:  # DuckDB lists a short row once per missing column: the first says it
            reported.add(line)
            problems.add(
                table, column, line - 1 - blank, value, REJECTED.get(error, "the row cannot be read") + f" ({message})"
            )
    for row in repeated:  # two exports joined end to end: the second one's header is no record
        problems.add(table, None, row, None, HEADER_REPEATED)


Rejected = tuple[int, str | None, str, str, str]  # a row DuckDB rejected: line, column, text, error, why


def _read_csv(
    source: OmopSource, table: str, file: Path, text: Path, problems: SourceProblems, head: bytes | None = None
) -> tuple[list[Rejected], list[int], int] | None:
    """Make `text`, the table's file or its UTF-8 copy (`head`: its first bytes, read if not given), the view of
    `table` and read every value once (`OmopSource.rejected_rows`): the rows DuckDB rejected, the rows repeating
    the header and the number of blank lines before the header; None when the header names a column twice. What
    DuckDB cannot read at all is refused naming `file`, the user's, and its line."""
    if head is None:
        head = read_regular(text, _HEAD_BYTES)
    # Blank lines before the header are no header (DuckDB would take the first line for it, and read the header
    # as a record): skipped, as every user file's are; rows are still counted from the header.
    # Lines end in CR LF, LF or CR alone, as DuckDB ends them (a table of the classic Mac has no LF at all).
    lines = LINE_END_BYTES.split(head)
    blank = next(k for k, line in enumerate(lines) if line.removeprefix(codecs.BOM_UTF8).strip())
    head = b"\n".join(lines[blank:])
    delimiter = _sniff_delimiter(head)
    header, first_row = _first_records(head, delimiter)
    names = [n.replace("\ufeff", "").strip().lower() or f"column{i}" for i, n in enumerate(header, start=1)]
    if first_row is not None and len(first_row) == len(names) + 1 and not first_row[-1].strip():
        names.append("_trailing_delimiter")  # every row ends with a delimiter: an empty last field
        header = [*header, ""]
    if not names_unique(table, names, problems):
        return None
    rejects = f"rejects_{table}" if text == file else f"rejects_{table}_copy"
    columns = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"
    quote = "'\"'" if delimiter != "\t" else "''"
    reader = (
        f"read_csv({literal(str(text))}, columns = {columns}, auto_detect = false, header = true, "
        f"delim = {literal(delimiter)}, quote = {quote}, escape = {quote}, encoding = 'utf-8', "
        f"store_rejects = true, rejects_table = {literal(rejects)}, rejects_scan = {literal(rejects + '_scan')}, "
        f"rejects_limit = {MAX_REJECTS}{f', skip = {blank}' if blank else ''})"
    )
    _create_view(source, table, reader, str(file), problems)
    try:
        rows, repeated = source.rejected_rows(table, rejects, header)
    except duckdb.Error as exc:  # DuckDB's words name no line: lines ending unlike the first are named
        why = _unreadable(text) or f"cannot be read ({str(exc).splitlines()[0]})"
        raise UsageError(f"{file}: {why}") from None
    return rows, repeated, blank


def _utf8_copy(source: OmopSource, table: str, file: Path, *, found: int) -> Path:
    """A UTF-8 copy of a table that is not UTF-8, for DuckDB, which has no Windows-1252, to read: the table read
    as every such file a user gives is (`user_files.read_not_utf8`: Windows-1252, else Latin-1), with a note in
    their words naming the encoding and the first line that is not UTF-8 (`found`, where the head or DuckDB
    found it, should the copy find none).

    The copy is written block by block (a table of gigabytes, or packed in gzip, is never held in memory) into the
    private folder of the source's connection (`database.spill_folder`: mode 0700, removed with the connection, as
    the import ends, is refused or interrupted), never beside the table, which is only read. Every byte below 0x80
    is copied as it is, and no other becomes one: the copy's lines, their ends and the blank lines before its
    header are the table's, so every line and row a problem names is the table's. A byte-order mark stays one.
    """
    copy = spill_folder(source.con) / f"{table}.csv"

    def copied(codec: str) -> int | None:
        first = _FirstNotUtf8()
        try:
            with copy.open("wb") as out:
                for at, block in enumerate(_blocks(file)):
                    first.read(block)
                    if at == 0 and block.startswith(codecs.BOM_UTF8):
                        out.write(codecs.BOM_UTF8)
                        block = block[len(codecs.BOM_UTF8) :]
                    out.write(block.decode(codec).encode("utf-8"))
        except OSError as exc:  # the table's own read errors are UserFileProblems (`_blocks`)
            raise UsageError(
                f"{file}: its UTF-8 copy cannot be written in the temporary folder {copy.parent.parent} "
                f"({exc.strerror}); it takes the table's unpacked size: set TMPDIR to a folder with room for it"
            ) from None
        first.read(b"", final=True)
        return first.line

    line, encoding = read_not_utf8(copied)
    source.notes.append(f"{file.name} is {not_utf8_note(line or found, encoding)}")
    return copy


class _FirstNotUtf8:
    """The line of the first byte that is not UTF-8 in bytes read block by block (a character two blocks split is
    read whole; `_blocks` never splits a CR LF), lines ending as DuckDB ends them (CR LF, LF or CR alone); None
    while there is none."""

    def __init__(self) -> None:
        self.line: int | None = None
        self._lines = 1  # the line the next block starts on
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def read(self, block: bytes, *, final: bool = False) -> None:
        if self.line is not None:
            return
        cut = self._decoder.getstate()[0]  # the start of a character the last block ended in
        try:
            self._decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            self.line = self._lines + line_ends_in((cut + block)[: exc.start])
        self._lines += line_ends_in(block)


_HEAD_BYTES = 1 << 20  # read to find the header line
MAX_REJECTS = 1000  # unreadable rows listed per file: enough to see the pattern
# What each kind of row DuckDB rejects means for the user.
REJECTED = {
    "MISSING COLUMNS": "the row has fewer fields than the header",
    "TOO MANY COLUMNS": "the row has more fields than the header",
    "UNQUOTED VALUE": "a quote is opened and not closed",
    "LINE SIZE OVER MAXIMUM": "the line is too long to be a row",
}


def _text_head(file: Path) -> bytes:
    """The first bytes of a CSV table's text (unpacked from a `.gz` table), held to the rules of every file a user
    gives (`oligo_cohort.user_files`): a workbook, Parquet file, PDF, archive or database under a table's name, a
    file of blank lines only, UTF-16 text or a header line holding NUL bytes is refused in the words the NKR file
    and the side files get; so is a `.gz` table that is not a whole gzip archive."""
    import gzip
    import zlib

    if not file.name.lower().endswith(".gz"):
        head = file_bytes(file, text=True, size=_HEAD_BYTES)
    else:
        kind = content_kind(file_bytes(file, size=SAMPLE_BYTES))
        if kind != "gzip archive":
            what = "" if kind in ("text file", NUL_FILE, BINARY_FILE) else f"{with_article(kind)}, "
            raise UserFileProblem(f"{what}not a gzip archive: pack the table with gzip, or name it .csv")
        try:
            with gzip.open(file, "rb") as handle:
                head = handle.read(_HEAD_BYTES)
        except (OSError, EOFError, zlib.error) as exc:
            raise UserFileProblem(_not_whole_gzip(exc)) from None
        inner = content_kind(head)
        if inner not in ("text file", "empty file", NUL_FILE):
            raise UserFileProblem(f"{with_article(inner)} packed in gzip, not a text file: save it as CSV (UTF-8)")
    if not head.removeprefix(codecs.BOM_UTF8).strip():  # a byte-order mark alone is no header either
        raise UserFileProblem("the file is empty (not even a header line)")
    decode_text(first_line(head), latin1=True)  # UTF-16, with or without its mark, is refused
    return head


def _not_whole_gzip(exc: Exception) -> str:
    return f"not a whole gzip archive ({exc}): the file is damaged or cut short"


LINE_ENDS = {b"\r\n": "CR LF", b"\n": "LF", b"\r": "CR"}
_BLOCK_BYTES = 1 << 20  # a CSV table is read in blocks of this size when it is read whole outside DuckDB


def _unreadable(file: Path) -> str | None:
    """Why DuckDB cannot read a CSV table (or its UTF-8 copy, whose lines are the table's), in words naming the
    line, when its lines stop ending as the first one does (CR LF, LF or CR alone: DuckDB reads lines that end
    alike only, so two exports joined end to end, one from Windows, or a carriage return alone inside a value,
    stop it), or a `.gz` table is damaged past its first bytes; None otherwise."""
    first = None
    try:
        for line, end in _line_ends(file):
            if first is None:
                first = end
            elif end != first:
                return (
                    f"line {line:,} ends with {LINE_ENDS[end]} where line 1 ends with {LINE_ENDS[first]} (files "
                    "joined together, or a line break inside a value?): save it as CSV with one kind of line end"
                )
    except UserFileProblem as exc:
        return exc.reason
    return None


def _line_ends(file: Path) -> Iterator[tuple[int, bytes]]:
    """Each line end of a CSV table (plain or packed in gzip), with the number of the line it ends."""
    line = 1
    for block in _blocks(file):
        for end in LINE_END_BYTES.finditer(block):
            yield line, end[0]
            line += 1


def _blocks(file: Path) -> Iterator[bytes]:
    """The bytes of a CSV table (unpacked from a `.gz` table) in blocks, a CR LF never split between two; a table
    that cannot be read to its end (a `.gz` table damaged or cut short past its first bytes) is a
    UserFileProblem saying why."""
    import gzip
    import zlib

    packed = file.name.lower().endswith(".gz")
    try:
        with (gzip.open if packed else open)(file, "rb") as handle:
            while block := handle.read(_BLOCK_BYTES):
                # A CR LF split between two reads is one line end: read on while the block ends in a CR (a CR
                # alone, then a CR LF, would otherwise split the second).
                while block.endswith(b"\r") and (more := handle.read(1)):
                    block += more
                yield block
    except (OSError, EOFError, zlib.error) as exc:
        raise UserFileProblem(_not_whole_gzip(exc) if packed else f"cannot be read ({exc})") from None


def _sniff_delimiter(head: bytes) -> str:
    """The delimiter of the header line (tab, comma, semicolon or bar), told as every user file's is
    (`user_files.delimiter_of`: the most frequent one that splits the first records as it splits the header)."""
    lines = head.decode("latin-1").split("\n", SNIFFED_RECORDS + 1)
    if len(lines) > 1:
        lines.pop()  # the rest of the head, or after its last line end a line the head may have cut short
    first, *following = lines
    return delimiter_of(first, ("\t", ",", ";", "|"), following=following)


def _first_records(head: bytes, delimiter: str) -> tuple[list[str], list[str] | None]:
    """The header and the first data row (None when there is none) of a CSV file, as the csv module reads them."""
    import csv
    import io

    lines = head.split(b"\n", 2)[:2]
    text = b"\n".join(lines).removeprefix(codecs.BOM_UTF8).decode("utf-8", "replace")
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    try:
        records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting) if r]
    except csv.Error:  # a carriage return alone inside a line: reading the table names the line
        records = [line.rstrip("\r").split(delimiter) for line in text.split("\n") if line]
    return (records[0] if records else []), (records[1] if len(records) > 1 else None)


def _open_duckdb(source: OmopSource, path: Path, problems: SourceProblems) -> None:
    try:
        source.con.execute(f"ATTACH {literal(str(path))} AS omop_src (READ_ONLY)")
    except duckdb.Error as exc:
        raise UsageError(f"{path} cannot be opened as a DuckDB database ({str(exc).splitlines()[0]})") from None
    rows = source.con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'omop_src' "
        "UNION ALL SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = 'omop_src'"
    ).fetchall()
    by_schema: dict[str, dict[str, str]] = {}
    for schema, name in rows:
        by_schema.setdefault(schema, {})[name.lower()] = name
    # The schema holding `person` is the CDM schema; the vocabulary may sit in another one.
    ordered = sorted(by_schema, key=lambda s: (0 if "person" in by_schema[s] else 1, s))
    for table in OMOP_TABLES:
        for schema in ordered:
            if table in by_schema[schema]:
                name = by_schema[schema][table]
                reader = f"omop_src.{identifier(schema)}.{identifier(name)}"
                _create_view(source, table, reader, f"{path}:{schema}.{name}", problems)
                break
    source.files.append(path)


def _holds_several(duckdb_type: str) -> bool:
    """Whether a DuckDB type holds several values per cell: LIST and ARRAY (`VARCHAR[]`, `INTEGER[3]`), STRUCT,
    MAP, UNION."""
    return duckdb_type.endswith("]") or duckdb_type.startswith(("STRUCT(", "MAP(", "UNION("))


def _create_view(source: OmopSource, table: str, reader: str, origin: str, problems: SourceProblems) -> None:
    """`src_<table>`: the table's columns as text under lower-case names, plus `_row`."""
    try:
        described = source.con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    except duckdb.Error as exc:
        raise UsageError(f"{origin} cannot be read ({str(exc).splitlines()[0]})") from None
    names = [row[0] for row in described]
    lowered = [n.replace("\ufeff", "").strip().lower() for n in names]
    source.nested[table] = {
        low: str(row[1]) for low, row in zip(lowered, described, strict=True) if _holds_several(str(row[1]))
    }
    if not names_unique(table, lowered, problems):
        return
    select = ", ".join(
        f"CAST({identifier(n)} AS VARCHAR) AS {identifier(low)}" for n, low in zip(names, lowered, strict=True)
    )
    source.con.execute(
        f"CREATE OR REPLACE TEMP VIEW {identifier('src_' + table)} AS "
        f"SELECT {select}, row_number() OVER () AS {identifier(ROW)} FROM {reader}"
    )
    source.origins[table] = origin
    source.columns[table] = lowered
