"""Hypothesis strategies for small registry extracts that stress the edges of the COSMO rules.

Every generated patient is the spec tests' baseline patient (tests/spec/baseline.py:
first-line letrozole + palbociclib, a reference CT before the line, a liver
lesion growing on the screening CT `S`, a confirmation PET at S + 42, stable
disease, PS 0, consent) moved in time and perturbed: each choice below lists
the baseline's value first, so that hypothesis shrinks a failing patient back
towards the baseline and the smallest failing extract differs from it only in
what matters. The perturbations sit on the rules' edges: sizes at +20 % exactly
and at the 15 mm floor, SUV at the increase exactly, reference windows at
−60/−61 and +30/+31 days, 6 months on the line to the day (month ends
included), the imaging window S + 46 / S + 52, the PET window S + 35 / S + 49,
age 18 to the day, performance-status boundaries, the 5-year exemption, dates
on and around the cut-off, missing values in every optional column, absent
optional tables and columns, overlapping and restarted therapy episodes,
regimen changes and substitutions, lesions appearing and disappearing, several
scans per patient and same-day ties.

A generated extract holds several patients (loading dominates the cost of a
screen); ids are prefixed with the patient id so that patients stay apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd
from hypothesis import strategies as st

from oligo_cohort.dictionary import tables as model_tables
from oligo_cohort.protocol import Protocol, load_protocol

OPTIONAL_TABLES = ("response_assessments", "performance_status", "observations")
# Optional columns an extract may leave out altogether (read as missing, with a finding).
DROPPABLE_COLUMNS = (
    ("patients", "birth_date"),
    ("patients", "death_date"),
    ("tumours", "morphology"),
    ("tumours", "basis_of_diagnosis"),
    ("tumours", "tnm_m"),
    ("tumours", "metastasis_date"),
    ("tumours", "last_treatment_date"),
    ("systemic_therapy", "end_date"),
    ("systemic_therapy", "setting"),
    ("lesions", "size_mm"),
    ("lesions", "suv_max"),
    ("observations", "end_date"),
)
# Nominal cut-offs: the baseline's, month ends, a leap day, and 2 March 2022 (R = 1 March for a 29 February birthday).
ANCHORS = ("2023-04-20", "2023-08-31", "2024-02-29", "2022-03-02", "2024-03-01", "2023-01-31")
# (protocol, parameter overrides); the default protocol first.
PROTOCOLS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("cosmo", ()),
    ("cosmo-earlier-amendment", ()),
    ("cosmo", (("reference", "nadir"),)),
    ("cosmo", (("suv_increase_pct", "30"), ("size_increase_pct", "25"))),
    ("cosmo", (("size_floor_mm", "10"),)),
    ("cosmo", (("max_progressive_distant_lesions", "3"), ("max_progressive_organs", "2"))),
    ("cosmo", (("regimen_window_days", "14"), ("line_gap_days", "60"), ("line_end_grace_days", "0"))),
    ("cosmo-earlier-amendment", (("reference", "nadir"),)),
)
ID_COLUMNS = ("tumour_id", "study_id")
# Every observation code the data model allows (so a code it gains, such as medical_risk, is generated too).
OBSERVATION_CODES = model_tables()["observations"].column("code").values


def day(date: dt.date, days: int) -> dt.date:
    return date + dt.timedelta(days=days)


def add_months(date: dt.date, months: int) -> dt.date:
    """Calendar months, clamped at month end (decisions D3)."""
    index = date.year * 12 + date.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(date.day, _month_length(year, month + 1)))


def _month_length(year: int, month: int) -> int:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return (following - dt.timedelta(days=1)).day


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


@dataclass
class Story:
    """One patient's rows; `tumour_id` and `study_id` values are suffixes, prefixed with the patient id later."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {name: [] for name in model_tables()})

    def add(self, table: str, **values: Any) -> None:
        self.rows[table].append(values)


