"""Every distribution parameter of the synthetic registry, in one place, each with its source.

Sources are the figures collected in the project's domain facts (shared
reference, "Figures for a realistic synthetic registry", "Systemic drugs",
"Imaging cadence"); where they give a range the value chosen is said, and a
number with no published source is marked *assumption* with its reasoning.
Regimen menus live in `regimens.py`; everything else the generator draws
from is here.
"""

from __future__ import annotations

from typing import NamedTuple

# --------------------------------------------------------------------------------------------------
# Sites
# --------------------------------------------------------------------------------------------------
# Assumption: hospital volumes are right-skewed (a few academic centres, many small hospitals);
# a lognormal with sigma 0.9 gives a largest/median volume ratio of about 5 for 20 sites.
SITE_SIZE_LOG_SIGMA = 0.9
# Assumption: about 40 % of sites report from the start of the period, the rest join during its first 60 %.
SITE_OPEN_AT_START_SHARE = 0.4
SITE_LATEST_OPENING_FRACTION = 0.6
# Assumption: each hospital records performance status on one scale (Dutch practice is WHO/ECOG; KPS is rarer).
SITE_SCALE_SHARES = {"ECOG": 0.60, "WHO": 0.28, "KPS": 0.12}

# --------------------------------------------------------------------------------------------------
# Patients at the diagnosis of metastatic disease
# --------------------------------------------------------------------------------------------------
# Age: median 58-64 in trials (SONIA 64), mean 60.4 (EMERGE); 37-47 % aged 70+ in the Netherlands (SONABRE).
# A normal(63, 14) gives median 63 and about 31 % aged 70+ (between trials and the older Dutch registry).
AGE_MEAN_YEARS = 63.0
AGE_SD_YEARS = 14.0
AGE_MIN_YEARS = 24.0
AGE_MAX_YEARS = 96.0
# Assumption: male breast cancer is about 1 % of breast cancers.
MALE_SHARE = 0.01
# Premenopausal (ovarian suppression with endocrine therapy) below this age. Assumption: median menopause ~51.
PREMENOPAUSAL_AGE_YEARS = 50.0

# Subtypes: ER+/HER2- 54 %, HER2+ 20 %, triple negative 20 % (NKI cohort); the remaining 6 % (unknown
# receptor status) are spread proportionally, so the three shares below sum to one.
SUBTYPES = ("er_pos_her2_neg", "her2_pos", "triple_negative")
SUBTYPE_SHARES = (0.54 / 0.94, 0.20 / 0.94, 0.20 / 0.94)

# De novo metastatic at diagnosis: 18 % (Sweden 2009-16, population based), 26-27 % (MONALEESA),
# 40 % (EMERGE). A registry is population based; 0.22 sits between Sweden and the trials.
DE_NOVO_SHARE = 0.22
# Disease-free interval (breast diagnosis to distant relapse) for recurrent disease, lognormal, in years.
# Assumption: late relapses are typical of ER+ disease, early ones of triple-negative disease.
DISEASE_FREE_MEDIAN_YEARS = {"er_pos_her2_neg": 6.0, "her2_pos": 3.5, "triple_negative": 2.2}
DISEASE_FREE_LOG_SIGMA = 0.6
DISEASE_FREE_MIN_DAYS = 200

