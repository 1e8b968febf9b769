"""The chart review stage of the CONSORT flow: registry screen -> chart review -> confirmed eligible.

Given the screen of an extract (before review), the screen of the reviewed extract (after, with the same cut-off,
worklist mode, protocol parameters and patients: `review.comparable`) and the review audit, the flow counts
patients at each box:

    screened from the registry ........................ N
      -> excluded by registry criteria (ineligible before review)
         (of whom not excluded after chart review: readmitted)
    eligible or unknown after the registry screen ..... candidates
    sent to chart review (items asked) / answered (items answered); not sent: nothing left to ask
      -> excluded at chart review, by the criterion the answers made fail (the first in protocol order) on the
         scan screened before review, and how many of them have another scan as best event after review
    after chart review: eligible, of whom confirmed eligible (every criterion passes, nothing left to review),
                        and unknown

with the items asked and answered per item, and the status of every patient before and after (the transitions,
of which every status box is a sum: excluded at review + eligible + unknown = candidates + readmitted, and candidates =
sent to chart review + not sent). Everything here
is an aggregate; `controlled` applies the project's disclosure control for anything leaving the institution, as the
attrition tables do (docs/attrition.md A8, A15): the counts are parts derived from controlled running totals, so
every box still is the sum of its parts. `attrition --after-review SCREEN_DIR` and `report --after-review
NEW_EXTRACT` write these tables (and the HTML section, with the figure `review.flow_figure` draws) beside their own.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from oligo_cohort.api import STATUS_ORDER, ScreeningResult, read_screen_dir
from oligo_cohort.attrition.labels import exclusion_reason
from oligo_cohort.attrition.report.html_parts import html_table
from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.csv_output import write_csv
from oligo_cohort.disclosure import controlled_parts, figure_note, sha256_of
from oligo_cohort.errors import UsageError
from oligo_cohort.review.comparable import check_comparable
from oligo_cohort.review.flow_figure import MAIN_BOXES, SIDE_BOXES, figure_svg, flow_figure
from oligo_cohort.review.items import ITEMS
from oligo_cohort.review.records import ADDED, ALREADY
from oligo_cohort.review.reviewed_extract import AUDIT_FILE, read_audit

FLOW_BOXES = (
    ("registry", "Screened from the registry"),
    ("registry_excluded", "Excluded by registry criteria"),
    ("candidates", "Eligible or unknown after the registry screen"),
    ("asked", "Sent to chart review"),
    ("answered", "With at least one answer"),
    ("not_asked", "Not sent to chart review: nothing left to ask"),
    ("review_excluded", "Excluded at chart review"),
    ("readmitted", "Excluded by registry criteria, not after review"),
    ("eligible", "Eligible after chart review"),
    ("confirmed", "Confirmed eligible: every criterion passes"),
    ("review_open", "Eligible, chart review still open"),
    ("unknown", "Unknown after chart review"),
)
OTHER = "other"  # no criterion fails anew on the scan screened before review: it is no longer a candidate event
OTHER_LABEL = "Scan screened before review no longer a candidate"
TABLE_FILES = {
    "flow": "review_flow.csv",
    "exclusions": "review_exclusions.csv",
    "items": "review_items.csv",
    "transitions": "review_transitions.csv",
}


@dataclass(frozen=True)
class ReviewFlow:
    """The review stage as aggregate tables (exact counts unless `controlled`)."""

    flow: pd.DataFrame  # box, label, patients, items
    # criterion, label, patients, best_event_moved: excluded at chart review, by the first criterion failing anew on
    # the scan screened before review
    exclusions: pd.DataFrame
    items: pd.DataFrame  # item, criterion, asked, answered, favourable, unfavourable
    transitions: pd.DataFrame  # status_before, status_after, patients, best_event_moved
    controlled: bool = False
    # The parts every table is a sum of (patients by PATIENT_PARTS and by their answer to each item), for
    # disclosure control.
    patient_parts: pd.DataFrame | None = field(default=None, repr=False)
    # Where the answers came from, for a report's provenance: the reviewed extract's folder name, and (file, SHA-256)
    # of each of its files the answers changed or added (the audit among them). Empty when not known.
    reviewed_extract: str = ""
    reviewed_files: tuple[tuple[str, str], ...] = ()

    def count(self, box: str, column: str = "patients") -> int:
        """One box's count."""
        value = self.flow.set_index("box").loc[box, column]
        return 0 if pd.isna(value) else int(value)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by file name, as written beside attrition tables."""
        return {TABLE_FILES[name]: getattr(self, name) for name in TABLE_FILES}

    def write(self, folder: Path) -> list[str]:
        """Write the tables as CSV into `folder`; the file names written."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables.items():
            write_csv(frame, folder / name)
        return list(self.tables)

    def note(self) -> str:
        """The footnote of the flow figure when the command gives none: how its counts were controlled, or that
        they are exact (internal use only)."""
        return figure_note(applied=self.controlled)

    def write_into(
        self,
        folder: Path,
        *,
        figures: bool = True,
        formats: tuple[str, ...] = ("png", "svg"),
        note: str | None = None,
    ) -> list[str]:
        """The tables (and the flow figure under figures/) in an attrition output folder; names relative to it.

        `note` is the footnote every figure of the command carries (disclosure control, synthetic data, worklist
        mode); without one the figure says how its own counts were controlled (`ReviewFlow.note`)."""
        names = self.write(folder)
        if figures:
            written = self.write_figures(folder / "figures", formats, note=note)
            names += [str(path.relative_to(folder)) for path in written]
        return names

    def write_figures(self, folder: Path, formats: Sequence[str], *, note: str | None = None) -> list[Path]:
        """The flow figure as `review_flow.<format>` in `folder` (the files written), `note` under it as under the
        command's other figures: slides and documents take the file, the report's section shows it inline."""
        from oligo_cohort.attrition.charts import save_figure

        return save_figure(flow_figure(self, note=note), folder, "review_flow", formats)

    def text(self) -> str:
        """The flow for a terminal."""
        lines = ["Chart review stage" + (" (disclosure-controlled)" if self.controlled else " (exact counts)")]
        for row in self.flow.itertuples(index=False):
            items = "" if pd.isna(row.items) else f"  ({int(row.items):,} items)"
            lines.append(f"  {row.label:<48} {int(row.patients):>8,}{items}")
        for row in self.exclusions.itertuples(index=False):
            moved = f"  (best event moved: {int(row.best_event_moved):,})" if row.best_event_moved else ""
            lines.append(f"      excluded at review: {row.label:<32} {int(row.patients):>6,}{moved}")
        return "\n".join(lines)

    def provenance(self) -> tuple[dict[str, str], dict[str, tuple[tuple[str, str], ...]]]:
        """What a report's provenance adds for this stage: facts (label -> text) and files (label -> (file, SHA-256)),
        so that a reader can tell which answers, in which reviewed extract, gave its counts."""
        if not self.reviewed_extract:
            return {}, {}
        facts = {
            "Reviewed extract": f"{self.reviewed_extract} (the extract with the chart review answers added by "
            "`oligo-cohort review import`, screened at the same cut-off under the same protocol)"
        }
        return facts, {"Files the answers changed": self.reviewed_files} if self.reviewed_files else {}

    def summary_card(self) -> tuple[str, str, str]:
        """The chart review's outcome for the report's summary: (label, value, detail), as its tables count it.

        Beside the summary's "potentially eligible after chart review", which the registry screen estimates before
        any answer, this is what the answers gave."""
        n = self.count
        detail = (
            f"of {n('asked'):,} sent to chart review ({n('answered'):,} with an answer): {n('confirmed'):,} pass every "
            f"criterion, {n('review_open'):,} with review still open; {n('review_excluded'):,} excluded at review; "
            f"{n('unknown'):,} still unknown"
        )
        return "Chart review done: eligible", f"{n('eligible'):,}", detail

    def _no_exclusions(self) -> str:
        """What stands for the table of exclusions when it has no row: a reason shown as 0 is left out (A15)."""
        if self.controlled and self.count("review_excluded") == 0:
            return "No exclusion at chart review is shown: after disclosure control every reason counts 0 (0 to 7)."
        return "No patient was excluded at chart review."

    def html(self, note: str | None = None) -> str:
        """A section of the feasibility report: the flow, the exclusions, the items, before and after.

        `note`: the footnote of the report's figures (`ReviewFlow.note` without one), under the flow figure too."""
        note = note or self.note()
        shown = "Counts after disclosure control." if self.controlled else html.escape(note.splitlines()[0])
        parts = [
            "<h2>Chart review: from the registry screen to confirmed eligible</h2>",
            "<p>Patients eligible or unknown on registry data were sent to chart review; the answers were added to "
            f"the extract as dated records and the extract screened again at the same cut-off. {shown}</p>",
            figure_svg(flow_figure(self, note=note)),
            html_table(self.flow, [("label", "Step", "label"), ("patients", "Patients", "n"), ("items", "Items", "n")]),
            "<h3>Excluded at chart review</h3>",
            "<p>Each patient under the first criterion, in protocol order, that fails after review and not before on "
            "the scan screened before review. An unfavourable answer can make another scan the best event; the "
            "last column counts those patients.</p>",
            html_table(
                self.exclusions,
                [
                    ("label", "Reason (first failing criterion)", "label"),
                    ("patients", "Patients", "n"),
                    ("best_event_moved", "Best event moved", "n"),
                ],
            )
            if len(self.exclusions)
            else f"<p>{self._no_exclusions()}</p>",
            "<h3>Items asked and answered</h3>",
            html_table(
                self.items,
                [
                    ("item", "Item", "code"),
                    ("asked", "Asked", "n"),
                    ("answered", "Answered", "n"),
                    ("favourable", "Favourable", "n"),
                    ("unfavourable", "Unfavourable", "n"),
                ],
            ),
            "<h3>Status before and after chart review</h3>",
            html_table(
                self.transitions,
                [
                    ("status_before", "Before", "text"),
                    ("status_after", "After", "text"),
                    ("patients", "Patients", "n"),
                    ("best_event_moved", "Best event moved", "n"),
                ],
            ),
        ]
        return "\n".join(parts)


