"""The quarterly review report (group `reports`), one partition per quarter.

Thin: the asset calls kpi.report.build_report, which opens the warehouse read-only, and writes
`<warehouse folder>/reports/report-<quarter>.html` plus the charts as PNG/SVG for slides.
"""

from pathlib import Path

import dagster as dg

from pipelines.defs.kpis.assets import KPI_MARTS, KPI_SNAPSHOTS
from pipelines.defs.roi.assets import (
    BUDGET_PLAN_VS_ACTUAL,
    ROI_ASSUMPTIONS,
    ROI_MONTHLY,
    ROI_QUARTERLY,
    ROI_SENSITIVITY,
)
from pipelines.partitions import QUARTERS
from pipelines.resources import ProgrammeResource, WarehouseResource
from pipelines.specs import asset_key

ROI_KEYS = [ROI_MONTHLY, ROI_QUARTERLY, ROI_SENSITIVITY, BUDGET_PLAN_VS_ACTUAL, ROI_ASSUMPTIONS]

GROUP = "reports"
QUARTERLY_REPORT = dg.AssetKey(["reports", "quarterly_report"])


def reports_dir(warehouse_path: str) -> Path:
    """Where reports go: `reports/` beside the warehouse file."""
    return Path(warehouse_path).resolve().parent / "reports"


@dg.asset(
    key=QUARTERLY_REPORT, group_name=GROUP, partitions_def=QUARTERS, kinds={"html"},
    deps=[*(asset_key(t) for t in KPI_MARTS), KPI_SNAPSHOTS, *ROI_KEYS],
    description="Self-contained HTML review of the quarter (opens offline) plus PNG/SVG charts for slides.",
)
def quarterly_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                     programme: ProgrammeResource) -> dg.MaterializeResult:
    from kpi.report import build_report

    quarter = context.partition_key
    path = build_report(Path(warehouse.path), quarter, reports_dir(warehouse.path), cfg=programme.load_config(),
                        language=programme.report_language or None)
    context.log.info(f"{quarter}: report written to {path}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)), "quarter": quarter,
                                          "bytes": path.stat().st_size})
