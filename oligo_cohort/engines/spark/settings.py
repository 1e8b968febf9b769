"""The Spark engine's settings: the environment (docs/spark.md), then this process's `configure` overrides.

OLIGO_SPARK_MASTER (default local[*]; ignored when the process already runs inside Spark: spark-submit,
Databricks), OLIGO_SPARK_DRIVER_MEMORY (4g), OLIGO_SPARK_SHUFFLE_PARTITIONS, OLIGO_SPARK_HANDOFF (files|arrow;
files on a local master), OLIGO_SPARK_TMP (folder for the handoff files), OLIGO_SPARK_OUTPUT (URI for
partitioned Parquet results), OLIGO_SPARK_CONF (extra `key=value` Spark settings separated by `;`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any


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
        """The settings the OLIGO_SPARK_* environment variables give (defaults for those not set)."""
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
