"""The Dagster fetch asset and its daily schedule (stopped by default), against the fake vendors."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb

from kpi.fetch.log import read_log
from pipelines.defs.fetch.assets import FETCH_CRON, daily_fetch_schedule, usage_reports
from pipelines.resources import ProgrammeResource, WarehouseResource
from tests.fetch_vendors import ENV, GITHUB_DAYS, GITHUB_TOKEN, M365_REPORT, M365_SECRET, TODAY, Vendors, write_company


def _materialize(root, warehouse):
    return dg.materialize([usage_reports], resources={
        "programme": ProgrammeResource(inputs_dir=str(root), config_path=str(root / "config.yaml")),
        "warehouse": WarehouseResource(path=str(warehouse))}, raise_on_error=False)


def test_the_asset_fetches_into_the_inputs_folder_and_fills_audit_fetch_log(tmp_path, httpserver, monkeypatch):
    vendors = Vendors(httpserver)
    root = write_company(tmp_path / "inputs", vendors.base_url)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("kpi.fetch.utc_today", lambda: TODAY)
    monkeypatch.setattr("kpi.fetch.github.first_day", lambda start, months: dt.date(2026, 11, 27))
    result = _materialize(root, tmp_path / "warehouse.duckdb")
    assert result.success
    yesterday = GITHUB_DAYS[dt.date(2026, 11, 29)][0]
    assert (root / "usage/github/copilot-users-1-day-2026-11-29.ndjson").read_bytes() == yesterday
    assert (root / "usage/m365/copilot-usage-user-detail-D7-2026-11-29.csv").read_bytes() == M365_REPORT
    [materialization] = result.asset_materializations_for_node("fetch__usage_reports")
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert metadata["github fetched"] == 4 and metadata["m365 fetched"] == 1  # 27 Nov (two files), 28, 29
    assert "GitHub Copilot: fetched up to 2026-11-29; no day missing" in metadata["where each source stands"]
    events = "".join(str(event) for event in result.all_events)
    assert GITHUB_TOKEN not in events and M365_SECRET not in events and "sig=" not in events
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM audit.fetch_log").fetchall() == [(len(read_log(root)),)] == [(5,)]


def test_without_a_fetch_section_the_asset_does_nothing(tmp_path, httpserver):
    vendors = Vendors(httpserver)
    root = write_company(tmp_path / "inputs", vendors.base_url, github=False, m365=False)
    result = _materialize(root, tmp_path / "warehouse.duckdb")
    assert result.success and vendors.calls == {}
    assert not (root / "usage").exists()


def test_the_daily_schedule_is_stopped_by_default_and_runs_only_the_fetch():
    from pipelines.definitions import defs

    schedule = defs.resolve_schedule_def("daily_fetch_schedule")
    assert schedule is not None and daily_fetch_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.cron_schedule == FETCH_CRON == "0 6 * * *" and schedule.execution_timezone == "UTC"
    job = defs.resolve_job_def(schedule.job_name)
    assert {k.to_user_string() for k in job.asset_layer.selected_asset_keys} == {"fetch/usage_reports"}
    for name in ("quarterly_close", "refresh_quarter"):  # a quarterly run never downloads
        keys = {k.to_user_string() for k in defs.resolve_job_def(name).asset_layer.selected_asset_keys}
        assert "fetch/usage_reports" not in keys
