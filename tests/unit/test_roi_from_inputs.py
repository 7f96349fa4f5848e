"""The machine-builder case of docs/roi.md built FROM INPUTS: a tiny inputs folder goes through
ingest (kpi.ingest.ingest_inputs) into an in-memory DuckDB, then through the function the `roi`
asset calls (kpi.roi_marts.build_roi_tables); the figures are read back from the marts.

The case: a mid-sized machine builder invests €87,000 in the first year, training included
(€82,000 ledger + €5,000 participants' time), and saves €312,000 in that year; attribution =
confidence = 1.0. Year-1 ROI = (312,000 − 87,000) / 87,000 = 258.6 %, BCR = 3.59.

Worked by hand (start 2025-01-01, baseline Oct–Dec 2024):

Ledger €82,000 = external training 10,000 (Dec 2024 deposit, counts in month 1) + 30,000 (Feb)
+ internal time 19,500 (Jan) + licences 12 × 1,500 (Jan–Dec) + materials 5,000 (Jan) − 500
(credit note, Mar).
Participant time €5,000 = Sales S1, S2 20 h × €60 (Jan) + Engineering E1 20 h × €80 (Feb)
+ E2 10 h × €80 (Feb, dropped: the hours count all the same) + executive M1 2 h × €100 (Jan).

Savings, every month of 2025:
- quote_preparation / Sales: baseline 300 cases, 60 min per case, 10 % errors; now 300 cases,
  40 min, 5 %: (60 − 40) × 300 / 60 = 100 h × €60 = 6,000; 0.05 × 300 = 15 errors × €100 = 1,500.
- design_review / Engineering: baseline 100 cases, 240 min, 20 % errors; now 100 cases, 150 min,
  10 %: (240 − 150) × 100 / 60 = 150 h × €80 = 12,000; 0.10 × 100 = 10 errors × €650 = 6,500.
G_m = 26,000 a month, 312,000 a year.

Months: C_1 = 10,000 + 19,500 + 1,500 + 5,000 + 1,200 + 1,200 + 200 = 38,600;
C_2 = 30,000 + 1,500 + 1,600 + 800 = 33,900; C_3 = 1,500 − 500 = 1,000; C_4..C_12 = 1,500.
CC_2 = 72,500 > CB_2 = 52,000; CC_3 = 73,500 ≤ CB_3 = 78,000: break-even month 3,
payback = 2 + (72,500 − 52,000) / (26,000 − 1,000) = 2.82 months.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from kpi.config import load_config
from kpi.ingest import ingest_inputs
from kpi.roi_marts import build_roi_tables

KEY = b"k" * 32

CONFIG = """\
company:
  name: Muster Maschinenbau GmbH
  timezone: Europe/Berlin
program:
  start: 2025-01-01
  baseline_months: 3
  budget_per_employee_eur: 1000
benefits:
  attribution: 1.0
  confidence: 1.0
  include_training_time: true
  cost_per_error_eur: {quote_preparation: 100, design_review: 650}
privacy:
  min_group_size: 1   # the arithmetic on two-person departments (k = 5 pools their hourly costs)
