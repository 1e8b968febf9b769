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
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.errors import InputError, UsageError
from oligo_cohort.importers.common import (
    ROW,
    UNKNOWN_SITE,
    DrugMatcher,
    SourceProblems,
    add_days,
    canonical_frame,
    parse_date,
    sorted_frame,
    to_days,
    to_int,
)
from oligo_cohort.importers.extract import ImportResult, finish_import
from oligo_cohort.importers.flat_files import read_flat_file
from oligo_cohort.importers.report import MappingReport
from oligo_cohort.problems import shortened
from oligo_cohort.user_files import UserFileProblem, read_delimited
from oligo_cohort.yaml_input import load_yaml_file

# Key → item name. `{n}` marks numbered items (1, 2, ... until a number is absent from the file).
DEFAULT_ITEMS: dict[str, str] = {
    "patient_id": "key_nkr",
    "tumour_key": "key_zid",
    "episode": "epis",
    "sex": "gesl",
    "birth_date": "gebdat",
    "age": "leeft",
    "incidence_date": "incdat",
    "incidence_year": "incjr",
    "topography": "topo_sublok",
    "morphology": "morf",
    "behaviour": "gedrag",
    "basis": "diag_basis",
    "cm": "cm",
    "pm": "pm",
    "vital_status": "vit_stat",
    "vital_status_date": "vit_stat_dat",
    "vital_status_interval": "vit_stat_int",
    "hospital": "ziekenhuis",
    "metastatic_episode": "meta_epis",
    "metastasis_site": "meta_topo_sublok{n}",
    "metastasis_interval": "meta_int{n}",
    "metastasis_date": "meta_dat{n}",
    "drug_code": "syst_code{n}",
    "drug_start_interval": "syst_start_int{n}",
    "drug_stop_interval": "syst_stop_int{n}",
    "drug_start_date": "syst_start_dat{n}",
    "drug_stop_date": "syst_stop_dat{n}",
    "drug_regimen": "syst_schemanum{n}",
    "chemotherapy": "chemo",
    "radiotherapy": "rt",
    "performance_status": "perf_stat",
    "performance_status_interval": "perf_stat_int",
    "response": "respons_uitslag",
    "response_interval": "respons_int",
    "response_date": "respons_dat",
    "prior_site": "mal{n}_topo_sublok",
    "prior_morphology": "mal{n}_morf",
    "prior_interval": "mal{n}_int",
}
MAX_NUMBERED = 30

SEX = {"1": "M", "2": "F", "9": "U"}
# ENCR basis of diagnosis (most valid basis).
BASIS = {
    "0": "death_certificate",
    "1": "clinical",
    "2": "clinical",  # clinical investigation (imaging, endoscopy, surgery without histology)
    "4": "clinical",  # specific tumour markers
    "5": "cytology",
    "6": "histology_metastasis",
    "7": "histology_primary",
    "9": "unknown",
}
BEHAVIOURS = ("0", "1", "2", "3", "6", "9")
CODES = clinical_codes()
RESPONSE = {"CR": "CR", "PR": "PR", "SD": "SD", "PD": "PD", "NE": "NE", "MR": "SD"}  # minor response: SD in RECIST
REGIONAL_NODES = ("C77.0", "C77.1", "C77.3")  # supraclavicular, internal mammary, axillary: N, not M
TOPOGRAPHY = re.compile(r"^C(\d{2})\.?(\d)$", re.IGNORECASE)
MORPHOLOGY = re.compile(r"^(\d{4})(?:/?(\d))?$")
DIAGNOSIS_EPISODE = "DIA"  # epis of the record made at diagnosis; follow-up records (VERB) come after it
M_CODES = re.compile(r"^(?:0(?:\(I\+\)|\(MOL\+\))?|1[A-D]?|X|9)$")  # M after its c/p/y prefix, upper case


