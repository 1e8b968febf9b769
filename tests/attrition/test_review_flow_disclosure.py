"""The chart review stage under disclosure control adds up as printed and never contradicts a count shown as 0.

Rounded cell by cell, the stage's tables let a reader derive a suppressed count by subtraction: with 45 patients
unknown before and after review, 7 unknown before and eligible after and 10 eligible before and after, the
transition `unknown → eligible` was shown as 0 (0 to 7) while the boxes, each rounded on its own (eligible after
review 15, candidates 60 …), left room only for 5 to 7 patients there. The attrition tables' rule (docs/attrition.md
A8) prevents it: every count of the stage is a part of the patients screened (or of the items asked), derived from
controlled running totals of one chain, and every box is the sum of its parts as printed. A part shown as 0 is then
always consistent with none (the running totals on either side of it are the same published number).

The screens are stand-ins with only what `review_flow` reads: the patients' statuses, best events and outcomes
before and after review, and the after-review events of the scans screened before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.disclosure import round_count
from oligo_cohort.review.flow import controlled, flow_figure, review_flow
from oligo_cohort.review.items import ITEMS
from oligo_cohort.review.records import ADDED
from tests.draws import costly_draws

BEFORE_AFTER = [(b, a) for b in ("eligible", "unknown", "ineligible") for a in ("eligible", "unknown", "ineligible")]
REFUSED = ("exc_medical_risk", "inc_informed_consent", "inc_lat_amenable")  # criteria an answer can make fail


@dataclass
class StandIn:
    """What review_flow reads of a ScreeningResult."""

    patients: pd.DataFrame
    events: pd.DataFrame
    as_of: dt.date = dt.date(2025, 3, 31)
    worklist: bool = False

    @property
    def protocol(self):
        return SimpleNamespace(parameters=SimpleNamespace(as_row=lambda: {"size_floor_mm": 15}))

    def rows_where(self, table: str, column: str, values) -> pd.DataFrame:
        assert table == "events"
        return self.events[self.events[column].isin(list(values))]


def outcomes(status: str, refused: str | None = None) -> dict[str, str]:
    """Criteria giving `status`; a refused chart-review answer fails `refused`."""
    row = dict.fromkeys(CRITERION_IDS, "pass")
    if status == "unknown":
        row["inc_who_ps_0_1"] = "unknown"
    if status == "ineligible":
        row[refused or "inc_oligoprogression"] = "fail"
    return row


def screens(cells: dict[tuple[str, str], int], seed: int) -> tuple[StandIn, StandIn, pd.DataFrame]:
    """Before and after screens with `cells` patients per (status before, status after), and a review audit."""
    rng = np.random.default_rng(seed)
    before, after, events, audit = [], [], [], []
    for (b, a), n in cells.items():
        for _ in range(n):
            pid = f"P{len(before):05d}"
            moved = bool(rng.random() < 0.2)
            refused = REFUSED[rng.integers(len(REFUSED))] if b != "ineligible" and a == "ineligible" else None
            scan, later = f"{pid}-S", f"{pid}-E" if moved else f"{pid}-S"
            before.append({"patient_id": pid, "status": b, "event_id": scan, **outcomes(b)})
            row = outcomes(a, refused)
            if a == "eligible" and rng.random() < 0.3:
                row["exc_medical_risk"] = "review"  # chart review still open
            after.append({"patient_id": pid, "status": a, "event_id": later, **row})
            events.append({"patient_id": pid, "event_id": scan, **outcomes(a, refused)})
            if b != "ineligible":
                for item in ITEMS[:3]:
                    if rng.random() < 0.7:
                        answer = "" if rng.random() < 0.2 else item.favourable[0]
                        audit.append({"patient_id": pid, "item": item.code, "action": ADDED if answer else "x",
                                      "answer": answer})  # fmt: skip
    audit_frame = pd.DataFrame(audit, columns=["patient_id", "item", "action", "answer"])
    columns = ["patient_id", "status", "event_id", *CRITERION_IDS]
    return (
        StandIn(pd.DataFrame(before, columns=columns), pd.DataFrame(columns=["patient_id", "event_id"])),
        StandIn(pd.DataFrame(after, columns=columns), pd.DataFrame(events, columns=columns).drop(columns="status")),
        audit_frame,
    )


def assert_adds_up(shown) -> None:
    """Every box of the controlled stage is the sum of its parts as printed, and its totals are the attrition's."""
    box = shown.flow.set_index("box")["patients"].astype(int)
    t = shown.transitions.set_index(["status_before", "status_after"])["patients"].astype(int)
    before, after = t.index.get_level_values(0), t.index.get_level_values(1)
    assert box["registry"] == t.sum()
    assert box["registry_excluded"] == t[before == "ineligible"].sum()
    assert box["candidates"] == t[before != "ineligible"].sum()
    assert box["candidates"] + box["registry_excluded"] == box["registry"]
    assert box["asked"] + box["not_asked"] == box["candidates"]
    assert box["review_excluded"] == t[(before != "ineligible") & (after == "ineligible")].sum()
    assert box["review_excluded"] == shown.exclusions["patients"].sum()
    assert box["readmitted"] == t[(before == "ineligible") & (after != "ineligible")].sum()
    assert box["eligible"] == t[after == "eligible"].sum() == box["confirmed"] + box["review_open"]
    assert box["unknown"] == t[after == "unknown"].sum()
    assert box["review_excluded"] + box["eligible"] + box["unknown"] == box["candidates"] + box["readmitted"]
    moved = shown.transitions["best_event_moved"].astype(int)
    assert (moved <= shown.transitions["patients"].astype(int)).all()
    excluded_moved = shown.exclusions["best_event_moved"].astype(int)
    assert (excluded_moved <= shown.exclusions["patients"].astype(int)).all()
    items = shown.items
    assert (items["answered"] == items["favourable"] + items["unfavourable"]).all()
    assert (items["answered"] <= items["asked"]).all()
    flow_items = shown.flow.set_index("box")["items"]
    assert flow_items["asked"] == items["asked"].sum() and flow_items["answered"] == items["answered"].sum()
    for table in (shown.flow, shown.exclusions, shown.items, shown.transitions):
        for column in table.select_dtypes("number").columns:
            values = table[column].dropna().astype(int)
            assert (values % 5 == 0).all() and (values >= 0).all(), (column, values.tolist())


