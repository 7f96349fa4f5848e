"""Ingest assets (group `ingest`): inputs folder -> pseudonymised staging tables.

Thin: each asset opens the warehouse, calls kpi.ingest inside one transaction (a fatal input
error leaves the warehouse as it was) and reports per-file counts as metadata.
"""

from datetime import datetime

import dagster as dg

from kpi.catalog import load
from kpi.warehouse import table_exists
from pipelines.resources import ProgrammeResource, WarehouseResource
from pipelines.specs import table_asset_spec

GROUP = "ingest"


def key(schema: str, table: str) -> dg.AssetKey:
    return dg.AssetKey([schema, table])


EMPLOYEES = key("staging", "employees")
EMPLOYEE_IDENTITIES = key("staging", "employee_identities")
TRAININGS = key("staging", "trainings")
ASSESSMENTS = key("staging", "assessments")
COURSE_FEEDBACK = key("staging", "course_feedback")
COSTS = key("staging", "costs")
LICENSES = key("staging", "licenses")
PROCESS_METRICS = key("staging", "process_metrics")
USE_CASES = key("staging", "use_cases")
USAGE_ACTIVITY = key("staging", "usage_activity")
SURVEY_RESPONSES = key("staging", "survey_responses")
SURVEY_ANSWERS = key("staging", "survey_answers")
USAGE_MATCHED = key("intermediate", "usage_activity")
USAGE_MATCHED_TABLE = "intermediate.usage_activity"
#: The staging tables whose row counts the ingest assets report (every staging table declared).
ASSET_TABLES = tuple(t.name for t in load().in_schema("staging"))


def _spec(asset_key: dg.AssetKey, deps=()) -> dg.AssetSpec:
    return table_asset_spec(".".join(asset_key.path), GROUP, deps=deps)


def _run(context, warehouse: WarehouseResource, programme: ProgrammeResource, step, suites: tuple[str, ...] = ()):
    """Run one ingest step in a transaction; return its file reports. Once it is committed, the
    Great Expectations suites of the tables it staged (``suites``) start in the validation worker
    (`kpi.quality.start_validation`: the checks, which run after every ingest step, collect them)."""
    from kpi.ingest.files import discover_inputs
    from kpi.ingest.store import check_pseudonym_key, ensure_schema
    from kpi.privacy import resolve_key
    from kpi.warehouse import limit_memory

    cfg = programme.load_config()
    secret = resolve_key(cfg.privacy.pseudonym_key_env, allow_development_key=programme.allow_development_key)
    found = discover_inputs(programme.inputs_dir)
    now = datetime.now().replace(microsecond=0)
    with warehouse.connect() as con:
        limit_memory(con, cfg.warehouse.memory_limit)
        ensure_schema(con)
        check_pseudonym_key(con, secret, cfg.privacy.pseudonym_key_env)
        con.execute("BEGIN TRANSACTION")
        try:
            reports = step(con, found, cfg, secret, now)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        counts = {table: con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
                  for table in (*ASSET_TABLES, USAGE_MATCHED_TABLE) if table_exists(con, table)}
        if suites:
            from kpi.quality import start_validation

            for suite in suites:  # the same parameters as the suite's check (checks.py)
                start_validation(con, suite, **({"scale_max": cfg.survey.scale_max} if suite == "survey_answers"
                                                else {}))
    # one line per file read, one for all the files skipped (a log line is an event Dagster stores:
    # ~0.5 ms each, 0.1 s for the 200 usage files of a run with nothing new); the asset's `files`
    # table lists every file either way
    skipped = [report for report in reports or [] if report.skipped]
    if skipped:
        context.log.info(f"{len(skipped)} file(s) already ingested, skipped: {skipped[0].file}"
                         + (f" ... {skipped[-1].file}" if len(skipped) > 1 else ""))
    for report in reports or []:
        if not report.skipped:
            context.log.info(f"{report.file}: read {report.rows_read}, loaded {report.rows_loaded}, "
                             f"quarantined {report.rows_quarantined} {report.quarantine_reasons or ''}")
    return reports, counts


def _file_table(reports) -> dg.MetadataValue:
    lines = ["| file | read | loaded | quarantined | replaced | reasons |", "|---|---|---|---|---|---|"]
    for r in reports:
        if r.skipped:
            lines.append(f"| {r.file} | skipped (already ingested) | | | | |")
        else:
            reasons = ", ".join(f"{k} {v}" for k, v in r.quarantine_reasons.items())
            lines.append(f"| {r.file} | {r.rows_read} | {r.rows_loaded} | {r.rows_quarantined} | {r.rows_replaced} "
                         f"| {reasons} |")
    return dg.MetadataValue.md("\n".join(lines))


