"""The SQL models of `sql/`: one SELECT per file, rendered as dbt renders its models, run in a fixed order.

A model file is plain SQL with a little Jinja where a list follows from the
criteria definitions (`oligo_cohort.criteria`): the 18 criterion columns of the
result tables, each criterion's outcome from its rule. Every engine that runs
the SQL (DuckDB, Spark) renders the same files the same way.

A model becomes the table named after its file
(`sql/derived/lines_of_therapy.sql` → `lines_of_therapy`); criteria groups are
named `criteria_<group>` so that `criteria/imaging.sql` and
`criteria/observations.sql` do not shadow the input tables of those names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from oligo_cohort.criteria import CRITERIA, Criterion
from oligo_cohort.explain import rule_outcome_sql
from oligo_cohort.paths import sql_dir


def model_table(path: str) -> str:
    """The table a model becomes: its file name, `criteria_` before a criteria group's."""
    folder, stem = path.split("/")[0], Path(path).name
    return f"criteria_{stem}" if folder == "criteria" else stem


@dataclass(frozen=True)
class Model:
    """One SQL model: its file under sql/ and the table it becomes."""

    path: str  # relative to sql/, without ".sql"

    @property
    def folder(self) -> str:
        return self.path.split("/")[0]

    @property
    def table(self) -> str:
        return model_table(self.path)

    @property
    def is_result(self) -> bool:
        """A table the engine leaves for the outputs and the explain step (oligo_cohort.results)."""
        return self.table.startswith("result_")

    def sql(self) -> str:
        """The model's SELECT, rendered."""
        return _rendered(self.path)

    def reads(self, table: str) -> bool:
        """Whether this model's SQL names `table` (a model it depends on)."""
        return re.search(rf"\b{re.escape(table)}\b", self.sql()) is not None


@dataclass(frozen=True)
class CriterionColumns:
    """What a model template needs of one criterion: its id, the table recording it, its outcome from its rule."""

    criterion: Criterion

    @property
    def id(self) -> str:
        return self.criterion.id

    @property
    def table(self) -> str:
        return model_table(self.criterion.recorded_in)

    def outcome(self, rule: str) -> str:
        """SQL: the outcome of the rule named by the expression `rule` (criteria.py holds the mapping)."""
        return rule_outcome_sql(self.criterion, rule)


def template_context() -> dict[str, object]:
    """The names a model template may use."""
    criteria = [CriterionColumns(c) for c in CRITERIA]
    return {"criteria": criteria, "criteria_tables": list(dict.fromkeys(c.table for c in criteria))}


@cache
def _rendered(path: str) -> str:
    import jinja2  # only when a model runs: the CLI starts without it

    text = (sql_dir() / f"{path}.sql").read_text(encoding="utf-8")
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
    )
    return environment.from_string(text).render(template_context())


# Execution order: every model reads only the loaded tables and the models above it.
MODELS: tuple[Model, ...] = tuple(
    Model(path)
    for path in (
        "derived/index_tumours",
        "derived/metastatic_episodes",
        "derived/lines_of_therapy",
        "derived/scan_lines",
        "derived/reference_studies",
        "derived/reference_lesions",
        "derived/assessed_studies",
        "derived/lesion_progression",
        "derived/progressing_lesions",
        "derived/oligoprogression",
        "derived/candidate_events",
        "derived/screening_units",
        "criteria/diagnosis",
        "criteria/therapy",
        "criteria/imaging",
        "criteria/patient",
        "criteria/observations",
        "outcomes/unit_outcomes",
        "outcomes/result_events",
        "outcomes/result_patients",
        "outcomes/result_facts",
    )
)

# The tables every engine leaves (oligo_cohort.results): appended slice by slice, brought back from Spark.
ENGINE_RESULTS: tuple[str, ...] = tuple(m.table for m in MODELS if m.is_result)


def last_readers(models: tuple[Model, ...] = MODELS) -> dict[str, str]:
    """For each intermediate table, the last model that reads it (after which it can be dropped)."""
    last: dict[str, str] = {}
    for position, model in enumerate(models):
        if model.is_result:
            continue
        readers = [later.table for later in models[position + 1 :] if later.reads(model.table)]
        last[model.table] = readers[-1] if readers else model.table
    return last
