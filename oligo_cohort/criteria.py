"""The 18 COSMO criteria, in protocol order: what the protocol says, how it is decided, and how it is explained.

Each criterion is one unit holding its protocol text, the spec's decision
(`decided_as`), the protocol parameters it reads, the SQL models that decide it
(`decided_in`), the facts it records and its rules. A rule is one branch of the
decision: its name, the outcome it gives, and what it says of the facts.

Engines share these definitions, not code: the SQL models (`sql/criteria/`) and
the pandas twin (`oligo_cohort/engines/pandas_engine/`) each decide which rule
applies to a screening unit and record its facts; the outcome of a rule and its
words are read from here by both (`rule_outcomes`, `oligo_cohort.explain`).
The spec tests hold both to `decided_as`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.facts import FACTS
from oligo_cohort.wording import Phrase, choose, joined, optional, say

Outcome = Literal["pass", "fail", "unknown", "review"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "fail", "unknown", "review")
STATUSES = ("eligible", "ineligible", "unknown")


@dataclass(frozen=True)
class Rule:
    """One branch of a criterion's decision: the outcome it gives and what it says."""

    name: str
    outcome: Outcome
    says: Phrase


@dataclass(frozen=True)
class Criterion:
    """One eligibility criterion as the protocol states it, as the spec decides it, as a reason explains it."""

    id: str
    kind: Literal["inclusion", "exclusion"]
    protocol_text: str
    decided_as: str
    decided_in: str  # the SQL model (under sql/, without .sql) whose logic decides it
    rules: tuple[Rule, ...]
    parameters: tuple[str, ...] = ()
    # The criteria model whose column named by the criterion's id records the rule taken and its facts (one row
    # per screening unit); the deciding model itself unless that decides per study.
    recorded_in: str = ""

    def __post_init__(self) -> None:
        if not self.recorded_in:
            object.__setattr__(self, "recorded_in", self.decided_in)

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        """The outcomes its rules can give, in OUTCOMES order."""
        given = {rule.outcome for rule in self.rules}
        return tuple(o for o in OUTCOMES if o in given)

    @property
    def facts(self) -> tuple[str, ...]:
        """The facts its rules speak of, in the order of oligo_cohort.facts."""
        spoken = set().union(*(rule.says.facts() for rule in self.rules))
        return tuple(name for name in FACTS if name in spoken)

    def rule(self, name: str) -> Rule:
        return next(rule for rule in self.rules if rule.name == name)


# Phrases several rules share: each is worded once.
AT = choose("has_event", {True: "the scan of {screening_date}", False: "the cut-off {screening_date}"})
TUMOUR = say("breast tumour {tumour_id} ({tumour_topography}, diagnosed {tumour_diagnosis_date})")
LINE = say("line {line_number} (started {line_start}: {line_drugs})")
SCAN = say("{scan_modality} {scan_study_id} of {screening_date}")
REFERENCE = choose(
    "reference_basis",
    {
        "line_start": " compared with {reference_modality} {reference_study_id} of {reference_date}",
        "nadir": " compared with each lesion's smallest size since the line start (nadir)",
    },
    missing=" with no reference study near the line start",
)
OTHER_TUMOUR = (
    say("tumour {other_tumour_id} ({other_topography}")
    + optional(" {other_morphology}", when="other_morphology")
    + say(", diagnosed {other_diagnosis_date})")
)


def lesions(distant: str, local: str, undetermined: str) -> Phrase:
    """The progressive and undetermined lesions of a study, e.g. "2 progressive distant lesions: liver L1, liver L2"."""
    return joined(
        "; ",
        optional(say(f"{{{distant}:count progressive distant lesion}}: {{{distant}}}"), when=distant),
        optional(say(f"{{{local}:count progressive breast or regional-node lesion}}: {{{local}}}"), when=local),
        optional(
            say(f"{{{undetermined}:count lesion}} that cannot be assessed (")
            + choose("reference_basis", otherwise="sizes missing", missing="no reference study")
            + say(f"): {{{undetermined}}}"),
            when=undetermined,
        ),
        otherwise="no progressive lesion",
    )


NOT_EXEMPT = "other malignancy " + OTHER_TUMOUR + ", not exempt: "
UNDECIDED = "other malignancy " + OTHER_TUMOUR + ", exemption undecidable: "

