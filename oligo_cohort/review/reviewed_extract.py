"""Writing the reviewed extract: a copy of the extract with the answers' records added, and review_audit.csv.

The input is only read. Every file of an extract folder is copied as it is, except the tables that receive
records: a CSV table is written again with its rows as read (text, columns as found) followed by the new ones; a
Parquet table keeps its schema and gets the new rows in each column's own type, cast as the readers read that
type, or, where no value of that type reads as the record's text does, with the column made text (`_append_rows`);
a table the extract lacks is created in the format of its `patients` table. The reviewed extract's CSV tables are
read without the CSV writer's inert mark (it is an extract this tool wrote: `sources.TOOL_EXTRACTS`), so a CSV
table of an extract the tool did not write is copied as it is only when the writer would write every value of it
as it is; one holding a value that starts with a formula character or an apostrophe (`=217`, `'00107`) is written
again through the writer, like the tables receiving records, so that every table reads back the values the
extract holds. A DuckDB database file is written out as a folder of Parquet tables (the database itself is not
copied), each table taken where its reader finds it (`sources.duckdb_file.model_tables`): the reviewed extract is
always a folder, with the audit beside its tables. An audit already in the extract (an earlier review round) is
kept, the new rows after it.

The folder is written through `oligo_cohort.destination` (all or nothing) and loaded once more, marker
written, before it is moved into place, so a reviewed extract that the screen would refuse is never left behind.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from oligo_cohort.column_names import model_name
from oligo_cohort.counts_in_words import names_of
from oligo_cohort.csv_output import read_back, write_csv
from oligo_cohort.database import close, connect, register_frame
from oligo_cohort.destination import OutputFolder, staged_output
from oligo_cohort.dictionary import Column, tables
from oligo_cohort.errors import UsageError
from oligo_cohort.review.records import AUDIT_COLUMNS
from oligo_cohort.sources import DUCKDB_FILE, ROW, file_kind, read_source, reread_parquet_as_text
from oligo_cohort.sources.csv_files import written_as_read
from oligo_cohort.sources.duckdb_file import duckdb_text_table, model_tables, table_columns, table_sql
from oligo_cohort.sources.folder import written_by_tool
from oligo_cohort.sources.parquet_files import parquet_table
from oligo_cohort.sql_text import identifier
from oligo_cohort.user_files import UserFileProblem, header_names, nul_cells, read_delimited
from oligo_cohort.validate.typed_tables import read_expression, typed_expression

AUDIT_FILE = "review_audit.csv"


def write_reviewed_extract(
    extract: Path, out_dir: Path | OutputFolder, records: dict[str, pd.DataFrame], audit: pd.DataFrame
) -> Path:
    """Copy `extract` into `out_dir` with `records` added per table and the audit written; all or nothing (the
    folder is refused when it is, holds or lies inside the extract: oligo_cohort.destination)."""
    extract = Path(extract)
    folder = out_dir
    if not isinstance(folder, OutputFolder):
        folder = OutputFolder(out_dir, "reviewed-extract", inputs=[extract])
    # Loaded once more with its marker written: read as the screen will read it, without the writer's marks.
    with staged_output(folder, "reviewed-extract", check=_check_loads) as staging:
        if extract.is_dir():
            _copy_folder(extract, staging, records)
        elif file_kind(extract) == DUCKDB_FILE:
            _copy_database(extract, staging, records)
        else:
            raise UsageError(f"--extract {extract} is neither a folder nor a DuckDB database file")
        _write_audit(extract, staging / AUDIT_FILE, audit)
    return folder.requested


def _copy_folder(extract: Path, staging: Path, records: dict[str, pd.DataFrame]) -> None:
    model = tables()
    # The reviewed extract's CSV tables are read without the writer's inert mark. Those of an extract this tool
    # wrote carry it already and are copied; those of another may not (see the module notes).
    marked = written_by_tool(extract)
    table_files: dict[str, Path] = {}
    for file in sorted(extract.iterdir()):
        if not file.is_file() or file.name.startswith(".") or file.name == AUDIT_FILE:
            continue
        stem, suffix = file.stem.lower(), file.suffix.lower()
        if stem in model and suffix in (".csv", ".parquet") and (stem in records or (suffix == ".csv" and not marked)):
            table_files[stem] = file
            continue
        shutil.copy2(file, staging / file.name)
    patients_format = next((f.suffix.lower() for f in extract.iterdir() if f.stem.lower() == "patients"), ".csv")
    raw = read_source(extract) if any(f.suffix.lower() == ".csv" for f in table_files.values()) else None
    for name, file in table_files.items():
        new_rows = records.get(name)
        if file.suffix.lower() == ".parquet":
            assert new_rows is not None  # a Parquet table is taken here only to receive records
            _append_rows(pq.read_table(file), name, new_rows, staging / file.name, partial(_parquet_text, name, file))
            continue
        assert raw is not None
        existing = raw.tables[name].data
        if new_rows is None and written_as_read(existing):
            shutil.copy2(file, staging / file.name)  # the writer would write it as it is
        else:
            _append_csv(existing, new_rows, staging / f"{file.stem}.csv")
    for name, new_rows in records.items():
        if name not in table_files:
            _write_new_table(staging, name, new_rows, patients_format)


def _copy_database(extract: Path, staging: Path, records: dict[str, pd.DataFrame]) -> None:
    """Each table of the model the file's reader reads (in whichever schema: `sources.duckdb_file.model_tables`)
    as a Parquet table, its rows in the file's order, receiving its records if any."""
    source = connect(extract, read_only=True)
    try:
        places, _ = model_tables(source)  # a table the reader refuses has stopped the import already
        for name, (schema, table) in places.items():
            existing = _database_table(source, schema, table)
            target = staging / f"{name}.parquet"
            if name in records:
                as_read = partial(_database_text, source, name, schema, table)
                _append_rows(existing, name, records[name], target, as_read)
            else:
                pq.write_table(existing, target)
    finally:
        close(source)
    for name, new_rows in records.items():
        if name not in places:
            _write_new_table(staging, name, new_rows, ".parquet")


