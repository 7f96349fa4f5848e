"""The quarterly schedule and the inputs sensor.

- `quarterly_close_schedule`: on the 5th day after a quarter ends (06:00 company time), closes the
  previous quarter: ingest, KPIs, snapshot, ROI and report for that quarter.
- `inputs_sensor`: when files appear in or change under the inputs folder, refreshes every
  quarter of the programme (runs are queued one at a time; unchanged files are skipped by sha256).
"""

import hashlib
import json
from datetime import date
from pathlib import Path

import dagster as dg

from pipelines.partitions import QUARTERS, ensure_quarters
from pipelines.resources import ProgrammeResource, default_paths

CLOSE_CRON = "0 6 5 1,4,7,10 *"  # 06:00 on 5 Jan, 5 Apr, 5 Jul, 5 Oct

#: Everything but the fetch (the daily fetch schedule downloads; a quarterly run never does) and the
#: yearly deep dive (partitioned by year: pipelines/defs/reports/yearly.py).
PIPELINE = dg.AssetSelection.all() - dg.AssetSelection.groups("fetch", "yearly_reports")

quarterly_close_job = dg.define_asset_job(
    "quarterly_close", selection=PIPELINE,
    description="Ingest, KPIs, snapshot, ROI and report for one quarter.",
)
refresh_job = dg.define_asset_job(
    "refresh_quarter", selection=PIPELINE,
    description="Re-run everything for one quarter after the inputs changed.",
)


def _company_timezone() -> str:
    try:
        from kpi.config import load_config

        return load_config(default_paths()["config"]).company.timezone
    except Exception:  # an unreadable config is reported by the run itself, not at load time
        return "UTC"


def quarter_to_close(today: date) -> str:
    from kpi.quarters import previous_quarter, quarter_label

    return previous_quarter(quarter_label(today))


@dg.schedule(cron_schedule=CLOSE_CRON, job=quarterly_close_job, execution_timezone=_company_timezone(),
             default_status=dg.DefaultScheduleStatus.STOPPED,
             description="Close the previous quarter a few days after it ends.")
def quarterly_close_schedule(context: dg.ScheduleEvaluationContext):
    quarter = quarter_to_close(context.scheduled_execution_time.date())
    ensure_quarters(context.instance, [quarter])
    return dg.RunRequest(run_key=f"close-{quarter}", partition_key=quarter, tags={"kpi/quarter": quarter})


def inputs_fingerprint(inputs_dir: str | Path) -> str:
    """Changes when a file is added, removed, or rewritten (size or modification time)."""
    root = Path(inputs_dir)
    entries = []
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file() and not any(p.startswith(".") for p in path.relative_to(root).parts):
                stat = path.stat()
                entries.append([path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns])
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()


def company_today(timezone: str) -> date:
    """Today in the company's time zone (the server's clock may be in another)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(timezone)).date()


def programme_quarters(cfg, today: date) -> list[str]:
    from kpi.quarters import quarter_label, quarters_between

    first = cfg.program.start
    month_index = first.year * 12 + first.month - 1 - cfg.program.baseline_months
    baseline_start = date(month_index // 12, month_index % 12 + 1, 1)
    return quarters_between(quarter_label(baseline_start), quarter_label(today))


@dg.sensor(job=refresh_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Start a refresh when new or changed files appear in the inputs folder.")
def inputs_sensor(context: dg.SensorEvaluationContext, programme: ProgrammeResource):
    fingerprint = inputs_fingerprint(programme.inputs_dir)
    if fingerprint == context.cursor:
        return dg.SkipReason("no new or changed input files")
    cfg = programme.load_config()
    # Quarters the data does not reach yet are requested too; their runs build nothing.
    quarters = programme_quarters(cfg, company_today(cfg.company.timezone))
    existing = set(context.instance.get_dynamic_partitions(QUARTERS.name))
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"{fingerprint[:16]}-{q}", partition_key=q) for q in quarters],
        dynamic_partitions_requests=[QUARTERS.build_add_request([q for q in quarters if q not in existing])],
        cursor=fingerprint,
    )
