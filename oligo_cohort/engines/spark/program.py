"""A model as Spark runs it: the statement's views to materialise first, then its query; and running it.

Spark SQL (4.1+) accepts WITH RECURSIVE, but re-plans the whole growing loop at every iteration: minutes for a
handful of patients. A statement with a recursive CTE therefore becomes steps (`plan`), each materialised once
(`run_program`); a recursive step is evaluated by iteration, the semantics of SQL's recursive UNION ALL.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, reduce
from typing import TYPE_CHECKING

from oligo_cohort.engines.spark.session import require_pyspark
from oligo_cohort.engines.spark.translate import parse, to_spark, transpile

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from sqlglot import exp

    from oligo_cohort.engines.models import Model


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


# --------------------------------------------------------------------------------------------------------------
# Planning


def plan(sql: str, prefix: str) -> Program:
    """The Spark program of one DuckDB statement.

    Each CTE up to the last recursive one is materialised as a view `<prefix>__<cte>` (its references renamed), a
    recursive CTE `anchor UNION ALL step` by iteration (anchor rows, then the step over the previous iteration's
    rows until it yields none), and the rest of the statement reads the views. A statement without a recursive
    CTE is one query.
    """
    require_pyspark()
    from sqlglot import exp

    tree = parse(sql)
    with_ = tree.args.get("with_") or tree.args.get("with")
    if with_ is None or not with_.args.get("recursive"):
        return Program((), to_spark(tree))
    ctes = list(with_.expressions)
    recursive = [i for i, cte in enumerate(ctes) if _reads(cte.this, cte.alias)]
    if not recursive:
        with_.set("recursive", False)
        return Program((), to_spark(tree))
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
            steps.append(Step(view, to_spark(anchor), "recursive", to_spark(step), columns))
        else:
            steps.append(Step(view, to_spark(_renamed(cte.this, renamed))))
    rest = ctes[upto:]
    final = _renamed(tree, renamed)
    final_with = final.args.get("with_") or final.args.get("with")
    if rest:
        final_with.set("expressions", [_renamed(cte, renamed) for cte in rest])
        final_with.set("recursive", False)
    else:
        final.set("with_" if "with_" in final.args else "with", None)
    return Program(tuple(steps), to_spark(final))


def _reads(tree: exp.Expression, name: str) -> bool:
    """Whether `tree` reads the table (or CTE) `name`: a CTE reading itself is recursive."""
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
# Running


def run_program(spark: SparkSession, program: Program, view: str) -> DataFrame:
    """Run a model's program; its result is cached and registered as the temporary view `view`."""
    helpers: list[DataFrame] = []
    for step in program.steps:
        frame = _iterate(spark, step) if step.kind == "recursive" else materialise(spark.sql(step.sql))
        frame.createOrReplaceTempView(step.view)
        helpers.append(frame)
    result = materialise(spark.sql(program.query))
    result.createOrReplaceTempView(view)
    for step, frame in zip(program.steps, helpers, strict=True):
        spark.catalog.dropTempView(step.view)
        frame.unpersist()
    return result


def materialise(frame: DataFrame) -> DataFrame:
    """Compute `frame` once and cut its lineage (an eager local checkpoint, kept in memory and on disk).

    Caching alone keeps every model's whole plan inside the next one's: twenty models deep, Spark spends
    minutes printing and re-optimising plans. A checkpointed frame is a plain scan of its rows.
    """
    return frame.localCheckpoint(eager=True)


def _iterate(spark: SparkSession, step: Step) -> DataFrame:
    """A recursive CTE: the anchor's rows, then the step over the previous iteration's rows until none come."""
    level = materialise(spark.sql(step.sql).toDF(*step.columns))
    levels = [level]
    while True:
        level.createOrReplaceTempView(f"{step.view}__previous")
        following = materialise(spark.sql(step.step_sql).toDF(*step.columns))
        if following.isEmpty():
            following.unpersist()
            break
        levels.append(following)
        level = following
    spark.catalog.dropTempView(f"{step.view}__previous")
    union = materialise(reduce(lambda a, b: a.unionByName(b), levels))
    for frame in levels:
        frame.unpersist()
    return union
