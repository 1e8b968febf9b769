"""The Spark engine: the SQL files transpiled to Spark SQL, and Spark's outputs identical to DuckDB's and pandas'.

Run with `pytest -m spark` (or `make spark-check`): it needs the [spark] extra and Java 17+. One local Spark
session serves the whole test run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.spark

pytest.importorskip("pyspark")
pytest.importorskip("sqlglot")

from oligo_cohort.api import screen  # noqa: E402
from oligo_cohort.engines import spark as spark_engine  # noqa: E402
from oligo_cohort.engines.duckdb_engine import MODELS  # noqa: E402
from oligo_cohort.engines.spark.handoff import input_tables  # noqa: E402
from oligo_cohort.paths import demo_extract_dir  # noqa: E402

OUTPUT_FILES = ("patients.csv", "events.csv", "reasons.csv")


# --- Transpiling --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.path)
def test_every_model_transpiles(model) -> None:
    program = spark_engine.spark_program(model)
    assert program.query.strip()
    for step in program.steps:
        assert step.sql.strip()


def test_month_arithmetic_becomes_add_months() -> None:
    sql = spark_engine.transpile("SELECT CAST(d + to_months(p.n) AS DATE), d - to_years(5) FROM t CROSS JOIN p")
    assert "ADD_MONTHS(d, (p.n))" in sql
    assert "ADD_MONTHS(d, -((5) * 12))" in sql


def test_list_has_all_becomes_array_except() -> None:
    assert "SIZE(ARRAY_EXCEPT(b, a)) = 0" in spark_engine.transpile("SELECT list_has_all(a, b) FROM t")


def test_unordered_row_number_becomes_an_id() -> None:
    sql = spark_engine.transpile("SELECT row_number() OVER () AS k, row_number() OVER (ORDER BY x) AS r FROM t")
    assert "MONOTONICALLY_INCREASING_ID()" in sql
    assert "ROW_NUMBER() OVER (ORDER BY x" in sql


def test_recursive_cte_becomes_iterated_steps() -> None:
    program = spark_engine.plan(
        "WITH RECURSIVE base AS (SELECT 1 AS n), steps (n) AS (SELECT n FROM base UNION ALL "
        "SELECT n + 1 FROM steps WHERE n < 3), tail AS (SELECT n FROM steps) SELECT max(n) FROM tail",
        "m",
    )
    assert [(s.view, s.kind) for s in program.steps] == [("m__base", "view"), ("m__steps", "recursive")]
    assert "m__steps__previous AS steps" in program.steps[1].step_sql
    assert "FROM m__steps AS steps" in program.query
    assert "RECURSIVE" not in program.query


def test_recursive_cte_evaluated_by_iteration() -> None:
    spark = spark_engine.session()
    program = spark_engine.plan(
        "WITH RECURSIVE steps (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM steps WHERE n < 5) SELECT sum(n) AS s "
        "FROM steps",
        "t_rec",
    )
    assert spark_engine.run_program(spark, program, "t_rec").collect()[0]["s"] == 15


# --- The same outputs as DuckDB and pandas ---------------------------------------------------------------


def _outputs(source, engine: str, folder: Path) -> dict[str, bytes]:
    screen(source, engine=engine).write(folder / engine)
    return {name: (folder / engine / name).read_bytes() for name in OUTPUT_FILES}


@pytest.fixture(scope="module")
def generated_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from oligo_cohort.cli import main

    out = tmp_path_factory.mktemp("synth") / "extract"
    assert main(["synth", "--patients", "2000", "--sites", "5", "--seed", "7", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.parametrize("which", ["demo", "generated"])
def test_spark_duckdb_and_pandas_write_identical_files(which: str, generated_extract: Path, tmp_path: Path) -> None:
    source = demo_extract_dir() if which == "demo" else generated_extract
    spark = _outputs(source, "spark", tmp_path)
    duck = _outputs(source, "duckdb", tmp_path)
    pand = _outputs(source, "pandas", tmp_path)
    assert spark["patients.csv"] == duck["patients.csv"] == pand["patients.csv"]
    for name in ("events.csv", "reasons.csv"):
        assert spark[name] == duck[name], f"{name} differs between Spark and DuckDB"


# --- Spark tables in, partitioned Parquet out -------------------------------------------------------------


def test_spark_tables_and_partitioned_output(tmp_path: Path) -> None:
    from oligo_cohort.load import load_extract

    spark = spark_engine.session()
    loaded = load_extract(demo_extract_dir())
    for table in input_tables():  # the lake: the loaded tables, as Spark sees them
        path = tmp_path / "lake" / f"{table}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        loaded.con.execute(f"COPY {table} TO '{path}' (FORMAT parquet)")
        spark.read.parquet(str(path)).createOrReplaceTempView(table)
    spark_engine.configure(output=str(tmp_path / "lake-out"))
    try:
        from_tables = screen(spark_engine.SparkTables(), engine="spark", as_of=loaded.as_of)
    finally:
        spark_engine.configure(output=None)
    from_folder = screen(demo_extract_dir(), engine="duckdb")
    assert from_tables.patients.equals(from_folder.patients)
    assert from_tables.reasons.equals(from_folder.reasons)
    written = spark.read.parquet(str(tmp_path / "lake-out" / "patients"))
    assert written.count() == len(from_folder.patients)
    assert "site_id" in written.columns
    assert any(p.name.startswith("site_id=") for p in (tmp_path / "lake-out" / "patients").iterdir())
