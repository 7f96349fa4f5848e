"""kpi.roi: every formula of docs/metrics.md §5 against figures worked out by hand, and the SQL that
assembles the monthly series (sql/intermediate/int_roi_monthly_inputs.sql) on tiny staging
tables in an in-memory DuckDB."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from kpi.config import default_config
from kpi.marts import ensure_inputs
from kpi.roi import (
    MONTHLY_COLUMNS,
    QUARTERLY_COLUMNS,
    Assumptions,
    Month,
    break_even_month,
    build_monthly_series,
    discounted_payback_months,
    headcount_at_start,
    ledger_by_category,
    monthly_rate,
    monthly_table,
    npv,
    payback_months,
    plan_vs_actual,
    quarterly_table,
    sensitivity,
    series_from_rows,
    summary,
    year1_roi_pct,
)

approx = pytest.approx


def month_date(start: dt.date, m: int) -> dt.date:
    idx = start.year * 12 + start.month - 1 + m - 1
    return dt.date(idx // 12, idx % 12 + 1, 1)


def make_series(costs, gross, start=dt.date(2025, 1, 1), participant=None, quality=None):
    """Months with ledger costs in `other`, gross benefits as time savings (unless split)."""
    participant = participant or [0.0] * len(costs)
    quality = quality or [0.0] * len(costs)
    return [
        Month(
            m=i,
            month=month_date(start, i),
            cost_other=c,
            cost_participant_time=p,
            time_savings_eur=g,
            quality_savings_eur=q,
        )
        for i, (c, g, p, q) in enumerate(zip(costs, gross, participant, quality), start=1)
    ]


ONE = Assumptions(attribution=1.0, confidence=1.0, discount_rate_annual=0.08)

# The worked example of docs/metrics.md §5: attribution 0.5 x confidence 0.8 = 0.4.
DOC = make_series([1000, 200, 200, 200], [0, 1000, 1500, 2000])
DOC_A = Assumptions(attribution=0.5, confidence=0.8, discount_rate_annual=0.08)


# --------------------------------------------------------------------------------------------
# Monthly table: cumulative ROI and BCR
# --------------------------------------------------------------------------------------------


def test_monthly_table_cumulative_roi_and_bcr():
    rows = monthly_table(DOC, DOC_A)
    assert [tuple(r) for r in rows] == [MONTHLY_COLUMNS] * 4
    assert [r["benefits"] for r in rows] == approx([0, 400, 600, 800])
    assert [r["cum_costs"] for r in rows] == approx([1000, 1200, 1400, 1600])
    assert [r["cum_benefits"] for r in rows] == approx([0, 400, 1000, 1800])
    # (CB - CC) / CC x 100: -100, (400-1200)/1200, (1000-1400)/1400, (1800-1600)/1600
    assert [r["roi_pct"] for r in rows] == approx([-100.0, -66.6667, -28.5714, 12.5], abs=1e-4)
    assert [r["bcr"] for r in rows] == approx([0.0, 1 / 3, 1000 / 1400, 1.125])
    assert rows[1]["gross_benefits"] == 1000 and rows[0]["month"] == dt.date(2025, 1, 1)


def test_roi_and_bcr_null_while_no_cost():
    rows = monthly_table(make_series([0, 0, 100], [50, 0, 0]), ONE)
    assert [r["roi_pct"] for r in rows] == [None, None, approx(-50.0)]
    assert [r["bcr"] for r in rows] == [None, None, approx(0.5)]


def test_monthly_columns_split_costs_and_benefits():
    series = [
        Month(1, dt.date(2025, 1, 1), 100, 200, 300, 400, 500, 60, time_savings_eur=1000,
              quality_savings_eur=250, estimated_benefits=70)
    ]
    a = Assumptions(attribution=0.5, confidence=0.5, hourly_cost_scale=1.5, cost_per_error_scale=2.0,
                    cost_scale=2.0, benefits_scale=1.0)
    (row,) = monthly_table(series, a)
    assert row["cost_external_training"] == 200 and row["cost_other"] == 1000
    assert row["cost_participant_time"] == approx(60 * 1.5 * 2)  # hourly AND cost scale
    assert row["costs"] == approx((1500 + 90) * 2)
    assert row["time_savings_eur"] == approx(1500)  # hourly scale
    assert row["quality_savings_eur"] == approx(500)  # cost-per-error scale
    assert row["gross_benefits"] == approx(2000)
    assert row["benefits"] == approx(500)  # x 0.5 x 0.5
    assert row["estimated_benefits"] == approx(105)  # hours x hourly cost: hourly scale only
    assert row["cum_benefits"] == approx(500)


# --------------------------------------------------------------------------------------------
# Break-even and payback
# --------------------------------------------------------------------------------------------


def test_break_even_and_payback_worked_example():
    # CB_3 = 1000 < CC_3 = 1400; CB_4 = 1800 >= 1600 -> month 4; 3 + 400 / (800 - 200)
    assert break_even_month(DOC, DOC_A) == 4
    assert payback_months(DOC, DOC_A) == approx(3 + 400 / 600)
    assert round(payback_months(DOC, DOC_A), 2) == 3.67


def test_payback_interpolation_costs_up_front():
    # 100 in month 1, benefits 30 a month: CB_3 = 90 < 100, CB_4 = 120 >= 100
    series = make_series([100, 0, 0, 0, 0], [30] * 5)
    assert break_even_month(series, ONE) == 4
    assert payback_months(series, ONE) == approx(3 + (100 - 90) / (30 - 0))
    assert payback_months(series, ONE) == approx(3.3333333)


def test_payback_equals_n_when_benefits_equal_costs_in_that_month():
    # month 1 empty, month 2: C = B = 50 -> CC_2 = CB_2 = 50 > 0, B_2 - C_2 = 0 -> payback = 2
    series = make_series([0, 50, 10], [0, 50, 0])
    assert break_even_month(series, ONE) == 2
    assert payback_months(series, ONE) == 2.0
    # and right in month 1
    assert payback_months(make_series([100], [100]), ONE) == 1.0
    # with attribution x confidence making B_1 = C_1: 0.5 x 0.8 x 250 = 100
    assert payback_months(make_series([100], [250]), DOC_A) == 1.0


def test_never_breaks_even():
    series = make_series([1000, 100, 100], [100, 100, 100])
    assert break_even_month(series, ONE) is None
    assert payback_months(series, ONE) is None
    assert discounted_payback_months(series, ONE) is None
    s = summary(series, ONE)
    assert s.break_even_month is None and s.payback_months is None


def test_benefits_before_costs_need_positive_cumulative_costs():
    # month 1: benefits but no cost (CC_1 = 0: no break-even); month 2 costs 10 -> CB 50 >= 10
    series = make_series([0, 10], [50, 0])
    assert break_even_month(series, ONE) == 2
    # the formula's fraction (0 - 50) / (0 - 10) = 5 leaves the month: kept inside month 2
    assert payback_months(series, ONE) == 2.0


def test_credit_note_reduces_costs():
    # 1000 booked, a 400 credit note in month 2, benefits 250 a month:
    # CC = 1000, 600, 600; CB = 250, 500, 750 -> break-even month 3, 2 + (600-500)/(250-0)
    series = make_series([1000, -400, 0], [250, 250, 250])
    rows = monthly_table(series, ONE)
    assert [r["cum_costs"] for r in rows] == approx([1000, 600, 600])
    assert [r["costs"] for r in rows] == approx([1000, -400, 0])
    assert break_even_month(series, ONE) == 3
    assert payback_months(series, ONE) == approx(2.4)
    assert rows[-1]["roi_pct"] == approx((750 - 600) / 600 * 100)


def test_costs_cancelled_to_zero_give_null_roi():
    rows = monthly_table(make_series([0.1 + 0.2, -0.3], [0, 0]), ONE)
    assert rows[1]["roi_pct"] is None and rows[1]["bcr"] is None


# --------------------------------------------------------------------------------------------
# NPV and discounted payback
# --------------------------------------------------------------------------------------------


def independent_npv(costs, benefits, annual):
    """(B_m - C_m) / (1 + r)^(m-1) with (1 + r)^(m-1) written as (1 + annual)^((m-1)/12)."""
    total = 0.0
    m = 1
    for c, b in zip(costs, benefits):
        total = total + (b - c) / pow(1.0 + annual, (m - 1) / 12.0)
        m = m + 1
    return total


def test_monthly_rate():
    assert monthly_rate(0.08) == approx(0.0064340301)
    assert (1 + monthly_rate(0.08)) ** 12 == approx(1.08)


def test_npv_worked_example_and_independent_loop():
    # net flows -1000, 200, 400, 600 at 8 % a year: 182.19 (docs/metrics.md)
    assert npv(DOC, DOC_A) == approx(182.19, abs=0.005)
    assert npv(DOC, DOC_A) == approx(
        independent_npv([1000, 200, 200, 200], [0, 400, 600, 800], 0.08), rel=1e-12
    )
    assert npv(DOC, DOC_A, rate=0.0) == approx(-1000 + 200 + 400 + 600)
    # month 1 is not discounted
    assert npv(make_series([500], [0]), ONE) == -500


def test_npv_longer_series_against_independent_loop():
    costs = [5000, 800, 800, 300, 300, 300, 300, 300, 300, 300, 300, 300, 200, 200, 200]
    gross = [0, 400, 900, 1200, 1500, 1700, 1800, 1900, 1900, 2000, 2000, 2100, 2100, 2200, 2200]
    a = Assumptions(attribution=0.6, confidence=0.9, discount_rate_annual=0.12)
    expected = independent_npv(costs, [g * 0.54 for g in gross], 0.12)
    assert npv(make_series(costs, gross), a) == approx(expected, rel=1e-12)


def test_discounted_payback_worked_example():
    # discounted CC_3 = 1396.17, CB_3 = 989.80; month 4 nets 784.75 - 196.19 = 588.57
    d = [1.08 ** (-(m - 1) / 12) for m in range(1, 5)]
    dc = [c * k for c, k in zip([1000, 200, 200, 200], d)]
    db = [b * k for b, k in zip([0, 400, 600, 800], d)]
    assert sum(dc[:3]) == approx(1396.17, abs=0.005) and sum(db[:3]) == approx(989.80, abs=0.005)
    expected = 3 + (sum(dc[:3]) - sum(db[:3])) / (db[3] - dc[3])
    assert discounted_payback_months(DOC, DOC_A) == approx(expected)
    assert round(discounted_payback_months(DOC, DOC_A), 2) == 3.69


def test_discounted_payback_can_come_a_month_later():
    # undiscounted: CB_2 = 100 = CC_2 -> month 2 exactly; discounted, month 2's 100 shrinks
    series = make_series([100, 0, 0], [0, 100, 100])
    assert payback_months(series, ONE) == 2.0
    k = 1.08 ** (-1 / 12)
    k2 = 1.08 ** (-2 / 12)
    # discounted: CC = 100 all along; CB_2 = 100k < 100; month 3 closes the gap 100 - 100k
    assert discounted_payback_months(series, ONE) == approx(2 + (100 - 100 * k) / (100 * k2))


# --------------------------------------------------------------------------------------------
# Year-1 ROI and the machine-builder case
# --------------------------------------------------------------------------------------------


def test_year1_roi_null_before_month_12():
    series = make_series([1000] + [0] * 10, [200] * 11)
    assert year1_roi_pct(series, ONE) is None
    assert summary(series, ONE).year1_roi_pct is None


def test_year1_roi_uses_months_1_to_12_only():
    # 15 months: costs 1200 in month 1, 200 in month 13; benefits 150 a month
    series = make_series([1200] + [0] * 11 + [200, 0, 0], [150] * 15)
    assert year1_roi_pct(series, ONE) == approx((1800 - 1200) / 1200 * 100)  # 50 %
    s = summary(series, ONE)
    assert s.year1_roi_pct == approx(50.0)
    assert s.roi_pct == approx((2250 - 1400) / 1400 * 100)
    assert summary(series, ONE, as_of_month=11).year1_roi_pct is None


def test_machine_builder_year1_roi_and_bcr():
    # Mid-sized machine builder: €87,000 invested (training, licences, participant time),
    # €312,000 measured savings in the first year, attribution = confidence = 1.
    series = [
        Month(m, month_date(dt.date(2025, 1, 1), m),
              cost_external_training=40_000 if m == 1 else 0,
              cost_internal_time=15_000 if m == 2 else 0,
              cost_licenses=1_500,
              cost_materials=5_000 if m == 1 else 0,
              cost_participant_time=9_000 if m <= 1 else 0,
              time_savings_eur=20_000, quality_savings_eur=6_000)
        for m in range(1, 13)
    ]
    s = summary(series, ONE)
    assert s.cum_costs == approx(87_000)
    assert s.cum_benefits == approx(312_000)
    assert round(s.year1_roi_pct, 1) == 258.6
    assert round(s.roi_pct, 1) == 258.6
    assert round(s.bcr, 2) == 3.59
    # CC = 55,500, 72,000, 73,500 ...; CB = 26,000 a month: CB_2 = 52,000 < 72,000,
    # CB_3 = 78,000 >= 73,500 -> month 3; payback 2 + (72,000 - 52,000) / (26,000 - 1,500)
    assert s.break_even_month == 3
    assert s.payback_months == approx(2 + 20_000 / 24_500)


# --------------------------------------------------------------------------------------------
# Assumptions and what-ifs
# --------------------------------------------------------------------------------------------


def test_hourly_cost_scales_time_savings_and_participant_time_together():
    series = make_series([1000], [2000], participant=[500], quality=[400])
    a = ONE.replace(hourly_cost_scale=1.2)
    s = summary(series, a)
    assert s.cum_costs == approx(1000 + 500 * 1.2)
    assert s.cum_gross_benefits == approx(2000 * 1.2 + 400)
    b = summary(series, ONE.replace(cost_per_error_scale=0.8))
    assert b.cum_gross_benefits == approx(2000 + 320) and b.cum_costs == approx(1500)
    c = summary(series, ONE.replace(cost_scale=0.8))
    assert c.cum_costs == approx(1200)


def test_attribution_and_confidence_capped_at_one():
    series = make_series([100], [300])
    over = Assumptions(attribution=1.5, confidence=1.3)
    assert summary(series, over).cum_benefits == approx(300)


def test_horizon_cuts_the_series():
    series = make_series([100] * 30, [50] * 30)
    a = ONE.replace(horizon_months=24)
    assert len(monthly_table(series, a)) == 24
    assert summary(series, a).m == 24 and summary(series, a).cum_costs == approx(2400)


def test_assumptions_from_config():
    cfg = default_config(dt.date(2025, 1, 1), roi={"discount_rate_annual": 0.1, "horizon_months": 12})
    a = Assumptions.from_config(cfg, hourly_cost_scale=1.1, attribution=None)
    assert (a.attribution, a.confidence, a.discount_rate_annual, a.horizon_months) == (0.5, 0.8, 0.1, 12)
    assert a.hourly_cost_scale == 1.1


def test_series_must_not_have_gaps():
    with pytest.raises(ValueError, match="month 2 is missing"):
        summary([Month(1, dt.date(2025, 1, 1)), Month(3, dt.date(2025, 3, 1))], ONE)


def test_summary_of_empty_series():
    s = summary([], ONE)
    assert (s.m, s.cum_costs, s.roi_pct, s.npv, s.break_even_month) == (0, 0, None, 0, None)


# --------------------------------------------------------------------------------------------
# Sensitivity
# --------------------------------------------------------------------------------------------

SENS = make_series(
    [6000, 1000, 500, 500, 500, 500],
    [0, 1500, 2500, 3000, 3000, 3000],
    participant=[2000, 1000, 0, 0, 0, 0],
    quality=[0, 500, 1000, 1000, 1000, 1000],
)
SENS_A = Assumptions(attribution=0.7, confidence=0.9, discount_rate_annual=0.08)


def independent_roi_npv(series, att=0.7, conf=0.9, hourly=1.0, cpe=1.0, cost=1.0, benefits=1.0,
                        annual=0.08):
    att, conf = min(att, 1.0), min(conf, 1.0)
    c = [(mo.cost_other + mo.cost_participant_time * hourly) * cost for mo in series]
    b = [(mo.time_savings_eur * hourly + mo.quality_savings_eur * cpe) * benefits * att * conf
         for mo in series]
    return (sum(b) - sum(c)) / sum(c) * 100, independent_npv(c, b, annual)


def test_tornado_rows_recomputed_and_sorted_by_swing():
    rows = sensitivity(SENS, SENS_A)
    assert len(rows) == 10 and all(tuple(r) == ("assumption", "case", "roi_pct", "npv", "swing") for r in rows)
    moves = {
        "attribution": lambda f: {"att": 0.7 * f},
        "confidence": lambda f: {"conf": 0.9 * f},
        "hourly_cost": lambda f: {"hourly": f},
        "cost_per_error": lambda f: {"cpe": f},
        "total_cost": lambda f: {"cost": f},
    }
    for row in rows:
        factor = {"low": 0.8, "high": 1.2}[row["case"]]
        roi, value = independent_roi_npv(SENS, **moves[row["assumption"]](factor))
        assert row["roi_pct"] == approx(roi, rel=1e-12)
        assert row["npv"] == approx(value, rel=1e-9)
    by = {(r["assumption"], r["case"]): r for r in rows}
    for name in moves:
        assert by[(name, "low")]["swing"] == approx(abs(by[(name, "high")]["roi_pct"] - by[(name, "low")]["roi_pct"]))
    swings = [r["swing"] for r in rows]
    assert swings == sorted(swings, reverse=True)
    assert [r["case"] for r in rows] == ["low", "high"] * 5
    # costs 12,500 vs gross 19,000: total cost moves the ROI most, then attribution = confidence
    assert rows[0]["assumption"] == "total_cost"
    assert {rows[2]["assumption"], rows[4]["assumption"]} == {"attribution", "confidence"}


def test_tornado_attribution_high_is_capped():
    a = SENS_A.replace(attribution=0.9)  # x 1.2 = 1.08 -> 1
    by = {(r["assumption"], r["case"]): r for r in sensitivity(SENS, a)}
    roi, _ = independent_roi_npv(SENS, att=1.0)
    assert by[("attribution", "high")]["roi_pct"] == approx(roi)


def test_scenarios_multiply_attribution_benefits_costs_with_cap():
    scenarios = {
        "conservative": {"attribution": 0.6, "benefits": 0.8, "costs": 1.1},
        "base": {"attribution": 1.0, "benefits": 1.0, "costs": 1.0},
        "optimistic": {"attribution": 1.5, "benefits": 1.2, "costs": 0.95},
    }
    rows = sensitivity(SENS, SENS_A, scenarios)
    scen = [r for r in rows if r["assumption"] == "scenario"]
    assert [r["case"] for r in scen] == ["conservative", "base", "optimistic"]
    assert rows[-3:] == scen and all(r["swing"] is None for r in scen)
    expected = {
        "conservative": independent_roi_npv(SENS, att=0.42, benefits=0.8, cost=1.1),
        "base": independent_roi_npv(SENS),
        "optimistic": independent_roi_npv(SENS, att=1.0, benefits=1.2, cost=0.95),  # 0.7 x 1.5 capped
    }
    for r in scen:
        assert r["roi_pct"] == approx(expected[r["case"]][0], rel=1e-12)
        assert r["npv"] == approx(expected[r["case"]][1], rel=1e-9)
    assert scen[1]["roi_pct"] == approx(summary(SENS, SENS_A).roi_pct)


# --------------------------------------------------------------------------------------------
# Quarterly rows
# --------------------------------------------------------------------------------------------


def test_quarterly_rows_are_as_of_the_quarter_end():
    # start in February: Q1 = months 1-2, Q2 = 3-5, Q3 = 6-7 (series ends in August)
    series = make_series([100, 0, 0, 0, 0, 0, 0], [30] * 7, start=dt.date(2025, 2, 1))
    rows = quarterly_table(series, ONE)
    assert [tuple(r) for r in rows] == [QUARTERLY_COLUMNS] * 3
    assert [(r["quarter"], r["m"]) for r in rows] == [("2025-Q1", 2), ("2025-Q2", 5), ("2025-Q3", 7)]
    q1, q2, q3 = rows
    assert (q1["cum_costs"], q1["cum_benefits"]) == approx((100, 60))
    assert q1["roi_pct"] == approx(-40.0) and q1["bcr"] == approx(0.6)
    assert q1["break_even_month"] is None and q1["payback_months"] is None  # not reached by m 2
    assert q1["discounted_payback_months"] is None
    assert q1["npv"] == approx(independent_npv([100, 0], [30, 30], 0.08))
    assert q2["break_even_month"] == 4 and q2["payback_months"] == approx(3 + (100 - 90) / 30)
    assert q2["npv"] == approx(independent_npv([100, 0, 0, 0, 0], [30] * 5, 0.08))
    assert q3["cum_benefits"] == approx(210) and q3["year1_roi_pct"] is None
    assert q3["cum_gross_benefits"] == approx(210)


def test_quarterly_year1_only_from_month_12():
    series = make_series([1000] + [0] * 13, [100] * 14)
    rows = quarterly_table(series, ONE)
    assert [r["m"] for r in rows] == [3, 6, 9, 12, 14]
    assert [r["year1_roi_pct"] is None for r in rows] == [True, True, True, False, False]
    assert rows[3]["year1_roi_pct"] == approx(20.0) and rows[4]["year1_roi_pct"] == approx(20.0)
    assert rows[4]["roi_pct"] == approx(40.0)


# --------------------------------------------------------------------------------------------
# Plan vs actual
# --------------------------------------------------------------------------------------------


def test_plan_vs_actual():
    split = {"external_training": 0.4, "internal_time": 0.3, "licenses": 0.2, "materials": 0.1}
    ledger = {"external_training": 41_000, "internal_time": 25_000, "licenses": 20_000, "other": 1_500}
    rows = plan_vs_actual(1000, 100, split, ledger)
    assert [r["category"] for r in rows] == ["external_training", "internal_time", "licenses", "materials", "other"]
    by = {r["category"]: r for r in rows}
    assert by["external_training"] == {"category": "external_training", "plan_eur": 40_000,
                                       "actual_eur": 41_000, "difference_eur": 1_000}
    assert by["internal_time"]["difference_eur"] == approx(-5_000)
    assert by["materials"] == {"category": "materials", "plan_eur": approx(10_000), "actual_eur": 0,
                               "difference_eur": approx(-10_000)}
    assert by["other"]["plan_eur"] == 0 and by["other"]["difference_eur"] == 1_500


def test_ledger_by_category_months_1_to_12_without_participant_time():
    series = [
        Month(m, month_date(dt.date(2025, 1, 1), m), cost_external_training=100, cost_licenses=10,
              cost_participant_time=999)
        for m in range(1, 15)
    ]
    assert ledger_by_category(series) == {"external_training": 1200, "internal_time": 0,
                                          "licenses": 120, "materials": 0, "other": 0}


def test_series_from_rows_roundtrip():
    series = make_series([100, 0], [0, 30])
    rows = monthly_table(series, ONE)
    assert series_from_rows(rows) == series


# --------------------------------------------------------------------------------------------
# The SQL assembly of the series (in-memory DuckDB)
# --------------------------------------------------------------------------------------------

@pytest.fixture
def warehouse():
    con = duckdb.connect()
    ensure_inputs(con)  # the staging tables and the matched usage, as the catalogue declares them
    con.execute("""
        INSERT INTO staging.employees VALUES
          ('e1', 'Sales', 'user',    DATE '2020-01-01', NULL,              1.0,  60, false),
          ('e2', 'Sales', 'manager', DATE '2025-02-15', NULL,              0.5, 100, false),
          ('e3', 'Ops',   'user',    DATE '2020-01-01', DATE '2025-01-31', 1.0,  50, true);
        INSERT INTO staging.trainings VALUES
          ('e1', 'c1', 'basics_workshop',  DATE '2024-12-10', DATE '2024-12-10', 'completed', 4),
          ('e3', 'c1', 'basics_workshop',  DATE '2025-01-20', NULL,              'enrolled',  3),
          ('e2', 'c2', 'usecase_workshop', DATE '2025-02-20', NULL,              'dropped',   2);
        INSERT INTO staging.costs VALUES
          (DATE '2024-11-30', 'external_training', 1000, 'before the start', NULL),
          (DATE '2025-01-10', 'licenses',           500, NULL, NULL),
          (DATE '2025-02-03', 'external_training', -200, 'credit note', NULL),
          (DATE '2025-03-31', 'materials',          300, NULL, 'Sales');
        INSERT INTO staging.process_metrics VALUES
          (DATE '2024-09-01', 'quote_preparation', 'Sales', 100, 9000, 50, NULL),   -- outside B
          (DATE '2024-10-01', 'quote_preparation', 'Sales', 100, 3000, 10, NULL),
          (DATE '2024-11-01', 'quote_preparation', 'Sales', 100, 3000, 10, NULL),
          (DATE '2024-12-01', 'quote_preparation', 'Sales', 200, 6000, NULL, NULL), -- errors unknown
          (DATE '2025-01-01', 'quote_preparation', 'Sales', 120, 3000, 6, NULL),
          (DATE '2025-02-01', 'quote_preparation', 'Sales', 100, 3500, 12, NULL),   -- slower
          (DATE '2025-03-01', 'quote_preparation', 'Sales', 50, 1000, 2, NULL),
          (DATE '2025-03-01', 'quote_preparation', 'Sales', 50, 1000, NULL, NULL),
          (DATE '2024-12-01', 'maintenance_docs',  'Ops',   10, 600, 2, NULL),
          (DATE '2025-01-01', 'maintenance_docs',  'Ops',   10, 500, 1, NULL),
          (DATE '2025-02-01', 'maintenance_docs',  'Ops',   10, 400, 0, NULL),      -- nobody in Ops
          (DATE '2025-04-01', 'tender_documents',  'Sales', 10, 100, 0, NULL);      -- no baseline
        INSERT INTO intermediate.usage_activity VALUES
          ('e1', DATE '2024-12-20', 'chatgpt-enterprise', NULL, 10, 0, 0),         -- before month 1
          ('e1', DATE '2025-01-05', 'chatgpt-enterprise', NULL, 10, 0, 0),
          ('e1', DATE '2025-01-06', 'github-copilot',     NULL, 100, 0, 0),        -- no minutes
          ('e2', DATE '2025-03-02', 'chatgpt-enterprise', NULL, 5, 0, 0);
    """)
    yield con
    con.close()


def sql_config(k: int = 1, **benefits):
    """k = 1: the hand-worked figures use each department's own hourly cost (with the default
    k = 5 these one- and two-person departments get the company's, see the pooling test)."""
    return default_config(
        dt.date(2025, 1, 15),
        benefits={
            "cost_per_error_eur": {"quote_preparation": 80},
            "time_saved_minutes_per_interaction": {"chatgpt-enterprise": 6},
            **benefits,
        },
        privacy={"min_group_size": k},
    )


