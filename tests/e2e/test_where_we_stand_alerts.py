"""Red targets and missed milestones warn (issue 13): as Dagster asset checks (WARN, never
blocking), in `kpi run`'s summary and in the report's alerts.

The tiny company of tests/ingest/tiny.py (k = 2) with one target added: the company's active-user
rate at 90 % by 2025-Q2. Its active-user rate is 25 % in 2025-Q1 (one of four people active, see
tests/e2e/test_tiny_pipeline.py): red (below 90 % x 0.9). The 90-day rollout uses the default
milestones; the users' basics training (target 80 %, due 2025-03-01) is missed (nobody took it).
"""

from __future__ import annotations

import duckdb
import pytest

from kpi.alerts import MilestoneAlert, TargetAlert, milestone_alerts, target_alerts
from pipelines.run import run_pipeline
from tests.ingest.tiny import write_tiny_inputs

TARGET = "targets:\n  - {metric: active_user_rate, value: 0.9, by: 2025-Q2, owner: L&D}\n"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = write_tiny_inputs(tmp_path_factory.mktemp("tiny-targets") / "inputs")
    config = root / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + TARGET, encoding="utf-8")
    warehouse = root.parent / "warehouse.duckdb"
    summary = run_pipeline(root, config, warehouse, allow_development_key=True)
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con, summary, warehouse
    con.close()


def test_a_red_target_alerts_in_its_quarter(tiny):
    con, summary, _ = tiny
    [alert] = target_alerts(con, "2025-Q1")
    assert alert == TargetAlert("2025-Q1", "active_user_rate", "company", "all", 0.9, 0.25, "2025-Q2", "L&D")
    line = "2025-Q1: target active-user rate of the company is red: 25.0 % against 90.0 % (by 2025-Q2, owner L&D)"
    assert alert.describe() == line
    assert line in summary.alerts  # the Dagster check's metadata, read back by kpi run
    # benchmarks are comparisons: the 84 % adoption benchmark is red too, and never alerts
    (red_benchmarks,) = con.sql("SELECT count(*) FROM marts.kpi_targets WHERE quarter = '2025-Q1' "
                                "AND source <> 'target' AND status = 'red'").fetchall()[0]
    assert red_benchmarks >= 1
    assert not [a for a in summary.alerts if "Brixon" in a or "Bain" in a]


def test_a_missed_milestone_alerts_once_per_run(tiny):
    con, summary, _ = tiny
    missed = milestone_alerts(con)
    basics = next(a for a in missed if a.milestone == "users through the basics training")
    assert (basics.phase, basics.due_date.isoformat(), basics.reached_on) == ("Activation", "2025-03-01", None)
    assert isinstance(basics, MilestoneAlert)
    lines = [a for a in summary.alerts if a.startswith("rollout: ")]
    assert lines == [a.describe() for a in missed]
    assert "rollout: users through the basics training (Activation, due 2025-03-01) missed: not reached, " in (
        basics.describe())


def test_the_report_lists_the_red_target(tiny, tmp_path):
    from kpi.report import build_report

    _, _, warehouse = tiny
    page = build_report(warehouse, "2025-Q1", tmp_path, images=False).read_text(encoding="utf-8")
    alerts = page[page.index('<section id="alerts"'):page.index('<section id="restatements"')]
    assert "target active-user rate of the company is red: 25.0 % against 90.0 %" in alerts


def test_the_checks_are_declared_non_blocking():
    from pipelines.defs.kpis.assets import TARGET_RED
    from pipelines.defs.roi.assets import MILESTONE_MISSED

    assert not TARGET_RED.blocking and not MILESTONE_MISSED.blocking
    assert TARGET_RED.asset_key.path == ["marts", "kpi_targets"]
    assert MILESTONE_MISSED.asset_key.path == ["marts", "rollout_milestones"]
