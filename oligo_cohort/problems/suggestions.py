"""Did you mean: the vocabulary name a value not in the vocabulary most likely means.

Only drug names have a vocabulary worth suggesting from (`data_dictionary/drugs.csv` and its aliases); a
finding's kind names the suggester that applies to it. A required table or column the extract lacks is matched
against the names it has that the model does not know (`closest_name`): `patient.csv` for `patients`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from functools import cache


def suggest_drug(value: str | None) -> str | None:
    """The vocabulary name a drug name not in the vocabulary most likely means, or None.

    A vocabulary name (or alias) that the value starts with, followed by a dose or form (`fulvestrant 500 mg`),
    else the closest spelling (difflib ratio >= 0.8: `palbociclb`, `anastrazole`, `letrozol`). An alias found is
    named with its drug: `herceptin (trastuzumab)`.
    """
    if not value:
        return None
    return _drug_suggestion(" ".join(value.lower().split()))


@cache
def _drug_vocabulary() -> tuple[dict[str, str], tuple[str, ...]]:
    from oligo_cohort.dictionary import drug_aliases, drugs

    names = {d.drug: d.drug for d in drugs()} | drug_aliases()
    return names, tuple(sorted(names, key=len, reverse=True))


@cache
def _drug_suggestion(value: str) -> str | None:
    names, longest_first = _drug_vocabulary()
    if value in names:
        return None
    prefixed = next(
        (name for name in longest_first if value.startswith(name) and not value[len(name)].isalpha()),
        None,
    )
    found = prefixed or next(iter(difflib.get_close_matches(value, list(names), n=1, cutoff=0.8)), None)
    if found is None:
        return None
    return found if names[found] == found else f"{found} ({names[found]})"


def _no_suggestion(value: str | None) -> str | None:
    return None


_SUGGESTERS: dict[str, Callable[[str | None], str | None]] = {"unknown_drug": suggest_drug}


def suggestion_for(kind: str, value: str | None) -> str | None:
    """What a finding of `kind` about `value` most likely meant, when its kind has a vocabulary to ask."""
    return _SUGGESTERS.get(kind, _no_suggestion)(value)


def closest_name(wanted: str, present: Iterable[str]) -> str | None:
    """Of the names `present` (tables or columns the model does not know), the one most likely meant for `wanted`,
    or None: compared without case, spaces and punctuation (`Patient-ID` for `patient_id`), else by spelling
    (difflib ratio >= 0.8: `patient` for `patients`, `modalty` for `modality`)."""
    candidates = {_bare(name): name for name in sorted(present, key=str)}
    bare = _bare(wanted)
    if bare in candidates:
        return candidates[bare]
    found = difflib.get_close_matches(bare, list(candidates), n=1, cutoff=0.8)
    return candidates[found[0]] if found else None


def _bare(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", str(name).lower())
