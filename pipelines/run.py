"""`kpi run`: materialise the Dagster assets in-process, quarter by quarter, with a progress display.

Ingest runs once (unpartitioned assets), then every quarter found in the data (or the one asked
for) is built as a partition of the KPI assets. User errors raised inside an asset (a missing
file, a bad column, a config problem) come back as the original one-line UserError.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kpi.errors import UserError
from kpi.run_status import QuarterStatus, report_quarter

USER_ERRORS = {"UserError", "InputError", "ConfigError"}
# Dagster's console logger would print a failed step's stack trace (with the installation's paths)
# before our one line: it logs nothing below CRITICAL, and Dagster logs nothing at CRITICAL.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass
class RunSummary:
    quarters: list[str] = field(default_factory=list)
    snapshots: dict[str, QuarterStatus] = field(default_factory=dict)  # quarter -> what the run did with it
    quarantined: dict[str, int] = field(default_factory=dict)  # reason -> rows
    alerts: list[str] = field(default_factory=list)
    rows_read: int = 0
    files_ingested: int = 0
    files_skipped: int = 0
    # ROI at horizon (marts.roi_quarterly's last row); None = not defined / not reached
    roi_pct: float | None = None
    break_even_month: int | None = None
    payback_months: float | None = None
    year1_roi_pct: float | None = None
    npv: float | None = None
    report_path: str | None = None  # the quarterly report written at the end of the run
    upgrades: list[str] = field(default_factory=list)  # schema changes applied to an older warehouse
    fetched: list[str] = field(default_factory=list)  # kpi fetch configured: where each source stands


def _materialize(defs, selection, instance, partition_key=None, warehouse: Path | None = None):
    """Materialise a selection in-process; a user error, a failed blocking quality check or a full
    disk / read-only folder comes back as a one-line UserError instead of Dagster's traceback (the
    full text of a failed step rides along as the error's `detail`, for the error log)."""
    import dagster as dg

    result = dg.materialize(
        [*defs.assets, *(defs.asset_checks or [])], selection=selection, instance=instance,
        partition_key=partition_key, resources=defs.resources, run_config=QUIET, raise_on_error=False,
    )
    if result.success:
        return result
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            summary = evaluation.metadata.get("summary")
            raise UserError(
                f"{evaluation.asset_key.to_user_string()}: blocking data-quality check {evaluation.check_name} "
                f"failed: {summary.value if summary else 'see the check in the Dagster UI'}; correct the input "
                "files and run again (nothing after this check was built)"
            )
    failures = [event.step_failure_data.error for event in result.all_events if event.is_step_failure]
    for failure in failures:
        error = failure
        while error is not None:
            if error.cls_name in USER_ERRORS:  # message is "kpi.errors.InputError: <the line>"
                head, _, rest = error.message.strip().partition(": ")
                raise _with_detail(UserError(rest if head.endswith(error.cls_name) and rest else error.message),
                                   failure)
            error = error.cause
    for failure in failures:
        error = failure
        while error is not None:
            problem = _storage_error(warehouse, error.message) if warehouse is not None else None
            if problem is not None:
                raise _with_detail(problem, failure)
            error = error.cause
    for failure in failures:  # anything else is a bug: show Dagster's full error
        raise RuntimeError(failure.to_string())
    raise RuntimeError("the Dagster run failed")


def _with_detail(error: UserError, failure) -> UserError:
    error.detail = failure.to_string()  # the step's full error with its stack traces (kpi-errors.log)
    return error


def run_pipeline(inputs: Path, config: Path, warehouse: Path, quarter: str | None = None,
                 allow_development_key: bool = False, progress=None, report: bool = True,
                 validation_process: bool = False, language: str | None = None) -> RunSummary:
    """Run everything in-process. `validation_process`: validate in a worker process whose Great
    Expectations import (2-3 s of CPU) runs on the other core while Dagster loads and the ingest
    reads (`kpi run` does; it needs a main module that is safe to import, see
    `kpi.quality.validation_worker`)."""
    from contextlib import nullcontext

    from kpi.quality import validation_worker

    cfg = _preflight(inputs, config, allow_development_key)
    with validation_worker() if validation_process else nullcontext():
        return _run_pipeline(cfg, inputs, config, warehouse, quarter, allow_development_key, progress, report,
                             language)


