"""Statistical disclosure control for every aggregate meant to leave the institution, kept consistent.

The rule is OpenSAFELY's: a count from 1 to 7 is suppressed (shown as 0),
every other count is rounded to the nearest multiple of 5. Rounding each cell
on its own breaks the sums a reader checks (35 patients, 0 excluded at every
step, 15 left), so counts that are *parts of a total shown beside them* are
not rounded on their own: they are derived from controlled running totals
(`controlled_parts`). The running totals are the published, controlled counts;
each part is their difference, exact arithmetic on published numbers, so it
reveals nothing the totals do not — and every table adds up as printed. This is
the practice OpenSAFELY's output checkers ask for: derive totals and
differences from the rounded counts, never from the exact ones.

Whether control applies is decided once per run (`choose`): on by default, off
when the user opts out (exact counts that must stay inside the institution),
and off for the bundled demo extract, which is synthetic (no real patient is
counted), so that the demo and the notebooks show numbers that can be checked
by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from oligo_cohort.destination.markers import file_state, sha256_of_fd

if TYPE_CHECKING:  # imported where counts are controlled: a screen only checksums its inputs here
    import numpy as np
    import pandas as pd

SUPPRESS_UP_TO = 7
ROUND_TO = 5

RULE_TEXT = (
    f"Counts from 1 to {SUPPRESS_UP_TO} are suppressed (shown as 0); every other count is rounded to the "
    f"nearest multiple of {ROUND_TO}. Non-integer counts (expected numbers) are first rounded to a whole number."
)
DERIVED_TEXT = (
    "Counts that are parts of a total shown beside them are derived from controlled running totals so that "
    "every table adds up as printed: patients excluded at a step = controlled remaining before − controlled "
    "remaining after; patients per status, Shapley shares and exclusion combinations = differences of controlled "
    "running totals. A derived count can be any multiple of 5 (5 included) and differs from the true count by "
    "at most 9. So a derived count can be 5 where a count of the same patients or more, controlled on its own, is "
    "shown as 0 (0 to 7): a step's exclusions beside its criterion's fail count, or a Shapley share or exclusion "
    "combination beside a criterion's fail count. Both follow the rule, and neither is exact. Percentages are "
    "computed from the controlled counts."
)
SHORT_RULE = (
    f"Disclosure control: counts 1–{SUPPRESS_UP_TO} shown as 0, others rounded to the nearest {ROUND_TO}; "
    "excluded counts are differences of the rounded remaining counts, so every flow adds up."
)
# The UpSet plot draws both kinds side by side: each criterion's total controlled on its own, and the
# combinations derived from running totals (docs/attrition.md A23).
SETS_RULE = (
    f"Disclosure control: counts 1–{SUPPRESS_UP_TO} shown as 0, others rounded to the nearest {ROUND_TO}. Each "
    f"criterion's total is rounded on its own (0–{SUPPRESS_UP_TO} where shown so);\neach combination is a difference "
    f"of rounded running totals, so the combinations add up to those excluded, and one can show {ROUND_TO} beside a "
    f"total of 0–{SUPPRESS_UP_TO}."
)
FORECAST_RULE = (
    f"Disclosure control: forecast from site counts with 1–{SUPPRESS_UP_TO} shown as 0 and others rounded to the "
    f"nearest {ROUND_TO}, dates to the month (see disclosure.md)."
)
EXACT_NOTE = "Exact counts (no disclosure control): internal use only, must not leave the institution."

APPLIED = "applied"
OPTED_OUT = "opted out"
SYNTHETIC = "synthetic"
BUNDLED_DEMO = "the bundled demo extract"


def round_count(n: int) -> int:
    """One count after disclosure control: 1–7 → 0, else the nearest multiple of 5 (8 → 10, 12 → 10, 13 → 15)."""
    value = int(n)
    if value != n or value < 0:
        raise ValueError(f"a count must be a whole number >= 0, got {n!r}")
    if value <= SUPPRESS_UP_TO:
        return 0
    # Integers never fall half-way between two multiples of 5, so there is no tie to break.
    return ROUND_TO * ((value + ROUND_TO // 2) // ROUND_TO)


def round_counts(values: np.ndarray) -> np.ndarray:
    """`round_count` over a numeric array (missing values stay missing); non-integers are rounded first."""
    import numpy as np

    array = np.asarray(values, dtype=float)
    present = ~np.isnan(array)
    if (array[present] < 0).any():
        raise ValueError("counts must not be negative")
    whole = np.floor(array + 0.5)
    rounded = ROUND_TO * np.floor((whole + ROUND_TO // 2) / ROUND_TO)
    return np.where(present, np.where(whole <= SUPPRESS_UP_TO, 0.0, rounded), np.nan)


def controlled_parts(parts: Sequence[float] | np.ndarray, *, offset: float = 0.0) -> np.ndarray:
    """Controlled parts of a whole that add up to the controlled whole: differences of controlled running totals.

    `controlled_parts([5, 3, 20])` → running totals 5, 8, 28 → controlled 0, 10, 30 → parts 0, 10, 20 (sum 30 =
    `round_count(28)`). With an `offset` the running total starts there (units counted before these parts, e.g.
    those failing no criterion), so the parts add up to controlled(offset + sum) − controlled(offset). The rule is
    monotone, so no part is negative; missing parts count as 0.
    """
    import numpy as np

    values = np.nan_to_num(np.asarray(parts, dtype=float), nan=0.0)
    if (values < 0).any() or offset < 0:
        raise ValueError("counts must not be negative")
    running = round_counts(offset + np.cumsum(values))
    return np.diff(running, prepend=round_counts(np.array([offset]))[0])


def apply_to_frame(df: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy of `df` with the count `columns` disclosure-controlled (nullable integers; missing stays missing)."""
    import pandas as pd

    out = df.copy()
    for column in columns:
        numbers = pd.to_numeric(out[column], errors="raise").astype(float).to_numpy()
        out[column] = pd.array(round_counts(numbers), dtype="Float64").astype("Int64")
    return out


