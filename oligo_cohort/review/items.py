"""What chart review can be asked: one item per fact a research nurse can look up, the criterion it decides,
the question in plain language, the answers allowed, and the canonical record an answer becomes.

An item is asked for a patient only while its criterion is open (`review`, or `unknown` for the items that resolve
a missing value) and its answer can change the criterion: the six observation codes of the data model decide the
five chart-review criteria; a WHO performance status and a response assessment resolve `inc_who_ps_0_1` and
`inc_disease_control_6m` when the registry holds none that decides them. Every answer becomes a dated record of
the canonical model that the engines already read (an `observations`, `performance_status` or
`response_assessments` row); registry records are never edited, so a later, contradicting record is decided by
the criteria's own "latest record" rules. Why other unknown values are not asked: docs/chart-review.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oligo_cohort.clinical_codes import clinical_codes
from oligo_cohort.criteria import CRITERION_IDS
from oligo_cohort.dictionary import NUMBER_PATTERN

YES, NO = "yes", "no"
CODES = clinical_codes()
RESPONSES = ("CR", "PR", "SD", "PD")  # the answers as the question lists them, best first


@dataclass(frozen=True)
class Item:
    """One askable fact."""

    code: str  # the value of the `item` column
    criterion: str  # the criterion its answer decides
    open_outcome: str  # the outcome of that criterion that makes the item worth asking: review or unknown
    question: str  # plain language; {line}, {line_start}, {s} are filled from the registry
    answers: tuple[str, ...]  # what may be typed, canonical spelling
    favourable: tuple[str, ...]  # answers under which the criterion passes
    table: str  # the canonical table an answer is added to
    window: (
        str  # which answer dates the criterion reads: "R" (on or before R), "ps" ([S - 60, R]), "line" (line start, S)
    )

    @property
    def allowed_answers(self) -> str:
        """The `allowed_answers` cell: what may be typed."""
        return " / ".join(self.answers)

    @property
    def is_observation(self) -> bool:
        return self.table == "observations"


_DATE_OF_JUDGEMENT = "answer_date: the date of that judgement as the chart records it."

ITEMS: tuple[Item, ...] = (
    Item(
        code="response",
        criterion="inc_disease_control_6m",
        open_outcome="unknown",
        question=(
            "How did the disease respond to line {line} (started {line_start}) before the screening scan of {s}? "
            "Answer PD if progression was recorded at any evaluation in between; otherwise the response at the "
            "latest evaluation: CR (complete), PR (partial) or SD (stable). answer_date: the date of that evaluation."
        ),
        answers=RESPONSES,
        favourable=tuple(response for response in RESPONSES if response in CODES.control_responses),
        table="response_assessments",
        window="line",
    ),
    Item(
        code="lat_amenable",
        criterion="inc_lat_amenable",
        open_outcome="review",
        question=(
            "Can every progressing lesion be treated locally (surgery, stereotactic radiotherapy or radiofrequency "
            "ablation) with the aim of removing or destroying it, as judged by the tumour board or the treating "
            "physician? " + _DATE_OF_JUDGEMENT
        ),
        answers=(YES, NO),
        favourable=(YES,),
        table="observations",
        window="R",
    ),
    Item(
        code="who_ps",
        criterion="inc_who_ps_0_1",
        open_outcome="unknown",
        question=(
            "What was the patient's WHO performance status at the latest assessment before the planned "
            "registration: 0 fully active, 1 restricted in strenuous activity, 2 up and about more than half of "
            "the day, 3 in bed or chair more than half of the day, 4 bedbound? answer_date: the date of that "
            "assessment."
        ),
        answers=("0", "1", "2", "3", "4"),
        favourable=tuple(str(score) for score in range(CODES.who_highest_passing_score + 1)),
        table="performance_status",
        window="ps",
    ),
    Item(
        code="informed_consent",
        criterion="inc_informed_consent",
        open_outcome="review",
        question=(
            "Has the patient signed written informed consent for the COSMO study? Answer no if the patient "
            "declined. answer_date: the date of the signature (or of the refusal)."
        ),
        answers=(YES, NO),
        favourable=(YES,),
        table="observations",
        window="R",
    ),
    Item(
        code="pregnant",
        criterion="exc_pregnancy",
        open_outcome="review",
        question=(
            "Is the patient pregnant? answer_date: the date the chart records it (for example a pregnancy test)."
        ),
        answers=(YES, NO),
        favourable=(NO,),
        table="observations",
        window="R",
    ),
    Item(
        code="breastfeeding",
        criterion="exc_pregnancy",
        open_outcome="review",
        question="Is the patient breastfeeding? answer_date: the date the chart records it.",
        answers=(YES, NO),
        favourable=(NO,),
        table="observations",
        window="R",
    ),
    Item(
        code="medical_risk",
        criterion="exc_medical_risk",
        open_outcome="review",
        question=(
            "Does the patient have a medical condition that would place them at unusual risk in the study, in the "
            "treating physician's judgement? " + _DATE_OF_JUDGEMENT
        ),
        answers=(YES, NO),
        favourable=(NO,),
        table="observations",
        window="R",
    ),
    Item(
        code="compliance_risk",
        criterion="exc_psychosocial",
        open_outcome="review",
        question=(
            "Is there a psychological, family, social or geographical reason (for example the distance to the "
            "hospital) that could keep the patient from following the study protocol and its follow-up visits? "
            + _DATE_OF_JUDGEMENT
        ),
        answers=(YES, NO),
        favourable=(NO,),
        table="observations",
        window="R",
    ),
)

BY_CODE: dict[str, Item] = {item.code: item for item in ITEMS}
ITEM_ORDER: dict[str, int] = {item.code: k for k, item in enumerate(ITEMS)}

assert [CRITERION_IDS.index(i.criterion) for i in ITEMS] == sorted(CRITERION_IDS.index(i.criterion) for i in ITEMS), (
    "items are listed in protocol order of their criteria"
)


def items_for(criterion: str, outcome: str) -> tuple[Item, ...]:
    """The items that can decide a criterion with this outcome (none when it is already decided)."""
    return tuple(i for i in ITEMS if i.criterion == criterion and i.open_outcome == outcome)


def normalise_answer(item: Item, raw: str) -> str | None:
    """The canonical spelling of an answer to `item` (case and spaces aside; 1.0 for 1), or None if not allowed."""
    text = raw.strip()
    if item.code == "who_ps":
        # A score as numbers are written in an extract (`1.0` from a workbook is 1; not `1_0`, `nan` or `١`, which
        # Python's float() reads too).
        if len(text) > 40 or not re.fullmatch(NUMBER_PATTERN, text):
            return None
        number = float(text)
        text = str(int(number)) if number.is_integer() else text
    for allowed in item.answers:
        if text.lower() == allowed.lower():
            return allowed
    return None
