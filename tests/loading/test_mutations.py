"""Mutation testing of the whole command: whatever is done to the demo extract, `screen` answers cleanly.

Each example takes the demo extract and applies a few generated mutations:
cells replaced by junk (huge numbers, control characters, odd Unicode),
bytes flipped, inserted or cut, files truncated, emptied or deleted, columns
and rows deleted or duplicated, delimiters swapped, tables written as Parquet
with a column of another type. Then it runs the real command line
(`oligo-cohort screen`, in-process) and checks, for every mutation:

- no exception escapes and no traceback is printed;
- the exit code is 0 (screened, with findings) or 2 (refused, with a report);
- every input file is byte-identical afterwards;
- no partial output is left: with 2, no output folder at all; with 0, the
  complete one; never a temporary or earlier folder beside it; and no spill
  folder in the temporary folder.

Derandomised, so every run tries the same examples: 40 in the default
suite, 300 with `pytest -m slow`. A few examples also run as a separate
process, to see exactly what reaches the terminal.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.cli import main
from oligo_cohort.database import SPILL_PREFIX
from oligo_cohort.paths import demo_extract_dir
from tests.draws import costly_draws

DEMO = demo_extract_dir()
FILES = {path.name: path.read_bytes() for path in sorted(DEMO.glob("*.csv"))}
NAMES = sorted(FILES)

JUNK = st.one_of(
    st.sampled_from(
        [
            "",
            "1e308",
            "-1e308",
            "9" * 400,
            "0." + "0" * 300 + "1",
            "NaN",
            "-inf",
            "1_000",
            "2_4",
            "0x10",
            "9999-12-31",
            "0001-01-01",
            "1899-12-31",
            "2024-02-30",
            "\x00",
            "\x1b[31mred\x1b[0m",
            "a\rb",
            "\u202eevil",  # right-to-left override
            "e\u0301",  # combining accent
            "\ufeff007",
            "🙂",
            "\udcff",  # a lone surrogate: not encodable as UTF-8
            '"',
            "a,b",
            "=1+1",
            "x" * 10_000,
        ]
    ),
    st.text(max_size=8),
)

WHOLE_FILE = st.sampled_from(["truncate", "flip", "insert", "cut", "empty", "delete", "header_only", "delimiter"])
STRUCTURE = st.sampled_from(["drop_column", "duplicate_column", "drop_row", "duplicate_row", "short_row", "long_row"])


@st.composite
def mutation(draw) -> tuple:
    name = draw(st.sampled_from(NAMES))
    kind = draw(st.sampled_from(["cell", "cell", "file", "structure", "parquet"]))
    if kind == "cell":
        return ("cell", name, draw(st.integers(0, 10_000)), draw(st.integers(0, 20)), draw(JUNK))
    if kind == "file":
        return ("file", name, draw(WHOLE_FILE), draw(st.floats(0, 1)), draw(st.binary(min_size=1, max_size=6)))
    if kind == "structure":
        return ("structure", name, draw(STRUCTURE), draw(st.integers(0, 10_000)), draw(st.integers(0, 20)))
    return ("parquet", name, draw(st.integers(0, 20)), draw(st.sampled_from(sorted(PARQUET_TYPES))))


PARQUET_TYPES = {
    "int64": pa.int64(),
    "float64": pa.float64(),
    "date32": pa.date32(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("ms"),
    "binary": pa.binary(),
    "list<string>": pa.list_(pa.string()),
    "string": pa.string(),
}


def parse(content: bytes) -> list[list[str]]:
    """The records of a (possibly already mutated) CSV file; undecodable bytes survive the round trip."""
    try:
        return [row for row in csv.reader(io.StringIO(content.decode("utf-8", errors="surrogateescape"))) if row]
    except csv.Error:
        return []


def render(rows: list[list[str]], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8", errors="surrogateescape")


def apply(files: dict[str, bytes], parquet: dict[str, pa.Table], change: tuple) -> None:
    """Apply one mutation to the extract (CSV files as bytes; tables turned into Parquet aside)."""
    kind, name = change[0], change[1]
    if name not in files:
        return
    content = files[name]
    if kind in ("cell", "structure", "parquet") and not parse(content):
        return  # nothing left to change at that level
    if kind == "cell":
        rows = parse(content)
        row, column, value = rows[change[2] % len(rows)], change[3], change[4]
        if row:
            row[column % len(row)] = value
        files[name] = render(rows)
    elif kind == "file":
        what, where, blob = change[2], change[3], change[4]
        at = int(where * len(content))
        if what == "truncate":
            files[name] = content[:at]
        elif what == "flip" and content:
            at = min(at, len(content) - 1)
            files[name] = content[:at] + bytes([content[at] ^ blob[0]]) + content[at + 1 :]
        elif what == "insert":
            files[name] = content[:at] + blob + content[at:]
        elif what == "cut":
            files[name] = content[:at] + content[at + len(blob) * 7 :]
        elif what == "empty":
            files[name] = b""
        elif what == "delete":
            del files[name]
        elif what == "header_only":
            files[name] = content.split(b"\n", 1)[0] + b"\n"
        else:
            files[name] = content.replace(b",", [b";", b"\t", b"|", b" "][blob[0] % 4])
    elif kind == "structure":
        rows = parse(content)
        what, index, column = change[2], change[3] % len(rows), change[4]
        width = len(rows[0])
        if what == "drop_column":
            rows = [[v for i, v in enumerate(r) if i != column % width] for r in rows]
        elif what == "duplicate_column":
            rows = [[*r, r[column % width]] if len(r) == width else r for r in rows]
        elif what == "drop_row":
            del rows[index]
        elif what == "duplicate_row":
            rows.insert(index, list(rows[index]))
        elif what == "short_row":
            rows[index] = rows[index][:-1]
        else:
            rows[index] = [*rows[index], "extra"]
        files[name] = render(rows)
    else:
        rows = parse(content)
        if not rows or len({len(r) for r in rows}) != 1:
            return
        header, body = rows[0], rows[1:]
        columns = {c: pa.array([r[i] or None for r in body], pa.string()) for i, c in enumerate(header)}
        target = header[change[2] % len(header)]
        columns[target] = _retyped(columns[target], PARQUET_TYPES[change[3]])
        parquet[name.removesuffix(".csv")] = pa.table(columns)
        del files[name]


def _retyped(values: pa.Array, kind: pa.DataType) -> pa.Array:
    """The column in another type: cast where the values allow it, else a plausible column of that type."""
    try:
        return values.cast(kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        n = len(values)
        if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
            return pa.array([i * 1000 for i in range(n)], pa.int32()).cast(pa.date32()).cast(kind)
        if pa.types.is_list(kind):
            return pa.array([[v] if v is not None else None for v in values.to_pylist()], kind)
        if pa.types.is_binary(kind):
            return pa.array([None if v is None else v.encode() for v in values.to_pylist()], kind)
        return pa.array([i % 3 for i in range(n)], pa.int64()).cast(kind, safe=False)


def fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def run_mutated(mutations: list[tuple]) -> tuple[int, str]:
    """Write the mutated extract, screen it through the CLI, check every promise; return (exit code, stderr)."""
    files, parquet = dict(FILES), {}
    for change in mutations:
        apply(files, parquet, change)
    folder = Path(tempfile.mkdtemp(prefix="oligo-mutation-"))
    temporary = folder / "tmp"
    temporary.mkdir()
    previous = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(temporary)
    try:
        extract = folder / "extract"
        extract.mkdir()
        for name, content in files.items():
            (extract / name).write_bytes(content)
        for name, table in parquet.items():
            pq.write_table(table, extract / f"{name}.parquet")
        before = fingerprint(extract)
        out = folder / "out"
        stderr = io.StringIO()
        stdout = io.StringIO()
        from contextlib import redirect_stderr, redirect_stdout

        with redirect_stderr(stderr), redirect_stdout(stdout):
            code = main(["screen", str(extract), "--out", str(out), "--quiet"])
        err = stderr.getvalue()
        assert code in (0, 2), (code, err)
        assert "Traceback" not in err, err
        assert fingerprint(extract) == before, "an input file changed"
        beside = sorted(p.name for p in folder.iterdir())
        assert beside == (["extract", "out", "tmp"] if code == 0 else ["extract", "tmp"]), (beside, err)
        if code == 0:
            assert {"patients.csv", "events.csv", "reasons.csv", "findings.csv"} <= {p.name for p in out.iterdir()}
        else:
            assert err.startswith("oligo-cohort: "), err
        assert not list(temporary.glob(f"{SPILL_PREFIX}*")), "a spill folder was left behind"
        return code, err
    finally:
        if previous is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = previous
        shutil.rmtree(folder, ignore_errors=True)


MUTATIONS = st.lists(mutation(), min_size=1, max_size=3)
SETTINGS = {
    "derandomize": True,
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


@settings(max_examples=costly_draws(40), **SETTINGS)
@given(MUTATIONS)
def test_a_mutated_extract_is_screened_or_refused_cleanly(mutations):
    run_mutated(mutations)


@pytest.mark.slow
@settings(max_examples=300, **SETTINGS)
@given(MUTATIONS)
def test_a_mutated_extract_is_screened_or_refused_cleanly_300_examples(mutations):
    """The same with 300 examples (several minutes): `pytest -m slow`."""
    run_mutated(mutations)


KEPT = [
    [("cell", "lesions.csv", 1, 5, "1e308")],
    [("cell", "patients.csv", 1, 4, "9999-12-31")],
    [("structure", "imaging.csv", "short_row", 5, 0)],
    [("structure", "tumours.csv", "duplicate_column", 0, 3)],
    [("file", "lesions.csv", "truncate", 0.5, b"x")],
    [("file", "observations.csv", "delimiter", 0.0, b"\x01")],
    [("parquet", "lesions.csv", 5, "list<string>")],
    [("parquet", "imaging.csv", 2, "timestamp")],
    [("cell", "systemic_therapy.csv", 3, 1, "\udcff")],
]


@pytest.mark.parametrize("mutations", KEPT, ids=lambda m: f"{m[0][0]}-{m[0][1]}-{m[0][2]}")
def test_mutations_worth_keeping(mutations):
    """Examples worth keeping as plain cases (a huge number, a short record, a list-typed Parquet column...)."""
    run_mutated(mutations)


@pytest.mark.parametrize("mutations", [KEPT[0], KEPT[2], KEPT[6]], ids=["huge-number", "short-row", "list-column"])
def test_what_reaches_the_terminal_of_a_separate_process(tmp_path, mutations):
    """As a user runs it: a process of its own, whose stderr holds messages and never a traceback."""
    files, parquet = dict(FILES), {}
    for change in mutations:
        apply(files, parquet, change)
    extract = tmp_path / "extract"
    extract.mkdir()
    for name, content in files.items():
        (extract / name).write_bytes(content)
    for name, table in parquet.items():
        pq.write_table(table, extract / f"{name}.parquet")
    env = os.environ | {"OLIGO_COHORT_THREADS": "1"}
    command = [sys.executable, "-m", "oligo_cohort", "screen", str(extract), "--out", str(tmp_path / "out"), "--quiet"]
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode in (0, 2)
    assert "Traceback" not in run.stderr and "Error:" not in run.stderr.replace("oligo-cohort: error:", "")
    if run.returncode == 2:
        assert run.stderr.startswith("oligo-cohort: ")
