"""Control characters from the data are shown escaped in everything the command line prints, never acted on.

Escape sequences, carriage returns, NUL, DEL, C1 controls, bidirectional
overrides, line separators and undecodable bytes of a path are generated into
problems, findings, paths and option values; whatever the command prints
(stdout and stderr, problems, findings, errors, argparse's own messages)
must hold none of them raw, and must still show them (escaped), so a reader
sees that the value is odd.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oligo_cohort.cli import main
from oligo_cohort.errors import OligoCohortError
from oligo_cohort.interruption import Terminated
from oligo_cohort.problems import Problem
from oligo_cohort.terminal import EscapingStream, escape_controls, one_line
from tests.loading.test_bad_input import VALID, write_extract

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
CONTROLS = ["\x1b[2J", "\x1b]0;owned\x07", "\r", "\x00", "\x7f", "\x9b", "\u202e", "\u2066", "\u2028", "\udcff", "\n"]

texts = st.lists(st.one_of(st.sampled_from(CONTROLS), st.text(max_size=4)), max_size=6).map("".join)


@settings(max_examples=300)
@given(texts)
def test_escaped_text_holds_no_control_character_and_keeps_the_rest(text):
    shown = escape_controls(text)
    assert not UNSAFE.search(shown)
    assert shown == text or UNSAFE.search(text)
    assert all(char in shown for char in text if not UNSAFE.match(char))  # nothing else is lost
    assert "\n" not in one_line(text) and "\t" not in one_line(text)


@given(texts, texts, texts)
def test_a_problem_is_described_on_one_safe_line(record, value, column):
    problem = Problem("fatal", "lesions", column or None, 3, record or None, value, "is odd")
    line = problem.describe()
    assert "\n" not in line and not UNSAFE.search(line)
    assert line.startswith("lesions") and line.endswith("is odd")


@given(st.lists(texts, max_size=5))
def test_the_stream_escapes_whatever_is_printed(chunks):
    import io

    target = io.StringIO()
    stream = EscapingStream(target)
    for chunk in chunks:
        print(chunk, file=stream)
    assert not UNSAFE.search(target.getvalue())
    assert target.getvalue().count("\n") >= len(chunks)


def assert_safe(captured) -> str:
    for name, text in (("stdout", captured.out), ("stderr", captured.err)):
        assert not UNSAFE.search(text), (name, [m.group() for m in UNSAFE.finditer(text)])
    return captured.out + captured.err


def test_fatal_problems_quote_values_and_ids_escaped(tmp_path, capsys):
    hostile = "P\x1b[2J\r\u202eX"
    tables = dict(VALID, imaging=VALID["imaging"] + f'S9,"{hostile}",2021-04-01,CT\n')
    extract = write_extract(tmp_path / "extract", tables)
    assert main(["screen", str(extract), "--out", str(tmp_path / "out")]) == 2
    printed = assert_safe(capsys.readouterr())
    assert "P\\x1b[2J\\r\\u202eX" in printed  # the value is quoted as Python would


def test_findings_printed_by_validate_are_escaped(tmp_path, capsys):
    drug = "letro\x1b[31mzole\u2028\x9b"
    tables = dict(VALID, systemic_therapy=VALID["systemic_therapy"] + f'007,"{drug}",2020-02-01,,metastatic\n')
    assert main(["validate", str(write_extract(tmp_path / "extract", tables))]) == 0
    printed = assert_safe(capsys.readouterr())
    assert "letro\\x1b[31mzole\\u2028\\x9b" in printed  # the drug name is quoted as Python would


def test_paths_and_option_values_are_escaped_in_errors_and_summaries(tmp_path, capsys):
    folder = tmp_path / "odd\x1b[8mname\r"
    extract = write_extract(tmp_path / "extract", VALID)
    assert main(["screen", str(folder / "missing\u202e"), "--out", str(tmp_path / "o")]) == 2
    assert main(["screen", str(extract), "--out", str(folder / "out\x1b]0;t\x07")]) == 0
    with pytest.raises(SystemExit):
        main(["screen", str(extract), "--out", str(tmp_path / "o"), "--engine", "duck\x1b[2Jdb"])
    printed = assert_safe(capsys.readouterr())
    assert "odd\\e[8mname\\r" in printed and "missing\\u202e" in printed and "duck\\x1b[2Jdb" in printed


def test_an_undecodable_file_name_does_not_break_the_output(tmp_path, capsys):
    extract = write_extract(tmp_path / "extract", VALID)
    (extract / "notes\udcff.csv").write_bytes(b"a\n1\n")  # a file name that is not UTF-8: a lone surrogate
    assert main(["validate", str(extract)]) == 0
    printed = assert_safe(capsys.readouterr())
    assert "notes\\udcff" in printed


def test_the_streams_are_restored_after_a_run(tmp_path, capsys):
    import sys

    before = sys.stdout, sys.stderr
    main(["dictionary", "--out", str(Path(tmp_path) / "d.md")])
    assert (sys.stdout, sys.stderr) == before


# What a run may have left on its streams when it stops: whole lines, a progress counter (`rewrite_line`), or a line
# whose newline a signal cut off (`print` writes the text, then the newline), on stderr or on stdout.
LEFT_OPEN = st.lists(
    st.tuples(
        st.sampled_from(["line", "counter", "cut", "stdout line", "stdout cut"]),
        st.text(st.characters(codec="utf-8"), max_size=8),
    ),
    max_size=6,
)
STOPS = [
    (KeyboardInterrupt(), "oligo-cohort: interrupted; no output folder or file was left half-written"),
    (Terminated(), "oligo-cohort: terminated; no output folder or file was left half-written"),
    (OligoCohortError("the sites file is damaged"), "oligo-cohort: error: the sites file is damaged"),
    (MemoryError(), "oligo-cohort: error: out of memory."),
]


class _Shown(io.StringIO):
    """A stream that is, or is not, a terminal."""

    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def _ended(before: str) -> str:
    return "\n" if before and not before.endswith("\n") else ""


@given(LEFT_OPEN, st.sampled_from(STOPS), st.booleans())
def test_the_last_message_stands_on_a_line_of_its_own(left, stop, terminal):
    """However a run left its streams when it stopped, its last message begins a line, and nothing before it is
    lost. stdout's open line is ended only on a terminal (where it shares the screen with stderr); a file or a pipe
    gets nothing more than it was sent."""
    from oligo_cohort.cli.failures import report_failure
    from oligo_cohort.terminal import rewrite_line

    exc, message = stop
    out, err = _Shown(terminal), _Shown(terminal)
    with mock.patch.object(sys, "stdout", EscapingStream(out)), mock.patch.object(sys, "stderr", EscapingStream(err)):
        for how, text in left:
            stream = sys.stdout if how.startswith("stdout") else sys.stderr
            if how.endswith("line"):
                print(text, file=stream)
            elif how == "counter":
                rewrite_line(text)
            else:
                stream.write(text)
        before_out, before_err = out.getvalue(), err.getvalue()
        report_failure(exc, argparse.Namespace())
    kept = before_err + _ended(before_err)
    assert err.getvalue().startswith(kept)
    last = err.getvalue()[len(kept) :]
    assert last.startswith(message) and last.endswith("\n") and last.count("\n") == 1
    assert out.getvalue() == before_out + (_ended(before_out) if terminal else "")