# --- whether control applies -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisclosureChoice:
    """Whether disclosure control applies to a run's outputs, and why (`applied`, `opted out`, `synthetic`)."""

    mode: str
    synthetic_source: str = ""

    @property
    def applied(self) -> bool:
        """True when counts are controlled."""
        return self.mode == APPLIED

    def banner(self) -> str:
        """The one plain sentence a user is told about the counts of this run."""
        if self.mode == APPLIED:
            return SHORT_RULE
        if self.mode == SYNTHETIC:
            return (
                f"Synthetic data ({self.synthetic_source}): exact counts are shown, without disclosure control, "
                "because no real patient is counted."
            )
        return (
            "Disclosure control is OFF: these outputs hold exact counts, small ones included, and must not leave "
            "the institution."
        )

    def figure_note(self, rule: str = SHORT_RULE) -> str:
        """The footnote of a figure of this run (`figure_note`)."""
        return figure_note(applied=self.applied, synthetic=self.synthetic_source or None, rule=rule)


def figure_note(*, applied: bool, synthetic: str | None = None, rule: str = SHORT_RULE) -> str:
    """The footnote of a figure: the `rule` its counts were controlled by, or why they are exact (synthetic data,
    or control turned off: internal use only). A figure travels without the files beside it, so it says so itself.
    """
    if applied:
        return rule
    if synthetic:
        return f"Synthetic data ({synthetic}): exact counts."
    return EXACT_NOTE


def choose(requested: bool | None, *, synthetic_source: str | None = None) -> DisclosureChoice:
    """On unless the user opts out (`requested=False`) or the data are synthetic; `requested=True` forces it on."""
    if requested is False:
        return DisclosureChoice(OPTED_OUT)
    if requested is None and synthetic_source:
        return DisclosureChoice(SYNTHETIC, synthetic_source)
    return DisclosureChoice(APPLIED)


@cache
def _demo_files() -> dict[str, tuple[int, str]]:
    """File name → (size, SHA-256) of each table of the bundled demo extract."""
    from oligo_cohort.paths import demo_extract_dir

    return {path.name: (path.stat().st_size, sha256_of(path)) for path in sorted(demo_extract_dir().glob("*.csv"))}


# The digests of one run (`one_digest_per_file`), by file state: None outside a run, where every call reads the file.
_RUN_DIGESTS: ContextVar[dict[tuple[int, ...], str] | None] = ContextVar("oligo_cohort_file_digests", default=None)


@contextmanager
def one_digest_per_file() -> Iterator[None]:
    """Within this block (one run), `sha256_of` reads each file once in each state, however many callers ask.

    A report's inputs are checksummed for its provenance, for the screen folder's manifest and, with
    `--after-review`, to tell which files chart review changed: on a large extract each pass read every byte
    again. Here the digest is kept by the file's state (device, inode, size, modification and change times), so a
    file changed during the run is read again (unless rewritten to the same size within one tick of the file
    system's clock); it is kept for the block only, so a session that runs on (a notebook) never gets the digest
    of an earlier state. A block inside another shares the outer one's digests.
    The command line runs each command in one block (`oligo_cohort.cli.running`).
    """
    if _RUN_DIGESTS.get() is not None:
        yield
        return
    token = _RUN_DIGESTS.set({})
    try:
        yield
    finally:
        _RUN_DIGESTS.reset(token)


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in blocks; inside `one_digest_per_file`, read once per file state."""
    kept = _RUN_DIGESTS.get()
    with Path(path).open("rb") as handle:
        fd = handle.fileno()
        state = file_state(os.fstat(fd))
        if kept is not None and state in kept:
            return kept[state]
        found = sha256_of_fd(fd)
        if kept is not None and file_state(os.fstat(fd)) == state:  # not kept if it changed while read
            kept[state] = found
    return found


def is_bundled_demo(input_files: Sequence[Path]) -> bool:
    """True when the input files are exactly the bundled demo extract's tables (same names, sizes and content)."""
    demo = _demo_files()
    files = [Path(p) for p in input_files]
    if sorted(p.name for p in files) != sorted(demo):
        return False
    # Sizes first: a real extract is never hashed in full just to learn it is not the demo.
    if any(not p.is_file() or p.stat().st_size != demo[p.name][0] for p in files):
        return False
    return all(sha256_of(p) == demo[p.name][1] for p in files)


