"""What the command line prints: control characters from the data are shown escaped, never acted on.

Values from an extract (ids, drug names, file names, paths) end up in the
messages the tool prints. A value holding an escape sequence could recolour or
clear the terminal, a carriage return could overwrite the line before it, a
bidirectional override could make `P1` read as `1P`, and a NUL or a lone
surrogate (an undecodable file name) could break the output. `main()` wraps
stdout and stderr once (`escaped_output`), so every line printed passes
through `escape_controls`: that is the one place, whatever module formats the
message. Newlines and tabs pass (messages are laid out with them); a message
meant to be one line escapes newlines too (`one_line`).
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

# C0 controls but tab and newline, DEL, C1 controls; bidirectional formatting marks and overrides (U+061C,
# U+200E/F, U+202A–E, U+2066–9); line and paragraph separators; lone surrogates (undecodable bytes of a path).
# A regular-expression class, for whatever else must keep them out (sheet names).
UNSAFE_CHARACTERS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE_IN_TEXT = re.compile(f"[{UNSAFE_CHARACTERS}]")
_UNSAFE_IN_LINE = re.compile(f"[{UNSAFE_CHARACTERS}\n\t]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x00": "\\0", "\x1b": "\\e"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """`text` with every control character written as a visible escape (`\\e`, `\\r`, `\\u202e` …).

    Newlines and tabs are kept: they lay out the tool's own messages.
    """
    return _UNSAFE_IN_TEXT.sub(_escaped, text) if _UNSAFE_IN_TEXT.search(text) else text


def one_line(text: str) -> str:
    """`text` escaped as `escape_controls` does, newlines and tabs included: a message that must stay one line."""
    return _UNSAFE_IN_LINE.sub(_escaped, text) if _UNSAFE_IN_LINE.search(text) else text


class EscapingStream(io.TextIOBase):
    """A text stream that escapes control characters in everything written, then passes it to `target`."""

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self.target = target
        # Whether the last thing written left a line unfinished: a progress counter, or a line a signal cut short
        # between its text and its newline (`print` writes them one after the other).
        self.line_open = False

    def write(self, text: str) -> int:
        self.target.write(escape_controls(text))
        if text:
            self.line_open = not text.endswith("\n")
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.target, "encoding", "utf-8")

    def __getattr__(self, name: str):
        return getattr(self.target, name)


@contextmanager
def escaped_output() -> Iterator[None]:
    """Escape control characters in everything printed on stdout and stderr inside this block."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = EscapingStream(saved[0]), EscapingStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def rewrite_line(text: str) -> None:
    """Overwrite the current line of stderr with `text` (a progress counter): the one carriage return allowed."""
    stream = sys.stderr.target if isinstance(sys.stderr, EscapingStream) else sys.stderr
    stream.write("\r" + one_line(text))
    stream.flush()
    if isinstance(sys.stderr, EscapingStream):  # written around it: the stream cannot see that the line is open
        sys.stderr.line_open = True


def start_fresh_line() -> None:
    """End the line stderr was left on, if any, so that the next message stands on a line of its own.

    A run stopped while a progress counter was shown, or by a signal that came between a line's text and its
    newline, would otherwise glue its last message to that line (`  300,000 / 400,000 patientsoligo-cohort:
    interrupted; …`), where a reader, or a script reading the last line, would miss it. stdout's line is ended
    too when stdout is a terminal, the one both streams then share; a file or a pipe gets nothing it was not sent.
    """
    for stream, only_on_a_terminal in ((sys.stdout, True), (sys.stderr, False)):
        if isinstance(stream, EscapingStream) and stream.line_open and (not only_on_a_terminal or stream.isatty()):
            stream.write("\n")
            stream.flush()
