"""The Spark engine: the SQL models of `sql/` transpiled from DuckDB SQL to Spark SQL at run time and run by Spark.

One source of truth: the same files as the DuckDB engine (`duckdb_engine.MODELS`, in the same order), read when
the engine runs and translated with sqlglot (`read="duckdb", write="spark"`). sqlglot maps almost everything; the
few DuckDB constructs it leaves untranslated are rewritten on the parsed tree, keyed by construct, never by file
text (see `REWRITES` and docs/spark.md), so a later change to the SQL flows through unchanged.

Input, either
- an extract loaded by `load_extract` (validated, typed, cut-off applied, in DuckDB): its tables are handed to
  Spark as Parquet files in a temporary folder (local master) or as Arrow tables (a cluster); or
- `SparkTables(database)`: tables of the data model already held by Spark (a data lake); the cut-off is applied
  in Spark by the transpiled `sql/staging` files.

The three result tables come back into the DuckDB connection (so the usual writer produces the same CSV files);
with `output` set (`OLIGO_SPARK_OUTPUT`, `--spark-output`) Spark also writes them as Parquet partitioned by site
(reasons by criterion).

Settings come from the environment (docs/spark.md): OLIGO_SPARK_MASTER (default local[*]; ignored when the
process already runs inside Spark: spark-submit, Databricks), OLIGO_SPARK_DRIVER_MEMORY (4g),
OLIGO_SPARK_SHUFFLE_PARTITIONS (8), OLIGO_SPARK_HANDOFF (files|arrow; files on a local master),
OLIGO_SPARK_TMP (folder for the handoff files), OLIGO_SPARK_OUTPUT (URI for partitioned Parquet results),
OLIGO_SPARK_CONF (extra `key=value` Spark settings separated by `;`).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from oligo_cohort.engines.duckdb_engine import MODELS, RESULT_TABLES, Model, last_readers
from oligo_cohort.errors import UsageError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from sqlglot import exp

    from oligo_cohort.load import LoadedExtract

__all__ = [
    "REWRITES",
    "SparkSettings",
    "SparkTables",
    "configure",
    "plan",
    "run",
    "session",
    "spark_program",
    "spark_sql",
    "transpile",
]

# Tables every model may read besides the input model: the vocabulary and the run's parameters.
SHIPPED_TABLES = ("drug_vocabulary", "drug_components", "params")
# Marker table in the DuckDB connection: the input tables are already staged in Spark (SparkTables).
SPARK_INPUT_MARKER = "spark_input"
# How Spark writes the results as partitioned Parquet: result table -> partition column.
OUTPUT_PARTITIONS = {"result_patients": "site_id", "result_events": "site_id", "result_reasons": "criterion"}


# --------------------------------------------------------------------------------------------------------------
# Settings and session


@dataclass(frozen=True)
class SparkSettings:
    """How the engine gets its Spark session and moves data in and out of it."""

    master: str = "local[*]"
    driver_memory: str = "4g"
    shuffle_partitions: int = 4
    handoff: str = ""  # "files" or "arrow"; empty: files on a local master, else arrow
    tmp: str | None = None
    output: str | None = None
    conf: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> SparkSettings:
        env = os.environ
        conf = {}
        for item in env.get("OLIGO_SPARK_CONF", "").split(";"):
            key, sep, value = item.partition("=")
            if sep:
                conf[key.strip()] = value.strip()
        return cls(
            master=env.get("OLIGO_SPARK_MASTER", cls.master),
            driver_memory=env.get("OLIGO_SPARK_DRIVER_MEMORY", cls.driver_memory),
            shuffle_partitions=int(env.get("OLIGO_SPARK_SHUFFLE_PARTITIONS", cls.shuffle_partitions)),
            handoff=env.get("OLIGO_SPARK_HANDOFF", ""),
            tmp=env.get("OLIGO_SPARK_TMP") or None,
            output=env.get("OLIGO_SPARK_OUTPUT") or None,
            conf=conf,
        )


_overrides: dict[str, Any] = {}


def configure(**overrides: Any) -> None:
    """Override settings for this process (the CLI's --spark-output); None removes an override."""
    for key, value in overrides.items():
        if value is None:
            _overrides.pop(key, None)
        else:
            _overrides[key] = value


def settings() -> SparkSettings:
    """The settings in force: the environment, then `configure` overrides."""
    return replace(SparkSettings.from_env(), **_overrides)


def _require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError:
        raise UsageError(
            "the spark engine needs pyspark and sqlglot: pip install 'oligo-cohort[spark]' (and Java 17+)"
        ) from None


_session: SparkSession | None = None


def session() -> SparkSession:
    """The Spark session: the one already running (spark-submit, Databricks, a test), else a local one, made once."""
    global _session
    _require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        _session = active
        _configure_session(active)
        return active
    if _session is not None:
        return _session
    chosen = settings()
    builder = SparkSession.builder.appName("oligo-cohort")
    if "PYSPARK_GATEWAY_PORT" not in os.environ:  # not launched by spark-submit: we choose the master
        builder = builder.master(chosen.master).config("spark.driver.memory", chosen.driver_memory)
        if chosen.master.startswith("local"):
            builder = builder.config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
    for key, value in chosen.conf.items():
        builder = builder.config(key, value)
    _session = builder.getOrCreate()
    _session.sparkContext.setLogLevel(os.environ.get("OLIGO_SPARK_LOG_LEVEL", "ERROR"))
    _configure_session(_session)
    return _session


def _configure_session(spark: SparkSession) -> None:
    """Runtime SQL settings the transpiled models rely on (safe to set on a shared session)."""
    chosen = settings()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.shuffle.partitions", str(chosen.shuffle_partitions))
    # Constraint propagation fails on the union of checkpointed iterations (NoSuchElementException in
    # UnionBase.rewriteConstraints, Spark 4.x) and is costly on the models' wide CASE expressions; the models
    # gain nothing from it (their filters are explicit).
    spark.conf.set("spark.sql.constraintPropagation.enabled", "false")
    # Lines of therapy step one episode per iteration: deep for a patient with a long history, and the number of
    # rows grows with the extract (Spark's defaults: 100 levels, 1M rows).
    spark.conf.set("spark.sql.cteRecursionLevelLimit", "10000")
    spark.conf.set("spark.sql.cteRecursionRowLimit", "-1")


def _is_local(spark: SparkSession) -> bool:
    return spark.sparkContext.master.startswith("local")


def _handoff(spark: SparkSession) -> str:
    chosen = settings().handoff
    if chosen and chosen not in ("files", "arrow"):
        raise UsageError(f"OLIGO_SPARK_HANDOFF={chosen!r}: choose files or arrow")
    return chosen or ("files" if _is_local(spark) else "arrow")


# --------------------------------------------------------------------------------------------------------------
# Transpiling DuckDB SQL to Spark SQL


def _to_add_months(node: exp.Expression) -> exp.Expression:
    """`date ± to_months(n)` / `date ± to_years(n)` → `add_months(date, ±n[*12])`.

    DuckDB's and Spark's month arithmetic agree: the day clamps at the month end (31 Aug + 6 months = 28/29 Feb).
    sqlglot passes DuckDB's to_months/to_years through unchanged, and Spark has no such functions.
    """
    from sqlglot import exp

    if not isinstance(node, exp.Add | exp.Sub):
        return node
    interval = node.expression
    if not isinstance(interval, exp.Anonymous) or interval.name.lower() not in ("to_months", "to_years"):
        return node
    months: exp.Expression = exp.paren(interval.expressions[0].copy())
    if interval.name.lower() == "to_years":
        months = exp.Mul(this=months, expression=exp.Literal.number(12))
    if isinstance(node, exp.Sub):
        months = exp.Neg(this=exp.paren(months))
    return exp.func("add_months", node.this.copy(), months)


def _list_has_all(node: exp.Expression) -> exp.Expression:
    """DuckDB `list_has_all(a, b)` (every element of b is in a) → Spark `size(array_except(b, a)) = 0`."""
    from sqlglot import exp

    if isinstance(node, exp.Anonymous) and node.name.lower() == "list_has_all":
        outer, inner = (e.copy() for e in node.expressions)
        return exp.paren(
            exp.EQ(this=exp.func("size", exp.func("array_except", inner, outer)), expression=exp.Literal.number(0))
        )
    return node


def _unordered_row_number(node: exp.Expression) -> exp.Expression:
    """`row_number() OVER ()` (a key, no order) → `monotonically_increasing_id()`: Spark wants an ordered window.

    Both give a unique number per row; the models use it only as a join key, and each model is materialised
    once, so the ids stay the same for every reader.
    """
    from sqlglot import exp

    if (
        isinstance(node, exp.Window)
        and isinstance(node.this, exp.RowNumber)
        and not node.args.get("partition_by")
        and not node.args.get("order")
    ):
        return exp.func("monotonically_increasing_id")
    return node


def _sorted_list_aggregate(node: exp.Expression) -> exp.Expression:
    """`list(x ORDER BY x)` → `array_sort(collect_list(x))`: sqlglot drops the ORDER BY of an ordered list()."""
    from sqlglot import exp

    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        ordered = node.this
        keys = ordered.expressions
        if len(keys) == 1 and keys[0].this == ordered.this and not keys[0].args.get("desc"):
            return exp.func("array_sort", exp.ArrayAgg(this=ordered.this.copy()))
        raise NotImplementedError(f"ordered list aggregate not mapped to Spark: {node.sql('duckdb')}")
    return node


# Each rewrite maps one DuckDB construct that sqlglot leaves untranslated (or translates wrongly for Spark).
REWRITES: tuple[Callable[[exp.Expression], exp.Expression], ...] = (
    _to_add_months,
    _list_has_all,
    _unordered_row_number,
    _sorted_list_aggregate,
)


def _parse(sql: str) -> exp.Expression:
    """A DuckDB statement as a sqlglot tree, with the rewrites applied."""
    import sqlglot

    tree = sqlglot.parse_one(sql, read="duckdb")
    for rewrite in REWRITES:
        tree = tree.transform(rewrite)
    return tree


def _spark(tree: exp.Expression) -> str:
    import sqlglot

    return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


def transpile(sql: str) -> str:
    """One DuckDB SELECT statement as one Spark SQL statement (recursive CTEs included: see `plan`)."""
    _require_pyspark()
    return _spark(_parse(sql))


@dataclass(frozen=True)
class Step:
    """One Spark view to materialise: `sql` (kind "view"), or a recursive CTE evaluated by iteration."""

    view: str
    sql: str
    kind: str = "view"  # "view" or "recursive"
    step_sql: str = ""  # recursive: the step, reading the previous iteration's rows as `<view>__previous`
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Program:
    """A model as Spark runs it: views to materialise first (CTEs up to the last recursive one), then the query."""

    steps: tuple[Step, ...]
    query: str


def plan(sql: str, prefix: str) -> Program:
    """The Spark program of one DuckDB statement.

    Spark SQL (4.1+) accepts WITH RECURSIVE, but re-plans the whole growing loop at every iteration: minutes for
    a handful of patients. A statement with a recursive CTE therefore becomes steps: each CTE up to the last
    recursive one is materialised as a view `<prefix>__<cte>` (its references renamed), a recursive CTE
    `anchor UNION ALL step` by iteration (anchor rows, then the step over the previous iteration's rows until
    it yields none: the semantics of SQL's recursive UNION ALL), and the rest of the statement reads the views.
    """
    _require_pyspark()
    from sqlglot import exp

    tree = _parse(sql)
    with_ = tree.args.get("with_") or tree.args.get("with")
    if with_ is None or not with_.args.get("recursive"):
        return Program((), _spark(tree))
    ctes = list(with_.expressions)
    recursive = [i for i, cte in enumerate(ctes) if _reads(cte.this, cte.alias)]
    if not recursive:
        with_.set("recursive", False)
        return Program((), _spark(tree))
    upto = max(recursive) + 1
    renamed = {cte.alias: f"{prefix}__{cte.alias}" for cte in ctes[:upto]}
    steps: list[Step] = []
    for position, cte in enumerate(ctes[:upto]):
        view = renamed[cte.alias]
        if position in recursive:
            body = cte.this
            if not isinstance(body, exp.Union) or body.args.get("distinct"):
                raise NotImplementedError(f"recursive CTE {cte.alias}: only `anchor UNION ALL step` is supported")
            columns = tuple(c.name for c in cte.args["alias"].columns)
            anchor = _renamed(body.this, renamed)
            step = _renamed(body.expression, {**renamed, cte.alias: f"{view}__previous"})
            steps.append(Step(view, _spark(anchor), "recursive", _spark(step), columns))
        else:
            steps.append(Step(view, _spark(_renamed(cte.this, renamed))))
    rest = ctes[upto:]
    final = _renamed(tree, renamed)
    final_with = final.args.get("with_") or final.args.get("with")
    if rest:
        final_with.set("expressions", [_renamed(cte, renamed) for cte in rest])
        final_with.set("recursive", False)
    else:
        final.set("with_" if "with_" in final.args else "with", None)
    return Program(tuple(steps), _spark(final))


def _reads(tree: exp.Expression, name: str) -> bool:
    from sqlglot import exp

    return any(t.name == name and not t.args.get("db") for t in tree.find_all(exp.Table))


def _renamed(tree: exp.Expression, names: dict[str, str]) -> exp.Expression:
    """A copy of `tree` reading the tables `names` maps under their new names (aliased to the old ones)."""
    from sqlglot import exp

    copy = tree.copy()
    for table in list(copy.find_all(exp.Table)):
        if table.args.get("db") or table.name not in names:
            continue
        if not table.alias:
            table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
        table.set("this", exp.to_identifier(names[table.name]))
    return copy


@cache
def _cached_plan(sql: str, prefix: str) -> Program:
    return plan(sql, prefix)


def spark_program(model: Model) -> Program:
    """The model's SQL file as a Spark program (re-read, and translated again when the file changed)."""
    return _cached_plan(model.sql(), model.table)


def spark_sql(model: Model) -> str:
    """The model's SQL file as one Spark SQL statement (for reading; the engine runs `spark_program`)."""
    return transpile(model.sql())


def staging_sql(table: str) -> str:
    """A `sql/staging` file (the cut-off), as Spark SQL."""
    from oligo_cohort.paths import sql_dir

    return _cached_plan((sql_dir() / "staging" / f"{table}.sql").read_text(encoding="utf-8"), table).query


# --------------------------------------------------------------------------------------------------------------
# Running the models


def run(con: duckdb.DuckDBPyConnection) -> None:
    """Screen the loaded tables in `con` with Spark: leave result_events, result_patients and result_reasons in it."""
    spark = session()
    with _Workdir(spark) as work:
        if _has_table(con, SPARK_INPUT_MARKER):
            _ship(con, spark, work, SHIPPED_TABLES)  # input tables already staged in Spark
        else:
            _ship(con, spark, work, (*_input_tables(), *SHIPPED_TABLES))
        results = build(spark)
        try:
            output = settings().output
            if output:
                write_partitioned(results, output)
            _bring_back(results, con, work)
        finally:
            for frame in results.values():
                frame.unpersist()


def build(spark: SparkSession) -> dict[str, DataFrame]:
    """Materialise every model in order as a temporary view; return the (cached) result tables.

    Each intermediate model is computed once (checkpointed) and released after its last reader, like the DuckDB
    engine's drops.
    """
    drop_after: dict[str, list[str]] = {}
    for table, reader in last_readers().items():
        drop_after.setdefault(reader, []).append(table)
    cached: dict[str, DataFrame] = {}
    for model in MODELS:
        try:
            cached[model.table] = run_program(spark, spark_program(model), model.table)
        except Exception as exc:
            raise RuntimeError(f"SQL model sql/{model.path}.sql failed on Spark: {exc}") from exc
        for table in drop_after.get(model.table, []):
            cached.pop(table).unpersist()
            spark.catalog.dropTempView(table)
    return {table: cached[table] for table in RESULT_TABLES}


def run_program(spark: SparkSession, program: Program, view: str) -> DataFrame:
    """Run a model's program; its result is cached and registered as the temporary view `view`."""
    helpers: list[DataFrame] = []
    for step in program.steps:
        frame = _iterate(spark, step) if step.kind == "recursive" else _materialise(spark.sql(step.sql))
        frame.createOrReplaceTempView(step.view)
        helpers.append(frame)
    result = _materialise(spark.sql(program.query))
    result.createOrReplaceTempView(view)
    for step, frame in zip(program.steps, helpers, strict=False):
        spark.catalog.dropTempView(step.view)
        frame.unpersist()
    for frame in helpers[len(program.steps) :]:
        frame.unpersist()
    return result


def _materialise(frame: DataFrame) -> DataFrame:
    """Compute `frame` once and cut its lineage (an eager local checkpoint, kept in memory and on disk).

    Caching alone keeps every model's whole plan inside the next one's: twenty models deep, Spark spends
    minutes printing and re-optimising plans. A checkpointed frame is a plain scan of its rows.
    """
    return frame.localCheckpoint(eager=True)


def _iterate(spark: SparkSession, step: Step) -> DataFrame:
    """A recursive CTE: the anchor's rows, then the step over the previous iteration's rows until none come."""
    from functools import reduce

    level = _materialise(spark.sql(step.sql).toDF(*step.columns))
    levels = [level]
    while True:
        level.createOrReplaceTempView(f"{step.view}__previous")
        following = _materialise(spark.sql(step.step_sql).toDF(*step.columns))
        if following.isEmpty():
            following.unpersist()
            break
        levels.append(following)
        level = following
    spark.catalog.dropTempView(f"{step.view}__previous")
    union = _materialise(reduce(lambda a, b: a.unionByName(b), levels))
    for frame in levels:
        frame.unpersist()
    return union


def write_partitioned(results: dict[str, DataFrame], output: str) -> None:
    """The result tables as Parquet under `output`/<table>/, partitioned by site (reasons by criterion)."""
    for table, frame in results.items():
        target = f"{output.rstrip('/')}/{table.removeprefix('result_')}"
        frame.write.mode("overwrite").partitionBy(OUTPUT_PARTITIONS[table]).parquet(target)


# --------------------------------------------------------------------------------------------------------------
# Moving tables between DuckDB and Spark


class _Workdir:
    """A temporary folder for the Parquet handoff (files mode), removed afterwards."""

    def __init__(self, spark: SparkSession) -> None:
        self.mode = _handoff(spark)
        self.path: Path | None = None

    def __enter__(self) -> _Workdir:
        if self.mode == "files":
            self.path = Path(tempfile.mkdtemp(prefix="oligo-spark-", dir=settings().tmp))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)


