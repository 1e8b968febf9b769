"""Screen one extract with both engines and compare their outputs exactly.

The extract is loaded once (loading is shared code, not under test); each
engine then screens the loaded tables, explaining every candidate event
(`explain="all-events"`), so that every unit's decision is compared. What
`ScreeningResult.write` would put in `patients.csv`, `events.csv` and
`reasons.csv` (rule and reason text included) must be identical, value for
value and type for type (each row is rendered as a CSV line); so must the
facts behind every reason (`oligo_cohort.explain.facts_sql`: one row per unit
and criterion, one typed column per fact) and the shape of `result_facts`; in
worklist mode the worklist too. Writing the files themselves is shared code and
is left out to keep examples fast.
"""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass

import duckdb

from oligo_cohort.api import _screen_loaded
from oligo_cohort.explain import facts_sql
from oligo_cohort.load import LoadedExtract, load_extract
from oligo_cohort.protocol import Protocol
from oligo_cohort.results import FACTS_TABLE
from oligo_cohort.worklist import worklist_relation
from tests.differential.extracts import GeneratedExtract

ENGINES = ("duckdb", "pandas")
RESULT_TABLES = ("result_events", "result_patients", FACTS_TABLE, "result_reasons")
FACTS = "facts"  # the facts in long form (not a file: what the reasons of every unit are worded from)
FACTS_SHAPE = "result_facts columns"

# How rows are matched between the engines' outputs, to name the values that differ.
KEYS = {
    "patients.csv": ("patient_id",),
    "events.csv": ("patient_id", "event_id"),
    "reasons.csv": ("patient_id", "event_id", "criterion"),
    FACTS: ("patient_id", "event_id", "criterion"),
    "worklist.csv": ("patient_id",),
}
Output = dict[str, list[str]]  # file name -> header line, then one CSV line per row


@dataclass(frozen=True)
class Difference:
    file: str
    duckdb: list[str]
    pandas: list[str]

    def render(self) -> str:
        diff = difflib.unified_diff(self.duckdb, self.pandas, "duckdb", "pandas", n=0, lineterm="")
        header = self.duckdb[0] if self.duckdb else ""
        lines = [f"{self.file} (columns: {header}):", *(line for line in diff if not line.startswith("@@"))]
        return "\n".join([*lines, *self.changed_cells()])

    def changed_cells(self) -> list[str]:
        """Rows present in both outputs (by key) with the values that differ, one line per row."""
        key = KEYS.get(self.file)
        if key is None or not self.duckdb or not self.pandas or self.duckdb[:2] != self.pandas[:2]:
            return []
        duck, pand = (_rows_by_key(lines, key) for lines in (self.duckdb, self.pandas))
        described = []
        for k in sorted(duck.keys() & pand.keys()):
            cells = [f"{c}: duckdb {duck[k][c]!r}, pandas {pand[k][c]!r}" for c in duck[k] if duck[k][c] != pand[k][c]]
            if cells:
                described.append(f"  {'/'.join(k)}: " + "; ".join(cells))
        only = sorted(duck.keys() ^ pand.keys())
        described += [f"  {'/'.join(k)}: only in {'duckdb' if k in duck else 'pandas'}" for k in only]
        return described

    def patient_ids(self) -> set[str]:
        """Patients on a differing line."""
        if not self.duckdb or "patient_id" not in self.duckdb[0].split(","):
            return set()
        changed = set(self.duckdb[1:]) ^ set(self.pandas[1:])
        rows = csv.DictReader(io.StringIO("\n".join([self.duckdb[0], *sorted(changed)])))
        return {row["patient_id"] for row in rows if row.get("patient_id")}


def _rows_by_key(lines: list[str], key: tuple[str, ...]) -> dict[tuple[str, ...], dict[str, str]]:
    rows = csv.DictReader(io.StringIO("\n".join([lines[0], *lines[2:]])))  # lines[1] holds the column types
    return {tuple(row[c] for c in key): row for row in rows}


def _facts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every explained unit's rule and facts, in a fixed order (units have no shared id across engines)."""
    return _lines(con.sql(f"SELECT * FROM ({facts_sql()}) ORDER BY patient_id, event_id NULLS FIRST, criterion"))


def _shape(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The columns of result_facts and their types (each struct's fields in order)."""
    return [f"{name} {kind}" for name, kind, *_ in con.execute(f"DESCRIBE {FACTS_TABLE}").fetchall()]


def _lines(relation: duckdb.DuckDBPyRelation) -> list[str]:
    """A relation as CSV lines (header, then types): values as Python renders them, so 1 and 1.0 differ."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(relation.columns)
    writer.writerow(str(t) for t in relation.types)
    writer.writerows(relation.fetchall())
    return buffer.getvalue().splitlines()


def screen_both(extract: GeneratedExtract) -> dict[str, Output]:
    """Load once, screen with each engine: each engine's outputs as CSV lines."""
    loaded = load_extract(extract.source(), as_of=extract.as_of)
    try:
        return screen_loaded_both(loaded, extract.protocol(), worklist=extract.worklist)
    finally:
        loaded.con.close()


def screen_loaded_both(loaded: LoadedExtract, protocol: Protocol, *, worklist: bool = False) -> dict[str, Output]:
    """Screen loaded tables with each engine, explaining every event: each engine's outputs as CSV lines."""
    outputs = {}
    for engine in ENGINES:
        for table in RESULT_TABLES:  # nothing of the other engine's result may linger
            loaded.con.execute(f"DROP TABLE IF EXISTS {table}")
        result = _screen_loaded(loaded, protocol, engine=engine, worklist=worklist, explain="all-events")
        output = {
            "patients.csv": _lines(result.query("patients")),
            "events.csv": _lines(result.query("events")),
            "reasons.csv": _lines(result.query("reasons")),
            FACTS: _facts(loaded.con),
            FACTS_SHAPE: _shape(loaded.con),
        }
        if worklist:
            output["worklist.csv"] = _lines(worklist_relation(result))
        outputs[engine] = output
    return outputs


def facts_rows(output: Output) -> dict[tuple[str, str | None, str], dict[str, str]]:
    """The facts of one engine's output by (patient, event, criterion); values as CSV text ('' = missing)."""
    lines = output[FACTS]
    rows = csv.DictReader(io.StringIO("\n".join([lines[0], *lines[2:]])))  # lines[1] holds the column types
    return {(row["patient_id"], row["event_id"] or None, row["criterion"]): row for row in rows}


def differences(outputs: dict[str, Output]) -> list[Difference]:
    """The outputs on which the engines disagree."""
    duck, pand = (outputs[engine] for engine in ENGINES)
    return [Difference(name, duck[name], pand[name]) for name in duck if duck[name] != pand[name]]


def report(extract: GeneratedExtract, found: list[Difference]) -> str:
    """The failure message: the extract as a spec case (only the patients that differ) and the differing rows."""
    patients = set().union(*(d.patient_ids() for d in found))
    shown = extract.only(patients) if patients else extract
    scope = f"patients {', '.join(sorted(patients))}" if patients else "the whole extract"
    return "\n".join(
        [
            f"The engines disagree ({scope}). The extract, ready to paste into a spec test (tests/spec):",
            "",
            shown.as_spec_case(),
            "",
            "Differing rows (- duckdb, + pandas):",
            *(d.render() for d in found),
        ]
    )
