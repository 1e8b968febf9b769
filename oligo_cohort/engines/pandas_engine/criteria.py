"""The 18 COSMO criteria over screening units: the rule each unit takes, and the facts the criterion records.

Each decider follows criteria.md's "decided as" column and docs/decisions.md,
naming the branch a unit takes by a rule of `oligo_cohort.criteria` (whose
outcome it gives) and recording the criterion's facts (`Criterion.facts`) for
every unit, whichever rule it took. A fact's name means one thing wherever it
is recorded, so the facts of the unit itself (its dates, index tumour, active
line, scan and reference) are computed once (`Context`), and each decider adds
its own. Per-unit aggregates are merges, sorts and groupbys over the patients'
records, never a loop over patients.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.criteria import BY_ID, CRITERION_IDS
from oligo_cohort.engines.pandas_engine import imaging as img
from oligo_cohort.engines.pandas_engine.calendar import add_months, full_years
from oligo_cohort.engines.pandas_engine.decisions import Decision, choose_rule
from oligo_cohort.engines.pandas_engine.grouped_text import as_text, joined_per_key, lists_per_key, take_text
from oligo_cohort.engines.pandas_engine.inputs import Inputs
from oligo_cohort.engines.pandas_engine.lines import breast_tumours
from oligo_cohort.engines.pandas_engine.units import Units

CODES = clinical_codes()
# D34: of several CR/PR/SD on the latest date, the least response is quoted (the codes are listed least first).
CONTROL_RANK = {response: rank for rank, response in enumerate(CODES.control_responses)}
# The confirmation PET quoted: a passing one, else an undecided one, else a failing one.
PET_PREFERENCE = {"pass": 0, "unknown": 1, "fail": 2}


def _true(values: pd.Series) -> np.ndarray:
    """A nullable boolean column: True only where the value is true."""
    return values.eq(True).fillna(False).to_numpy(dtype=bool)


def _at(values: object, positions: np.ndarray, missing: object = np.nan) -> np.ndarray:
    """`values[positions]`, `missing` where a position is negative."""
    return np.append(np.asarray(values), missing)[positions]


class Context:
    """What the deciders read: the units, the inputs, and the facts of the units themselves (computed once).

    Text facts are Arrow string arrays taken from the tables they come from by position (a study, an index
    tumour, a line), so that no Python string is made per unit; the rules compare codes, not strings.
    """

    def __init__(self, units: Units, inputs: Inputs) -> None:
        self.units = units
        self.inputs = inputs
        self.p = inputs.p
        self.u = units.units.reset_index(drop=True)
        self.n = len(self.u)
        unit_ids = self.u["unit"].to_numpy(dtype=np.int64)
        self._row_of_unit = np.full(int(unit_ids.max(initial=-1)) + 1, -1, dtype=np.int64)
        self._row_of_unit[unit_ids] = np.arange(self.n)
        self.pid = self.u["pid"].to_numpy(dtype=np.int64)
        self.active = self.u["active"].to_numpy(dtype=bool)
        self.event = self.u["event"].to_numpy(dtype=np.int64)  # study code of S (NO_STUDY: none)
        self.ref_study = self.u["ref_study"].to_numpy(dtype=np.int64)
        self.tumour_pos = self.u["tumour_pos"].to_numpy(dtype=np.int64)  # row of `breast` (-1: none)
        self.breast = breast_tumours(inputs)

    def rows(self, unit_ids: object) -> np.ndarray:
        """The row of each unit id."""
        return self._row_of_unit[np.asarray(unit_ids, dtype=np.int64)]

    def with_records(self, records: pd.DataFrame) -> pd.DataFrame:
        """Each unit joined with its patient's records: row (of the unit), S, R, then the records' columns."""
        left = pd.DataFrame(
            {
                "row": np.arange(self.n),
                "pid": self.pid,
                "day": self.screening_date,
                "registration": self.registration_date,
            }
        )
        return left.merge(records, on="pid")

    @cached_property
    def _study_ids(self) -> pa.Array:
        return as_text(self.inputs.imaging["study_id"])

    def study_ids(self, codes: object) -> pa.Array:
        """Study ids of study codes (NO_STUDY: missing)."""
        return take_text(self._study_ids, codes)

    def study_dates(self, codes: object) -> np.ndarray:
        """Dates of studies (NO_STUDY: missing)."""
        return _at(self.inputs.imaging["study_date"].to_numpy(dtype=np.float64), np.asarray(codes, dtype=np.int64))

    def modality_codes(self, codes: object) -> np.ndarray:
        """The modality of studies as a code (NO_STUDY: -1)."""
        return _at(self.inputs.imaging["modality"].cat.codes.to_numpy(dtype=np.int64), np.asarray(codes), -1)

    def tumour_flag(self, on_breast: object) -> np.ndarray:
        """A condition on the breast tumours, read for each unit's index tumour (False without one)."""
        return _at(np.asarray(on_breast, dtype=bool), self.tumour_pos, False)

    # --- The unit: its scan, S, R and the cut-off -------------------------------------------------------------

    @cached_property
    def has_event(self) -> np.ndarray:
        return self.u["is_event"].to_numpy(dtype=bool)

    @cached_property
    def screening_date(self) -> np.ndarray:
        return self.u["day"].to_numpy(dtype=np.float64)

    @cached_property
    def registration_date(self) -> np.ndarray:
        return self.u["registration"].to_numpy(dtype=np.float64)

    @cached_property
    def cutoff_date(self) -> np.ndarray:
        return np.full(self.n, self.inputs.settings.as_of)

    @cached_property
    def scan_study_id(self) -> pa.Array:
        return self.study_ids(self.event)

    @cached_property
    def scan_modality(self) -> pa.Array:
        return take_text(as_text(self.inputs.imaging["modality"]), self.event)

    # --- The index breast tumour (D4, D24) ----------------------------------------------------------------------

    def _tumour_text(self, column: str) -> pa.Array:
        return take_text(as_text(self.breast[column]), self.tumour_pos)

    def _tumour_date(self, column: str) -> np.ndarray:
        return _at(self.breast[column].to_numpy(dtype=np.float64), self.tumour_pos)

    @cached_property
    def has_tumour(self) -> np.ndarray:
        return self.tumour_pos >= 0

    @cached_property
    def tumour_id(self) -> pa.Array:
        return self._tumour_text("tumour_id")

    @cached_property
    def tumour_topography(self) -> pa.Array:
        return self._tumour_text("topography")

    @cached_property
    def tumour_diagnosis_date(self) -> np.ndarray:
        return self._tumour_date("diagnosis_date")

    @cached_property
    def basis_of_diagnosis(self) -> pa.Array:
        return self._tumour_text("basis_of_diagnosis")

    @cached_property
    def tnm_m(self) -> pa.Array:
        return self._tumour_text("tnm_m")

    @cached_property
    def metastasis_date(self) -> np.ndarray:
        return self._tumour_date("metastasis_date")

    # --- The line active at S (D9, D33) -------------------------------------------------------------------------

    @cached_property
    def line_number(self) -> np.ndarray:
        return self.u["line_number"].to_numpy(dtype=np.float64)

    @cached_property
    def line_start(self) -> np.ndarray:
        return self.u["line_start"].to_numpy(dtype=np.float64)

    @cached_property
    def lines_started(self) -> np.ndarray:
        return self.u["lines_started"].to_numpy(dtype=np.int64)

    @cached_property
    def _line_id(self) -> np.ndarray:
        line_id = self.u["line_id"].to_numpy(dtype=np.float64)
        return np.where(np.isnan(line_id), -1, line_id).astype(np.int64)

    @cached_property
    def line_drugs(self) -> pa.Array:
        """The drugs of the line (carried ones included, D28), sorted, comma-separated."""
        table = self.units.line_table
        drugs = as_text(table.episodes["drug"]).take(pa.array(table.members["episode"].to_numpy(dtype=np.int64)))
        per_line = joined_per_key(table.members["line_id"].to_numpy(), drugs, len(table.lines))
        return take_text(per_line, self._line_id)

    @cached_property
    def line_drug_classes(self) -> pa.Array:
        """The treatment classes of the line's drugs, sorted, comma-separated ('' when every drug is unknown)."""
        table = self.units.line_table
        drugs = as_text(table.episodes["drug"]).take(pa.array(table.members["episode"].to_numpy(dtype=np.int64)))
        vocabulary = self.inputs.vocabulary
        found = pc.index_in(drugs, value_set=as_text(vocabulary["drug"]))
        classes = as_text(vocabulary["drug_class"]).take(found)  # a drug missing from the vocabulary: no class
        known = classes.is_valid().to_numpy(zero_copy_only=False)
        line_id = table.members["line_id"].to_numpy()[known]
        per_line = joined_per_key(line_id, classes.filter(pa.array(known)), len(table.lines))
        return take_text(pc.fill_null(per_line, ""), self._line_id)

    # --- The reference of S (D11, D15) --------------------------------------------------------------------------

    @cached_property
    def reference_basis(self) -> pa.Array:
        nadir = self.u["nadir"].fillna(False).to_numpy(dtype=bool) if "nadir" in self.u else np.zeros(self.n, bool)
        basis = np.where(nadir & self.has_event, 1, np.where(self.ref_study != img.NO_STUDY, 0, -1))
        return take_text(pa.array(["line_start", "nadir"]), basis)

    @cached_property
    def reference_study_id(self) -> pa.Array:
        return self.study_ids(self.ref_study)

    @cached_property
    def reference_modality(self) -> pa.Array:
        return take_text(as_text(self.inputs.imaging["modality"]), self.ref_study)

    @cached_property
    def reference_date(self) -> np.ndarray:
        return self.study_dates(self.ref_study)

    @cached_property
    def window_start(self) -> np.ndarray:
        return np.where(self.has_event, self.line_start - self.p.reference_window_before_days, np.nan)

    @cached_property
    def window_end(self) -> np.ndarray:
        return np.where(self.has_event, self.line_start + self.p.reference_window_after_days, np.nan)

    @cached_property
    def window_modalities(self) -> pa.Array:
        if "window_modalities" not in self.u:  # no candidate scan at all
            return pa.nulls(self.n, pa.string())
        return as_text(self.u["window_modalities"])

    # --- The patient ----------------------------------------------------------------------------------------------

    @cached_property
    def birth_date(self) -> np.ndarray:
        return self.inputs.patients["birth_date"].to_numpy(dtype=np.float64)[self.pid]

    @cached_property
    def death_date(self) -> np.ndarray:
        return self.inputs.patients["death_date"].to_numpy(dtype=np.float64)[self.pid]

    def lesion_lists(self, lesions: pd.DataFrame, rows: np.ndarray) -> dict[str, pa.ListArray]:
        """Progressive distant, progressive local and undetermined lesions ('organ lesion_id'), per unit row.

        `lesions` are lesion verdicts (`imaging.lesion_progression`); `rows` the unit row each belongs to.
        """
        state = lesions["progressive"].array
        counted = np.asarray(state.fillna(True), dtype=bool)  # progressive or undetermined: the ones listed
        lesions, rows = lesions[counted], np.asarray(rows)[counted]
        state = lesions["progressive"].array
        progressive = state.fillna(False).to_numpy(dtype=bool)
        undetermined = np.asarray(state.isna(), dtype=bool)
        distant = (lesions["location"] == CODES.distant_location).to_numpy(dtype=bool)
        names = as_text(self.inputs.lesions["lesion_id"].cat.categories.to_numpy(dtype=object))
        labels = pc.binary_join_element_wise(
            as_text(lesions["organ"]), names.take(pa.array(lesions["lesion"].to_numpy(dtype=np.int64))), " "
        )

        def listed(mask: np.ndarray) -> pa.ListArray:
            return lists_per_key(rows[mask], labels.filter(pa.array(mask)), self.n)

        return {
            "distant_lesions": listed(progressive & distant),
            "local_lesions": listed(progressive & ~distant),
            "undetermined_lesions": listed(undetermined),
        }


