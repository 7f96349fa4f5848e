"""The Dagster code location loads and validates, as `dagster dev` would load it."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_dagster_definitions_validate(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "KPI_WAREHOUSE": str(tmp_path / "w.duckdb")}
    (tmp_path / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "pipelines.definitions"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in (result.stdout + result.stderr)


def test_ingest_assets_are_in_the_ingest_group():
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"staging/employees", "staging/usage_activity", "intermediate/usage_activity"} <= keys
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys() if k.path[0] == "staging"}
    assert groups == {"ingest"}


def test_runs_use_the_in_process_executor():
    from pipelines.definitions import defs

    job = defs.resolve_implicit_global_asset_job_def()
    assert job.executor_def.name == "in_process"
