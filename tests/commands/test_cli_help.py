"""The command line explains itself: --help with defaults and an example, commands printed as they run, logging.

- Every command's and step's `--help` shows each option's default and an example; `oligo-cohort --help` imports
  none of the plugged commands' libraries (it stays fast).
- The examples, and the commands `demo` and `import` suggest, run as printed from the folder they were printed in
  (the fast ones in the default suite; every one, in a shell, with `-m slow`).
- `-v/--verbose` and `-q/--quiet`, before or after the command, set what stderr shows; the library prints nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from oligo_cohort.cli import (
    EXAMPLES,
    OWN_INPUT_EXAMPLES,
    build_parser,
    command_prefix,
    example_commands,
    example_epilog,
    main,
)
from oligo_cohort.paths import demo_extract_dir

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = [name for name in EXAMPLES if name and " " not in name]
# The examples the default suite runs (in-process); the rest draw figures or forecasts, and run with -m slow.
FAST = ("demo", "screen", "validate", "dictionary", "synth", "review export", "review import")
ORDER = ("demo", "", "screen", "validate", "dictionary", "synth", "attrition", "report", "accrual", "review",
         "review export", "review import")  # fmt: skip


def subparser(command: str) -> argparse.ArgumentParser:
    """The parser of `command` ("review export" for a step), configured as when it runs."""
    parser = build_parser(command.split()[0])
    for word in command.split():
        parser = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[word]
    return parser


def options_with_defaults(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a
        for a in parser._actions
        if a.option_strings and a.help and a.default not in (None, False, True, argparse.SUPPRESS, [], "")
    ]


@pytest.mark.parametrize("command", [*COMMANDS, "review export", "review import"])
def test_help_shows_every_default_and_an_example(command, capsys):
    parser = subparser(command)
    text = parser.format_help()
    flat = " ".join(text.split())
    for action in options_with_defaults(parser):
        shown = str(action.default)
        assert f"default: {shown}" in flat or f"default {shown}" in flat or "default" in action.help, action.dest
    assert "Example" in text
    for example in example_commands(command):
        assert example in text, "the example is printed whole, on one line"
    assert "-v, --verbose" in text and "-q, --quiet" in text


# Every command whose --out is a folder replaces an earlier output of its own kind (docs/outputs.md); its help says
# so, where `screen --help` said "replaced atomically" (of any folder?) and `import`, `review export` and
# `review import` a "new folder", which an earlier output of theirs need not be.
FOLDER_OUTPUTS = (
    "demo",
    "screen",
    "synth",
    "attrition",
    "report",
    "accrual",
    "import",
    "review export",
    "review import",
)


@pytest.mark.parametrize("command", FOLDER_OUTPUTS)
def test_the_out_help_says_which_folder_it_replaces(command):
    out = next(a for a in subparser(command)._actions if "--out" in a.option_strings)
    assert "earlier" in out.help and "new" in out.help, out.help


AFTER_DEMO = " (on the demo, after `make demo` (or `oligo-cohort demo`) has written demo-output/)"
EXAMPLE_INPUTS = {
    "": " (on the bundled demo extract)",
    "demo": " (on the bundled demo extract)",  # it writes demo-output/, it does not read it
    "screen": " (on the bundled demo extract)",
    "synth": "",  # reads nothing
    "dictionary": "",
    "attrition": AFTER_DEMO,
    "review export": AFTER_DEMO,
    "review import": " (on the demo, after `oligo-cohort review export demo-output --out review-out`)",
    "import": " (with a file of your own)",
}


@pytest.mark.parametrize("command", sorted(EXAMPLE_INPUTS))
def test_the_example_says_what_it_reads(command):
    """`synth --help` said its example ran "on the bundled demo extract", which it does not read, `demo --help`
    that it needed demo-output/, which it writes, and `review import --help` named the demo extract but not the
    review-out/ its example reads."""
    assert example_epilog(command).split(":\n", 1)[0] in (
        f"Example{EXAMPLE_INPUTS[command]}",
        f"Examples{EXAMPLE_INPUTS[command]}",
    )


def test_plain_help_imports_no_plugged_command():
    code = (
        "import sys\nfrom oligo_cohort.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('matplotlib', 'scipy', 'oligo_cohort.attrition.report', 'oligo_cohort.synth.command',"
        " 'oligo_cohort.accrual.command', 'oligo_cohort.importers.command', 'oligo_cohort.review.command')"
        " if m in sys.modules]\nprint('HEAVY', heavy, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert "HEAVY []" in done.stderr
    assert "Examples (on the bundled demo extract)" in done.stdout


HELP_COMMANDS = [*COMMANDS, "review export", "review import", "import omop", "import nkr"]
DATA_LIBRARIES = ("pandas", "matplotlib", "scipy", "polars", "openpyxl", "pyarrow", "numpy", "duckdb")
HELP_PROBE = """
import sys
from oligo_cohort.cli import main
try:
    main(sys.argv[1:] + ["--help"])
