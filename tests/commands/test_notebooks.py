"""Every notebook in notebooks/ runs top to bottom with a real Jupyter kernel, and is stored with outputs cleared.

Run from a folder of its own, a notebook leaves nothing there: the patient-level files it writes go to a temporary
folder (so a second run, or a run from notebooks/ in a checkout, finds nothing in its way and adds nothing to the
repository), and every figure a cell gives is shown as an image, not as the words `<Figure size ...>`.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_the_notebooks_exist():
    names = {path.name for path in NOTEBOOKS}
    assert {"01_screen_registry_extract.ipynb", "02_attrition_by_criterion.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    # Run in a scratch folder so nothing a notebook writes lands in the repository.
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors
    assert any(cell.outputs for cell in notebook.cells if cell.cell_type == "code")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert not left, f"{path.name} wrote {left} into the folder it ran in"
    unshown = [
        output["data"]["text/plain"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.get("data", {}).get("text/plain", "").startswith("<Figure size") and "image/png" not in output["data"]
    ]
    assert not unshown, f"{path.name}: a figure shown as words, not drawn: {unshown}"
