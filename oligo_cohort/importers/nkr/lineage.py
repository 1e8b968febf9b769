"""Where each canonical column of an NKR import comes from, named in the import's own item names, for the mapping
report."""

from __future__ import annotations

from oligo_cohort.importers.common import UNKNOWN_SITE
from oligo_cohort.importers.nkr.reader import DIAGNOSIS_EPISODE, NkrFile


def describe_lineage(nkr: NkrFile) -> None:
    """Where each canonical column comes from, in the item names of this import, and how records are merged."""
    i = nkr.name
    s = nkr.report.source_of
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
    s(
        "response_assessments",
        "response",
        f"{i('response')}: CR, PR, SD, PD, NE; MR (minor response) → SD; other codes are problems",
    )
    nkr.report.note(
        f"records of one tumour are merged: each tumour item comes from the first record giving it, the "
        f"diagnosis record ({i('episode')} {DIAGNOSIS_EPISODE}) before follow-up ones, then the earliest "
        f"incidence date, then the record's values; each patient item likewise, records of an invasive breast "
        f"cancer first, then diagnosis records, then the latest incidence date. Records giving another value "
        f"are listed under 'Records that disagree'."
    )
    nkr.report.note(
        "tumours.treatment_intent has no NKR item in this layout: it stays empty, so exc_other_malignancy is unknown "
        "for patients with another primary unless no exemption could apply."
    )
