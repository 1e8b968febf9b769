"""One DuckDB statement as Spark SQL: sqlglot's translation plus the rewrites of what it leaves untranslated.

Each rewrite maps one DuckDB construct, found on the parsed tree (never in the file text), so later changes to
the SQL flow through; `unsupported_level=RAISE` makes anything else sqlglot cannot express fail loudly.
docs/spark.md lists what sqlglot maps by itself and why each rewrite is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from oligo_cohort.engines.spark.session import require_pyspark

if TYPE_CHECKING:
    from sqlglot import exp


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


def parse(sql: str) -> exp.Expression:
    """A DuckDB statement as a sqlglot tree, with the rewrites applied."""
    import sqlglot

    tree = sqlglot.parse_one(sql, read="duckdb")
    for rewrite in REWRITES:
        tree = tree.transform(rewrite)
    return tree


def to_spark(tree: exp.Expression) -> str:
    """A (rewritten) tree as Spark SQL text; raises on any construct Spark cannot express."""
    import sqlglot

    return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


def transpile(sql: str) -> str:
    """One DuckDB SELECT statement as one Spark SQL statement (recursive CTEs included: see `program.plan`)."""
    require_pyspark()
    return to_spark(parse(sql))
