"""The Dagster code location: every domain's assets, checks, schedules and sensors.

`dagster dev` from the repository root loads this module (see [tool.dagster] in pyproject.toml).
"""

import dagster as dg

from pipelines.defs import ingest
from pipelines.resources import build_resources

defs = dg.Definitions.merge(
    ingest.defs,
    dg.Definitions(resources=build_resources(), executor=dg.in_process_executor),
)