def record(c: Context, criterion: str, rule: pd.Categorical, **own: object) -> Decision:
    """The decision: the rule taken, the criterion's own facts, and the facts of the unit it speaks of."""
    facts = {}
    for name in BY_ID[criterion].facts:
        if name not in own and not isinstance(getattr(type(c), name, None), cached_property):
            raise TypeError(f"{criterion} records {name}: neither given by its decider nor a fact of the unit")
        facts[name] = own[name] if name in own else getattr(c, name)
    return Decision(BY_ID[criterion], rule, facts)


def invasive_breast_cancer(c: Context) -> Decision:
    """Index tumour with a histological basis -> pass; none, or a non-histological basis -> fail; else unknown."""
    basis = c.breast["basis_of_diagnosis"]
    rule = choose_rule(
        "inc_invasive_breast_cancer",
        [
            (~c.has_tumour, "no_index_tumour"),
            (c.tumour_flag(basis.isin(CODES.histological_bases)), "histological"),
            (c.tumour_flag(basis.isin(CODES.non_histological_bases)), "not_histological"),
        ],
        "basis_not_recorded",
    )
    return record(c, "inc_invasive_breast_cancer", rule)


def metastatic(c: Context) -> Decision:
    """M1 (D23: whatever the metastasis date), or metastasis by S -> pass; none, later, or M0 undated -> fail."""
    met, s, tnm_m = c.metastasis_date, c.screening_date, c.breast["tnm_m"]
    rule = choose_rule(
        "inc_metastatic",
        [
            (~c.has_tumour, "no_index_tumour"),
            (c.tumour_flag(tnm_m == CODES.metastatic_at_diagnosis), "m1_at_diagnosis"),
            (met <= s, "metastasis_by_screening"),
            (met > s, "metastasis_after_screening"),
            (c.tumour_flag(tnm_m == CODES.non_metastatic_at_diagnosis), "m0_without_metastasis"),
        ],
        "metastasis_not_recorded",
    )
    return record(c, "inc_metastatic", rule)


