"""One definition of each clinical fact: data_dictionary/clinical_codes.yaml, read by every engine and tool.

The table's entries must name values the data dictionary allows, every entry must have a reader, and none of its
codes or thresholds may be written out as a literal anywhere else in the SQL models or the package: a second
copy is how definitions drift apart (the breast-tumour test once stood in four places).
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest

from oligo_cohort.clinical_codes import ClinicalCodes, CodeRange, clinical_codes, entries, readers
from oligo_cohort.criteria import CRITERIA
from oligo_cohort.dictionary import drugs, tables
from oligo_cohort.engines.models import run_order, template_context, template_filters

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "oligo_cohort"
SQL = ROOT / "sql"

# Modules that decide or apply a criterion's rule (besides every SQL model): no code of the table may appear in
# them as a literal. Elsewhere (importers producing canonical values, the generator drawing them) a vocabulary
# value is data, and only the literals no producer needs are checked (the topography prefixes, the morphology
# ranges, the behaviour compared).
RULE_MODULES = (
    "oligo_cohort/engines/pandas_engine",
    "oligo_cohort/criteria.py",
    "oligo_cohort/facts.py",
    "oligo_cohort/load.py",
    "oligo_cohort/importers/report.py",
    "oligo_cohort/synth/summary.py",
    "oligo_cohort/review/records.py",
    "oligo_cohort/validate/",
)
# Text that quotes the spec word for word (criteria.py: the protocol's line and the spec's decision).
SPEC_QUOTES = ("protocol_text", "decided_as")

# Literals left where they are, each with its reason.
ALLOWED: dict[tuple[str, str], str] = {
    ("oligo_cohort/synth/parameters.py", "8090"): "a basal-cell morphology the generator draws (BCC NOS), not a bound",
    ("oligo_cohort/review/records.py", "WHO"): "the scale a chart-review answer is recorded on (the question's)",
    ("oligo_cohort/importers/omop/conditions.py", "C50"): "names the ICD-10 code a condition was classified by",
}


# --------------------------------------------------------------------------------------------------------------
# The table itself


def test_the_loader_reads_every_entry_with_its_type() -> None:
    codes = clinical_codes()
    assert isinstance(codes.version, int) and codes.version >= 1
    assert [e.name for e in entries()] == [f.name for f in dataclasses.fields(ClinicalCodes)][1:]
    for entry in entries():
        assert getattr(codes, entry.name) == entry.value
        assert entry.means, entry.name


def _allowed_values(column: str) -> tuple[str, ...] | None:
    table, name = column.split(".")
    if table == "drugs":
        return tuple({getattr(d, name) for d in drugs()})
    return tables()[table].column(name).values or None


@pytest.mark.parametrize("entry", entries(), ids=lambda e: e.name)
def test_every_code_is_a_value_the_data_dictionary_allows(entry) -> None:
    allowed = _allowed_values(entry.column)
    if isinstance(entry.value, int):  # a score threshold: on the scale the dictionary allows
        column = tables()["performance_status"].column("score")
        assert column.min <= entry.value <= column.max
    elif entry.is_prefix:
        pattern = tables()["tumours"].column("topography").pattern
        assert re.fullmatch(pattern, f"{entry.value}.0"), entry.value
    elif isinstance(entry.value, CodeRange):
        pattern = tables()["tumours"].column("morphology").pattern
        assert re.fullmatch(pattern, entry.value.first) and re.fullmatch(pattern, entry.value.last)
    else:
        assert allowed is not None, f"{entry.column} has no list of values to hold {entry.name} to"
        assert set(entry.codes) <= set(allowed), (entry.name, set(entry.codes) - set(allowed))


def test_thresholds_leave_an_undecided_band_and_lists_do_not_overlap() -> None:
    codes = clinical_codes()
    assert codes.karnofsky_highest_failing_score < codes.karnofsky_lowest_passing_score
    assert not set(codes.histological_bases) & set(codes.non_histological_bases)
    assert codes.curative_intent not in codes.non_curative_intents
    assert codes.progression_response not in codes.control_responses
    assert codes.karnofsky_scale not in codes.who_scales


def test_a_malformed_entry_is_refused_with_its_name(tmp_path, monkeypatch) -> None:
    import oligo_cohort.clinical_codes as module

    text = (ROOT / "data_dictionary" / "clinical_codes.yaml").read_text(encoding="utf-8")
    broken = text.replace("    prefix: C50\n", "    prefix: C5%\n")
    assert broken != text
    (tmp_path / "clinical_codes.yaml").write_text(broken, encoding="utf-8")
    monkeypatch.setattr(module, "dictionary_dir", lambda: tmp_path)
    module.entries.cache_clear()
    try:
        with pytest.raises(ValueError, match="breast_topography"):
            module.entries()
    finally:
        module.entries.cache_clear()


# --------------------------------------------------------------------------------------------------------------
# Its readers


@pytest.mark.parametrize("entry", entries(), ids=lambda e: e.name)
def test_every_entry_is_read(entry) -> None:
    assert readers(entry.name), f"{entry.name}: nothing reads it"


def test_the_sql_models_read_the_codes_through_their_template() -> None:
    """A changed code changes every model that reads it: no rendered model still holds the old value."""
    codes = clinical_codes()
    changed = dataclasses.replace(codes, pet_modality="PET-X", breast_topography="C99", invasive_behaviour="9")
    environment = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    environment.filters.update(template_filters())
    context = {**template_context(), "codes": changed}
    for model in run_order():
        text = (SQL / f"{model.path}.sql").read_text(encoding="utf-8")
        rendered = environment.from_string(text).render(context)
        assert "'FDG-PET-CT'" not in rendered and "'C50%'" not in rendered, model.path
        if "codes.pet_modality" in text:
            assert "'PET-X'" in rendered
        if "codes.breast_topography" in text:
            assert "'C99%'" in rendered


# --------------------------------------------------------------------------------------------------------------
# No second copy


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _python_constants(path: Path) -> Iterator[tuple[int, str | int]]:
    """(line, value) of every string and integer constant of a module, docstrings and spec quotes left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skipped.add(id(first.value))
        if isinstance(node, ast.keyword) and node.arg in SPEC_QUOTES:
            skipped.update(id(inner) for inner in ast.walk(node.value))
    for node in ast.walk(tree):
        is_text_or_number = isinstance(node, ast.Constant) and type(node.value) in (str, int)
        if is_text_or_number and id(node) not in skipped:
            yield node.lineno, node.value


