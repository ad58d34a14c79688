"""The analyst notebooks: committed without outputs, and each runs top to bottom on the public API."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import ROOT, SHARED_DATA

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# The least each executed notebook must show: figures (PNG outputs) and rendered HTML blocks.
EXPECTED = {
    "01-explore-corpus.ipynb": {"figures": 4, "html": 0},
    "02-evaluate-and-tune.ipynb": {"figures": 3, "html": 0},
    "03-lookup-and-export.ipynb": {"figures": 1, "html": 1},
    "04-feedback.ipynb": {"figures": 2, "html": 0},
}
CELL_TIMEOUT = 300


def test_every_notebook_is_expected() -> None:
    assert [path.name for path in NOTEBOOKS] == sorted(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_committed_without_outputs(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell has outputs; clear them before committing"
            assert cell.execution_count is None, f"{path.name}: a cell has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_runs_top_to_bottom(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    if "02-" in path.name and not (SHARED_DATA / "bbc_news.jsonl.gz").exists():
        pytest.skip("BBC News is not present in ../shared/data")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    figures = sum("image/png" in output.get("data", {}) for output in outputs)
    html = sum("similar-posts" in output.get("data", {}).get("text/html", "") for output in outputs)
    assert figures >= EXPECTED[path.name]["figures"]
    assert html >= EXPECTED[path.name]["html"]