def oligoprogression(c: Context) -> Decision:
    """The rule's verdict on S against its reference (decided in `imaging`); a patient without an event fails."""
    oligo = c.u["oligo"].to_numpy(dtype=object)
    rule = choose_rule(
        "inc_oligoprogression",
        [
            (~c.has_event, "no_candidate_event"),
            (oligo == "pass", "oligoprogressive"),
            (oligo == "fail", "not_oligoprogressive"),
        ],
        "undecided",
    )
    lesions = c.units.scan_lesions
    lists = c.lesion_lists(lesions, c.rows(lesions["unit"]))
    return record(
        c,
        "inc_oligoprogression",
        rule,
        distant_lesions=lists["distant_lesions"],
        local_lesions=lists["local_lesions"],
        undetermined_lesions=lists["undetermined_lesions"],
    )


def therapy_class(c: Context) -> Decision:
    """The active line holds a drug of a treatment class -> pass; no active line -> fail; else unknown."""
    known = c.u["line_has_known_drug"].to_numpy(dtype=bool)
    rule = choose_rule(
        "inc_therapy_class", [(~c.active, "no_active_line"), (known, "treatment_class")], "only_unknown_drugs"
    )
    return record(c, "inc_therapy_class", rule)


def line_1_or_2(c: Context) -> Decision:
    """Active line number within the allowed lines -> pass; a later line or none -> fail."""
    rule = choose_rule(
        "inc_line_1_or_2",
        [(~c.active, "no_active_line"), (c.line_number <= c.p.max_line_number, "allowed_line")],
        "later_line",
    )
    return record(c, "inc_line_1_or_2", rule)


