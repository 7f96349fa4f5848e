"""marts.roi_benchmarks (docs/metrics.md §10): where the programme and its processes stand against
the framework's published ranges, worked out by hand."""

from __future__ import annotations

import duckdb
import pytest

from kpi.benchmarks import PROGRAMME_BENCHMARKS, benchmark_rows, build_benchmarks, position
from kpi.marts import ensure_mart_tables
from kpi.roi import Assumptions, RoiSummary


@pytest.mark.parametrize(("actual", "low", "high", "better", "expected"), [
    (4.0, 4, 5, "lower", "within"),      # break-even exactly at the range's good end
    (5.0, 4, 5, "lower", "within"),      # and at its bad end
    (3.0, 4, 5, "lower", "better"),
    (13.0, 4, 5, "lower", "worse"),
    (3.40, 3.40, 3.40, "higher", "within"),
    (0.96, 3.40, 3.40, "higher", "worse"),
    (0.47, 0.26, 0.41, "higher", "better"),
    (0.25, 0.26, 0.41, "higher", "worse"),
    (None, 4, 5, "lower", None),
])
def test_position(actual, low, high, better, expected):
    assert position(actual, low, high, better) == expected


def _summary(year1_roi_pct, break_even_month, payback_months) -> RoiSummary:
    return RoiSummary(m=21, month=None, cum_costs=1.0, cum_benefits=1.0, cum_gross_benefits=1.0,
                      cum_estimated_benefits=None, roi_pct=0.0, bcr=1.0, break_even_month=break_even_month,
                      payback_months=payback_months, npv=0.0, discounted_payback_months=None,
                      year1_roi_pct=year1_roi_pct, assumptions=Assumptions(attribution=0.6, confidence=0.8))


@pytest.fixture
def warehouse():
    con = duckdb.connect()
    ensure_mart_tables(con)
    # two quarters of process rows: only the last one with a time reduction counts
    insert = ("INSERT INTO marts.kpi_business (quarter, process, department, time_reduction, error_rate, "
              "baseline_error_rate) VALUES (?, ?, ?, ?, ?, ?)")
    con.executemany(insert, [
        ["2025-Q4", "quotes", "Sales", 0.10, 0.05, 0.05],
        ["2026-Q1", "quotes", "Sales", 0.30, 0.039, 0.05],     # 1 - 0.039 / 0.05 = 0.22: exactly the benchmark
        ["2026-Q1", "invoices", "Finance", 0.50, 0.02, 0.0],   # no baseline errors: no error reduction
        ["2026-Q1", "all", "all", None, None, None],            # the company row is not a process
        ["2026-Q2", "quotes", "Sales", None, None, None],       # a quarter without process data yet
    ])
    yield con
    con.close()


def test_rows_for_the_programme_and_each_process(warehouse):
    rows = benchmark_rows(warehouse, _summary(year1_roi_pct=-3.8, break_even_month=13, payback_months=12.0))
    got = {(r["benchmark"], r["process"]): r for r in rows}
    assert [r["benchmark"] for r in rows] == [
        "bcr_year1", "break_even_month", "payback_months", "time_reduction", "time_reduction",
        "error_reduction", "error_reduction"]
    assert got[("bcr_year1", "all")]["actual"] == pytest.approx(0.962)
    assert got[("bcr_year1", "all")]["status"] == "worse"
    assert (got[("break_even_month", "all")]["actual"], got[("break_even_month", "all")]["status"]) == (13.0, "worse")
    assert got[("payback_months", "all")]["status"] == "within"            # exactly 12: the range's edge
    assert got[("time_reduction", "quotes")]["quarter"] == "2026-Q1"
    assert (got[("time_reduction", "quotes")]["actual"], got[("time_reduction", "quotes")]["status"]) == (
        0.30, "within")
    assert got[("time_reduction", "invoices")]["status"] == "better"
    assert got[("error_reduction", "quotes")]["actual"] == pytest.approx(0.22)
    assert got[("error_reduction", "quotes")]["status"] == "within"
    assert (got[("error_reduction", "invoices")]["actual"], got[("error_reduction", "invoices")]["status"]) == (
        None, None)
    assert {r["source"] for r in rows} == {b.source for b in PROGRAMME_BENCHMARKS}


def test_before_month_12_and_without_break_even_nothing_is_claimed(warehouse):
    warehouse.execute("DELETE FROM marts.kpi_business")
    rows = benchmark_rows(warehouse, _summary(year1_roi_pct=None, break_even_month=None, payback_months=None))
    assert [(r["benchmark"], r["actual"], r["status"]) for r in rows] == [
        ("bcr_year1", None, None), ("break_even_month", None, None), ("payback_months", None, None)]


def test_build_replaces_the_table(warehouse):
    summary = _summary(year1_roi_pct=240.0, break_even_month=4, payback_months=3.5)
    assert build_benchmarks(warehouse, summary) == 7
    assert build_benchmarks(warehouse, summary) == 7
    assert warehouse.sql("SELECT count(*), min(sort_order), max(sort_order) FROM marts.roi_benchmarks").fetchall() == [
        (7, 1, 7)]
    query = "SELECT actual, status FROM marts.roi_benchmarks WHERE benchmark = 'bcr_year1'"
    assert warehouse.sql(query).fetchall() == [(pytest.approx(3.4), "within")]
