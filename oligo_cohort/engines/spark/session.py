"""The Spark session the engine runs on: the one already running (spark-submit, Databricks, a test), else its own."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from oligo_cohort.engines.spark.settings import settings
from oligo_cohort.errors import UsageError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def require_pyspark() -> None:
    """Refuse with a usage message (not an ImportError) when the [spark] extra is not installed."""
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
    require_pyspark()
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


def is_local(spark: SparkSession) -> bool:
    """Whether Spark runs in this machine's JVM (a local master), so that it can read this machine's files."""
    return spark.sparkContext.master.startswith("local")
