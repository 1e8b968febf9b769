"""The chart review stage of the flow: counts that add up, items asked and answered, and the attrition and report
commands given the screen (or extract) after review."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from oligo_cohort.api import read_screen_dir, screen
from oligo_cohort.cli import main
from oligo_cohort.disclosure import round_count, sha256_of
from oligo_cohort.errors import UsageError
from oligo_cohort.paths import demo_extract_dir
from oligo_cohort.review.export import export_review, write_review_csv
from oligo_cohort.review.flow import controlled, flow_figure, review_flow, review_flow_of
from oligo_cohort.review.importer import import_answers
from oligo_cohort.review.simulate import fill_answers
from tests.attrition.test_disclosure import count_digests
from tests.attrition.test_report_content import text_of

REFUSED = {("00217", "medical_risk"): "yes", ("20031", "informed_consent"): "no"}
UNANSWERED = {("01104", "lat_amenable"), ("01104", "informed_consent"), ("01104", "medical_risk")}


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    """The demo before and after a review with two refusals and one patient partly unanswered."""
    base = tmp_path_factory.mktemp("flow")
    before = screen(demo_extract_dir())
    before.write(base / "before")
    rows = export_review(base / "before", base / "review").rows
    write_review_csv(fill_answers(rows, answered_by="K. Smit", overrides=REFUSED, skip=UNANSWERED), base / "a.csv")
    import_answers([base / "a.csv"], demo_extract_dir(), base / "reviewed", today=dt.date(2025, 6, 1))
    screen(base / "reviewed", as_of=before.as_of).write(base / "after")
    return base, rows


def test_the_boxes_add_up_and_name_what_chart_review_excluded(reviewed):
    base, rows = reviewed
    flow = review_flow_of(base / "before", base / "after")
    before = read_screen_dir(base / "before").patients
    assert flow.count("registry") == len(before) == 34
    assert flow.count("registry_excluded") == (before["status"] == "ineligible").sum() == 18
    assert flow.count("candidates") == 16
    assert flow.count("asked") == rows["patient_id"].nunique() and flow.count("asked", "items") == len(rows)
    assert flow.count("answered", "items") == len(rows) - len(UNANSWERED)
    assert flow.count("answered") == rows["patient_id"].nunique()  # 01104 answered the compliance question
    assert flow.count("review_excluded") == 2
    assert flow.exclusions.set_index("criterion")["patients"].to_dict() == {
        "inc_informed_consent": 1,
        "exc_medical_risk": 1,
    }
    after = (flow.count("review_excluded"), flow.count("eligible"), flow.count("unknown"))
    assert sum(after) == flow.count("candidates")
    # 00107 has nothing left to ask: not sent to chart review, yet among the eligible after it. Without its box the
    # figure read 16 candidates, 15 sent, 2 excluded, 10 unknown and 4 eligible.
    assert flow.count("not_asked") == 1 and flow.count("asked") + flow.count("not_asked") == flow.count("candidates")
    texts = [text.get_text() for text in flow_figure(flow).axes[0].texts]
    assert any(text.startswith("Not sent to chart review: nothing left to ask\nn = 1 (") for text in texts)
    assert flow.count("eligible") == flow.count("confirmed") + flow.count("review_open")
    # 00107 was confirmed already, 00174, 01011 and 20088 become so; 20031 declined and 00217 (unknown only for its
    # performance status, answered) has a medical risk: both drop out.
    assert flow.count("eligible") == 4 and flow.count("confirmed") == 4
    # Statuses in the order of every other table of counts (and of the flow's boxes), not alphabetical.
    order = ["eligible", "unknown", "ineligible"]
    assert list(flow.transitions["status_before"].unique()) == order == list(flow.transitions["status_after"][:3])
    transitions = flow.transitions.set_index(["status_before", "status_after"])["patients"]
    assert transitions.sum() == 34
    assert transitions[("eligible", "ineligible")] == 1 and transitions[("unknown", "ineligible")] == 1
    items = flow.items.set_index("item")
    assert items.loc["medical_risk", "unfavourable"] == 1 and items.loc["informed_consent", "unfavourable"] == 1
    assert items["asked"].sum() == len(rows)
    assert items.loc["lat_amenable", "answered"] == items.loc["lat_amenable", "asked"] - 1


def test_disclosure_control_derives_every_count_from_controlled_totals(reviewed):
    """Totals controlled, parts derived from them (docs/attrition.md A15): every box is the sum of its parts."""
    from tests.attrition.test_review_flow_disclosure import assert_adds_up

    base, _ = reviewed
    exact = review_flow_of(base / "before", base / "after")
    shown = controlled(exact)
    assert shown.controlled and "disclosure-controlled" in shown.text()
    assert_adds_up(shown)
    for box in ("registry", "candidates"):
        assert shown.count(box) == round_count(exact.count(box))
    assert shown.items["asked"].sum() == round_count(int(exact.items["asked"].sum()))
    for table in ("flow", "exclusions", "items", "transitions"):
        for column in getattr(shown, table).select_dtypes("number").columns:
            values = getattr(shown, table)[column].dropna().astype(int)
            assert ((values == 0) | ((values % 5 == 0) & (values >= 5))).all(), (table, column)


def test_the_report_section_says_so_when_no_exclusion_at_review_is_shown(reviewed):
    """Two patients excluded at review: exact, a table names them; controlled, each reason is 0 and left out (A15),
    and a sentence says why the table is missing, not an empty table."""
    base, _ = reviewed
    exact = review_flow_of(base / "before", base / "after")
    assert exact.count("review_excluded") == 2 and "Reason (first failing criterion)" in exact.html()
    shown = controlled(exact)
    assert shown.exclusions.empty and "Reason (first failing criterion)" not in shown.html()
    assert "after disclosure control every reason counts 0 (0 to 7)" in shown.html()
    synthetic = exact.html("Synthetic data (the bundled demo extract): exact counts.")
    assert "internal use only" not in synthetic, "the report's own note says why its counts are exact"


def test_screens_at_different_cutoffs_are_not_compared(reviewed):
    base, _ = reviewed
    later = screen(base / "reviewed", as_of="2025-04-30")
    with pytest.raises(UsageError, match="--as-of 2025-03-31"):
        review_flow(read_screen_dir(base / "before"), later, None)


def test_attrition_after_review_writes_the_stage_beside_the_attrition(reviewed, tmp_path, capsys):
    base, _ = reviewed
    out = tmp_path / "attrition"
    arguments = ["attrition", str(base / "before"), "--out", str(out), "--after-review", str(base / "after")]
    code = main([*arguments, "--formats", "svg", "--disclosure-control"])  # the demo is synthetic: forced on
    assert code == 0
    printed = capsys.readouterr().out
    assert "Chart review stage (disclosure-controlled)" in printed
    flow = pd.read_csv(out / "review_flow.csv").set_index("box")
    assert flow.loc["registry", "patients"] == round_count(34) and flow.loc["candidates", "patients"] == 15
    assert (out / "figures" / "review_flow.svg").is_file()
    covered = (out / "disclosure.md").read_text(encoding="utf-8")
    assert "`review_flow.csv`" in covered and "`figures/review_flow.svg`" in covered
    # What produced it: the screens compared, the extract screened, and the protocol by its title.
    settings = json.loads((out / "settings.json").read_text(encoding="utf-8"))
    assert (settings["screen_dir"], settings["after_review"]) == ("before", "after")
    assert settings["extract"] == demo_extract_dir().name and settings["protocol"]["title"].startswith("COSMO")


def test_attrition_after_review_needs_the_screen_of_a_reviewed_extract(reviewed, tmp_path, capsys):
    base, _ = reviewed
    code = main(
        ["attrition", str(base / "before"), "--out", str(tmp_path / "x"), "--after-review", str(base / "before")]
    )
    assert code == 2 and "not screened from a reviewed extract" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_the_report_after_review_holds_the_stage(reviewed, tmp_path):
    base, _ = reviewed
    out = tmp_path / "report"
    code = main(
        ["report", str(demo_extract_dir()), "--out", str(out), "--after-review", str(base / "reviewed"),
         "--no-disclosure-control", "--no-screen-output"]
    )  # fmt: skip
    assert code == 0
    page = (out / "shareable" / "report.html").read_text(encoding="utf-8")
    assert "Chart review: from the registry screen to confirmed eligible" in page
    assert "Confirmed eligible: every criterion passes" in page and "<svg" in page
    assert page.index("Chart review: from the registry") < page.index("Assumptions, definitions")
    assert ">Sent to chart review</text>" in page, "the flow figure's words stay text, as every figure's do"
    tables = pd.read_csv(out / "shareable" / "tables" / "review_flow.csv").set_index("box")
    assert tables.loc["review_excluded", "patients"] == 2
    # The provenance names the reviewed extract and the files its answers changed, with their digests.
    provenance = text_of(page[page.index("<h2>Provenance</h2>") : page.index("<h2>Patients by status")])
    assert "Reviewed extract reviewed (the extract with the chart review answers" in provenance
    changed = provenance[provenance.index("Files the answers changed") :]
    for name in ("observations.csv", "review_audit.csv"):
        assert f"{name} sha256:{sha256_of(base / 'reviewed' / name)}" in changed
    assert "tumours.csv" not in changed, "a table no answer changed is read as it was"
    # The summary says what the answers gave, beside the registry's estimate, in the flow table's numbers.
    summary = text_of(page[page.index('class="summary"') : page.index("<h2>Provenance</h2>")])
    n = tables["patients"].astype(int)
    assert (
        f"Chart review done: eligible {n['eligible']} of {n['asked']} sent to chart review ({n['answered']} with an "
        f"answer): {n['confirmed']} pass every criterion, {n['review_open']} with review still open; "
        f"{n['review_excluded']} excluded at review; {n['unknown']} still unknown" in summary
    )
    # The flow figure is a file of the bundle too, as the report's other figures are, for slides and documents.
    statement = json.loads((out / "shareable" / "disclosure.json").read_text(encoding="utf-8"))
    with zipfile.ZipFile(out / "shareable.zip") as bundle:
        for name in ("tables/review_items.csv", "figures/review_flow.png", "figures/review_flow.svg"):
            assert name in bundle.namelist() and name in statement["files"]


def test_the_report_after_review_reads_each_input_file_once_for_its_checksum(reviewed, tmp_path, monkeypatch):
    """The extract's checksums serve the demo check, the provenance, the screen folder's manifest and the files
    chart review changed: each file is read once for them (four times before), and the reviewed copy of a table
    the answers left unchanged once, as it is a file of its own."""
    base, _ = reviewed
    extract, reviewed_extract = sorted(demo_extract_dir().glob("*.csv")), sorted((base / "reviewed").glob("*.csv"))
    files_of = Counter(hashlib.sha256(path.read_bytes()).hexdigest() for path in extract + reviewed_extract)
    digests_made = count_digests(monkeypatch)
    out = tmp_path / "report"
    assert main(["report", str(demo_extract_dir()), "--out", str(out), "--after-review", str(base / "reviewed")]) == 0
    assert {digest: digests_made[digest] for digest in files_of} == files_of
    manifest = json.loads((out / "screen" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["input_files"] == {str(path): sha256_of(path) for path in extract}


def test_without_after_review_the_commands_write_what_they_did(tmp_path):
    """The hook is inert when not asked for: no review files."""
    out = tmp_path / "attrition"
    screen(demo_extract_dir()).write(tmp_path / "screen")
    assert main(["attrition", str(tmp_path / "screen"), "--out", str(out), "--no-figures"]) == 0
    assert not list(Path(out).glob("review_*"))
