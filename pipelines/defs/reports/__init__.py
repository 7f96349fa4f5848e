"""Reports domain: the quarterly review report per quarter (group `reports`)."""

import dagster as dg

from pipelines.defs.reports import assets

defs = dg.Definitions(assets=dg.load_assets_from_modules([assets]))
