"""SQL safety: input values, protocol parameters and paths never become SQL text.

Values reach DuckDB as data (Arrow tables, bound `?`/`$name` parameters);
paths go through DuckDB's Python API; only identifiers and codes from the
data dictionary and the protocol's own parameter names are written into SQL.
An extract full of SQL-looking values, in a folder whose name holds quotes,
screened into another such folder, is read as the values it holds.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from oligo_cohort.cli import main
from tests.loading.test_bad_input import VALID, write_extract

INJECTION = "'); DROP TABLE patients; --"
ID = "P2" + INJECTION
QUOTED_FOLDER = 'it\'s a "quoted" folder; DROP TABLE x; --'


def injected_extract(folder: Path) -> Path:
    tables = {name: text.replace("P2,", f'"{ID.replace(chr(34), chr(34) * 2)}",') for name, text in VALID.items()}
    tables["patients"] = tables["patients"].replace("UMCU", f'"UMCU{INJECTION}"')
    tables["systemic_therapy"] = tables["systemic_therapy"].replace("tamoxifen", f'"tamoxifen{INJECTION}"')
    return write_extract(folder, tables)


def test_values_and_paths_that_look_like_sql_are_data(tmp_path, capsys):
    root = tmp_path / QUOTED_FOLDER
    extract = injected_extract(root / "extract")
    out = root / "out's"
    assert main(["screen", str(extract), "--out", str(out), "--quiet", "--parquet", "--worklist"]) == 0, (
        capsys.readouterr().err
    )
    patients = pd.read_csv(out / "patients.csv", dtype=str, keep_default_na=False).set_index("patient_id")
    assert sorted(patients.index) == sorted(["007", ID])
    assert patients.loc[ID, "site_id"] == "UMCU" + INJECTION
    findings = pd.read_csv(out / "findings.csv", dtype=str, keep_default_na=False)
    assert ("tamoxifen" + INJECTION) in set(findings["value"]), "the injected drug name is an unknown drug, as data"
    reasons = pd.read_parquet(out / "reasons.parquet")
    assert (reasons["patient_id"] == ID).sum() == 18


def test_a_duckdb_extract_with_quotes_in_its_path_and_values(tmp_path, capsys):
    csv_folder = injected_extract(tmp_path / "csv")
    database = tmp_path / QUOTED_FOLDER / "extract's.duckdb"
    database.parent.mkdir()
    with duckdb.connect(str(database)) as con:
        for file in csv_folder.glob("*.csv"):
            con.register("frame", pd.read_csv(file, dtype=str))
            con.execute(f"CREATE TABLE {file.stem} AS SELECT * FROM frame")
            con.unregister("frame")
    out = tmp_path / QUOTED_FOLDER / "out"
    assert main(["screen", str(database), "--out", str(out), "--quiet"]) == 0, capsys.readouterr().err
    assert ID in set(pd.read_csv(out / "patients.csv", dtype=str)["patient_id"])


@pytest.mark.parametrize(
    "option",
    [
        ["--set", f"reference={INJECTION}"],
        ["--set", f"size_floor_mm=15{INJECTION}"],
        ["--set", f"{INJECTION}=1"],
        ["--as-of", f"2021-03-01{INJECTION}"],
        ["--protocol", f"cosmo{INJECTION}"],
    ],
)
def test_parameters_that_look_like_sql_are_refused_as_usage_errors(tmp_path, capsys, option):
    extract = write_extract(tmp_path / "extract", VALID)
    code = main(["screen", str(extract), "--out", str(tmp_path / "out"), "--quiet", *option])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("oligo-cohort: error:") and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_protocol_file_with_quotes_in_its_path(tmp_path, capsys):
    from importlib import resources

    protocol = tmp_path / QUOTED_FOLDER / "my 'protocol'.yaml"
    protocol.parent.mkdir()
    protocol.write_text(resources.files("oligo_cohort.protocols").joinpath("cosmo.yaml").read_text(), encoding="utf-8")
    extract = write_extract(tmp_path / "extract", VALID)
    out = tmp_path / "out"
    code = main(["screen", str(extract), "--out", str(out), "--quiet", "--protocol", str(protocol)])
    assert code == 0, capsys.readouterr().err
    assert str(protocol) in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["protocol"]["source"]


class RecordingConnection:
    """A DuckDB connection that records the text of every SQL statement it is given."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.statements: list[str] = []

    def execute(self, query, *args, **kwargs):
        self.statements.append(str(query))
        return self._con.execute(query, *args, **kwargs)

    def sql(self, query, *args, **kwargs):
        self.statements.append(str(query))
        return self._con.sql(query, *args, **kwargs)

    def executemany(self, query, *args, **kwargs):
        self.statements.append(str(query))
        return self._con.executemany(query, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._con, name)


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_no_input_value_or_path_is_ever_in_sql_text(tmp_path, engine):
    from oligo_cohort.api import _screen_loaded
    from oligo_cohort.load import load_extract
    from oligo_cohort.protocol import load_protocol

    extract = injected_extract(tmp_path / QUOTED_FOLDER / "extract")
    con = RecordingConnection(duckdb.connect())
    loaded = load_extract(extract, con=con)  # type: ignore[arg-type]
    protocol = load_protocol("cosmo").with_overrides({"size_floor_mm": "15"})
    result = _screen_loaded(loaded, protocol, engine=engine, worklist=True)
    result.write(tmp_path / QUOTED_FOLDER / "out", parquet=True)
    assert len(con.statements) > 20
    leaked = [s for s in con.statements if "DROP TABLE patients" in s or "quoted" in s or "tamoxifen" in s]
    assert not leaked, leaked[:3]