def review_flow(
    before: ScreeningResult, after: ScreeningResult, audit: pd.DataFrame | None, *, names: tuple[str, str] = ("", "")
) -> ReviewFlow:
    """The review stage from the screens before and after review and the review audit (None: no items counted).

    The two screens must share every setting that changes outcomes (`check_comparable`; `names` name them there)."""
    check_comparable(before, after, before_name=names[0], after_name=names[1])
    b = before.patients.set_index("patient_id")
    a = after.patients.set_index("patient_id").reindex(b.index)
    audit = _empty_audit() if audit is None else audit
    asked = audit.drop_duplicates(["patient_id", "item"], keep="last")
    answered = asked[asked["action"].isin([ADDED, ALREADY])]
    excluded = (b["status"] != "ineligible") & (a["status"] == "ineligible")
    credited = pd.Series("", index=b.index, dtype=object)
    credited[excluded] = _credited(b[excluded], after)
    # One count of the patients by everything the stage shows of them: every box, transition and exclusion is a
    # sum of these parts, so no two files can disagree.
    patients = pd.DataFrame(
        {
            "status_before": b["status"].astype(str).to_numpy(),
            "status_after": a["status"].astype(str).to_numpy(),
            "confirmed": ((a["status"] == "eligible") & (a[list(CRITERION_IDS)] == "pass").all(axis=1)).to_numpy(),
            "criterion": credited.to_numpy(),
            "moved": _best_event_moved(b["event_id"], a["event_id"]).to_numpy(dtype=bool),
            "asked": b.index.isin(asked["patient_id"]),
            "answered": b.index.isin(answered["patient_id"]),
            **_answer_kinds(b.index, asked, answered),
        }
    )
    return _flow_of_parts(_chain(_count_parts(patients)))