def _input_tables() -> tuple[str, ...]:
    from oligo_cohort.dictionary import tables

    return tuple(tables())


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchall()[0][0])


def _ship(con: duckdb.DuckDBPyConnection, spark: SparkSession, work: _Workdir, names: tuple[str, ...]) -> None:
    """The named DuckDB tables as Spark temporary views of the same names and types."""
    for name in names:
        if work.mode == "files":
            assert work.path is not None
            target = work.path / "in" / f"{name}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            con.table(name).write_parquet(str(target))  # the path is passed as a value, never pasted into SQL
            frame = spark.read.parquet(str(target))
        else:
            arrow = con.table(name).arrow()
            if hasattr(arrow, "read_all"):  # a record batch reader in newer DuckDB
                arrow = arrow.read_all()
            frame = spark.createDataFrame(arrow)
        frame.createOrReplaceTempView(name)


def _bring_back(results: dict[str, DataFrame], con: duckdb.DuckDBPyConnection, work: _Workdir) -> None:
    for table, frame in results.items():
        if work.mode == "files":
            assert work.path is not None
            target = work.path / "out" / table
            frame.write.mode("overwrite").parquet(str(target))
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.read_parquet(str(target / "*.parquet")).create(table)  # the path as a value, not SQL text
        else:
            con.register(f"{table}_arrow", frame.toArrow())
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table}_arrow")
            con.unregister(f"{table}_arrow")


