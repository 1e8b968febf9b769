"""Attrition by criterion: outcome histogram, tables, what-if, CONSORT charts and the feasibility report.

>>> from oligo_cohort.attrition import histogram_of_result, attrition_table, consort_figure
>>> table = attrition_table(histogram_of_result(result))
>>> consort_figure(table)

Definitions are in docs/attrition.md and in `oligo_cohort.attrition.tables`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oligo_cohort.lazy_exports import lazy_exports

# Public name -> module. Loaded on first use, so that the command line (which imports the `attrition` and
# `report` command modules to build its parser) does not pay for Matplotlib and DuckDB on every start.
_EXPORTS = {
    "Options": "views",
    "OutcomeHistogram": "histogram",
    "Views": "views",
    "WhatIf": "comparison",
    "attrition_bars_figure": "charts",
    "attrition_table": "tables",
    "build_histogram": "histogram",
    "compare_attrition": "comparison",
    "compute_views": "views",
    "consort_figure": "consort",
    "controlled": "views",
    "controlled_attrition": "tables",
    "controlled_impact": "tables",
    "controlled_sets": "tables",
    "controlled_status": "tables",
    "failure_sets": "tables",
    "histogram_of_result": "histogram",
    "impact_table": "tables",
    "protocol_with": "comparison",
    "result_views": "views",
    "save_figure": "charts",
    "site_figures": "consort",
    "upset_figure": "charts",
    "whatif": "comparison",
    "wide_by_group": "views",
    "write_feasibility_report": "feasibility",
}

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
    "controlled_sets",
    "controlled_status",
    "failure_sets",
    "histogram_of_result",
    "impact_table",
    "protocol_with",
    "result_views",
    "save_figure",
    "site_figures",
    "upset_figure",
    "whatif",
    "wide_by_group",
    "write_feasibility_report",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)


if TYPE_CHECKING:
    from oligo_cohort.attrition.charts import attrition_bars_figure, save_figure, upset_figure
    from oligo_cohort.attrition.comparison import WhatIf, compare_attrition, protocol_with, whatif
    from oligo_cohort.attrition.consort import consort_figure, site_figures
    from oligo_cohort.attrition.feasibility import write_feasibility_report
    from oligo_cohort.attrition.histogram import OutcomeHistogram, build_histogram, histogram_of_result
    from oligo_cohort.attrition.tables import (
        attrition_table,
        controlled_attrition,
        controlled_impact,
        controlled_sets,
        controlled_status,
        failure_sets,
        impact_table,
    )
    from oligo_cohort.attrition.views import Options, Views, compute_views, controlled, result_views, wide_by_group
