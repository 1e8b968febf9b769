"""The Python API: screen an extract, look at the result, write it, read it back.

>>> from oligo_cohort.api import screen
>>> result = screen("my_extract/", as_of="2024-06-30")
>>> result.patients.status.value_counts()
>>> result.write("screen-out/")
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.engines import engine_runner
from oligo_cohort.errors import UsageError
from oligo_cohort.explain import EXPLAIN_CHOICES, Explain, explain_reasons
from oligo_cohort.load import LoadedExtract, load_extract, write_run_parameters
from oligo_cohort.problems import PROBLEM_COLUMNS, problems_frame
from oligo_cohort.progress import stage
from oligo_cohort.protocol import Protocol, load_protocol
from oligo_cohort.results import DATE_COLUMNS, RESULT_TABLES
from oligo_cohort.sources import ExtractSource

if TYPE_CHECKING:
    from oligo_cohort.destination import OutputFolder


class ScreeningResult:
    """The outcome of a screen: per patient, per event, the reasons, and the data-quality findings.

    The tables live in a DuckDB connection (so a million-patient result is
    written without passing through pandas); the properties give pandas
    DataFrames whose values are exactly what the CSV files hold.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        protocol: Protocol,
        as_of: dt.date,
        engine: str,
        worklist: bool,
        source: str = "",
        input_files: tuple[Path, ...] = (),
    ) -> None:
        self.con = con
        self.protocol = protocol
        self.as_of = as_of
        self.engine = engine
        self.worklist = worklist
        self.source = source
        self.input_files = input_files
        # The screen ran without insertion order (so DuckDB could stream and spill); from here on the connection
        # only serves outputs, which must keep their ORDER BY: DuckDB's parallel CSV/Parquet writers honour it
        # only with insertion order on.
        con.execute("SET preserve_insertion_order = true")

    def query(self, name: str, *, ordered: bool = True) -> duckdb.DuckDBPyRelation:
        """One output table (patients, events, reasons, findings) as a DuckDB relation, in output order (unless
        `ordered` is false: the writer orders what it writes itself)."""
        result = RESULT_TABLES[name]
        select = ", ".join(_output_expression(c) for c in result.columns)
        order_by = result.order_by if ordered else ""
        return self.con.sql(f"SELECT {select} FROM {result.table}{order_by}")

    def _frame(self, name: str) -> pd.DataFrame:
        frame = self.query(name).df()
        return frame.astype(object).where(frame.notna(), None)

    @property
    def patients(self) -> pd.DataFrame:
        """One row per patient: status, best event, the 18 criterion outcomes."""
        return self._frame("patients")

    @property
    def events(self) -> pd.DataFrame:
        """One row per candidate event (screening scan) with its criterion outcomes."""
        return self._frame("events")

    @property
    def reasons(self) -> pd.DataFrame:
        """For each patient's best event: every criterion's outcome and the facts that decided it."""
        return self._frame("reasons")

    @property
    def findings(self) -> pd.DataFrame:
        """Data-quality findings that did not stop the screen."""
        return self._frame("findings")

    def counts(self) -> dict[str, int]:
        """Patients per status."""
        rows = self.con.execute("SELECT status, count(*) FROM result_patients GROUP BY status").fetchall()
        return {status: int(n) for status, n in rows}

    def outcome_table(self) -> pd.DataFrame:
        """Patients per outcome of each criterion (their best event), criteria in protocol order."""
        parts = " UNION ALL ".join(
            f"SELECT '{c}' AS criterion, {i} AS k, {c} AS outcome FROM result_patients"
            for i, c in enumerate(CRITERION_IDS)
        )
        frame = self.con.sql(
            f"PIVOT (SELECT criterion, k, outcome FROM ({parts})) ON outcome IN ('pass', 'fail', 'unknown', 'review') "
            "USING count(*) GROUP BY criterion, k ORDER BY k"
        ).df()
        return frame.drop(columns="k").set_index("criterion")

    def write(self, out_dir: str | Path | OutputFolder, *, parquet: bool = False) -> Path:
        """Write the result files atomically into `out_dir` (see oligo_cohort.outputs).

        `out_dir` is replaced only when it is empty or an earlier screen result, never when it is or holds an
        input (oligo_cohort.destination); otherwise a DestinationError (a UsageError) says why.
        """
        from oligo_cohort.outputs import write_result

        return write_result(self, out_dir, parquet=parquet)

    def manifest(self) -> dict[str, object]:
        """What produced this result: protocol, parameters, cut-off, engine, counts."""
        counts = {
            name: self.con.execute(f"SELECT count(*) FROM {result.table}").fetchall()[0][0]
            for name, result in RESULT_TABLES.items()
        }
        return {
            "tool": "oligo-cohort",
            "protocol": {"name": self.protocol.name, "version": self.protocol.version, "source": self.protocol.source},
            "parameters": self.protocol.parameters.as_row(),
            "as_of": self.as_of.isoformat(),
            "engine": self.engine,
            "worklist": self.worklist,
            "rows": counts,
            "status": dict(sorted(self.counts().items())),
        }


