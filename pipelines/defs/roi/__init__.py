"""ROI domain: the monthly ROI series, quarterly ROI, sensitivity, plan vs actual and the
assumptions they rest on (group `roi`, unpartitioned: the series spans every quarter)."""

import dagster as dg

from pipelines.defs.roi import assets

defs = dg.Definitions(assets=dg.load_assets_from_modules([assets]))
