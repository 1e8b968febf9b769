"""oligo-cohort: pre-screen registry extracts for the COSMO oligoprogression trial."""

__version__ = "0.1.0"