def disease_control_6m(c: Context) -> Decision:
    """Under 6 months on the line, or PD during it -> fail; else CR/PR/SD during it -> pass; else unknown (D16, D34)."""
    enough = add_months(c.line_start, c.p.min_months_on_line)
    rows = c.with_records(c.inputs.responses[["pid", "assessment_date", "response"]])
    rows["line_start"] = c.line_start[rows["row"].to_numpy()]
    rows = rows[(rows["assessment_date"] > rows["line_start"]) & (rows["assessment_date"] < rows["day"])]
    response = rows["response"].astype(object)
    rank = response.map(CONTROL_RANK)
    progression = (
        rows[(response == CODES.progression_response).to_numpy(dtype=bool)].groupby("row")["assessment_date"].min()
    )
    is_control = rank.notna().to_numpy(dtype=bool)
    control = rows[is_control].assign(rank=rank[is_control].to_numpy())
    control = control.sort_values(["row", "assessment_date", "rank"], ascending=[True, False, True], kind="stable")
    control = control.drop_duplicates("row")
    first_progression = np.full(c.n, np.nan)
    first_progression[progression.index.to_numpy()] = progression.to_numpy()
    control_date = np.full(c.n, np.nan)
    control_date[control["row"].to_numpy()] = control["assessment_date"].to_numpy()
    control_response = np.full(c.n, None, dtype=object)
    control_response[control["row"].to_numpy()] = control["response"].astype(str).to_numpy(dtype=object)
    rule = choose_rule(
        "inc_disease_control_6m",
        [
            (~c.active, "no_active_line"),
            (c.screening_date < enough, "too_soon"),
            (~np.isnan(first_progression), "progression_on_line"),
            (~np.isnan(control_date), "disease_controlled"),
            (np.full(c.n, not c.inputs.settings.has_response_assessments), "no_response_table"),
        ],
        "no_response_recorded",
    )
    return record(
        c,
        "inc_disease_control_6m",
        rule,
        enough_months_date=enough,
        first_progression_date=first_progression,
        control_date=control_date,
        control_response=control_response,
    )


def same_modality(c: Context) -> Decision:
    """Reference of S's modality -> pass; studies in the window but none of it -> fail; none -> unknown."""
    has_reference = c.ref_study != img.NO_STUDY
    rule = choose_rule(
        "inc_same_modality",
        [
            (~c.has_event, "no_candidate_event"),
            (has_reference & (c.modality_codes(c.ref_study) == c.modality_codes(c.event)), "same_modality"),
            (has_reference, "other_modality"),
        ],
        "no_study_near_line_start",
    )
    return record(c, "inc_same_modality", rule)


def imaging_window(c: Context) -> Decision:
    """Death before the earliest registration day (D22), or (worklist) a window already closed -> fail."""
    p = c.p
    earliest = c.screening_date + p.imaging_window_earliest_days
    latest = c.screening_date + p.imaging_window_latest_days
    closed = c.inputs.settings.worklist & (c.cutoff_date > latest)
    rule = choose_rule(
        "inc_imaging_window",
        [
            (~c.has_event, "no_candidate_event"),
            (c.death_date < earliest, "died_before_registration"),
            (closed, "window_closed"),
        ],
        "window_open",
    )
    return record(c, "inc_imaging_window", rule, earliest_registration=earliest, latest_registration=latest)


