"""Ingest domain: inputs folder -> staging tables (group `ingest`)."""

import dagster as dg

from pipelines.defs.ingest import assets

defs = dg.Definitions(assets=dg.load_assets_from_modules([assets]))
