"""The usage reports fetched from the vendors' APIs into the inputs folder (group `fetch`).

`usage_reports` runs `kpi.fetch.fetch_usage` (as `kpi fetch` does) and copies the inputs
folder's fetch log into ``audit.fetch_log``. The files it writes are picked up by the inputs
sensor like any file dropped there. Its metadata names files and counts only: no credential,
no download link. `daily_fetch_schedule` runs it every morning (UTC, the vendors' days) and is
stopped by default, like the quarterly one; `kpi run` never fetches.
"""

from pathlib import Path

import dagster as dg

from pipelines.resources import ProgrammeResource, WarehouseResource

GROUP = "fetch"
FETCH_CRON = "0 6 * * *"  # 06:00 UTC: yesterday's GitHub report is usually there by then


@dg.asset(key=["fetch", "usage_reports"], group_name=GROUP,
          description="Missing GitHub Copilot daily and Microsoft 365 Copilot weekly usage reports, downloaded "
                      "into the inputs folder (docs/inputs.md, \"Fetching the usage reports\").")
def usage_reports(context: dg.AssetExecutionContext, programme: ProgrammeResource,
                  warehouse: WarehouseResource) -> dg.MaterializeResult:
    from kpi.errors import UserError
    from kpi.fetch import fetch_usage
    from kpi.fetch.log import record_fetch_log

    cfg = programme.load_config()
    if not cfg.fetch.sources():
        return dg.MaterializeResult(metadata={"sources": "none configured (fetch: in the config)"})
    inputs = Path(programme.inputs_dir)
    outcome = fetch_usage(inputs, cfg, say=context.log.info)
    try:
        with warehouse.connect() as con:
            record_fetch_log(con, inputs, cfg.fetch.sources())
    except UserError as exc:  # the warehouse is busy (a kpi run): the next run copies the log
        context.log.warning(f"audit.fetch_log not updated now: {exc}")
    statuses: dict[str, int] = {}
    for record in outcome.records:
        statuses[f"{record.source} {record.status}"] = statuses.get(f"{record.source} {record.status}", 0) + 1
    files = sorted({r.file for r in outcome.records if r.file and r.status in ("fetched", "kept_both")})
    metadata = {"where each source stands": dg.MetadataValue.md("\n".join(f"- {line}" for line in outcome.lines)),
                "files written": dg.MetadataValue.md("\n".join(f"- {f}" for f in files) or "none"),
                **{name: dg.MetadataValue.int(n) for name, n in sorted(statuses.items())}}
    if outcome.errors:
        raise UserError(outcome.errors[0])
    return dg.MaterializeResult(metadata=metadata)


fetch_job = dg.define_asset_job(
    "fetch_usage_reports", selection=dg.AssetSelection.groups(GROUP),
    description="Download the missing usage reports into the inputs folder.",
)

daily_fetch_schedule = dg.ScheduleDefinition(
    name="daily_fetch_schedule", cron_schedule=FETCH_CRON, job=fetch_job, execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every morning: fetch the usage reports the vendors published since the last fetch.",
)
