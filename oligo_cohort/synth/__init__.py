"""Synthetic registry extracts at any scale, with a realistic clinical mix (`oligo-cohort synth`)."""

from __future__ import annotations

from oligo_cohort.synth.generate import generate_extract

__all__ = ["generate_extract"]