# The DuckDB types a Parquet file keeps so that its reader reads what the database's reader read (the text DuckDB
# casts each value to; a BLOB's bytes decoded alike). Any other type (INTERVAL, UNION, BIT, BIGNUM, TIME WITH
# TIME ZONE, which Parquet cannot hold or holds as other text; a HUGEINT beyond Parquet's decimals; a TIMESTAMP
# WITH TIME ZONE...) is written as that text, which is what the database's reader read.
_KEPT_DUCKDB_TYPES = frozenset(
    {"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
    | {"FLOAT", "DOUBLE", "DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "VARCHAR", "BLOB"}
)


def _database_text(source: duckdb.DuckDBPyConnection, name: str, schema: str, table: str) -> pl.DataFrame:
    """A table of the database as its reader reads it, every column as text (named as the model reads it)."""
    return duckdb_text_table(source, name, schema, table)[0]


def _database_table(source: duckdb.DuckDBPyConnection, schema: str, table: str) -> pa.Table:
    """A table of the database as Arrow, its columns as written, in the order of its rows (as the reader reads
    them); a column of a type Parquet would not keep as read is its text (`_KEPT_DUCKDB_TYPES`)."""
    selected = ", ".join(
        identifier(column)
        if data_type in _KEPT_DUCKDB_TYPES or data_type.startswith(("DECIMAL(", "ENUM("))
        else f"CAST({identifier(column)} AS VARCHAR) AS {identifier(column)}"
        for column, data_type in table_columns(source, schema, table)
    )
    return source.sql(f"SELECT {selected} FROM {table_sql(source, schema, table)} ORDER BY rowid").to_arrow_table()


def _write_new_table(staging: Path, name: str, rows: pd.DataFrame, suffix: str) -> None:
    """A table the extract lacked: the model's columns, the new rows only."""
    columns = tables()[name].column_names
    frame = rows.reindex(columns=columns)
    if suffix == ".parquet":
        text = pa.Table.from_pandas(frame.astype("string"), preserve_index=False)
        pq.write_table(_cast_to_model(text, name), staging / f"{name}.parquet")
    else:
        _write_csv(staging / f"{name}.csv", columns, [_texts(r) for r in frame.itertuples(index=False, name=None)])


def _append_csv(existing: pl.DataFrame, rows: pd.DataFrame | None, target: Path) -> None:
    """The table's rows as read (text, columns as found) and the new rows (if any) in those columns."""
    columns = [c for c in existing.columns if c != ROW]
    body = [[value or "" for value in record] for record in existing.select(columns).iter_rows()]
    if rows is not None:
        body += [_texts(r) for r in rows.reindex(columns=columns).itertuples(index=False, name=None)]
    _write_csv(target, columns, body)


def _append_rows(
    existing: pa.Table, name: str, rows: pd.DataFrame, target: Path, as_read: Callable[[], pl.DataFrame]
) -> None:
    """The table with the new rows after its own, each value in the column's own type, written to `target`.

    A column is matched to the model by the name the readers read (`column_names.model_name`: ` Code `, `CODE`).
    The text of a record is cast to the column's type as the readers read that type (a boolean into a column of
    numbers as 1 or 0, a date into a timestamp at midnight). The file written is then read back by the Parquet
    reader: a column whose new values do not read as their text does (no cast exists, as of a code into
    numbers; or it changes them, as of an id `00107` into numbers or of a date into a timestamp with a time
    zone) becomes a text column, holding its values as the extract's reader read them (`as_read`: the table as
    text, columns named as the model reads them) and the new ones as text. A model column the table lacks is
    added as text if a new row has a value in it.
    """
    model = {c.name: c for c in tables()[name].columns}
    texts = {
        column: [None if v is None or (isinstance(v, float) and pd.isna(v)) or v == "" else str(v) for v in values]
        for column, values in rows.items()
        if column in model
    }
    read_by = {model_name(f.name): f.name for f in existing.schema}
    for column, values in texts.items():
        if column not in read_by and any(v is not None for v in values):
            existing = existing.append_column(column, pa.nulls(existing.num_rows, pa.string()))
            read_by[column] = column
    new = {read_by[c]: values for c, values in texts.items() if c in read_by}
    blank = [None] * len(rows)
    cast = {f.name: _cast_text(new.get(f.name, blank), f.type, model.get(model_name(f.name))) for f in existing.schema}
    as_text = {original for original, values in cast.items() if values is None}
    for _ in range(2):  # a column found misread the first time is text the second, which reads back as written
        table = _with_rows(existing, new, len(rows), cast, as_text, as_read)
        pq.write_table(table, target)
        misread = {read_by[c] for c in _misread(target, name, texts, existing.num_rows)} - as_text
        if not misread:
            return
        as_text |= misread
    raise AssertionError(f"{name}: the new rows of {', '.join(sorted(misread))} do not read back as written")


def _cast_text(values: list[str | None], to: pa.DataType, column: Column | None) -> pa.Array | None:
    """The text of new values cast to a column's type as the readers read that type; None when no cast exists."""
    try:
        if all(v is None for v in values):
            return pa.nulls(len(values), to)
        if column is not None and column.type == "boolean" and _is_number(to):
            values = [{"true": "1", "false": "0"}.get(v, v) if v is not None else None for v in values]
        text = pa.array(values, pa.string())
        plain = to.value_type if pa.types.is_dictionary(to) else to
        if pa.types.is_timestamp(plain) or pa.types.is_date(plain):
            text = pc.cast(text, pa.date32())  # a date (`YYYY-MM-DD`) at midnight
        return pc.cast(text, to)
    except (pa.ArrowException, OverflowError):
        return None


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _with_rows(
    existing: pa.Table,
    new: dict[str, list[str | None]],
    count: int,
    cast: dict[str, pa.Array | None],
    as_text: set[str],
    as_read: Callable[[], pl.DataFrame],
) -> pa.Table:
    """The existing rows and the new ones; the columns in `as_text` as text, their values as the reader read them."""
    read = as_read() if as_text else None
    columns, fields = [], []
    for field in existing.schema:
        added = cast[field.name]
        column = existing.column(field.name)
        if field.name in as_text:
            assert read is not None
            before = read.get_column(model_name(field.name)).to_arrow().cast(pa.string())
            added = pa.array(new.get(field.name, [None] * count), pa.string())
            column = pa.chunked_array([before], pa.string())
            field = pa.field(field.name, pa.string())
        assert added is not None
        columns.append(pa.chunked_array([*column.chunks, added], field.type))
        fields.append(field)
    metadata = existing.schema.metadata if not as_text else None  # pandas' notes would name the former types
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=metadata))