def _output_expression(column: str) -> str:
    """Dates as ISO text, so the DataFrames hold exactly what the CSV files hold."""
    quoted = f'"{column}"'
    if column in DATE_COLUMNS:
        return f"strftime({quoted}, '%Y-%m-%d') AS {quoted}"
    return quoted


def screen(
    source: ExtractSource,
    *,
    as_of: str | dt.date | None = None,
    protocol: str | Path | Protocol = "cosmo",
    engine: str = "duckdb",
    worklist: bool = False,
    explain: Explain = "best-event",
) -> ScreeningResult:
    """Screen an extract (folder, DuckDB file or dict of DataFrames) for COSMO eligibility.

    `explain="all-events"` gives reasons for every candidate event, not only each patient's best.

    With `engine="spark"` the source may also be `oligo_cohort.engines.spark.SparkTables(database)`:
    tables of the data model held by Spark (docs/spark.md).
    """
    run = engine_runner(engine)
    chosen = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    if getattr(source, "is_spark_tables", False):
        if engine != "spark":
            raise UsageError("Spark tables can only be screened with engine='spark'")
        loaded = source.load(as_of=as_of)  # type: ignore[union-attr]
    else:
        loaded = load_extract(source, as_of=as_of)
    return _screen_loaded(loaded, chosen, engine=engine, worklist=worklist, explain=explain, runner=run)


def _screen_loaded(
    loaded: LoadedExtract,
    protocol: Protocol,
    *,
    engine: str = "duckdb",
    worklist: bool = False,
    explain: Explain = "best-event",
    runner=None,
) -> ScreeningResult:
    """Screen a loaded extract; the result tables live in (and replace any earlier ones in) its connection."""
    if explain not in EXPLAIN_CHOICES:
        raise UsageError(f"explain={explain!r}: choose one of {', '.join(EXPLAIN_CHOICES)}")
    run = runner or engine_runner(engine)
    write_run_parameters(loaded, protocol, worklist=worklist, explain_all_events=explain == "all-events")
    with stage(f"screen ({engine} engine)"):
        run(loaded.con)
    with stage("explain"):
        explain_reasons(loaded.con)
        _store_findings(loaded)
    return ScreeningResult(
        loaded.con,
        protocol=protocol,
        as_of=loaded.as_of,
        engine=engine,
        worklist=worklist,
        source=loaded.origin,
        input_files=loaded.files,
    )


def _store_findings(loaded: LoadedExtract) -> None:
    frame = problems_frame(loaded.findings)
    frame = frame.astype({c: "string" for c in PROBLEM_COLUMNS if c != "row"})
    loaded.con.register("findings_frame", frame)
    loaded.con.execute(
        'CREATE OR REPLACE TABLE findings AS SELECT severity, "table", "column", CAST("row" AS BIGINT) AS "row", '
        "record_id, value, message FROM findings_frame"
    )
    loaded.con.unregister("findings_frame")


def read_screen_dir(path: str | Path) -> ScreeningResult:
    """Read a folder written by `oligo-cohort screen` back into a ScreeningResult.

    Every file is checked on the way (oligo_cohort.screen_folder): a missing, damaged or edited folder is a
    `ScreenFolderError` (a UsageError, exit 2) listing each problem with its file, row, column and value.
    """
    from oligo_cohort.screen_folder import read_screen_folder

    return read_screen_folder(path)
