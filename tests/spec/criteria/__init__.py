"""Spec tests of the criteria: one file per criterion, named by its id."""