def _misread(target: Path, name: str, texts: dict[str, list[str | None]], first: int) -> set[str]:
    """The model columns whose new values (the rows after the first `first` of the Parquet file `target`) the
    Parquet reader does not read as the text they were written from reads."""
    model = {c.name: c for c in tables()[name].columns}
    con = connect()
    try:
        table = parquet_table(name, target, con, [])
        compared = [c for c in texts if c in table.columns]
        if not compared:
            return set()
        expected = pl.DataFrame({ROW: range(1, len(texts[compared[0]]) + 1), **{c: texts[c] for c in compared}},
                                schema={ROW: pl.Int64, **dict.fromkeys(compared, pl.String)})  # fmt: skip
        register_frame(con, "expected", expected)

        def compare(rows: str, native: frozenset[str]) -> tuple[bool, ...]:
            same = ", ".join(
                f"bool_and(({read_expression(model[c], f'r.{identifier(c)}', c in native)}) IS NOT DISTINCT FROM "
                f"({typed_expression(model[c], f'e.{identifier(c)}')}))"
                for c in compared
            )
            [found] = con.execute(
                f"SELECT {same} FROM {rows} AS r JOIN expected AS e ON r.{ROW} = e.{ROW} + {int(first)}"
            ).fetchall()
            return found

        try:
            found = compare(f"({table.query})", table.native)
        except duckdb.Error as exc:  # text that is not UTF-8 in the existing rows: read value by value
            reread, _ = reread_parquet_as_text(table, exc)
            register_frame(con, "reread", reread.data)
            found = compare("reread", reread.native)
        return {c for c, same_value in zip(compared, found, strict=True) if not same_value}
    finally:
        close(con)