# --------------------------------------------------------------------------------------------------
# Metastatic sites (organs with lesions at metastatic diagnosis)
# --------------------------------------------------------------------------------------------------
# Bone 56-69 %, bone only 20-21 %, lung 37 %, liver 29 % of patients. Bone is drawn with exactly this
# share; other organs independently; a patient with no organ drawn and no bone gets one of
# FALLBACK_ORGANS, so lung and liver end above their base shares. The base shares are chosen so that the
# totals come out at the published ones: with q the chance of no distant organ besides bone, bone only is
# 0.60 q, lung 0.315 + 0.4 * 0.4 q and liver 0.242 + 0.4 * 0.35 q; q = 0.34 gives 20.5 %, 37 % and 29 %.
BONE_SHARE = 0.60
ORGAN_SHARES = {
    "lung": 0.315,
    "liver": 0.242,
    "distant_node": 0.21,
    "pleura": 0.06,
    "brain": 0.05,
    "skin": 0.02,
    "adrenal": 0.02,
    "peritoneum": 0.03,
}
FALLBACK_ORGANS = {"lung": 0.4, "liver": 0.35, "distant_node": 0.25}
# Assumption: lesions recorded per involved organ (registries keep a handful of target lesions).
LESIONS_PER_ORGAN_MAX = {"bone": 4, "lung": 3, "liver": 3, "distant_node": 2, "brain": 2}
LESIONS_PER_ORGAN_CONTINUE = 0.45  # geometric: chance of one more lesion in the organ, up to its maximum
# De novo disease keeps the breast primary (and often an axillary node) in place. Assumption.
DE_NOVO_PRIMARY_LESION_SHARE = 0.7
DE_NOVO_AXILLARY_NODE_SHARE = 0.5
RECURRENT_LOCOREGIONAL_SHARE = 0.05
# Assumption: median longest diameter (mm) at metastatic diagnosis per organ; lognormal sigma 0.45.
LESION_SIZE_MEDIAN_MM = {
    "bone": 16.0,
    "liver": 21.0,
    "lung": 14.0,
    "distant_node": 17.0,
    "brain": 12.0,
    "pleura": 18.0,
    "skin": 12.0,
    "adrenal": 18.0,
    "peritoneum": 15.0,
    "breast": 27.0,
    "axillary_node": 16.0,
}
LESION_SIZE_LOG_SIGMA = 0.45
LESION_SIZE_MIN_MM = 4.0
LESION_SIZE_MAX_MM = 150.0  # growth stops here (the data dictionary flags sizes above 300 mm)
# Assumption: SUVmax of breast cancer metastases on FDG-PET-CT, lognormal around 6.
SUV_MEDIAN = 6.0
SUV_LOG_SIGMA = 0.4
# Assumption: SUVmax of breast cancer metastases rarely exceeds about 40. A lesion that grows at every
# progression would otherwise compound past 100, which the data dictionary reads as an entry error.
SUV_MAX = 40.0
# Measurement noise between reads (relative sd). Assumption: ~3 % for diameters, ~5 % for SUVmax.
SIZE_NOISE_SD = 0.03
SUV_NOISE_SD = 0.05

# --------------------------------------------------------------------------------------------------
# Lines of therapy for metastatic disease
# --------------------------------------------------------------------------------------------------
MAX_LINES = 6  # lines beyond the sixth are rare; a patient stops after it
# First line starts this many days after the metastatic diagnosis (biopsy, staging). Assumption.
FIRST_LINE_DELAY_DAYS = (10, 56)
# Median time on a line (months), by subtype and line (1, 2, 3, 4+); lognormal with LINE_LOG_SIGMA.
# ER+/HER2-: endocrine + CDK4/6 24.7 (SONIA; 22.8-29.7 in practice); second line 8-16 -> 10.
# HER2+ and triple negative later lines: assumptions scaled from the same pattern.
LINE_MEDIAN_MONTHS = {
    "er_pos_her2_neg": (24.7, 10.0, 6.5, 4.5),
    "her2_pos": (18.5, 13.0, 8.0, 5.5),
    "triple_negative": (8.0, 5.0, 3.8, 3.2),
}
LINE_LOG_SIGMA = 0.75
LINE_MIN_DAYS = 35
# Chance of starting a next line once line 1, 2, 3, 4+ has ended, by progression or by death on it (a patient
# who dies on a line starts none): 30 % start none after line 1, 24 % none after line 2 (PRAEGNANT, all
# subtypes); HER2+: 29.6 % no treatment beyond line 1. Later lines: assumption (fewer for triple-negative
# disease). After a progression the chance is this share divided by the chance of not dying on the line.
NEXT_LINE_SHARE = {
    "er_pos_her2_neg": (0.70, 0.76, 0.70, 0.60),
    "her2_pos": (0.704, 0.76, 0.70, 0.60),
    "triple_negative": (0.70, 0.76, 0.58, 0.50),
}
# Days from the progression scan to the start of the next line. Assumption.
NEXT_LINE_GAP_DAYS = (14, 42)
# Drugs stop this many days after the progression scan. Assumption.
STOP_AFTER_PROGRESSION_DAYS = (0, 14)
# Chance of dying on a line before any progression, per line (1, 2, 3, 4+). Assumption.
DEATH_ON_LINE_SHARE = (0.03, 0.05, 0.08, 0.12)
# After the last line: death recorded with this chance, lognormal time from the last progression.
DEATH_AFTER_LAST_LINE_SHARE = 0.9
DEATH_AFTER_LAST_LINE_MEDIAN_DAYS = 130.0
DEATH_AFTER_LAST_LINE_LOG_SIGMA = 0.9
# A drug of a regimen stopped early for toxicity, the rest going on (de-escalation). Assumption.
TOXICITY_STOP_SHARE = 0.08
# Chance that a paclitaxel episode is switched to nab-paclitaxel (hypersensitivity): a substitution,
# the same line. Assumption.
NAB_PACLITAXEL_SWITCH_SHARE = 0.05

