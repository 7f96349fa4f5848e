"""Reports domain: the quarterly review report per quarter (group `reports`) and the yearly deep
dive per year (group `yearly_reports`, with its schedule)."""

import dagster as dg

from pipelines.defs.reports import assets, yearly

defs = dg.Definitions(assets=[*dg.load_assets_from_modules([assets]), yearly.yearly_report],
                      jobs=[yearly.yearly_report_job], schedules=[yearly.yearly_report_schedule])