def _preflight(inputs: Path, config: Path, allow_development_key: bool):
    """The user's mistakes that stop a run before anything runs: the config, the pseudonym key,
    a missing required input file (one line each, naming the key or file). Checked before Dagster
    is imported and before the validation worker starts, so a run that cannot start says so in
    about half a second instead of two and a half."""
    from kpi.config import load_config
    from kpi.ingest.files import discover_inputs
    from kpi.privacy import resolve_key

    cfg = load_config(config)
    resolve_key(cfg.privacy.pseudonym_key_env, allow_development_key=allow_development_key)
    discover_inputs(inputs)
    return cfg


def _run_pipeline(cfg, inputs: Path, config: Path, warehouse: Path, quarter: str | None,
                  allow_development_key: bool, progress, report: bool, language: str | None = None) -> RunSummary:
    from kpi.warehouse import open_for_run, open_warehouse
    from pipelines.definitions import build_definitions
    from pipelines.resources import hold

    say = progress or (lambda message: None)
    defs = build_definitions(str(inputs), str(config), str(warehouse), allow_development_key, language)
    # One read-write connection for every step that writes: its lock is held from the upgrade to
    # the ROI, so no reader or second run can take the file between two steps (the assets get
    # cursors of it, pipelines/resources.py::hold). The report only reads: it runs holding a
    # read-only connection, which readers may share and no writer can take.
    import dagster as dg

    existed = Path(warehouse).is_file()
    with _dagster_quiet(), dg.DagsterInstance.ephemeral() as instance:
        con = open_for_run(warehouse, say=say)
        with _closing(con, warehouse), hold(warehouse, con):
            summary = _build(defs, instance, con, cfg, warehouse, quarter, say, existed)
            if cfg.fetch.sources():  # audit.fetch_log from the inputs folder's fetch log, a line per source
                from kpi.fetch.log import record_fetch_log

                summary.fetched = record_fetch_log(con, inputs, cfg.fetch.sources())
        # --- the quarterly report: the quarter asked for, else the latest closed one -----------
        report_quarter = quarter or _report_quarter(summary)
        if report and report_quarter is not None:
            reader = open_warehouse(warehouse, read_only=True)
            with _closing(reader, warehouse), hold(warehouse, reader):
                say(f"{report_quarter}: quarterly report")
                result = _materialize(defs, dg.AssetSelection.groups("reports"), instance,
                                      partition_key=report_quarter, warehouse=warehouse)
                for materialization in result.asset_materializations_for_node("reports__quarterly_report"):
                    summary.report_path = str(materialization.metadata["path"].value)
    return summary


