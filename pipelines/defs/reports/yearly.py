"""The yearly deep dive (group `yearly_reports`), one partition per year, and its schedule.

`yearly_report` calls kpi.report.yearly.build_yearly_report (read-only) and writes
`<warehouse folder>/reports/report-<year>.html` with the qualitative notes of `<inputs>/notes/`.
It has a group of its own: its partitions are years, and a job mixes assets of one partitioning
only (the quarterly jobs and `kpi run` select the `reports` group by quarter).

`yearly_report_schedule` looks every morning for years whose fourth quarter is closed (a snapshot
in marts.kpi_snapshots) and requests their report once per set of snapshot versions: once when Q4
closes, again only when a quarter of that year is restated. Stopped by default, like the other
schedules.
"""

from pathlib import Path

import dagster as dg

from pipelines.defs.kpis.assets import KPI_SNAPSHOTS
from pipelines.defs.kpis.automation import _company_timezone
from pipelines.defs.reports.assets import ROI_KEYS, reports_dir
from pipelines.partitions import YEARS, ensure_years
from pipelines.resources import ProgrammeResource, WarehouseResource

GROUP = "yearly_reports"
YEARLY_REPORT = dg.AssetKey(["reports", "yearly_report"])
YEARLY_CRON = "0 7 * * *"  # every morning, after the quarterly close (06:00 on the 5th)


@dg.asset(
    key=YEARLY_REPORT, group_name=GROUP, partitions_def=YEARS, kinds={"html"},
    deps=[*ROI_KEYS, dg.AssetDep(KPI_SNAPSHOTS, partition_mapping=dg.AllPartitionMapping())],
    description="The yearly deep dive: the year's totals and quarters, against the previous year and the baseline, "
                "year-1 ROI against the benchmarks, maturity and rollout, budget, cohorts, restatements and the "
                "qualitative notes of <inputs>/notes/ (docs/report.md, \"The yearly deep dive\").",
)
def yearly_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                  programme: ProgrammeResource) -> dg.MaterializeResult:
    from kpi.report.yearly import build_yearly_report

    year = context.partition_key
    notes = Path(programme.inputs_dir) / "notes"
    path = build_yearly_report(Path(warehouse.path), year, reports_dir(warehouse.path), cfg=programme.load_config(),
                               language=programme.report_language or None, notes=notes)
    context.log.info(f"{year}: yearly report written to {path}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)), "year": year,
                                          "bytes": path.stat().st_size})


yearly_report_job = dg.define_asset_job(
    "yearly_report", selection=dg.AssetSelection.assets(YEARLY_REPORT),
    description="Write the yearly deep dive of one year.",
)


def closed_year_requests(warehouse_path: str) -> list[tuple[str, str]]:
    """(year, run key) of every year whose fourth quarter is closed; the key changes with the
    snapshot versions of the year's quarters. Empty when the warehouse does not exist yet."""
    from kpi.report.yearly import closed_years
    from kpi.warehouse import open_warehouse

    if not Path(warehouse_path).is_file():
        return []
    con = open_warehouse(warehouse_path, read_only=True)
    try:
        return [(year, f"yearly-{year}-{versions}") for year, versions in closed_years(con).items()]
    finally:
        con.close()


@dg.schedule(cron_schedule=YEARLY_CRON, job=yearly_report_job, execution_timezone=_company_timezone(),
             default_status=dg.DefaultScheduleStatus.STOPPED,
             description="Write the yearly deep dive of every year whose fourth quarter is closed (once per "
                         "version of its figures).")
def yearly_report_schedule(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
    from kpi.errors import UserError

    try:
        requests = closed_year_requests(warehouse.path)
    except UserError as exc:  # in use by a kpi run, or not a warehouse: try again tomorrow
        return dg.SkipReason(str(exc))
    if not requests:
        return dg.SkipReason("no year with a closed fourth quarter in the warehouse yet")
    ensure_years(context.instance, [year for year, _ in requests])
    return [dg.RunRequest(run_key=key, partition_key=year, tags={"kpi/year": year}) for year, key in requests]