# The parts of the patients screened, in the order of one chain of running totals: disclosure control derives each
# part as a difference of controlled running totals, as the attrition tables do (docs/attrition.md A8, A15).
# Eligible before review first, then unknown, then ineligible, so that the running totals at those ends are the
# status table's controlled eligible, eligible + unknown and total; the patients excluded at review (eligible or
# unknown -> ineligible) are next to each other, and so are those readmitted (ineligible -> eligible or unknown).
BEFORE_ORDER = STATUS_ORDER
AFTER_ORDER = {
    "eligible": ("eligible", "unknown", "ineligible"),
    "unknown": ("ineligible", "eligible", "unknown"),
    "ineligible": ("eligible", "unknown", "ineligible"),
}
PATIENT_PARTS = ("status_before", "status_after", "confirmed", "criterion", "moved", "asked", "answered")
ANSWER_KINDS = ("favourable", "unfavourable", "unanswered")
NOT_ASKED = ""  # a patient's answer kind for an item not asked of them
# Per item, a column of each patient's answer kind: the items are counted from the patients' parts, so no item
# count can say more than the patient counts (an item asked of a group shown as 0 would tell 0 from 1-7).
ITEM_COLUMNS = tuple(f"item:{item.code}" for item in ITEMS)


def _count_parts(units: pd.DataFrame) -> pd.DataFrame:
    """Units per distinct combination of every column (a column `n`)."""
    if units.empty:
        return units.assign(n=pd.Series([], dtype=int))
    return units.groupby(list(units.columns), sort=False, dropna=False).size().rename("n").reset_index()


