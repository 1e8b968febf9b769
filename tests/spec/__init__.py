"""Spec tests: every COSMO criterion as small readable input tables and the outcome they must give, on every engine."""