def _sql_text(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every line of a model with its comment cut off."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        yield number, line.split("--")[0]


def _distinctive_patterns() -> list[re.Pattern[str]]:
    """Literals no file but the table has a use for: the prefixes, the morphology bounds, behaviour compared."""
    codes = clinical_codes()
    patterns = [
        re.compile(rf"(?<![A-Za-z0-9_.]){prefix}(?![0-9]|\.[0-9x])")
        for prefix in (codes.breast_topography, codes.skin_topography)
    ]
    bounds = [r.first for r in (codes.basal_cell_morphology, codes.squamous_cell_morphology)]
    bounds += [r.last for r in (codes.basal_cell_morphology, codes.squamous_cell_morphology)]
    patterns.append(re.compile(rf"(?<![0-9]){'|'.join(bounds)}(?![0-9])"))
    patterns.append(re.compile(rf"behaviour\W{{0,3}}\s*(?:=|==|!=|<>)\s*['\"]{codes.invasive_behaviour}['\"]"))
    return patterns


def _all_codes() -> set[str]:
    """Every code of the table, as text; not the one-character behaviour (matched where compared, above), nor a
    code that is also the name of a rule (the intent `none` and the rule `none` of exc_other_malignancy)."""
    rule_names = {rule.name for criterion in CRITERIA for rule in criterion.rules}
    return {
        code
        for entry in entries()
        if not isinstance(entry.value, int)
        for code in entry.codes
        if len(code) > 1 and code not in rule_names
    }


def _findings() -> Iterator[tuple[str, int, str]]:
    distinctive = _distinctive_patterns()
    codes = _all_codes()
    quoted_code = re.compile(r"'([^']*)'")
    threshold = re.compile(r"score\s*(?:<=|>=|<|>)\s*[0-9]+")
    for path in sorted(SQL.rglob("*.sql")):
        for number, text in _sql_text(path):
            for pattern in distinctive:
                yield from ((_relative(path), number, m.group(0)) for m in pattern.finditer(text))
            for m in quoted_code.finditer(text):
                if m.group(1) in codes or m.group(1).rstrip("%") in codes:
                    yield _relative(path), number, m.group(0)
            yield from ((_relative(path), number, m.group(0)) for m in threshold.finditer(text))
    for path in sorted(PACKAGE.rglob("*.py")):
        where = _relative(path)
        if where == "oligo_cohort/clinical_codes.py":
            continue
        is_rule_module = where.startswith(RULE_MODULES)
        for number, value in _python_constants(path):
            if isinstance(value, int):
                if str(value) in {r.first for r in _ranges()} | {r.last for r in _ranges()}:
                    yield where, number, str(value)
                continue
            for pattern in distinctive:
                yield from ((where, number, m.group(0)) for m in pattern.finditer(value))
            if is_rule_module:
                if value in codes:
                    yield where, number, value
                for m in quoted_code.finditer(value):
                    if m.group(1) in codes or m.group(1).rstrip("%") in codes:
                        yield where, number, m.group(0)


def _ranges() -> tuple[CodeRange, ...]:
    codes = clinical_codes()
    return (codes.basal_cell_morphology, codes.squamous_cell_morphology)


def test_no_clinical_code_is_written_out_beside_the_table() -> None:
    found = [
        f"{where}:{number}: {text}"
        for where, number, text in _findings()
        if (where, text) not in ALLOWED and (where, text.strip()) not in ALLOWED
    ]
    assert not found, "read these from oligo_cohort.clinical_codes:\n" + "\n".join(found)


def test_every_allowed_literal_is_still_there() -> None:
    """The allow-list shrinks with the code: an entry whose literal is gone must go too."""
    found = {(where, text) for where, _, text in _findings()}
    assert set(ALLOWED) <= found, set(ALLOWED) - found