def _chain(parts: pd.DataFrame) -> pd.DataFrame:
    """The patients' parts in chain order (statuses as above, then the other columns in a fixed order)."""
    if parts.empty:
        return parts.reset_index(drop=True)
    criteria = (*CRITERION_IDS, OTHER)
    rank = pd.DataFrame(
        {
            "status_before": [BEFORE_ORDER.index(s) for s in parts["status_before"]],
            "status_after": [
                AFTER_ORDER[b].index(a) for b, a in zip(parts["status_before"], parts["status_after"], strict=True)
            ],
            "confirmed": ~parts["confirmed"].astype(bool),
            "criterion": [criteria.index(c) if c else -1 for c in parts["criterion"]],
            "moved": parts["moved"].astype(bool),
            "asked": parts["asked"].astype(bool),
            "answered": parts["answered"].astype(bool),
            **{column: [(NOT_ASKED, *ANSWER_KINDS).index(kind) for kind in parts[column]] for column in ITEM_COLUMNS},
        },
        index=parts.index,
    )
    order = [*PATIENT_PARTS, *ITEM_COLUMNS]
    return parts.loc[rank.sort_values(order, kind="stable").index].reset_index(drop=True)


def _answer_kinds(patients: pd.Index, asked: pd.DataFrame, answered: pd.DataFrame) -> dict[str, object]:
    """Per item (ITEM_COLUMNS), each patient's answer kind: favourable, unfavourable, unanswered or not asked."""
    columns = {}
    for item, column in zip(ITEMS, ITEM_COLUMNS, strict=True):
        kind = pd.Series(NOT_ASKED, index=patients, dtype=object)
        kind[patients.isin(asked.loc[asked["item"] == item.code, "patient_id"])] = "unanswered"
        given = answered[answered["item"] == item.code].set_index("patient_id")["answer"]
        given = given[given.index.isin(patients)]
        kind[given.index] = ["favourable" if a in item.favourable else "unfavourable" for a in given]
        columns[column] = kind.to_numpy()
    return columns


def _flow_of_parts(patients: pd.DataFrame, *, controlled: bool = False) -> ReviewFlow:
    """The stage's tables, each a sum of the parts: the boxes, the exclusions by criterion, the items and the
    transitions. Every box counting patients by status is a sum of cells of the transitions table: excluded at
    review + eligible + unknown = candidates + readmitted (a record added at review can undo a registry exclusion,
    on the best event or by making another event the best)."""
    n = patients["n"].astype(int)
    before, after = patients["status_before"], patients["status_after"]
    items = _items(patients)

    def total(rows: pd.Series) -> int:
        return int(n[rows.to_numpy(dtype=bool)].sum())

    candidate = before != "ineligible"
    eligible, confirmed = total(after == "eligible"), total((after == "eligible") & patients["confirmed"].astype(bool))
    counts = {
        "registry": (int(n.sum()), None),
        "registry_excluded": (total(~candidate), None),
        "candidates": (total(candidate), None),
        "asked": (total(patients["asked"]), int(items["asked"].sum())),
        "answered": (total(patients["answered"]), int(items["answered"].sum())),
        # Candidates whose every open criterion was already recorded (nothing to ask), carried to the outcome as
        # screened: without them the boxes below would not add up to the candidates.
        "not_asked": (total(candidate & ~patients["asked"].astype(bool)), None),
        "review_excluded": (total(candidate & (after == "ineligible")), None),
        "readmitted": (total(~candidate & (after != "ineligible")), None),
        "eligible": (eligible, None),
        "confirmed": (confirmed, None),
        "review_open": (eligible - confirmed, None),
        "unknown": (total(after == "unknown"), None),
    }
    flow = pd.DataFrame(
        [{"box": box, "label": label, "patients": counts[box][0], "items": counts[box][1]} for box, label in FLOW_BOXES]
    )
    flow["items"] = flow["items"].astype("Int64")
    return ReviewFlow(
        flow=flow,
        exclusions=_exclusions(patients[(candidate & (after == "ineligible")).to_numpy(dtype=bool)]),
        items=items,
        transitions=_transitions(patients),
        controlled=controlled,
        patient_parts=patients,
    )