@dataclass
class GeneratedExtract:
    """A generated extract: tables of strings (None = absent table), cut-off, protocol, worklist mode."""

    tables: dict[str, pd.DataFrame | None]
    as_of: str | None
    protocol_name: str
    overrides: tuple[tuple[str, str], ...]
    worklist: bool

    def source(self) -> dict[str, pd.DataFrame]:
        return {name: frame for name, frame in self.tables.items() if frame is not None}

    def protocol(self) -> Protocol:
        chosen = load_protocol(self.protocol_name)
        return chosen.with_overrides(dict(self.overrides)) if self.overrides else chosen

    def only(self, patient_ids: set[str]) -> GeneratedExtract:
        """The same extract restricted to some patients."""
        kept = {
            name: None if frame is None else frame[frame["patient_id"].isin(patient_ids)].reset_index(drop=True)
            for name, frame in self.tables.items()
        }
        return GeneratedExtract(kept, self.as_of, self.protocol_name, self.overrides, self.worklist)

    def as_spec_case(self) -> str:
        """The extract as a `screen_case(...)` call of tests/spec, every table a pipe table."""
        if self.overrides:
            protocol = f"load_protocol({self.protocol_name!r}).with_overrides({dict(self.overrides)!r})"
        else:
            protocol = repr(self.protocol_name)
        lines = [
            "screen_case(",
            "    engine,",
            f"    as_of={self.as_of!r},",
            f"    protocol={protocol},",
            f"    worklist={self.worklist},",
        ]
        for name, frame in self.tables.items():
            if frame is None:
                lines.append(f"    {name}=None,")
            else:
                lines.append(f'    {name}=table("""')
                lines.extend("        " + line for line in pipe_table(frame).splitlines())
                lines.append('    """),')
        lines.append(")")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return "\n" + self.as_spec_case()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis prints a falsifying example with this: the extract as a spec case."""
        printer.text(repr(self))


def pipe_table(frame: pd.DataFrame) -> str:
    """A DataFrame of strings in the notation of tests/spec/tables.py (blank cell = missing), columns aligned."""
    header = [str(c) for c in frame.columns]
    body = [
        ["" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v) for v in row]
        for row in frame.itertuples(index=False)
    ]
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(header)]

    def render(cells: list[str]) -> str:
        return " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join(render(cells) for cells in [header, *body])


# --- one patient -------------------------------------------------------------------------------------------

BASELINE_REGIMEN = ("letrozole", "palbociclib")
REGIMENS = (
    BASELINE_REGIMEN,
    ("paclitaxel",),
    ("pertuzumab", "trastuzumab", "docetaxel"),
    ("pertuzumab+trastuzumab", "docetaxel"),
    ("capecitabine",),
    ("experimentalumab",),  # not in the vocabulary
    ("denosumab", "letrozole"),  # a supportive drug beside the line
    ("fulvestrant", "abemaciclib"),
    ("Abraxane", "atezolizumab"),  # an alias, case-insensitive
)
# Drugs of later or earlier episodes: regimen members, substitutes, switches, supportive, unknown.
EXTRA_DRUGS = (
    "letrozole",
    "palbociclib",
    "fulvestrant",
    "nab-paclitaxel",
    "paclitaxel",
    "trastuzumab",
    "pertuzumab+trastuzumab",
    "fluorouracil",
    "capecitabine",
    "carboplatin",
    "cisplatin",
    "tamoxifen",
    "denosumab",
    "goserelin",
    "everolimus",
    "exemestane",
    "experimentalumab",
)
PRIOR_DRUGS = ("eribulin", "capecitabine", "tamoxifen")
SETTINGS = ("metastatic", None, "unknown", "adjuvant", "neoadjuvant")
# (location, organ): the baseline liver lesion first.
SITES = (
    ("distant", "liver"),
    ("distant", "lung"),
    ("distant", "bone"),
    ("primary", "breast"),
    ("locoregional_node", "axillary_node"),
    ("distant", "liver"),
    ("distant", "brain"),
)
D = Decimal


def _size_on_s(ref: Decimal | None, rule: str) -> Decimal | None:
    """The size on S relative to the reference size, at the rule's edges."""
    if rule == "none":
        return None
    base = ref if ref is not None else D(20)
    return {
        "+50%": base * D("1.5"),
        "+20%": base * D("1.2"),
        "+20%-": base * D("1.2") - D("0.001"),
        "+20%+": base * D("1.2") + D("0.001"),
        "+5mm": base + 5,
        "floor": D(15),
        "floor+": D("15.001"),
        "same": base,
        "half": base / 2,
        "+25%": base * D("1.25"),
        "+25%-": base * D("1.25") - D("0.001"),
    }[rule]