# --------------------------------------------------------------------------------------------------------------
# Input from Spark tables


@dataclass(frozen=True)
class SparkTables:
    """An extract held by Spark: tables named as in the data model, in `database` (None: the current one).

    The tables must already hold the loaded-table contract of docs/design.md (typed columns; codes normalised as
    the loader does: see docs/spark.md): Spark casts each column to its model type and applies the cut-off with
    the `sql/staging` files, but does not repeat the loader's per-value validation at lake scale.
    """

    database: str | None = None
    is_spark_tables = True  # how `oligo_cohort.api.screen` tells this source apart without importing Spark

    def __str__(self) -> str:
        return f"spark:{self.database or '(current database)'}"

    def load(self, as_of: str | dt.date | None = None) -> LoadedExtract:
        """Stage the tables in Spark (typed, cut-off applied); return the loaded extract whose engine is Spark."""
        from oligo_cohort.dictionary import tables
        from oligo_cohort.load import LoadedExtract, _parse_as_of, connect
        from oligo_cohort.validate import create_vocabulary

        spark = session()
        present: set[str] = set()
        for table in tables().values():
            qualified = f"{self.database}.{table.name}" if self.database else table.name
            if spark.catalog.tableExists(qualified):
                present.add(table.name)
                _typed_view(spark, table, spark.table(qualified))
            elif table.required:
                raise UsageError(f"Spark table {qualified} is missing (a required table of the data model)")
            else:
                _typed_view(spark, table, None)
        cutoff = _parse_as_of(as_of) or _latest_spark_date(spark)
        spark.sql(f"SELECT DATE'{cutoff.isoformat()}' AS as_of").createOrReplaceTempView("run_cutoff")
        con = connect()
        create_vocabulary(con)
        # Staging maps drug names through the vocabulary's lookup: it must be in Spark before the staging SQL.
        lookup = con.table("drug_lookup").arrow()
        lookup = lookup.read_all() if hasattr(lookup, "read_all") else lookup
        spark.createDataFrame(lookup).createOrReplaceTempView("drug_lookup")
        for name in tables():
            spark.sql(staging_sql(name)).createOrReplaceTempView(name)
        con.execute(f"CREATE TABLE {SPARK_INPUT_MARKER} AS SELECT ? AS source", [str(self)])
        return LoadedExtract(con, cutoff, frozenset(present), [], str(self), ())


