"""The lines of therapy, as sql/criteria/therapy.sql decides them: inc_therapy_class, inc_line_1_or_2,
inc_disease_control_6m and exc_more_than_two_lines.
"""

from __future__ import annotations

import numpy as np

from oligo_cohort.engines.pandas_engine.calendar import add_months
from oligo_cohort.engines.pandas_engine.criteria.context import CODES, Context, record
from oligo_cohort.engines.pandas_engine.decisions import Decision, choose_rule

# D34: of several CR/PR/SD on the latest date, the least response is quoted (the codes are listed least first).
CONTROL_RANK = {response: rank for rank, response in enumerate(CODES.control_responses)}


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


def more_than_two_lines(c: Context) -> Decision:
    """More metastatic lines started on or before S than allowed -> fail."""
    rule = choose_rule(
        "exc_more_than_two_lines", [(c.lines_started > c.p.max_lines_before_scan, "too_many_lines")], "within_limit"
    )
    return record(c, "exc_more_than_two_lines", rule)