def load_item_map(path: str | Path | None) -> dict[str, str]:
    """The default item names, with those in `path` (YAML mapping or CSV `key,item`) replacing them.

    A YAML file is read as every YAML file a user gives is (`oligo_cohort.yaml_input`: no tags, anchors or keys
    given twice; `0x1F` stays the text it is); a CSV file as every file a user gives is (`oligo_cohort.user_files`),
    each line a key and an item name (a first line `key,item` is the header), a key given twice refused.
    """
    items = dict(DEFAULT_ITEMS)
    if path is None:
        return items
    file = Path(path)
    label = f"--items {file}"
    if file.suffix.lower() == ".csv":
        pairs = _item_pairs_from_csv(file, label)
    else:
        loaded = load_yaml_file(file, label)
        if loaded is None:
            loaded = {}  # an empty file changes no name
        if not isinstance(loaded, dict):
            raise UsageError(f"{label}: expected a mapping of key: item name")
        odd = [str(k) for k, v in loaded.items() if isinstance(v, bool) or not isinstance(v, str | int)]
        if odd:  # a list, a mapping, yes/no: no item name, and never turned into text
            raise UsageError(f"{label}: {', '.join(odd)}: expected an item name")
        pairs = {str(k): str(v) for k, v in loaded.items()}
    unknown = sorted(set(pairs) - set(DEFAULT_ITEMS))
    if unknown:
        raise UsageError(f"{label}: unknown key(s) {', '.join(unknown)}; known: {', '.join(DEFAULT_ITEMS)}")
    for key, value in pairs.items():
        if not value.strip():
            raise UsageError(f"{label}: {key}: the item name is empty")
        if ("{n}" in DEFAULT_ITEMS[key]) != ("{n}" in value):
            raise UsageError(
                f"{label}: {key} is a numbered item; its name must {'' if '{n}' in DEFAULT_ITEMS[key] else 'not '}contain {{n}}"
            )
        items[key] = value.strip().lower()
    return items


def _item_pairs_from_csv(file: Path, label: str) -> dict[str, str]:
    """`key,item` lines of an item map in CSV; every line that is not a key and a name, and every key given
    twice, is named by its line."""
    try:
        read = read_delimited(file)
    except UserFileProblem as exc:
        raise UsageError(f"{label}: {exc.reason}") from None
    lines = [(read.header_line, read.header), *((record.line, record.fields) for record in read.records)]
    if [cell.strip().lower() for cell in read.header] == ["key", "item"]:
        lines = lines[1:]
    pairs: dict[str, str] = {}
    at: dict[str, int] = {}
    problems = []
    for line, fields in lines:
        cells = [cell.strip() for cell in fields]
        if len(cells) != 2 or "\x00" in "".join(cells):
            problems.append(f"line {line}: expected a key and an item name, found {shortened(','.join(cells))!r}")
        elif cells[0] in pairs:
            problems.append(f"line {line}: key {cells[0]!r} is given again (first on line {at[cells[0]]})")
        else:
            pairs[cells[0]], at[cells[0]] = cells[1], line
    if problems:
        raise UsageError(f"{label}: " + "; ".join(problems[:20]))
    return pairs


def import_nkr(
    source: str | Path, *, items: str | Path | dict[str, str] | None = None, imaging: str | Path | None = None
) -> ImportResult:
    """Map an NKR-style flat file to a canonical extract (validated), with its mapping report."""
    item_map = (
        dict(DEFAULT_ITEMS) | {k: v.lower() for k, v in items.items()}
        if isinstance(items, dict)
        else load_item_map(items)
    )
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
    adapter = _NkrAdapter(frame, item_map, report, problems, Path(origin).name)
    frames = adapter.run()
    if problems:
        raise InputError(problems.items)
    return finish_import(frames, report, imaging)


