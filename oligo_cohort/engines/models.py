"""The SQL models of `sql/`: one SELECT per file, rendered as dbt renders its models, run in the order they declare.

A model file is plain SQL with a little Jinja where a list follows from the
criteria definitions (`oligo_cohort.criteria`: the 18 criterion columns of the
result tables, each criterion's outcome from its rule) and where a clinical code
is read (`codes`, `oligo_cohort.clinical_codes`: `{{ codes.<entry> | sql }}`
renders the entry as a SQL literal). Every engine that runs the SQL (DuckDB, Spark) renders
the same files the same way.

A model becomes the table named after its file
(`sql/derived/lines_of_therapy.sql` → `lines_of_therapy`); criteria groups are
named `criteria_<group>` so that `criteria/imaging.sql` and
`criteria/observations.sql` do not shadow the input tables of those names.

Models declare themselves, as dbt's do: the tables a model reads are found once
from its parsed SQL (DuckDB's own parser), and the run order of every engine is
derived from them (`run_order()`: a topological order, stable). Nothing is
parsed until a model is about to run, and a model unchanged since `make model-graph` is neither rendered nor
parsed: sql/model_graph.json records its compiled SQL and what it reads, with digests of its template, of the
template context and of the compiled SQL (as dbt keeps compiled code and dependencies in its manifest).
`sql/models.yaml` declares each model's grain and keys (`declarations()`), which
tests/definitions/test_model_declarations.py checks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from oligo_cohort.clinical_codes import CodeRange, clinical_codes
from oligo_cohort.criteria import CRITERIA, Criterion
from oligo_cohort.explain import rule_outcome_sql
from oligo_cohort.paths import sql_dir
from oligo_cohort.sql_text import literal, literals

# The folders of the models the engines run, in the order of the pipeline; `sql/staging` is the loader's (the
# cut-off applied to the loaded tables), not a model the engines run.
ENGINE_FOLDERS: tuple[str, ...] = ("derived", "criteria", "outcomes")


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

    @property
    def inputs(self) -> frozenset[str]:
        """The tables its SQL reads (models or loaded tables; its own CTEs are not tables), from the parsed SQL."""
        return _inputs(self.path)

    def reads(self, table: str) -> bool:
        """Whether this model reads `table`."""
        return table in self.inputs


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
    return {
        "criteria": criteria,
        "criteria_tables": list(dict.fromkeys(c.table for c in criteria)),
        "codes": clinical_codes(),
    }


def sql_value(value: str | int | tuple[str, ...] | list[str]) -> str:
    """The `sql` filter: a code as a SQL literal, a number as itself, a list of codes as literals for IN (...)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, tuple, list)):
        raise TypeError(f"no SQL literal for {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return literal(value)
    return literals(value)


def sql_prefix(prefix: str) -> str:
    """The `sql_prefix` filter: a LIKE pattern for the codes starting with `prefix` (`C50` → `'C50%'`)."""
    if "%" in prefix or "_" in prefix:
        raise ValueError(f"a code prefix holds no LIKE wildcard: {prefix!r}")
    return literal(prefix + "%")


def template_filters() -> dict[str, Callable[..., str]]:
    """The Jinja filters a model template may use."""
    return {"sql": sql_value, "sql_prefix": sql_prefix, "sql_between": CodeRange.between_sql}


@cache
def _environment():  # -> jinja2.Environment
    import jinja2  # only when a model runs: the CLI starts without it

    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
    )
    environment.filters.update(template_filters())
    return environment


def _template(path: str) -> str:
    return (sql_dir() / f"{path}.sql").read_text(encoding="utf-8")


def _render(template: str) -> str:
    """The template rendered by Jinja with the models' context (what `make model-graph` records)."""
    return _environment().from_string(template).render(template_context())


