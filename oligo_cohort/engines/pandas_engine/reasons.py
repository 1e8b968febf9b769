"""One short sentence per criterion for each patient's best unit, quoting the facts that decided it.

Sentences are built column-wise (`text.sentence` fills a template from Arrow
string columns), and only for the best units: 18 rows per patient.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from oligo_cohort.criteria import CRITERION_IDS, OUTCOMES
from oligo_cohort.engines.pandas_engine.inputs import Inputs
from oligo_cohort.engines.pandas_engine.outcomes import OUTCOME_TYPE
from oligo_cohort.engines.pandas_engine.text import Text, as_text, iso_dates, join_by_group, numbers, pick, sentence
from oligo_cohort.engines.pandas_engine.units import Units

NO_EVENT = "no candidate screening scan (no study with a progressive or undetermined lesion during an active line)"
NO_LINE = "no metastatic line active on {s}"


class Context:
    """What the sentence builders read, for the best units only."""

    def __init__(self, inputs: Inputs, units: Units, best: pd.DataFrame, facts: dict[str, pd.DataFrame]) -> None:
        self.inputs = inputs
        self.p = inputs.p
        self.units = units
        self.u = best.reset_index(drop=True)
        self.n = len(self.u)
        self.facts = {c: f.reset_index(drop=True) for c, f in facts.items()}
        self.event = self.u["is_event"].to_numpy(dtype=bool)
        self.active = self.u["active"].to_numpy(dtype=bool)
        self.day = self.u["day"].to_numpy(dtype=np.float64)
        self.s = iso_dates(self.day)
        self.r = iso_dates(self.u["registration"].to_numpy(dtype=np.float64))
        self.as_of = str(iso_dates(np.array([inputs.settings.as_of]))[0])
        self.line = sentence(
            "line {n} from {start}", n=numbers(self.u["line_number"]), start=iso_dates(self.u["line_start"].to_numpy())
        )

    def study_ids(self, column: str) -> pa.Array:
        """Study ids of a study-code column of the units ('?' when there is none)."""
        ids = np.append(self.inputs.imaging["study_id"].to_numpy(dtype=object), "?")
        return pa.array(ids[self.u[column].to_numpy(dtype=np.int64)], type=pa.string())

    def after_s(self, days: int) -> pa.Array:
        return iso_dates(self.day + days)

    def outcome(self, criterion: str) -> np.ndarray:
        return self.facts[criterion]["outcome"].to_numpy(dtype=object)


def _invasive(c: Context) -> Text:
    f = c.facts["inc_invasive_breast_cancer"]
    has = (c.u["tumour_pos"] >= 0).to_numpy()
    return pick(
        c.n,
        [(~has, sentence("no invasive breast tumour (C50, behaviour 3) diagnosed on or before {s}", s=c.s))],
        sentence("index tumour {t}: basis of diagnosis {b}", t=as_text(f["tumour_id"]), b=as_text(f["basis"])),
    )


def _metastatic(c: Context) -> Text:
    f = c.facts["inc_metastatic"]
    has = (c.u["tumour_pos"] >= 0).to_numpy()
    met = f["metastasis_date"].to_numpy(dtype=np.float64)
    return pick(
        c.n,
        [(~has, sentence("no index breast tumour on or before {s}", s=c.s))],
        sentence(
            "index tumour tnm_m {m}, metastasis date {d}, S {s}",
            m=as_text(f["tnm_m"]),
            d=iso_dates(met, missing="not recorded"),
            s=c.s,
        ),
    )


def _lesion_lists(c: Context) -> tuple[pa.Array, pa.Array]:
    lesions = c.units.scan_lesions
    lesions = lesions[lesions["unit"].isin(c.u["unit"])]
    names = c.inputs.lesions[["lesion", "lesion_id"]].drop_duplicates("lesion").set_index("lesion")["lesion_id"]
    lesion_id = names.reindex(lesions["lesion"].to_numpy()).to_numpy(dtype=object)
    label = lesion_id + " (" + lesions["organ"].astype(str).to_numpy(dtype=object) + ")"
    unit = lesions["unit"].to_numpy()
    state = lesions["progressive"]
    is_progressive = state.fillna(False).to_numpy(dtype=bool)
    is_undetermined = state.isna().to_numpy()
    keys = c.u["unit"].to_numpy()
    progressive = join_by_group(unit[is_progressive], label[is_progressive]).reindex(keys)
    undetermined = join_by_group(unit[is_undetermined], label[is_undetermined]).reindex(keys)
    return as_text(progressive, "none"), as_text(undetermined, "none")


def _oligoprogression(c: Context) -> Text:
    progressive, undetermined = _lesion_lists(c)
    has_reference = c.u["has_reference"].fillna(False).to_numpy(dtype=bool)
    nadir = c.u["nadir"].fillna(False).to_numpy(dtype=bool)
    reference = pick(
        c.n,
        [(nadir, "per-lesion nadir reference"), (has_reference, sentence("reference {r}", r=c.study_ids("ref_study")))],
        "no reference study",
    )
    text = sentence(
        "on S {s} ({ref}): progressive {p}; undetermined {u}", s=c.s, ref=reference, p=progressive, u=undetermined
    )
    return pick(c.n, [(~c.event, NO_EVENT)], text)


def _line_drugs(c: Context) -> Text:
    """The drugs of each unit's active line (carried ones included), sorted, comma-separated."""
    table = c.units.line_table
    members = table.members[table.members["line_id"].isin(c.u["line_id"])]
    episode_drugs = table.episodes["drug"].to_numpy(dtype=object)
    drugs = pd.DataFrame({"line_id": members["line_id"].to_numpy(), "drug": episode_drugs[members["episode"]]})
    drugs = drugs.drop_duplicates().sort_values(["line_id", "drug"])
    return as_text(join_by_group(drugs["line_id"], drugs["drug"]).reindex(c.u["line_id"].to_numpy()), "?")