def test_build_monthly_series_hand_computed(warehouse):
    series = build_monthly_series(warehouse, sql_config())
    # last month with cost or process data: April 2025 (tender_documents) -> 4 months
    assert [(mo.m, mo.month) for mo in series] == [
        (1, dt.date(2025, 1, 1)), (2, dt.date(2025, 2, 1)), (3, dt.date(2025, 3, 1)), (4, dt.date(2025, 4, 1))
    ]
    m1, m2, m3, m4 = series
    # ledger: November's 1000 counts in month 1; the credit note stays negative in month 2
    assert (m1.cost_external_training, m1.cost_licenses) == (1000, 500)
    assert m2.cost_external_training == -200 and m3.cost_materials == 300
    # participant time: e1 4 h x 60 (December -> month 1) + e3 3 h x 50; e2 dropped 2 h x 100
    assert m1.cost_participant_time == approx(390) and m2.cost_participant_time == approx(200)
    assert m3.cost_participant_time == 0
    # Baseline B = Oct-Dec 2024: quote_preparation 12000 min / 400 cases = 30 min per case;
    # error rate over rows that report errors: 20 / 200 = 0.10. maintenance_docs: 60, 0.20.
    # Jan: quote (30 - 25) x 120 / 60 = 10 h x 60 (Sales: e1 only) = 600; maintenance
    # (60 - 50) x 10 / 60 = 1.667 h x 50 = 83.33
    assert m1.time_savings_eur == approx(600 + 500 / 6)
    # errors avoided: (0.10 - 0.05) x 120 = 6 x 80 = 480; (0.2 - 0.1) x 10 = 1 x 50 (default)
    assert m1.quality_savings_eur == approx(480 + 50)
    # Feb, slower: (30 - 35) x 100 / 60 = -8.333 h; Sales hourly cost = (60 x 1 x 28 + 100 x 0.5
    # x 14) / (28 + 7) = 68 -> -566.67. Ops has nobody employed in February -> no time savings.
    assert m2.time_savings_eur == approx(-500 / 60 * 68)
    # errors (0.10 - 0.12) x 100 = -2 x 80 = -160; Ops (0.2 - 0) x 10 = 2 x 50 = 100
    assert m2.quality_savings_eur == approx(-160 + 100)
    # Mar: two rows, 100 cases, 2000 min -> 20 min per case: 16.667 h; Sales hourly cost
    # (60 x 31 + 100 x 0.5 x 31) / 46.5 = 73.33; error rate 2 / 50 -> (0.10 - 0.04) x 100 = 6
    assert m3.time_savings_eur == approx(1000 / 60 * 3410 / 46.5)
    assert m3.quality_savings_eur == approx(480)
    assert (m4.time_savings_eur, m4.quality_savings_eur) == (0, 0)
    # estimated: 10 interactions x 6 min / 60 x 60 €; March 5 x 6 / 60 x 100 €
    assert [mo.estimated_benefits for mo in series] == approx([60, 0, 50, 0])


