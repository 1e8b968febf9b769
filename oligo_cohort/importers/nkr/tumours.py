"""An NKR file's tumours: one per tumour key, from the records of that tumour, and the earlier malignancies the
records list (`mal{n}_*`); metastases recorded on any record date the breast cancer's first metastasis."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.importers.common import ROW, add_days, to_int
from oligo_cohort.importers.nkr.reader import NkrFile

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
REGIONAL_NODES = ("C77.0", "C77.1", "C77.3")  # supraclavicular, internal mammary, axillary: N, not M
MORPHOLOGY = re.compile(r"^(\d{4})(?:/?(\d))?$")
M_CODES = re.compile(r"^(?:0(?:\(I\+\)|\(MOL\+\))?|1[A-D]?|X|9)$")  # M after its c/p/y prefix, upper case


def tumour_order(nkr: NkrFile, record: dict) -> tuple:
    """A tumour's records: the diagnosis record (epis DIA) before follow-up ones; among records of the same
    kind the earliest incidence first, then by the record's values."""
    return (not nkr.is_diagnosis(record), nkr.incidences[record[ROW]], nkr.content(record))


def tumour_key(nkr: NkrFile, record: dict, incidence: dt.date) -> str | None:
    """`key_zid`; without it the topography and incidence date (the tumour's identity in the file): records
    sharing them are records of one tumour, as records sharing `key_zid` are."""
    key = nkr.get(record, "tumour_key")
    if key is not None:
        return key
    topography = nkr.topography(record)
    if topography is None and nkr.get(record, "topography") is None:
        nkr.bad(record, "topography", None, "not an ICD-O-3 topography (e.g. C509 or C50.9)")
    return None if topography is None else f"{topography}-{incidence.isoformat()}"


def tumour_of(nkr: NkrFile, pid: str, key: str, records: list[dict]) -> dict | None:
    """One tumour from its records (in `tumour_order`): each item from the first record giving it."""
    tumour_id = f"{pid}-{key}"
    if len(records) > 1:
        nkr.report.drop(
            nkr.table,
            "tumours",
            f"further record of a tumour (same {nkr.name('patient_id')} and {nkr.name('tumour_key')}, else the "
            "same topography and incidence date): merged, its items added",
            len(records) - 1,
        )

    def settle(column: str, source: str, value_of: Callable[[dict], object]) -> object:
        return nkr.settle("tumours", tumour_id, column, source, [(value_of(r), r) for r in records])

    topography = settle("topography", nkr.name("topography"), nkr.topography)
    if topography is None and all(nkr.get(r, "topography") is None for r in records):
        nkr.bad(records[0], "topography", None, "not an ICD-O-3 topography (e.g. C509 or C50.9)")
    diagnosis = None
    if nkr.has("incidence_date"):
        diagnosis = settle("diagnosis_date", nkr.name("incidence_date"), lambda r: nkr.date(r, "incidence_date"))
    if diagnosis is None:
        diagnosis = settle("diagnosis_date", nkr.name("incidence_year"), lambda r: nkr.incidences[r[ROW]])
        nkr.approximate("incidence date taken as 1 July of the incidence year (only the year is known)", "tumour")
    morphology = settle("morphology", nkr.name("morphology"), lambda r: (morphology_of(nkr, r) or (None, None))[0])
    behaviour = settle(
        "behaviour",
        f"{nkr.name('behaviour')}, else the 5th digit of {nkr.name('morphology')}",
        lambda r: behaviour_of(nkr, r),
    )
    if behaviour is None:
        behaviour = CODES.invasive_behaviour
        nkr.approximate("behaviour taken as 3 (malignant) where no record of the tumour gives one", "tumour")
    basis = settle(
        "basis_of_diagnosis",
        nkr.name("basis"),
        lambda r: nkr.read(r, "basis", None, BASIS.get, "not an ENCR basis-of-diagnosis code (0 1 2 4 5 6 7 9)"),
    )
    tnm_m = settle("tnm_m", f"{nkr.name('cm')} / {nkr.name('pm')}", lambda r: m_category_of(nkr, r))
    chemotherapy = treated(nkr, records, "chemotherapy")
    radiotherapy = treated(nkr, records, "radiotherapy")
    if topography is None:
        return None
    for record in records:
        nkr.anchors[record[ROW]] = diagnosis
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


def morphology_of(nkr: NkrFile, record: dict) -> tuple[str, str | None] | None:
    """`morf`: four digits and, when given, the behaviour (a 5th digit or `/d`)."""

    def parse(text: str) -> tuple[str, str | None] | None:
        m = MORPHOLOGY.match(text.replace(" ", ""))
        return (m.group(1), m.group(2)) if m else None

    return nkr.read(record, "morphology", None, parse, "not an ICD-O-3 morphology (4 digits, optionally /behaviour)")