def _typed_view(spark: SparkSession, table: Any, frame: DataFrame | None) -> None:
    """`typed_<table>`: the model's columns cast to their types (missing optional columns as NULL)."""
    from oligo_cohort.validate import _sql_type

    spark_type = {"VARCHAR": "STRING", "DECIMAL(12, 3)": "DECIMAL(12, 3)"}
    present = set(frame.columns) if frame is not None else set()
    missing = [c.name for c in table.columns if c.required and c.name not in present]
    if frame is not None and missing:
        raise UsageError(f"Spark table {table.name} lacks the required column(s) {', '.join(missing)}")
    columns = ["_row" if "_row" in present else "monotonically_increasing_id() + 1 AS _row"]
    for c in table.columns:
        kind = spark_type.get(_sql_type(c), _sql_type(c))
        value = f"CAST(`{c.name}` AS {kind})" if c.name in present else f"CAST(NULL AS {kind})"
        if c.plausible_max is not None:  # as the loader: an implausible value reads as missing
            value = f"CASE WHEN {value} <= {c.plausible_max} THEN {value} END"
        columns.append(f"{value} AS `{c.name}`")
    if frame is None:
        spark.sql(f"SELECT {', '.join(columns)} WHERE FALSE").createOrReplaceTempView(f"typed_{table.name}")
    else:
        frame.selectExpr(*columns).createOrReplaceTempView(f"typed_{table.name}")


def _latest_spark_date(spark: SparkSession) -> dt.date:
    """The default cut-off, as the loader takes it: the latest date anywhere, birth dates aside."""
    from oligo_cohort.load import _date_columns

    parts = [f"SELECT max(`{c}`) AS d FROM typed_{t}" for t, c in _date_columns() if c != "birth_date"]
    latest = spark.sql(f"SELECT max(d) AS d FROM ({' UNION ALL '.join(parts)})").collect()[0]["d"]
    if latest is None:
        raise UsageError("the Spark tables hold no dates to take a cut-off from; give --as-of YYYY-MM-DD")
    return latest