# The one root cause behind every imaging criterion of a patient without a candidate event.
NO_EVENT = Rule(
    "no_candidate_event",
    "fail",
    say(
        "no candidate screening scan: no imaging study during an active metastatic line shows a progressive "
        "or unassessable lesion"
    ),
)
CODES = clinical_codes()
NO_INDEX_TUMOUR = Rule(
    "no_index_tumour",
    "fail",
    f"no invasive breast tumour ({CODES.breast_topography}, behaviour {CODES.invasive_behaviour}) diagnosed on or "
    "before " + AT,
)
NO_ACTIVE_LINE = Rule("no_active_line", "fail", "no metastatic line of systemic therapy active at " + AT)


def latest_observation_rules(
    recorded_true: str, recorded_false: str, subject: str, *, exclusion: bool
) -> tuple[Rule, ...]:
    """The rules of a criterion read from the latest observation of one code on or before R (D18 on conflicts).

    `exclusion`: a true observation fails, and an observation without a value is unknown (criteria.md).
    """
    true_outcome: Outcome = "fail" if exclusion else "pass"
    false_outcome: Outcome = "pass" if exclusion else "fail"
    without_value = (
        Rule("recorded_without_value", "unknown", say(subject + " recorded on {observation_date} without a yes or no")),
    )
    return (
        Rule("recorded_true", true_outcome, say(recorded_true + " (recorded {observation_date})")),
        Rule("recorded_false", false_outcome, say(recorded_false + " (recorded {observation_date})")),
        *(without_value if exclusion else ()),
        Rule(
            "conflicting",
            "review",
            say(subject + " recorded both yes and no on {observation_date}: chart review"),
        ),
        Rule(
            "not_recorded",
            "review",
            say(subject + " not recorded on or before the registration date {registration_date}: chart review"),
        ),
        Rule(
            "no_observations_table",
            "review",
            say(subject + " not known: the extract has no observations table; chart review"),
        ),
    )


CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        id="inc_invasive_breast_cancer",
        kind="inclusion",
        protocol_text="Histologically confirmed invasive breast cancer",
        decided_as=(
            "index tumour exists and basis_of_diagnosis is histology_primary/histology_metastasis -> pass; no index "
            "tumour, or basis cytology/clinical/death_certificate -> fail; basis missing/unknown -> unknown"
        ),
        decided_in="criteria/diagnosis",
        rules=(
            NO_INDEX_TUMOUR,
            Rule("histological", "pass", TUMOUR + ": confirmed by {basis_of_diagnosis}"),
            Rule("not_histological", "fail", TUMOUR + ": basis of diagnosis {basis_of_diagnosis}, not histology"),
            Rule("basis_not_recorded", "unknown", TUMOUR + ": basis of diagnosis not recorded"),
        ),
    ),
    Criterion(
        id="inc_metastatic",
        kind="inclusion",
        protocol_text="MBC according to TNM-staging",
        decided_as=(
            "tnm_m = M1, or metastasis_date <= S -> pass; no index tumour, or a metastasis date after S, or "
            "tnm_m = M0 with no metastasis date -> fail; else unknown"
        ),
        decided_in="criteria/diagnosis",
        rules=(
            NO_INDEX_TUMOUR,
            Rule("m1_at_diagnosis", "pass", TUMOUR + ": M1 at diagnosis"),
            Rule("metastasis_by_screening", "pass", TUMOUR + ": first distant metastasis on {metastasis_date}"),
            Rule(
                "metastasis_after_screening",
                "fail",
                TUMOUR + ": first distant metastasis on {metastasis_date}, after " + AT,
            ),
            Rule("m0_without_metastasis", "fail", TUMOUR + ": M0 at diagnosis and no date of a distant metastasis"),
            Rule(
                "metastasis_not_recorded",
                "unknown",
                TUMOUR + ": M category {tnm_m|not recorded} at diagnosis and no date of a distant metastasis",
            ),
        ),
    ),
    Criterion(
        id="inc_oligoprogression",
        kind="inclusion",
        protocol_text=(
            "Oligoprogression defined as one or two distant metastatic lesions, limited to one organ, or the "
            "primary tumor or locoregional lymph nodes, increasing >=20% in size and be larger than 15 mm or if "
            "metabolic activity increases (with 20% in SUVmax) on FDG-PET-CT. Bone metastases are classified as "
            "progressive if the lytic component of the lesion increases by >=20% or the FDG-uptake increases by "
            ">=20% on FDG-PET-CT"
        ),
        decided_as=(
            "progressive lesions on S are either 1 or 2 distant lesions, all in one organ, with no progressive "
            "primary/locoregional lesion; or only primary/locoregional lesions (any number) -> pass. None, 3+ "
            "distant, 2+ organs, or distant together with primary/locoregional -> fail. Undetermined lesions: "
            "pass/fail only if every way of resolving them gives the same answer, else unknown"
        ),
        decided_in="derived/oligoprogression",
        recorded_in="criteria/imaging",
        parameters=(
            "size_increase_pct",
            "size_floor_mm",
            "suv_increase_pct",
            "max_progressive_distant_lesions",
            "max_progressive_organs",
        ),
        rules=(
            NO_EVENT,
            Rule(
                "oligoprogressive",
                "pass",
                SCAN + REFERENCE + ": " + lesions("distant_lesions", "local_lesions", "undetermined_lesions"),
            ),
            Rule(
                "not_oligoprogressive",
                "fail",
                SCAN + REFERENCE + ": " + lesions("distant_lesions", "local_lesions", "undetermined_lesions"),
            ),
            Rule(
                "undecided",
                "unknown",
                SCAN
                + REFERENCE
                + ": "
                + lesions("distant_lesions", "local_lesions", "undetermined_lesions")
                + ", so oligoprogression cannot be decided",
            ),
        ),
    ),
    Criterion(
        id="inc_therapy_class",
        kind="inclusion",
        protocol_text="Systemic treatment can be either endocrine, targeted, chemotherapy or immune-checkpoint blockade",
        decided_as=(
            "the line active at S holds a drug of one of those classes -> pass; no active line -> fail; only drugs "
            "missing from the vocabulary -> unknown"
        ),
        decided_in="criteria/therapy",
        rules=(
            NO_ACTIVE_LINE,
            Rule("treatment_class", "pass", LINE + ": {line_drug_classes}"),
            Rule(
                "only_unknown_drugs", "unknown", LINE + ": only drugs not in the vocabulary, so their class is unknown"
            ),
        ),
    ),
    Criterion(
        id="inc_line_1_or_2",
        kind="inclusion",
        protocol_text="Oligoprogression should occur during first- or second-line systemic therapy",
        decided_as="active line number 1 or 2 -> pass; 3 or more, or no active line -> fail",
        decided_in="criteria/therapy",
        parameters=("max_line_number",),
        rules=(
            NO_ACTIVE_LINE,
            Rule("allowed_line", "pass", LINE + " active at " + AT),
            Rule("later_line", "fail", LINE + " active at " + AT + ": beyond line {p.max_line_number}"),
        ),
    ),
    Criterion(
        id="inc_disease_control_6m",
        kind="inclusion",
        protocol_text=(
            "Patients should be on systemic therapy for at least six months. Status should be stable disease or "
            "partial or complete response for at least 6 months."
        ),
        decided_as=(
            "S < line start + 6 months, or any PD assessment strictly between line start and S -> fail; else at "
            "least one CR/PR/SD strictly between them -> pass; else unknown"
        ),
        decided_in="criteria/therapy",
        parameters=("min_months_on_line",),
        rules=(
            NO_ACTIVE_LINE,
            Rule(
                "too_soon",
                "fail",
                LINE + ": " + AT + " is before {p.min_months_on_line} months on the line ({enough_months_date})",
            ),
            Rule(
                "progression_on_line", "fail", LINE + ": progressive disease (PD) assessed on {first_progression_date}"
            ),
            Rule(
                "disease_controlled",
                "pass",
                LINE
                + ": {control_response} assessed on {control_date}, no progressive disease, "
                + "{p.min_months_on_line} months on the line reached on {enough_months_date}",
            ),
            Rule("no_response_table", "unknown", LINE + ": the extract has no response assessments"),
            Rule(
                "no_response_recorded",
                "unknown",
                LINE + ": no response (CR, PR or SD) recorded between the line start and " + AT,
            ),
        ),
    ),
    Criterion(
        id="inc_same_modality",
        kind="inclusion",
        protocol_text=(
            "Oligoprogression has to be detected with radiological imaging comparing the lesion on the same type "
            "of imaging modality as has been used at the start of systemic therapy."
        ),
        decided_as=(
            "reference study has the modality of S -> pass; studies in the reference window but none of that "
            "modality -> fail; no study in the window -> unknown"
        ),
        decided_in="criteria/imaging",
        parameters=("reference_window_before_days", "reference_window_after_days"),
        rules=(
            NO_EVENT,
            Rule(
                "same_modality",
                "pass",
                say("the scan and its reference {reference_study_id} of {reference_date} are both {scan_modality}"),
            ),
            Rule(
                "other_modality",
                "fail",
                say(
                    "the scan is {scan_modality}, but the studies near the line start ({window_start} to "
                    "{window_end}) are {window_modalities}"
                ),
            ),
            Rule(
                "no_study_near_line_start",
                "unknown",
                say("no imaging study near the line start ({window_start} to {window_end}) to compare with"),
            ),
        ),
    ),
    Criterion(
        id="inc_imaging_window",
        kind="inclusion",
        protocol_text=(
            "The radiological imaging that shows progression must be performed within 49 (+/- 3) days prior to "
            "registration."
        ),
        decided_as=(
            "death before S + 46 -> fail; in worklist mode also as_of > S + 52 (window closed) -> fail; else pass"
        ),
        decided_in="criteria/imaging",
        parameters=("registration_days", "imaging_window_earliest_days", "imaging_window_latest_days"),
        rules=(
            NO_EVENT,
            Rule(
                "died_before_registration",
                "fail",
                say("died on {death_date}, before the registration window opened on {earliest_registration}"),
            ),
            Rule(
                "window_closed",
                "fail",
                say("the registration window closed on {latest_registration}, before the cut-off {cutoff_date}"),
            ),
            Rule(
                "window_open",
                "pass",
                say(
                    "registration planned on {registration_date} (window {earliest_registration} to "
                    "{latest_registration})"
                ),
            ),
        ),
    ),
    Criterion(
        id="inc_pet_confirmation",
        kind="inclusion",
        protocol_text=(
            "Oligo-progression has to be confirmed with a FDG-PET-CT-scan 6 weeks (42 days) after the first "
            "screening scan."
        ),
        decided_as=(
            "an FDG-PET-CT study in [S + 35, S + 49] on which the oligoprogression rule (same reference as S) "
            "passes -> pass; if there are several, the rule must pass on one of them. Only ones on which it fails, "
            "or none while as_of >= S + 49 -> fail; one on which it is unknown (and none passes), or none yet while "
            "as_of < S + 49 -> unknown (pending)"
        ),
        decided_in="criteria/imaging",
        parameters=("pet_confirmation_days", "pet_confirmation_tolerance_days"),
        rules=(
            NO_EVENT,
            Rule(
                "confirmed",
                "pass",
                say("FDG-PET-CT {pet_study_id} of {pet_date}, {pet_days_after_scan:days} after the scan: ")
                + lesions("pet_distant_lesions", "pet_local_lesions", "pet_undetermined_lesions")
                + "; oligoprogression confirmed",
            ),
            Rule(
                "not_confirmed",
                "fail",
                say("FDG-PET-CT {pet_study_id} of {pet_date}, {pet_days_after_scan:days} after the scan: ")
                + lesions("pet_distant_lesions", "pet_local_lesions", "pet_undetermined_lesions")
                + "; not oligoprogression",
            ),
            Rule(
                "confirmation_undecided",
                "unknown",
                say("FDG-PET-CT {pet_study_id} of {pet_date}, {pet_days_after_scan:days} after the scan: ")
                + lesions("pet_distant_lesions", "pet_local_lesions", "pet_undetermined_lesions")
                + "; oligoprogression cannot be decided",
            ),
            Rule(
                "no_pet",
                "fail",
                say("no FDG-PET-CT between {pet_window_start} and {pet_window_end} to confirm the progression"),
            ),
            Rule(
                "pet_pending",
                "unknown",
                say(
                    "pending: no FDG-PET-CT yet; it is due between {pet_window_start} and {pet_window_end}, after "
                    "the cut-off {cutoff_date}"
                ),
            ),
        ),
    ),
    Criterion(
        id="inc_lat_amenable",
        kind="inclusion",
        protocol_text=(
            "Lesion(s) must be amenable to resection, radiotherapy or radiofrequency ablation with the intent of "
            "local obliteration"
        ),
        decided_as="latest lat_amenable observation on or before R: true -> pass, false -> fail; none -> review",
        decided_in="criteria/observations",
        rules=latest_observation_rules(
            "lesions amenable to local ablative therapy",
            "lesions not amenable to local ablative therapy",
            "amenability to local ablative therapy",
            exclusion=False,
        ),
    ),
    Criterion(
        id="inc_age_18",
        kind="inclusion",
        protocol_text="Age >=18",
        decided_as="full years at R >= 18 -> pass; < 18 -> fail; no birth date -> unknown",
        decided_in="criteria/patient",
        parameters=("min_age_years",),
        rules=(
            Rule("no_birth_date", "unknown", say("birth date not recorded")),
            Rule(
                "adult",
                "pass",
                say("aged {age_years} on the registration date {registration_date} (born {birth_date})"),
            ),
            Rule(
                "under_age",
                "fail",
                say(
                    "aged {age_years} on the registration date {registration_date} (born {birth_date}), under "
                    "{p.min_age_years}"
                ),
            ),
        ),
    ),
    Criterion(
        id="inc_who_ps_0_1",
        kind="inclusion",
        protocol_text="World Health Organization (WHO) Performance Status 0 or 1",
        decided_as=(
            "latest assessment in [S - 60 days, R]: WHO/ECOG <= 1 or KPS >= 80 -> pass; WHO/ECOG >= 2 or "
            "KPS <= 60 -> fail; KPS 70 (published tables map it to ECOG 1 or 2), or none -> unknown"
        ),
        decided_in="criteria/patient",
        parameters=("performance_status_window_days",),
        rules=(
            Rule("no_performance_table", "unknown", say("the extract has no performance status")),
            Rule(
                "none_in_window",
                "unknown",
                say("no performance status recorded between {ps_window_start} and {registration_date}"),
            ),
            Rule("good", "pass", say("{ps_scale} {ps_score} on {ps_date}")),
            Rule("poor", "fail", say("{ps_scale} {ps_score} on {ps_date}")),
            Rule("kps_good", "pass", say("KPS {ps_score} on {ps_date}, which corresponds to WHO 0 or 1")),
            Rule("kps_poor", "fail", say("KPS {ps_score} on {ps_date}, which corresponds to WHO 2 or worse")),
            Rule(
                "kps_ambiguous",
                "unknown",
                say("KPS {ps_score} on {ps_date}, which corresponds to WHO 1 or 2: a WHO score would decide"),
            ),
        ),
    ),
    Criterion(
        id="inc_informed_consent",
        kind="inclusion",
        protocol_text=(
            "Signed written informed consent before patient registration according to ICH/GCP, and "
            "national/local regulations"
        ),
        decided_as="informed_consent observation on or before R: true -> pass, false -> fail; none -> review",
        decided_in="criteria/observations",
        rules=latest_observation_rules(
            "informed consent signed", "informed consent refused", "informed consent", exclusion=False
        ),
    ),
    Criterion(
        id="exc_more_than_two_lines",
        kind="exclusion",
        protocol_text=(
            "Having received more than two lines of systemic therapy for MBC. If a treatment regimen has been "
            "de-escalated without adding other therapies, this is seen as one line of therapy."
        ),
        decided_as="more than 2 metastatic lines started on or before S -> fail; else pass",
        decided_in="criteria/therapy",
        parameters=("max_lines_before_scan", "regimen_window_days", "line_gap_days"),
        rules=(
            Rule("within_limit", "pass", "{lines_started:count metastatic line} started on or before " + AT),
            Rule(
                "too_many_lines",
                "fail",
                "{lines_started:count metastatic line} started on or before "
                + AT
                + ", more than {p.max_lines_before_scan}",
            ),
        ),
    ),
    Criterion(
        id="exc_other_malignancy",
        kind="exclusion",
        protocol_text=(
            "Other malignancy except carcinoma in situ and basal-cell and squamous cell carcinoma of the skin, "
            "unless the other malignancy was treated >=5 years ago with curative intent without the use of "
            "chemotherapy or radiation therapy"
        ),
        decided_as=(
            "other malignancy = behaviour 3, topography not C50, diagnosed on or before R, not skin (C44) with BCC "
            "(8090-8098) or SCC (8050-8084) morphology. It is exempt when intent is curative, chemotherapy and "
            "radiotherapy are both false, and last_treatment_date is on or before R - 5 years. Any non-exempt one "
            "-> fail; else any whose exemption cannot be decided (missing fields; a missing last_treatment_date "
            "with diagnosis on or before R - 5 years) -> unknown; else pass"
        ),
        decided_in="criteria/patient",
        parameters=("other_malignancy_years",),
        rules=(
            Rule(
                "none",
                "pass",
                say("no other malignancy diagnosed on or before the registration date {registration_date}"),
            ),
            Rule(
                "skin_carcinoma",
                "pass",
                say("{other_tumours:count other tumour}, none excluding: ")
                + OTHER_TUMOUR
                + " is a basal- or squamous-cell carcinoma of the skin",
            ),
            Rule(
                "exempt",
                "pass",
                say("{other_tumours:count other tumour}, none excluding: ")
                + OTHER_TUMOUR
                + " is exempt: curative intent, no chemotherapy or radiotherapy, last treated "
                + "{other_last_treatment_date}, on or before {exemption_date}",
            ),
            Rule("not_curative", "fail", NOT_EXEMPT + "treatment intent {other_treatment_intent}, not curative"),
            Rule("chemotherapy", "fail", NOT_EXEMPT + "treated with chemotherapy"),
            Rule("radiotherapy", "fail", NOT_EXEMPT + "treated with radiotherapy"),
            Rule(
                "treated_recently",
                "fail",
                NOT_EXEMPT + "last treated {other_last_treatment_date}, after {exemption_date} "
                "(less than {p.other_malignancy_years} years before registration)",
            ),
            Rule(
                "diagnosed_recently",
                "fail",
                NOT_EXEMPT + "diagnosed after {exemption_date} (less than {p.other_malignancy_years} years before "
                "registration)",
            ),
            Rule(
                "skin_morphology_missing",
                "unknown",
                OTHER_TUMOUR + ": a skin tumour without a morphology, which may or may not be a basal- or "
                "squamous-cell carcinoma",
            ),
            Rule("intent_missing", "unknown", UNDECIDED + "its treatment intent is not recorded"),
            Rule(
                "chemotherapy_missing",
                "unknown",
                UNDECIDED + "whether it was treated with chemotherapy is not recorded",
            ),
            Rule(
                "radiotherapy_missing",
                "unknown",
                UNDECIDED + "whether it was treated with radiotherapy is not recorded",
            ),
            Rule(
                "last_treatment_missing",
                "unknown",
                UNDECIDED + "the date of its last treatment is not recorded (diagnosed on or before {exemption_date})",
            ),
        ),
    ),
    Criterion(
        id="exc_pregnancy",
        kind="exclusion",
        protocol_text="Current pregnancy or breastfeeding.",
        decided_as=(
            "no observations table -> review; a true pregnant/breastfeeding observation starting on or before R "
            "and not ended before S -> fail; else pass"
        ),
        decided_in="criteria/observations",
        rules=(
            Rule(
                "no_observations_table",
                "review",
                say("the extract has no observations, so pregnancy and breastfeeding are not known: chart review"),
            ),
            Rule(
                "current",
                "fail",
                say("{pregnancy_code} from {pregnancy_start}")
                + choose("pregnancy_end", otherwise=" to {pregnancy_end}", missing=" (not ended)"),
            ),
            Rule(
                "none_current",
                "pass",
                say("no pregnancy or breastfeeding recorded between {screening_date} and {registration_date}"),
            ),
        ),
    ),
    Criterion(
        id="exc_medical_risk",
        kind="exclusion",
        protocol_text=(
            "Presence of any medical condition that would place the patient at unusual risk, up to the "
            "discretion of the clinician"
        ),
        decided_as=(
            "latest medical_risk observation on or before R: true -> fail, false -> pass, missing value -> "
            "unknown; none (or no observations table) -> review"
        ),
        decided_in="criteria/observations",
        rules=latest_observation_rules(
            "a medical condition placing the patient at unusual risk",
            "no medical condition placing the patient at unusual risk",
            "medical risk (clinician's judgement)",
            exclusion=True,
        ),
    ),
    Criterion(
        id="exc_psychosocial",
        kind="exclusion",
        protocol_text=(
            "Presence of any psychological, familial, sociological, or geographical condition potentially "
            "hampering compliance with the study protocol and follow-up schedule"
        ),
        decided_as=(
            "latest compliance_risk observation on or before R: true -> fail, false -> pass, missing value -> "
            "unknown; none (or no observations table) -> review"
        ),
        decided_in="criteria/observations",
        rules=latest_observation_rules(
            "a condition hampering compliance with the protocol",
            "no condition hampering compliance with the protocol",
            "risk to compliance (psychological, familial, social or geographical)",
            exclusion=True,
        ),
    ),
)

CRITERION_IDS: tuple[str, ...] = tuple(c.id for c in CRITERIA)
BY_ID: dict[str, Criterion] = {c.id: c for c in CRITERIA}

# Criteria every patient without a candidate event fails, all for that one reason (criteria.md, "Time").
FAILED_WITHOUT_EVENT: tuple[str, ...] = tuple(c.id for c in CRITERIA if any(r is NO_EVENT for r in c.rules))
