"""A warehouse built with the public development key says so on the report's first screen; one
built with a real key does not (the flag is kept by ingest in audit.warehouse_flags)."""

from __future__ import annotations

import os

import pytest

from pipelines.run import run_pipeline
from tests.ingest.tiny import write_tiny_inputs

BANNER = "<strong>Demonstration only.</strong> This warehouse was built with the public development key"


@pytest.mark.parametrize("development", [True, False])
def test_the_first_screen_says_demonstration_only(tmp_path, monkeypatch, development):
    from kpi.report import build_report

    inputs = write_tiny_inputs(tmp_path / "inputs")
    if development:
        monkeypatch.delenv("KPI_PSEUDONYM_KEY", raising=False)
    else:
        monkeypatch.setenv("KPI_PSEUDONYM_KEY", "7c" * 32)
    monkeypatch.delenv("KPI_ALLOW_DEVELOPMENT_KEY", raising=False)
    warehouse = tmp_path / "warehouse.duckdb"
    run_pipeline(inputs, inputs / "config.yaml", warehouse, allow_development_key=development, report=False)
    html = build_report(warehouse, "2025-Q1", tmp_path / "reports").read_text(encoding="utf-8")
    header = html[: html.index("</header>")]
    assert (BANNER in header) is development
    assert os.environ.get("KPI_ALLOW_DEVELOPMENT_KEY") is None
