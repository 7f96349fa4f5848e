"""Ingest domain: inputs folder -> staging tables (group `ingest`), with GX asset checks."""

import dagster as dg

from pipelines.defs.ingest import assets, checks

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    asset_checks=dg.load_asset_checks_from_modules([checks]),
)
