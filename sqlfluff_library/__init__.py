"""The Jinja context of the SQL models, for sqlfluff (`.sqlfluff`: `library_path`).

The same names and filters the engines render the models with (`oligo_cohort.engines.models`), so that the
linter reads the SQL the engines run, clinical codes and criterion columns included.
"""

from oligo_cohort.engines.models import template_context, template_filters

globals().update(template_context())
SQLFLUFF_JINJA_FILTERS = template_filters()
