"""Protocol files and `--set` beyond the cases of `test_protocol_files.py`: a damaged file, a path that is not a
file, numbers YAML 1.1 would read other than written, a name or version that would be recorded other than
written, a parameter set twice. Each through the command line: exit 2, the file and the value named, no output.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oligo_cohort.errors import UsageError
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.protocol import Parameters, load_protocol
from tests.safety.damaged_inputs import NOT_FILE_WORDS, NOT_FILES, answered, not_a_file

SHIPPED = resources.files("oligo_cohort.protocols").joinpath("cosmo.yaml").read_text(encoding="utf-8")
PARAMETERS = [name for name in Parameters.__dataclass_fields__ if name != "reference"]


def with_value(name: str, value: str) -> str:
    text, count = re.subn(rf"(?m)^(  {name}:) *[^#\n]*", rf"\g<1> {value}  ", SHIPPED)
    assert count == 1, name
    return text


def screen_with(protocol: Path | str, out: Path, *extra: str) -> list[str]:
    return ["screen", str(demo_extract_dir()), "--out", str(out), "-q", "--protocol", str(protocol), *extra]


DAMAGED = {
    "UTF-16": (SHIPPED.encode("utf-16"), "UTF-16 text"),
    "UTF-16 without its mark": (SHIPPED.encode("utf-16-le"), "line 1 holds NUL bytes"),
    "a NUL byte further down": (SHIPPED.replace("size_floor_mm: 15", "size_floor_mm: 1\x005").encode(), "#x0000"),
    "a Latin-1 byte": (
        SHIPPED.replace("COSMO", "COSMO \xe9", 1).encode("latin-1", "replace"),
        "is not UTF-8 text; save the file as UTF-8",
    ),
    "a workbook": (b"PK\x03\x04" + bytes(100), "a zip archive (an Excel .xlsx workbook?), not a text file"),
    "a Parquet file": (b"PAR1" + bytes(100), "a Parquet file, not a text file"),
    "larger than 256 KiB": (SHIPPED.encode() + b"#" * 300_000, "larger than 256 KiB"),
    "nested thousands deep": (b"parameters: " + b"[" * 1500 + b"]" * 1500 + b"\n", "a value cannot be read"),
    "a version that reads as a number": (
        SHIPPED.replace("version: current", "version: 1.10").encode(),
        "'version' reads as the number 1.1: put it in quotes",
    ),
    "a name that reads as true": (
        SHIPPED.replace("name: cosmo", "name: yes").encode(),
        "'name' must be a line of text",
    ),
    "a NUL in the name, written as YAML's escape": (
        SHIPPED.replace("name: cosmo", 'name: "cos\\0mo"').encode(),
        "'name' must be one line of text of at most 300 characters, without control characters",
    ),
    "a name of 200,000 characters": (
        SHIPPED.replace("name: cosmo", "name: " + "x" * 200_000).encode(),
        "(found 200,000 characters",
    ),
    "a title over two lines": (
        SHIPPED.replace("title: COSMO - local", 'title: "line one\\nline two" # COSMO - local').encode(),
        "'title' must be one line of text",
    ),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_protocol_file_is_refused_naming_the_file(tmp_path, case):
    content, message = DAMAGED[case]
    protocol = tmp_path / "protocol.yaml"
    protocol.write_bytes(content)
    said = answered(screen_with(protocol, tmp_path / "out"), inputs=[protocol], out=tmp_path / "out")
    assert said.code == 2 and f"protocol file {protocol}: " in said.err and message in said.err, said.err


@pytest.mark.parametrize("kind", [k for k in NOT_FILES if k != "link loop"])  # a loop stops the destination first
def test_a_protocol_path_that_is_not_a_file_is_named_never_opened(tmp_path, kind):
    protocol = tmp_path / "protocol.yaml"
    not_a_file(protocol, kind)
    said = answered(screen_with(protocol, tmp_path / "out"), inputs=[], out=tmp_path / "out")
    named = NOT_FILE_WORDS[kind]
    assert said.code == 2 and f"protocol file {protocol}: {named}, not a file" in said.err, said.err


def test_a_quoted_version_is_kept_as_written(tmp_path):
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(SHIPPED.replace("version: current", "version: '1.10'"), encoding="utf-8")
    assert load_protocol(protocol).version == "1.10"


# Numbers as YAML 1.1 spells them but no extract does: read as text, so refused naming the value as written.
OTHER_SPELLINGS = ["0x31", "0o61", "0b110001", "1_000", "4_9", "1:30", "+0x1"]


@settings(max_examples=25, deadline=None, derandomize=True)
@given(name=st.sampled_from(PARAMETERS), spelling=st.sampled_from(OTHER_SPELLINGS))
def test_numbers_yaml_spells_otherwise_are_refused_with_the_value_as_written(tmp_path_factory, name, spelling):
    protocol = tmp_path_factory.mktemp("spelling") / "protocol.yaml"
    protocol.write_text(with_value(name, spelling), encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_protocol(protocol)
    assert f"{name}={spelling!r}: not a number" in str(caught.value), str(caught.value)


@pytest.mark.parametrize("name", ["registration_days", "size_floor_mm"])
def test_a_number_with_leading_zeros_reads_as_the_decimal_it_shows(tmp_path, name):
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(with_value(name, "049"), encoding="utf-8")  # YAML 1.1 would try it as octal
    assert getattr(load_protocol(protocol).parameters, name) == 49


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["screen", "--set", "size_floor_mm=10", "--set", " size_floor_mm =12"],
         "--set size_floor_mm is given twice ('10' and '12')"),
        (["report", "--compare-set", "size_floor_mm=10", "--compare-set", "size_floor_mm=10"],
         "--compare-set size_floor_mm is given twice"),
        (["report", "--set", "=10"], "--set '=10': expected PARAM=VALUE"),
    ],
    ids=["screen --set", "report --compare-set", "no name"],
)  # fmt: skip
def test_a_parameter_set_twice_is_refused_whatever_the_command(tmp_path, argv, message):
    command, *options = argv
    out = tmp_path / "out"
    said = answered([command, str(demo_extract_dir()), "--out", str(out), *options], inputs=[], out=out)
    assert said.code == 2 and message in said.err, said.err
