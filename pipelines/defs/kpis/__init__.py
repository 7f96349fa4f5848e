"""KPI domain: quarterly marts, snapshots, alerts, the quarterly schedule and the inputs sensor."""

import dagster as dg

from pipelines.defs.kpis import assets, automation

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    jobs=[automation.quarterly_close_job, automation.refresh_job],
    schedules=[automation.quarterly_close_schedule],
    sensors=[automation.inputs_sensor],
)