def pet_confirmation(c: Context) -> Decision:
    """The best confirmation PET decides (D17, D29); none yet is pending until its window closes."""
    checks = c.units.pet_checks.reset_index(drop=True)
    imaging = c.inputs.imaging
    study = checks["x_study"].to_numpy(dtype=np.int64)
    ranked = pd.DataFrame(
        {
            "pair": np.arange(len(checks)),
            "row": c.rows(checks["unit"]),
            "preference": checks["outcome"].map(PET_PREFERENCE).to_numpy(dtype=np.int64),
            "date": imaging["study_date"].to_numpy(dtype=np.float64)[study],
            "study_key": imaging["study_key"].to_numpy(dtype=np.int64)[study],
        }
    )
    chosen = ranked.sort_values(["row", "preference", "date", "study_key"], kind="stable").drop_duplicates("row")
    rows, pairs = chosen["row"].to_numpy(), chosen["pair"].to_numpy()
    pet_study = np.full(c.n, img.NO_STUDY, dtype=np.int64)
    pet_study[rows] = study[pairs]
    pet_outcome = np.full(c.n, None, dtype=object)
    pet_outcome[rows] = checks["outcome"].to_numpy(dtype=object)[pairs]
    pet_date = c.study_dates(pet_study)

    lesions = c.units.pet_lesions
    is_chosen = np.zeros(len(checks), dtype=bool)
    is_chosen[pairs] = True
    lesions = lesions[is_chosen[lesions["pair"].to_numpy()]]
    lists = c.lesion_lists(lesions, c.rows(lesions["unit"]))

    window_start = c.screening_date + c.p.pet_window_start_days
    window_end = c.screening_date + c.p.pet_window_end_days
    rule = choose_rule(
        "inc_pet_confirmation",
        [
            (~c.has_event, "no_candidate_event"),
            (pet_outcome == "pass", "confirmed"),
            (pet_outcome == "fail", "not_confirmed"),
            (pet_outcome == "unknown", "confirmation_undecided"),
            (c.cutoff_date >= window_end, "no_pet"),
        ],
        "pet_pending",
    )
    return record(
        c,
        "inc_pet_confirmation",
        rule,
        pet_study_id=c.study_ids(pet_study),
        pet_date=pet_date,
        pet_days_after_scan=pet_date - c.screening_date,
        pet_distant_lesions=lists["distant_lesions"],
        pet_local_lesions=lists["local_lesions"],
        pet_undetermined_lesions=lists["undetermined_lesions"],
        pet_window_start=window_start,
        pet_window_end=window_end,
    )


def _latest_observation(c: Context, criterion: str, code: str) -> Decision:
    """The latest `code` observation on or before R decides (D18: true and false on that date -> conflicting)."""
    observations = c.inputs.observations
    records = observations.loc[(observations["code"] == code).to_numpy(dtype=bool), ["pid", "start_date", "value"]]
    rows = c.with_records(records)
    rows = rows[rows["start_date"] <= rows["registration"]]
    rows = rows[rows["start_date"] == rows.groupby("row")["start_date"].transform("max")]
    value = rows["value"].astype("boolean")
    answers = (
        pd.DataFrame(
            {
                "row": rows["row"].to_numpy(),
                "yes": _true(value),
                "no": _true(~value),
                "missing": value.isna().to_numpy(dtype=bool),
            }
        )
        .groupby("row")[["yes", "no", "missing"]]
        .any()
    )
    latest = rows.groupby("row")["start_date"].max()
    observation_date = np.full(c.n, np.nan)
    observation_date[latest.index.to_numpy()] = latest.to_numpy()
    yes = np.zeros(c.n, dtype=bool)
    no = np.zeros(c.n, dtype=bool)
    missing = np.zeros(c.n, dtype=bool)
    yes[answers.index.to_numpy()] = answers["yes"].to_numpy()
    no[answers.index.to_numpy()] = answers["no"].to_numpy()
    missing[answers.index.to_numpy()] = answers["missing"].to_numpy()
    recorded = ~np.isnan(observation_date)
    has_rule = {rule.name for rule in BY_ID[criterion].rules}
    # Only the exclusions say "recorded without a value" (criteria.md: missing value -> unknown); for the others
    # a latest record without a value leaves the criterion to chart review, as no record does. A true record of
    # that date still decides; a false one cannot outweigh the missing one (D43).
    without_value = "recorded_without_value" if "recorded_without_value" in has_rule else "not_recorded"
    rule = choose_rule(
        criterion,
        [
            (~recorded & ~c.inputs.settings.has_observations, "no_observations_table"),
            (~recorded, "not_recorded"),
            (yes & no, "conflicting"),
            (yes, "recorded_true"),
            (missing, without_value),
        ],
        "recorded_false",
    )
    return record(c, criterion, rule, observation_date=observation_date)