def _suv_on_s(ref: Decimal | None, rule: str) -> Decimal | None:
    if rule == "none":
        return None
    base = ref if ref is not None else D(5)
    return {
        "+30%": base * D("1.3"),
        "+20%": base * D("1.2"),
        "+20%-": base * D("1.2") - D("0.001"),
        "+30%-": base * D("1.3") - D("0.001"),
        "same": base,
    }[rule]


# How often each choice keeps the baseline's value: enough perturbation to reach every outcome, little enough
# that most patients still reach the criteria beyond the first failing one.
KEEP_BASELINE_PCT = 75
SIZE_RULES = ("+50%", "+20%", "+20%-", "+20%+", "+5mm", "floor", "floor+", "same", "half", "+25%", "+25%-", "none")
SUV_RULES = ("+30%", "+20%", "+20%-", "+30%-", "same", "none")


@st.composite
def patient_story(draw: st.DrawFn, anchor: dt.date) -> Story:
    story = Story()

    def pick(options: tuple[Any, ...] | list[Any]) -> Any:
        """Mostly the baseline's value (the first option), else any option; shrinks to the baseline's."""
        return options[0] if draw(st.integers(0, 99)) < KEEP_BASELINE_PCT else draw(st.sampled_from(options))

    def any_of(options: tuple[Any, ...] | list[Any]) -> Any:
        return draw(st.sampled_from(options))

    # Time: S relative to the nominal cut-off, the line start relative to S.
    s = day(anchor, -pick((50, 49, 48, 51, 52, 53, 46, 45, 35, 34, 42, 0, 1, 120, 400, -1)))
    r = day(s, 49)
    six_months_back = add_months(s, -6)
    line = pick(
        (
            day(s, -422),
            six_months_back,
            day(six_months_back, 1),
            day(six_months_back, -1),
            day(six_months_back.replace(day=1), _month_length(six_months_back.year, six_months_back.month) - 1),
            day(s, -31),
            day(s, -30),
            day(s, -1000),
        )
    )

    # Patient.
    eighteen = add_months(r, -12 * 18)
    leap_birthday = dt.date(r.year - 18, 2, 29) if _month_length(r.year - 18, 2) == 29 else eighteen
    birth = pick((dt.date(1965, 3, 15), eighteen, day(eighteen, 1), day(eighteen, -1), None, leap_birthday))
    death = pick((None, day(s, 45), day(s, 46), day(s, 47), day(s, -5), day(anchor, 100), day(s, 70)))
    story.add(
        "patients", site_id=pick(("AVL", "UMCG")), birth_date=birth, sex=pick(("F", None, "M", "U")), death_date=death
    )

    # The breast tumour (and perhaps a second one), other primaries.
    prior_lines = pick((0, 1, 2, 3))  # earlier metastatic lines, 200 days each, before the line of S
    diagnosis = pick((day(line, -33 - 200 * prior_lines), day(s, -3000), line, day(s, 1), day(s, -30)))
    tnm_m = pick(("M1", "M0", "MX", None))
    metastasis = pick((None, day(line, -5), s, day(s, 1), diagnosis, day(line, 10), day(anchor, 5)))
    story.add(
        "tumours",
        tumour_id="T1",
        diagnosis_date=diagnosis,
        topography=pick(("C50.4", "C50.9", "c504")),
        morphology=pick(("8500", "8520", None)),
        behaviour=pick(("3", "3", "2")),
        basis_of_diagnosis=pick(("histology_primary", "histology_metastasis", "cytology", None, "unknown", "clinical")),
        tnm_m=tnm_m,
        metastasis_date=metastasis,
    )
    second = pick((None, "same day", "later", "after S"))
    if second is not None:
        diagnosed = {"same day": diagnosis, "later": day(s, -100), "after S": day(s, 1)}[second]
        story.add(
            "tumours",
            tumour_id=any_of(("T0", "T2")),
            diagnosis_date=diagnosed,
            topography="C50.2",
            morphology="8500",
            behaviour="3",
            basis_of_diagnosis=any_of(("cytology", "histology_primary", None)),
            tnm_m=any_of(("M0", "M1", None)),
            metastasis_date=any_of((None, day(line, -5), day(s, 1))),
        )
    five_years = add_months(r, -60)
    for number in range(pick((0, 1, 2))):
        story.add(
            "tumours",
            tumour_id=f"X{number}",
            diagnosis_date=any_of((day(r, -3000), r, day(r, 1), day(s, -10), day(five_years, -400))),
            topography=any_of(("C18.7", "C44.5", "C34.1", "C44.3")),
            morphology=any_of(("8140", "8090", "8050", "8098", "8084", "8085", "8099", None)),
            behaviour=any_of(("3", "2")),
            treatment_intent=any_of(("curative", None, "unknown", "palliative", "none")),
            chemotherapy=any_of((False, True, None)),
            radiotherapy=any_of((False, True, None)),
            last_treatment_date=any_of((five_years, day(five_years, 1), day(five_years, -1), None, day(r, -100))),
        )

    # Systemic therapy: the line's regimen, then extra episodes around it.
    regimen = pick(REGIMENS)
    ends = []
    for index, drug in enumerate(regimen):
        start = line if index == 0 else day(line, pick((0, 28, 29, 27, 14)))
        end = pick((None, day(s, -31), day(s, -30), day(s, -29), day(s, 10), day(line, 60), day(anchor, 10)))
        if end is not None and end < start:
            end = start
        ends.append(end)
        story.add("systemic_therapy", drug=drug, start_date=start, end_date=end, setting=pick(SETTINGS[:3]))
    for number in range(prior_lines):
        start = day(line, -200 * (number + 1))
        end = any_of((day(start, 150), day(start, 199), day(start, 200), None))
        story.add("systemic_therapy", drug=PRIOR_DRUGS[number], start_date=start, end_date=end, setting="metastatic")
    for _ in range(pick((0, 1, 2, 3))):
        kind = any_of(("episode", "restart"))
        drug = any_of((*regimen, *EXTRA_DRUGS))
        if kind == "restart" and all(e is not None for e in ends):
            start = day(max(ends), any_of((121, 120, 119, 1, 0, 60, 61)))
        else:
            to_s = (s - line).days
            start = day(line, any_of((-400, -200, -121, -30, -1, 0, 1, 27, 28, 29, 100, to_s - 10, to_s, to_s + 1)))
        length = any_of((None, 0, 30, 90, 119, 120, 400))
        story.add(
            "systemic_therapy",
            drug=drug,
            start_date=start,
            end_date=None if length is None else day(start, length),
            setting=pick(SETTINGS),
        )

    # Imaging: reference(s), S, other scans, confirmation PET(s).
    studies: list[tuple[str, dt.date, str, str]] = []  # (id suffix, date, modality, role)
    ref_date = day(line, pick((-14, -60, -61, 0, 30, 31, -100)))
    ref_modality = pick(("CT", "MRI", "FDG-PET-CT", "bone_scan"))
    studies.append(("ref", ref_date, ref_modality, "ref"))
    extra_ref = pick((None, "tie", "other modality", "earlier"))
    if extra_ref == "tie":
        studies.append((any_of(("ref0", "rf")), ref_date, ref_modality, "ref"))
    elif extra_ref == "other modality":
        studies.append(("ref2", ref_date, any_of(("CT", "FDG-PET-CT", "MRI")), "ref"))
    elif extra_ref == "earlier":
        studies.append(("ref2", day(ref_date, -20), any_of(("CT", "FDG-PET-CT")), "ref"))
    s_modality = pick(("CT", "FDG-PET-CT", "MRI"))
    studies.append(("S", s, s_modality, "S"))
    for number in range(pick((0, 1, 2, 3))):
        offset = any_of((-90, -1, 0, 20, (line - s).days + 30, (line - s).days + 31, -200))
        scan_id = any_of((f"a{number}", f"z{number}"))
        studies.append((scan_id, day(s, offset), any_of((s_modality, "CT", "FDG-PET-CT")), "scan"))
    pets = [42]
    if pick((False, True)):
        pets = draw(st.lists(st.sampled_from((42, 35, 34, 49, 50, 41)), max_size=2, unique=True))
    for number, offset in enumerate(pets):
        studies.append((f"pet{number}", day(s, offset), "FDG-PET-CT", "pet"))
    for suffix, date, modality, _ in studies:
        story.add("imaging", study_id=suffix, study_date=date, modality=modality)

    # Lesions: tracks followed across the studies, appearing and disappearing.
    for number in range(1 + pick((0, 1, 2, 3))):
        location, organ = SITES[0] if number == 0 else any_of(SITES)
        ref_size = pick((D(20), D("12.5"), D(25), D(10), None, "absent"))
        size_s = _size_on_s(None if ref_size == "absent" else ref_size, pick(SIZE_RULES))
        ref_suv = pick((None, D(5), D("2.5")))
        suv_s = _suv_on_s(ref_suv, pick(SUV_RULES))
        on_s = pick((True, False))
        for suffix, _, modality, role in studies:
            if role == "ref":
                if ref_size == "absent":
                    continue
                size, suv = ref_size, ref_suv if modality == "FDG-PET-CT" else None
                if suffix != "ref" and pick(("same", "absent", "other")) != "same":
                    continue
            elif role == "S":
                if not on_s:
                    continue
                size, suv = size_s, suv_s if modality == "FDG-PET-CT" else None
            else:
                choice = pick(("like S", "absent", "like ref", "missing"))
                if choice == "absent":
                    continue
                size = {"like S": size_s, "like ref": None if ref_size == "absent" else ref_size, "missing": None}[
                    choice
                ]
                suv = pick((suv_s, D("9.5"), ref_suv, None)) if modality == "FDG-PET-CT" else None
            story.add(
                "lesions",
                study_id=suffix,
                lesion_id=f"L{number + 1}",
                location=location,
                organ=organ,
                size_mm=size,
                suv_max=suv,
            )

    # Responses: the baseline's two, then others around the line start and S.
    to_s = (s - line).days
    offsets = [offset for offset in (163, 346) if pick((True, False))]
    offsets += [any_of((0, 1, to_s - 1, to_s, to_s + 1, 163)) for _ in range(pick((0, 1, 2)))]
    for offset in offsets:
        response = pick(("SD", "PR", "CR", "PD", "NE"))
        story.add("response_assessments", assessment_date=day(line, offset), response=response)

    # Performance status: the baseline's ECOG 0 at S - 9, then others at the window's edges.
    for number in range(pick((1, 0, 2))):
        scale = pick(("ECOG", "WHO", "KPS"))
        score = pick((0, 1, 2, 5)) if scale != "KPS" else any_of((80, 70, 60, 65, 75, 100, 90))
        date = day(s, -9 if number == 0 and pick((True, False)) else any_of((-9, -60, -61, 0, 49, 50)))
        story.add("performance_status", assessment_date=date, scale=scale, score=score)

    # Observations: the baseline's amenability (S + 7) and consent (S + 21), then others around S and R.
    observed = [("lat_amenable", 7), ("informed_consent", 21)]
    observed = [(code, offset) for code, offset in observed if pick((True, False))]
    observed += [(any_of(OBSERVATION_CODES), any_of((7, 21, 49, 50, -100, 0, -1))) for _ in range(pick((0, 1, 2)))]
    for code, offset in observed:
        start = day(s, pick((offset, 49, 50, -1)))
        end = any_of((None, day(s, -1), s, day(s, 30))) if code in ("pregnant", "breastfeeding") else None
        if end is not None and end < start:
            end = None
        story.add("observations", code=code, start_date=start, end_date=end, value=pick((True, False)))
    return story


