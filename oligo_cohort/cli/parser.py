"""The argument parser: every command with its options, defaults shown in `--help`, and an example that runs
as printed. A plugged command's module is imported only when that command runs.
"""

import argparse
import re
from collections.abc import Sequence
from pathlib import Path

from oligo_cohort import __version__
from oligo_cohort.cli.core_commands import add_screen_options, cmd_demo, cmd_dictionary, cmd_screen, cmd_validate
from oligo_cohort.cli.shown import command_prefix, shown_path
from oligo_cohort.engines import ENGINES


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every subcommand; of the plugged ones only `command`'s options are set up.

    A plugged command's module (and what it imports: matplotlib, scipy…) is imported only when that command
    runs, so `oligo-cohort --help` and every other command start without it.
    """
    parser = _Parser(
        prog="oligo-cohort",
        description="Pre-screen registry extracts for the COSMO oligoprogression trial.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", dest="global_verbose", action="store_true", help=_VERBOSE_HELP)
    parser.add_argument("-q", "--quiet", dest="global_quiet", action="store_true", help=_QUIET_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    screen = sub.add_parser("screen", help="screen an extract; write patients, events, reasons, findings")
    screen.add_argument("extract", help="extract folder (CSV/Parquet per table) or DuckDB database file")
    screen.add_argument(
        "--out", required=True, type=Path, help="output folder (new, or an earlier screen output: replaced whole)"
    )
    screen.add_argument("--worklist", action="store_true", help="site mode: closed windows fail; write worklist.csv")
    screen.add_argument("--parquet", action="store_true", help="also write Parquet twins of the CSV files")
    screen.add_argument(
        "--explain",
        choices=("best-event", "all-events"),
        default="best-event",
        help="reasons.csv explains each patient's best event (default) or every candidate event",
    )
    screen.add_argument(
        "--spark-tables",
        action="store_true",
        help="with --engine spark: EXTRACT names a Spark database whose tables are named as in the data model "
        "('-' for the current database); see docs/spark.md",
    )
    screen.add_argument(
        "--spark-output",
        metavar="URI",
        help="with --engine spark: Spark also writes the results as Parquet partitioned by site under URI",
    )
    add_screen_options(screen)
    screen.set_defaults(handler=cmd_screen)

    demo = sub.add_parser("demo", help="screen the bundled demo extract and print a summary")
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("demo-output"),
        help="output folder (new, or an earlier screen output: replaced whole; default demo-output)",
    )
    demo.add_argument("--engine", default="duckdb", choices=sorted(ENGINES), help="evaluation engine")
    demo.set_defaults(handler=cmd_demo)

    validate = sub.add_parser("validate", help="check an extract against the data dictionary; no screening")
    validate.add_argument("extract", help="extract folder (CSV/Parquet per table) or DuckDB database file")
    validate.add_argument(
        "--as-of", metavar="YYYY-MM-DD", help="data cut-off (default: the latest date in the extract)"
    )
    validate.add_argument("--problems", metavar="FILE", help="write every problem found to this CSV file")
    validate.set_defaults(handler=cmd_validate)

    dictionary = sub.add_parser("dictionary", help="print the data dictionary as Markdown")
    dictionary.add_argument(
        "--out", help="write it to this file instead (a new file, or one this command wrote before)"
    )
    dictionary.set_defaults(handler=cmd_dictionary)

    for name, module, help_text in _PLUGGED_COMMANDS:
        plugged = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            _configure_plugged(plugged, module)
    for chosen in sub.choices.values():
        _add_output_options(chosen)
    return parser


_VERBOSE_HELP = "log every stage of the run with its time and memory, inner stages too"
_QUIET_HELP = "no progress lines: only results, warnings and errors"


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    """`-v/--verbose` and `-q/--quiet` after a command too (and after each of its steps), unless it has its own."""
    for flags, dest, text in (
        (("-v", "--verbose"), "verbose", _VERBOSE_HELP),
        (("-q", "--quiet"), "quiet", _QUIET_HELP),
    ):
        own = parser._option_string_actions.get(flags[1])
        if own is None:
            parser.add_argument(*[f for f in flags if f not in parser._option_string_actions], dest=dest,
                                action="store_true", help=text)  # fmt: skip
        elif own.dest == dest and flags[0] not in parser._option_string_actions:  # a command's own --quiet: and -q
            own.option_strings.insert(0, flags[0])
            parser._option_string_actions[flags[0]] = own
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for step in action.choices.values():
                _add_output_options(step)


class _HelpFormatter(argparse.HelpFormatter):
    """Help that shows each option's default and keeps the example commands of the epilog as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        shown = action.option_strings and default not in (None, False, True, argparse.SUPPRESS, [], "")
        if not shown or "default" in text:
            return text
        return text + " (default: %(default)s)"

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        # Paragraphs are wrapped; a paragraph of indented lines (an example command) is kept as written.
        paragraphs = []
        for paragraph in text.split("\n\n"):
            if paragraph.startswith("  "):
                paragraphs.append("\n".join(indent + line for line in paragraph.splitlines()))
            else:
                paragraphs.append(super()._fill_text(paragraph, width, indent))
        return "\n\n".join(paragraphs)


