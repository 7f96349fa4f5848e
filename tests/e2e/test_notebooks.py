"""The notebooks run top to bottom against the demo warehouse (KPI_WAREHOUSE), without errors,
and are committed without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.parametrize("name", ["explore_kpis", "roi_what_if"])
def test_notebook_runs_without_errors(name, demo_warehouse, monkeypatch, tmp_path):
    from nbclient import NotebookClient

    path = NOTEBOOKS / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code"), \
        f"{path.name} is committed with outputs: strip them"
    monkeypatch.setenv("KPI_WAREHOUSE", str(demo_warehouse))  # the kernel inherits the environment
    client = NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError naming the cell on the first error
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert str(demo_warehouse) in text or name == "roi_what_if"
