"""The whole pipeline (`kpi run` in-process) on the tiny hand-made inputs of tests/ingest/tiny.py,
with figures worked out by hand. k = privacy.min_group_size = 2 in that config.

People (after ingest): E001 Engineering champion (whole year), E002 Sales user fte 0.5 (hourly
cost from config: 55), E003 Engineering user hired 2025-02-15 (cost 60), E004 Sales manager
who left on 2025-02-28 (cost 90). Q1 2025 has 90 days (weeks = 90/7).
"""

from __future__ import annotations

import duckdb
import pytest

from pipelines.run import run_pipeline
from tests.ingest.tiny import write_tiny_inputs


@pytest.fixture(scope="module")
def tiny_warehouse(tmp_path_factory):
    root = write_tiny_inputs(tmp_path_factory.mktemp("tiny") / "inputs")
    warehouse = root.parent / "warehouse.duckdb"
    summary = run_pipeline(root, root / "config.yaml", warehouse, allow_development_key=True)
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con, summary
    con.close()


def one(con, sql, *params):
    rows = con.sql(sql, params=list(params)).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def test_quarters_and_summary(tiny_warehouse):
    con, summary = tiny_warehouse
    assert summary.quarters == ["2024-Q4", "2025-Q1", "2025-Q2"]
    assert summary.quarantined["after_exit"] == 1 and summary.quarantined["before_hire"] == 1


def test_usage_company_rows(tiny_warehouse):
    con, _ = tiny_warehouse
    q = "SELECT headcount, fte, active_users, active_user_rate, interactions, interactions_per_employee_week " \
        "FROM marts.kpi_usage WHERE quarter = ? AND segment_type = 'company'"
    headcount, fte, active, rate, interactions, per_week = one(con, q, "2025-Q1")
    assert headcount == 4
    # fte: E001 1 + E002 0.5 + E003 1 x 45/90 (hired mid-quarter) + E004 1 x 59/90 (left end of Feb)
    assert fte == pytest.approx(1 + 0.5 + 45 / 90 + 59 / 90)
    # Only Anna's 2025-02-03 row counts: E003's row was before hire, E004's after exit, the
    # contractor is unknown, and the 2025-03-31T23:30Z event is 2025-04-01 in Berlin (Q2).
    assert (active, rate, interactions) == (1, 0.25, 5)
    assert per_week == pytest.approx(5 / 4 / (90 / 7))
    headcount, _, active, rate, interactions, _ = one(con, q, "2025-Q2")
    assert (headcount, active, interactions) == (3, 1, 2)  # E004 gone; the late-March UTC event lands here
    assert rate == pytest.approx(1 / 3)


def test_suppressed_and_complementary_departments(tiny_warehouse):
    con, _ = tiny_warehouse
    rows = con.sql("SELECT segment, group_size, suppressed, suppression_reason, headcount, fte, active_user_rate "
                   "FROM marts.kpi_usage WHERE quarter = '2025-Q2' AND segment_type = 'department' "
                   "ORDER BY segment").fetchall()
    # Q2: Sales has only E002 (< k = 2): hidden. Engineering is then the only other department, so
    # the company row minus Engineering would reveal Sales: it is hidden too (complementary).
    assert rows == [
        ("Engineering", 2, True, "complementary", None, None, None),
        ("Sales", 1, True, "small_group", None, None, None),
    ]
    rows = con.sql("SELECT segment, suppressed, suppression_reason, headcount FROM marts.kpi_usage "
                   "WHERE quarter = '2025-Q1' AND segment_type = 'target_group' ORDER BY segment").fetchall()
    # Two small groups hidden; no complementary suppression needed when two or more are hidden.
    assert rows == [("champion", True, "small_group", None), ("manager", True, "small_group", None),
                    ("user", False, None, 2)]


def test_competence(tiny_warehouse):
    con, _ = tiny_warehouse
    assessed, skill, trained, success = one(
        con, "SELECT assessed_employees, skill_score, trained_share, success_rate FROM marts.kpi_competence "
             "WHERE quarter = '2025-Q1' AND segment_type = 'company'")
    # One valid ai_literacy assessment (the 120/100 one was quarantined): fewer than k assessed.
    assert assessed == 1 and skill is None
    # E001 and E002 completed a training by 31 March: 2 of 4.
    assert trained == 0.5
    # successes/failures come from one employee only (< k contributors).
    assert success is None


def test_business_quote_preparation(tiny_warehouse):
    con, _ = tiny_warehouse
    row = one(con, "SELECT baseline_minutes_per_case, minutes_per_case, time_reduction, hours_saved, "
                   "baseline_error_rate, error_rate, errors_avoided, time_savings_eur, quality_savings_eur, "
                   "cases_per_fte_growth FROM marts.kpi_business WHERE quarter = '2025-Q1' "
                   "AND process = 'quote_preparation'")
    base_mpc, mpc, reduction, hours, base_err, err, avoided, time_eur, quality_eur, growth = row
    # Baseline = Oct-Dec 2024: 600 min / 10 cases, 2 errors. Q1: Feb 600 min / 12 cases, 1 error
    # (the March row with -1 cases was quarantined).
    assert (base_mpc, mpc) == (60, 50)
    assert reduction == pytest.approx(1 - 50 / 60)
    assert hours == pytest.approx((60 - 50) * 12 / 60)  # 2.0
    assert (base_err, err) == (pytest.approx(0.2), pytest.approx(1 / 12))
    assert avoided == pytest.approx((0.2 - 1 / 12) * 12)  # 1.4
    # Sales hourly cost in Q1, weighted by fte x days employed: E002 55 x 0.5 x 90, E004 90 x 1 x 59.
    sales_rate = (55 * 0.5 * 90 + 90 * 1 * 59) / (0.5 * 90 + 59)
    assert time_eur == pytest.approx(2.0 * sales_rate)
    assert quality_eur == pytest.approx(1.4 * 50)  # cost_per_error default
    # cases per fte: 12 / (0.5 + 59/90) vs baseline (10 x 3/3) / 1.5 fte
    assert growth == pytest.approx((12 / (0.5 + 59 / 90)) / (10 / 1.5) - 1)


def test_culture_reverse_scored_item(tiny_warehouse):
    con, _ = tiny_warehouse
    responses, mean, favorability, response_rate = one(
        con, "SELECT responses, mean_score, favorability, response_rate FROM marts.kpi_culture "
             "WHERE quarter = '2025-Q1' AND construct = 'satisfaction' AND segment_type = 'company'")
    # r1: Agree 4, "harder" Strongly disagree -> 6-1 = 5: mean 4.5; r2: 5 and 6-2 = 4: 4.5;
    # r3: 7 is out of range (cell quarantined), "harder" 2 -> 4: 4.0.
    assert responses == 3
    assert mean == pytest.approx((4.5 + 4.5 + 4.0) / 3)
    assert favorability == 1.0  # all five answered items are >= 4 after reverse-scoring
    assert response_rate == pytest.approx(3 / 4)
    # support: only r3 answered (r2's "Maybe" is not a label): 1 response < k -> suppressed
    assert one(con, "SELECT suppressed, responses FROM marts.kpi_culture WHERE quarter = '2025-Q1' "
                    "AND construct = 'support' AND segment_type = 'company'") == (True, None)
