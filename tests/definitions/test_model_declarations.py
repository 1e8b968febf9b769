"""The SQL models declare themselves: sql/models.yaml holds each model's grain and keys, and the data holds to them.

Every model is built on the demo extract and on a generated one (a few hundred patients, imperfect as registries
are), and each declared key is checked as dbt checks its schema tests: unique, not null, accepted values. The
run order is derived from the parsed SQL; these tests also hold the graph to what the files say.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.engines.duckdb_engine import build_models
from oligo_cohort.engines.models import (
    ENGINE_FOLDERS,
    Declaration,
    Model,
    declarations,
    last_readers,
    model_paths,
    run_order,
    upstream,
)
from oligo_cohort.load import load_extract, write_run_parameters
from oligo_cohort.paths import demo_extract_dir, sql_dir
from oligo_cohort.protocol import load_protocol
from oligo_cohort.sql_text import identifier, literals
from oligo_cohort.synth import generate_extract

LOADED_TABLES = {
    "patients", "tumours", "systemic_therapy", "imaging", "lesions", "response_assessments", "performance_status",
    "observations", "drug_vocabulary", "drug_components", "params",
}  # fmt: skip
STAGING_INPUTS = {"run_cutoff", "drug_lookup"} | {f"typed_{t}" for t in LOADED_TABLES}


# --------------------------------------------------------------------------------------------------------------
# The declarations and the files


def test_every_model_file_is_declared_and_every_declaration_has_its_file() -> None:
    files = {path.relative_to(sql_dir()).with_suffix("").as_posix() for path in sql_dir().rglob("*.sql")}
    declared = [d.path for d in declarations()]
    assert len(declared) == len(set(declared))
    assert set(declared) == files, (sorted(files - set(declared)), sorted(set(declared) - files))


@pytest.mark.parametrize("declaration", declarations(), ids=lambda d: d.path)
def test_every_declaration_states_a_grain_and_a_key(declaration: Declaration) -> None:
    assert declaration.grain.startswith("one row per "), declaration.grain
    assert declaration.unique and all(declaration.unique)


# --------------------------------------------------------------------------------------------------------------
# The graph


def test_the_run_order_holds_every_engine_model_once_each_after_what_it_reads() -> None:
    order = run_order()
    assert sorted(m.path for m in order) == sorted(model_paths(ENGINE_FOLDERS))
    built: set[str] = set()
    for model in order:
        assert model.inputs, model.path
        assert model.inputs - built <= LOADED_TABLES, (model.path, model.inputs - built - LOADED_TABLES)
        built.add(model.table)


def test_every_model_reads_only_tables_that_exist() -> None:
    """A misspelt table name in a model is caught by the graph, not by a run that fails halfway."""
    tables = LOADED_TABLES | {m.table for m in run_order()}
    for model in run_order():
        assert model.inputs <= tables, (model.path, model.inputs - tables)
    for path in model_paths(("staging",)):
        assert Model(path).inputs <= STAGING_INPUTS | LOADED_TABLES, path


def test_the_graph_is_read_from_the_parsed_sql_not_from_words() -> None:
    """A table named only in a comment or as a CTE is no input; one read through a join is."""
    scan_lines = next(m for m in run_order() if m.table == "scan_lines")
    assert "lines_of_therapy" in scan_lines.inputs
    assert "studies" not in scan_lines.inputs  # a CTE of its own
    index_tumours = next(m for m in run_order() if m.table == "index_tumours")
    assert "metastatic_episodes" not in index_tumours.inputs  # named in its header comment only


def test_intermediate_tables_are_dropped_after_their_last_reader() -> None:
    order = [m.table for m in run_order()]
    last = last_readers()
    assert set(last) == {m.table for m in run_order() if not m.is_result}
    for table, reader in last.items():
        assert order.index(reader) >= order.index(table)
        later = order[order.index(reader) + 1 :]
        assert not any(m.reads(table) for m in run_order() if m.table in later), table


def test_upstream_lists_what_a_table_needs_in_run_order() -> None:
    needed = [m.table for m in upstream("screening_units")]
    assert needed[-1] == "screening_units"
    assert "index_tumours" in needed and "criteria_patient" not in needed
    order = [m.table for m in run_order()]
    assert needed == sorted(needed, key=order.index)


def test_a_cycle_is_an_error_naming_its_models(monkeypatch) -> None:
    from oligo_cohort.engines import models

    models.run_order.cache_clear()
    monkeypatch.setattr(models.Model, "inputs", property(lambda self: _cyclic(self.table)))
    try:
        with pytest.raises(ValueError, match="cycle"):
            models.run_order()
    finally:
        models.run_order.cache_clear()


def _cyclic(table: str) -> frozenset[str]:
    return frozenset({"screening_units"} if table == "index_tumours" else {"index_tumours"})


# --------------------------------------------------------------------------------------------------------------
# The data holds to the declarations


@pytest.fixture(scope="module", params=["demo", "generated"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """Every model built (intermediate tables kept) on the demo extract or a generated 400-patient one."""
    if request.param == "demo":
        extract: Path = demo_extract_dir()
    else:
        extract = generate_extract(tmp_path_factory.mktemp("models") / "extract", patients=400, sites=5, seed=3)
    loaded = load_extract(extract)
    write_run_parameters(loaded, load_protocol("cosmo"), explain_all_events=True)
    build_models(loaded.con)
    yield loaded.con
    loaded.con.close()


def _checks(declaration: Declaration, columns: list[str]) -> list[tuple[str, str]]:
    """(what, SQL counting the rows that break it) for each declared rule."""
    table = declaration.table
    checks = []
    for key in declaration.unique:
        keyed = ", ".join(identifier(c) for c in key)
        checks.append(
            (f"unique {key}", f"SELECT count(*) FROM (SELECT {keyed} FROM {table} GROUP BY ALL HAVING count(*) > 1)")
        )
    for column in declaration.not_null:
        checks.append((f"not null {column}", f"SELECT count(*) FROM {table} WHERE {identifier(column)} IS NULL"))
    accepted = dict(declaration.accepted_values)
    if declaration.criteria_values:
        accepted |= {c: declaration.criteria_values for c in CRITERION_IDS if c in columns}
        assert set(CRITERION_IDS) <= set(columns), table
    for column, values in accepted.items():
        checks.append(
            (
                f"{column} in {values}",
                f"SELECT count(*) FROM {table} WHERE {identifier(column)} NOT IN ({literals(values)})",
            )
        )
    for expression in declaration.expressions:  # NULL (undecidable) counts as broken
        checks.append((expression, f"SELECT count(*) FROM {table} WHERE ({expression}) IS NOT TRUE"))
    return checks


@pytest.mark.parametrize("declaration", declarations(), ids=lambda d: d.path)
def test_each_model_holds_to_its_declaration(built: duckdb.DuckDBPyConnection, declaration: Declaration) -> None:
    columns = [row[0] for row in built.execute(f"DESCRIBE {declaration.table}").fetchall()]
    named = (
        {c for key in declaration.unique for c in key} | set(declaration.not_null) | set(declaration.accepted_values)
    )
    assert named <= set(columns), (declaration.path, named - set(columns))
    broken = {what: built.execute(sql).fetchone()[0] for what, sql in _checks(declaration, columns)}
    assert not {what: n for what, n in broken.items() if n}, declaration.path
    assert built.execute(f"SELECT count(*) FROM {declaration.table}").fetchone()[0] > 0, "nothing was checked"


# --------------------------------------------------------------------------------------------------------------
# The graph recorded beside the models (sql/model_graph.json)


def test_the_recorded_graph_is_what_the_models_read_now() -> None:
    from oligo_cohort.engines.models import GRAPH_FILE, graph_text

    committed = (sql_dir() / GRAPH_FILE).read_text(encoding="utf-8")
    assert committed == graph_text(), "run: make model-graph"


def test_a_model_whose_sql_changed_since_it_was_recorded_is_parsed_again(monkeypatch) -> None:
    from oligo_cohort.engines import models

    path = "derived/assessed_studies"
    parsed = models._parsed_inputs(models._rendered(path))
    digest = models._digest(models._rendered(path))
    # The record is used when the digest matches (a record naming other tables shows it), never when it does not.
    for record, expected in (
        ({"sql_sha256": digest, "reads": ["recorded_table"]}, frozenset({"recorded_table"})),
        ({"sql_sha256": "0" * 64, "reads": ["recorded_table"]}, parsed),
        ("not a record", parsed),
        ({"sql_sha256": digest, "reads": "recorded_table"}, parsed),
        ({"sql_sha256": digest}, parsed),
    ):
        monkeypatch.setattr(models, "_recorded_graph", lambda record=record: {path: record})
        models._inputs.cache_clear()
        try:
            assert models.Model(path).inputs == expected
        finally:
            models._inputs.cache_clear()


def _graph_caches(models):  # the module's caches, looked up when called (tests monkeypatch them)
    return (
        models._recorded_document,
        models._recorded_graph,
        models._context_digest,
        models._inputs,
        models._rendered,
        models.run_order,
    )


def test_a_missing_or_damaged_graph_file_only_means_parsing(monkeypatch, tmp_path) -> None:
    import shutil

    from oligo_cohort.engines import models

    expected = [m.table for m in run_order()]
    for content in (None, "{not json", '{"models": []}'):
        copy = tmp_path / f"sql-{len(str(content))}"
        shutil.copytree(sql_dir(), copy)
        if content is None:
            (copy / models.GRAPH_FILE).unlink()
        else:
            (copy / models.GRAPH_FILE).write_text(content, encoding="utf-8")
        monkeypatch.setattr(models, "sql_dir", lambda copy=copy: copy)
        for cached in _graph_caches(models):
            cached.cache_clear()
        try:
            assert [m.table for m in models.run_order()] == expected
            assert models._recorded_graph() == {}
        finally:
            for cached in _graph_caches(models):
                cached.cache_clear()


def test_a_compiled_model_is_used_only_while_its_template_context_and_sql_are_unchanged(monkeypatch) -> None:
    """The record spares Jinja only while every digest matches; any mismatch renders the template again."""
    from oligo_cohort.engines import models

    path = "derived/assessed_studies"
    template = models._template(path)
    fresh = models._render(template)
    recorded = fresh + "-- as recorded\n"  # the same SQL, told apart by a comment
    context = models._context_digest()
    record = {"template_sha256": models._digest(template), "sql_sha256": models._digest(recorded), "compiled": recorded}
    for document, expected in (
        ({"context_sha256": context, "models": {path: record}}, recorded),
        ({"context_sha256": context, "models": {path: {**record, "template_sha256": "0" * 64}}}, fresh),
        ({"context_sha256": "0" * 64, "models": {path: record}}, fresh),
        ({"models": {path: record}}, fresh),
        ({"context_sha256": context, "models": {path: {**record, "compiled": fresh}}}, fresh),
        ({"context_sha256": context, "models": {path: {**record, "compiled": None}}}, fresh),
        ({"context_sha256": context, "models": {}}, fresh),
    ):
        monkeypatch.setattr(models, "_recorded_document", lambda document=document: document)
        monkeypatch.setattr(models, "_recorded_graph", lambda document=document: document["models"])
        models._rendered.cache_clear()
        try:
            assert models._rendered(path) == expected
        finally:
            models._rendered.cache_clear()


@pytest.mark.parametrize("change", ["a clinical code", "a rule's outcome", "a criterion's recording table"])
def test_what_a_template_can_read_of_its_context_is_in_the_context_digest(monkeypatch, change) -> None:
    import dataclasses

    from oligo_cohort.engines import models

    context = models.template_context()
    before = models._context_digest()
    first = context["criteria"][0].criterion
    if change == "a clinical code":
        context = {**context, "codes": dataclasses.replace(context["codes"], pet_modality="PET-X")}
    elif change == "a rule's outcome":
        rule = dataclasses.replace(first.rules[0], outcome="review" if first.rules[0].outcome != "review" else "fail")
        changed = dataclasses.replace(first, rules=(rule, *first.rules[1:]))
        context = {**context, "criteria": [models.CriterionColumns(changed), *context["criteria"][1:]]}
    else:
        changed = dataclasses.replace(first, recorded_in="criteria/elsewhere")
        context = {**context, "criteria": [models.CriterionColumns(changed), *context["criteria"][1:]]}
    monkeypatch.setattr(models, "template_context", lambda: context)
    models._context_digest.cache_clear()
    try:
        assert models._context_digest() != before
    finally:
        models._context_digest.cache_clear()
