"""The floor: DuckDB reading every table of an extract and computing one aggregate per table.

No screen can do less work than reading its input once, so the package's time
is reported as a multiple of this, measured on the same files in the same run.

The aggregate must make DuckDB decode every value. `count(col)`, `min(col)`
and `max(col)` do not: on Parquet DuckDB answers them from the row-group
statistics and reads a few kilobytes of metadata (EXPLAIN ANALYZE: "Data Read
16 kB" for a 4-million-row table), which would make the floor a measure of
nothing. `bit_xor(hash(col))` reads and hashes every value of every column —
the least per-value work that still touches all of them.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import duckdb


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("extract", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    cpu_started = time.process_time()
    con = duckdb.connect()
    rows = 0
    tables = 0
    for file in sorted(args.extract.iterdir()):
        if file.suffix == ".parquet":
            relation = con.read_parquet(str(file))
        elif file.suffix == ".csv":
            relation = con.read_csv(str(file), all_varchar=True)
        else:
            continue
        # One aggregate per table touching every value of every column (see the module docstring).
        aggregates = ", ".join(["count(*)", *(f'bit_xor(hash("{c}"))' for c in relation.columns)])
        rows += relation.aggregate(aggregates).fetchall()[0][0]
        tables += 1
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    json.dump(
        {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_bytes": peak, "rows": rows, "tables": tables}, sys.stdout
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
