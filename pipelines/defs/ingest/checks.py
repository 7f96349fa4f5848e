"""Great Expectations asset checks on the staged inputs (suites in kpi/quality.py).

One check per staged table, named `great_expectations_<suite>`. Suites whose failures would
make downstream figures wrong are blocking (severity ERROR: downstream assets of the same run
do not materialise); the others warn.
"""

from datetime import date

import dagster as dg

from kpi.quality import is_blocking
from pipelines.defs.ingest.assets import (
    ASSESSMENTS,
    COSTS,
    EMPLOYEES,
    PROCESS_METRICS,
    SURVEY_ANSWERS,
    TRAININGS,
    USAGE_ACTIVITY,
    USE_CASES,
)
from pipelines.resources import ProgrammeResource, WarehouseResource


def run_suite(warehouse: WarehouseResource, name: str, **params) -> dg.AssetCheckResult:
    """Validate one staging table and report it as a Dagster asset check result."""
    from kpi.quality import failures_markdown, validate_table

    with warehouse.connect() as con:
        result = validate_table(con, name, **params)
    failed = result.failed
    return dg.AssetCheckResult(
        passed=result.success,
        severity=dg.AssetCheckSeverity.ERROR if result.blocking else dg.AssetCheckSeverity.WARN,
        description=(f"{len(result.outcomes) - len(failed)} of {len(result.outcomes)} expectations met"
                     + (f" (the same data passed at {result.passed_before:%Y-%m-%d %H:%M}; not validated again)"
                        if result.passed_before else "")
                     if result.rows_checked else "table empty: nothing to check"),
        metadata={
            "rows_checked": result.rows_checked,
            "passed_before": str(result.passed_before or ""),
            "expectations": len(result.outcomes),
            "failed_expectations": len(failed),
            "failures": dg.MetadataValue.md(failures_markdown(result)),
            "summary": "; ".join(
                f"{o.rule}: {o.unexpected_count} unexpected"
                + (f" (e.g. {o.unexpected_examples[0]})" if o.unexpected_examples else "") for o in failed),
        },
    )


def _gx_check(asset_key: dg.AssetKey, name: str, description: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset_key, name=f"great_expectations_{name}", blocking=is_blocking(name),
                    description=description)
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        return run_suite(warehouse, name)

    return _check


great_expectations_employees = _gx_check(
    EMPLOYEES, "employees",
    "Unique, non-null employee keys; target group one of four; fte in (0, 1]; hourly cost > 0; exit >= hire.")
great_expectations_trainings = _gx_check(
    TRAININGS, "trainings", "Known format and status; hours >= 0; every employee key is in staging.employees.")
great_expectations_assessments = _gx_check(
    ASSESSMENTS, "assessments", "0 <= score <= max_score; max_score > 0; instrument set; employee known.")
great_expectations_costs = _gx_check(
    COSTS, "costs", "Category one of the five budget categories; booked_on and amount_eur set.")
great_expectations_process_metrics = _gx_check(
    PROCESS_METRICS, "process_metrics",
    "cases, handling_minutes >= 0; 0 <= errors <= cases; one row per month, process and department.")
great_expectations_use_cases = _gx_check(
    USE_CASES, "use_cases", "Unique use_case_id; status one of idea, pilot, production, retired.")


@dg.asset_check(asset=USAGE_ACTIVITY, name="great_expectations_usage_activity", blocking=is_blocking("usage_activity"),
                description="Per-file daily summary computed in DuckDB: day from 2000-01-01 to tomorrow, "
                            "at least one user, no negative counts, one row per file and day.")
def great_expectations_usage_activity(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return run_suite(warehouse, "usage_activity", today=date.today())


@dg.asset_check(asset=SURVEY_ANSWERS, name="great_expectations_survey_answers",
                blocking=is_blocking("survey_answers"),
                description="Points from 1 to survey.scale_max; known construct; one answer per response and item.")
def great_expectations_survey_answers(warehouse: WarehouseResource,
                                      programme: ProgrammeResource) -> dg.AssetCheckResult:
    return run_suite(warehouse, "survey_answers", scale_max=programme.load_config().survey.scale_max)
