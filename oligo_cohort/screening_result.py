"""The result of a screen: its tables in a DuckDB connection, as files, frames and words.

`oligo_cohort.api.screen` makes one; `oligo_cohort.api.read_screen_dir` reads one back from a screen folder
(`oligo_cohort.screen_folder`). The table names and columns are the result contract (`oligo_cohort.results`);
writing the files is `oligo_cohort.outputs`, which reads a result through that contract's `ScreenResult`
protocol, so the writer does not depend on this class.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from oligo_cohort.criteria import CRITERION_IDS, OUTCOMES
from oligo_cohort.errors import UsageError
from oligo_cohort.problems import PROBLEM_COLUMNS, Problem, problems_from_rows
from oligo_cohort.problems.summary import counts_by_severity, severity_words
from oligo_cohort.protocol import Protocol
from oligo_cohort.results import DATE_COLUMNS, RESULT_TABLES, ResultTable
from oligo_cohort.sql_text import identifier

if TYPE_CHECKING:
    import pandas as pd  # imported where a frame is asked for: a screen from the command line runs without it
    import polars as pl

    from oligo_cohort.destination import OutputFolder

# Statuses from the best to the worst, the order a table of them reads in.
STATUS_ORDER: tuple[str, ...] = ("eligible", "unknown", "ineligible")
# The typed columns of the frames the API gives (the CSV files hold the same values as text).
_CATEGORIES: dict[str, tuple[str, ...]] = {
    "status": STATUS_ORDER,
    "outcome": OUTCOMES,
    "criterion": CRITERION_IDS,
    **dict.fromkeys(CRITERION_IDS, OUTCOMES),
}


class ScreeningResult:
    """The outcome of a screen: per patient, per event, the reasons, and the data-quality findings.

    The tables live in a DuckDB connection (so a million-patient result is
    written without passing through pandas); the properties give pandas
    DataFrames with typed columns (the values the CSV files hold, dates as
    dates, outcomes and statuses as categoricals), `to_polars` the same for
    polars, `query` the text the CSV files hold.
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
        input_checksums: Mapping[str, str] | None = None,
        screened_source: str = "",
        problems: list[Problem] | None = None,
        unread: Mapping[str, Callable[[], None]] | None = None,
    ) -> None:
        self.con = con
        self.protocol = protocol
        self.as_of = as_of
        self.engine = engine
        self.worklist = worklist
        self.source = source
        self.input_files = input_files
        # A result read back from a screen folder: the SHA-256 of each input file as its manifest recorded them
        # (the files themselves may be gone), checked by the folder's reader (`screen_folder`).
        self.input_checksums = dict(input_checksums or {})
        # ... and the extract it was screened from, as the manifest names it (empty when it names none).
        self.screened_source = screened_source
        # The findings as found (in the order found, classified): what the command line summarises. A result read
        # back from a screen folder has only its findings table.
        self._problems = problems
        # Tables not yet in the connection, each with what reads it in (a screen folder's reasons.csv, read and
        # checked when first asked for: `screen_folder`). A reader that fails stays, and fails again when asked.
        self._unread = dict(unread or {})
        # The screen ran without insertion order (so DuckDB could stream and spill); from here on the connection
        # only serves outputs, which must keep their ORDER BY: DuckDB's parallel CSV/Parquet writers honour it
        # only with insertion order on.
        con.execute("SET preserve_insertion_order = true")

    def query(
        self, name: str, *, ordered: bool = True, con: duckdb.DuckDBPyConnection | None = None
    ) -> duckdb.DuckDBPyRelation:
        """One output table (patients, events, reasons, findings) as a DuckDB relation, in output order (unless
        `ordered` is false: the writer orders what it writes itself).

        The values are exactly what the CSV files hold (dates as YYYY-MM-DD text); the writer reads this. `con`: a
        cursor of the result's connection to read on (the writer writes the files side by side, one cursor each).
        """
        result = self._table(name)
        select = ", ".join(_output_expression(c) for c in result.columns)
        order_by = result.order_by if ordered else ""
        return (con or self.con).sql(f"SELECT {select} FROM {result.table}{order_by}")

    def typed_query(self, name: str) -> duckdb.DuckDBPyRelation:
        """One output table in output order with its columns in their own types (dates as DATE)."""
        result = self._table(name)
        select = ", ".join(identifier(c) for c in result.columns)
        return self.con.sql(f"SELECT {select} FROM {result.table}{result.order_by}")

    def as_text(self, name: str) -> pd.DataFrame:
        """One output table as its CSV file writes it: every value text (dates YYYY-MM-DD), None when empty; a cell the
        file marks with a leading apostrophe (one a spreadsheet would read as a formula) is given as it is, unmarked."""
        frame = self.query(name).df()
        return frame.astype(object).where(frame.notna(), None)

    def rows_where(self, name: str, column: str, values: Iterable[str]) -> pd.DataFrame:
        """The rows of one output table whose `column` holds one of `values`, in output order, typed as `patients`
        and the other frames are: a few patients' rows without converting every patient's.

        The values travel as a parameter, never as SQL text.
        """
        result = self._table(name)
        if column not in result.columns:
            raise ValueError(f"{name} has no column {column!r}")
        select = ", ".join(identifier(c) for c in result.columns)
        wanted = f"{identifier(column)} IN (SELECT unnest(CAST($values AS VARCHAR[])))"
        query = f"SELECT {select} FROM {result.table} WHERE {wanted}{result.order_by}"
        return self._typed(self.con.execute(query, {"values": list(values)}).df(), name)

    def _table(self, name: str) -> ResultTable:
        """The output table `name`, read into the connection first if it has not been yet; a name that is no output
        table (`as_text("worklist")`, `query("patient")`) is a UsageError naming the tables, not a KeyError."""
        if name not in RESULT_TABLES:
            raise UsageError(f"{name!r} is not an output table: choose one of {', '.join(RESULT_TABLES)}")
        result = RESULT_TABLES[name]
        read = self._unread.get(name)
        if read is not None:
            read()
            del self._unread[name]
        return result

    def _frame(self, name: str) -> pd.DataFrame:
        return self._typed(self.typed_query(name).df(), name)

    @staticmethod
    def _typed(frame: pd.DataFrame, name: str) -> pd.DataFrame:
        """A table as pandas: text as str (None when missing), dates as datetime64, outcomes and statuses as
        categoricals in their order (pass, fail, unknown, review; eligible, unknown, ineligible), line numbers and
        row numbers as nullable integers."""
        import pandas as pd

        for column in frame.columns:
            values = frame[column]
            if column in _CATEGORIES:
                frame[column] = _categorical(values, _CATEGORIES[column], f"{name}.{column}")
            elif column in DATE_COLUMNS:
                frame[column] = pd.to_datetime(values)
            elif column in ("line_number", "row"):
                frame[column] = values.astype("Int64")
            elif column == "is_best_event":
                frame[column] = values.astype(bool)
            else:
                frame[column] = values.astype(object).where(values.notna(), None)
        return frame

    @property
    def patients(self) -> pd.DataFrame:
        """One row per patient: status, best event, the 18 criterion outcomes (categoricals)."""
        return self._frame("patients")

    @property
    def events(self) -> pd.DataFrame:
        """One row per candidate event (screening scan) with its criterion outcomes."""
        return self._frame("events")

    @property
    def reasons(self) -> pd.DataFrame:
        """For each patient's best event: every criterion's outcome, the rule it took and why, in words."""
        return self._frame("reasons")

    @property
    def findings(self) -> pd.DataFrame:
        """Data-quality findings that did not stop the screen, with their severity (warning, information)."""
        return self._frame("findings")

    def to_polars(self, name: str) -> pl.DataFrame:
        """One output table (patients, events, reasons, findings) as a polars DataFrame: dates as `pl.Date`,
        outcomes and statuses as `pl.Enum` in their order, through Arrow without pandas."""
        import polars as pl

        frame = pl.from_arrow(self.typed_query(name).to_arrow_table())
        assert isinstance(frame, pl.DataFrame)
        return frame.with_columns(
            [pl.col(c).cast(pl.Enum(list(_CATEGORIES[c]))) for c in frame.columns if c in _CATEGORIES]
        )

    def problems(self) -> list[Problem]:
        """The findings as `Problem`s (classified): in the order found for a fresh screen, else as stored."""
        if self._problems is not None:
            return list(self._problems)
        columns = ", ".join(identifier(c) for c in PROBLEM_COLUMNS)
        return problems_from_rows(self.query("findings").select(columns).fetchall())

    def counts(self) -> dict[str, int]:
        """Patients per status, in STATUS_ORDER (eligible, unknown, ineligible), 0 for a status no patient has.

        Always the same keys in the same order (DuckDB groups in no fixed order), so that counts print as the
        tables and the repr read, and the counts of two results line up.
        """
        rows = dict(self.con.execute("SELECT status, count(*) FROM result_patients GROUP BY status").fetchall())
        return {status: int(rows.get(status, 0)) for status in STATUS_ORDER}

    def outcome_counts(self) -> list[tuple[str, dict[str, int]]]:
        """Patients per outcome of each criterion (their best event), criteria in protocol order."""
        selects = ", ".join(f"count(*) FILTER ({c} = '{o}')" for c in CRITERION_IDS for o in OUTCOMES)
        # fetchall, not fetchone: a result left unfinished blocks every later query on the connection.
        (counts,) = self.con.execute(f"SELECT {selects} FROM result_patients").fetchall()
        per_criterion = len(OUTCOMES)
        return [
            (c, dict(zip(OUTCOMES, counts[i * per_criterion : (i + 1) * per_criterion], strict=True)))
            for i, c in enumerate(CRITERION_IDS)
        ]

    def why(self, patient_id: str) -> str:
        """Why a patient has their status, as an analyst asks it: each criterion of their best event that did not
        pass (fail, then unknown, then review, in protocol order), with the reason the screen gave for it.

        The words are `reasons.csv`'s, read for this patient only; an id that is not in the result is a UsageError.
        """
        import pandas as pd

        patient = self.rows_where("patients", "patient_id", [str(patient_id)])
        if patient.empty:
            raise UsageError(f"patient {str(patient_id)!r} is not in this result")
        row = patient.iloc[0]
        reasons = self.rows_where("reasons", "patient_id", [str(patient_id)])
        best = row["event_id"]
        # With --explain all-events every event has reasons: the status is that of the best event (or of the
        # cut-off, for a patient without one).
        reasons = reasons[reasons["event_id"].isna()] if pd.isna(best) else reasons[reasons["event_id"] == best]
        scanned = "" if pd.isna(row["screening_date"]) else f", scan of {pd.Timestamp(row['screening_date']):%Y-%m-%d}"
        at = "no candidate event" if pd.isna(best) else f"best event {best}{scanned}"
        lines = [f"{row['patient_id']} ({row['site_id']}): {row['status']}; {at}"]
        rank = {outcome: i for i, outcome in enumerate(("fail", "unknown", "review"))}
        shown = reasons[reasons["outcome"].astype(str).isin(rank)]
        order = shown["outcome"].astype(str).map(rank).to_numpy()
        for reason in shown.iloc[order.argsort(kind="stable")].itertuples():
            lines.append(f"  {reason.outcome:<8} {reason.criterion:<28} {reason.reason}")
        if shown.empty:
            lines.append("  every criterion passes")
        return "\n".join(lines)

    def outcome_table(self) -> pd.DataFrame:
        """Patients per outcome of each criterion (their best event), criteria in protocol order, as a DataFrame
        indexed by criterion with one column per outcome."""
        import pandas as pd

        frame = pd.DataFrame.from_dict(dict(self.outcome_counts()), orient="index", columns=list(OUTCOMES))
        return frame.rename_axis("criterion")

    def write(self, out_dir: str | Path | OutputFolder, *, parquet: bool = False) -> Path:
        """Write the result files atomically into `out_dir` (see oligo_cohort.outputs).

        `out_dir` is replaced only when it is empty or an earlier screen result, never when it is or holds an
        input (oligo_cohort.destination); otherwise a DestinationError (a UsageError) says why.
        """
        from oligo_cohort.outputs import write_result

        return write_result(self, out_dir, parquet=parquet)

    def manifest(self, *, worklist_rows: int | None = None) -> dict[str, object]:
        """What produced this result: protocol, parameters, cut-off, engine, counts.

        `worklist_rows`: the rows of the worklist as written (the writer counts them, so that its query runs once);
        counted here when not given.
        """
        counts = {
            name: self.con.execute(f"SELECT count(*) FROM {self._table(name).table}").fetchall()[0][0]
            for name in RESULT_TABLES
        }
        if self.worklist:
            # Recorded like the others, so that a worklist.csv cut short at a line end is refused when read back.
            if worklist_rows is None:
                from oligo_cohort.worklist import worklist_relation

                worklist_rows = worklist_relation(self).aggregate("count(*)").fetchall()[0][0]
            counts["worklist"] = worklist_rows
        return {
            "tool": "oligo-cohort",
            "protocol": {
                "name": self.protocol.name,
                "version": self.protocol.version,
                "title": self.protocol.title,
                "source": self.protocol.source,
            },
            "parameters": self.protocol.parameters.as_row(),
            "as_of": self.as_of.isoformat(),
            "engine": self.engine,
            "worklist": self.worklist,
            "rows": counts,
            "status": {status: n for status, n in sorted(self.counts().items()) if n},  # statuses held
        }

    def finding_counts(self) -> dict[str, int]:
        """Findings per severity (warning, information), rows only counted in a "... and N more" line included."""
        return counts_by_severity(self.problems())

    def _described(self) -> tuple[int, dict[str, int], int, dict[str, int]]:
        counts = self.counts()
        events = int(self.con.execute("SELECT count(*) FROM result_events").fetchall()[0][0])
        return sum(counts.values()), counts, events, self.finding_counts()

    def __repr__(self) -> str:
        total, counts, events, findings = self._described()
        statuses = ", ".join(f"{counts.get(s, 0):,} {s}" for s in STATUS_ORDER)
        found = severity_words(findings) or "none"
        lines = [
            f"ScreeningResult: {total:,} patients ({statuses}); {events:,} candidate events",
            f"  protocol {self.protocol.name} ({self.protocol.version}), cut-off {self.as_of}, engine {self.engine}"
            + (", worklist mode" if self.worklist else ""),
            f"  findings: {found}",
        ]
        if self.source:
            lines.append(f"  source: {self.source}")
        lines.append("  .patients .events .reasons .findings (pandas), .to_polars(name), .write(folder)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """A notebook's view: counts by status, the run's settings and the findings by severity."""
        total, counts, events, findings = self._described()
        cell = "style='text-align:right;padding:0 0.6em'"
        rows = "".join(f"<tr><td>{html.escape(s)}</td><td {cell}>{counts.get(s, 0):,}</td></tr>" for s in STATUS_ORDER)
        rows += f"<tr><th style='text-align:left'>patients</th><th {cell}>{total:,}</th></tr>"
        settings = {
            "protocol": f"{self.protocol.name} ({self.protocol.version})",
            "cut-off": str(self.as_of),
            "engine": self.engine + (", worklist mode" if self.worklist else ""),
            "candidate events": f"{events:,}",
            "findings": severity_words(findings) or "none",
        }
        if self.source:
            settings["source"] = self.source
        facts = "".join(
            f"<tr><th style='text-align:left;padding-right:0.8em'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in settings.items()
        )
        return (
            "<div><b>ScreeningResult</b>"
            "<div style='display:flex;gap:2em;align-items:flex-start'>"
            f"<table><thead><tr><th style='text-align:left'>status</th><th {cell}>patients</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            f"<table><tbody>{facts}</tbody></table></div>"
            "<div style='color:#666'><code>.patients</code> <code>.events</code> <code>.reasons</code> "
            "<code>.findings</code> (pandas), <code>.to_polars(name)</code>, <code>.write(folder)</code></div></div>"
        )


def _categorical(values: pd.Series, categories: tuple[str, ...], where: str) -> pd.Series:
    """Text values as a categorical of `categories` (in that order); a value outside them is an error, never NaN."""
    import pandas as pd

    # The distinct values are checked, not every value, and the categorical is made from the column as it is:
    # value by value, the 38 outcome and status columns of 100,000 patients' events took 6 s.
    unexpected = sorted(set(map(str, values.dropna().unique())) - set(categories))
    if unexpected:
        raise ValueError(f"{where} holds {unexpected[0]!r}, not one of {', '.join(categories)}")
    return pd.Series(pd.Categorical(values, categories=list(categories)), index=values.index)


def _output_expression(column: str) -> str:
    """Dates as ISO text, so the DataFrames hold exactly what the CSV files hold."""
    quoted = identifier(column)
    if column in DATE_COLUMNS:
        return f"strftime({quoted}, '%Y-%m-%d') AS {quoted}"
    return quoted
