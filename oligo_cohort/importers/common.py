"""What every import adapter shares: source problems, date parsing, the drug matcher, the canonical frames.

An adapter reads its source as text, maps it to the canonical tables of the
data model (one pandas DataFrame per table, every value a string or None) and
records in a `MappingReport` what it read, mapped and dropped. Fatal problems
in the source are collected (every one, with table, column, row and value) and
raised together as `InputError`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from oligo_cohort.dictionary import drug_aliases, drugs, tables
from oligo_cohort.problems import Problem

ROW = "_row"  # 1-based row number of a record in its source table
# The site of a patient the source places at no hospital: site_id is required, and such a patient is still screened
# (its accrual counts at no real site).
UNKNOWN_SITE = "unknown"


def canonical_columns(table: str) -> tuple[str, ...]:
    """The data model's columns of `table`, in contract order."""
    return tables()[table].column_names


def empty_frame(table: str) -> pd.DataFrame:
    """A canonical table with no rows."""
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in canonical_columns(table)})


def canonical_frame(table: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    """Rows (dicts) as a canonical table: contract columns in order, every value text or None."""
    if not rows:
        return empty_frame(table)
    frame = pd.DataFrame(rows)
    for column in canonical_columns(table):
        if column not in frame:
            frame[column] = None
    return pd.DataFrame(
        {
            column: pd.Series([_as_text(v) for v in frame[column]], index=frame.index, dtype=object)
            for column in canonical_columns(table)
        }
    )


def sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A canonical table's rows sorted by their values, column by column (an empty value first): the order of the
    source's rows leaves no trace in the tables written."""
    values = [tuple("" if v is None else v for v in row) for row in frame.itertuples(index=False, name=None)]
    return frame.iloc[sorted(range(len(frame)), key=values.__getitem__)].reset_index(drop=True)


def _as_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text if text != "" else None


class SourceProblems:
    """Fatal problems found in a source, each naming table, column, row, id and value."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(
        self,
        table: str,
        column: str | None,
        row: int | None,
        value: object,
        message: str,
        record_id: str | None = None,
    ) -> None:
        text = None if value is None else str(value)
        self.items.append(Problem("fatal", table, column, row, record_id, text, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def in_row_order(self) -> list[Problem]:
        """The problems table by table (in the order the tables were read), each table's in the order of its rows
        (those naming no row first)."""
        tables = list(dict.fromkeys(p.table for p in self.items))
        return sorted(self.items, key=lambda p: (tables.index(p.table), -1 if p.row is None else p.row))


def names_unique(table: str, names: list[str], problems: SourceProblems) -> bool:
    """Whether no column name (as given: lower-case; empty names aside) occurs twice in a header; each name given
    twice is a problem, since which of the two columns holds the data cannot be known."""
    first_at: dict[str, int] = {}
    unique = True
    for position, name in enumerate(names, start=1):
        if name and name in first_at:
            problems.add(
                table, name, None, None, f"named twice in the header (columns {first_at[name]} and {position})"
            )
            unique = False
        first_at.setdefault(name, position)
    return unique


def nul_bytes(table: str, frame: pd.DataFrame, columns: Iterable[str], problems: SourceProblems) -> None:
    """Each value of these columns holding a NUL byte is a problem: no text holds one, the file is damaged."""
    for column in columns:
        damaged = frame[column].map(lambda v: isinstance(v, str) and "\x00" in v)
        for row, value in zip(frame.loc[damaged, ROW], frame.loc[damaged, column], strict=True):
            problems.add(
                table, column, int(row), value.replace("\x00", "\\x00"), "holds a NUL byte: the file is damaged"
            )


# A date, or a date and time as databases write them (`2021-05-05 08:30:00.123+02`, `2021-05-05T08:30Z`): the day.
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?\s?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$"
)
_DAY_FIRST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_date(value: object, *, day_first: bool = False) -> dt.date | None:
    """A source date (ISO date or datetime; `YYYYMMDD`; with `day_first` also `DD-MM-YYYY`) or None when unreadable."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    match = _ISO.match(text) or _COMPACT.match(text)
    try:
        if match:
            if match.re is _ISO and match[4] is not None:  # a time of day that is none: the text is not a date
                dt.time(int(match[4]), int(match[5]), int(match[6] or 0))
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        match = _DAY_FIRST.match(text) if day_first else None
        if match:
            return dt.date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None
    return None


def date_column(
    frame: pd.DataFrame,
    column: str,
    *,
    table: str,
    problems: SourceProblems,
    required: bool = False,
    day_first: bool = False,
    id_column: str | None = None,
) -> list[dt.date | None]:
    """Parse one date column of a source table; every unreadable (or missing required) value is a problem."""
    out: list[dt.date | None] = []
    values = frame[column] if column in frame else pd.Series([None] * len(frame), index=frame.index)
    rows = frame[ROW] if ROW in frame else pd.Series(range(1, len(frame) + 1), index=frame.index)
    ids = frame[id_column] if id_column and id_column in frame else None
    for position, (value, row) in enumerate(zip(values, rows, strict=True)):
        record = None if ids is None else _as_text(ids.iloc[position])
        if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == "":
            if required:
                problems.add(table, column, int(row), None, "a date is required here", record)
            out.append(None)
            continue
        parsed = parse_date(value, day_first=day_first)
        if parsed is None:
            expected = "YYYY-MM-DD or DD-MM-YYYY" if day_first else "YYYY-MM-DD"
            problems.add(table, column, int(row), value, f"not a calendar date ({expected})", record)
        out.append(parsed)
    return out


# A plain decimal number as registries write them: no thousands separators, no `2_4`, no `inf`/`nan`, ASCII
# digits only (Python's own float() and int() accept all of those).
_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?$")
MAX_WHOLE = 10**9  # no count, code, score or day count of a registry reaches it: beyond it is a typing error
MAX_DAYS = 150 * 366  # an interval of more than 150 years between two events of one patient is a typing error


def to_number(value: object) -> Decimal | None:
    """A finite number given as text (`12`, `12.5`, `1e3`, `-0`), else None (`nan`, `inf`, `1e400`, text)."""
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > 100 or not _NUMBER.match(text):
        return None
    number = Decimal(text)
    return number if number.is_finite() and abs(number) <= Decimal(10) ** 100 else None


def to_int(value: object) -> int | None:
    """A whole number given as text (`12`, `12.0`, `-0`) of at most a billion, else None."""
    number = to_number(value)
    if number is None or number != number.to_integral_value() or abs(number) > MAX_WHOLE:
        return None
    return int(number)


def to_days(value: object) -> int | None:
    """A number of days given as text, at most 150 years either way, else None."""
    days = to_int(value)
    return days if days is not None and abs(days) <= MAX_DAYS else None


def add_days(day: dt.date | None, days: object) -> dt.date | None:
    """`day` plus a number of days (text or int, as `to_days` reads it); None when either is missing or unusable,
    or the sum lies outside the calendar (before year 1, after 9999)."""
    number = to_days(days)
    if day is None or number is None:
        return None
    try:
        return day + dt.timedelta(days=number)
    except OverflowError:
        return None


# --- drug vocabulary -------------------------------------------------------------------------------------------

ANTINEOPLASTIC_ATC_PREFIXES = ("L01", "L02")  # antineoplastic agents; endocrine therapy


@dataclass(frozen=True)
class DrugMatch:
    """A source drug resolved to the project's vocabulary, or kept under its own name."""

    drug: str  # vocabulary name, or the lower-cased source name when unknown
    known: bool
    how: str  # name, alias, contained name, ATC, former ATC, ...


class DrugMatcher:
    """Vocabulary names, aliases (drug_aliases.csv) and ATC codes (current and former) → vocabulary drug."""

    def __init__(self) -> None:
        vocabulary = drugs()
        self.names = {d.drug.lower(): d.drug for d in vocabulary}
        self.aliases = {alias.lower(): drug for alias, drug in drug_aliases().items()}
        self.atc: dict[str, tuple[str, str]] = {}
        for d in vocabulary:  # the first drug listed for an ATC code wins (paclitaxel before nab-paclitaxel)
            if d.atc:
                self.atc.setdefault(d.atc.upper(), (d.drug, "ATC"))
            for former in filter(None, d.former_atc.split(";")):
                self.atc.setdefault(former.strip().upper(), (d.drug, "former ATC"))
        spellings = {**{n: n for n in self.names}, **self.aliases}
        # Longest spelling first so that "trastuzumab emtansine" wins over "trastuzumab".
        self._contained = sorted(spellings.items(), key=lambda item: -len(item[0]))
        self._combinations = {
            frozenset(d.regimen_components): d.drug for d in vocabulary if len(d.regimen_components) > 1
        }

    @staticmethod
    def normalise(text: str) -> str:
        return re.sub(r"\s+", " ", text.strip().lower())

    def by_name(self, text: str | None) -> DrugMatch | None:
        """Exact vocabulary name or alias (case and spacing ignored)."""
        if not text:
            return None
        name = self.normalise(text)
        if name in self.names:
            return DrugMatch(self.names[name], True, "name")
        if name in self.aliases:
            alias_target = self.aliases[name]
            return DrugMatch(self.names.get(alias_target.lower(), alias_target), True, "alias")
        return None

    def by_contained_name(self, text: str | None) -> DrugMatch | None:
        """A vocabulary name or alias found as whole words inside a longer text (`Ibrance 125 MG Oral Capsule`)."""
        if not text:
            return None
        name = self.normalise(text)
        for spelling, drug in self._contained:
            if re.search(rf"(?<![a-z0-9]){re.escape(spelling)}(?![a-z0-9])", name):
                target = self.names.get(drug.lower(), drug)
                return DrugMatch(target, True, "name in text")
        return None

    def by_atc(self, code: str | None) -> DrugMatch | None:
        """An ATC code at substance level, current or former (e.g. trastuzumab L01FD01 or L01XC03)."""
        if not code:
            return None
        found = self.atc.get(code.strip().upper().replace(" ", ""))
        return DrugMatch(found[0], True, found[1]) if found else None

    def combine(self, names: Iterable[str]) -> list[str]:
        """Vocabulary drugs of one product; components of a fixed combination become that combination."""
        found = sorted(set(names))
        for components, combination in self._combinations.items():
            if components <= set(found):
                found = sorted((set(found) - components) | {combination})
        return found


ATC_CODE = re.compile(r"^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$")


def looks_like_atc(text: str | None) -> bool:
    """An ATC code at substance level (7 characters, e.g. L01EF01)."""
    return bool(text) and bool(ATC_CODE.match(str(text).strip().upper()))