def behaviour_of(nkr: NkrFile, record: dict) -> str | None:
    """`gedrag`, else the behaviour digit of `morf`."""
    if nkr.get(record, "behaviour") is not None:
        return nkr.read(
            record,
            "behaviour",
            None,
            lambda v: v if v in BEHAVIOURS else None,
            "not an ICD-O-3 behaviour code (0 1 2 3 6 9)",
        )
    return (morphology_of(nkr, record) or (None, None))[1]


def m_category_of(nkr: NkrFile, record: dict) -> str | None:
    """The record's M category: M1 if `cm` or `pm` says M1, else M0, else MX."""

    def parse(value: str) -> str | None:
        code = re.sub(r"^[CPY]*M?", "", value.strip().upper().replace(" ", ""))
        return {"0": "M0", "1": "M1"}.get(code[0], "MX") if M_CODES.match(code) else None

    problem = "not a TNM M category (0, 0(i+), 1, 1a-c, X)"
    tnm = [nkr.read(record, k, None, parse, problem) for k in ("cm", "pm") if nkr.has(k)]
    return "M1" if "M1" in tnm else "M0" if "M0" in tnm else "MX" if "MX" in tnm else None


def treated(nkr: NkrFile, records: list[dict], key: str) -> bool | None:
    """Whether the tumour was treated so (`chemo`, `rt`) on any of its records: true when a record codes it
    given (1-8); else empty when one codes it unknown (9); else false when one codes it not given (0)."""
    if not nkr.has(key):
        return None

    def parse(value: str) -> str | None:
        number = to_int(value)
        return "unknown" if number == 9 else "no" if number == 0 else "yes" if number in range(1, 9) else None

    codes = {nkr.read(r, key, None, parse, "not a treatment code (0 no, 1-8 yes, 9 unknown)") for r in records}
    return True if "yes" in codes else None if "unknown" in codes else False if "no" in codes else None


def metastases(nkr: NkrFile, record: dict, tumour: dict) -> None:
    incidence = tumour["diagnosis_date"]
    sites = nkr.numbers("metastasis_site")
    if (
        tumour["_breast"]
        and nkr.get(record, "metastatic_episode") == "1"
        and (nkr.get(record, "episode") is None or nkr.is_diagnosis(record))
        and not any(nkr.get(record, "metastasis_site", n) for n in sites)
    ):
        tumour["_metastases"].append(incidence)  # synchronous metastases (at diagnosis), sites not itemised
    for n in sites:
        site = nkr.topography(record, "metastasis_site", n)
        if site is None:
            continue
        if site in REGIONAL_NODES:
            nkr.report.drop(nkr.table, "tumours", "metastasis in regional lymph nodes (C77.0/.1/.3): not M")
            continue
        day, _ = nkr.dated(record, incidence, "metastasis_date", "metastasis_interval", n)
        if day is None:
            day = incidence
            nkr.approximate("metastasis without date or interval taken as synchronous (the incidence date)")
        if tumour["_breast"]:
            tumour["_metastases"].append(max(day, incidence))
        else:
            nkr.report.drop(nkr.table, "tumours", "metastasis of a tumour that is not a breast cancer")


def prior_malignancies(nkr: NkrFile, pid: str, records: list[dict]) -> list[dict]:
    """The earlier malignancies the patient's records list (`mal{n}_*`), each once: the same site and
    diagnosis date listed on several records (or items) is one tumour, `<patient>-mal-<site>-<date>`."""
    found: dict[tuple[str, dt.date], list[tuple[str | None, dict]]] = {}
    for record in records:
        for n in nkr.numbers("prior_site"):
            site = nkr.topography(record, "prior_site", n)
            if site is None:
                continue
            interval = nkr.interval(record, "prior_interval", n) if nkr.has("prior_interval", n) else None
            day = add_days(nkr.anchor(record), -abs(interval)) if interval is not None else None
            if day is None:
                nkr.report.drop(nkr.table, "tumours", "prior malignancy without an interval (no diagnosis date)")
                continue
            morf = nkr.get(record, "prior_morphology", n) if nkr.has("prior_morphology", n) else None
            morphology = MORPHOLOGY.match(morf).group(1) if morf and MORPHOLOGY.match(morf) else None
            found.setdefault((site, day), []).append((morphology, record))
    tumours = []
    for (site, day), given in sorted(found.items()):
        tumour_id = f"{pid}-mal-{site}-{day.isoformat()}"
        if len(given) > 1:
            nkr.report.drop(
                nkr.table, "tumours", "prior malignancy listed again (same site and date): merged", len(given) - 1
            )
        tumours.append(
            {
                "tumour_id": tumour_id,
                "patient_id": pid,
                "diagnosis_date": day,
                "topography": site,
                "morphology": nkr.settle("tumours", tumour_id, "morphology", nkr.name("prior_morphology"), given),
                "behaviour": CODES.invasive_behaviour,  # a prior malignancy
                "_breast": False,
                "_metastases": [],
            }
        )
    return tumours
