"""A Netherlands Cancer Registry (NKR, IKNL)–style flat file → the canonical extract.

One row per tumour record, with the registry's item names (`key_nkr`,
`gesl`, `incdat`/`incjr`, `topo_sublok`, `morf`, `gedrag`, `diag_basis`,
`cm`/`pm`, `meta_topo_sublok1..`, `meta_int1..`, `syst_code1..`,
`syst_start_int1..`/`syst_stop_int1..`, `perf_stat`, `respons_uitslag`/
`respons_int`, ...). Intervals (`*_int`) are days from the incidence date, as
IKNL delivers them. Every item name can be changed with an item map (YAML or
CSV: key → column name), so a differently named extract reads without code
changes. docs/importers.md documents every item and code.
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
    DrugMatcher,
    SourceProblems,
    add_days,
    canonical_frame,
    parse_date,
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
        self.approx: dict[str, int] = {}
        self.cells: dict[tuple[int, str], object] = {}  # (row, item) → the value read, each cell read once

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

    def approximate(self, what: str) -> None:
        self.approx[what] = self.approx.get(what, 0) + 1

    # --- mapping ---------------------------------------------------------------------------------------------

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
        patients: dict[str, dict] = {}
        tumours: dict[tuple[str, str], dict] = {}
        therapy: list[dict] = []
        ps: list[dict] = []
        responses: list[dict] = []
        for record in self.frame.to_dict("records"):
            pid = self.get(record, "patient_id")
            if pid is None:
                self.bad(record, "patient_id", None, "the patient key is missing")
                continue
            incidence = self.incidence(record)
            if incidence is None:
                continue
            self.patient(record, pid, incidence, patients)
            tumour = self.tumour(record, pid, incidence, tumours)
            if tumour is None:
                continue
            self.metastases(record, incidence, tumour)
            self.drugs(record, pid, incidence, tumour, therapy)
            self.performance(record, pid, incidence, tumour, ps)
            self.response(record, pid, incidence, responses)
            self.prior_malignancies(record, pid, incidence, tumours)
        for tumour in tumours.values():
            dates = tumour.pop("_metastases", [])
            if tumour.get("tnm_m") == "M1":
                dates.append(tumour["diagnosis_date"])
            breast = tumour.pop("_breast", False)
            tumour["metastasis_date"] = min(dates) if dates and breast else None
        self.lineage()
        for what, n in self.approx.items():
            self.report.note(f"approximate: {what} for {n} record(s)")
        frames = {
            "patients": canonical_frame("patients", list(patients.values())),
            "tumours": canonical_frame("tumours", list(tumours.values())),
            "systemic_therapy": canonical_frame("systemic_therapy", therapy),
        }
        if self.has("performance_status"):
            frames["performance_status"] = canonical_frame("performance_status", ps)
        if self.has("response"):
            frames["response_assessments"] = canonical_frame("response_assessments", responses)
        self.report.note(
            "imaging, lesions and observations have no NKR source: imaging and lesions are written empty (give them with "
            "--imaging DIR); observations is not written."
        )
        return frames

    def incidence(self, record: dict) -> dt.date | None:
        day = self.date(record, "incidence_date") if self.has("incidence_date") else None
        if day is not None:
            return day
        year_text = self.get(record, "incidence_year") if self.has("incidence_year") else None
        year = to_int(year_text)
        if year is None or not 1900 <= year <= 2100:
            if self.get(record, "incidence_date") is None:
                self.bad(record, "incidence_year", year_text, "no incidence date, and the incidence year is not a year")
            return None
        self.approximate("incidence date taken as 1 July of the incidence year (only the year is known)")
        return dt.date(year, 7, 1)

    def patient(self, record: dict, pid: str, incidence: dt.date, patients: dict[str, dict]) -> None:
        row = patients.setdefault(
            pid, {"patient_id": pid, "site_id": None, "birth_date": None, "sex": None, "death_date": None}
        )
        sex = self.get(record, "sex")
        if sex is not None:
            if sex not in SEX:
                self.bad(record, "sex", sex, "not a sex code (1 man, 2 woman, 9 unknown)")
            elif row["sex"] is None:
                row["sex"] = SEX[sex]
        row["site_id"] = row["site_id"] or self.get(record, "hospital")
        if row["birth_date"] is None:
            birth = self.date(record, "birth_date") if self.has("birth_date") else None
            age_text = self.get(record, "age") if self.has("age") else None
            age = to_int(age_text)
            if birth is None and age_text is not None:
                if age is None or not 0 <= age <= 120:
                    self.bad(record, "age", self.get(record, "age"), "not an age in years (0-120)")
                else:
                    birth = _years_before(incidence, age)
                    self.approximate(
                        "birth date taken as incidence date minus age (the latest birth date that age allows)"
                    )
            row["birth_date"] = birth
        status = self.get(record, "vital_status")
        if status is not None and status not in ("0", "1"):
            self.bad(record, "vital_status", status, "not a vital status code (0 alive, 1 dead)")
        elif status == "1":
            death = (self.date(record, "vital_status_date") if self.has("vital_status_date") else None) or add_days(
                incidence, self.interval(record, "vital_status_interval") if self.has("vital_status_interval") else None
            )
            if death is None:
                self.report.drop(
                    self.table, "patients", "dead without a date or interval of vital status (death_date empty)"
                )
            elif row["death_date"] is None or death < row["death_date"]:
                row["death_date"] = death

    def tumour(self, record: dict, pid: str, incidence: dt.date, tumours: dict) -> dict | None:
        key = self.get(record, "tumour_key") or f"r{record[ROW]}"
        existing = tumours.get((pid, key))
        if existing is not None:  # a follow-up record (e.g. epis VERB) of a tumour already read
            self.report.drop(self.table, "tumours", "follow-up record of a tumour already mapped (its items are added)")
            return existing
        topography_text = self.get(record, "topography")
        match = TOPOGRAPHY.match((topography_text or "").replace(" ", ""))
        if not match:
            self.bad(record, "topography", topography_text, "not an ICD-O-3 topography (e.g. C509 or C50.9)")
            return None
        topography = f"C{match.group(1)}.{match.group(2)}"
        morphology, behaviour = None, None
        morf = self.get(record, "morphology")
        if morf is not None:
            m = MORPHOLOGY.match(morf.replace(" ", ""))
            if not m:
                self.bad(record, "morphology", morf, "not an ICD-O-3 morphology (4 digits, optionally /behaviour)")
            else:
                morphology, behaviour = m.group(1), m.group(2)
        gedrag = self.get(record, "behaviour")
        if gedrag is not None:
            if gedrag not in BEHAVIOURS:
                self.bad(record, "behaviour", gedrag, "not an ICD-O-3 behaviour code (0 1 2 3 6 9)")
            behaviour = gedrag
        if behaviour is None:
            behaviour = CODES.invasive_behaviour
            self.approximate("behaviour taken as 3 (malignant) where the record gives none")
        basis_code = self.get(record, "basis")
        basis = None
        if basis_code is not None:
            basis = BASIS.get(basis_code)
            if basis is None:
                self.bad(record, "basis", basis_code, "not an ENCR basis-of-diagnosis code (0 1 2 4 5 6 7 9)")
        tnm = [self.m_category(record, k) for k in ("cm", "pm") if self.has(k)]
        tnm_m = "M1" if "M1" in tnm else "M0" if "M0" in tnm else "MX" if "MX" in tnm else None
        breast = topography.startswith(CODES.breast_topography) and behaviour == CODES.invasive_behaviour
        tumour = {
            "tumour_id": f"{pid}-{key}",
            "patient_id": pid,
            "diagnosis_date": incidence,
            "topography": topography,
            "morphology": morphology,
            "behaviour": behaviour,
            "basis_of_diagnosis": basis,
            "tnm_m": tnm_m,
            "chemotherapy": self.flag(record, "chemotherapy"),
            "radiotherapy": self.flag(record, "radiotherapy"),
            "_breast": breast,
            "_metastases": [],
        }
        if (
            breast
            and self.get(record, "metastatic_episode") == "1"
            and not any(self.get(record, "metastasis_site", n) for n in self.numbers("metastasis_site"))
        ):
            tumour["_metastases"].append(incidence)  # synchronous metastases, sites not itemised
        tumours[(pid, key)] = tumour
        return tumour

    def m_category(self, record: dict, key: str) -> str | None:
        value = self.get(record, key)
        if value is None:
            return None
        code = re.sub(r"^[CPY]*M?", "", value.strip().upper().replace(" ", ""))
        if M_CODES.match(code):
            return {"0": "M0", "1": "M1"}.get(code[0], "MX")
        self.bad(record, key, value, "not a TNM M category (0, 0(i+), 1, 1a-c, X)")
        return None

    def flag(self, record: dict, key: str) -> bool | None:
        if not self.has(key):
            return None
        value = self.get(record, key)
        if value is None or value == "9":
            return None
        number = to_int(value)
        if number is None or not 0 <= number <= 8:
            self.bad(record, key, value, "not a treatment code (0 no, 1-8 yes, 9 unknown)")
            return None
        return number > 0

    def metastases(self, record: dict, incidence: dt.date, tumour: dict) -> None:
        for n in self.numbers("metastasis_site"):
            site = self.get(record, "metastasis_site", n)
            if site is None:
                continue
            m = TOPOGRAPHY.match(site.replace(" ", ""))
            if not m:
                self.bad(record, "metastasis_site", site, "not an ICD-O-3 topography", n)
                continue
            if f"C{m.group(1)}.{m.group(2)}" in REGIONAL_NODES:
                self.report.drop(self.table, "tumours", "metastasis in regional lymph nodes (C77.0/.1/.3): not M")
                continue
            day = self.date(record, "metastasis_date", n) if self.has("metastasis_date", n) else None
            if day is None:
                interval = (
                    self.interval(record, "metastasis_interval", n) if self.has("metastasis_interval", n) else None
                )
                day = add_days(incidence, interval)
                if day is None:
                    day = incidence
                    self.approximate("metastasis without date or interval taken as synchronous (the incidence date)")
            if tumour["_breast"]:
                tumour["_metastases"].append(max(day, incidence))
            else:
                self.report.drop(self.table, "tumours", "metastasis of a tumour that is not a breast cancer")

    def drugs(self, record: dict, pid: str, incidence: dt.date, tumour: dict, therapy: list[dict]) -> None:
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

    def performance(self, record: dict, pid: str, incidence: dt.date, tumour: dict, rows: list[dict]) -> None:
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

    def response(self, record: dict, pid: str, incidence: dt.date, rows: list[dict]) -> None:
        value = self.get(record, "response")
        if value is None:
            return
        response = RESPONSE.get(value.strip().upper())
        if response is None:
            self.report.drop(self.table, "response_assessments", f"response code not CR/PR/SD/PD/MR/NE ({value})")
            return
        day = (self.date(record, "response_date") if self.has("response_date") else None) or add_days(
            incidence, self.interval(record, "response_interval") if self.has("response_interval") else None
        )
        if day is None:
            self.report.drop(self.table, "response_assessments", "response without a date or interval")
            return
        rows.append({"patient_id": pid, "assessment_date": day, "response": response})

    def prior_malignancies(self, record: dict, pid: str, incidence: dt.date, tumours: dict) -> None:
        for n in self.numbers("prior_site"):
            site = self.get(record, "prior_site", n)
            if site is None:
                continue
            m = TOPOGRAPHY.match(site.replace(" ", ""))
            if not m:
                self.bad(record, "prior_site", site, "not an ICD-O-3 topography", n)
                continue
            interval = self.interval(record, "prior_interval", n) if self.has("prior_interval", n) else None
            if interval is None:
                self.report.drop(self.table, "tumours", "prior malignancy without an interval (no diagnosis date)")
                continue
            morf = self.get(record, "prior_morphology", n) if self.has("prior_morphology", n) else None
            morphology = MORPHOLOGY.match(morf).group(1) if morf and MORPHOLOGY.match(morf) else None
            key = f"mal{n}-r{record[ROW]}"
            tumours[(pid, key)] = {
                "tumour_id": f"{pid}-{key}",
                "patient_id": pid,
                "diagnosis_date": add_days(incidence, -abs(interval)),
                "topography": f"C{m.group(1)}.{m.group(2)}",
                "morphology": morphology,
                "behaviour": CODES.invasive_behaviour,  # a prior malignancy
                "_breast": False,
                "_metastases": [],
            }

    def lineage(self) -> None:
        i = self.name
        s = self.report.source_of
        s("patients", "patient_id", i("patient_id"))
        s("patients", "site_id", f"{i('hospital')} (hospital of diagnosis), else 'unknown'")
        s("patients", "birth_date", f"{i('birth_date')}, else incidence date minus {i('age')} years")
        s("patients", "sex", f"{i('sex')}: 1 → M, 2 → F, 9 → U")
        s(
            "patients",
            "death_date",
            f"{i('vital_status')} = 1: {i('vital_status_date')}, else incidence + {i('vital_status_interval')} days",
        )
        s("tumours", "tumour_id", f"{i('patient_id')} + '-' + {i('tumour_key')} (else the row number)")
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
        s("tumours", "chemotherapy", f"{i('chemotherapy')}: 0 → false, 1-8 → true, 9 → empty")
        s("tumours", "radiotherapy", f"{i('radiotherapy')}: 0 → false, 1-8 → true, 9 → empty")
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