def _results(keys_and_tables, reports, counts):
    for asset_key, table in keys_and_tables:
        yield dg.MaterializeResult(
            asset_key=asset_key,
            metadata={"dagster/row_count": int(counts.get(table, 0)), "files": _file_table(reports)},
        )


@dg.multi_asset(
    specs=[
        _spec(EMPLOYEES),
        _spec(EMPLOYEE_IDENTITIES),
        _spec(TRAININGS),
        _spec(ASSESSMENTS),
        _spec(COURSE_FEEDBACK),
    ],
    name="ingest_hr",
)
def ingest_hr(context: dg.AssetExecutionContext, warehouse: WarehouseResource, programme: ProgrammeResource):
    """hr/employees.csv, hr/trainings.csv, hr/assessments.csv, hr/course_feedback.csv: read whole,
    replacing the previous state."""
    from kpi.ingest import ingest_state

    reports, counts = _run(context, warehouse, programme,
                           lambda con, found, cfg, secret, now: ingest_state(
                               con, found, cfg, secret, now,
                               kinds=["employees", "trainings", "assessments", "course_feedback"]),
                           suites=("employees", "trainings", "assessments"))
    yield from _results([(EMPLOYEES, "staging.employees"), (EMPLOYEE_IDENTITIES, "staging.employees"),
                         (TRAININGS, "staging.trainings"), (ASSESSMENTS, "staging.assessments"),
                         (COURSE_FEEDBACK, "staging.course_feedback")], reports, counts)


@dg.multi_asset(
    specs=[
        _spec(COSTS),
        _spec(LICENSES),
        _spec(PROCESS_METRICS),
        _spec(USE_CASES),
    ],
    name="ingest_finance_business",
)
def ingest_finance_business(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                            programme: ProgrammeResource):
    """finance/costs.csv, finance/licenses.csv, business/process_metrics.csv, business/use_cases.csv:
    read whole each run."""
    from kpi.ingest import ingest_state

    reports, counts = _run(context, warehouse, programme,
                           lambda con, found, cfg, secret, now: ingest_state(
                               con, found, cfg, secret, now,
                               kinds=["costs", "licenses", "process_metrics", "use_cases"]),
                           suites=("costs", "process_metrics", "use_cases"))
    yield from _results([(COSTS, "staging.costs"), (LICENSES, "staging.licenses"),
                         (PROCESS_METRICS, "staging.process_metrics"), (USE_CASES, "staging.use_cases")],
                        reports, counts)


@dg.multi_asset(specs=[_spec(USAGE_ACTIVITY)],
                name="ingest_usage")
def ingest_usage(context: dg.AssetExecutionContext, warehouse: WarehouseResource, programme: ProgrammeResource):
    """usage/**: new files (by sha256) are added; overlapping exports count once."""
    from kpi.ingest import ingest_usage as run

    reports, counts = _run(context, warehouse, programme, run)
    yield from _results([(USAGE_ACTIVITY, "staging.usage_activity")], reports, counts)


@dg.multi_asset(
    specs=[
        _spec(SURVEY_RESPONSES),
        _spec(SURVEY_ANSWERS),
    ],
    name="ingest_surveys",
)
def ingest_surveys(context: dg.AssetExecutionContext, warehouse: WarehouseResource, programme: ProgrammeResource):
    """surveys/*.csv: new files are added; invalid cells are quarantined, the response kept."""
    from kpi.ingest import ingest_surveys as run

    reports, counts = _run(context, warehouse, programme, run, suites=("survey_answers",))
    yield from _results([(SURVEY_RESPONSES, "staging.survey_responses"), (SURVEY_ANSWERS, "staging.survey_answers")],
                        reports, counts)


@dg.multi_asset(
    specs=[_spec(USAGE_MATCHED,
                 deps=[USAGE_ACTIVITY, EMPLOYEES, EMPLOYEE_IDENTITIES])],
    name="match_usage",
)
def match_usage(context: dg.AssetExecutionContext, warehouse: WarehouseResource, programme: ProgrammeResource):
    """Match usage rows to the current HR state; unmatched rows go to quarantine (stage `match`)."""
    from kpi.ingest import match_usage as run

    found_counts = {}

    def step(con, found, cfg, secret, now):
        found_counts.update(run(con))
        return []

    _, counts = _run(context, warehouse, programme, step)
    yield dg.MaterializeResult(
        asset_key=USAGE_MATCHED,
        metadata={"dagster/row_count": int(counts.get("intermediate.usage_activity", 0)),
                  "quarantined_at_matching": dg.MetadataValue.json(found_counts)},
    )