def _therapy_class(c: Context) -> Text:
    drugs = _line_drugs(c)
    outcome = c.outcome("inc_therapy_class")
    return pick(
        c.n,
        [
            (~c.active, sentence(NO_LINE, s=c.s)),
            (
                outcome == "pass",
                sentence(
                    "{line} ({drugs}) holds an endocrine, targeted, chemotherapy or immunotherapy drug",
                    line=c.line,
                    drugs=drugs,
                ),
            ),
        ],
        sentence("{line} ({drugs}) holds only drugs missing from the vocabulary", line=c.line, drugs=drugs),
    )


def _line_1_or_2(c: Context) -> Text:
    return pick(c.n, [(~c.active, sentence(NO_LINE, s=c.s))], sentence("active {line} on S {s}", line=c.line, s=c.s))


def _disease_control(c: Context) -> Text:
    f = c.facts["inc_disease_control_6m"]
    enough = f["six_months"].to_numpy(dtype=np.float64)
    first_pd = f["first_pd"].to_numpy(dtype=np.float64)
    months = str(c.p.min_months_on_line)
    return pick(
        c.n,
        [
            (~c.active, sentence(NO_LINE, s=c.s)),
            (
                c.day < enough,
                sentence(
                    "S {s} is before {line} + {m} months ({d})", s=c.s, line=c.line, m=months, d=iso_dates(enough)
                ),
            ),
            (
                ~np.isnan(first_pd),
                sentence("PD on {d}, during {line} before S {s}", d=iso_dates(first_pd), line=c.line, s=c.s),
            ),
            (
                c.outcome("inc_disease_control_6m") == "pass",
                sentence(
                    "{k} CR/PR/SD assessment(s) and no PD during {line} before S {s}",
                    k=numbers(f["n_controlled"]),
                    line=c.line,
                    s=c.s,
                ),
            ),
        ],
        sentence("no response assessment during {line} before S {s}", line=c.line, s=c.s),
    )


def _same_modality(c: Context) -> Text:
    outcome = c.outcome("inc_same_modality")
    start = c.u["line_start"].to_numpy(dtype=np.float64)
    window = sentence(
        "[{a}, {b}]",
        a=iso_dates(start - c.p.reference_window_before_days),
        b=iso_dates(start + c.p.reference_window_after_days),
    )
    modality = as_text(c.u["modality"], "?")
    reference = c.study_ids("ref_study")
    return pick(
        c.n,
        [
            (~c.event, NO_EVENT),
            (outcome == "pass", sentence("reference study {r} is {m}, as S", r=reference, m=modality)),
            (
                outcome == "fail",
                sentence(
                    "no {m} study in the reference window {w}; reference {r} is {rm}",
                    m=modality,
                    w=window,
                    r=reference,
                    rm=as_text(c.inputs.imaging["modality"].reindex(c.u["ref_study"].to_numpy()), "?"),
                ),
            ),
        ],
        sentence("no imaging study in the reference window {w}", w=window),
    )