def test_build_monthly_series_options(warehouse):
    cfg = sql_config(include_training_time=False, time_saved_minutes_per_interaction={})
    series = build_monthly_series(warehouse, cfg)
    assert all(mo.cost_participant_time == 0 for mo in series)
    assert all(mo.estimated_benefits is None for mo in series)  # no per-tool minutes: NULL
    short = build_monthly_series(warehouse, sql_config().model_copy(
        update={"roi": sql_config().roi.model_copy(update={"horizon_months": 2})}))
    assert [mo.m for mo in short] == [1, 2]
    assert short[0].cost_external_training == 1000


def test_series_runs_to_last_cost_month_and_empty_warehouse():
    con = duckdb.connect()
    ensure_inputs(con)  # the staging tables and the matched usage, as the catalogue declares them
    cfg = sql_config()
    assert build_monthly_series(con, cfg) == []
    con.execute("INSERT INTO staging.costs VALUES (DATE '2025-06-30', 'other', 42, NULL, NULL)")
    series = build_monthly_series(con, cfg)
    assert [mo.m for mo in series] == [1, 2, 3, 4, 5, 6] and series[-1].cost_other == 42
    assert sum(mo.ledger_costs for mo in series) == 42


def test_headcount_at_start(warehouse):
    # on 2025-01-15: e1 and e3 (exits at the end of January); e2 is hired in February
    assert headcount_at_start(warehouse, dt.date(2025, 1, 15)) == 2
    assert headcount_at_start(warehouse, dt.date(2025, 2, 15)) == 2  # e1 and e2


