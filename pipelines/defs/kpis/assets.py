"""KPI marts per quarter (group `kpis`): the four dimensions, snapshots and alerts.

Partitioned by quarter; building one quarter or all quarters gives the same rows for a quarter.
Alerts are non-blocking checks (warnings in the UI and in the run summary).
"""

import dagster as dg

from kpi.catalog import load
from pipelines.partitions import QUARTERS
from pipelines.resources import ProgrammeResource, WarehouseResource
from pipelines.specs import asset_key, table_asset_spec

GROUP = "kpis"
#: The KPI marts of the catalogue (sql/marts/*.yml with `snapshot: true`), in dimension order.
KPI_MARTS = tuple(t.name for t in load().kpi_marts)
KPI_USAGE = asset_key("marts.kpi_usage")
KPI_CULTURE = asset_key("marts.kpi_culture")
KPI_SNAPSHOTS = asset_key("marts.kpi_snapshots")
KPI_TARGETS = asset_key("marts.kpi_targets")

USAGE_DROP = dg.AssetCheckSpec("usage_drop_alert", asset=KPI_USAGE, blocking=False,
                               description="A segment's active-user rate fell by more than alerts.usage_drop_points.")
CULTURE_DROP = dg.AssetCheckSpec("culture_drop_alert", asset=KPI_CULTURE, blocking=False,
                                 description="A construct's favorability fell by more than alerts.culture_drop_points.")
TARGET_RED = dg.AssetCheckSpec("target_red_alert", asset=KPI_TARGETS, blocking=False,
                               description="A target of the targets: config is red in the quarter.")


def _alert_result(spec: dg.AssetCheckSpec, alerts) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=spec.name, asset_key=spec.asset_key, passed=not alerts, severity=dg.AssetCheckSeverity.WARN,
        metadata={"alerts": dg.MetadataValue.md("\n".join(f"- {a.describe()}" for a in alerts) or "none"),
                  "count": len(alerts)},
    )


@dg.multi_asset(
    specs=[table_asset_spec(table, GROUP, deps=load()[table].deps, partitions_def=QUARTERS) for table in KPI_MARTS],
    check_specs=[USAGE_DROP, CULTURE_DROP, TARGET_RED],
    name="kpi_marts",
)
def kpi_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource, programme: ProgrammeResource):
    """Rebuild one quarter of every KPI mart (suppression applied), then evaluate the alerts.

    A quarter whose inputs, config and code are unchanged since it was last built is left as it is
    (kpi/freshness.py); its alerts are evaluated all the same."""
    from kpi.alerts import culture_alerts, target_alerts, usage_alerts
    from kpi.freshness import forget_build, frozen_quarters, quarter_fingerprints, record_marts_built, up_to_date
    from kpi.marts import MART_TABLES, build_quarter, data_quarters, ensure_mart_tables
    from kpi.warehouse import limit_memory

    quarter = context.partition_key
    cfg = programme.load_config()
    rebuilt = True
    with warehouse.connect() as con:
        limit_memory(con, cfg.warehouse.memory_limit)
        con.execute("BEGIN TRANSACTION")
        # a frozen quarter keeps its rows even when purged data no longer reach it (kpi/retention.py)
        if quarter not in data_quarters(con, cfg) and quarter not in frozen_quarters(con):
            context.log.info(f"{quarter}: no data for this quarter yet; nothing built")
            ensure_mart_tables(con)
            for table in MART_TABLES:
                con.execute(f"DELETE FROM {table} WHERE quarter = ?", [quarter])
            forget_build(con, quarter)
            counts = {}
        else:
            fingerprints = quarter_fingerprints(con, cfg, [quarter])
            if quarter in up_to_date(con, cfg, [quarter], fingerprints):
                context.log.info(f"{quarter}: frozen (docs/privacy.md); not rebuilt" if quarter in frozen_quarters(con)
                                 else f"{quarter}: inputs, config and code unchanged since the last build; not rebuilt")
                rebuilt = False
                counts = {table: con.sql(f"SELECT count(*) FROM {table} WHERE quarter = ?",
                                         params=[quarter]).fetchall()[0][0] for table in MART_TABLES}
            else:
                counts = build_quarter(con, cfg, quarter)
                record_marts_built(con, quarter, fingerprints[quarter])
        con.execute("COMMIT")
        usage = usage_alerts(con, quarter, cfg.alerts.usage_drop_points)
        culture = culture_alerts(con, quarter, cfg.alerts.culture_drop_points)
        targets = target_alerts(con, quarter)
    for alert in usage + culture + targets:
        context.log.warning(f"ALERT {alert.describe()}")
    for table in KPI_MARTS:
        yield dg.MaterializeResult(asset_key=asset_key(table), metadata={
            "dagster/row_count": int(counts.get(table, 0)), "quarter": quarter, "rebuilt": rebuilt})
    yield _alert_result(USAGE_DROP, usage)
    yield _alert_result(CULTURE_DROP, culture)
    yield _alert_result(TARGET_RED, targets)


_SNAPSHOTS = table_asset_spec("marts.kpi_snapshots", GROUP, deps=KPI_MARTS, partitions_def=QUARTERS)


@dg.asset(key=KPI_SNAPSHOTS, group_name=GROUP, partitions_def=QUARTERS, kinds={"duckdb"}, deps=_SNAPSHOTS.deps,
          description=_SNAPSHOTS.description, metadata=_SNAPSHOTS.metadata)
def kpi_snapshots(context: dg.AssetExecutionContext, warehouse: WarehouseResource, programme: ProgrammeResource):
    from kpi.config import config_sha256
    from kpi.freshness import record_build
    from kpi.run_status import QuarterStatus
    from kpi.snapshots import snapshot_quarter

    quarter = context.partition_key
    cfg = programme.load_config()
    with warehouse.connect() as con:
        con.execute("BEGIN TRANSACTION")
        outcome = snapshot_quarter(con, quarter, config_sha256(cfg))
        record_build(con, quarter)  # marts and snapshot now match the inputs the marts were built from
        con.execute("COMMIT")
    status = QuarterStatus.of_snapshot(outcome.closed, outcome.version, len(outcome.changed_metrics))
    context.log.info(f"{quarter}: {status.describe()}")
    # state, version and changed_figures are read back by `kpi run` (QuarterStatus.from_metadata);
    # status is the same as a line for people in the Dagster UI
    return dg.MaterializeResult(metadata=status.metadata())