def digests_are_bundled_demo(digests: Iterable[str]) -> bool:
    """True when a screen manifest's input checksums are exactly those of the bundled demo extract."""
    return sorted(digests) == sorted(digest for _, digest in _demo_files().values())


def synthetic_source(result) -> str | None:
    """`the bundled demo extract` when a ScreeningResult screened it (fresh or read from a screen folder), else None.

    Recognised by the input files' checksums (a fresh result) or the screen manifest's (a result read back), so
    a real extract can never be taken for the demo; anything else, synthetic or not, keeps control on.
    """
    files = tuple(getattr(result, "input_files", ()) or ())
    if files:
        return BUNDLED_DEMO if is_bundled_demo(files) else None
    checksums = getattr(result, "input_checksums", None) or {}  # read from its manifest by `screen_folder`
    return BUNDLED_DEMO if checksums and digests_are_bundled_demo(checksums.values()) else None


# --- the statement beside the files ------------------------------------------------------------------------------


def statement(
    *,
    applied: bool,
    files: Sequence[str] = (),
    notes: Sequence[str] = (),
    synthetic: str | None = None,
    derived: str | None = DERIVED_TEXT,
) -> dict[str, object]:
    """What disclosure control did to a bundle of files, as a JSON-ready dict.

    `derived` says how the counts that are parts of a shown total were derived (the attrition tables' rule by
    default); None for files that show no such parts, such as a forecast's, whose notes say what it derives."""
    if applied:
        mode, rule = APPLIED, RULE_TEXT
    elif synthetic:
        mode, rule = SYNTHETIC, f"none: synthetic data ({synthetic}), exact counts"
    else:
        mode, rule = OPTED_OUT, "none: exact counts, for internal use only (do not share)"
    return {
        "disclosure_control": applied,
        "mode": mode,
        "rule": rule,
        "derived_counts": derived if applied else None,
        "suppress_up_to": SUPPRESS_UP_TO if applied else None,
        "round_to": ROUND_TO if applied else None,
        "files": list(files),
        "notes": list(notes),
        "written": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }


def write_statement(
    folder: Path,
    *,
    applied: bool,
    files: Sequence[str] = (),
    notes: Sequence[str] = (),
    synthetic: str | None = None,
    derived: str | None = DERIVED_TEXT,
) -> None:
    """Write `disclosure.json` and `disclosure.md` into `folder`, stating which rule applied to which files
    (`derived` as for `statement`)."""
    info = statement(applied=applied, files=files, notes=notes, synthetic=synthetic, derived=derived)
    (folder / "disclosure.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    if applied:
        head = [
            "# Disclosure control: applied",
            "",
            RULE_TEXT,
            *(["", derived] if derived else []),
            "",
            "A count shown as 0 means 0 to 7.",
        ]
    elif synthetic:
        head = [
            "# Disclosure control: not needed (synthetic data)",
            "",
            f"These files describe synthetic data ({synthetic}): no real patient is counted, so the counts are "
            "exact. Outputs of a real extract are disclosure-controlled by default.",
        ]
    else:
        head = [
            "# Disclosure control: NOT applied",
            "",
            "These files hold exact counts, small ones included. They are for internal use only: do not "
            "share them outside the institution. Run again without `--no-disclosure-control` for a "
            "shareable version.",
        ]
    lines = [*head, "", "Files covered:", "", *[f"- `{name}`" for name in files]]
    if notes:
        lines += ["", "Notes:", "", *[f"- {note}" for note in notes]]
    lines += ["", "Patient-level files (patients, events, reasons, findings) are never part of this bundle.", ""]
    (folder / "disclosure.md").write_text("\n".join(lines), encoding="utf-8")


__all__ = [
    "APPLIED",
    "BUNDLED_DEMO",
    "DERIVED_TEXT",
    "EXACT_NOTE",
    "FORECAST_RULE",
    "OPTED_OUT",
    "ROUND_TO",
    "RULE_TEXT",
    "SETS_RULE",
    "SHORT_RULE",
    "SUPPRESS_UP_TO",
    "SYNTHETIC",
    "DisclosureChoice",
    "apply_to_frame",
    "choose",
    "controlled_parts",
    "digests_are_bundled_demo",
    "figure_note",
    "is_bundled_demo",
    "one_digest_per_file",
    "round_count",
    "round_counts",
    "sha256_of",
    "statement",
    "synthetic_source",
    "write_statement",
]
