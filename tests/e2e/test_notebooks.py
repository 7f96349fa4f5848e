"""The notebooks run top to bottom against the aggregates file of the demo warehouse
(KPI_WAREHOUSE; `kpi export --aggregates`, which they open by default), without errors, and are
committed without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture(scope="module")
def aggregates(demo_warehouse, tmp_path_factory):
    """The file notebook users get: the demo warehouse's aggregates, no person-level row."""
    from kpi.export import export_aggregates

    return export_aggregates(demo_warehouse, tmp_path_factory.mktemp("notebooks") / "aggregates.duckdb").out


@pytest.mark.parametrize("name", ["explore_kpis", "roi_what_if"])
def test_notebook_runs_without_errors(name, aggregates, monkeypatch, tmp_path):
    from nbclient import NotebookClient

    path = NOTEBOOKS / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code"), \
        f"{path.name} is committed with outputs: strip them"
    assert 'REPO_ROOT / "out" / "demo" / "aggregates.duckdb"' in nb.cells[1].source  # opened by default
    monkeypatch.setenv("KPI_WAREHOUSE", str(aggregates))  # the kernel inherits the environment
    client = NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError naming the cell on the first error
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert str(aggregates) in text or name == "roi_what_if"
