"""Synthetic extracts: valid per the data model, deterministic, true to their parameters, and a full screen mix."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from oligo_cohort.criteria import CRITERIA
from oligo_cohort.destination import MARKER
from oligo_cohort.dictionary import tables
from oligo_cohort.errors import UsageError
from oligo_cohort.load import load_extract
from oligo_cohort.synth import generate, parameters, regimens
from oligo_cohort.synth.command import configure, run
from oligo_cohort.synth.generate import generate_extract
from oligo_cohort.synth.summary import summarise_extract

TABLES = tuple(tables())


def table_files(folder: Path) -> list[Path]:
    """The extract's files, without the output marker."""
    return [f for f in sorted(folder.iterdir()) if f.name != MARKER]


def digests(folder: Path) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in table_files(folder)}


@pytest.fixture(scope="module")
def imperfect_extract(tmp_path_factory) -> Path:
    """The default kind of extract: realistic imperfections, Parquet."""
    return generate_extract(tmp_path_factory.mktemp("synth") / "imperfect", patients=4000, sites=15, seed=11)


@pytest.fixture(scope="module")
def clean_extract(tmp_path_factory) -> Path:
    return generate_extract(
        tmp_path_factory.mktemp("synth") / "clean", patients=4000, sites=8, seed=3, fmt="csv", imperfect=False
    )


@pytest.fixture(scope="module")
def screened(imperfect_extract):
    pytest.importorskip("oligo_cohort.engines.duckdb_engine")
    from oligo_cohort.api import screen

    return screen(imperfect_extract)


def test_every_table_has_the_data_model_columns_and_types(imperfect_extract, clean_extract):
    for name, table in tables().items():
        schema = pq.read_schema(imperfect_extract / f"{name}.parquet")
        assert tuple(schema.names) == table.column_names
        header = (clean_extract / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert tuple(header.split(",")) == table.column_names
        for column in table.columns:
            arrow_type = schema.field(column.name).type
            if column.type == "date":
                assert arrow_type == pa.date32(), (name, column.name)
            elif column.type in ("string", "code"):
                assert arrow_type == pa.string(), (name, column.name)


def test_ids_are_padded_strings_and_dates_iso(clean_extract):
    lines = (clean_extract / "patients.csv").read_text(encoding="utf-8").splitlines()
    first = lines[1].split(",")
    assert first[0] == "P0000001" and first[1].startswith("S")
    assert len(first[2]) == 10 and first[2][4] == "-" and first[2][7] == "-"
    imaging = (clean_extract / "imaging.csv").read_text(encoding="utf-8").splitlines()[1].split(",")
    assert imaging[0] == "P0000001-I001" and imaging[1] == "P0000001"


@pytest.mark.parametrize("kind", ["imperfect", "clean"])
def test_the_loader_accepts_the_extract(kind, imperfect_extract, clean_extract):
    folder = imperfect_extract if kind == "imperfect" else clean_extract
    loaded = load_extract(folder)  # raises InputError on any fatal problem
    assert loaded.present == frozenset(TABLES)
    assert str(loaded.as_of) <= "2024-12-31"
    kinds = {(f.table, f.column) for f in loaded.findings}
    if kind == "clean":
        assert ("systemic_therapy", "drug") not in kinds  # every drug name is in the vocabulary
    else:
        assert ("systemic_therapy", "drug") in kinds  # a few unknown names, reported, not fatal


def test_clean_extracts_have_no_missing_optional_values_and_imperfect_ones_do(imperfect_extract, clean_extract):
    import duckdb

    con = duckdb.connect()
    imperfect = con.execute(
        f"SELECT count(*) FILTER (WHERE basis_of_diagnosis IS NULL), count(*) FILTER (WHERE morphology IS NULL) "
        f"FROM '{imperfect_extract / 'tumours.parquet'}'"
    ).fetchone()
    clean = con.execute(
        f"SELECT count(*) FILTER (WHERE basis_of_diagnosis IS NULL), count(*) FILTER (WHERE tnm_m IS NULL "
        f"AND topography LIKE 'C50%') FROM read_csv('{clean_extract / 'tumours.csv'}', all_varchar = true)"
    ).fetchone()
    assert imperfect[0] > 0 and imperfect[1] > 0
    assert clean == (0, 0)
    drugs = {
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT drug FROM '{imperfect_extract / 'systemic_therapy.parquet'}'"
        ).fetchall()
    }
    assert drugs & set(parameters.TRIAL_DRUG_NAMES)