def _parquet_text(name: str, file: Path) -> pl.DataFrame:
    """A Parquet table of the extract as its reader reads it, every column as text (named as the model reads it)."""
    con = connect()
    try:
        table = parquet_table(name, file, con, [])
        model = set(tables()[name].column_names)  # the only columns the reader reads
        columns = "".join(
            f", CAST({identifier(c)} AS VARCHAR) AS {identifier(c)}" if c in table.native else f", {identifier(c)}"
            for c in table.columns
            if c in model
        )
        try:
            return pl.from_arrow(con.sql(f"SELECT {ROW}{columns} FROM ({table.query}) ORDER BY {ROW}").to_arrow_table())
        except duckdb.Error as exc:  # text that is not UTF-8: read value by value, as the screen reads it then
            return reread_parquet_as_text(table, exc)[0].data
    finally:
        close(con)


def _cast_to_model(text: pa.Table, name: str) -> pa.Table:
    """Text columns typed as the dictionary says (dates, booleans, integers), for a new Parquet table."""
    kinds = {c.name: c.type for c in tables()[name].columns}
    arrow = {"date": pa.date32(), "boolean": pa.bool_(), "integer": pa.int32()}
    columns = [pc.cast(text[c], arrow[kinds[c]]) if kinds.get(c) in arrow else text[c] for c in text.column_names]
    return pa.Table.from_arrays(columns, names=text.column_names)


def _texts(values: tuple[object, ...]) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v) for v in values]


def _write_csv(path: Path, columns: list[str], rows: list[list[str]]) -> None:
    """Text rows through the one CSV writer (formula-like text marked inert; the loader takes the mark off again
    for an extract this tool wrote: sources.TOOL_EXTRACTS)."""
    write_csv(pd.DataFrame(rows, columns=columns, dtype=object), path)


def read_audit(path: Path) -> pd.DataFrame:
    """A review_audit.csv as written (text cells read back without their formula-safe apostrophe, empty as '').

    The audit is the record of who answered what: one that cannot be read whole (another encoding, a quote left
    open, a row of more or fewer fields, a NUL byte, a column missing) is refused naming it and the line, never
    carried into the next round in part.
    """
    label = f"the review audit {path}"
    try:
        read = read_delimited(path, delimiters=(",",))
    except UserFileProblem as exc:
        raise UsageError(f"{label}: {exc.reason}") from None
    names, twice = header_names(read.header)
    missing = [c for c in AUDIT_COLUMNS if c not in names]
    problems = [f"column {name!r} named twice" for name, _, _ in twice]
    problems += [f"{names_of('column', missing)} missing"] if missing else []
    problems += [f"line {r.line} has {len(r.fields)} fields, the header {len(names)}" for r in read.records
                 if len(r.fields) != len(names)]  # fmt: skip
    problems += [f"line {r.line}, column {column}: a NUL byte" for r, column, _ in nul_cells(read.records, names)]
    if problems:
        shown = "; ".join(problems[:10]) + (f"; ... and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise UsageError(f"{label} cannot be read: {shown} (an earlier review round's audit: restore it as written)")
    rows = [[read_back(value) for value in r.fields] for r in read.records]
    return pd.DataFrame(rows, columns=names, dtype=object)


def _write_audit(extract: Path, target: Path, audit: pd.DataFrame) -> None:
    """The audit of this import after that of earlier review rounds (kept as they are)."""
    earlier = extract / AUDIT_FILE if extract.is_dir() else None
    frame = audit.reindex(columns=list(AUDIT_COLUMNS))
    if earlier is not None and file_kind(earlier) != "missing":
        before = read_audit(earlier).replace("", None)
        frame = pd.concat([before.reindex(columns=list(AUDIT_COLUMNS)), frame], ignore_index=True)
    text = frame.astype(object).where(frame.notna(), None)
    rows = [_texts(r) for r in text.itertuples(index=False, name=None)]
    _write_csv(target, list(AUDIT_COLUMNS), rows)  # notes are free text: formula-safe for a spreadsheet


def _check_loads(folder: Path) -> None:
    """The reviewed extract must load as the screen would load it (fatal problems raise InputError)."""
    from oligo_cohort.load import load_extract

    load_extract(folder).con.close()
