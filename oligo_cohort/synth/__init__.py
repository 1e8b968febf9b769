"""Synthetic registry extracts at any scale, with a realistic clinical mix (`oligo-cohort synth`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from oligo_cohort.lazy_exports import lazy_exports

# Loaded on first use: `oligo-cohort synth --help` need not load NumPy and Arrow.
__all__ = ["generate_extract"]
__getattr__ = lazy_exports(__name__, {"generate_extract": "generate"})

if TYPE_CHECKING:
    from oligo_cohort.synth.generate import generate_extract
