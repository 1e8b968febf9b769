"""Chart review round trip: the questions a screen leaves open, the answers a site returns, and the review stage.

>>> from oligo_cohort.review import export_review, import_answers
>>> export_review("screen-out/", "review/")                       # review.csv + review.xlsx per open item
>>> import_answers(["review/review.xlsx"], "extract/", "extract-reviewed/")   # answers -> canonical records
>>> # then screen extract-reviewed/ and compare: oligo_cohort.review.flow.review_flow(before, after, audit)

The items that can be asked, and why: `oligo_cohort.review.items` and docs/chart-review.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oligo_cohort.lazy_exports import lazy_exports

# Public name -> module, loaded on first use: `oligo-cohort review --help` need not load pandas and DuckDB.
_EXPORTS = {
    "REVIEW_COLUMNS": "export",
    "ReviewExport": "export",
    "ReviewImport": "importer",
    "export_review": "export",
    "import_answers": "importer",
    "review_rows": "export",
}
__all__ = ["REVIEW_COLUMNS", "ReviewExport", "ReviewImport", "export_review", "import_answers", "review_rows"]
__getattr__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from oligo_cohort.review.export import REVIEW_COLUMNS, ReviewExport, export_review, review_rows
    from oligo_cohort.review.importer import ReviewImport, import_answers
