"""Write an extract's tables batch by batch: one Parquet row group per batch, or appended CSV rows.

Output is byte-identical for identical input: Parquet files carry no
timestamps (only the library version in `created_by`), compression and
encodings are fixed, and each batch becomes exactly one row group.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from oligo_cohort.synth.options import Format


class ExtractWriter:
    """Open one file per table in `folder`; `write` appends a batch; `close` finishes every file."""

    def __init__(self, folder: Path, schemas: dict[str, pa.Schema], fmt: Format) -> None:
        self.folder = folder
        self.schemas = schemas
        self.fmt = fmt
        self._parquet: dict[str, pq.ParquetWriter] = {}
        self._csv: dict[str, IO[bytes]] = {}
        for name, schema in schemas.items():
            path = folder / f"{name}.{fmt}"
            if fmt == "parquet":
                self._parquet[name] = pq.ParquetWriter(
                    path, schema, compression="zstd", compression_level=3, use_dictionary=True, write_statistics=True
                )
            else:
                handle = path.open("wb")
                pl.from_arrow(schema.empty_table()).write_csv(handle)  # the header line
                self._csv[name] = handle

    def write(self, name: str, table: pa.Table) -> None:
        """Append one batch of rows to a table."""
        if table.num_rows == 0:
            return
        if self.fmt == "parquet":
            self._parquet[name].write_table(table, row_group_size=table.num_rows)
        else:
            frame = pl.from_arrow(table)
            assert isinstance(frame, pl.DataFrame)
            frame.write_csv(self._csv[name], include_header=False)

    def close(self) -> None:
        """Finish every file (Parquet footers)."""
        for writer in self._parquet.values():
            writer.close()
        for handle in self._csv.values():
            handle.close()

    def __enter__(self) -> ExtractWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
