"""The Dagster code location: every asset, check, schedule and sensor under pipelines/defs/."""

from __future__ import annotations

import dagster as dg

from pipelines import defs as defs_package
from pipelines.resources import build_resources

defs = dg.load_definitions_from_package_module(
    defs_package,
    resources=build_resources(),
    executor=dg.in_process_executor,
)
