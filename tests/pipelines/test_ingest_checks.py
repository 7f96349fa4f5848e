"""The GX asset checks on staging tables: pass/fail, severity, blocking, metadata."""

import dagster as dg
import duckdb
import pytest

from kpi.migrations import ensure_schema_tables
from pipelines.defs.ingest import checks
from pipelines.resources import ProgrammeResource, WarehouseResource


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    ensure_schema_tables(con, "staging")
    con.execute("""
        INSERT INTO staging.employees VALUES ('p_e1', 'Sales', 'user', '2023-01-01', NULL, 1.0, 60.0, false);
        INSERT INTO staging.costs VALUES ('2024-01-15', 'catering', 120.0, NULL, NULL);
        INSERT INTO staging.use_cases VALUES ('UC-1', 'Summaries', 'Sales', '2024-01-10', 'live', true, NULL);
        INSERT INTO staging.survey_answers VALUES
          ('surveys/q1.csv', 'r1', 'I share AI tips', 'collaboration', false, 5, 5);
    """)
    con.close()
    return WarehouseResource(path=str(path))


def test_clean_blocking_table_passes(warehouse):
    result = checks.great_expectations_employees(warehouse=warehouse)
    assert result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["rows_checked"].value == 1
    assert result.metadata["failed_expectations"].value == 0


def test_blocking_failure_is_an_error_with_a_failure_table(warehouse):
    result = checks.great_expectations_costs(warehouse=warehouse)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["failed_expectations"].value == 1
    assert "| category one of external_training" in result.metadata["failures"].value


def test_non_blocking_failure_warns(warehouse):
    result = checks.great_expectations_use_cases(warehouse=warehouse)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN


def test_empty_optional_table_passes(warehouse):
    result = checks.great_expectations_process_metrics(warehouse=warehouse)
    assert result.passed and result.metadata["rows_checked"].value == 0


def test_survey_check_takes_the_scale_from_the_config(warehouse, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("program:\n  start: 2024-01-01\nsurvey:\n  scale_max: 4\n  favorable_min: 3\n"
                      "  labels: {'Yes': 4, 'No': 1}\n")
    programme = ProgrammeResource(inputs_dir=str(tmp_path), config_path=str(config))
    result = checks.great_expectations_survey_answers(warehouse=warehouse, programme=programme)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN


def test_one_check_per_staged_input_and_blocking_flags():
    from pipelines.definitions import defs

    specs = [spec for check in dg.load_asset_checks_from_modules([checks]) for spec in check.check_specs]
    assert {spec.name: spec.blocking for spec in specs} == {
        "great_expectations_employees": True, "great_expectations_trainings": True,
        "great_expectations_costs": True, "great_expectations_process_metrics": True,
        "great_expectations_usage_activity": True, "great_expectations_assessments": False,
        "great_expectations_use_cases": False, "great_expectations_survey_answers": False,
    }
    keys = {k.name: k.asset_key.to_user_string() for k in defs.resolve_asset_graph().asset_check_keys
            if k.name.startswith("great_expectations_")}
    assert keys["great_expectations_employees"] == "staging/employees"
    assert keys["great_expectations_usage_activity"] == "staging/usage_activity"
    assert len(keys) == 8