class _NkrAdapter:
    def __init__(
        self, frame: pd.DataFrame, items: dict[str, str], report: MappingReport, problems: SourceProblems, table: str
    ) -> None:
        self.frame = frame
        self.items = items
        self.report = report
        self.problems = problems
        self.table = table
        self.matcher = DrugMatcher()
        self.approx: dict[str, tuple[int, str]] = {}
        self.unplaced = 0  # patients no record places at a hospital (site_id UNKNOWN_SITE)
        self.cells: dict[tuple[int, str], object] = {}  # (row, item) → the value read, each cell read once
        self.incidences: dict[int, dt.date] = {}  # row → the record's own incidence date
        self.anchors: dict[int, dt.date] = {}  # row → its tumour's incidence date, which its intervals count from
        self.columns: list[str] = []

    # --- item access -----------------------------------------------------------------------------------------

    def has(self, key: str, n: int | None = None) -> bool:
        return self.name(key, n) in self.frame.columns

    def name(self, key: str, n: int | None = None) -> str:
        item = self.items[key]
        return item.replace("{n}", str(n)) if n is not None else item

    def get(self, record: dict, key: str, n: int | None = None) -> str | None:
        return record.get(self.name(key, n))

    def numbers(self, key: str) -> list[int]:
        return [n for n in range(1, MAX_NUMBERED + 1) if self.has(key, n)]

    def bad(self, record: dict, key: str, value: object, message: str, n: int | None = None) -> None:
        self.problems.add(self.table, self.name(key, n), record[ROW], value, message, self.get(record, "patient_id"))

    def read(self, record: dict, key: str, n: int | None, parse: Callable[[str], object], problem: str) -> object:
        """The value of one cell as `parse` reads it (None when empty or unusable). A cell is read once: a value
        that several mappings use (a metastasis interval dates the metastasis and the performance status) is
        one problem, reported as written."""
        cell = (record[ROW], self.name(key, n))
        if cell not in self.cells:
            value = self.get(record, key, n)
            parsed = None if value is None else parse(value)
            if value is not None and parsed is None:
                self.bad(record, key, value, problem, n)
            self.cells[cell] = parsed
        return self.cells[cell]

    def date(self, record: dict, key: str, n: int | None = None) -> dt.date | None:
        return self.read(
            record,
            key,
            n,
            lambda value: parse_date(value, day_first=True),
            "not a calendar date (YYYY-MM-DD or DD-MM-YYYY)",
        )

    def interval(self, record: dict, key: str, n: int | None = None) -> int | None:
        return self.read(record, key, n, to_days, "not a whole number of days (at most 150 years)")

    def dated(
        self, record: dict, incidence: dt.date, date_key: str, interval_key: str, n: int | None = None
    ) -> tuple[dt.date | None, str]:
        """The date an item gives (else incidence + the interval item), with the key of the item it was read from."""
        day = self.date(record, date_key, n) if self.has(date_key, n) else None
        if day is not None:
            return day, date_key
        interval = self.interval(record, interval_key, n) if self.has(interval_key, n) else None
        return add_days(incidence, interval), interval_key

    def approximate(self, what: str, unit: str = "record") -> None:
        n, _ = self.approx.get(what, (0, unit))
        self.approx[what] = (n + 1, f"{unit}(s)")

    # --- mapping ---------------------------------------------------------------------------------------------
    #
    # The result never depends on the order of the file's rows. The records are grouped by tumour and put in one
    # order (`tumour_order`, `patient_order`); each tumour-level and patient-level item is taken from the first
    # record giving it, another value on another record being a conflict in the report (`settle`). Every item of
    # every record is read, and judged, once (`read`), whichever record a value is taken from; the tables are
    # written sorted, and the problems listed in the order of the file's rows.

    def run(self) -> dict[str, pd.DataFrame]:
        for key in ("patient_id", "topography"):
            if not self.has(key):
                self.problems.add(
                    self.table,
                    self.name(key),
                    None,
                    None,
                    f"required item missing ({key}; change the name with --items)",
                )
        if not (self.has("incidence_date") or self.has("incidence_year")):
            self.problems.add(
                self.table,
                self.name("incidence_date"),
                None,
                None,
                f"neither {self.name('incidence_date')} nor {self.name('incidence_year')} is present",
            )
        if self.problems:
            return {}
        self.columns = [c for c in self.frame.columns if c != ROW]
        groups: dict[tuple[str, str], list[dict]] = {}
        loose: list[tuple[str, dict]] = []  # records of no tumour (its key unusable): patient items still read
        for record in self.frame.to_dict("records"):
            pid = self.get(record, "patient_id")
            if pid is None:
                self.bad(record, "patient_id", None, "the patient key is missing")
                continue
            incidence = self.incidence(record)
            if incidence is None:
                continue
            key = self.tumour_key(record, incidence)
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
            records.sort(key=self.tumour_order)
            tumour = self.tumour(pid, key, records)
            for record in records:
                by_patient.setdefault(pid, []).append((record, tumour))
            if tumour is None:
                continue
            tumours.append(tumour)
            for record in records:
                self.metastases(record, tumour)
                self.drugs(record, pid, tumour, therapy)
                self.performance(record, pid, tumour, ps)
                self.response(record, pid, tumour, responses)
        patients: list[dict] = []
        for pid, pairs in sorted(by_patient.items()):
            records = [record for record, _ in sorted(pairs, key=self.patient_order)]
            patients.append(self.patient(pid, records))
            tumours += self.prior_malignancies(pid, records)
        for tumour in tumours:
            dates = tumour.pop("_metastases", [])
            if tumour.get("tnm_m") == "M1":
                dates.append(tumour["diagnosis_date"])
            breast = tumour.pop("_breast", False)
            tumour["metastasis_date"] = min(dates) if dates and breast else None
        self.problems.items.sort(key=lambda problem: -1 if problem.row is None else problem.row)
        self.lineage()
        for what, (n, unit) in sorted(self.approx.items()):
            self.report.note(f"approximate: {what} for {n} {unit}")
        if self.unplaced:
            self.report.note(
                f"site_id: {self.unplaced} patient(s) have no {self.name('hospital')} on any record; "
                f"site_id is '{UNKNOWN_SITE}'."
            )
        frames = {
            "patients": _sorted_frame("patients", patients),
            "tumours": _sorted_frame("tumours", tumours),
            "systemic_therapy": _sorted_frame("systemic_therapy", therapy),
        }
        if self.has("performance_status"):
            frames["performance_status"] = _sorted_frame("performance_status", ps)
        if self.has("response"):
            frames["response_assessments"] = _sorted_frame("response_assessments", responses)
        self.report.note(
            "imaging, lesions and observations have no NKR source: imaging and lesions are written empty (give them with "
            "--imaging DIR); observations is not written."
        )
        return frames

    # --- which record gives a value ------------------------------------------------------------------------------

    def content(self, record: dict) -> tuple[str, ...]:
        """The record's values as text, item by item in the file's order (an empty item first): the last resort
        of every order of records, so that no order depends on where a record stands in the file."""
        return tuple("" if record[c] is None else str(record[c]) for c in self.columns)

    def is_diagnosis(self, record: dict) -> bool:
        return (self.get(record, "episode") or "").strip().upper() == DIAGNOSIS_EPISODE

    def tumour_order(self, record: dict) -> tuple:
        """A tumour's records: the diagnosis record (epis DIA) before follow-up ones; among records of the same
        kind the earliest incidence first, then by the record's values."""
        return (not self.is_diagnosis(record), self.incidences[record[ROW]], self.content(record))

    def patient_order(self, pair: tuple[dict, dict | None]) -> tuple:
        """A patient's records: those of an invasive breast cancer first (the tumour COSMO screens), diagnosis
        records before follow-up ones, the latest incidence first, then by the record's values."""
        record, tumour = pair
        breast = tumour is not None and tumour["_breast"]
        latest = -self.anchor(record).toordinal()
        return (not breast, not self.is_diagnosis(record), latest, self.content(record))

    def anchor(self, record: dict) -> dt.date:
        """The date the record's intervals count from: its tumour's incidence date (else the record's own)."""
        return self.anchors.get(record[ROW], self.incidences[record[ROW]])

    def kind(self, record: dict) -> str:
        return f"{self.name('episode')} {self.get(record, 'episode') or 'empty'}"

    def settle(self, table: str, record_id: str, column: str, source: str, given: list[tuple[object, dict]]) -> object:
        """The first value `given` (value, record pairs, in the records' order) holds; every other value is a
        conflict named in the report, with the kind (epis) of the records giving each value."""
        values = [(value, record) for value, record in given if value is not None]
        if not values:
            return None
        kept, first = values[0]
        others: dict[str, set[str]] = {}
        for value, record in values:
            if value != kept:
                others.setdefault(_shown(value), set()).add(self.kind(record))
        if others:
            also = ", ".join(f"{value} ({'; '.join(sorted(kinds))})" for value, kinds in sorted(others.items()))
            self.report.conflict(
                table, column, source, f"{record_id}: {_shown(kept)} ({self.kind(first)}) kept; also {also}"
            )
        return kept

    # --- tumours -------------------------------------------------------------------------------------------------

    def incidence(self, record: dict) -> dt.date | None:
        """The record's incidence date: `incdat`, else 1 July of `incjr` (kept for ordering and grouping)."""
        day = self.date(record, "incidence_date") if self.has("incidence_date") else None
        if day is None:
            year_text = self.get(record, "incidence_year") if self.has("incidence_year") else None
            year = to_int(year_text)
            if year is None or not 1900 <= year <= 2100:
                if self.get(record, "incidence_date") is None:
                    self.bad(
                        record, "incidence_year", year_text, "no incidence date, and the incidence year is not a year"
                    )
                return None
            day = dt.date(year, 7, 1)
        self.incidences[record[ROW]] = day
        return day

    def topography(self, record: dict, key: str = "topography", n: int | None = None) -> str | None:
        problem = "not an ICD-O-3 topography" + (" (e.g. C509 or C50.9)" if key == "topography" else "")
        return self.read(record, key, n, _topography, problem)

    def tumour_key(self, record: dict, incidence: dt.date) -> str | None:
        """`key_zid`; without it the topography and incidence date (the tumour's identity in the file): records
        sharing them are records of one tumour, as records sharing `key_zid` are."""
        key = self.get(record, "tumour_key")
        if key is not None:
            return key
        topography = self.topography(record)
        if topography is None and self.get(record, "topography") is None:
            self.bad(record, "topography", None, "not an ICD-O-3 topography (e.g. C509 or C50.9)")
        return None if topography is None else f"{topography}-{incidence.isoformat()}"

    def tumour(self, pid: str, key: str, records: list[dict]) -> dict | None:
        """One tumour from its records (in `tumour_order`): each item from the first record giving it."""
        tumour_id = f"{pid}-{key}"
        if len(records) > 1:
            self.report.drop(
                self.table,
                "tumours",
                f"further record of a tumour (same {self.name('patient_id')} and {self.name('tumour_key')}, else the "
                "same topography and incidence date): merged, its items added",
                len(records) - 1,
            )

        def settle(column: str, source: str, value_of: Callable[[dict], object]) -> object:
            return self.settle("tumours", tumour_id, column, source, [(value_of(r), r) for r in records])

        topography = settle("topography", self.name("topography"), self.topography)
        if topography is None and all(self.get(r, "topography") is None for r in records):
            self.bad(records[0], "topography", None, "not an ICD-O-3 topography (e.g. C509 or C50.9)")
        diagnosis = None
        if self.has("incidence_date"):
            diagnosis = settle("diagnosis_date", self.name("incidence_date"), lambda r: self.date(r, "incidence_date"))
        if diagnosis is None:
            diagnosis = settle("diagnosis_date", self.name("incidence_year"), lambda r: self.incidences[r[ROW]])
            self.approximate("incidence date taken as 1 July of the incidence year (only the year is known)", "tumour")
        morphology = settle("morphology", self.name("morphology"), lambda r: (self.morphology(r) or (None, None))[0])
        behaviour = settle(
            "behaviour", f"{self.name('behaviour')}, else the 5th digit of {self.name('morphology')}", self.behaviour
        )
        if behaviour is None:
            behaviour = CODES.invasive_behaviour
            self.approximate("behaviour taken as 3 (malignant) where no record of the tumour gives one", "tumour")
        basis = settle(
            "basis_of_diagnosis",
            self.name("basis"),
            lambda r: self.read(r, "basis", None, BASIS.get, "not an ENCR basis-of-diagnosis code (0 1 2 4 5 6 7 9)"),
        )
        tnm_m = settle("tnm_m", f"{self.name('cm')} / {self.name('pm')}", self.m_category)
        chemotherapy = self.treated(records, "chemotherapy")
        radiotherapy = self.treated(records, "radiotherapy")
        if topography is None:
            return None
        for record in records:
            self.anchors[record[ROW]] = diagnosis
        return {
            "tumour_id": tumour_id,
            "patient_id": pid,
            "diagnosis_date": diagnosis,
            "topography": topography,
            "morphology": morphology,
            "behaviour": behaviour,
            "basis_of_diagnosis": basis,
            "tnm_m": tnm_m,
            "chemotherapy": chemotherapy,
            "radiotherapy": radiotherapy,
            "_breast": topography.startswith(CODES.breast_topography) and behaviour == CODES.invasive_behaviour,
            "_metastases": [],
        }

    def morphology(self, record: dict) -> tuple[str, str | None] | None:
        """`morf`: four digits and, when given, the behaviour (a 5th digit or `/d`)."""

        def parse(text: str) -> tuple[str, str | None] | None:
            m = MORPHOLOGY.match(text.replace(" ", ""))
            return (m.group(1), m.group(2)) if m else None

        return self.read(
            record, "morphology", None, parse, "not an ICD-O-3 morphology (4 digits, optionally /behaviour)"
        )

    def behaviour(self, record: dict) -> str | None:
        """`gedrag`, else the behaviour digit of `morf`."""
        if self.get(record, "behaviour") is not None:
            return self.read(
                record,
                "behaviour",
                None,
                lambda v: v if v in BEHAVIOURS else None,
                "not an ICD-O-3 behaviour code (0 1 2 3 6 9)",
            )
        return (self.morphology(record) or (None, None))[1]

    def m_category(self, record: dict) -> str | None:
        """The record's M category: M1 if `cm` or `pm` says M1, else M0, else MX."""

        def parse(value: str) -> str | None:
            code = re.sub(r"^[CPY]*M?", "", value.strip().upper().replace(" ", ""))
            return {"0": "M0", "1": "M1"}.get(code[0], "MX") if M_CODES.match(code) else None

        problem = "not a TNM M category (0, 0(i+), 1, 1a-c, X)"
        tnm = [self.read(record, k, None, parse, problem) for k in ("cm", "pm") if self.has(k)]
        return "M1" if "M1" in tnm else "M0" if "M0" in tnm else "MX" if "MX" in tnm else None

    def treated(self, records: list[dict], key: str) -> bool | None:
        """Whether the tumour was treated so (`chemo`, `rt`) on any of its records: true when a record codes it
        given (1-8); else empty when one codes it unknown (9); else false when one codes it not given (0)."""
        if not self.has(key):
            return None

        def parse(value: str) -> str | None:
            number = to_int(value)
            return "unknown" if number == 9 else "no" if number == 0 else "yes" if number in range(1, 9) else None

        codes = {self.read(r, key, None, parse, "not a treatment code (0 no, 1-8 yes, 9 unknown)") for r in records}
        return True if "yes" in codes else None if "unknown" in codes else False if "no" in codes else None

    def metastases(self, record: dict, tumour: dict) -> None:
        incidence = tumour["diagnosis_date"]
        sites = self.numbers("metastasis_site")
        if (
            tumour["_breast"]
            and self.get(record, "metastatic_episode") == "1"
            and (self.get(record, "episode") is None or self.is_diagnosis(record))
            and not any(self.get(record, "metastasis_site", n) for n in sites)
        ):
            tumour["_metastases"].append(incidence)  # synchronous metastases (at diagnosis), sites not itemised
        for n in sites:
            site = self.topography(record, "metastasis_site", n)
            if site is None:
                continue
            if site in REGIONAL_NODES:
                self.report.drop(self.table, "tumours", "metastasis in regional lymph nodes (C77.0/.1/.3): not M")
                continue
            day, _ = self.dated(record, incidence, "metastasis_date", "metastasis_interval", n)
            if day is None:
                day = incidence
                self.approximate("metastasis without date or interval taken as synchronous (the incidence date)")
            if tumour["_breast"]:
                tumour["_metastases"].append(max(day, incidence))
            else:
                self.report.drop(self.table, "tumours", "metastasis of a tumour that is not a breast cancer")

    def drugs(self, record: dict, pid: str, tumour: dict, therapy: list[dict]) -> None:
        incidence = tumour["diagnosis_date"]
        for n in self.numbers("drug_code"):
            code = self.get(record, "drug_code", n)
            if code is None:
                continue
            match = self.matcher.by_atc(code) or self.matcher.by_name(code) or self.matcher.by_contained_name(code)
            drug = match.drug if match else re.sub(r"\s+", " ", code.strip().lower())
            start, _ = self.dated(record, incidence, "drug_start_date", "drug_start_interval", n)
            stop, stop_item = self.dated(record, incidence, "drug_stop_date", "drug_stop_interval", n)
            if start is None:
                self.report.drop(self.table, "systemic_therapy", "drug without a start date or interval")
                continue
            if stop is not None and stop < start:
                self.bad(
                    record,
                    stop_item,
                    self.get(record, stop_item, n),
                    f"the stop ({stop.isoformat()}) is before the start ({start.isoformat()}) of the same drug",
                    n,
                )
                continue
            if not tumour["_breast"]:
                tumour["last_treatment_date"] = max(filter(None, [tumour.get("last_treatment_date"), stop or start]))
                self.report.drop(
                    self.table, "systemic_therapy", "drug for another primary (kept only as that tumour's treatment)"
                )
                continue
            therapy.append(
                {"patient_id": pid, "drug": drug, "start_date": start, "end_date": stop, "setting": "unknown"}
            )

    def performance(self, record: dict, pid: str, tumour: dict, rows: list[dict]) -> None:
        if not self.has("performance_status"):
            return
        value = self.get(record, "performance_status")
        if value is None:
            return
        score = to_int(value)
        if score == 9:
            self.report.drop(self.table, "performance_status", "performance status unknown (9)")
            return
        if score is None or not 0 <= score <= 5:
            self.bad(record, "performance_status", value, "not a WHO performance status (0-5, 9 unknown)")
            return
        incidence = tumour["diagnosis_date"]
        interval = (
            self.interval(record, "performance_status_interval") if self.has("performance_status_interval") else None
        )
        day = add_days(incidence, interval)
        if day is None:
            # The status at the start of the record's episode: its first metastasis on a follow-up record.
            episode = [
                add_days(incidence, self.interval(record, "metastasis_interval", n))
                for n in self.numbers("metastasis_interval")
                if self.get(record, "metastasis_interval", n) is not None
            ]
            day = min([d for d in episode if d is not None], default=incidence)
            self.approximate("performance status dated at the start of the record's episode (no interval item)")
        rows.append({"patient_id": pid, "assessment_date": day, "scale": "WHO", "score": score})

    def response(self, record: dict, pid: str, tumour: dict, rows: list[dict]) -> None:
        value = self.get(record, "response")
        if value is None:
            return
        response = RESPONSE.get(value.strip().upper())
        if response is None:
            self.report.drop(self.table, "response_assessments", f"response code not CR/PR/SD/PD/MR/NE ({value})")
            return
        day, _ = self.dated(record, tumour["diagnosis_date"], "response_date", "response_interval")
        if day is None:
            self.report.drop(self.table, "response_assessments", "response without a date or interval")
            return
        rows.append({"patient_id": pid, "assessment_date": day, "response": response})

    # --- patients ------------------------------------------------------------------------------------------------

    def patient(self, pid: str, records: list[dict]) -> dict:
        """One patient from their records (in `patient_order`): each item from the first record giving it."""

        def settle(column: str, source: str, value_of: Callable[[dict], object]) -> object:
            return self.settle("patients", pid, column, source, [(value_of(r), r) for r in records])

        def sex_of(record: dict) -> str | None:
            return self.read(record, "sex", None, SEX.get, "not a sex code (1 man, 2 woman, 9 unknown)")

        sex = settle("sex", self.name("sex"), lambda r: sex_of(r) if sex_of(r) != "U" else None)
        if sex is None and "U" in {sex_of(r) for r in records}:
            sex = "U"
        site = next((h for h in (self.get(r, "hospital") for r in records) if h is not None), None)
        if site is None:  # site_id is required: a patient no record places at a hospital is screened, at no site
            site = UNKNOWN_SITE
            self.unplaced += 1
        birth = settle(
            "birth_date",
            self.name("birth_date"),
            lambda r: self.date(r, "birth_date") if self.has("birth_date") else None,
        )
        # Every age a record without a birth date gives is read; the latest birth date all of them allow is kept.
        ages = [self.birth_from_age(r) for r in records]
        if birth is None and any(ages):
            birth = min(day for day in ages if day is not None)
            self.approximate(
                "birth date taken as incidence date minus age (the latest birth date that age allows)", "patient"
            )
        deaths = [self.death(r) for r in records]
        return {
            "patient_id": pid,
            "site_id": site,
            "birth_date": birth,
            "sex": sex,
            "death_date": min((day for day in deaths if day is not None), default=None),
        }

    def birth_from_age(self, record: dict) -> dt.date | None:
        if not self.has("age") or (self.has("birth_date") and self.date(record, "birth_date") is not None):
            return None
        age = self.read(
            record,
            "age",
            None,
            lambda v: a if (a := to_int(v)) is not None and 0 <= a <= 120 else None,
            "not an age in years (0-120)",
        )
        return None if age is None else _years_before(self.anchor(record), age)

    def death(self, record: dict) -> dt.date | None:
        status = self.read(
            record,
            "vital_status",
            None,
            lambda v: v if v in ("0", "1") else None,
            "not a vital status code (0 alive, 1 dead)",
        )
        if status != "1":
            return None
        death, _ = self.dated(record, self.anchor(record), "vital_status_date", "vital_status_interval")
        if death is None:
            self.report.drop(
                self.table, "patients", "dead without a date or interval of vital status (death_date empty)"
            )
        return death

    def prior_malignancies(self, pid: str, records: list[dict]) -> list[dict]:
        """The earlier malignancies the patient's records list (`mal{n}_*`), each once: the same site and
        diagnosis date listed on several records (or items) is one tumour, `<patient>-mal-<site>-<date>`."""
        found: dict[tuple[str, dt.date], list[tuple[str | None, dict]]] = {}
        for record in records:
            for n in self.numbers("prior_site"):
                site = self.topography(record, "prior_site", n)
                if site is None:
                    continue
                interval = self.interval(record, "prior_interval", n) if self.has("prior_interval", n) else None
                day = add_days(self.anchor(record), -abs(interval)) if interval is not None else None
                if day is None:
                    self.report.drop(self.table, "tumours", "prior malignancy without an interval (no diagnosis date)")
                    continue
                morf = self.get(record, "prior_morphology", n) if self.has("prior_morphology", n) else None
                morphology = MORPHOLOGY.match(morf).group(1) if morf and MORPHOLOGY.match(morf) else None
                found.setdefault((site, day), []).append((morphology, record))
        tumours = []
        for (site, day), given in sorted(found.items()):
            tumour_id = f"{pid}-mal-{site}-{day.isoformat()}"
            if len(given) > 1:
                self.report.drop(
                    self.table, "tumours", "prior malignancy listed again (same site and date): merged", len(given) - 1
                )
            tumours.append(
                {
                    "tumour_id": tumour_id,
                    "patient_id": pid,
                    "diagnosis_date": day,
                    "topography": site,
                    "morphology": self.settle("tumours", tumour_id, "morphology", self.name("prior_morphology"), given),
                    "behaviour": CODES.invasive_behaviour,  # a prior malignancy
                    "_breast": False,
                    "_metastases": [],
                }
            )
        return tumours

    def lineage(self) -> None:
        i = self.name
        s = self.report.source_of
        s("patients", "patient_id", i("patient_id"))
        s("patients", "site_id", f"{i('hospital')} (hospital of diagnosis), else '{UNKNOWN_SITE}'")
        s("patients", "birth_date", f"{i('birth_date')}, else incidence date minus {i('age')} years")
        s("patients", "sex", f"{i('sex')}: 1 → M, 2 → F, 9 → U")
        s(
            "patients",
            "death_date",
            f"{i('vital_status')} = 1: {i('vital_status_date')}, else incidence + {i('vital_status_interval')} days",
        )
        s(
            "tumours",
            "tumour_id",
            f"{i('patient_id')} + '-' + {i('tumour_key')} (else + topography + '-' + incidence date); prior "
            f"malignancies {i('patient_id')} + '-mal-' + {i('prior_site')} + '-' + their diagnosis date",
        )
        s("tumours", "patient_id", i("patient_id"))
        s("tumours", "diagnosis_date", f"{i('incidence_date')}, else 1 July of {i('incidence_year')}")
        s("tumours", "topography", f"{i('topography')} (C509 → C50.9); prior malignancies {i('prior_site')}")
        s("tumours", "morphology", i("morphology"))
        s("tumours", "behaviour", f"{i('behaviour')} (else the 5th digit of {i('morphology')}, else 3)")
        s(
            "tumours",
            "basis_of_diagnosis",
            f"{i('basis')}: ENCR 0 DCO, 1/2/4 clinical, 5 cytology, 6 histology of a metastasis, 7 histology of the primary, 9 unknown",
        )
        s("tumours", "tnm_m", f"{i('cm')} / {i('pm')}: M1 if either is 1(a-c), else M0, else MX")
        s(
            "tumours",
            "metastasis_date",
            f"earliest incidence + {i('metastasis_interval')} (or {i('metastasis_date')}) over {i('metastasis_site')} outside the regional nodes; incidence date when M1 or {i('metastatic_episode')} = 1",
        )
        for column, key in (("chemotherapy", "chemotherapy"), ("radiotherapy", "radiotherapy")):
            s(
                "tumours",
                column,
                f"{i(key)} on any record of the tumour: 1-8 → true; else 9 → empty; else 0 → false",
            )
        s("tumours", "last_treatment_date", f"other primaries: latest stop (or start) of their {i('drug_code')} items")
        s("systemic_therapy", "patient_id", i("patient_id"))
        s(
            "systemic_therapy",
            "drug",
            f"{i('drug_code')}: ATC code (current or former) or drug name/alias → drugs.csv; else kept as given (a finding)",
        )
        s("systemic_therapy", "start_date", f"incidence + {i('drug_start_interval')} (or {i('drug_start_date')})")
        s(
            "systemic_therapy",
            "end_date",
            f"incidence + {i('drug_stop_interval')} (or {i('drug_stop_date')}); empty = ongoing",
        )
        s("systemic_therapy", "setting", "unknown: the screen infers it from the breast tumour's metastasis date")
        s("performance_status", "patient_id", i("patient_id"))
        s(
            "performance_status",
            "assessment_date",
            f"incidence + {i('performance_status_interval')} (else the record's first metastasis, else the incidence date)",
        )
        s("performance_status", "scale", "WHO")
        s("performance_status", "score", f"{i('performance_status')} (9 unknown: dropped)")
        s("response_assessments", "patient_id", i("patient_id"))
        s("response_assessments", "assessment_date", f"incidence + {i('response_interval')} (or {i('response_date')})")
        s("response_assessments", "response", f"{i('response')}: CR, PR, SD, PD, NE; MR (minor response) → SD")
        self.report.note(
            f"records of one tumour are merged: each tumour item comes from the first record giving it, the "
            f"diagnosis record ({i('episode')} {DIAGNOSIS_EPISODE}) before follow-up ones, then the earliest "
            f"incidence date, then the record's values; each patient item likewise, records of an invasive breast "
            f"cancer first, then diagnosis records, then the latest incidence date. Records giving another value "
            f"are listed under 'Records that disagree'."
        )
        self.report.note(
            "tumours.treatment_intent has no NKR item in this layout: it stays empty, so exc_other_malignancy is unknown "
            "for patients with another primary unless no exemption could apply."
        )


def _years_before(day: dt.date, years: int) -> dt.date | None:
    """The same day `years` earlier (28 February for 29 February); None before year 1."""
    if day.year - years < dt.MINYEAR:
        return None
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _topography(text: str) -> str | None:
    """An ICD-O-3 topography as the data model writes it (`C504` → `C50.4`), else None."""
    match = TOPOGRAPHY.match(text.replace(" ", ""))
    return f"C{match.group(1)}.{match.group(2)}" if match else None


def _shown(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _sorted_frame(table: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    """The rows as a canonical table, sorted by their values (`sorted_frame`): the order of the file's rows leaves
    no trace."""
    return sorted_frame(canonical_frame(table, rows))