# --------------------------------------------------------------------------------------------------
# Progression patterns and local therapy
# --------------------------------------------------------------------------------------------------
# Oligoprogression among progressions on endocrine therapy: 21 % (23/108). Other therapy classes are an
# assumption (somewhat lower on chemotherapy, where progression is more often diffuse).
OLIGO_SHARE = {"endocrine": 0.21, "her2": 0.19, "targeted": 0.16, "chemo": 0.13}
# Progression seen clinically or by markers with no measurable imaging change. Assumption.
UNMEASURED_PROGRESSION_SHARE = 0.08
# Oligoprogression: one lesion (else two) of one organ; by growth (else new lesions); at the primary
# or locoregional nodes when those are present. Assumption.
OLIGO_ONE_LESION_SHARE = 0.65
OLIGO_GROWTH_SHARE = 0.7
OLIGO_LOCOREGIONAL_SHARE = 0.15
# Growth of a progressing lesion relative to the line's reference, and the size it reaches at least.
GROWTH_FACTOR = (1.22, 1.9)
GROWTH_FLOOR_MM = (16.0, 28.0)
# Poly-progression: several new or growing lesions in one organ (else two or more organs). Assumption.
POLY_SINGLE_ORGAN_SHARE = 0.4
POLY_GROWTH_SHARE = 0.6  # each existing lesion grows with this chance in a poly-progression
NEW_LESION_SIZE_MM = (6.0, 22.0)
# Oligoprogressions treated locally (SABR, surgery, RFA) while the same line goes on - the practice COSMO
# studies; 61 % of oligoprogressions had sites amenable to local therapy. Assumption: half of those.
LOCAL_THERAPY_CONTINUE_SHARE = 0.3
CONTINUED_LINE_MEDIAN_MONTHS = 8.0
ABLATED_SIZE_FACTOR = 0.35
# Confirmation FDG-PET-CT after an oligoprogression (protocol: 42 days after the first screening scan).
CONFIRMATION_PET_SHARE = 0.7
CONFIRMATION_PET_IN_WINDOW_SHARE = 0.85  # in [S+35, S+49]; else just outside it
CONFIRMATION_PET_SHOWS_MORE_SHARE = 0.2  # the PET finds further lesions (not confirmed)
# Responses: share of lines with a partial (else stable) response by therapy class; complete response
# share among responders. Assumption, in line with first-line trial response rates.
PARTIAL_RESPONSE_SHARE = {"endocrine": 0.45, "her2": 0.7, "targeted": 0.45, "chemo": 0.45}
COMPLETE_RESPONSE_SHARE = 0.06
RESPONSE_NADIR = {"complete": (0.0, 0.15), "partial": (0.4, 0.7), "stable": (0.8, 1.05)}
RESPONSE_HALF_TIME_DAYS = 90.0  # lesions reach their nadir over about this time

