"""The `roi` asset on the demo company (the session's `demo_warehouse`, opened read-only): every
ROI table exists with the docs/metrics.md §5 columns, and its figures agree with the staging tables."""

from __future__ import annotations

import duckdb
import pytest

from kpi.roi import MONTHLY_COLUMNS, QUARTERLY_COLUMNS, TORNADO, Assumptions, series_from_rows, summary
from kpi.roi_marts import headline

OUTPUT_COLUMNS = {
    "roi_monthly": list(MONTHLY_COLUMNS),
    "roi_quarterly": list(QUARTERLY_COLUMNS),
    "roi_sensitivity": ["assumption", "case", "roi_pct", "npv"],
    "budget_plan_vs_actual": ["category", "plan_eur", "actual_eur", "difference_eur"],
    "roi_assumptions": ["name", "value", "value_text", "unit", "source", "explanation"],
}


@pytest.fixture(scope="module")
def con(demo_warehouse):
    connection = duckdb.connect(str(demo_warehouse), read_only=True)
    yield connection
    connection.close()


def columns(con, table):
    return [r[0] for r in con.sql(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts' AND table_name = ? "
        "ORDER BY ordinal_position", params=[table]).fetchall()]


def test_roi_tables_have_the_output_columns(con):
    for table, expected in OUTPUT_COLUMNS.items():
        found = columns(con, table)
        assert set(expected) <= set(found), (table, found)
        assert con.sql(f"SELECT count(*) FROM marts.{table}").fetchall()[0][0] > 0, table
    # roi_monthly: docs/metrics.md's columns in that order, then the cumulative gross and estimated benefits
    assert columns(con, "roi_monthly") == [*MONTHLY_COLUMNS, "cum_gross_benefits", "cum_estimated_benefits"]
    assert "swing" in columns(con, "roi_sensitivity")


def test_cum_costs_are_the_ledger_plus_participant_time(con):
    (horizon,) = con.sql("SELECT value FROM marts.roi_assumptions WHERE name = 'roi.horizon_months'").fetchall()[0]
    n, last_month, cum_costs, participant, ledger_columns = con.sql(
        "SELECT max(m), max(month), arg_max(cum_costs, m), sum(cost_participant_time), "
        "sum(cost_external_training + cost_internal_time + cost_licenses + cost_materials + cost_other) "
        "FROM marts.roi_monthly").fetchall()[0]
    assert n <= horizon
    # Every ledger line booked up to the last month of the series (earlier ones count in month 1)
    (ledger,) = con.sql("SELECT sum(amount_eur) FROM staging.costs WHERE date_trunc('month', booked_on) <= ?",
                        params=[last_month]).fetchall()[0]
    # Participant time: every training row (any status) started up to the last month x hourly cost
    (training,) = con.sql(
        "SELECT sum(t.hours * e.hourly_cost_eur) FROM staging.trainings t "
        "JOIN staging.employees e USING (employee_key) WHERE date_trunc('month', t.started_on) <= ?",
        params=[last_month]).fetchall()[0]
    assert ledger_columns == pytest.approx(ledger)
    assert participant == pytest.approx(training) and training > 0
    assert cum_costs == pytest.approx(ledger + training)
    statuses = {s for (s,) in con.sql("SELECT DISTINCT status FROM staging.trainings").fetchall()}
    assert len(statuses) > 1  # enrolled/dropped rows are part of the participant time above


def test_quarterly_headline_is_the_summary_of_the_stored_series(con):
    relation = con.sql("SELECT * FROM marts.roi_monthly ORDER BY m")
    rows = [dict(zip(relation.columns, r)) for r in relation.fetchall()]
    values = dict(con.sql("SELECT name, value FROM marts.roi_assumptions").fetchall())
    a = Assumptions(attribution=values["benefits.attribution"], confidence=values["benefits.confidence"],
                    discount_rate_annual=values["roi.discount_rate_annual"],
                    horizon_months=int(values["roi.horizon_months"]))
    s = summary(series_from_rows(rows), a)
    last = dict(zip(QUARTERLY_COLUMNS, con.sql(
        f"SELECT {', '.join(QUARTERLY_COLUMNS)} FROM marts.roi_quarterly ORDER BY m DESC LIMIT 1").fetchall()[0]))
    assert last["m"] == s.m == len(rows)
    assert last["cum_costs"] == pytest.approx(s.cum_costs) == rows[-1]["cum_costs"]
    assert last["roi_pct"] == pytest.approx(s.roi_pct)
    assert last["npv"] == pytest.approx(s.npv)
    assert last["break_even_month"] == s.break_even_month
    assert last["year1_roi_pct"] == pytest.approx(s.year1_roi_pct)
    # what run_pipeline puts in RunSummary
    assert headline(con) == {k: last[k] for k in ("roi_pct", "break_even_month", "payback_months", "year1_roi_pct",
                                                  "npv")}
    # benefits = gross x attribution x confidence, month by month
    for r in rows:
        assert r["benefits"] == pytest.approx(r["gross_benefits"] * min(1, a.attribution) * min(1, a.confidence))


