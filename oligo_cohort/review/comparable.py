"""Whether two screens may be compared across chart review: the settings that change outcomes, the same on both.

The review stage (`oligo_cohort.review.flow`) counts what chart review changed as the difference between the screen
of an extract and the screen of the reviewed extract. Any other difference between the two screens (the cut-off,
worklist mode, a protocol parameter, the patients) would be counted as the work of chart review, so two such screens
are refused, every difference named with both values and the options that screen the reviewed extract as the first
was screened.
"""

from __future__ import annotations

from oligo_cohort.api import ScreeningResult
from oligo_cohort.errors import UsageError


def check_comparable(
    before: ScreeningResult, after: ScreeningResult, *, before_name: str = "", after_name: str = ""
) -> None:
    """Refuse (UsageError) two screens that differ in a setting that changes outcomes, naming every such setting
    with both values; the difference between them would otherwise be counted as the work of chart review.

    Compared: the cut-off, worklist mode (it fails `inc_imaging_window` once the window has closed), every protocol
    parameter, and the patients. Not compared, since no outcome depends on them: the engine (every engine gives the
    same result), the protocol's name, version and file (labels of its parameters), and the explain mode (it
    changes only reasons.csv, which the comparison does not read). The extracts differ by design (the answers).
    """
    b, a = "before review", "after review"
    differences = []
    if before.as_of != after.as_of:
        differences.append(f"cut-off: {before.as_of} {b}, {after.as_of} {a}")
    if before.worklist != after.worklist:
        differences.append(
            f"worklist mode: {_on_off(before.worklist)} {b}, {_on_off(after.worklist)} {a} "
            "(in worklist mode inc_imaging_window fails once the registration window has closed)"
        )
    values_b, values_a = before.protocol.parameters.as_row(), after.protocol.parameters.as_row()
    for name, value in values_b.items():
        if value != values_a.get(name):
            differences.append(f"protocol parameter {name}: {value} {b}, {values_a.get(name)} {a}")
    patients_b, patients_a = set(before.patients["patient_id"]), set(after.patients["patient_id"])
    if patients_b != patients_a:
        only_b, only_a = sorted(patients_b - patients_a), sorted(patients_a - patients_b)
        differences.append(
            f"patients: {len(patients_b):,} {b}, {len(patients_a):,} {a}; "
            f"{_some(only_b, f'only {b}')}, {_some(only_a, f'only {a}')}"
        )
    if not differences:
        return
    names = f" ({before_name} and {after_name})" if before_name and after_name else ""
    listed = "\n".join(f"  {line}" for line in differences)
    raise UsageError(
        f"the screens before and after review{names} differ in settings that change outcomes:\n{listed}\n"
        f"Screen the reviewed extract again as the first screen was: {_settings_of(before)}"
    )


def _on_off(worklist: bool) -> str:
    return "on" if worklist else "off"


def _some(ids: list[str], what: str, shown: int = 3) -> str:
    """`2 only before review (00107, 00115)`: how many, and the first few."""
    if not ids:
        return f"0 {what}"
    more = ", ..." if len(ids) > shown else ""
    return f"{len(ids):,} {what} ({', '.join(ids[:shown])}{more})"


def _settings_of(result: ScreeningResult) -> str:
    """The options that give a screen this result's settings, in words a command line takes."""
    mode = "with --worklist" if result.worklist else "without --worklist"
    return f"--as-of {result.as_of}, {mode}, protocol {result.protocol.name} ({result.protocol.version})"
