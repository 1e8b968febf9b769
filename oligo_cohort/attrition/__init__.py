"""Attrition by criterion: outcome histogram, tables, what-if, CONSORT charts and the feasibility report.

>>> from oligo_cohort.attrition import histogram_of_result, attrition_table, consort_figure
>>> table = attrition_table(histogram_of_result(result))
>>> consort_figure(table)

Definitions are in docs/attrition.md and in `oligo_cohort.attrition.tables`.
"""

from oligo_cohort.attrition.charts import attrition_bars_figure, save_figure, upset_figure
from oligo_cohort.attrition.consort import consort_figure
from oligo_cohort.attrition.feasibility import write_feasibility_report
from oligo_cohort.attrition.histogram import OutcomeHistogram, build_histogram, histogram_of_result
from oligo_cohort.attrition.tables import (
    attrition_table,
    controlled_attrition,
    controlled_impact,
    failure_sets,
    impact_table,
)
from oligo_cohort.attrition.views import Options, Views, compute_views, controlled, result_views
from oligo_cohort.attrition.whatif import WhatIf, compare_attrition, protocol_with, whatif

__all__ = [
    "Options",
    "OutcomeHistogram",
    "Views",
    "WhatIf",
    "attrition_bars_figure",
    "attrition_table",
    "build_histogram",
    "compare_attrition",
    "compute_views",
    "consort_figure",
    "controlled",
    "controlled_attrition",
    "controlled_impact",
    "failure_sets",
    "histogram_of_result",
    "impact_table",
    "protocol_with",
    "result_views",
    "save_figure",
    "upset_figure",
    "whatif",
    "write_feasibility_report",
]