class _Parser(argparse.ArgumentParser):
    """The parser of the command and of every subcommand: defaults shown, and an example in the epilog."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def format_help(self) -> str:
        if self.epilog is None:
            self.epilog = example_epilog(self.prog.split(" ", 1)[1] if " " in self.prog else "")
        return super().format_help()

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        """The options, as argparse parses them; a word no option takes is named by the command it was given to.

        argparse leaves the words a command does not know to `oligo-cohort` itself, which showed its own usage
        (`oligo-cohort [-h] [--version] [-v] [-q] COMMAND ...`) for `screen ... --worklst`, and no hint.
        """
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            given_to = self._chosen(parsed)
            hint = _closest(extras[0].split("=", 1)[0], given_to._option_string_actions) if extras[0][:1] == "-" else ""
            given_to.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
        return parsed

    def _chosen(self, parsed: argparse.Namespace) -> argparse.ArgumentParser:
        """The parser of the command (and step) the words chose: `oligo-cohort review export` for its options."""
        chosen: argparse.ArgumentParser = self
        while True:
            commands = next((a for a in chosen._actions if isinstance(a, argparse._SubParsersAction)), None)
            name = getattr(parsed, commands.dest, None) if commands is not None else None
            if name not in (commands.choices if commands is not None else {}):
                return chosen
            chosen = commands.choices[name]

    def _check_value(self, action: argparse.Action, value: object) -> None:
        """A value outside an option's choices (a command, an engine...) is refused with the closest choice."""
        if action.choices is not None and value not in action.choices:
            choices = ", ".join(repr(c) for c in action.choices)
            hint = _closest(str(value), [str(c) for c in action.choices])
            raise argparse.ArgumentError(action, f"invalid choice: {value!r}{hint} (choose from {choices})")
        super()._check_value(action, value)


def _closest(word: str, known) -> str:
    """`"; did you mean 'X'?"` for the known word closest to a mistyped one (letter case aside), else `""`."""
    import difflib

    by_lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1)
    return f"; did you mean {by_lower[close[0]]!r}?" if close else ""