def test_the_same_seed_gives_byte_identical_files(tmp_path):
    for fmt in ("parquet", "csv"):
        first = generate_extract(tmp_path / f"a-{fmt}", patients=1200, sites=5, seed=7, fmt=fmt)
        second = generate_extract(tmp_path / f"b-{fmt}", patients=1200, sites=5, seed=7, fmt=fmt)
        assert digests(first) == digests(second)
        assert len(digests(first)) == 8
    other = generate_extract(tmp_path / "c", patients=1200, sites=5, seed=8)
    assert digests(other)["lesions.parquet"] != digests(tmp_path / "a-parquet")["lesions.parquet"]


def test_batch_size_changes_row_groups_not_content(tmp_path, monkeypatch):
    monkeypatch.setattr(generate, "BLOCK_PATIENTS", 400)
    whole = generate_extract(tmp_path / "whole", patients=1000, sites=4, seed=2, batch_size=1000)
    split = generate_extract(tmp_path / "split", patients=1000, sites=4, seed=2, batch_size=400)
    assert pq.ParquetFile(split / "lesions.parquet").metadata.num_row_groups == 3
    assert pq.ParquetFile(whole / "lesions.parquet").metadata.num_row_groups == 1
    for name in TABLES:
        assert pq.read_table(whole / f"{name}.parquet").equals(pq.read_table(split / f"{name}.parquet"))


def test_the_mix_matches_the_configured_proportions(clean_extract):
    figures = summarise_extract(clean_extract, screen=False).figures
    assert figures["patients"] == 4000
    assert figures["de novo share (M1 at diagnosis)"] == pytest.approx(parameters.DE_NOVO_SHARE, abs=0.025)
    assert figures["median age at metastatic diagnosis"] == pytest.approx(parameters.AGE_MEAN_YEARS, abs=1.0)
    assert figures["bone lesions at first study"] == pytest.approx(parameters.BONE_SHARE, abs=0.03)
    assert figures["bone-only distant disease at first study"] == pytest.approx(0.205, abs=0.03)  # domain: 20-21 %
    ps_0_1 = parameters.PS_SHARES_LINE_1[0] + parameters.PS_SHARES_LINE_1[1]
    assert figures["WHO/ECOG 0-1 at first assessment"] == pytest.approx(ps_0_1, abs=0.03)
    # Subtypes show in the first metastatic regimen: every HER2+ patient gets an anti-HER2 drug, ER+/HER2-
    # patients an endocrine one unless their first-line menu entry is chemotherapy.
    er, her2, _ = parameters.SUBTYPE_SHARES
    er_menu = regimens.MENUS["er_pos_her2_neg"][0]
    endocrine_weight = sum(w for w, _, text in er_menu if regimens.parse_regimen(text).line_class == "endocrine")
    endocrine_weight /= sum(w for w, _, _ in er_menu)
    assert figures["first line: anti-HER2"] == pytest.approx(her2, abs=0.025)
    assert figures["first line: endocrine-based (no anti-HER2)"] == pytest.approx(er * endocrine_weight, abs=0.03)


# An observation without a value cannot pass the loader (the data model requires `value`): no `unknown` for these.
UNKNOWN_ONLY_WITHOUT_THE_LOADER = {"exc_medical_risk", "exc_psychosocial"}


def test_medical_and_compliance_risk_are_judged_after_some_oligoprogressions_at_the_configured_rates(clean_extract):
    """Recorded together at one visit (some judged again later); true at the configured shares; never after death."""
    import pandas as pd

    obs = pd.read_csv(clean_extract / "observations.csv", dtype=str, keep_default_na=False)
    patients = pd.read_csv(clean_extract / "patients.csv", dtype=str, keep_default_na=False)
    for code, share in (
        ("medical_risk", parameters.MEDICAL_RISK_TRUE_SHARE),
        ("compliance_risk", parameters.COMPLIANCE_RISK_TRUE_SHARE),
    ):
        rows = obs[obs["code"] == code]
        assert len(rows) >= 150, f"{code}: too few to judge the rate"
        assert (rows["value"] == "true").mean() == pytest.approx(share, abs=0.035)
        assert (rows["end_date"] == "").all()
        died = rows.merge(patients, on="patient_id")
        assert not ((died["death_date"] != "") & (died["start_date"] >= died["death_date"])).any()
    judged = obs[obs["code"].isin(["medical_risk", "compliance_risk"])]
    per_visit = judged.groupby(["patient_id", "start_date"])["code"].agg(lambda c: tuple(sorted(c)))
    assert set(per_visit) == {("compliance_risk", "medical_risk")}  # both judged at one visit


