"""The yearly deep dive in Dagster: the asset `reports/yearly_report` partitioned by year, its job and
the schedule that requests a year once its fourth quarter is closed (the demo warehouse: 2024-Q4 to
2026-Q3, every quarter closed, so 2024 and 2025 have a closed Q4 and 2026 has not)."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from pipelines.defs.reports.yearly import YEARLY_REPORT, yearly_report, yearly_report_schedule
from pipelines.partitions import YEARS, ensure_years
from pipelines.resources import ProgrammeResource, WarehouseResource


@pytest.fixture(scope="module")
def instance():
    """One temporary instance for the module (each costs seconds to set up)."""
    with dg.instance_for_test() as inst:
        yield inst


def test_definitions_carry_the_yearly_asset_job_and_schedule():
    from pipelines.definitions import defs

    job = defs.resolve_job_def("yearly_report")
    assert job.partitions_def == YEARS
    assert {k.to_user_string() for k in job.asset_layer.selected_asset_keys} == {"reports/yearly_report"}
    schedule = defs.resolve_schedule_def("yearly_report_schedule")
    assert schedule.job_name == "yearly_report"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    graph = defs.resolve_asset_graph()
    assert graph.get(YEARLY_REPORT).group_name == "yearly_reports"
    # the quarterly jobs (and kpi run's `reports` group) stay partitioned by quarter, without it
    for name in ("quarterly_close", "refresh_quarter"):
        assert YEARLY_REPORT not in defs.resolve_job_def(name).asset_layer.selected_asset_keys


def test_schedule_requests_each_year_whose_fourth_quarter_is_closed(instance, demo_warehouse):
    context = dg.build_schedule_context(instance=instance,
                                        resources={"warehouse": WarehouseResource(path=str(demo_warehouse))})
    requests = yearly_report_schedule(context)
    assert [(r.partition_key, r.run_key) for r in requests] == [("2024", "yearly-2024-v1"),
                                                                 ("2025", "yearly-2025-v1.1.1.1")]
    assert instance.get_dynamic_partitions(YEARS.name) == ["2024", "2025"]
    assert yearly_report_schedule(context)[1].run_key == "yearly-2025-v1.1.1.1"  # same figures: same key


def test_schedule_skips_without_a_warehouse(instance, tmp_path):
    context = dg.build_schedule_context(instance=instance,
                                        resources={"warehouse": WarehouseResource(path=str(tmp_path / "none.duckdb"))})
    result = yearly_report_schedule(context)
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == "no year with a closed fourth quarter in the warehouse yet"


def test_the_asset_writes_the_year_with_the_inputs_notes(instance, demo_warehouse, tmp_path):
    from kpi.paths import DEMO_DIR

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, warehouse)
    ensure_years(instance, ["2025"])
    resources = {"warehouse": WarehouseResource(path=str(warehouse)),
                 "programme": ProgrammeResource(inputs_dir=str(DEMO_DIR), config_path=str(DEMO_DIR / "config.yaml"),
                                                allow_development_key=True)}
    result = dg.materialize([yearly_report], partition_key="2025", resources=resources, instance=instance)
    assert result.success
    page = tmp_path / "reports" / "report-2025.html"
    (materialization,) = result.asset_materializations_for_node("reports__yearly_report")
    assert materialization.metadata["path"].value == str(page)
    text = page.read_text(encoding="utf-8")
    assert "2 notes from the folder notes, in file-name order." in text
    assert "complete: quarters 2025-Q1 to 2025-Q4 closed" in text