def _imaging_window(c: Context) -> Text:
    f = c.facts["inc_imaging_window"]
    p = c.p
    death = f["death_date"].to_numpy(dtype=np.float64)
    closed = np.broadcast_to(np.asarray(f["closed"], dtype=bool), (c.n,))
    return pick(
        c.n,
        [
            (~c.event, NO_EVENT),
            (
                death < c.day + p.imaging_window_earliest_days,
                sentence(
                    "died {d}, before S + {k} ({e})",
                    d=iso_dates(death),
                    k=str(p.imaging_window_earliest_days),
                    e=c.after_s(p.imaging_window_earliest_days),
                ),
            ),
            (
                closed,
                sentence(
                    "registration window closed: cut-off {a} is after S + {k} ({e})",
                    a=c.as_of,
                    k=str(p.imaging_window_latest_days),
                    e=c.after_s(p.imaging_window_latest_days),
                ),
            ),
        ],
        sentence("registration planned on {r} (S + {k})", r=c.r, k=str(p.registration_days)),
    )


def _pet_confirmation(c: Context) -> Text:
    f = c.facts["inc_pet_confirmation"]
    outcome = c.outcome("inc_pet_confirmation")
    n_pet = f["n_pet"].to_numpy(dtype=np.int64)
    window = sentence("[{a}, {b}]", a=c.after_s(c.p.pet_window_start_days), b=c.after_s(c.p.pet_window_end_days))
    return pick(
        c.n,
        [
            (~c.event, NO_EVENT),
            (outcome == "pass", sentence("an FDG-PET-CT in {w} shows the oligoprogression", w=window)),
            (
                (outcome == "fail") & (n_pet > 0),
                sentence("{k} FDG-PET-CT(s) in {w}, none shows the oligoprogression", k=numbers(n_pet), w=window),
            ),
            (
                outcome == "fail",
                sentence("no FDG-PET-CT in {w}, a window closed by the cut-off {a}", w=window, a=c.as_of),
            ),
            (n_pet > 0, sentence("oligoprogression undetermined on the FDG-PET-CT(s) in {w}", w=window)),
        ],
        sentence("no FDG-PET-CT yet; window {w} still open at the cut-off {a} (pending)", w=window, a=c.as_of),
    )


def _observation(criterion: str, code: str, *, says_no_table: bool = False) -> Callable[[Context], Text]:
    """The latest `code` observation on or before R, named with its date and answer (`says_no_table`: the reason
    names an absent observations table as such)."""

    def build(c: Context) -> Text:
        facts = c.facts[criterion]
        answer = facts["answer"].to_numpy(dtype=object)
        date = iso_dates(facts["date"].to_numpy(dtype=np.float64))
        latest = "(latest on or before R {r})"
        return pick(
            c.n,
            [
                (answer == "true", sentence("{code} true on {d} " + latest, code=code, d=date, r=c.r)),
                (answer == "false", sentence("{code} false on {d} " + latest, code=code, d=date, r=c.r)),
                (
                    answer == "missing",
                    sentence("{code} recorded without a value on {d} " + latest, code=code, d=date, r=c.r),
                ),
                (answer == "both", sentence("{code} both true and false on {d}: chart review", code=code, d=date)),
                (
                    np.full(c.n, says_no_table and not c.inputs.settings.has_observations),
                    "no observations table in the extract: chart review",
                ),
            ],
            sentence("no {code} observation on or before R {r}: chart review", code=code, r=c.r),
        )

    return build


def _age(c: Context) -> Text:
    f = c.facts["inc_age_18"]
    birth = c.inputs.patients["birth_date"].to_numpy(dtype=np.float64)[c.u["pid"].to_numpy()]
    return pick(
        c.n,
        [(np.isnan(birth), "no birth date")],
        sentence("{a} full years at R {r} (born {b})", a=numbers(f["age"]), r=c.r, b=iso_dates(birth)),
    )


def _performance(c: Context) -> Text:
    f = c.facts["inc_who_ps_0_1"]
    date = f["date"].to_numpy(dtype=np.float64)
    window = sentence("[{a}, {r}]", a=c.after_s(-c.p.performance_status_window_days), r=c.r)
    return pick(
        c.n,
        [(np.isnan(date), sentence("no performance status in {w}", w=window))],
        sentence(
            "{scale} {score} on {d} (latest in {w})",
            scale=as_text(f["scale"], "?"),
            score=numbers(f["score"]),
            d=iso_dates(date),
            w=window,
        ),
    )