SMALL = st.integers(0, 12)


@settings(max_examples=costly_draws(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.fixed_dictionaries({pair: (st.integers(0, 60) if pair[0] == pair[1] else SMALL) for pair in BEFORE_AFTER}),
    seed=st.integers(0, 1000),
)
def test_the_controlled_review_stage_adds_up_as_printed(cells, seed):
    before, after, audit = screens(cells, seed)
    exact = review_flow(before, after, audit)
    shown = controlled(exact)
    assert_adds_up(shown)
    # The totals are those of the attrition tables: all patients, and those no registry criterion excludes.
    box = shown.flow.set_index("box")["patients"]
    assert box["registry"] == round_count(sum(cells.values()))
    candidates = sum(n for (b, _), n in cells.items() if b != "ineligible")
    assert box["candidates"] == round_count(candidates)
    eligible_before = shown.transitions.set_index("status_before").loc["eligible", "patients"].sum()
    assert eligible_before == round_count(sum(n for (b, _), n in cells.items() if b == "eligible"))


def test_a_transition_shown_as_0_cannot_be_derived_from_the_boxes():
    """The example found by subtraction: 7 patients unknown → eligible, shown as 0, pinned by the boxes to 5–7."""
    cells = dict.fromkeys(BEFORE_AFTER, 0) | {
        ("unknown", "unknown"): 45,
        ("unknown", "eligible"): 7,
        ("eligible", "eligible"): 10,
        ("ineligible", "ineligible"): 38,
    }
    before, after, audit = screens(cells, seed=3)
    shown = controlled(review_flow(before, after, audit))
    assert_adds_up(shown)
    t = shown.transitions.set_index(["status_before", "status_after"])["patients"]
    box = shown.flow.set_index("box")["patients"]
    # What a reader subtracts: the eligible after review who were not eligible before.
    derived = box["eligible"] - t[("eligible", "eligible")] - t[("ineligible", "eligible")]
    assert derived == t[("unknown", "eligible")]


def _words(text: str) -> str:
    return " ".join(text.split())


def _figure_words(figure) -> str:
    """Every text the figure draws, as one run of words (lines wrapped anywhere)."""
    return _words(" ".join(t.get_text() for t in figure.axes[0].texts))


def _svg_words(svg: str) -> str:
    """The words of an SVG or of HTML embedding one: its text kept as text, or drawn as paths (each text then is
    in a comment)."""
    import html
    import re

    return _words(html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<!--(.*?)-->", r" \1 ", svg, flags=re.S))))


EXACT = "internal use only, must not leave the institution"
WORKLIST_NOTE = "Worklist mode, cut-off 2025-03-31: a closed registration window fails inc_imaging_window."


@settings(max_examples=costly_draws(4), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.fixed_dictionaries({pair: (st.integers(0, 40) if pair[0] == pair[1] else SMALL) for pair in BEFORE_AFTER}),
    seed=st.integers(0, 1000),
)
def test_the_review_flow_figure_says_how_its_counts_were_controlled(cells, seed, tmp_path_factory):
    """The flow figure travels without disclosure.md: like every figure, it says under its boxes whether its counts
    are controlled (and by which rule) or exact and not to leave the institution, and carries the command's
    footnote (synthetic data, worklist mode) when given one, in the file written and in the report."""
    from oligo_cohort.disclosure import SHORT_RULE

    before, after, audit = screens(cells, seed)
    exact = review_flow(before, after, audit)
    for flow, said in ((controlled(exact), SHORT_RULE), (exact, EXACT)):
        figure = flow_figure(flow)
        assert _words(said) in _figure_words(figure)
        figure.draw_without_rendering()
        boxes = [t.get_bbox_patch().get_window_extent() for t in figure.axes[0].texts if t.get_bbox_patch()]
        footnote = next(t for t in figure.axes[0].texts if said[:20] in t.get_text())
        assert footnote.get_window_extent().y1 < min(box.y0 for box in boxes)  # under every box, over none
        assert _words(said) in _svg_words(flow.html())
    note = f"Synthetic data (the bundled demo extract): exact counts.\n{WORKLIST_NOTE}"
    folder = tmp_path_factory.mktemp("flow")
    names = exact.write_into(folder, formats=("svg",), note=note)
    assert "figures/review_flow.svg" in names
    svg = _svg_words((folder / "figures" / "review_flow.svg").read_text(encoding="utf-8"))
    assert _words(note) in svg and _words(EXACT) not in svg
    assert _words(WORKLIST_NOTE) in _svg_words(exact.html(note))


@settings(max_examples=costly_draws(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.fixed_dictionaries({pair: (st.integers(0, 30) if pair[0] == pair[1] else SMALL) for pair in BEFORE_AFTER}),
    seed=st.integers(0, 1000),
)
def test_no_item_count_says_more_than_the_patients_it_was_asked_of(cells, seed):
    """An item is asked of a patient once, and every patient sent to chart review is asked one item at least: the
    items shown must fit the patients shown. Counted in a chain of their own, 3 to 7 patients sent to chart review
    (shown as 0) were shown with 20 items asked, 10 of them about amenability and 5 refusals of consent: not 0,
    then, and, at 8 items a patient at most, at least 3."""
    before, after, audit = screens(cells, seed)
    shown = controlled(review_flow(before, after, audit))
    box = shown.flow.set_index("box")
    patients = {k: int(box.loc[k, "patients"]) for k in ("asked", "answered")}
    items = {k: int(box.loc[k, "items"]) for k in ("asked", "answered")}
    for kind in ("asked", "answered"):
        assert patients[kind] <= items[kind] <= len(ITEMS) * patients[kind], (kind, patients, items)
        assert (shown.items[kind].astype(int) <= patients[kind]).all(), (kind, shown.items, patients)
    if patients["asked"] == 0:
        assert (shown.items[["asked", "answered", "favourable", "unfavourable"]].to_numpy() == 0).all()
