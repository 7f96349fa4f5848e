"""The quarterly close schedule, the inputs sensor and the jobs they start (Dagster test APIs).

`build_schedule_context` needs a persistent instance (it passes an instance *ref* to the
context), so these tests use `dg.instance_for_test()` (a temporary persistent instance) rather
than `DagsterInstance.ephemeral()`.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from pipelines.defs.kpis import automation
from pipelines.defs.kpis.automation import CLOSE_CRON, inputs_sensor, quarterly_close_schedule
from pipelines.partitions import QUARTERS
from pipelines.resources import ProgrammeResource

BERLIN = ZoneInfo("Europe/Berlin")  # the demo company's timezone (the default config)


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    """A small generated company: programme start 2025-01-01, 3 baseline months (window from
    2024-10-01), so the programme's first quarter is 2024-Q4."""
    from kpi.synthetic import generate_company

    out = tmp_path_factory.mktemp("sensor_company")
    generate_company(out, employees=30, months=3, seed=1)
    return out


class _FixedDate(dt.date):
    """`date.today()` pinned so the quarters the sensor requests are known in advance."""

    @classmethod
    def today(cls):
        return cls(2025, 5, 10)  # 2025-Q2


@pytest.fixture
def today_2025_q2(monkeypatch):
    monkeypatch.setattr(automation, "company_today", lambda timezone: _FixedDate.today())


def _sensor_context(instance, inputs, cursor=None):
    programme = ProgrammeResource(inputs_dir=str(inputs), config_path=str(inputs / "config.yaml"))
    return dg.build_sensor_context(instance=instance, cursor=cursor, resources={"programme": programme})


# ----------------------------------------------------------------------------------- schedule

@pytest.mark.parametrize(("when", "quarter"), [
    (dt.datetime(2026, 1, 5, 6, 0, tzinfo=BERLIN), "2025-Q4"),
    (dt.datetime(2026, 4, 5, 6, 0, tzinfo=BERLIN), "2026-Q1"),
    (dt.datetime(2025, 7, 5, 6, 0, tzinfo=BERLIN), "2025-Q2"),
])
def test_schedule_closes_the_previous_quarter(instance, when, quarter):
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
    request = quarterly_close_schedule(context)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == quarter
    assert request.run_key == f"close-{quarter}"
    assert request.tags["kpi/quarter"] == quarter
    # the schedule registers the partition it closes, so the run can target it
    assert instance.get_dynamic_partitions(QUARTERS.name) == [quarter]


def test_schedule_does_not_add_a_partition_twice(instance):
    instance.add_dynamic_partitions(QUARTERS.name, ["2025-Q4"])
    context = dg.build_schedule_context(instance=instance,
                                        scheduled_execution_time=dt.datetime(2026, 1, 5, 6, tzinfo=BERLIN))
    assert quarterly_close_schedule(context).partition_key == "2025-Q4"
    assert instance.get_dynamic_partitions(QUARTERS.name) == ["2025-Q4"]


def test_schedule_fires_on_the_fifth_of_each_quarter_month():
    assert quarterly_close_schedule.cron_schedule == CLOSE_CRON == "0 6 5 1,4,7,10 *"
    minute, hour, day, months, weekday = quarterly_close_schedule.cron_schedule.split()
    assert (minute, hour, day, months, weekday) == ("0", "6", "5", "1,4,7,10", "*")
    assert quarterly_close_schedule.execution_timezone == "Europe/Berlin"
    assert quarterly_close_schedule.job_name == "quarterly_close"
    # Dagster's own cron iteration (the one its daemon uses; private module, no croniter installed)
    from dagster._utils.schedules import cron_string_iterator

    ticks = cron_string_iterator(dt.datetime(2026, 2, 1, tzinfo=BERLIN).timestamp(), CLOSE_CRON, "Europe/Berlin")
    assert [next(ticks) for _ in range(4)] == [
        dt.datetime(2026, 4, 5, 6, 0, tzinfo=BERLIN), dt.datetime(2026, 7, 5, 6, 0, tzinfo=BERLIN),
        dt.datetime(2026, 10, 5, 6, 0, tzinfo=BERLIN), dt.datetime(2027, 1, 5, 6, 0, tzinfo=BERLIN),
    ]
    # and each tick closes the quarter that ended a few days before
    assert [automation.quarter_to_close(d) for d in (dt.date(2026, 4, 5), dt.date(2027, 1, 5))] == [
        "2026-Q1", "2026-Q4"]