def _items(patients: pd.DataFrame) -> pd.DataFrame:
    """Per item: asked, answered, favourable, unfavourable: the patients' parts by their answer to the item (each
    patient is asked an item once), so an item is never asked of more patients than those sent to chart review,
    as shown; items asked of none (as shown) left out once any item was asked (a row kept on its exact count would
    tell 0 from 1-7)."""
    rows = []
    n = patients["n"].astype(int)
    for item, column in zip(ITEMS, ITEM_COLUMNS, strict=True):
        kind = patients[column] if column in patients else pd.Series(NOT_ASKED, index=patients.index)
        favourable, unfavourable = int(n[kind == "favourable"].sum()), int(n[kind == "unfavourable"].sum())
        rows.append(
            {
                "item": item.code,
                "criterion": item.criterion,
                "asked": int(n[kind != NOT_ASKED].sum()),
                "answered": favourable + unfavourable,
                "favourable": favourable,
                "unfavourable": unfavourable,
            }
        )
    frame = pd.DataFrame(rows, columns=["item", "criterion", "asked", "answered", "favourable", "unfavourable"])
    return frame[frame["asked"] > 0].reset_index(drop=True) if frame["asked"].sum() else frame


def _best_event_moved(before: pd.Series, after: pd.Series) -> pd.Series:
    """Per patient: is the best event after review another scan than before (a patient without one: no)?"""
    return before.fillna("").astype(str) != after.fillna("").astype(str)


def review_flow_of(before_dir: str | Path, after_dir: str | Path) -> ReviewFlow:
    """The review stage from two screen folders; the audit is the one in the extract the second screen read."""
    before, after = read_screen_dir(before_dir), read_screen_dir(after_dir)
    source = Path(after.screened_source)
    audit_file = source / AUDIT_FILE
    if not audit_file.is_file():
        raise UsageError(
            f"--after-review {after_dir}: it was not screened from a reviewed extract ({audit_file} not found); "
            "screen the extract written by `oligo-cohort review import`"
        )
    return review_flow(before, after, read_audit(audit_file), names=(str(before_dir), str(after_dir)))


def review_flow_of_extracts(before: ScreeningResult, reviewed_extract: str | Path, *, engine: str) -> ReviewFlow:
    """The review stage of a screen and the reviewed extract, screened here as the screen was: at its cut-off,
    under its protocol, in its mode."""
    from oligo_cohort.api import screen

    audit_file = Path(reviewed_extract) / AUDIT_FILE
    if not audit_file.is_file():
        raise UsageError(f"--after-review {reviewed_extract}: not a reviewed extract (no {AUDIT_FILE})")
    after = screen(
        reviewed_extract, as_of=before.as_of, protocol=before.protocol, engine=engine, worklist=before.worklist
    )
    flow = review_flow(before, after, read_audit(audit_file))
    changed = _changed_files(before, after, audit_file)
    return replace(flow, reviewed_extract=Path(reviewed_extract).name, reviewed_files=changed)


def _changed_files(before: ScreeningResult, after: ScreeningResult, audit: Path) -> tuple[tuple[str, str], ...]:
    """(file, SHA-256) of each file of the reviewed extract that the screen before review did not read as it is:
    the tables the answers added records to, and the review audit. By file name, as the extracts' folders differ;
    none when the screen before review records no files (a result built in memory)."""
    if not before.input_files:
        return ()
    read_before = {Path(path).name: sha256_of(Path(path)) for path in before.input_files}
    files = [Path(path) for path in after.input_files] + [audit]
    digests = [(path.name, sha256_of(path)) for path in files]
    return tuple(sorted((name, digest) for name, digest in digests if read_before.get(name) != digest))


def stage_for_screens(before_dir: str | Path, after_dir: str | Path, *, disclosure_control: bool) -> ReviewFlow:
    """`attrition SCREEN_DIR --after-review AFTER_DIR`: the review stage, disclosure-controlled unless turned off."""
    flow = review_flow_of(before_dir, after_dir)
    return controlled(flow) if disclosure_control else flow


def stage_for_extract(
    before: ScreeningResult, reviewed_extract: str | Path, *, engine: str, disclosure_control: bool
) -> ReviewFlow:
    """`report EXTRACT --after-review NEW_EXTRACT`: the review stage, disclosure-controlled unless turned off."""
    flow = review_flow_of_extracts(before, reviewed_extract, engine=engine)
    return controlled(flow) if disclosure_control else flow


