"""Dagster resources: where the inputs, the config and the warehouse are.

Paths are not config (docs/configuration.md): Dagster reads KPI_INPUTS, KPI_CONFIG and KPI_WAREHOUSE, and
defaults to the demo company so that `dagster dev` from the repository root shows something.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from kpi.paths import DEMO_DIR, REPO_ROOT


def default_paths() -> dict[str, str]:
    inputs = os.environ.get("KPI_INPUTS") or str(DEMO_DIR)
    config = os.environ.get("KPI_CONFIG") or str(Path(inputs) / "config.yaml")
    warehouse = os.environ.get("KPI_WAREHOUSE") or str(REPO_ROOT / "out" / "demo" / "warehouse.duckdb")
    return {"inputs": inputs, "config": config, "warehouse": warehouse}


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. One writer at a time: runs use the in-process executor."""

    path: str

    @contextmanager
    def connect(self) -> Iterator["duckdb.DuckDBPyConnection"]:  # noqa: F821
        import duckdb

        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.path)
        try:
            yield con
        finally:
            con.close()


class ProgrammeResource(dg.ConfigurableResource):
    """The inputs folder and the programme config of one company."""

    inputs_dir: str
    config_path: str
    allow_development_key: bool = False

    def load_config(self):
        from kpi.config import load_config

        return load_config(self.config_path)


def build_resources(inputs: str | None = None, config: str | None = None, warehouse: str | None = None,
                    allow_development_key: bool | None = None) -> dict[str, dg.ConfigurableResource]:
    paths = default_paths()
    inputs = str(inputs or paths["inputs"])
    config = str(config or os.environ.get("KPI_CONFIG") or Path(inputs) / "config.yaml")
    if allow_development_key is None:
        allow_development_key = (Path(inputs).resolve() == DEMO_DIR.resolve()
                                 or os.environ.get("KPI_ALLOW_DEVELOPMENT_KEY") == "1")
    return {
        "warehouse": WarehouseResource(path=str(warehouse or paths["warehouse"])),
        "programme": ProgrammeResource(inputs_dir=inputs, config_path=config,
                                       allow_development_key=allow_development_key),
    }