def lat_amenable(c: Context) -> Decision:
    """Latest `lat_amenable` observation on or before R: true -> pass, false -> fail; none -> review."""
    return _latest_observation(c, "inc_lat_amenable", CODES.amenability_observation)


def informed_consent(c: Context) -> Decision:
    """Latest `informed_consent` observation on or before R (D31)."""
    return _latest_observation(c, "inc_informed_consent", CODES.consent_observation)


def medical_risk(c: Context) -> Decision:
    """Latest `medical_risk` observation on or before R: true -> fail, false -> pass, no value -> unknown."""
    return _latest_observation(c, "exc_medical_risk", CODES.medical_risk_observation)


def psychosocial(c: Context) -> Decision:
    """Latest `compliance_risk` observation on or before R: true -> fail, false -> pass, no value -> unknown."""
    return _latest_observation(c, "exc_psychosocial", CODES.compliance_risk_observation)


def age_18(c: Context) -> Decision:
    """Full years at R (D3) against the minimum age; no birth date -> unknown."""
    age = full_years(c.birth_date, c.registration_date)
    rule = choose_rule(
        "inc_age_18", [(np.isnan(age), "no_birth_date"), (age >= c.p.min_age_years, "adult")], "under_age"
    )
    return record(c, "inc_age_18", rule, age_years=age)


# Severity of a performance status rule on its date (D18: the worst decides): fail, then unknown, then pass.
PS_SEVERITY = {"poor": 0, "kps_poor": 0, "kps_ambiguous": 1, "good": 2, "kps_good": 2}


def who_ps_0_1(c: Context) -> Decision:
    """Latest performance status in [S - 60 days, R]; of several on that date the worst (D18, D19, D33)."""
    window_start = c.screening_date - c.p.performance_status_window_days
    rows = c.with_records(c.inputs.performance[["pid", "assessment_date", "scale", "score"]])
    rows = rows[
        (rows["assessment_date"] >= window_start[rows["row"].to_numpy()])
        & (rows["assessment_date"] <= rows["registration"])
    ]
    score = rows["score"].to_numpy(dtype=np.int64)
    scale = rows["scale"].astype(str).to_numpy(dtype=object)
    kps = ~np.isin(scale, CODES.who_scales)
    # WHO and ECOG are one 0-5 scale; KPS 80+ maps to ECOG 0-1 and 60- to 2+; in between is ambiguous (D19).
    verdict = np.select(
        [
            ~kps & (score <= CODES.who_highest_passing_score),
            ~kps,
            score >= CODES.karnofsky_lowest_passing_score,
            score <= CODES.karnofsky_highest_failing_score,
        ],
        ["good", "poor", "kps_good", "kps_poor"],
        "kps_ambiguous",
    ).astype(object)
    ranked = pd.DataFrame(
        {
            "row": rows["row"].to_numpy(),
            "date": rows["assessment_date"].to_numpy(dtype=np.float64),
            "severity": pd.Series(verdict).map(PS_SEVERITY).to_numpy(dtype=np.int64),
            "scale": scale,
            "score": score,
            "verdict": verdict,
        }
    )
    latest = ranked.sort_values(
        ["row", "date", "severity", "scale", "score"], ascending=[True, False, True, True, True], kind="stable"
    ).drop_duplicates("row")
    at = latest["row"].to_numpy()
    ps_date = np.full(c.n, np.nan)
    ps_date[at] = latest["date"].to_numpy()
    ps_scale = np.full(c.n, None, dtype=object)
    ps_scale[at] = latest["scale"].to_numpy()
    ps_score = np.full(c.n, np.nan)
    ps_score[at] = latest["score"].to_numpy()
    ps_rule = np.full(c.n, None, dtype=object)
    ps_rule[at] = latest["verdict"].to_numpy()
    found = pd.notna(ps_rule)
    rule = choose_rule(
        "inc_who_ps_0_1",
        [
            *((found & (ps_rule == name), name) for name in ("good", "poor", "kps_good", "kps_poor", "kps_ambiguous")),
            (np.full(c.n, not c.inputs.settings.has_performance_status), "no_performance_table"),
        ],
        "none_in_window",
    )
    return record(
        c, "inc_who_ps_0_1", rule, ps_window_start=window_start, ps_date=ps_date, ps_scale=ps_scale, ps_score=ps_score
    )


def more_than_two_lines(c: Context) -> Decision:
    """More metastatic lines started on or before S than allowed -> fail."""
    rule = choose_rule(
        "exc_more_than_two_lines", [(c.lines_started > c.p.max_lines_before_scan, "too_many_lines")], "within_limit"
    )
    return record(c, "exc_more_than_two_lines", rule)