def controlled(flow: ReviewFlow) -> ReviewFlow:
    """The flow as it may leave the institution, adding up as printed (docs/attrition.md A15).

    Every count of the stage is a part of the patients screened, so it is derived as the attrition tables derive
    theirs (A8): the parts (patients alike in everything the stage shows of them, their answer to each item
    included), in the order of one chain, are differences of controlled running totals, and every box, transition,
    exclusion and item count is a sum of them. Items counted in a chain of their own once said "20 items asked"
    beside 0 patients sent to chart review, which told 0 from 1-7 and, at 8 items a patient at most, at least 3.
    Rounded cell by cell, a transition shown as 0 could be pinned to 5-7 by subtracting the other cells from a box;
    now a box minus its other parts is the part as shown, and a part shown as 0 is always consistent with none.
    """
    if flow.controlled:
        return flow
    if flow.patient_parts is None:
        raise ValueError("this review flow has no parts to control: build it with review_flow")
    patients = flow.patient_parts.copy()
    patients["n"] = controlled_parts(patients["n"].to_numpy(dtype=float)).astype(int)
    shown = _flow_of_parts(patients, controlled=True)
    return replace(shown, reviewed_extract=flow.reviewed_extract, reviewed_files=flow.reviewed_files)


def _empty_audit() -> pd.DataFrame:
    return pd.DataFrame({"patient_id": [], "item": [], "action": [], "answer": []}, dtype=object)


def _credited(before: pd.DataFrame, after: ScreeningResult) -> list[str]:
    """Per patient excluded at chart review (`before`: their rows before review, by patient id), the first criterion
    in protocol order that fails after review, and not before, on the scan that was their best event before review
    (`other` when that scan is no longer a candidate event).

    The same scan before and after: an unfavourable answer makes that scan fail, and another scan can then become
    the best event (fewest fail, then fewest unknown, then earliest S), whose fails are no answer's doing.
    """
    rows = after.rows_where("events", "patient_id", before.index) if len(before) else None
    on_scan = {} if rows is None else {(r["patient_id"], r["event_id"]): r for r in rows.to_dict("records")}
    credited = []
    for patient_id, row in before.iterrows():
        scan = on_scan.get((patient_id, row["event_id"]))
        newly = [] if scan is None else [c for c in CRITERION_IDS if scan[c] == "fail" and row[c] != "fail"]
        credited.append(newly[0] if newly else OTHER)
    return credited


def _exclusions(excluded: pd.DataFrame) -> pd.DataFrame:
    """Patients excluded at chart review per credited criterion (`best_event_moved`: of them, those whose best
    event after review is another scan), from the parts; a criterion counted 0 (as shown) is left out."""
    n = excluded["n"].astype(int)
    moved = excluded["moved"].astype(bool)
    patients = n.groupby(excluded["criterion"]).sum()
    moved_n = n[moved].groupby(excluded["criterion"][moved]).sum()
    order = [c for c in (*CRITERION_IDS, OTHER) if patients.get(c, 0) > 0]
    return pd.DataFrame(
        {
            "criterion": order,
            "label": [exclusion_reason(c) if c != OTHER else OTHER_LABEL for c in order],
            "patients": [int(patients[c]) for c in order],
            "best_event_moved": [int(moved_n.get(c, 0)) for c in order],
        }
    )


def _transitions(patients: pd.DataFrame) -> pd.DataFrame:
    """Patients per status before x after, and of them those whose best event moved to another scan; statuses in
    the order every table of counts gives them (eligible, unknown, ineligible)."""
    n = patients["n"].astype(int)
    moved = patients["moved"].astype(bool)
    pair = [patients["status_before"], patients["status_after"]]
    counts = n.groupby(pair).sum() if len(n) else {}
    moved_n = n[moved].groupby([p[moved] for p in pair]).sum() if moved.any() else {}
    rows = [
        {
            "status_before": s,
            "status_after": t,
            "patients": int(counts.get((s, t), 0)),
            "best_event_moved": int(moved_n.get((s, t), 0)),
        }
        for s in STATUS_ORDER
        for t in STATUS_ORDER
    ]
    return pd.DataFrame(rows)


__all__ = [
    "FLOW_BOXES",
    "ReviewFlow",
    "controlled",
    "flow_figure",
    "read_audit",
    "review_flow",
    "review_flow_of",
    "review_flow_of_extracts",
    "stage_for_extract",
    "stage_for_screens",
]

assert {box for box, _ in FLOW_BOXES} >= set(MAIN_BOXES) | set(SIDE_BOXES)