def test_screening_a_few_thousand_patients_gives_every_outcome_of_every_criterion(screened):
    patients = screened.patients
    for criterion in CRITERIA:
        seen = set(patients[criterion.id])
        expected = set(criterion.outcomes) - {"review"}  # review-only criteria and review outcomes aside
        if criterion.id in UNKNOWN_ONLY_WITHOUT_THE_LOADER:
            expected -= {"unknown"}
        assert expected <= seen, f"{criterion.id}: {sorted(expected - seen)} never occurs"


def test_the_screen_mix_is_plausible(screened):
    patients = screened.patients
    status = patients["status"].value_counts(normalize=True)
    assert 0.01 <= status.get("eligible", 0) <= 0.06  # a small eligible share
    ineligible = patients[patients["status"] == "ineligible"]
    on_oligo_or_lines = (
        (ineligible["inc_oligoprogression"] == "fail")
        | (ineligible["inc_line_1_or_2"] == "fail")
        | (ineligible["exc_more_than_two_lines"] == "fail")
    )
    assert on_oligo_or_lines.mean() > 0.5  # most fail on oligoprogression or lines
    assert (screened.events["line_number"] >= 3).any()


def test_optional_tables_can_be_left_out(tmp_path):
    folder = generate_extract(
        tmp_path / "x", patients=300, sites=3, omit_tables=["observations", "response_assessments"], fmt="csv"
    )
    assert sorted(f.name for f in table_files(folder)) == sorted(
        f"{t}.csv" for t in TABLES if t not in ("observations", "response_assessments")
    )
    assert load_extract(folder).present == frozenset(TABLES) - {"observations", "response_assessments"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"patients": 0}, "--patients"),
        ({"sites": 0}, "--sites"),
        ({"start": "2020-13-01"}, "YYYY-MM-DD"),
        ({"start": "2024-01-01", "end": "2024-06-30"}, "a year after"),
        ({"fmt": "xlsx"}, "--format"),
        ({"omit_tables": ["lesions"]}, "optional"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path, arguments, message):
    options = {"patients": 10, "sites": 2} | arguments
    with pytest.raises(UsageError, match=message):
        generate_extract(tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


def test_an_occupied_folder_is_refused_and_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(UsageError, match="not an empty folder"):
        generate_extract(tmp_path, patients=10, sites=1)
    assert [f.name for f in tmp_path.iterdir()] == ["notes.txt"]


def test_the_command_writes_the_extract_and_its_profile(tmp_path, capsys):
    pytest.importorskip("oligo_cohort.engines.duckdb_engine")
    parser = argparse.ArgumentParser()
    configure(parser)
    out = tmp_path / "cli"
    args = parser.parse_args(
        ["--patients", "400", "--sites", "3", "--out", str(out), "--seed", "4", "--format", "csv", "--summary"]
    )
    assert run(args) == 0
    printed = capsys.readouterr().out
    assert f"Wrote 400 patients at 3 sites (csv, with realistic imperfections) to {out}" in printed
    assert "## Rows per table" in printed and "- patients: 400" in printed
    assert "inc_oligoprogression" in printed and "eligible:" in printed
    assert sorted(f.suffix for f in table_files(out)) == [".csv"] * 8


def test_large_extracts_are_profiled_on_a_sample_of_patients(imperfect_extract):
    pytest.importorskip("oligo_cohort.engines.duckdb_engine")
    summary = summarise_extract(imperfect_extract, screen_limit=600)
    assert sum(summary.status.values()) == 600
    assert summary.rows["patients"] == 4000
    assert str(summary.as_of) == "2024-12-31"  # the cut-off of the whole extract, not of the sample
    assert "600 patients, the first of 4,000" in summary.render()
    assert int(summary.outcomes.loc["inc_age_18"].sum()) == 600


def test_one_patient_at_one_site_is_said_in_the_singular(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    configure(parser)
    out = tmp_path / "one"
    assert run(parser.parse_args(["--patients", "1", "--sites", "1", "--out", str(out), "--format", "csv"])) == 0
    assert f"Wrote 1 patient at 1 site (csv, with realistic imperfections) to {out}" in capsys.readouterr().out


def test_the_help_example_claims_no_demo_extract():
    """`synth --help` shows a command that writes an extract: it runs on no extract, the bundled demo's or other."""
    from oligo_cohort.cli.parser import example_epilog

    epilog = example_epilog("synth")
    assert epilog.startswith("Example:\n") and "synth --patients" in epilog
    assert "demo" not in epilog