# One example per command, each runs as printed from the repository: on the bundled demo extract ({demo}), or on
# the screen folder `make demo` writes (demo-output/). {prog} is the command as this user runs it.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "": ("{prog} demo", "{prog} screen {demo} --out screen-out"),
    "screen": ("{prog} screen {demo} --out screen-out --as-of 2024-06-30 --worklist",),
    "demo": ("{prog} demo --out demo-output",),
    "validate": ("{prog} validate {demo} --problems problems.csv",),
    "dictionary": ("{prog} dictionary --out data-dictionary.md",),
    "synth": ("{prog} synth --patients 2000 --sites 12 --format csv --out synthetic-extract",),
    "attrition": ("{prog} attrition demo-output --out attrition-out --by site",),
    "report": ("{prog} report {demo} --out report-out --target 20 --author 'A. Analyst'",),
    "accrual": ("{prog} accrual demo-output --target 20 --start 2025-01-01 --out accrual-out",),
    "import": ("{prog} import nkr YOUR_NKR_FILE.csv --out nkr-extract",),
    "review": ("{prog} review export demo-output --out review-out",),
    "review export": ("{prog} review export demo-output --out review-out --status eligible,unknown",),
    "review import": ("{prog} review import review-out/review.csv --extract {demo} --out reviewed-extract",),
}
# Commands whose example needs a file of the user's own (no such source ships with the tool).
OWN_INPUT_EXAMPLES = frozenset({"import"})


def example_commands(command: str) -> list[str]:
    """The example commands of a command (`""` for oligo-cohort itself, `"review export"` for a step)."""
    from oligo_cohort.paths import demo_extract_dir

    fill = {"prog": command_prefix(), "demo": shown_path(demo_extract_dir())}
    return [example.format(**fill) for example in EXAMPLES.get(command, ())]


def example_epilog(command: str) -> str:
    """The epilog of a command's --help: its example, and what it runs on (an example that reads nothing, as
    `synth`'s, claims no input: it said "on the bundled demo extract")."""
    lines = example_commands(command)
    if not lines:
        return ""
    examples = EXAMPLES[command]
    # What the examples read: a folder an earlier example writes (not one they write themselves, `--out X`), or
    # the bundled demo extract (`demo` screens it).
    reads = {
        word for example in examples for word in re.findall(r"(?<!--out )(?<![\w-])(demo-output|review-out)/?", example)
    }
    if command in OWN_INPUT_EXAMPLES:
        where = " (with a file of your own)"
    elif "review-out" in reads:
        where = " (on the demo, after `oligo-cohort review export demo-output --out review-out`)"
    elif "demo-output" in reads:
        where = " (on the demo, after `make demo` (or `oligo-cohort demo`) has written demo-output/)"
    elif any("{demo}" in example or example.startswith("{prog} demo") for example in examples):
        where = " (on the bundled demo extract)"
    else:
        where = ""
    title = "Examples" if len(lines) > 1 else "Example"
    return f"{title}{where}:\n\n" + "\n".join(f"  {line}" for line in lines)


# Subcommands whose options and work live in their own package (module exposes configure(parser) and run(args)).
_PLUGGED_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("synth", "oligo_cohort.synth.command", "write a synthetic registry extract (realistic clinical mix, any size)"),
    (
        "attrition",
        "oligo_cohort.attrition.command",
        "attrition by criterion (tables, CONSORT diagram, charts) from a screen output folder",
    ),
    (
        "report",
        "oligo_cohort.attrition.report_command",
        "screen an extract and write the feasibility report (HTML) with its shareable bundle",
    ),
    (
        "accrual",
        "oligo_cohort.accrual.command",
        "site accrual: historical rates, Poisson-gamma and constant-accrual forecasts, time to target",
    ),
    (
        "import",
        "oligo_cohort.importers.command",
        "import an OMOP CDM v5.4 source or an NKR-style registry file as a canonical extract, with a mapping report",
    ),
    (
        "review",
        "oligo_cohort.review.command",
        "chart review: export the open questions of a screen, import the answers",
    ),
)


def _configure_plugged(parser: argparse.ArgumentParser, module: str) -> None:
    import importlib

    command = importlib.import_module(module)
    command.configure(parser)
    parser.set_defaults(handler=command.run)


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (the first word that is not an option)."""
    return next((word for word in argv if not word.startswith("-")), None)
