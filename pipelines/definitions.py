"""The Dagster code location: every domain's assets, checks, schedules and sensors.

`dagster dev` from the repository root loads `defs` (see [tool.dagster] in pyproject.toml), with
paths from KPI_INPUTS, KPI_CONFIG and KPI_WAREHOUSE (default: the demo company). `kpi run`
builds the same definitions for the paths given on its command line.
"""

import dagster as dg

from pipelines.defs import fetch, ingest, kpis, reports, roi
from pipelines.resources import build_resources


def build_definitions(inputs: str | None = None, config: str | None = None, warehouse: str | None = None,
                      allow_development_key: bool | None = None, report_language: str | None = None) -> dg.Definitions:
    return dg.Definitions.merge(
        ingest.defs,
        kpis.defs,
        roi.defs,
        reports.defs,
        fetch.defs,
        dg.Definitions(
            resources=build_resources(inputs, config, warehouse, allow_development_key, report_language),
            executor=dg.in_process_executor,
        ),
    )


defs = build_definitions()
