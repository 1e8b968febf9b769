"""The Spark engine as a package: reachable through the engine registry, importable without the [spark] extra.

These run in the default suite (no Java, no Spark): they check the seams of `oligo_cohort.engines.spark`, not
Spark's results (`tests/engines/spark/test_spark_engine.py`, `make spark-check`).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

from oligo_cohort.engines import ENGINES, engine_runner
from oligo_cohort.engines.spark import SparkSettings, SparkTables, configure, settings
from oligo_cohort.engines.spark.writer import OUTPUT_PARTITIONS
from oligo_cohort.errors import UsageError


@pytest.mark.parametrize("name", list(ENGINES))
def test_every_registered_engine_has_a_run_function(name: str) -> None:
    assert callable(engine_runner(name))


def test_without_pyspark_the_engine_imports_and_refuses_with_a_usage_message() -> None:
    """A missing extra is a usage message at run time, never an ImportError at import time."""
    script = textwrap.dedent("""
        import sys
        sys.modules["pyspark"] = None  # as if the [spark] extra were not installed
        sys.modules["sqlglot"] = None
        from oligo_cohort.engines import engine_runner
        from oligo_cohort.errors import UsageError
        run = engine_runner("spark")
        try:
            run(None)
        except UsageError as exc:
            print(exc)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "pip install 'oligo-cohort[spark]'" in done.stdout


def test_settings_come_from_the_environment_then_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLIGO_SPARK_SHUFFLE_PARTITIONS", "16")
    monkeypatch.setenv("OLIGO_SPARK_CONF", "spark.a=1; spark.b = two ;broken")
    monkeypatch.setenv("OLIGO_SPARK_OUTPUT", "s3://env/")
    assert settings().shuffle_partitions == 16
    assert settings().conf == {"spark.a": "1", "spark.b": "two"}
    configure(output="s3://flag/")
    try:
        assert settings().output == "s3://flag/"
    finally:
        configure(output=None)
    assert settings().output == "s3://env/"
    assert SparkSettings().master == "local[*]"


def test_spark_tables_name_their_database() -> None:
    assert str(SparkTables("registry")) == "spark:registry"
    assert SparkTables().is_spark_tables


def test_every_result_table_has_an_output_partition() -> None:
    from oligo_cohort.engines.models import ENGINE_RESULTS

    assert set(OUTPUT_PARTITIONS) == set(ENGINE_RESULTS)


def test_an_unknown_handoff_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from oligo_cohort.engines.spark.handoff import handoff_mode

    local = SimpleNamespace(sparkContext=SimpleNamespace(master="local[2]"))  # all that handoff_mode reads
    cluster = SimpleNamespace(sparkContext=SimpleNamespace(master="yarn"))
    assert handoff_mode(local) == "files" and handoff_mode(cluster) == "arrow"  # type: ignore[arg-type]
    monkeypatch.setenv("OLIGO_SPARK_HANDOFF", "carrier-pigeon")
    with pytest.raises(UsageError, match="choose files or arrow"):
        handoff_mode(local)  # type: ignore[arg-type]
