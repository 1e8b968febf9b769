"""The Python API meets the mistakes a notebook user makes with a message naming the argument, and leaves alone what
it is given.

- `screen()` and `read_screen_dir()` given an argument of the wrong kind (a number, None, a single DataFrame instead
  of a dict of them, a string for a flag) raise a UsageError naming the argument and what it takes, not a TypeError
  from inside pathlib, and never a run that silently does something else (`worklist="no"` is not worklist mode);
- the frames passed in are the same after the screen, values, types and index;
- `counts()` gives every status in STATUS_ORDER, 0 included, whatever order DuckDB groups them in.
"""

from __future__ import annotations

import pandas as pd
import polars as pl
import pytest

from oligo_cohort.api import STATUS_ORDER, read_screen_dir, screen
from oligo_cohort.errors import UsageError
from oligo_cohort.paths import demo_extract_dir


def demo_pandas() -> dict[str, pd.DataFrame]:
    return {
        path.stem: pd.read_csv(path, dtype=str, keep_default_na=False)
        for path in sorted(demo_extract_dir().glob("*.csv"))
    }


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"source": 42}, "the extract is a folder or DuckDB file"),
        ({"source": None}, "the extract is a folder or DuckDB file"),
        ({"source": ["patients.csv"]}, "the extract is a folder or DuckDB file"),
        ({"source": pd.DataFrame({"patient_id": ["1"]})}, "takes a dict of tables"),
        ({"source": pl.DataFrame({"patient_id": ["1"]})}, "takes a dict of tables"),
        ({"as_of": 20240630}, "screen(as_of=20240630)"),
        ({"protocol": 3}, "screen(protocol=3)"),
        ({"worklist": "no"}, "screen(worklist='no')"),
    ],
    ids=["number", "none", "list", "pandas-frame", "polars-frame", "as_of-number", "protocol-number", "worklist-text"],
)
def test_an_argument_of_the_wrong_kind_is_a_usage_error_naming_it(arguments, named):
    given = {"source": demo_extract_dir(), **arguments}
    with pytest.raises(UsageError) as caught:
        screen(given.pop("source"), **given)
    assert named in str(caught.value)


@pytest.mark.parametrize("path", [5, None], ids=["number", "none"])
def test_read_screen_dir_of_the_wrong_kind_is_a_usage_error(path):
    with pytest.raises(UsageError, match=r"read_screen_dir\(\): give the screen folder as a str or Path"):
        read_screen_dir(path)


def test_a_missing_folder_is_a_usage_error():
    with pytest.raises(UsageError, match="does not exist"):
        screen(demo_extract_dir() / "no-such-extract")


def test_the_frames_passed_in_are_unchanged():
    tables = demo_pandas()
    tables["imaging"] = pl.from_pandas(tables["imaging"])
    copies = {
        name: frame.clone() if isinstance(frame, pl.DataFrame) else frame.copy() for name, frame in tables.items()
    }
    screen(tables)
    for name, frame in tables.items():
        if isinstance(frame, pl.DataFrame):
            assert frame.equals(copies[name]) and frame.schema == copies[name].schema, name
        else:
            pd.testing.assert_frame_equal(frame, copies[name], check_exact=True)


def test_counts_give_every_status_in_order():
    result = screen(demo_extract_dir())
    counts = result.counts()
    assert list(counts) == list(STATUS_ORDER)
    assert counts == {"eligible": 5, "unknown": 11, "ineligible": 18}
    one = {name: frame[frame["patient_id"] == "00115"] for name, frame in demo_pandas().items()}  # ineligible
    assert screen(one).counts() == {"eligible": 0, "unknown": 0, "ineligible": 1}
