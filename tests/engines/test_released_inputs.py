"""An extract screened once gives its memory back before explain; one loaded to be screened again keeps it.

`screen()` loads the extract itself, so nothing can screen it again: once the engine has run, the loaded tables
and what validation kept of them are dropped (`load.release_loaded_tables`). At a million patients they hold
more than DuckDB's memory limit, and explain and the writer then spill less. The result must not notice.
"""

from __future__ import annotations

import pytest

from oligo_cohort.api import _screen_loaded, screen
from oligo_cohort.dictionary import tables
from oligo_cohort.load import load_extract
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.protocol import load_protocol

VALIDATION_PREFIXES = ("typed_", "stored_", "checked_", "raw_")


def _names(con) -> set[str]:
    return {name for (name,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def _input_tables(con) -> set[str]:
    return {name for name in _names(con) if name in tables() or name.startswith(VALIDATION_PREFIXES)}


def _outputs(result) -> dict[str, list[tuple]]:
    return {name: result.query(name).fetchall() for name in ("patients", "events", "reasons", "findings")}


@pytest.fixture(scope="module")
def loaded_twice():
    """The demo loaded once and screened twice, as a notebook might, with the loaded tables kept."""
    loaded = load_extract(demo_extract_dir())
    first = _outputs(_screen_loaded(loaded, load_protocol("cosmo")))
    kept = _input_tables(loaded.con)
    second = _outputs(_screen_loaded(loaded, load_protocol("cosmo")))
    return first, kept, second


@pytest.mark.parametrize("explain", ["best-event", "all-events"])
def test_a_screen_drops_the_loaded_tables_and_keeps_every_result(explain, loaded_twice):
    result = screen(demo_extract_dir(), explain=explain)
    assert not _input_tables(result.con), "the loaded tables outlive the engine"
    assert {"result_patients", "result_events", "result_reasons", "result_facts", "findings", "params"} <= _names(
        result.con
    )
    if explain == "best-event":
        first, _, _ = loaded_twice
        assert _outputs(result) == first


def test_a_loaded_extract_screened_again_gives_the_same_result(loaded_twice):
    first, kept, second = loaded_twice
    assert set(tables()) <= kept, "screening a loaded extract dropped its tables"
    assert first == second
    assert first["reasons"], "the demo has reasons to compare"
