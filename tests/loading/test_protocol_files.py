"""Protocol files and `--set`: read safely and within bounds, every bad value named with its parameter.

Each case starts from the shipped `cosmo.yaml` and breaks one thing: the
encoding, YAML tags, anchors (an alias bomb), keys given twice, or one
parameter's value (a boolean, a negative or huge number, `.inf`, `1_000`).
Generated cases put every out-of-range or malformed value into every
parameter, through the file and through `--set`; each must be refused, naming
the parameter and the value, with exit code 2 and no traceback.
"""

from __future__ import annotations

import re
import time
from importlib import resources
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from oligo_cohort.cli import main
from oligo_cohort.errors import UsageError
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.protocol import PARAMETER_RANGES, Parameters, load_protocol

SHIPPED = resources.files("oligo_cohort.protocols").joinpath("cosmo.yaml").read_text(encoding="utf-8")
DOC = yaml.safe_load(SHIPPED)
PARAMETERS = [name for name in Parameters.__dataclass_fields__ if name != "reference"]
WHOLE = {name for name, f in Parameters.__dataclass_fields__.items() if f.type == "int"}


def write(tmp_path: Path, text: str | bytes, name: str = "protocol.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def with_value(name: str, value: str) -> str:
    """The shipped file with one parameter's value replaced (as YAML text)."""
    text, count = re.subn(rf"(?m)^(  {name}:) *[^#\n]*", rf"\1 {value}  ", SHIPPED)
    assert count == 1, name
    return text


def refused(path_or_name: str | Path, *sets: str) -> str:
    with pytest.raises(UsageError) as caught:
        protocol = load_protocol(path_or_name)
        if sets:
            protocol.with_overrides(dict(s.split("=", 1) for s in sets))
    return str(caught.value)


def test_every_parameter_has_a_documented_range_that_the_shipped_protocols_keep():
    assert set(PARAMETER_RANGES) == set(PARAMETERS)
    for low, high, _unit in PARAMETER_RANGES.values():
        assert 0 <= low < high
    for name in ("cosmo", "cosmo-earlier-amendment"):
        parameters = load_protocol(name).parameters
        for parameter, (low, high, _) in PARAMETER_RANGES.items():
            assert low <= getattr(parameters, parameter) <= high, (name, parameter)
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "days 0–3650, percentages 0–1000" in " ".join(readme.split()), "the README states the ranges"


# --- The file itself ----------------------------------------------------------------------------------------------


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = write(tmp_path, SHIPPED.replace("COSMO -", "COSMO \xe9 -").encode("latin-1"))
    line = SHIPPED[: SHIPPED.index("COSMO -")].count("\n") + 1
    assert f"line {line} is not UTF-8 text" in refused(path)


def test_a_utf16_file_is_refused(tmp_path):
    assert "UTF-16 text" in refused(write(tmp_path, SHIPPED.encode("utf-16")))
    assert "line 1 holds NUL bytes" in refused(write(tmp_path, SHIPPED.encode("utf-16-le"), "no-mark.yaml"))


@pytest.mark.parametrize(
    "tagged",
    [
        "size_floor_mm: !!python/object/apply:os.system ['echo hacked']",
        "size_floor_mm: !!python/name:os.system",
        "size_floor_mm: !custom 15",
        "size_floor_mm: !!binary MTU=",
        "size_floor_mm: !!float 15",
        "size_floor_mm: !!str 15",
    ],
)
def test_yaml_tags_are_refused(tmp_path, tagged):
    text = re.sub(r"(?m)^  size_floor_mm:.*$", "  " + tagged, SHIPPED)
    message = refused(write(tmp_path, text))
    assert "YAML tags such as" in message and "are not allowed" in message


def billion_laughs(levels: int = 9) -> str:
    lines = ['lol0: &lol0 "lol"']
    lines += [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\nname: bomb\nversion: '1'\nparameters:\n  size_floor_mm: *lol9\n"


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    path = write(tmp_path, billion_laughs())
    started = time.perf_counter()
    message = refused(path)
    assert time.perf_counter() - started < 0.5
    assert "anchors and aliases" in message


def test_a_single_alias_is_refused_too(tmp_path):
    text = SHIPPED.replace("size_increase_pct: 20 ", "size_increase_pct: &twenty 20 ")
    text = re.sub(r"(?m)^  suv_increase_pct:.*$", "  suv_increase_pct: *twenty", text)
    assert "anchors and aliases" in refused(write(tmp_path, text))


def test_a_huge_file_and_a_huge_document_are_refused(tmp_path):
    assert "larger than 256 KiB" in refused(write(tmp_path, SHIPPED + "#" * 300_000))
    many = SHIPPED + "extra:\n" + "".join(f"  - {i}\n" for i in range(12_000))
    assert "more than 10,000 values" in refused(write(tmp_path, many))


def test_a_parameter_given_twice_is_refused(tmp_path):
    text = SHIPPED.replace("  size_floor_mm: 15", "  size_floor_mm: 15\n  size_floor_mm: 10")
    assert "key 'size_floor_mm' is given twice" in refused(write(tmp_path, text))


@pytest.mark.parametrize("text", ["", "[1, 2]", "just text", "parameters: 5\nname: x\nversion: 1", ": :"])
def test_a_file_of_the_wrong_shape_is_refused(tmp_path, text):
    message = refused(write(tmp_path, text))
    assert message.startswith(f"protocol file {tmp_path / 'protocol.yaml'}")


def test_a_folder_or_fifo_is_not_a_protocol_file(tmp_path):
    import os

    assert "neither a shipped protocol" in refused(tmp_path / "missing.yaml")
    (tmp_path / "folder.yaml").mkdir()
    assert "folder.yaml: a folder, not a file" in refused(tmp_path / "folder.yaml")
    (tmp_path / "broken.yaml").symlink_to(tmp_path / "missing.yaml")
    assert "broken.yaml: a broken link, not a file" in refused(tmp_path / "broken.yaml")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.yaml")
        assert "pipe.yaml: a named pipe (FIFO), not a file" in refused(tmp_path / "pipe.yaml")


# --- Parameter values ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("size_floor_mm", "1e300", "out of range: from 0 to 1000 mm"),
        ("size_floor_mm", ".inf", "not a finite number"),
        ("size_floor_mm", ".nan", "not a finite number"),
        ("size_floor_mm", "-.inf", "not a finite number"),
        ("registration_days", "true", "a boolean (true/false), not a number"),
        ("registration_days", "yes", "a boolean (true/false), not a number"),
        ("registration_days", "-49", "out of range: from 0 to 3650 days"),
        ("registration_days", "49.5", "must be a whole number"),
        ("registration_days", "1" + "0" * 400, "out of range"),
        ("registration_days", "'49'", None),  # a quoted number is read as the number
        ("registration_days", "'4_9'", "not a number"),
        ("size_increase_pct", "1001", "out of range: from 0 to 1000 %"),
        ("size_increase_pct", "null", "not a number"),
        ("size_increase_pct", "[20]", "not a number"),
        ("size_increase_pct", "{a: 1}", "not a number"),
        ("size_increase_pct", "2020-01-01", "not a number"),
        ("min_age_years", "121", "out of range: from 0 to 120 years"),
        ("reference", "nadirr", "must be line_start or nadir"),
        ("reference", "true", "must be line_start or nadir"),
    ],
)
def test_a_bad_value_in_the_file_is_named(tmp_path, name, value, why):
    path = write(tmp_path, with_value(name, value))
    if why is None:
        assert getattr(load_protocol(path).parameters, name) == 49
        return
    message = refused(path)
    assert f"{name}=" in message and why in message


