"""`kpi run`: materialise the Dagster assets in-process, quarter by quarter, with a progress display.

Ingest runs once (unpartitioned assets), then every quarter found in the data (or the one asked
for) is built as a partition of the KPI assets. User errors raised inside an asset (a missing
file, a bad column, a config problem) come back as the original one-line UserError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kpi.errors import UserError

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dataclass
class RunSummary:
    quarters: list[str] = field(default_factory=list)
    snapshots: dict[str, str] = field(default_factory=dict)  # quarter -> status
    quarantined: dict[str, int] = field(default_factory=dict)  # reason -> rows
    alerts: list[str] = field(default_factory=list)
    rows_read: int = 0
    files_ingested: int = 0
    files_skipped: int = 0


def _materialize(defs, selection, instance, partition_key=None):
    import dagster as dg

    try:
        return dg.materialize(
            [*defs.assets, *(defs.asset_checks or [])], selection=selection, instance=instance,
            partition_key=partition_key, resources=defs.resources, run_config=QUIET,
        )
    except dg.DagsterUserCodeExecutionError as exc:  # unwrap the user's error from Dagster's
        if isinstance(exc.user_exception, UserError):
            raise exc.user_exception from None
        raise


def run_pipeline(inputs: Path, config: Path, warehouse: Path, quarter: str | None = None,
                 allow_development_key: bool = False, progress=None) -> RunSummary:
    import dagster as dg
    import duckdb

    from kpi.config import load_config
    from kpi.ingest.files import discover_inputs
    from kpi.marts import data_quarters
    from kpi.privacy import resolve_key
    from pipelines.definitions import build_definitions
    from pipelines.partitions import ensure_quarters

    say = progress or (lambda message: None)
    cfg = load_config(config)  # config errors before anything runs
    resolve_key(cfg.privacy.pseudonym_key_env, allow_development_key=allow_development_key)
    discover_inputs(inputs)  # a missing required file stops here, naming the file
    defs = build_definitions(str(inputs), str(config), str(warehouse), allow_development_key)
    summary = RunSummary()
    with dg.DagsterInstance.ephemeral() as instance:
        say("ingest: reading, validating and pseudonymising the inputs")
        _materialize(defs, dg.AssetSelection.groups("ingest"), instance)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            found = data_quarters(con, cfg)
            summary.quarantined = dict(con.sql(
                "SELECT reason, count(*) FROM audit.quarantine GROUP BY reason ORDER BY reason").fetchall())
            manifest = con.sql("SELECT count(*), coalesce(sum(rows_read), 0) FROM audit.ingest_manifest "
                               "WHERE NOT superseded").fetchall()[0]
            summary.files_ingested, summary.rows_read = int(manifest[0]), int(manifest[1])
        if quarter is not None:
            if quarter not in found:
                raise UserError(f"--quarter {quarter}: no data for this quarter; quarters in the data: "
                                f"{', '.join(found) or 'none'}")
            found = [quarter]
        summary.quarters = found
        ensure_quarters(instance, found)
        for label in found:
            say(f"{label}: KPI marts, alerts and snapshot")
            result = _materialize(defs, dg.AssetSelection.groups("kpis"), instance, partition_key=label)
            for evaluation in result.get_asset_check_evaluations():
                if not evaluation.passed:
                    text = evaluation.metadata.get("alerts")
                    summary.alerts += [line[2:] for line in (text.value if text else "").splitlines() if line]
            for materialization in result.asset_materializations_for_node("marts__kpi_snapshots"):
                summary.snapshots[label] = materialization.metadata["status"].value
    return summary