def _build(defs, instance, con, cfg, warehouse: Path, quarter: str | None, say, existed: bool) -> RunSummary:
    """Everything that writes: upgrade, ingest, the quarters, ROI (through the held connection)."""
    import dagster as dg

    from kpi.alerts import quarter_alerts
    from kpi.freshness import pinned_fingerprints, quarter_fingerprints, up_to_date
    from kpi.marts import data_quarters
    from kpi.snapshots import closed_quarters
    from pipelines.partitions import ensure_quarters

    summary = RunSummary(upgrades=upgrade_warehouse(warehouse, con) if existed else [])
    if summary.upgrades:
        say(f"upgraded the warehouse: {'; '.join(summary.upgrades)}")
    say("ingest: reading, validating and pseudonymising the inputs")
    _materialize(defs, dg.AssetSelection.groups("ingest"), instance, warehouse=warehouse)
    with con.cursor() as cur:
        found = data_quarters(cur, cfg)
        summary.quarantined = dict(cur.sql(
            "SELECT reason, count(*) FROM audit.quarantine GROUP BY reason ORDER BY reason").fetchall())
        manifest = cur.sql("SELECT count(*), coalesce(sum(rows_read), 0) FROM audit.ingest_manifest "
                           "WHERE NOT superseded").fetchall()[0]
        summary.files_ingested, summary.rows_read = int(manifest[0]), int(manifest[1])
    if quarter is not None:
        if quarter not in found:
            raise UserError(f"--quarter {quarter}: no data for this quarter; quarters in the data: "
                            f"{', '.join(found) or 'none'}")
        found = [quarter]
    summary.quarters = found
    # Quarters whose inputs, config and code are unchanged since their last build are not run
    # again (kpi/freshness.py): adding a quarter's exports rebuilds that quarter, not history.
    alerts: dict[str, list[str]] = {}
    with con.cursor() as cur:
        fingerprints = quarter_fingerprints(cur, cfg, found)
        unchanged = up_to_date(cur, cfg, found, fingerprints)
        closed = closed_quarters(cur, sorted(unchanged))
        for label in unchanged:
            summary.snapshots[label] = QuarterStatus.not_rebuilt(closed=label in closed)
            alerts[label] = [alert.describe() for alert in quarter_alerts(cur, cfg, label)]
    stale = [label for label in found if label not in unchanged]
    if unchanged:
        say(f"{len(unchanged)} of {len(found)} quarters unchanged since the last run: not rebuilt")
    ensure_quarters(instance, found)
    for label in stale:
        say(f"{label}: KPI marts, alerts and snapshot")
        with pinned_fingerprints(fingerprints):
            result = _materialize(defs, dg.AssetSelection.groups("kpis"), instance, partition_key=label,
                                  warehouse=warehouse)
        alerts[label] = []
        for evaluation in result.get_asset_check_evaluations():
            if not evaluation.passed:
                text = evaluation.metadata.get("alerts")
                alerts[label] += [line[2:] for line in (text.value if text else "").splitlines() if line]
        for materialization in result.asset_materializations_for_node("marts__kpi_snapshots"):
            summary.snapshots[label] = QuarterStatus.from_metadata(
                {key: entry.value for key, entry in materialization.metadata.items()})
    summary.snapshots = dict(sorted(summary.snapshots.items()))
    summary.alerts = [line for label in sorted(alerts) for line in alerts[label]]
    # --- ROI: once over the whole series, after the quarters -----------------------------------
    say("ROI and break-even")
    result = _materialize(defs, dg.AssetSelection.groups("roi"), instance, warehouse=warehouse)
    for evaluation in result.get_asset_check_evaluations():  # missed rollout milestones
        if not evaluation.passed:
            text = evaluation.metadata.get("alerts")
            summary.alerts += [line[2:] for line in (text.value if text else "").splitlines() if line]
    with con.cursor() as cur:
        from kpi.roi_marts import headline

        for name, value in headline(cur).items():
            setattr(summary, name, value)
    return summary


def upgrade_warehouse(warehouse: Path, con=None) -> list[str]:
    """Bring a warehouse built by an earlier release to this release's schema before anything runs
    (kpi/migrations.py); returns what was changed (nothing for a new warehouse). `con`: the
    connection `kpi run` holds (otherwise one is opened for this)."""
    from kpi.migrations import upgrade
    from kpi.warehouse import open_warehouse

    if con is None:
        if not Path(warehouse).exists():
            return []
        with open_warehouse(warehouse, read_only=False) as own:
            return upgrade_warehouse(warehouse, own)
    with con.cursor() as cur:
        cur.execute("BEGIN TRANSACTION")
        changes = upgrade(cur)
        cur.execute("COMMIT")
    return [str(change) for change in changes]


@contextmanager
def _closing(con, warehouse: Path):
    """Close the held connection at the end; closing writes the last changes to the file, so a
    full disk can show up here (one line, like everywhere else)."""
    try:
        yield con
    except BaseException:
        try:
            con.close()
        except Exception:  # noqa: BLE001 - the first error is the one to report
            pass
        raise
    try:
        con.close()
    except Exception as exc:  # duckdb.Error
        problem = _storage_error(warehouse, str(exc))
        if problem is None:
            raise
        raise problem from exc


@contextmanager
def _dagster_quiet():
    """Dagster's own Python loggers print nothing on the console during `kpi run`: a failed step
    is reported by us as one line (its full text goes to the error log), never as Dagster's stack
    trace; our progress lines are printed by the CLI, not through logging."""
    import logging

    loggers = [logging.getLogger(name) for name in ("dagster", "dagster_shared")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _storage_error(warehouse: Path, text: str) -> UserError | None:
    """A full disk, a read-only folder, no permission: one line naming the warehouse."""
    from kpi.warehouse import storage_problem

    problem = storage_problem(text)
    if problem is None:
        return None
    return UserError(f"{warehouse}: cannot write the warehouse or its report ({problem[0]}); {problem[1]} "
                     "(kpi run redoes what did not finish)")


def _report_quarter(summary: RunSummary) -> str | None:
    """The latest closed quarter of the run (the latest quarter built when none is closed yet)."""
    return report_quarter(summary.snapshots, summary.quarters)
