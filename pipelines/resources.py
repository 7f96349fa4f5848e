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


#: Connections a `kpi run` holds for the whole run, by resolved warehouse path (see `hold`).
_HELD: dict[str, duckdb.DuckDBPyConnection] = {}  # noqa: F821


def _key(path) -> str:
    return str(Path(path).resolve())


@contextmanager
def hold(path, con) -> Iterator[None]:
    """While inside, every `WarehouseResource.connect()` on `path` in this process gets a cursor of
    `con` instead of a connection of its own: `kpi run` opens the warehouse once and keeps its
    lock from the first step to the last, so no other process can take it between two steps."""
    key = _key(path)
    if key in _HELD:
        raise RuntimeError(f"{path}: already held by this process")
    _HELD[key] = con
    try:
        yield
    finally:
        _HELD.pop(key, None)


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. One writer at a time: runs use the in-process executor; `kpi run`
    holds one connection for the whole run (`hold`) and the assets use cursors of it."""

    path: str

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:  # noqa: F821
        held = _HELD.get(_key(self.path))
        if held is not None:
            con = held.cursor()
        else:
            from kpi.warehouse import open_warehouse

            con = open_warehouse(self.path, read_only=False)
        try:
            yield con
        finally:
            con.close()


class ProgrammeResource(dg.ConfigurableResource):
    """The inputs folder and the programme config of one company."""

    inputs_dir: str
    config_path: str
    allow_development_key: bool = False
    #: the reports' language when kpi run --language gives one ("": company.language)
    report_language: str = ""

    def load_config(self):
        """The config, parsed once per content: every step of a run asks for it (19 times in a
        run of nine quarters, 4-12 ms each). A deep copy each time, so a step cannot change another's."""
        from kpi.config import load_config

        try:
            raw = Path(self.config_path).read_bytes()
        except OSError:
            return load_config(self.config_path)  # the one-line error for a missing or unreadable file
        key = (str(self.config_path), raw)
        if key not in _CONFIGS:
            cfg = load_config(self.config_path)
            if Path(self.config_path).read_bytes() != raw:  # changed while it was read: not remembered
                return cfg
            _CONFIGS.clear()
            _CONFIGS[key] = cfg
        return _CONFIGS[key].model_copy(deep=True)


_CONFIGS: dict = {}  # (path, content) -> the config read from it (the last one only)


def build_resources(inputs: str | None = None, config: str | None = None, warehouse: str | None = None,
                    allow_development_key: bool | None = None,
                    report_language: str | None = None) -> dict[str, dg.ConfigurableResource]:
    paths = default_paths()
    inputs = str(inputs or paths["inputs"])
    config = str(config or os.environ.get("KPI_CONFIG") or Path(inputs) / "config.yaml")
    if allow_development_key is None:
        allow_development_key = (Path(inputs).resolve() == DEMO_DIR.resolve()
                                 or os.environ.get("KPI_ALLOW_DEVELOPMENT_KEY") == "1")
    return {
        "warehouse": WarehouseResource(path=str(warehouse or paths["warehouse"])),
        "programme": ProgrammeResource(inputs_dir=inputs, config_path=config,
                                       allow_development_key=allow_development_key,
                                       report_language=report_language or ""),
    }