# ------------------------------------------------------------------------------------- sensor

QUARTERS_TO_TODAY = ["2024-Q4", "2025-Q1", "2025-Q2"]  # baseline quarter .. quarter of "today"


def test_sensor_first_evaluation_requests_every_programme_quarter(instance, company, today_2025_q2):
    result = inputs_sensor(_sensor_context(instance, company))
    assert isinstance(result, dg.SensorResult)
    assert [r.partition_key for r in result.run_requests] == QUARTERS_TO_TODAY
    keys = [r.run_key for r in result.run_requests]
    assert len(set(keys)) == len(keys)
    assert all(key.startswith(result.cursor[:16]) for key in keys)
    assert result.cursor == automation.inputs_fingerprint(company)
    [add] = result.dynamic_partitions_requests
    assert isinstance(add, dg.AddDynamicPartitionsRequest)
    assert add.partitions_def_name == QUARTERS.name
    assert list(add.partition_keys) == QUARTERS_TO_TODAY


def test_sensor_skips_when_nothing_changed(instance, company, today_2025_q2):
    first = inputs_sensor(_sensor_context(instance, company))
    second = inputs_sensor(_sensor_context(instance, company, cursor=first.cursor))
    assert isinstance(second, dg.SkipReason)
    assert "no new or changed" in second.skip_message


def test_sensor_requests_new_runs_after_a_file_is_added_or_changed(instance, company, tmp_path, today_2025_q2):
    import shutil

    inputs = tmp_path / "inputs"
    shutil.copytree(company, inputs)
    first = inputs_sensor(_sensor_context(instance, inputs))

    # a new usage file
    extra = inputs / "usage" / "gateway" / "late-export.csv"
    extra.write_text("event_time,user,tool,action,interactions\n2025-03-03,E00001,chat-gateway,chat,2\n")
    second = inputs_sensor(_sensor_context(instance, inputs, cursor=first.cursor))
    assert isinstance(second, dg.SensorResult)
    assert second.cursor != first.cursor
    assert [r.partition_key for r in second.run_requests] == QUARTERS_TO_TODAY
    assert not {r.run_key for r in second.run_requests} & {r.run_key for r in first.run_requests}

    # an existing file rewritten with a different size
    with (inputs / "hr" / "trainings.csv").open("a") as f:
        f.write("\n")
    third = inputs_sensor(_sensor_context(instance, inputs, cursor=second.cursor))
    assert isinstance(third, dg.SensorResult)
    assert third.cursor not in (first.cursor, second.cursor)
    assert not {r.run_key for r in third.run_requests} & {r.run_key for r in second.run_requests}

    # hidden files (editor swap files, .DS_Store) are not inputs
    (inputs / "usage" / ".lock").write_text("x")
    assert isinstance(inputs_sensor(_sensor_context(instance, inputs, cursor=third.cursor)), dg.SkipReason)


def test_sensor_adds_only_the_missing_partitions(instance, company, today_2025_q2):
    instance.add_dynamic_partitions(QUARTERS.name, ["2024-Q4", "2025-Q1"])
    result = inputs_sensor(_sensor_context(instance, company))
    [add] = result.dynamic_partitions_requests
    assert list(add.partition_keys) == ["2025-Q2"]
    # every quarter still gets its refresh run
    assert [r.partition_key for r in result.run_requests] == QUARTERS_TO_TODAY


# --------------------------------------------------------------------------------- definitions

KPI_ASSETS = {"marts/kpi_usage", "marts/kpi_competence", "marts/kpi_business", "marts/kpi_culture",
              "marts/kpi_snapshots"}


@pytest.mark.parametrize("job_name", ["quarterly_close", "refresh_quarter"])
def test_jobs_resolve_with_the_kpi_assets_partitioned_by_quarter(job_name):
    from pipelines.definitions import defs

    job = defs.resolve_job_def(job_name)
    assert isinstance(job, dg.JobDefinition)
    keys = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    assert KPI_ASSETS <= keys
    assert {"staging/employees", "staging/usage_activity"} <= keys  # ingest runs first in the same job
    assert job.partitions_def == QUARTERS


def test_definitions_carry_the_schedule_and_the_sensor():
    from pipelines.definitions import defs

    assert defs.resolve_schedule_def("quarterly_close_schedule").job_name == "quarterly_close"
    assert defs.resolve_sensor_def("inputs_sensor").job_name == "refresh_quarter"