@st.composite
def extracts(draw: st.DrawFn, max_patients: int = 24) -> GeneratedExtract:
    """An extract of 1 to `max_patients` perturbed baseline patients, with cut-off, protocol and mode."""
    anchor = dt.date.fromisoformat(draw(st.sampled_from(ANCHORS)))
    # Three lists, so that an extract holds about a dozen patients (loading dominates the cost), each of
    # which hypothesis can still shrink away.
    third = max(1, max_patients // 3)
    stories = [
        *draw(st.lists(patient_story(anchor), min_size=1, max_size=third)),
        *draw(st.lists(patient_story(anchor), max_size=third)),
        *draw(st.lists(patient_story(anchor), max_size=max_patients - 2 * third)),
    ]
    absent = {name for name in OPTIONAL_TABLES if draw(st.integers(0, 4)) == 4}
    dropped = []
    if draw(st.integers(0, 4)) == 4:
        dropped = draw(st.lists(st.sampled_from(DROPPABLE_COLUMNS), min_size=1, max_size=2, unique=True))
    protocol_name, overrides = PROTOCOLS[0] if draw(st.integers(0, 1)) == 0 else draw(st.sampled_from(PROTOCOLS))
    as_of = None if draw(st.integers(0, 4)) == 4 else anchor.isoformat()
    worklist = draw(st.booleans())
    tables: dict[str, pd.DataFrame | None] = {}
    for name, table in model_tables().items():
        if name in absent:
            tables[name] = None
            continue
        rows = []
        for number, story in enumerate(stories, start=1):
            pid = f"p{number}"
            for row in story.rows[name]:
                full = {"patient_id": pid, **row}
                for column in ID_COLUMNS:
                    if column in full:
                        full[column] = f"{pid}-{full[column]}"
                rows.append(full)
        columns = [c for c in table.column_names if (name, c) not in dropped]
        frame = pd.DataFrame([[_text(row.get(c)) for c in columns] for row in rows], columns=columns, dtype=object)
        tables[name] = frame.where(frame.notna(), None)
    return GeneratedExtract(tables, as_of, protocol_name, overrides, worklist)


def baseline_patient(name: str, **replaced: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The spec tests' baseline patient renamed `name` (tumour and study ids prefixed), some tables replaced."""
    from tests.spec.harness import build_case  # the spec tests' tables, only for hand-written variants

    tables = {key: frame.copy() for key, frame in build_case(**replaced).source().items()}
    for frame in tables.values():
        frame["patient_id"] = name
        for column in ID_COLUMNS:
            if column in frame:
                frame[column] = name + "-" + frame[column].astype(str)
    return tables


def extract_of(patients: list[dict[str, pd.DataFrame]], as_of: str = "2023-04-20") -> GeneratedExtract:
    """One extract of several patients' tables (the baseline's cut-off by default), screened with COSMO."""
    tables = {name: pd.concat([p[name] for p in patients], ignore_index=True) for name in patients[0]}
    return GeneratedExtract(dict(tables), as_of, "cosmo", (), worklist=False)
