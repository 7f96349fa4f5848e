"""kpi/retention.py in small: the retention cutoff, and the ROI series counting the usage kpi purge
deleted (kept as sums per month and tool) exactly as it counted the rows."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from kpi.config import default_config
from kpi.migrations import ensure_schema_tables, ensure_tables
from kpi.retention import purged_estimated_benefits, retention_cutoff
from kpi.roi import build_monthly_series


@pytest.mark.parametrize("as_of, months, cutoff", [
    (dt.date(2026, 10, 15), 12, dt.date(2025, 10, 15)),
    (dt.date(2026, 3, 31), 1, dt.date(2026, 2, 28)),  # no 31 February: the month's last day
    (dt.date(2024, 3, 31), 1, dt.date(2024, 2, 29)),
    (dt.date(2026, 1, 10), 3, dt.date(2025, 10, 10)),
    (dt.date(2026, 1, 10), 24, dt.date(2024, 1, 10)),
])
def test_retention_cutoff(as_of, months, cutoff):
    assert retention_cutoff(as_of, months) == cutoff


@pytest.fixture
def con():
    con = duckdb.connect()
    ensure_schema_tables(con, "staging")
    ensure_tables(con, "intermediate.usage_activity")
    con.execute("""
        INSERT INTO staging.employees VALUES
          ('e1', 'Sales', 'user', DATE '2020-01-01', NULL, 1.0, 60, false),
          ('e2', 'Sales', 'user', DATE '2020-01-01', NULL, 1.0, 90, false);
        INSERT INTO staging.costs VALUES (DATE '2025-01-10', 'licenses', 100, NULL, NULL),
                                         (DATE '2025-03-10', 'licenses', 100, NULL, NULL);
        INSERT INTO intermediate.usage_activity VALUES
          ('e1', DATE '2025-02-03', 'chatgpt-enterprise', NULL, 10, 0, 0),
          ('e2', DATE '2025-02-04', 'chatgpt-enterprise', NULL, 4, 0, 0),
          ('e2', DATE '2025-03-04', 'chatgpt-enterprise', NULL, 5, 0, 0),
          ('e2', DATE '2025-03-05', 'github-copilot',     NULL, 7, 0, 0);
    """)
    yield con
    con.close()


CFG = default_config(dt.date(2025, 1, 1), benefits={"time_saved_minutes_per_interaction": {"chatgpt-enterprise": 6}})


def test_estimated_benefits_from_rows(con):
    # month 2: (10 x 60 + 4 x 90) x 6 / 60 = 96; month 3: 5 x 90 x 6 / 60 = 45 (no minutes for github-copilot)
    assert [m.estimated_benefits for m in build_monthly_series(con, CFG)] == pytest.approx([0, 96, 45])
    assert purged_estimated_benefits(con, CFG.program.start, {"chatgpt-enterprise": 6.0}) == {}


def test_purged_usage_counts_as_its_rows_did(con):
    ensure_tables(con, "intermediate.purged_usage_monthly")
    # what kpi purge keeps of February's rows: Σ interactions and Σ interactions x hourly cost
    con.execute("""
        INSERT INTO intermediate.purged_usage_monthly VALUES (DATE '2025-02-01', 'chatgpt-enterprise', 14, 960);
        DELETE FROM intermediate.usage_activity WHERE day < DATE '2025-03-01';
    """)
    assert purged_estimated_benefits(con, CFG.program.start, {"chatgpt-enterprise": 6.0}) == {2: pytest.approx(96)}
    assert [m.estimated_benefits for m in build_monthly_series(con, CFG)] == pytest.approx([0, 96, 45])
    # the minutes are read at build time: a changed value applies to purged months too
    cfg = default_config(dt.date(2025, 1, 1), benefits={"time_saved_minutes_per_interaction": {
        "chatgpt-enterprise": 3, "github-copilot": 1}})
    assert [m.estimated_benefits for m in build_monthly_series(con, cfg)] == pytest.approx([0, 48, 22.5 + 10.5])
