"""A Netherlands Cancer Registry (NKR, IKNL)–style flat file → the canonical extract.

One row per tumour record, with the registry's item names (`key_nkr`,
`gesl`, `incdat`/`incjr`, `topo_sublok`, `morf`, `gedrag`, `diag_basis`,
`cm`/`pm`, `meta_topo_sublok1..`, `meta_int1..`, `syst_code1..`,
`syst_start_int1..`/`syst_stop_int1..`, `perf_stat`, `respons_uitslag`/
`respons_int`, ...). Intervals (`*_int`) are days from the incidence date, as
IKNL delivers them. Every item name can be changed with an item map (YAML or
CSV: key → column name), so a differently named extract reads without code
changes. docs/importers.md documents every item and code, and which record of a tumour or patient gives each of
its items: the result never depends on the order of the file's rows.

One module per concern, as the OMOP importer is laid out:
- `items`: the item names read, and an item map (`--items`) that renames them;
- `reader`: one file being imported: its records, each cell read and judged once, which record gives a value;
- `tumours`: the tumours, their metastases and the earlier malignancies the records list;
- `events`: drugs, performance status and response, dated from the tumour's incidence;
- `patients`: the patients, from all their records;
- `lineage`: where each canonical column comes from, for the mapping report.

The result never depends on the order of the file's rows: the records are grouped by tumour and put in one order;
each tumour-level and patient-level item is taken from the first record giving it, another value on another
record being a conflict in the report. Every item of every record is read, and judged, once, whichever record a
value is taken from; the tables are written sorted, and the problems listed in the order of the file's rows.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from oligo_cohort.counts_in_words import counted
from oligo_cohort.errors import InputError
from oligo_cohort.importers.common import ROW, UNKNOWN_SITE, SourceProblems, canonical_frame, sorted_frame
from oligo_cohort.importers.extract import ImportResult, finish_import
from oligo_cohort.importers.flat_files import read_flat_file
from oligo_cohort.importers.nkr.events import add_drugs, add_performance_status, add_response
from oligo_cohort.importers.nkr.items import DEFAULT_ITEMS, given_items, item_names, load_item_map
from oligo_cohort.importers.nkr.lineage import describe_lineage
from oligo_cohort.importers.nkr.patients import patient_of, patient_order
from oligo_cohort.importers.nkr.reader import NkrFile
from oligo_cohort.importers.nkr.tumours import metastases, prior_malignancies, tumour_key, tumour_of, tumour_order
from oligo_cohort.importers.report import MappingReport

__all__ = ["DEFAULT_ITEMS", "import_nkr", "load_item_map"]


def import_nkr(
    source: str | Path, *, items: str | Path | dict[str, str] | None = None, imaging: str | Path | None = None
) -> ImportResult:
    """Map an NKR-style flat file to a canonical extract (validated), with its mapping report."""
    if isinstance(items, dict):
        given, label = {k: v.strip().lower() for k, v in items.items()}, "the item map"
    elif items is None:
        given, label = {}, ""
    else:
        given, label = given_items(items), f"--items {Path(items)}"
    item_map = item_names(given, label)
    file = Path(source)
    problems = SourceProblems()
    notes: list[str] = []
    frame = read_flat_file(file, problems, notes)
    origin = str(file)
    if problems:
        raise InputError(problems.items)
    report = MappingReport("NKR-style registry extract", origin)
    report.read(Path(origin).name, len(frame))
    for note in notes:
        report.note(note)
    nkr = NkrFile(frame, item_map, report, problems, Path(origin).name)
    frames = _mapped(nkr, {key: label for key in given})
    if problems:
        raise InputError(problems.items)
    return finish_import(frames, report, imaging)


def _mapped(nkr: NkrFile, named: dict[str, str]) -> dict[str, pd.DataFrame]:
    """The canonical tables of the file's records ({} when a required item is missing, or an item map names a
    column the file does not have: `named` holds each key an item map gives, with the map's label)."""
    absent = {key for key in named if not nkr.has(key, 1 if "{n}" in nkr.name(key) else None)}
    for key in [key for key in named if key in absent]:  # in the map's order
        numbered = f" ({nkr.name(key, 1)}, {nkr.name(key, 2)}, ...)" if "{n}" in nkr.name(key) else ""
        nkr.problems.add(
            nkr.table,
            nkr.name(key),
            None,
            None,
            f"no such column{numbered}, though {named[key]} names it for {key}",
        )
    for key in ("patient_id", "topography"):
        if not nkr.has(key) and key not in absent:
            nkr.problems.add(
                nkr.table,
                nkr.name(key),
                None,
                None,
                f"required item missing ({key}; change the name with --items)",
            )
    if (
        not (nkr.has("incidence_date") or nkr.has("incidence_year"))
        and not {"incidence_date", "incidence_year"} & absent
    ):
        nkr.problems.add(
            nkr.table,
            nkr.name("incidence_date"),
            None,
            None,
            f"neither {nkr.name('incidence_date')} nor {nkr.name('incidence_year')} is present",
        )
    if nkr.problems:
        return {}
    nkr.columns = [c for c in nkr.frame.columns if c != ROW]
    groups: dict[tuple[str, str], list[dict]] = {}
    loose: list[tuple[str, dict]] = []  # records of no tumour (its key unusable): patient items still read
    for record in nkr.frame.to_dict("records"):
        pid = nkr.get(record, "patient_id")
        if pid is None:
            nkr.bad(record, "patient_id", None, "the patient key is missing")
            continue
        incidence = nkr.incidence(record)
        if incidence is None:
            continue
        key = tumour_key(nkr, record, incidence)
        if key is None:
            loose.append((pid, record))
        else:
            groups.setdefault((pid, key), []).append(record)
    tumours: list[dict] = []
    by_patient: dict[str, list[tuple[dict, dict | None]]] = {}
    for pid, record in loose:
        by_patient.setdefault(pid, []).append((record, None))
    therapy: list[dict] = []
    ps: list[dict] = []
    responses: list[dict] = []
    for (pid, key), records in sorted(groups.items()):
        records.sort(key=lambda record: tumour_order(nkr, record))
        tumour = tumour_of(nkr, pid, key, records)
        for record in records:
            by_patient.setdefault(pid, []).append((record, tumour))
        if tumour is None:
            continue
        tumours.append(tumour)
        for record in records:
            metastases(nkr, record, tumour)
            add_drugs(nkr, record, pid, tumour, therapy)
            add_performance_status(nkr, record, pid, tumour, ps)
            add_response(nkr, record, pid, tumour, responses)
    patients: list[dict] = []
    for pid, pairs in sorted(by_patient.items()):
        records = [record for record, _ in sorted(pairs, key=lambda pair: patient_order(nkr, pair))]
        patients.append(patient_of(nkr, pid, records))
        tumours += prior_malignancies(nkr, pid, records)
    for tumour in tumours:
        dates = tumour.pop("_metastases", [])
        if tumour.get("tnm_m") == "M1":
            dates.append(tumour["diagnosis_date"])
        breast = tumour.pop("_breast", False)
        tumour["metastasis_date"] = min(dates) if dates and breast else None
    nkr.problems.items.sort(key=lambda problem: -1 if problem.row is None else problem.row)
    describe_lineage(nkr)
    for what, (n, unit) in sorted(nkr.approx.items()):
        nkr.report.note(f"approximate: {what} for {counted(n, unit)}")
    if nkr.unplaced:
        have = "has" if nkr.unplaced == 1 else "have"
        nkr.report.note(
            f"site_id: {counted(nkr.unplaced, 'patient')} {have} no {nkr.name('hospital')} on any record; "
            f"site_id is '{UNKNOWN_SITE}'."
        )
    frames = {
        "patients": _sorted_frame("patients", patients),
        "tumours": _sorted_frame("tumours", tumours),
        "systemic_therapy": _sorted_frame("systemic_therapy", therapy),
    }
    if nkr.has("performance_status"):
        frames["performance_status"] = _sorted_frame("performance_status", ps)
    if nkr.has("response"):
        frames["response_assessments"] = _sorted_frame("response_assessments", responses)
    nkr.report.note(
        "imaging, lesions and observations have no NKR source: imaging and lesions are written empty (give them with "
        "--imaging DIR); observations is not written."
    )
    return frames


# --- which record gives a value ------------------------------------------------------------------------------


def _sorted_frame(table: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    """The rows as a canonical table, sorted by their values (`sorted_frame`): the order of the file's rows leaves
    no trace."""
    return sorted_frame(canonical_frame(table, rows))
