"""Import adapters: OMOP CDM v5.4 (with the Oncology extension) and NKR-style registry files → a canonical extract.

>>> from oligo_cohort.importers import import_omop
>>> result = import_omop("omop_folder/")          # or a DuckDB database file
>>> result.tables["tumours"]                        # canonical tables (pandas, text values)
>>> result.report.criteria                          # criteria the data cannot decide
>>> result.write("extract/")                        # CSV per table + mapping_report.md/.csv, atomically

Each result validates as `oligo-cohort validate` would, and screens with
`oligo_cohort.api.screen(result.tables)` or `screen("extract/")`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oligo_cohort.lazy_exports import lazy_exports

# OMOP drug exposures of one drug at most this many days apart form one episode (docs/importers.md). Here, where
# both `import_omop` and the command's `--help` read it without loading pandas.
DEFAULT_GAP_DAYS = 60

# Public name -> module, loaded on first use: `oligo-cohort import omop --help` need not load pandas and DuckDB.
_EXPORTS = {"DEFAULT_ITEMS": "nkr", "ImportResult": "extract", "import_nkr": "nkr", "import_omop": "omop"}
__all__ = ["DEFAULT_ITEMS", "ImportResult", "import_nkr", "import_omop"]
__getattr__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from oligo_cohort.importers.extract import ImportResult
    from oligo_cohort.importers.nkr import DEFAULT_ITEMS, import_nkr
    from oligo_cohort.importers.omop import import_omop
