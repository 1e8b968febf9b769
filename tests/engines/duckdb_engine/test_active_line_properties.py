"""The active line at a date, on generated treatment histories (sql/derived/lines_of_therapy.sql, scan_lines.sql).

criteria.md: "The line active at S is the one with start <= S <= end + 30 days (the latest started, if
several)"; exc_more_than_two_lines counts the "metastatic lines started on or before S". scan_lines does not
search every line for that: it takes the latest line started on or before S as the only one that can be active,
which holds because of three properties of the lines (declared in sql/models.yaml). Here hypothesis generates one
patient's drug episodes, the protocol's line parameters and dates to screen, to which the days on and around
every episode's start and end are added. The lines must have the three properties, and every date's active line
and count of lines must be what the spec's words give when every line is looked at.

Episodes end on or after they start, as validation requires (an episode that ends before it starts is refused).
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oligo_cohort.engines.models import declarations
from tests.engines.duckdb_engine.loaded import Registry, build, days_after, rows

START = "2022-01-03"
AS_OF = "2026-06-30"  # after every date generated: the tables hold what a cut-off would keep
# Drugs of several classes, a fixed combination and its parts (membership by component), and a name missing
# from the vocabulary (it defines lines all the same).
DRUGS = (
    "letrozole",
    "fulvestrant",
    "palbociclib",
    "capecitabine",
    "pertuzumab+trastuzumab",
    "trastuzumab",
    "zz-unlisted",
)

episodes = st.lists(
    st.tuples(
        st.sampled_from(DRUGS),
        st.integers(min_value=0, max_value=900),  # start, days after START
        st.one_of(st.none(), st.integers(min_value=0, max_value=400)),  # days it lasts; None: ongoing
    ),
    min_size=1,
    max_size=7,
)
parameters = st.fixed_dictionaries(
    {
        "regimen_window_days": st.integers(min_value=0, max_value=60),
        "line_gap_days": st.integers(min_value=0, max_value=200),
        "line_end_grace_days": st.integers(min_value=0, max_value=60),
    }
)
# What scan_lines relies on, as declared (and checked on the demo and a generated extract) in sql/models.yaml.
LINE_PROPERTIES = next(d for d in declarations() if d.table == "lines_of_therapy").expressions

more_days = st.lists(st.integers(min_value=-30, max_value=1200), min_size=1, max_size=12, unique=True)


def _date(value: object) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(str(value))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(episodes, parameters, more_days)
def test_the_active_line_is_the_spec_s_on_generated_histories(
    history: list[tuple[str, int, int | None]], protocol: dict[str, int], days: list[int]
) -> None:
    registry = Registry().patient().breast_tumour()
    grace = protocol["line_end_grace_days"]
    # Lines start and end on episodes' dates: studies on and around them test every boundary.
    boundaries: set[int] = set()
    for drug, start, lasts in history:
        begins = days_after(START, start)
        registry.episode(drug, begins, None if lasts is None else days_after(begins, lasts))
        boundaries |= {start - 1, start}
        if lasts is not None:
            boundaries |= {start + lasts, start + lasts + grace, start + lasts + grace + 1}
    dates_screened = sorted(boundaries | set(days))
    for number, day in enumerate(dates_screened):
        registry.study(f"s{number}", days_after(START, day))
    con = build(registry.connect(AS_OF, **protocol), until="scan_lines")

    # The properties as sql/models.yaml declares them, held on every generated history.
    assert len(LINE_PROPERTIES) == 3, "sql/models.yaml: the three properties of lines_of_therapy scan_lines needs"
    for expression in LINE_PROPERTIES:
        broken = rows(con, f"SELECT line_number FROM lines_of_therapy WHERE ({expression}) IS NOT TRUE")
        assert broken == [], (expression, rows(con, "SELECT * FROM lines_of_therapy ORDER BY line_number"))
    lines = [
        (number, _date(start), _date(end))
        for number, start, end in rows(
            con, "SELECT line_number, line_start, line_end FROM lines_of_therapy WHERE context_no = 1 ORDER BY 1"
        )
    ]
    assert [number for number, *_ in lines] == list(range(1, len(lines) + 1))

    screened = rows(
        con,
        "SELECT coalesce(study_id, 'cut-off'), screening_date, lines_started, line_number, line_start, line_end "
        "FROM scan_lines WHERE context_no = 1",
    )
    assert len(screened) == len(dates_screened) + 1  # every study is after the tumour's diagnosis, and the cut-off
    for point, day, lines_started, *active in screened:
        on = _date(day)
        started = [line for line in lines if line[1] <= on]
        holding = [line for line in started if line[2] is None or on <= line[2] + dt.timedelta(days=grace)]
        expected = max(holding, key=lambda line: line[0], default=None)
        assert lines_started == len(started), point
        assert tuple(active) == (
            (None, None, None) if expected is None else (expected[0], expected[1].isoformat(), _iso(expected[2]))
        ), (point, lines)


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()