# --------------------------------------------------------------------------------------------------
# Imaging
# --------------------------------------------------------------------------------------------------
# Cadence: CT every 2-4 cycles on chemotherapy, every 2-6 months on endocrine therapy.
SCAN_INTERVAL_DAYS = {"endocrine": (70, 182), "her2": (63, 105), "targeted": (56, 105), "chemo": (49, 84)}
SCAN_JITTER_DAYS = 10
# Usual modality per patient, and the chance that any one study uses another. Assumption.
PATIENT_MODALITY_SHARES = {"CT": 0.85, "FDG-PET-CT": 0.10, "MRI": 0.05}
MODALITY_SWITCH_SHARE = 0.06
SWITCH_MODALITY_SHARES = {"MRI": 0.35, "bone_scan": 0.25, "FDG-PET-CT": 0.25, "CT": 0.15}
# Chest X-ray or ultrasound without measured lesions, per regular study. Assumption.
PLAIN_STUDY_SHARE = 0.02
# A fresh baseline study before a later line when the progression study is older than BASELINE_STALE_AFTER_DAYS
# (else the progression study serves as the baseline, and is repeated only now and then). Assumption.
LINE_BASELINE_SCAN_SHARE = 0.85
LINE_BASELINE_REPEAT_SHARE = 0.1
BASELINE_STALE_AFTER_DAYS = 35
BASELINE_BEFORE_LINE_DAYS = (0, 28)
DIAGNOSTIC_SCAN_BEFORE_METASTASIS_DAYS = (0, 21)

# --------------------------------------------------------------------------------------------------
# Performance status
# --------------------------------------------------------------------------------------------------
# WHO/ECOG 0-1 in 92 % at metastatic diagnosis (EMERGE). Distribution of 0..4 at line 1; each later line
# shifts a patient's score up with LINE_WORSENING_SHARE (assumption).
PS_SHARES_LINE_1 = (0.44, 0.48, 0.055, 0.02, 0.005)
PS_LINE_WORSENING_SHARE = 0.12
# Karnofsky equivalents (published tables: 90-100 -> 0, 70-80 -> 1, 50-60 -> 2, 30-40 -> 3, 10-20 -> 4);
# score 1 is written 80 or 70 (the latter undecidable on the WHO scale).
KPS_FOR_ECOG = ((100, 90), (80, 70), (60, 50), (40, 30), (20, 10))
# Assessments recorded: at each line start, at progression studies, at a confirmation PET. Assumption.
PS_AT_LINE_START_SHARE = 0.85
PS_AT_PROGRESSION_SHARE = 0.7
PS_AT_CONFIRMATION_SHARE = 0.5

# --------------------------------------------------------------------------------------------------
# Breast tumour registration
# --------------------------------------------------------------------------------------------------
# ICD-O-3 topography of the breast primary (C50.4 upper outer quadrant most frequent). Assumption.
BREAST_TOPOGRAPHY_SHARES = {
    "C50.4": 0.38,
    "C50.9": 0.18,
    "C50.2": 0.12,
    "C50.8": 0.10,
    "C50.1": 0.08,
    "C50.5": 0.07,
    "C50.3": 0.05,
    "C50.0": 0.01,
    "C50.6": 0.01,
}
# ICD-O-3 morphology: ductal/NST most, lobular about 12 % (mostly ER+). Assumption.
BREAST_MORPHOLOGY_SHARES = {
    "8500": 0.78,
    "8520": 0.11,
    "8522": 0.05,
    "8480": 0.02,
    "8211": 0.01,
    "8575": 0.02,
    "8530": 0.01,
}
# Most valid basis of diagnosis; non-histological bases are a few %. Assumption.
BASIS_SHARES_RECURRENT = {"histology_primary": 0.955, "cytology": 0.03, "clinical": 0.015}
BASIS_SHARES_DE_NOVO = {
    "histology_primary": 0.70,
    "histology_metastasis": 0.22,
    "cytology": 0.05,
    "clinical": 0.025,
    "death_certificate": 0.005,
}
RECURRENT_TNM_MX_SHARE = 0.04
RECURRENT_RADIOTHERAPY_SHARE = 0.7
DE_NOVO_RADIOTHERAPY_SHARE = 0.2
# Adjuvant endocrine therapy is given for 5 years unless relapse comes first.
ADJUVANT_ENDOCRINE_DAYS = 5 * 365
NEOADJUVANT_CHEMO_SHARE = 0.35