# Values no parameter accepts, as text (`--set`) and as YAML in the file.
BAD_TEXT = st.one_of(
    st.sampled_from(["1_000", "0_1", "2_4", "inf", "-inf", "nan", "NaN", "0x1F", "1e400", "-1", "4,000", "", "true"]),
    st.floats(min_value=3651, max_value=1e308).map(repr),
    st.integers(max_value=-1).map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Nd",)), min_size=1, max_size=8).filter(
        lambda t: t.strip().lower() not in ("", ".", "e")
    ),
)


@settings(max_examples=40, derandomize=True, deadline=None, database=None)
@given(name=st.sampled_from(PARAMETERS), value=BAD_TEXT)
def test_bad_set_values_are_refused_naming_parameter_and_value(name, value):
    protocol = load_protocol("cosmo")
    if value.strip() and re.fullmatch(r"[+-]?[0-9.eE+-]+", value.strip()):
        try:
            number = float(value)
        except ValueError:
            number = None
        low, high, _ = PARAMETER_RANGES[name]
        if number is not None and low <= number <= high and (name not in WHOLE or number == int(number)):
            return  # a good value after all
    with pytest.raises(UsageError) as caught:
        protocol.with_overrides({name: value})
    message = str(caught.value)
    assert message.startswith(f"protocol file --set: {name}=")
    assert repr(value)[:50].strip("'") in message or len(repr(value)) > 50


@pytest.mark.parametrize(
    ("setting", "why"),
    [
        ("size_floor_mm=1e300", "out of range"),
        ("size_floor_mm=1_0", "not a number"),
        ("registration_days=-7", "out of range"),
        ("registration_days=true", "not a number"),
        ("pet_confirmation_tolerance_days=50", "exceeds pet_confirmation_days"),
        ("no_such_parameter=1", "unknown protocol parameter"),
        ("size_floor_mm", "expected PARAM=VALUE"),
    ],
)
def test_bad_set_values_exit_2_through_the_cli(tmp_path, capsys, setting, why):
    code = main(["screen", str(demo_extract_dir()), "--out", str(tmp_path / "out"), "--quiet", "--set", setting])
    err = capsys.readouterr().err
    assert code == 2 and why in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_bad_protocol_file_exits_2_through_the_cli(tmp_path, capsys):
    path = write(tmp_path, billion_laughs())
    code = main(["screen", str(demo_extract_dir()), "--out", str(tmp_path / "out"), "--protocol", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "anchors and aliases" in err and "Traceback" not in err


def test_good_set_values_still_work():
    protocol = load_protocol("cosmo").with_overrides({"size_floor_mm": "10.5", "registration_days": "+50"})
    assert protocol.parameters.size_floor_mm == 10.5
    assert protocol.parameters.registration_days == 50
    assert load_protocol("cosmo").with_overrides({"size_increase_pct": "2e1"}).parameters.size_increase_pct == 20