except SystemExit:
    pass
print("LOADED", [m for m in DATA_LIBRARIES if m in sys.modules], file=sys.stderr)
"""


@pytest.mark.parametrize("command", HELP_COMMANDS)
def test_every_command_help_loads_no_data_library(command):
    """`oligo-cohort COMMAND --help` starts at once: building a command's parser loads none of the libraries its
    work needs (`review import --help` took 1.2 s, `attrition --help` 0.6 s, when they loaded pandas)."""
    probe = f"DATA_LIBRARIES = {DATA_LIBRARIES!r}\n{HELP_PROBE}"
    done = subprocess.run([sys.executable, "-c", probe, *command.split()], capture_output=True, text=True, cwd=ROOT)
    assert "usage:" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "LOADED []", done.stderr[-1000:]


def test_duckdb_s_errors_are_told_apart_without_importing_duckdb():
    """The command line's last line of defence names DuckDB's errors (an interrupted query, a full disk, out of
    memory) without importing DuckDB, which `--help` never needs: such an error only arrives once DuckDB is loaded."""
    from oligo_cohort import interruption
    from oligo_cohort.cli.failures import report_failure
    from oligo_cohort.destination.failures import write_failure
    from oligo_cohort.errors import is_duckdb_error

    assert is_duckdb_error(duckdb.IOException("disk full"), "IOException", "PermissionException")
    assert not is_duckdb_error(OSError("disk full"), "IOException")
    assert interruption.stopped_by(duckdb.InterruptException("query interrupted")) == signal.SIGINT
    assert interruption.stopped_by(ValueError()) is None
    assert write_failure(duckdb.PermissionException("Permission denied\nmore")) == "Permission denied"
    assert report_failure(duckdb.OutOfMemoryException("out of memory"), argparse.Namespace()) == 2
    probe = (
        "import sys\nfrom oligo_cohort.errors import is_duckdb_error\n"
        "print(is_duckdb_error(ValueError(), 'IOException'), 'duckdb' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_screen_from_the_command_line_imports_no_library_it_does_not_need(kind, tmp_path):
    """pandas is the heaviest import of all (a third of a second): a screen reads, decides, explains and writes
    without it, for CSV and Parquet extracts alike; it is loaded only when a Python user asks for a DataFrame.
    Neither reads pyarrow (nor numpy with it, a tenth of a second): DuckDB reads the CSV files' polars frames
    and the Parquet files' footers. With the models' compiled SQL recorded (sql/model_graph.json), no screen
    imports Jinja."""
    unwanted = ("pandas", "matplotlib", "scipy", "jinja2", "pyarrow", "numpy")
    extract = demo_extract_dir()
    if kind == "parquet":
        extract = tmp_path / "extract"
        extract.mkdir()
        con = duckdb.connect()
        for table in demo_extract_dir().glob("*.csv"):
            con.sql(f"SELECT * FROM read_csv('{table}', all_varchar = true)").write_parquet(
                str(extract / f"{table.stem}.parquet")
            )
    code = (
        "import sys\nfrom oligo_cohort.cli import main\n"
        f"code = main(['screen', {str(extract)!r}, '--out', {str(tmp_path / 'out')!r}, '-q'])\n"
        f"loaded = [m for m in {unwanted!r} if m in sys.modules]\n"
        "print('CODE', code, 'LOADED', loaded, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert "CODE 0 LOADED []" in done.stderr, done.stderr[-2000:]


def test_the_prefix_is_the_command_installed_beside_python(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    prefix = shlex.split(command_prefix())
    script = Path(sys.executable).parent / "oligo-cohort"
    assert prefix in (["oligo-cohort"], [str(script)]), prefix
    monkeypatch.chdir(ROOT)
    assert command_prefix() in ("oligo-cohort", shlex.quote(os.path.relpath(script, ROOT)))


def run_printed(command: str) -> int:
    """Run an oligo-cohort command line as printed (in-process, after checking its first word is the command)."""
    words = shlex.split(command)
    assert Path(words[0]).is_file() or words[0] == "oligo-cohort", words[0]
    return main(words[1:])


def next_commands(printed: str) -> list[str]:
    lines = printed.split("Next (from this folder):", 1)[1].splitlines()
    return [line.split("   #")[0].strip() for line in lines if line.strip()]


def test_demo_and_the_examples_run_as_printed(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    printed = capsys.readouterr().out
    assert "Synthetic data (the bundled demo extract): exact counts" in printed
    suggested = next_commands(printed)
    assert [shlex.split(c)[1] for c in suggested] == ["screen", "attrition", "report"]
    assert str(demo_extract_dir()) in suggested[0], "paths as they are from here"
    assert run_printed(suggested[0]) == 0  # the first suggestion; the others run with -m slow
    for command in (c for c in ORDER if c in FAST):
        for example in example_commands(command):
            assert run_printed(example) == 0, example
    capsys.readouterr()
    assert (tmp_path / "data-dictionary.md").is_file() and (tmp_path / "reviewed-extract").is_dir()


@pytest.mark.parametrize("command", [c for c in ORDER if c not in FAST and c not in OWN_INPUT_EXAMPLES])
def test_every_other_example_parses(command):
    for example in example_commands(command):
        words = shlex.split(example)
        build_parser(words[1]).parse_args(words[1:])


@pytest.mark.slow
def test_every_printed_command_runs_in_a_shell(tmp_path, monkeypatch):
    """Each example and each suggestion of `demo`, exactly as printed, in a shell, in the folder printed for."""
    monkeypatch.chdir(tmp_path)  # the commands are printed for the folder they run in
    env = dict(os.environ, OLIGO_COHORT_THREADS="1")
    demo = subprocess.run(
        shlex.split(example_commands("demo")[0]), cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    commands = next_commands(demo.stdout)
    commands += [e for c in ORDER if c not in OWN_INPUT_EXAMPLES for e in example_commands(c)]
    for command in dict.fromkeys(commands):
        done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{command}\n{done.stderr}"


def test_import_suggests_a_screen_that_runs_as_printed(monkeypatch, tmp_path, capsys):
    from tests.importers.test_import_nkr import write_nkr

    monkeypatch.chdir(tmp_path)
    source = write_nkr(tmp_path / "nkr.csv")
    assert main(["import", "nkr", str(source), "--out", "nkr-extract"]) == 0
    printed = capsys.readouterr().out
    suggested = next_commands(printed)
    assert suggested == [f"{command_prefix()} screen nkr-extract --out screen-out"]
    assert run_printed(suggested[0]) == 0
    assert (tmp_path / "screen-out" / "patients.csv").is_file()


# --- logging ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "shown"),
    [
        ([], [], False),  # stderr is not a terminal here: no progress lines
        (["-v"], [], True),
        ([], ["--verbose"], True),
        (["--verbose"], ["-q"], False),
    ],
)
def test_verbose_and_quiet_set_what_stderr_shows(before, after, shown, tmp_path, capsys):
    assert main([*before, "screen", str(demo_extract_dir()), "--out", str(tmp_path / "out"), *after]) == 0
    err = capsys.readouterr().err
    stages = [line for line in err.splitlines() if line.startswith("[") and " s] " in line]
    assert bool(stages) == shown, err
    if shown:
        assert any("validate: " in line and "peak memory" in line for line in stages)
        assert any("write outputs" in line for line in stages)


def test_a_python_user_sees_the_stages_once_logging_shows_info(capsys, caplog):
    """As the README says: after `logging.basicConfig(level=logging.INFO)` a screen's stages are logged, with no
    reporter set up by hand (they were logged only inside `tracking(...)`, which no user is told of)."""
    from oligo_cohort.api import screen

    with caplog.at_level(logging.INFO, logger="oligo_cohort"):
        screen(demo_extract_dir())
    assert capsys.readouterr().out == ""
    ends = [r for r in caplog.records if getattr(r, "stage_event", None) == "end"]
    assert {getattr(r, "stage", None) for r in ends} >= {"read", "validate", "explain"}
    assert all(r.levelno == logging.INFO for r in ends if r.depth == 0)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="oligo_cohort"):
        screen(demo_extract_dir())
    assert caplog.records == []


def test_verbose_shows_the_stages_of_a_command_that_keeps_no_measures(tmp_path, capsys):
    """`report -v` screens the extract, and showed none of its stages (only screen, demo and validate did)."""
    out = tmp_path / "report"
    assert main(["report", str(demo_extract_dir()), "--out", str(out), "--no-screen-output", "-v"]) == 0
    stages = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[") and " s] " in line]
    assert any("validate: " in line and "peak memory" in line for line in stages), stages


def test_the_library_prints_nothing_and_logs_its_stages(capsys, caplog):
    from oligo_cohort.api import screen
    from oligo_cohort.progress import RunProgress, tracking

    with caplog.at_level(logging.INFO, logger="oligo_cohort"), tracking(RunProgress()):
        screen(demo_extract_dir())
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    stages = [r for r in caplog.records if r.name == "oligo_cohort.progress"]
    assert {getattr(r, "stage", None) for r in stages} >= {"read", "validate", "explain"}
    assert {getattr(r, "stage_event", None) for r in stages} == {"start", "end"}