"""

EMPLOYEES = """\
employee_id,email,department,target_group,hire_date,exit_date,fte,hourly_cost_eur
S1,s1@muster.example,Sales,user,2020-01-01,,1,60
S2,s2@muster.example,Sales,user,2020-01-01,,1,60
E1,e1@muster.example,Engineering,user,2020-01-01,,1,80
E2,e2@muster.example,Engineering,champion,2020-01-01,,1,80
M1,m1@muster.example,Management,executive,2020-01-01,,1,100
"""

TRAININGS = """\
employee_id,course_id,format,started_on,completed_on,status,hours
S1,UC-SALES,usecase_workshop,2025-01-13,2025-01-14,completed,20
S2,UC-SALES,usecase_workshop,2025-01-13,2025-01-14,completed,20
E1,UC-ENG,usecase_workshop,2025-02-03,2025-02-04,completed,20
E2,UC-ENG,usecase_workshop,2025-02-03,,dropped,10
M1,EXEC-1,executive_briefing,2025-01-08,2025-01-08,completed,2
"""

COSTS = ["booked_on,category,amount_eur,description",
         "2024-12-15,external_training,10000,trainer deposit",
         "2025-01-31,internal_time,19500,champions' preparation time",
         "2025-01-20,materials,5000,handouts and workbooks",
         "2025-02-28,external_training,30000,workshops",
         "2025-03-10,materials,-500,credit note"]
COSTS += [f"2025-{month:02d}-01,licenses,1500,AI assistant licences" for month in range(1, 13)]

PROCESS = ["month,process,department,cases,handling_minutes,errors"]
for month in ("2024-10", "2024-11", "2024-12"):
    PROCESS += [f"{month},quote_preparation,Sales,300,18000,30", f"{month},design_review,Engineering,100,24000,20"]
for n in range(1, 13):
    PROCESS += [f"2025-{n:02d},quote_preparation,Sales,300,12000,15",
                f"2025-{n:02d},design_review,Engineering,100,15000,10"]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("machine_builder") / "inputs"
    files = {
        "config.yaml": CONFIG,
        "hr/employees.csv": EMPLOYEES,
        "hr/trainings.csv": TRAININGS,
        "finance/costs.csv": "\n".join(COSTS) + "\n",
        "business/process_metrics.csv": "\n".join(PROCESS) + "\n",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "usage").mkdir()  # no usage needed for the ROI
    cfg = load_config(root / "config.yaml")
    con = duckdb.connect(":memory:")
    result = ingest_inputs(con, root, cfg, KEY)
    assert result.quarantined_by_reason == {}, result.quarantined_by_reason
    built = build_roi_tables(con, cfg)
    yield con, built
    con.close()


def test_year1_roi_and_bcr_of_the_machine_builder(warehouse):
    con, built = warehouse
    rows = con.sql("SELECT quarter, m, cum_costs, cum_benefits, cum_gross_benefits, roi_pct, bcr, year1_roi_pct "
                   "FROM marts.roi_quarterly ORDER BY m").fetchall()
    assert [(q, m) for q, m, *_ in rows] == [("2025-Q1", 3), ("2025-Q2", 6), ("2025-Q3", 9), ("2025-Q4", 12)]
    quarter, m, costs, benefits, gross, roi_pct, bcr, year1 = rows[-1]
    assert costs == pytest.approx(87_000)
    assert benefits == pytest.approx(312_000) and gross == pytest.approx(312_000)  # attribution = confidence = 1
    assert round(year1, 1) == 258.6 and round(roi_pct, 1) == 258.6
    assert round(bcr, 2) == 3.59
    assert [r[-1] for r in rows[:-1]] == [None, None, None]  # year-1 ROI only once month 12 is in
    assert built.summary.year1_roi_pct == pytest.approx(225_000 / 87_000 * 100)


def test_monthly_costs_include_training_time_and_credit_notes(warehouse):
    con, _ = warehouse
    rows = con.sql("SELECT m, month, cost_external_training, cost_internal_time, cost_licenses, cost_materials, "
                   "cost_participant_time, costs, time_savings_eur, quality_savings_eur, benefits "
                   "FROM marts.roi_monthly ORDER BY m").fetchall()
    assert len(rows) == 12
    assert rows[0][:8] == (1, dt.date(2025, 1, 1), 10_000, 19_500, 1_500, 5_000, 2_600, 38_600)
    assert rows[1][:8] == (2, dt.date(2025, 2, 1), 30_000, 0, 1_500, 0, 2_400, 33_900)
    assert rows[2][5:8] == (-500, 0, 1_000)
    assert all(r[7] == 1_500 for r in rows[3:])
    assert sum(r[6] for r in rows) == pytest.approx(5_000)  # participant time, the dropped E2 included
    for r in rows:
        assert r[8] == pytest.approx(6_000 + 12_000) and r[9] == pytest.approx(1_500 + 6_500)
        assert r[10] == pytest.approx(26_000)


def test_break_even_and_payback(warehouse):
    con, _ = warehouse
    be, payback = con.sql("SELECT break_even_month, payback_months FROM marts.roi_quarterly "
                          "WHERE quarter = '2025-Q4'").fetchall()[0]
    assert be == 3
    assert payback == pytest.approx(2 + 20_500 / 25_000)
    # Q1's row is as of month 3: break-even is already reached there.
    assert con.sql("SELECT break_even_month FROM marts.roi_quarterly WHERE quarter = '2025-Q1'").fetchall() == [(3,)]


def test_plan_vs_actual_and_assumptions(warehouse):
    con, _ = warehouse
    plan = dict((c, (p, a, d)) for c, p, a, d in con.sql(
        "SELECT category, plan_eur, actual_eur, difference_eur FROM marts.budget_plan_vs_actual").fetchall())
    # plan = €1,000 x 5 employees, default split 40/30/20/10
    assert plan["external_training"] == (2_000, 40_000, 38_000)
    assert plan["materials"] == (500, 4_500, 4_000)
    assert plan["other"] == (0, 0, 0)
    values = dict(con.sql("SELECT name, value FROM marts.roi_assumptions").fetchall())
    assert values["benefits.attribution"] == 1.0 and values["benefits.confidence"] == 1.0
    assert values["benefits.cost_per_error_eur.design_review"] == 650
    assert values["headcount_at_start"] == 5


def test_no_cost_or_process_data_gives_empty_tables_not_an_error():
    from kpi.config import default_config

    con = duckdb.connect(":memory:")
    built = build_roi_tables(con, default_config(dt.date(2025, 1, 1)))  # staging created empty
    assert built.counts["marts.roi_monthly"] == 0 and built.counts["marts.roi_quarterly"] == 0
    assert built.summary.roi_pct is None and built.summary.break_even_month is None
    # plan vs actual still shows the plan (0 employees -> 0) and the assumptions are all there
    assert con.sql("SELECT count(*) FROM marts.budget_plan_vs_actual").fetchall() == [(5,)]
    assert con.sql("SELECT value FROM marts.roi_assumptions WHERE name = 'benefits.attribution'").fetchall() == [(0.5,)]
    # a second build replaces, never appends
    build_roi_tables(con, default_config(dt.date(2025, 1, 1)))
    assert con.sql("SELECT count(*) FROM marts.roi_sensitivity").fetchall() == [(13,)]
    con.close()
