"""Chart review round trip: the questions a screen leaves open, the answers a site returns, and the review stage.

>>> from oligo_cohort.review import export_review, import_answers
>>> export_review("screen-out/", "review/")                       # review.csv + review.xlsx per open item
>>> import_answers(["review/review.xlsx"], "extract/", "extract-reviewed/")   # answers -> canonical records
>>> # then screen extract-reviewed/ and compare: oligo_cohort.review.flow.review_flow(before, after, audit)

The items that can be asked, and why: `oligo_cohort.review.items` and docs/chart-review.md.
"""

from oligo_cohort.review.export import REVIEW_COLUMNS, ReviewExport, export_review, review_rows
from oligo_cohort.review.importer import ReviewImport, import_answers

__all__ = ["REVIEW_COLUMNS", "ReviewExport", "ReviewImport", "export_review", "import_answers", "review_rows"]