@cache
def _rendered(path: str) -> str:
    template = _template(path)
    recorded = _recorded_graph().get(path)
    if (
        isinstance(recorded, dict)
        and recorded.get("template_sha256") == _digest(template)
        and _recorded_document().get("context_sha256") == _context_digest()
        and isinstance(recorded.get("compiled"), str)
        and recorded.get("sql_sha256") == _digest(recorded["compiled"])
    ):
        return recorded["compiled"]
    return _render(template)


@cache
def _inputs(path: str) -> frozenset[str]:
    sql = _rendered(path)
    recorded = _recorded_graph().get(path)
    if isinstance(recorded, dict) and recorded.get("sql_sha256") == _digest(sql):
        reads = recorded.get("reads")
        if isinstance(reads, list) and all(isinstance(table, str) for table in reads):
            return frozenset(reads)
    return _parsed_inputs(sql)


def _parsed_inputs(sql: str) -> frozenset[str]:
    import duckdb

    return frozenset(name.lower() for name in duckdb.get_table_names(sql, qualified=False))


# --------------------------------------------------------------------------------------------------------------
# The models as last compiled, recorded beside them
#
# Rendering the 21 templates takes about a twentieth of a second in a new process (importing Jinja and compiling
# each template), and parsing them as much again: together a tenth of the demo's screen. So sql/model_graph.json
# records each model's compiled SQL and the tables it reads (`make model-graph`), as dbt's manifest records each
# node's compiled code and dependencies. A record is used only while the digests of the model's template, of the
# template context (the criteria's outcomes and the clinical codes) and of the compiled SQL all match; otherwise
# the template is rendered and parsed: the record can save time, never change the SQL or the graph. A test holds
# the file current, so a change to how templates render (a filter, Jinja's settings) fails it too.

GRAPH_FILE = "model_graph.json"


def _digest(sql: str) -> str:
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()


@cache
def _context_digest() -> str:
    """A digest of everything of the template context a template can reach: each criterion's id, recording table
    and rules' outcomes, and every clinical code (all deterministic reprs: tuples, strings and numbers)."""
    context = template_context()
    criteria = [(c.id, c.table, [(rule.name, rule.outcome) for rule in c.criterion.rules]) for c in context["criteria"]]
    return _digest(repr((criteria, context["criteria_tables"], context["codes"])))


