"""NKR-style flat file → canonical extract: item names, codes, intervals from incidence, the item map, bad input.

The fixture (`;`-delimited, as Dutch exports usually are) holds:
- 101: invasive ductal C50.4, histology of the primary, cM0, a follow-up (VERB) record with a bone metastasis
  1,100 days after incidence, letrozole (ATC) + palbociclib (former ATC L01XE33), WHO 1, SD;
- 102: only the incidence year, morphology 85203 (behaviour in the 5th digit), cytology, cM1, liver and axillary
  (regional: dropped) metastases, trastuzumab by name + pertuzumab by former ATC + an unknown code, died,
  an earlier colon cancer (prior malignancy item);
- 103: a man with prostate cancer treated with docetaxel (therapy of another primary: not a line).
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from oligo_cohort import importers
from oligo_cohort.api import screen
from oligo_cohort.cli import main
from oligo_cohort.errors import InputError
from oligo_cohort.importers import import_nkr
from oligo_cohort.importers.report import REPORT_CSV

HEADER = (
    "key_nkr;key_zid;epis;gesl;leeft;incdat;incjr;topo_sublok;morf;gedrag;diag_basis;cm;pm;vit_stat;vit_stat_int;"
    "ziekenhuis;meta_epis;meta_topo_sublok1;meta_int1;meta_topo_sublok2;meta_int2;syst_code1;syst_start_int1;"
    "syst_stop_int1;syst_code2;syst_start_int2;syst_stop_int2;syst_code3;syst_start_int3;syst_stop_int3;chemo;rt;"
    "perf_stat;respons_uitslag;respons_int;mal1_topo_sublok;mal1_morf;mal1_int"
)
ROWS = [
    "101;1;DIA;2;55;01-03-2019;2019;C504;8500;3;7;0;0;0;1900;AVL;0;;;;;;;;;;;;;;1;1;0;;;;;",
    "101;1;VERB;2;55;01-03-2019;2019;C504;8500;3;7;0;0;0;1900;AVL;2;C795;1100;;;L02BG04;1110;;L01XE33;1110;;;;;;;1;SD;1300;;;",
    "102;5;DIA;2;48;;2021;C509;85203;;5;1;;1;900;UMCU;1;C220;0;C773;0;trastuzumab;10;400;L01XC13;10;400;XYZ123;10;400;1;0;9;;;C189;8140;2000",
    "103;7;DIA;1;70;15-06-2020;2020;C619;8140;3;7;0;;0;1000;AVL;0;;;;;L01CD02;30;150;;;;;;;1;0;;;;;;",
]


def write_nkr(path: Path, header: str = HEADER, rows: list[str] | None = None) -> Path:
    path.write_text("\n".join([header, *(ROWS if rows is None else rows)]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    return import_nkr(write_nkr(tmp_path_factory.mktemp("nkr") / "nkr.csv"))


def test_items_and_codes_map_to_the_canonical_tables(imported):
    t = imported.tables
    patients = t["patients"].set_index("patient_id")
    assert list(patients.index) == ["101", "102", "103"]
    assert patients.loc["101"].tolist() == ["AVL", "1964-03-01", "F", None]  # birth = incidence - age (latest possible)
    assert patients.loc["102", "death_date"] == "2023-12-18"  # 1 July 2021 + 900 days
    assert patients.loc["103", "sex"] == "M"

    tumours = t["tumours"].set_index("tumour_id")
    assert sorted(tumours.index) == ["101-1", "102-5", "102-mal-C18.9-2016-01-09", "103-7"]
    t101 = tumours.loc["101-1"]
    assert (t101.diagnosis_date, t101.topography, t101.morphology, t101.behaviour) == (
        "2019-03-01",
        "C50.4",
        "8500",
        "3",
    )
    assert (t101.basis_of_diagnosis, t101.tnm_m, t101.metastasis_date) == ("histology_primary", "M0", "2022-03-05")
    assert (t101.chemotherapy, t101.radiotherapy) == ("true", "true")
    t102 = tumours.loc["102-5"]
    assert (t102.diagnosis_date, t102.morphology, t102.behaviour) == ("2021-07-01", "8520", "3")
    assert (t102.basis_of_diagnosis, t102.tnm_m, t102.metastasis_date) == ("cytology", "M1", "2021-07-01")
    colon = tumours.loc["102-mal-C18.9-2016-01-09"]
    assert (colon.topography, colon.morphology, colon.diagnosis_date) == ("C18.9", "8140", "2016-01-09")
    prostate = tumours.loc["103-7"]
    assert (prostate.topography, prostate.chemotherapy, prostate.last_treatment_date) == ("C61.9", "true", "2020-11-12")

    therapy = {(r.patient_id, r.drug): r for r in t["systemic_therapy"].itertuples()}
    assert set(therapy) == {
        ("101", "letrozole"),
        ("101", "palbociclib"),
        ("102", "trastuzumab"),
        ("102", "pertuzumab"),
        ("102", "xyz123"),
    }
    assert (
        therapy[("101", "palbociclib")].start_date == "2022-03-15" and therapy[("101", "palbociclib")].end_date is None
    )
    assert therapy[("102", "trastuzumab")].end_date == "2022-08-05"
    assert t["performance_status"].values.tolist() == [
        ["101", "2019-03-01", "WHO", "0"],
        ["101", "2022-03-05", "WHO", "1"],
    ]
    assert t["response_assessments"].values.tolist() == [["101", "2022-09-21", "SD"]]


def test_the_report_counts_gaps_and_approximations(imported):
    report = imported.report
    assert report.rows_read == {"nkr.csv": 4}
    assert report.mapped["patients"] == 3 and report.mapped["tumours"] == 4 and report.mapped["systemic_therapy"] == 5
    drops = {reason: n for (_, _, reason), n in report.drops.items()}
    merged = "further record of a tumour (same key_nkr and key_zid, else the same topography and incidence date)"
    assert drops[f"{merged}: merged, its items added"] == 1
    assert drops["metastasis in regional lymph nodes (C77.0/.1/.3): not M"] == 1
    assert drops["drug for another primary (kept only as that tumour's treatment)"] == 1
    assert drops["performance status unknown (9)"] == 1
    assert any("1 July of the incidence year" in n for n in report.notes)
    gaps = {g["criterion"]: g for g in report.criteria}
    assert gaps["exc_other_malignancy"]["outcome"] == "unknown"
    assert gaps["inc_oligoprogression"]["outcome"] == "fail"
    assert "inc_invasive_breast_cancer" not in gaps and "inc_age_18" not in gaps
    assert any("xyz123" in f for f in report.findings)
    result = screen(imported.tables, as_of="2024-06-30")
    reasons = result.reasons.set_index(["patient_id", "criterion"]).outcome
    assert reasons[("101", "inc_invasive_breast_cancer")] == "pass"
    assert reasons[("102", "inc_invasive_breast_cancer")] == "fail"  # cytology only
    assert reasons[("103", "inc_invasive_breast_cancer")] == "fail"  # no breast cancer


def test_a_differently_named_extract_reads_through_the_item_map(tmp_path):
    renamed = HEADER.replace("key_nkr", "patient").replace("incdat", "incidence").replace("syst_code", "drug_")
    file = write_nkr(tmp_path / "renamed.csv", renamed)
    items = tmp_path / "items.yaml"
    items.write_text("patient_id: patient\nincidence_date: incidence\ndrug_code: 'drug_{n}'\n", encoding="utf-8")
    result = import_nkr(file, items=items)
    assert len(result.tables["systemic_therapy"]) == 5
    assert result.report.lineage[("patients", "patient_id")] == "patient"


def test_bad_items_are_named_and_nothing_is_written(tmp_path, capsys):
    rows = [ROWS[0].replace(";2;55;", ";3;55;", 1), ROWS[2].replace(";C509;", ";X50;", 1)]
    file = write_nkr(tmp_path / "bad.csv", rows=rows)
    with pytest.raises(InputError) as caught:
        import_nkr(file)
    described = [p.describe() for p in caught.value.problems]
    assert any(d.startswith("bad.csv.gesl row 1 (101): value '3'") for d in described)
    assert any(d.startswith("bad.csv.topo_sublok row 2 (102): value 'X50'") for d in described)
    out = tmp_path / "out"
    assert main(["import", "nkr", str(file), "--out", str(out)]) == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "X50" in err and "Traceback" not in err


def test_cli_end_to_end(tmp_path):
    out = tmp_path / "extract"
    assert main(["import", "nkr", str(write_nkr(tmp_path / "nkr.csv")), "--out", str(out)]) == 0
    with (out / REPORT_CSV).open(encoding="utf-8", newline="") as handle:
        mapped = {r["table"]: int(r["count"]) for r in csv.DictReader(handle) if r["section"] == "mapped"}
    assert mapped["tumours"] == 4
    assert main(["validate", str(out)]) == 0


HOSPITAL = HEADER.split(";").index("ziekenhuis")


def _without_hospital(row: str) -> str:
    cells = row.split(";")
    cells[HOSPITAL] = ""
    return ";".join(cells)


@pytest.mark.parametrize(
    "blank_rows",
    [set(rows) for n in range(len(ROWS) + 1) for rows in itertools.combinations(range(len(ROWS)), n)],
    ids=lambda rows: "blank-" + ("-".join(map(str, sorted(rows))) or "none"),
)
def test_a_patient_no_record_places_at_a_hospital_is_at_the_unknown_site(tmp_path, monkeypatch, blank_rows):
    """site_id is required: a patient none of whose records names a hospital is imported at site 'unknown' (as
    the lineage says) and screened, with a note counting them; one record naming it places the patient."""
    rows = [_without_hospital(row) if i in blank_rows else row for i, row in enumerate(ROWS)]
    out = tmp_path / "extract"
    imported = []  # the command's own import: the result it wrote into `out`

    def kept(*args, **kwargs):
        imported.append(import_nkr(*args, **kwargs))
        return imported[-1]

    monkeypatch.setattr(importers, "import_nkr", kept)
    assert main(["import", "nkr", str(write_nkr(tmp_path / "nkr.csv", rows=rows)), "--out", str(out)]) == 0
    (result,) = imported
    sites = result.tables["patients"].set_index("patient_id").site_id.to_dict()
    hospitals: dict[str, set[str]] = {}
    for row in rows:
        cells = row.split(";")
        hospitals.setdefault(cells[0], set()).update({cells[HOSPITAL]} - {""})
    assert {pid: site != "unknown" for pid, site in sites.items()} == {pid: bool(h) for pid, h in hospitals.items()}
    assert all(sites[pid] in given for pid, given in hospitals.items() if given)
    unplaced = sum(1 for given in hospitals.values() if not given)
    notes = [n for n in result.report.notes if n.startswith("site_id:")]
    who = "1 patient has" if unplaced == 1 else f"{unplaced:,} patients have"
    assert notes == ([f"site_id: {who} no ziekenhuis on any record; site_id is 'unknown'."] if unplaced else [])
    assert main(["validate", str(out)]) == 0
    assert len(screen(result.tables, as_of="2024-06-30").patients) == 3