# --------------------------------------------------------------------------------------------------
# Other primary tumours
# --------------------------------------------------------------------------------------------------
# Assumption: about 10 % of breast cancer patients have another primary in a registry, half of them skin
# BCC/SCC; the rest from common second cancers. Each kind: share, topographies, morphology, behaviour,
# how often treated with chemotherapy and radiotherapy. ICD-O-3 codes from the domain facts.
OTHER_PRIMARY_SHARE = 0.10
SECOND_OTHER_PRIMARY_SHARE = 0.15  # of those with one, a second


class OtherPrimaryKind(NamedTuple):
    """A kind of other primary tumour: its share among them, ICD-O-3 codes, and how it is treated."""

    name: str
    share: float
    topographies: tuple[str, ...]
    morphologies: tuple[str, ...]
    behaviour: str
    chemotherapy_share: float
    radiotherapy_share: float


OTHER_PRIMARY_KINDS = (
    OtherPrimaryKind("skin_bcc", 0.36, ("C44.3", "C44.5", "C44.6", "C44.7"), ("8090", "8091", "8092", "8093", "8097"),
                     "3", 0.0, 0.03),
    OtherPrimaryKind("skin_scc", 0.10, ("C44.3", "C44.4", "C44.6"), ("8070", "8071", "8072", "8052"), "3", 0.0, 0.1),
    OtherPrimaryKind("melanoma", 0.07, ("C44.5", "C44.6", "C44.7"), ("8720", "8743"), "3", 0.05, 0.05),
    OtherPrimaryKind("cervix_in_situ", 0.06, ("C53.9",), ("8070",), "2", 0.0, 0.0),
    OtherPrimaryKind("bladder_in_situ", 0.03, ("C67.9",), ("8130",), "2", 0.0, 0.0),
    OtherPrimaryKind("colorectal", 0.11, ("C18.7", "C18.2", "C20.9"), ("8140",), "3", 0.45, 0.2),
    OtherPrimaryKind("endometrium", 0.08, ("C54.1",), ("8380",), "3", 0.1, 0.35),
    OtherPrimaryKind("thyroid", 0.05, ("C73.9",), ("8260",), "3", 0.0, 0.1),
    OtherPrimaryKind("lung", 0.05, ("C34.1", "C34.3"), ("8140", "8070"), "3", 0.6, 0.6),
    OtherPrimaryKind("kidney", 0.04, ("C64.9",), ("8312",), "3", 0.0, 0.0),
    OtherPrimaryKind("lymphoma", 0.05, ("C77.9",), ("9680",), "3", 0.85, 0.3),
)  # fmt: skip
OTHER_PRIMARY_YEARS_BEFORE_BREAST = (-25.0, 6.0)  # diagnosed up to 25 years before, 6 after the breast cancer
OTHER_PRIMARY_CURATIVE_SHARE = 0.92
OTHER_PRIMARY_TREATMENT_DAYS = (14, 200)

# --------------------------------------------------------------------------------------------------
# Observations (rarely registered) and supportive drugs
# --------------------------------------------------------------------------------------------------
# After an oligoprogression: amenability to local therapy recorded, 61 % amenable (21 % oligo, 61 % of
# them amenable); consent for a trial recorded for some of those. Assumption for the recording shares.
LAT_AMENABLE_RECORDED_SHARE = 0.35
LAT_AMENABLE_TRUE_SHARE = 0.61
CONSENT_RECORDED_SHARE = 0.6
CONSENT_TRUE_SHARE = 0.8
LAT_AMENABLE_RECORD_DAYS = (7, 45)
CONSENT_RECORD_DAYS = (14, 48)
# Pregnancy: some young women are diagnosed with metastatic disease while pregnant (pregnancy-associated
# breast cancer, up to about 10 % of breast cancers under 40 - assumption from that order of magnitude); a
# pregnancy during the metastatic course is rarer; a screening pregnancy test is recorded for some young women
# at an oligoprogression (negative: value false). Assumption.
PREGNANCY_AGE_MAX_YEARS = 45.0
PREGNANCY_AT_DIAGNOSIS_SHARE = 0.1
PREGNANCY_WEEKS_AT_DIAGNOSIS_DAYS = (30, 250)
PREGNANCY_DURING_COURSE_SHARE = 0.02
PREGNANCY_TEST_SHARE = 0.3
BREASTFEEDING_AFTER_PREGNANCY_SHARE = 0.3
# Medical risk and compliance (exc_medical_risk, exc_psychosocial): judged by the clinician when local therapy or
# a trial is discussed, so recorded only after some oligoprogressions (about as often as amenability is recorded,
# at the same visit), and judged again a few weeks later for some. No published rates: assumptions of the order
# seen in screening logs of trials of local therapy for oligometastatic disease, where comorbidity excludes about
# one patient in ten and distance or psychosocial reasons about one in twenty.
RISK_RECORDED_SHARE = 0.3
RISK_RECORD_DAYS = (7, 45)
RISK_REASSESSED_SHARE = 0.1
RISK_REASSESSMENT_DAYS = (14, 60)
MEDICAL_RISK_TRUE_SHARE = 0.1
COMPLIANCE_RISK_TRUE_SHARE = 0.05
# Bone agents for bone metastases (denosumab or zoledronic acid) and ovarian suppression for
# premenopausal women on endocrine therapy; both supportive (never a line of their own). Assumption.
BONE_AGENT_SHARE = 0.55
BONE_AGENT_DENOSUMAB_SHARE = 0.65
OVARIAN_SUPPRESSION_SHARE = 0.8

