"""What the report shows, as its writer hands it over: the views, figures, provenance and optional sections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from oligo_cohort.attrition.views import Views
from oligo_cohort.disclosure import DisclosureChoice


@dataclass
class AccrualSection:
    """The accrual forecast as shown: headline sentences, a forecast table, the fan chart, notes, or why none."""

    target: int
    start: str
    headline: Sequence[str] = ()
    forecast: pd.DataFrame | None = None
    figure_svg: str | None = None
    notes: Sequence[str] = ()
    unavailable: str | None = None  # why no forecast could be made
    duration: str = "48 months"  # the planned accrual duration, as worded


@dataclass
class ReportContent:
    """Everything the report shows; the views are already disclosure-controlled when control is on."""

    title: str
    facts: Mapping[str, str]  # provenance: label -> value
    parameters: Mapping[str, object]
    patients: Views
    events: Views | None = None
    whatif_table: pd.DataFrame | None = None
    whatif_status: pd.DataFrame | None = None
    whatif_labels: tuple[str, str] = ("A", "B")
    whatif_parameters: pd.DataFrame | None = None
    findings: pd.DataFrame | None = None
    disclosure: DisclosureChoice = field(default_factory=lambda: DisclosureChoice("applied"))
    assumptions: Sequence[str] = field(default_factory=tuple)
    figures: Mapping[str, str] = field(default_factory=dict)  # consort, attrition_bars, upset → SVG
    site_figures: Sequence[tuple[str, str]] = ()  # (site, SVG), in site order
    input_files: Sequence[tuple[str, str]] = ()  # (file name, SHA-256)
    # Other files the report's sections read (the reviewed extract's), label -> (file name, SHA-256)
    more_files: Mapping[str, Sequence[tuple[str, str]]] = field(default_factory=dict)
    accrual: AccrualSection | None = None
    subtitle: str = ""
    extra_html: Sequence[str] = ()  # sections added by other modules (the chart review stage), before the assumptions
    # What those sections put in the summary: (label, value, detail) in plain text, one card each.
    extra_cards: Sequence[tuple[str, str, str]] = ()

    @property
    def disclosure_control(self) -> bool:
        """True when the counts shown are disclosure-controlled."""
        return self.disclosure.applied
