"""The site-accrual notebook forecasts from the demo extract: three figures and the planner's view.

That every notebook runs and is stored without outputs is checked in tests/commands/test_notebooks.py; this
checks what this one shows (slow: it starts a kernel and screens the demo).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "03_site_accrual.ipynb"


@pytest.mark.slow
def test_the_notebook_runs_and_forecasts(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    printed = "".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )
    assert "prior only: median" in printed
    images = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert len(images) == 3
