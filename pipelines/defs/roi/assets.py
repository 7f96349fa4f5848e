"""ROI assets (group `roi`): docs/metrics.md §5 from the staging tables.

Thin: one multi-asset opens the warehouse and calls kpi.roi_marts.build_roi_tables,
kpi.rollout.build_rollout (marts.rollout_milestones), kpi.benchmarks.build_benchmarks
(marts.roi_benchmarks) and kpi.attribution.build_attribution (the measured attribution) inside
one transaction (every table is replaced together or not at all).
Unpartitioned: the series runs from the programme start to the horizon, whichever quarter is
being built.
"""

import dagster as dg

from kpi.attribution import ESTIMATE_TABLE, EVENT_STUDY_TABLE
from kpi.benchmarks import BENCHMARK_TABLE
from kpi.roi_marts import ROI_TABLES
from kpi.roi_segments import SEGMENT_TABLE, USE_CASE_TABLE
from kpi.rollout import ROLLOUT_TABLE
from pipelines.defs.ingest.assets import COSTS, EMPLOYEES, PROCESS_METRICS, TRAININGS, USAGE_MATCHED, USE_CASES
from pipelines.resources import ProgrammeResource, WarehouseResource
from pipelines.specs import table_asset_spec

GROUP = "roi"
ROI_MONTHLY = dg.AssetKey(["marts", "roi_monthly"])
ROI_QUARTERLY = dg.AssetKey(["marts", "roi_quarterly"])
ROI_SENSITIVITY = dg.AssetKey(["marts", "roi_sensitivity"])
BUDGET_PLAN_VS_ACTUAL = dg.AssetKey(["marts", "budget_plan_vs_actual"])
ROI_ASSUMPTIONS = dg.AssetKey(["marts", "roi_assumptions"])
ROLLOUT_MILESTONES = dg.AssetKey(["marts", "rollout_milestones"])
ROI_BENCHMARKS = dg.AssetKey(["marts", "roi_benchmarks"])
ROI_BY_SEGMENT = dg.AssetKey(["marts", "roi_by_segment"])
ROI_USE_CASES = dg.AssetKey(["marts", "roi_use_cases"])
ATTRIBUTION_ESTIMATE = dg.AssetKey(["marts", "roi_attribution_estimate"])
ATTRIBUTION_EVENT_STUDY = dg.AssetKey(["marts", "roi_attribution_event_study"])
MILESTONE_MISSED = dg.AssetCheckSpec("milestone_missed_alert", asset=ROLLOUT_MILESTONES, blocking=False,
                                     description="A milestone of the 90-day rollout was missed (rollout: config).")

_INPUTS = [COSTS, TRAININGS, PROCESS_METRICS, EMPLOYEES, USAGE_MATCHED]
_ROLLOUT_INPUTS = [EMPLOYEES, TRAININGS, USE_CASES, COSTS, USAGE_MATCHED]
_ATTRIBUTION_INPUTS = [PROCESS_METRICS, EMPLOYEES, TRAININGS]




def _number(value):
    return dg.MetadataValue.text("not reached") if value is None else dg.MetadataValue.float(float(value))


@dg.multi_asset(
    specs=[*(table_asset_spec(table, GROUP, deps=_INPUTS) for table in ROI_TABLES),
           table_asset_spec(ROLLOUT_TABLE, GROUP, deps=_ROLLOUT_INPUTS),
           table_asset_spec(BENCHMARK_TABLE, GROUP, deps=[dg.AssetKey(["marts", "kpi_business"]), ROI_QUARTERLY]),
           table_asset_spec(SEGMENT_TABLE, GROUP, deps=_INPUTS),
           table_asset_spec(USE_CASE_TABLE, GROUP, deps=[USE_CASES, EMPLOYEES]),
           table_asset_spec(ESTIMATE_TABLE, GROUP, deps=_ATTRIBUTION_INPUTS),
           table_asset_spec(EVENT_STUDY_TABLE, GROUP, deps=_ATTRIBUTION_INPUTS)],
    check_specs=[MILESTONE_MISSED],
    name="roi",
)
def roi(context: dg.AssetExecutionContext, warehouse: WarehouseResource, programme: ProgrammeResource):
    """Replace every ROI table, the rollout milestones (kpi.rollout) and the benchmarks
    (kpi.benchmarks) from staging and the KPI marts with the configured assumptions."""
    from kpi.alerts import milestone_alerts
    from kpi.attribution import build_attribution
    from kpi.benchmarks import build_benchmarks
    from kpi.roi_marts import build_roi_tables
    from kpi.roi_segments import build_segments, build_use_cases
    from kpi.rollout import build_rollout

    cfg = programme.load_config()
    with warehouse.connect() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            built = build_roi_tables(con, cfg)
            built.counts[ROLLOUT_TABLE] = build_rollout(con, cfg)
            built.counts[BENCHMARK_TABLE] = build_benchmarks(con, built.summary)
            # the series' parts (temp.roi_parts) were loaded by build_roi_tables on this connection
            built.counts[SEGMENT_TABLE] = build_segments(con, cfg, built.summary.assumptions, parts_loaded=True)
            built.counts[USE_CASE_TABLE] = build_use_cases(con, cfg)
            built.counts.update(build_attribution(con, cfg))  # marts.roi_attribution_*
            statuses = dict(con.execute(f"SELECT status, count(*) FROM {ROLLOUT_TABLE} GROUP BY status").fetchall())
            con.execute("COMMIT")
            missed = milestone_alerts(con)
        except BaseException:
            con.execute("ROLLBACK")
            raise
    s = built.summary
    context.log.info(f"ROI at horizon (month {s.m}): {s.roi_pct}, break-even month {s.break_even_month}")
    headline = {
        "months": s.m,
        "roi_pct": _number(s.roi_pct),
        "bcr": _number(s.bcr),
        "break_even_month": _number(s.break_even_month),
        "payback_months": _number(s.payback_months),
        "npv": _number(s.npv),
        "year1_roi_pct": _number(s.year1_roi_pct),
        "attribution": s.assumptions.attribution,
        "confidence": s.assumptions.confidence,
    }
    for asset_key in (ROI_MONTHLY, ROI_QUARTERLY, ROI_SENSITIVITY, BUDGET_PLAN_VS_ACTUAL, ROI_ASSUMPTIONS,
                      ROLLOUT_MILESTONES, ROI_BENCHMARKS, ROI_BY_SEGMENT, ROI_USE_CASES,
                      ATTRIBUTION_ESTIMATE, ATTRIBUTION_EVENT_STUDY):
        table = ".".join(asset_key.path)
        metadata = {"dagster/row_count": int(built.counts.get(table, 0))}
        if asset_key == ROI_QUARTERLY:
            metadata.update(headline)
        if asset_key == ROLLOUT_MILESTONES:
            metadata.update({f"milestones_{status}": int(n) for status, n in sorted(statuses.items())})
        yield dg.MaterializeResult(asset_key=asset_key, metadata=metadata)
    for alert in missed:
        context.log.warning(f"ALERT {alert.describe()}")
    yield dg.AssetCheckResult(
        check_name=MILESTONE_MISSED.name, asset_key=ROLLOUT_MILESTONES, passed=not missed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"alerts": dg.MetadataValue.md("\n".join(f"- {a.describe()}" for a in missed) or "none"),
                  "count": len(missed)})
