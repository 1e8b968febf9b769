"""The package's log records on stderr as the command line shows them: progress lines on a terminal, every
stage with `--verbose`, none with `--quiet`.
"""

import contextlib
import logging
import sys
from collections.abc import Iterator


class _TerminalLog(logging.Handler):
    """The package's log records on stderr, as the command line shows them.

    Stage records (`oligo_cohort.progress`): by default one line per top-level stage on a terminal
    (`  read … 0.4 s`), none when stderr is a file or a pipe; with --verbose every record on a line of its own,
    with the seconds since the start, inner stages indented. Other records: `oligo-cohort: warning: …`.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.verbose = False

    def set_verbosity(self, *, verbose: bool, quiet: bool) -> None:
        self.verbose = verbose and not quiet
        level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
        logging.getLogger(PACKAGE_LOGGER).setLevel(level)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stderr
            event = getattr(record, "stage_event", None)
            if self.verbose:
                indent = "  " * int(getattr(record, "depth", 0) or 0)
                text = f"[{record.relativeCreated / 1000:7.1f} s] {indent}{record.getMessage()}\n"
            elif event is not None:
                if not stream.isatty():
                    return
                text = f"  {record.stage} …" if event == "start" else f" {record.seconds:.1f} s\n"  # type: ignore[attr-defined]
            else:
                text = f"oligo-cohort: {record.levelname.lower()}: {record.getMessage()}\n"
            stream.write(text)
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass


PACKAGE_LOGGER = "oligo_cohort"


@contextlib.contextmanager
def logging_to_stderr() -> Iterator[_TerminalLog]:
    """Show the package's log records on stderr for one run of `main()` (progress by default, see _TerminalLog)."""
    logger = logging.getLogger(PACKAGE_LOGGER)
    handler = _TerminalLog()
    saved = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved)