# --------------------------------------------------------------------------------------------------
# Imperfection (on by default; `--clean` turns it off)
# --------------------------------------------------------------------------------------------------
# Assumption: shares of missing values in optional columns, as seen in registry extracts.
MISSING_SHARE = {
    ("patients", "birth_date"): 0.01,
    ("patients", "sex"): 0.02,
    ("tumours", "morphology"): 0.03,
    ("tumours", "basis_of_diagnosis"): 0.025,
    ("tumours", "tnm_m"): 0.03,
    ("tumours", "metastasis_date"): 0.06,  # of recurrent disease: relapse dates are often unrecorded
    ("tumours", "treatment_intent"): 0.04,
    ("tumours", "chemotherapy"): 0.04,
    ("tumours", "radiotherapy"): 0.04,
    ("tumours", "last_treatment_date"): 0.06,
    ("systemic_therapy", "end_date"): 0.01,  # of ended episodes: then read as ongoing
    ("systemic_therapy", "setting"): 0.05,
    ("lesions", "size_mm"): 0.003,
    ("lesions", "suv_max"): 0.01,  # of lesions on FDG-PET-CT studies
    ("observations", "end_date"): 0.3,  # of pregnancies and breastfeeding: then read as still true
}
UNKNOWN_BASIS_SHARE = 0.01  # basis recorded as `unknown`
UNKNOWN_SETTING_SHARE = 0.02  # setting recorded as `unknown`
SEX_UNKNOWN_SHARE = 0.002  # recorded as U
BIRTH_DATE_TYPO_SHARE = 0.004  # a century or decade slip making the patient a child (an entry error)
# Drug names: a misspelling or a name outside the vocabulary, and whole lines of blinded trial drugs.
UNKNOWN_DRUG_NAME_SHARE = 0.005
TRIAL_DRUG_LINE_SHARE = 0.005
UNKNOWN_DRUG_NAMES = {
    "palbociclib": "palbociclb",
    "letrozole": "letrozol",
    "anastrozole": "anastrazole",
    "capecitabine": "capecitabin",
    "fulvestrant": "fulvestrant 500 mg",
    "paclitaxel": "paclitaxel weekly",
    "trastuzumab": "trastuzumab-xxxx",
    "exemestane": "exemestan",
}
TRIAL_DRUG_NAMES = ("study medication", "investigational drug", "blinded trial medication")
# Patients with partial imaging: some of their studies come without lesion rows. Lines without
# response assessments: the response of those studies was never registered.
PARTIAL_IMAGING_PATIENT_SHARE = 0.03
PARTIAL_IMAGING_STUDY_SHARE = 0.6
NO_RESPONSE_RECORDS_PATIENT_SHARE = 0.2
RESPONSE_RECORD_MISSING_SHARE = 0.1
RESPONSE_NOT_EVALUABLE_SHARE = 0.01