def test_sensitivity_worked_example_of_docs_roi_md():
    # docs/roi.md: ledger 8,000 + participant time 2,000; time savings 15,000 + quality 5,000;
    # attribution 0.5 x confidence 0.8 -> B = 8,000, C = 10,000, ROI -20 %
    series = [Month(1, dt.date(2025, 1, 1), cost_other=8000, cost_participant_time=2000,
                    time_savings_eur=15000, quality_savings_eur=5000)]
    a = Assumptions(attribution=0.5, confidence=0.8)
    assert summary(series, a).roi_pct == approx(-20.0)
    rows = sensitivity(series, a, {"conservative": {"attribution": 0.6, "benefits": 0.8, "costs": 1.1}})
    got = [(r["assumption"], r["case"], round(r["roi_pct"], 2)) for r in rows]
    assert got == [
        ("total_cost", "low", 0.0), ("total_cost", "high", -33.33),
        ("attribution", "low", -36.0), ("attribution", "high", -4.0),    # equal swing of 32:
        ("confidence", "low", -36.0), ("confidence", "high", -4.0),      # fixed order
        ("hourly_cost", "low", -29.17), ("hourly_cost", "high", -11.54),  # 6,800/9,600; 9,200/10,400
        ("cost_per_error", "low", -24.0), ("cost_per_error", "high", -16.0),
        ("scenario", "conservative", -65.09),                             # 3,840 / 11,000
    ]


def test_a_department_of_fewer_than_k_people_is_valued_at_the_company_rate(warehouse):
    """k = 2: in January Sales is e1 alone (e2 joins on Feb 15) and Ops is e3 alone, so their
    hours are valued at the company's January rate, (60 x 31 + 50 x 31) / 62 = 55 EUR, not at
    e1's 60 or e3's 50 (their own pay). In February Sales has two people: its own 68 applies."""
    m1, m2, *_ = build_monthly_series(warehouse, sql_config(k=2))
    assert m1.time_savings_eur == approx(10 * 55 + 10 / 6 * 55)
    assert m2.time_savings_eur == approx(-100 / 12 * 68)
    own = build_monthly_series(warehouse, sql_config(k=1))[0]
    assert own.time_savings_eur == approx(10 * 60 + 10 / 6 * 50)
