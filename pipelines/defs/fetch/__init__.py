"""Fetch domain: the usage reports downloaded from the vendors' APIs (group `fetch`), daily."""

import dagster as dg

from pipelines.defs.fetch import assets

defs = dg.Definitions(
    assets=[assets.usage_reports],
    jobs=[assets.fetch_job],
    schedules=[assets.daily_fetch_schedule],
)