def test_sensitivity_has_five_pairs_sorted_by_swing_then_three_scenarios(con):
    rows = con.sql('SELECT assumption, "case", roi_pct, npv, swing FROM marts.roi_sensitivity '
                   "ORDER BY sort_order").fetchall()
    assert len(rows) == 5 * 2 + 3
    tornado, scenarios = rows[:10], rows[10:]
    assert {r[0] for r in tornado} == {name for name, _ in TORNADO}
    assert [r[1] for r in tornado] == ["low", "high"] * 5
    swings = [tornado[i][4] for i in range(0, 10, 2)]
    assert swings == sorted(swings, reverse=True)
    for low, high in zip(tornado[::2], tornado[1::2]):
        assert low[0] == high[0] and low[4] == pytest.approx(abs(high[2] - low[2]))
    assert [(r[0], r[1]) for r in scenarios] == [("scenario", "conservative"), ("scenario", "base"),
                                                 ("scenario", "optimistic")]
    base_roi = con.sql("SELECT roi_pct FROM marts.roi_quarterly ORDER BY m DESC LIMIT 1").fetchall()[0][0]
    assert scenarios[1][2] == pytest.approx(base_roi)
    assert scenarios[0][2] < scenarios[1][2] < scenarios[2][2]


def test_budget_plan_vs_actual(con):
    rows = con.sql("SELECT category, plan_eur, actual_eur, difference_eur FROM marts.budget_plan_vs_actual "
                   "ORDER BY sort_order").fetchall()
    assert [r[0] for r in rows] == ["external_training", "internal_time", "licenses", "materials", "other"]
    for _, plan, actual, difference in rows:
        assert difference == pytest.approx(actual - plan)
    values = dict(con.sql("SELECT name, value FROM marts.roi_assumptions").fetchall())
    total = values["program.budget_per_employee_eur"] * values["headcount_at_start"]
    assert sum(r[1] for r in rows) == pytest.approx(total)
    assert rows[0][1] == pytest.approx(total * values["program.budget_split.external_training"])
    # actual = the ledger of months 1-12 (costs booked before the start count in month 1)
    start = con.sql("SELECT value_text::DATE FROM marts.roi_assumptions WHERE name = 'program.start'").fetchall()[0][0]
    ledger = dict(con.sql(
        "SELECT category, sum(amount_eur) FROM staging.costs "
        "WHERE date_trunc('month', booked_on) < date_trunc('month', ?::DATE) + INTERVAL 12 MONTH GROUP BY category",
        params=[start]).fetchall())
    for category, _, actual, _ in rows:
        assert actual == pytest.approx(ledger.get(category, 0.0))


def test_assumptions_hold_every_input_of_the_figures(con):
    names = {n for (n,) in con.sql("SELECT name FROM marts.roi_assumptions").fetchall()}
    for required in ("benefits.attribution", "benefits.confidence", "benefits.include_training_time",
                     "roi.discount_rate_annual", "roi.horizon_months", "program.start",
                     "program.budget_per_employee_eur", "rates.hourly_cost_eur.user",
                     "benefits.cost_per_error_eur.default", "roi.scenarios.conservative.attribution"):
        assert required in names
    assert any(n.startswith("program.budget_split.") for n in names)
    assert any(n.startswith("benefits.time_saved_minutes_per_interaction.") for n in names)


def test_roi_assets_form_the_roi_group_downstream_of_staging():
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    roi_keys = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).group_name == "roi"}
    assert roi_keys == {"marts/roi_monthly", "marts/roi_quarterly", "marts/roi_sensitivity",
                        "marts/budget_plan_vs_actual", "marts/roi_assumptions", "marts/rollout_milestones",
                        "marts/roi_benchmarks", "marts/roi_by_segment", "marts/roi_use_cases",
                        "marts/roi_attribution_estimate", "marts/roi_attribution_event_study"}
    parents = {p.to_user_string() for p in graph.get(next(k for k in graph.get_all_asset_keys()
                                                          if k.to_user_string() == "marts/roi_monthly")).parent_keys}
    assert parents == {"staging/costs", "staging/trainings", "staging/process_metrics", "staging/employees",
                       "intermediate/usage_activity"}
    assert all(graph.get(dg_key).partitions_def is None for dg_key in graph.get_all_asset_keys()
               if graph.get(dg_key).group_name == "roi")