# The basal- and squamous-cell carcinoma morphologies, as numbers.
SKIN_CARCINOMA_MORPHOLOGIES = tuple(
    (int(codes.first), int(codes.last)) for codes in (CODES.basal_cell_morphology, CODES.squamous_cell_morphology)
)
YES, NO, MISSING = 1, 0, -1  # three-valued (Kleene) truth as small integers


def _kleene_and(*values: np.ndarray) -> np.ndarray:
    """AND in three-valued logic: NO if any is NO, else MISSING if any is MISSING, else YES."""
    stacked = np.vstack(values)
    return np.where((stacked == NO).any(axis=0), NO, np.where((stacked == MISSING).any(axis=0), MISSING, YES))


def _flag(true: np.ndarray, known: np.ndarray) -> np.ndarray:
    return np.where(known, np.where(true, YES, NO), MISSING)


# The rules of exc_other_malignancy per tumour, and which tumour is quoted (D48): an excluding one, else an
# undecidable one, else any, by diagnosis date then tumour_id.
EXCLUDING_RULES = ("not_curative", "chemotherapy", "radiotherapy", "treated_recently", "diagnosed_recently")
UNDECIDED_RULES = (
    "skin_morphology_missing",
    "intent_missing",
    "chemotherapy_missing",
    "radiotherapy_missing",
    "last_treatment_missing",
)


def other_malignancy(c: Context) -> Decision:
    """Per other tumour: excluded = other malignancy AND NOT exempt, in Kleene logic (D20, D30, D48)."""
    t = c.inputs.tumours
    is_considered = _true(t["behaviour"] == CODES.invasive_behaviour) & ~t["topography"].str.startswith(
        CODES.breast_topography
    ).fillna(False).to_numpy(bool)
    others = t.loc[is_considered].drop(columns=["patient_id"])
    exemption_date = add_months(c.registration_date, -12 * c.p.other_malignancy_years)  # D3: clamped at month end
    rows = c.with_records(others)
    rows = rows[rows["diagnosis_date"] <= rows["registration"]].reset_index(drop=True)
    row = rows["row"].to_numpy(dtype=np.int64)

    skin = rows["topography"].str.startswith(CODES.skin_topography).fillna(False).to_numpy(dtype=bool)
    morphology = pd.to_numeric(rows["morphology"], errors="coerce").to_numpy(dtype=np.float64)
    carcinoma = np.zeros(len(rows), dtype=bool)
    for first, last in SKIN_CARCINOMA_MORPHOLOGIES:
        carcinoma |= (morphology >= first) & (morphology <= last)
    # D20: a skin tumour without a morphology may or may not be a BCC/SCC.
    is_other = np.where(~skin, YES, _flag(~carcinoma, ~np.isnan(morphology)))
    intent = rows["treatment_intent"].astype(object)
    curative = _flag(
        (intent == CODES.curative_intent).to_numpy(dtype=bool),
        intent.isin([CODES.curative_intent, *CODES.non_curative_intents]),
    )
    chemotherapy, radiotherapy = rows["chemotherapy"].astype("boolean"), rows["radiotherapy"].astype("boolean")
    without_chemotherapy = _flag(~_true(chemotherapy), chemotherapy.notna().to_numpy(dtype=bool))
    without_radiotherapy = _flag(~_true(radiotherapy), radiotherapy.notna().to_numpy(dtype=bool))
    last = rows["last_treatment_date"].to_numpy(dtype=np.float64)
    diagnosed = rows["diagnosis_date"].to_numpy(dtype=np.float64)
    exemption = exemption_date[row]
    # A missing last treatment date is undecidable only when the diagnosis itself lies far enough back.
    treated_long_ago = np.where(
        ~np.isnan(last), np.where(last <= exemption, YES, NO), np.where(diagnosed > exemption, NO, MISSING)
    )
    exempt = _kleene_and(curative, without_chemotherapy, without_radiotherapy, treated_long_ago)
    excluded = _kleene_and(is_other, np.select([exempt == YES, exempt == NO], [NO, YES], MISSING))
    tumour_rule = np.select(
        [
            (excluded == YES) & (curative == NO),
            (excluded == YES) & (without_chemotherapy == NO),
            (excluded == YES) & (without_radiotherapy == NO),
            (excluded == YES) & ~np.isnan(last),
            excluded == YES,
            (excluded == MISSING) & (is_other == MISSING),
            (excluded == MISSING) & (curative == MISSING),
            (excluded == MISSING) & (without_chemotherapy == MISSING),
            (excluded == MISSING) & (without_radiotherapy == MISSING),
            excluded == MISSING,
            is_other == NO,
        ],
        [*EXCLUDING_RULES, *UNDECIDED_RULES, "skin_carcinoma"],
        "exempt",
    ).astype(object)
    preference = np.where(
        np.isin(tumour_rule, EXCLUDING_RULES), 0, np.where(np.isin(tumour_rule, UNDECIDED_RULES), 1, 2)
    )
    ranking = pa.table(
        {
            "row": pa.array(row),
            "preference": pa.array(preference),
            "diagnosed": pa.array(diagnosed),
            "tumour_id": pa.array(rows["tumour_id"].to_numpy(dtype=object), type=pa.string()),
        }
    )
    ranked = pc.sort_indices(
        ranking, sort_keys=[(key, "ascending") for key in ("row", "preference", "diagnosed", "tumour_id")]
    ).to_numpy()
    first = ranked[np.r_[True, row[ranked][1:] != row[ranked][:-1]]] if len(row) else ranked
    at = row[first]

    quoted = np.full(c.n, -1, dtype=np.int64)  # the row of `rows` each unit quotes (-1: no other tumour)
    quoted[at] = first
    rule = choose_rule(
        "exc_other_malignancy",
        [
            (_at(tumour_rule, quoted, None) == name, name)
            for name in (*EXCLUDING_RULES, *UNDECIDED_RULES, "skin_carcinoma", "exempt")
        ],
        "none",
    )
    return record(
        c,
        "exc_other_malignancy",
        rule,
        exemption_date=exemption_date,
        other_tumour_id=take_text(as_text(rows["tumour_id"]), quoted),
        other_topography=take_text(as_text(rows["topography"]), quoted),
        other_morphology=take_text(as_text(rows["morphology"]), quoted),
        other_diagnosis_date=_at(diagnosed, quoted),
        other_treatment_intent=take_text(as_text(rows["treatment_intent"]), quoted),
        other_last_treatment_date=_at(last, quoted),
        other_tumours=np.bincount(row, minlength=c.n),
    )