@cache
def _recorded_document() -> dict[str, object]:
    try:
        document = json.loads((sql_dir() / GRAPH_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


@cache
def _recorded_graph() -> dict[str, object]:
    models = _recorded_document().get("models")
    return models if isinstance(models, dict) else {}


def derived_graph() -> dict[str, object]:
    """Every model compiled by Jinja now and its parsed SQL's tables, as sql/model_graph.json records them."""
    models = {}
    for path in model_paths():
        template = _template(path)
        sql = _render(template)
        models[path] = {
            "template_sha256": _digest(template),
            "sql_sha256": _digest(sql),
            "reads": sorted(_parsed_inputs(sql)),
            "compiled": sql,
        }
    return {
        "about": (
            "Each SQL model compiled (its Jinja rendered) and the tables it reads, derived from its parsed SQL; "
            "written by `make model-graph`, used while the digests match."
        ),
        "context_sha256": _context_digest(),
        "models": models,
    }


def graph_text() -> str:
    """sql/model_graph.json as `derived_graph()` makes it."""
    return json.dumps(derived_graph(), indent=2) + "\n"


def write_graph() -> Path:
    """Write sql/model_graph.json from the models as they are (`make model-graph`)."""
    target = sql_dir() / GRAPH_FILE
    target.write_text(graph_text(), encoding="utf-8")
    return target


# --------------------------------------------------------------------------------------------------------------
# The graph


def model_paths(folders: tuple[str, ...] = ENGINE_FOLDERS) -> tuple[str, ...]:
    """Every model file of the given folders (relative to sql/, without .sql), folder by folder, by name."""
    return tuple(
        path.relative_to(sql_dir()).with_suffix("").as_posix()
        for folder in folders
        for path in sorted((sql_dir() / folder).glob("*.sql"))
    )


@cache
def run_order() -> tuple[Model, ...]:
    """Every model the engines run, each after the models it reads: a topological order of the graph.

    Stable: of the models ready to run, the one earliest in the pipeline's folders and then by name comes first,
    so the order changes only when a model's inputs do. A cycle is an error naming its models.
    """
    models = {Model(path).table: Model(path) for path in model_paths()}
    rank = {table: position for position, table in enumerate(models)}  # folder by folder, by name
    waiting = {table: set(model.inputs & models.keys()) - {table} for table, model in models.items()}
    order: list[Model] = []
    while waiting:
        ready = [table for table, needs in waiting.items() if not needs]
        if not ready:
            raise ValueError(f"the SQL models read each other in a cycle: {', '.join(sorted(waiting))}")
        table = min(ready, key=rank.__getitem__)
        order.append(models[table])
        del waiting[table]
        for needs in waiting.values():
            needs.discard(table)
    return tuple(order)


def engine_results() -> tuple[str, ...]:
    """The tables every engine leaves (oligo_cohort.results), in run order: appended slice by slice, brought back
    from Spark."""
    return tuple(model.table for model in run_order() if model.is_result)


def last_readers(models: tuple[Model, ...] | None = None) -> dict[str, str]:
    """For each intermediate table, the last model (in run order) that reads it, after which it can be dropped;
    a table no later model reads is its own last reader."""
    models = run_order() if models is None else models
    last: dict[str, str] = {}
    for position, model in enumerate(models):
        if model.is_result:
            continue
        readers = [later.table for later in models[position + 1 :] if later.reads(model.table)]
        last[model.table] = readers[-1] if readers else model.table
    return last


def upstream(table: str) -> tuple[Model, ...]:
    """The models `table` needs (itself and every model it reads, directly or not), in run order."""
    by_table = {model.table: model for model in run_order()}
    if table not in by_table:
        raise KeyError(f"no SQL model makes table {table!r}")
    needed, stack = set(), [table]
    while stack:
        current = stack.pop()
        if current in needed:
            continue
        needed.add(current)
        stack.extend(by_table[current].inputs & set(by_table))
    return tuple(model for model in run_order() if model.table in needed)


# --------------------------------------------------------------------------------------------------------------
# What each model declares (sql/models.yaml)


@dataclass(frozen=True)
class Declaration:
    """A model's grain and keys as sql/models.yaml declares them."""

    path: str  # relative to sql/, without ".sql" (staging models included)
    grain: str
    unique: tuple[tuple[str, ...], ...]
    not_null: tuple[str, ...]
    accepted_values: dict[str, tuple[str, ...]]
    criteria_values: tuple[str, ...] = ()
    expressions: tuple[str, ...] = ()  # SQL conditions every row meets

    @property
    def table(self) -> str:
        return model_table(self.path)


@cache
def declarations() -> tuple[Declaration, ...]:
    """Every model's declaration, in file order."""
    from oligo_cohort.yaml_input import load_package_yaml

    doc = load_package_yaml(sql_dir() / "models.yaml")
    return tuple(
        Declaration(
            path=path,
            grain=" ".join(spec["grain"].split()),
            unique=tuple(tuple(key) for key in spec.get("unique", ())),
            not_null=tuple(spec.get("not_null", ())),
            accepted_values={
                column: tuple(map(str, values)) for column, values in spec.get("accepted_values", {}).items()
            },
            criteria_values=tuple(spec.get("criteria_values", ())),
            expressions=tuple(spec.get("expressions", ())),
        )
        for path, spec in doc["models"].items()
    )


def __getattr__(name: str) -> object:
    """`MODELS` (the run order) and `ENGINE_RESULTS`, derived when first asked for, never at import."""
    if name == "MODELS":
        return run_order()
    if name == "ENGINE_RESULTS":
        return engine_results()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
