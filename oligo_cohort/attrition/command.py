"""`oligo-cohort attrition SCREEN_DIR --out DIR`: attrition tables and figures from a screen output folder.

The output folder holds aggregates only (tables, figures, settings.json) and,
unless `--no-disclosure-control` is given, is disclosure-controlled and
shareable; `disclosure.md` says which.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from oligo_cohort.attrition.levels import LEVELS

if TYPE_CHECKING:
    from oligo_cohort.attrition.views import Options, Views

# The rest is imported where it runs: building the parser (and `--help`) should not load pandas and Matplotlib.

HELP = "attrition by criterion (tables, CONSORT diagram, charts) from a screen output folder"


def add_attrition_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by `attrition` and `report`: order, criteria left out, review pass rates, disclosure."""
    parser.add_argument(
        "--order",
        metavar="ID,ID,...",
        help="criteria to apply first, in this order (the rest follow in protocol order)",
    )
    parser.add_argument("--drop", metavar="ID,ID,...", help="leave these criteria out (what if they were removed)")
    parser.add_argument(
        "--review-pass-rate",
        dest="review_pass_rates",
        action="append",
        default=[],
        metavar="ID=RATE",
        help="assumed pass rate (0-1) of a chart-review criterion, for the expected final number (repeatable)",
    )
    control = parser.add_mutually_exclusive_group()
    control.add_argument(
        "--no-disclosure-control",
        dest="disclosure_control",
        action="store_false",
        default=None,
        help="exact counts (small ones included), for internal use only; default: counts 1-7 shown as 0, "
        "others rounded to the nearest 5 (and exact counts for the bundled demo, which is synthetic)",
    )
    control.add_argument(
        "--disclosure-control",
        dest="disclosure_control",
        action="store_true",
        default=None,
        help="apply disclosure control even to synthetic data (to see what a shareable bundle looks like)",
    )


def configure(parser: argparse.ArgumentParser) -> None:
    """The arguments of `oligo-cohort attrition`."""
    parser.add_argument("screen_dir", metavar="SCREEN_DIR", type=Path, help="a folder written by `oligo-cohort screen`")
    parser.add_argument(
        "--out", required=True, type=Path, help="output folder (new, or an earlier attrition output: replaced whole)"
    )
    parser.add_argument("--by", choices=("site", "year"), help="also break attrition down by site or screening year")
    parser.add_argument("--level", choices=LEVELS, default="patients", help="patients (best event) or events")
    parser.add_argument(
        "--formats", default="png,svg", metavar="png,svg,pdf", help="figure formats to write (default png,svg)"
    )
    parser.add_argument("--no-figures", dest="figures", action="store_false", help="tables only (faster)")
    add_attrition_options(parser)
    # Chart review stage (oligo_cohort.review.flow): the screen of the reviewed extract.
    parser.add_argument(
        "--after-review",
        type=Path,
        metavar="SCREEN_DIR",
        help="screen of the extract written by `review import` (same cut-off, worklist mode and protocol "
        "parameters): add the chart review stage",
    )


def options_from(args: argparse.Namespace, *, level: str, by: tuple[str, ...]) -> Options:
    """Attrition options from parsed arguments."""
    from oligo_cohort.attrition.tables import parse_criteria_list
    from oligo_cohort.attrition.views import Options, parse_rates

    return Options(
        level=level,
        order=tuple(parse_criteria_list(args.order)) or None,
        drop=tuple(parse_criteria_list(args.drop)),
        by=by,
        review_pass_rates=parse_rates(args.review_pass_rates),
    )


def format_table(views: Views) -> str:
    """The attrition table as text for the terminal."""
    from oligo_cohort.attrition.labels import n_text

    lines = [f"{'step':>4}  {'criterion':<48} {'remaining':>10} {'excluded':>9} {'if unknown fail':>16}"]
    for row in views.attrition.itertuples():
        lines.append(
            f"{row.step:>4}  {row.label[:48]:<48} {n_text(row.remaining):>10} "
            f"{n_text(row.excluded) if row.step else '':>9} {n_text(row.remaining_if_unknown_fail):>16}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Read the screen folder, compute the views, write tables and figures all-or-nothing."""
    from oligo_cohort.api import read_screen_dir
    from oligo_cohort.attrition.bundle import (
        disclosure_notes,
        figure_note,
        parse_formats,
        relative_names,
        write_figures,
        write_settings,
    )
    from oligo_cohort.attrition.bundle import write_tables as write_table_files
    from oligo_cohort.attrition.feasibility import attrition_views, disclosure_for, result_settings
    from oligo_cohort.destination import OutputFolder
    from oligo_cohort.disclosure import write_statement
    from oligo_cohort.worklist import worklist_figure_note, worklist_mode_note

    formats = parse_formats(args.formats)
    # The destination is checked and claimed before the screen folder is read.
    inputs = [args.screen_dir, *([args.after_review] if args.after_review else [])]
    with OutputFolder(args.out, "attrition", inputs=inputs) as destination:
        result = read_screen_dir(args.screen_dir)
        options = options_from(args, level=args.level, by=(args.by,) if args.by else ())
        choice = disclosure_for(result, args.disclosure_control)
        views = attrition_views(result, options, disclosure_control=choice.applied)
        review_stage = _review_stage(args, choice.applied)  # chart review stage (oligo_cohort.review.flow)
        mode_note = worklist_mode_note(result)
        with destination.staging() as staging:
            files = write_table_files(views, staging)
            note = "\n".join(n for n in (figure_note(views, choice), worklist_figure_note(result)) if n)
            if args.figures:
                written = write_figures(views, staging / "figures", formats=formats, note=note or None)
                files += relative_names(written, staging)
            if review_stage is not None:  # chart review stage, its figure with the same footnote
                files += review_stage.write_into(staging, figures=args.figures, formats=formats, note=note or None)
            settings = result_settings(result, options, disclosure_control=choice.applied)
            settings["disclosure"] = choice.mode
            settings["screen_dir"] = Path(args.screen_dir).name
            if args.after_review:
                settings["after_review"] = Path(args.after_review).name
            files.append(write_settings(staging, settings))
            notes = disclosure_notes(views)
            notes += [mode_note] if mode_note else []
            write_statement(
                staging, applied=choice.applied, files=files, notes=notes, synthetic=choice.synthetic_source or None
            )
    if mode_note:
        print(mode_note + "\n")
    print(format_table(views))
    if review_stage is not None:  # chart review stage
        print("\n" + review_stage.text())
    print(f"\n{choice.banner()}")
    print(f"Wrote {len(files)} files to {args.out}.")
    return 0


def _review_stage(args: argparse.Namespace, disclosure_control: bool):
    """The chart review stage when `--after-review` is given (oligo_cohort.review.flow), else None."""
    if args.after_review is None:
        return None
    from oligo_cohort.review.flow import stage_for_screens

    return stage_for_screens(args.screen_dir, args.after_review, disclosure_control=disclosure_control)