def pregnancy(c: Context) -> Decision:
    """A true pregnancy/breastfeeding observation current between S and R -> fail; no table -> review (D49)."""
    observations = c.inputs.observations
    is_pregnancy = observations["code"].isin(CODES.pregnancy_observations).to_numpy(dtype=bool) & _true(
        observations["value"]
    )
    rows = c.with_records(observations.loc[is_pregnancy, ["pid", "code", "start_date", "end_date"]])
    end = rows["end_date"].to_numpy(dtype=np.float64)
    current = (rows["start_date"] <= rows["registration"]).to_numpy(dtype=bool) & ~(end < rows["day"].to_numpy())
    rows = rows[current].assign(
        code=rows.loc[current, "code"].astype(str),
        # D49: the earliest started, then by code, then the one not ended (missing end first), else ending last.
        end_order=-np.where(np.isnan(end[current]), np.inf, end[current]),
    )
    first = rows.sort_values(["row", "start_date", "code", "end_order"], kind="stable").drop_duplicates("row")
    at = first["row"].to_numpy()
    code = np.full(c.n, None, dtype=object)
    code[at] = first["code"].to_numpy(dtype=object)
    start = np.full(c.n, np.nan)
    start[at] = first["start_date"].to_numpy()
    ended = np.full(c.n, np.nan)
    ended[at] = first["end_date"].to_numpy(dtype=np.float64)
    rule = choose_rule(
        "exc_pregnancy",
        [(np.full(c.n, not c.inputs.settings.has_observations), "no_observations_table"), (pd.notna(code), "current")],
        "none_current",
    )
    return record(c, "exc_pregnancy", rule, pregnancy_code=code, pregnancy_start=start, pregnancy_end=ended)


Decider = Callable[[Context], Decision]

DECIDERS: dict[str, Decider] = {
    "inc_invasive_breast_cancer": invasive_breast_cancer,
    "inc_metastatic": metastatic,
    "inc_oligoprogression": oligoprogression,
    "inc_therapy_class": therapy_class,
    "inc_line_1_or_2": line_1_or_2,
    "inc_disease_control_6m": disease_control_6m,
    "inc_same_modality": same_modality,
    "inc_imaging_window": imaging_window,
    "inc_pet_confirmation": pet_confirmation,
    "inc_lat_amenable": lat_amenable,
    "inc_age_18": age_18,
    "inc_who_ps_0_1": who_ps_0_1,
    "inc_informed_consent": informed_consent,
    "exc_more_than_two_lines": more_than_two_lines,
    "exc_other_malignancy": other_malignancy,
    "exc_pregnancy": pregnancy,
    "exc_medical_risk": medical_risk,
    "exc_psychosocial": psychosocial,
}
assert tuple(DECIDERS) == CRITERION_IDS, "criteria must be decided in protocol order"


def decide_all(units: Units, inputs: Inputs) -> dict[str, Decision]:
    """Every criterion's decision over all units (rows in the order of `units.units`), in protocol order."""
    context = Context(units, inputs)
    return {criterion: decide(context) for criterion, decide in DECIDERS.items()}
