"""marts.roi_by_segment (kpi/roi_segments.py, docs/metrics.md §16), worked out by hand.

Programme start 2025-01-01, one baseline month (December 2024), attribution = confidence = 1.

    department  people  hourly  direct costs                           processes (baseline minutes)
    Sales       3       60      external training 1,000 + s1's 4 h     quotes (1,000), tenders (300)
                                of training x 60 = 1,240
    Ops         3       40      o1's 5 h x 40 = 200                    claims (500)
    Board       2       100     -                                      -
    (none)                      licences 700, no department: allocated

Savings in January: quotes 10 -> 8 minutes x 100 cases = 3.33 h x 60 = 200; claims 10 -> 8 x 50 =
1.67 h x 40 = 66.67; tenders none. By headcount the 700 go 3/8, 3/8, 2/8: 262.5, 262.5, 175.
Sales' costs 1,502.5 go to quotes and tenders as 1,000 : 300 of baseline minutes.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from kpi.config import default_config
from kpi.marts import ensure_inputs
from kpi.roi import Assumptions, build_monthly_series, summary
from kpi.roi_segments import segment_rows

D = dt.date


def warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_inputs(con)
    people = [("s1", "Sales", 60.0), ("s2", "Sales", 60.0), ("s3", "Sales", 60.0), ("o1", "Ops", 40.0),
              ("o2", "Ops", 40.0), ("o3", "Ops", 40.0), ("b1", "Board", 100.0), ("b2", "Board", 100.0)]
    con.executemany("INSERT INTO staging.employees VALUES (?, ?, 'user', DATE '2020-01-01', NULL, 1.0, ?, false)",
                    [list(p) for p in people])
    con.executemany("INSERT INTO staging.costs VALUES (?, ?, ?, 'line', ?)",
                    [[D(2025, 1, 10), "external_training", 1000.0, "Sales"], [D(2025, 1, 15), "licenses", 700.0, None]])
    con.executemany("INSERT INTO staging.trainings VALUES (?, 'c1', 'basics_workshop', DATE '2025-01-20', "
                    "DATE '2025-01-20', 'completed', ?)", [["s1", 4.0], ["o1", 5.0]])
    con.executemany("INSERT INTO staging.process_metrics VALUES (?, ?, ?, ?, ?, 0, NULL)", [
        [D(2024, 12, 1), "quotes", "Sales", 100, 1000.0], [D(2025, 1, 1), "quotes", "Sales", 100, 800.0],
        [D(2024, 12, 1), "tenders", "Sales", 10, 300.0], [D(2025, 1, 1), "tenders", "Sales", 10, 300.0],
        [D(2024, 12, 1), "claims", "Ops", 50, 500.0], [D(2025, 1, 1), "claims", "Ops", 50, 400.0]])
    return con


def config(**roi):
    return default_config(D(2025, 1, 1), program={"start": D(2025, 1, 1), "baseline_months": 1},
                          benefits={"attribution": 1.0, "confidence": 1.0}, privacy={"min_group_size": 2},
                          roi=roi or None)


def by_segment(cfg) -> dict[tuple[str, str], dict]:
    con = warehouse()
    a = Assumptions.from_config(cfg)
    rows = {(r["segment_type"], r["segment"]): r for r in segment_rows(con, cfg, a)}
    con.close()
    return rows


@pytest.fixture(scope="module")
def rows():
    return by_segment(config())


def test_departments_direct_and_allocated_by_headcount(rows):
    sales, ops, board = rows[("department", "Sales")], rows[("department", "Ops")], rows[("department", "Board")]
    assert (sales["costs_direct"], sales["costs_allocated"], sales["costs"]) == pytest.approx((1240, 262.5, 1502.5))
    assert (ops["costs_direct"], ops["costs_allocated"]) == pytest.approx((200, 262.5))
    assert (board["costs_direct"], board["costs_allocated"], board["benefits"]) == pytest.approx((0, 175, 0))
    assert sales["benefits"] == pytest.approx(200) and ops["benefits"] == pytest.approx(50 * 2 / 60 * 40)
    assert sales["roi_pct"] == pytest.approx((200 - 1502.5) / 1502.5 * 100)
    assert (board["roi_pct"], board["allocation_share"]) == (pytest.approx(-100.0), pytest.approx(2 / 8))


def test_the_segments_add_up_to_the_programme(rows):
    cfg = config()
    con = warehouse()
    total = summary(build_monthly_series(con, cfg), Assumptions.from_config(cfg))
    con.close()
    company = rows[("company", "all")]
    assert (company["costs"], company["benefits"]) == pytest.approx((total.cum_costs, total.cum_benefits), abs=1e-9)
    assert company["costs"] == pytest.approx(2140)
    departments = [r for key, r in rows.items() if key[0] == "department"]
    processes = [r for key, r in rows.items() if key[0] == "process"]
    for column in ("costs", "benefits", "costs_allocated"):
        assert sum(r[column] for r in departments) == pytest.approx(company[column], abs=1e-9)
        assert sum(r[column] for r in processes) == pytest.approx(company[column], abs=1e-9)


def test_processes_share_their_departments_costs_by_baseline_minutes(rows):
    quotes, tenders = rows[("process", "quotes")], rows[("process", "tenders")]
    assert quotes["costs"] == pytest.approx(1502.5 * 10 / 13) and tenders["costs"] == pytest.approx(1502.5 * 3 / 13)
    assert (quotes["benefits"], tenders["benefits"]) == pytest.approx((200, 0))
    assert rows[("process", "claims")]["costs"] == pytest.approx(462.5)
    assert rows[("process", "unassigned")]["costs"] == pytest.approx(175)  # Board has no process
    # ranked by net benefit: tenders -346.7, claims -395.8, quotes -955.8; unassigned never ranked
    assert [r["segment"] for r in sorted((r for r in rows.values() if r["rank"]), key=lambda r: r["rank"])] == [
        "tenders", "claims", "quotes"]
    assert rows[("process", "unassigned")]["rank"] is None


def test_allocation_by_participant_time():
    rows = by_segment(config(cost_allocation="participant_time"))
    # participant time 240 (Sales) and 200 (Ops): the 700 go 240 : 200 : 0
    assert rows[("department", "Sales")]["costs_allocated"] == pytest.approx(700 * 240 / 440)
    assert rows[("department", "Ops")]["costs_allocated"] == pytest.approx(700 * 200 / 440)
    assert rows[("department", "Board")]["costs_allocated"] == pytest.approx(0)


def test_a_small_department_and_one_more_are_withheld():
    """k = 3: Board (2) is small; 2 people alone would be recoverable from the company's row, so
    the smallest other department, Ops (3), is withheld too; their processes likewise."""
    cfg = default_config(D(2025, 1, 1), program={"start": D(2025, 1, 1), "baseline_months": 1},
                         benefits={"attribution": 1.0, "confidence": 1.0}, privacy={"min_group_size": 3})
    con = warehouse()
    rows = {(r["segment_type"], r["segment"]): r for r in segment_rows(con, cfg, Assumptions.from_config(cfg))}
    con.close()
    assert (rows[("department", "Board")]["suppression_reason"], rows[("department", "Board")]["costs"]) == (
        "small_group", None)
    assert rows[("department", "Ops")]["suppression_reason"] == "complementary"
    assert rows[("department", "Ops")]["benefits"] is None and not rows[("department", "Sales")]["suppressed"]
    assert rows[("process", "unassigned")]["suppressed"] and rows[("process", "unassigned")]["costs"] is None
    assert rows[("process", "claims")]["suppressed"] and rows[("process", "claims")]["rank"] is None
    assert [r["segment"] for r in sorted((r for r in rows.values() if r["rank"]), key=lambda r: r["rank"])] == [
        "tenders", "quotes"]


def test_the_business_case_of_ideas_and_pilots():
    """Idea u1 (Sales, 10 h a month): 120 h a year x 60 = 7,200; 40 h to build x 60 = 2,400, paid
    back in 40 / 10 = 4 months. Pilot u2 (Board, 2 people < k = 3): the company's rate, (3 x 60 +
    3 x 40 + 2 x 100) / 8 = 62.5. Not listed: u3 in production, u4 an idea without an estimate."""
    from kpi.roi_segments import USE_CASE_TABLE, build_use_cases

    con = warehouse()
    con.executemany("INSERT INTO staging.use_cases VALUES (?, ?, ?, DATE '2025-01-05', ?, true, ?)", [
        ["u1", "Quote drafts", "Sales", "idea", 10.0], ["u2", "Minutes", "Board", "pilot", 2.0],
        ["u3", "Claims triage", "Ops", "production", 30.0], ["u4", "Someday", "Ops", "idea", None]])
    cfg = default_config(D(2025, 1, 1), privacy={"min_group_size": 3})
    assert build_use_cases(con, cfg) == 2
    rows = con.sql(f"SELECT use_case_id, hourly_cost_eur, hourly_cost_pooled, expected_annual_benefit_eur, "
                   f"implementation_cost_eur, simple_payback_months FROM {USE_CASE_TABLE} "
                   "ORDER BY sort_order").fetchall()
    assert rows == [("u1", 60.0, False, 7200.0, 2400.0, 4.0),
                    ("u2", 62.5, True, pytest.approx(2 * 12 * 62.5), 2500.0, 20.0)]
    con.close()