def _lines_before(c: Context) -> Text:
    started = numbers(c.facts["exc_more_than_two_lines"]["lines_started"])
    return sentence("{k} metastatic line(s) started on or before S {s}", k=started, s=c.s)


def _other_malignancy(c: Context) -> Text:
    f = c.facts["exc_other_malignancy"]
    outcome = c.outcome("exc_other_malignancy")
    n = f["n_considered"].to_numpy(dtype=np.int64)
    return pick(
        c.n,
        [
            (outcome == "fail", sentence("other malignancy, not exempt: {t}", t=as_text(f["failing"], "?"))),
            (
                outcome == "unknown",
                sentence("other malignancy whose exemption cannot be decided: {t}", t=as_text(f["undecided"], "?")),
            ),
            (n == 0, sentence("no other malignant primary diagnosed on or before R {r}", r=c.r)),
        ],
        sentence("{k} other primary tumour(s) on or before R {r}: skin BCC/SCC or exempt", k=numbers(n), r=c.r),
    )


def _pregnancy(c: Context) -> Text:
    f = c.facts["exc_pregnancy"]
    outcome = c.outcome("exc_pregnancy")
    return pick(
        c.n,
        [
            (outcome == "review", "no observations table in the extract: chart review"),
            (
                outcome == "fail",
                sentence(
                    "{code} recorded from {d}, current between S {s} and R {r}",
                    code=as_text(f["code"], "?"),
                    d=iso_dates(f["start"].to_numpy(dtype=np.float64)),
                    s=c.s,
                    r=c.r,
                ),
            ),
        ],
        "no current pregnancy or breastfeeding recorded",
    )


BUILDERS: dict[str, Callable[[Context], Text]] = {
    "inc_invasive_breast_cancer": _invasive,
    "inc_metastatic": _metastatic,
    "inc_oligoprogression": _oligoprogression,
    "inc_therapy_class": _therapy_class,
    "inc_line_1_or_2": _line_1_or_2,
    "inc_disease_control_6m": _disease_control,
    "inc_same_modality": _same_modality,
    "inc_imaging_window": _imaging_window,
    "inc_pet_confirmation": _pet_confirmation,
    "inc_lat_amenable": _observation("inc_lat_amenable", "lat_amenable"),
    "inc_age_18": _age,
    "inc_who_ps_0_1": _performance,
    "inc_informed_consent": _observation("inc_informed_consent", "informed_consent"),
    "exc_more_than_two_lines": _lines_before,
    "exc_other_malignancy": _other_malignancy,
    "exc_pregnancy": _pregnancy,
    "exc_medical_risk": _observation("exc_medical_risk", "medical_risk", says_no_table=True),
    "exc_psychosocial": _observation("exc_psychosocial", "compliance_risk", says_no_table=True),
}


def reason_rows(inputs: Inputs, units: Units, best: np.ndarray, decided: dict[str, pd.DataFrame]) -> pa.Table:
    """Reasons of the best units: pid, event (study code), criterion, outcome, reason; protocol order per patient."""
    context = Context(inputs, units, units.units[best], {c: f[best] for c, f in decided.items()})
    n, k = context.n, len(CRITERION_IDS)
    order = np.argsort(context.u["pid"].to_numpy(), kind="stable")
    # Rows run patient by patient, each patient's criteria in protocol order; texts are stacked criterion by criterion.
    take = (np.arange(k)[None, :] * n + order[:, None]).reshape(-1)
    texts = [BUILDERS[c](context) for c in CRITERION_IDS]
    reason = pa.concat_arrays([t if isinstance(t, pa.Array) else pa.array([t] * n, pa.string()) for t in texts])
    outcome_codes = np.concatenate([context.facts[c]["outcome"].astype(OUTCOME_TYPE).cat.codes for c in CRITERION_IDS])
    return pa.table(
        {
            "pid": np.repeat(context.u["pid"].to_numpy()[order], k),
            "event": np.repeat(context.u["event"].to_numpy()[order], k),
            "criterion": pa.DictionaryArray.from_arrays(np.tile(np.arange(k, dtype=np.int8), n), list(CRITERION_IDS)),
            "outcome": pa.DictionaryArray.from_arrays(outcome_codes[take].astype(np.int8), list(OUTCOMES)),
            "reason": reason.take(pa.array(take)),
        }
    )
