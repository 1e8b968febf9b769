"""A criterion decided over every screening unit: the rule each unit took, its outcome, and the facts recorded.

The rules, their outcomes and the facts a criterion records are shared
definitions (`oligo_cohort.criteria`, `oligo_cohort.facts`); which rule a unit
takes and the values of its facts are this engine's own. A decision holds its
facts in the engine's working forms, all aligned with the units:

- date: float day numbers (NaN = missing);
- integer: numbers (NaN = missing);
- text: an Arrow string array, or strings (None / NaN = missing);
- boolean: booleans;
- text_list: an Arrow list array (missing = no item).

`struct` turns the facts of chosen units into the Arrow struct the result
contract fixes (`result_facts`: `rule`, then the criterion's facts in
`Criterion.facts` order, typed as `oligo_cohort.facts` says).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from oligo_cohort.criteria import BY_ID, OUTCOMES, Criterion
from oligo_cohort.facts import FACTS, FactType

ARROW_TYPES: dict[FactType, pa.DataType] = {
    "date": pa.date32(),
    "integer": pa.int64(),
    "text": pa.string(),
    "boolean": pa.bool_(),
    "text_list": pa.list_(pa.string()),
}


def choose_rule(criterion: str, cases: list[tuple[np.ndarray, str]], otherwise: str) -> pd.Categorical:
    """The rule of the first case that holds per unit (else `otherwise`), a categorical of the criterion's rules."""
    names = [rule.name for rule in BY_ID[criterion].rules]
    unknown = sorted({name for _, name in cases} - set(names) | ({otherwise} - set(names)))
    if unknown:
        raise ValueError(f"{criterion}: {unknown} are not its rules (oligo_cohort.criteria)")
    codes = np.select(
        [np.asarray(condition, dtype=bool) for condition, _ in cases],
        [names.index(name) for _, name in cases],
        names.index(otherwise),
    )
    return pd.Categorical.from_codes(codes.astype(np.int8), categories=names)


@dataclass(frozen=True)
class Decision:
    """One criterion over all units: the rule taken (categories: the criterion's rules) and its facts."""

    criterion: Criterion
    rule: pd.Categorical
    facts: dict[str, object]

    def __post_init__(self) -> None:
        expected = set(self.criterion.facts)
        if set(self.facts) != expected:
            raise ValueError(f"{self.criterion.id} records {sorted(self.facts)}, its rules speak of {sorted(expected)}")
        if list(self.rule.categories) != [rule.name for rule in self.criterion.rules]:
            raise ValueError(f"{self.criterion.id}: rules must be chosen with choose_rule")

    @property
    def outcome(self) -> pd.Categorical:
        """Each unit's outcome: that of the rule it took (the criteria's mapping, not this engine's)."""
        outcome_codes = np.array([OUTCOMES.index(rule.outcome) for rule in self.criterion.rules], dtype=np.int8)
        return pd.Categorical.from_codes(outcome_codes[self.rule.codes], categories=list(OUTCOMES))

    def struct(self, rows: np.ndarray) -> pa.StructArray:
        """The rule and facts of the units at `rows`, as the struct column of `result_facts`."""
        rows = np.asarray(rows, dtype=np.int64)
        names = ["rule", *self.criterion.facts]
        rule_names = pa.array([rule.name for rule in self.criterion.rules], type=pa.string())
        rules = rule_names.take(pa.array(self.rule.codes[rows]))
        arrays = [rules, *(to_arrow(self.facts[name], FACTS[name].type, rows) for name in self.criterion.facts)]
        return pa.StructArray.from_arrays(arrays, names=names)


def to_arrow(values: object, kind: FactType, rows: np.ndarray) -> pa.Array:
    """A fact's values at `rows` as an Arrow array of the fact's type."""
    if isinstance(values, pa.Array):
        return values.take(pa.array(rows)).cast(ARROW_TYPES[kind])
    if kind in ("date", "integer"):
        numbers = np.asarray(values, dtype=np.float64)[rows]
        missing = np.isnan(numbers)
        whole = np.where(missing, 0, numbers).astype(np.int64)
        if kind == "date":
            return pa.array(whole.astype(np.int32), type=pa.int32(), mask=missing).cast(pa.date32())
        return pa.array(whole, type=pa.int64(), mask=missing)
    if kind == "boolean":
        return pa.array(np.asarray(values, dtype=bool)[rows], type=pa.bool_())
    assert kind == "text", f"{kind} facts are Arrow arrays"
    return pa.array(np.asarray(values, dtype=object)[rows], type=pa.string(), from_pandas=True)
