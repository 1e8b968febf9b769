"""`python -m oligo_cohort` runs the command line."""

import sys

from oligo_cohort.cli import main

if __name__ == "__main__":
    sys.exit(main())
