"""The four KPI marts on a tiny hand-made company (docs/metrics.md §1-4).

Every expected figure is worked out by hand in the comments next to it.

The company (k = privacy.min_group_size = 3, usage.regular_min_active_weeks = 3), program.start
2025-01-01, baseline B = Oct-Dec 2024. Q1 2025 = Jan 1 .. Mar 31 = 90 days, weeks = 90/7;
Q2 2025 = Apr 1 .. Jun 30 = 91 days.

    key  department  target_group  hire        exit        fte  hourly cost
    e1   Sales       user          2020-01-01              1.0   50
    e2   Sales       user          2020-01-01              0.5   60
    e3   Sales       manager       2020-01-01              1.0   80
    e4   Sales       user          2025-02-15              1.0   50   mid-quarter hire: 45 of 90 days
    e5   Service     user          2020-01-01              1.0   40
    e6   Service     champion      2020-01-01              1.0   60
    e7   Service     user          2020-01-01  2025-01-31  1.0   40   leaves: 31 of 90 days in Q1
    e8   Quality     user          2020-01-01              1.0   50
    e9   Quality     champion      2020-01-01              1.0   65
    e10  Quality     user          2020-01-01              1.0   55
    e11  Legal       executive     2020-01-01              1.0  120

Departments in Q1: Sales 4, Service 3, Quality 3, Legal 1. Target groups: user 7 (e1 e2 e4 e5
e7 e8 e10), manager 1, champion 2, executive 1.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from kpi.config import default_config
from kpi.errors import UserError
from kpi.marts import MART_KEYS, MART_TABLES, build_quarter, data_quarters, ensure_inputs, ensure_mart_tables
from kpi.quarters import (
    days_in_quarter,
    label_to_partition_key,
    partition_key_to_label,
    quarter_bounds,
    quarter_label,
    quarters_between,
    weeks_in_quarter,
)

D = dt.date
START = D(2025, 1, 1)
W1 = 90 / 7  # weeks(2025-Q1)

EMPLOYEES = [
    # key, department, target_group, hire, exit, fte, hourly cost
    ("e1", "Sales", "user", D(2020, 1, 1), None, 1.0, 50.0),
    ("e2", "Sales", "user", D(2020, 1, 1), None, 0.5, 60.0),
    ("e3", "Sales", "manager", D(2020, 1, 1), None, 1.0, 80.0),
    ("e4", "Sales", "user", D(2025, 2, 15), None, 1.0, 50.0),
    ("e5", "Service", "user", D(2020, 1, 1), None, 1.0, 40.0),
    ("e6", "Service", "champion", D(2020, 1, 1), None, 1.0, 60.0),
    ("e7", "Service", "user", D(2020, 1, 1), D(2025, 1, 31), 1.0, 40.0),
    ("e8", "Quality", "user", D(2020, 1, 1), None, 1.0, 50.0),
    ("e9", "Quality", "champion", D(2020, 1, 1), None, 1.0, 65.0),
    ("e10", "Quality", "user", D(2020, 1, 1), None, 1.0, 55.0),
    ("e11", "Legal", "executive", D(2020, 1, 1), None, 1.0, 120.0),
]

USAGE = [
    # employee, day, tool, interactions, successes, failures
    ("e1", D(2025, 1, 6), "chatgpt", 10, 4, 1),   # week of Mon Jan 6
    ("e1", D(2025, 1, 8), "copilot", 5, 0, 0),    # same week
    ("e1", D(2025, 2, 3), "chatgpt", 3, 0, 0),    # week of Feb 3
    ("e1", D(2025, 3, 31), "chatgpt", 2, 0, 0),   # Mon Mar 31: week Mar 31 - Apr 6 straddles Q1/Q2
    ("e1", D(2025, 4, 1), "chatgpt", 1, 0, 0),    # Q2, still the week of Mar 31
    ("e1", D(2025, 4, 8), "chatgpt", 1, 0, 0),    # Q2, week of Apr 7
    ("e1", D(2025, 4, 15), "chatgpt", 1, 0, 0),   # Q2, week of Apr 14
    ("e2", D(2025, 1, 7), "chatgpt", 0, 0, 0),    # a pre-aggregated 0 makes nobody active
    ("e3", D(2025, 1, 13), "copilot", 8, 2, 2),   # week of Jan 13
    ("e3", D(2025, 1, 14), "copilot", 4, 0, 0),   # same week
    ("e3", D(2025, 2, 10), "copilot", 3, 0, 0),   # week of Feb 10 -> 2 weeks: not regular
    ("e4", D(2025, 2, 17), "chatgpt", 6, 3, 0),
    ("e4", D(2025, 2, 24), "chatgpt", 6, 0, 0),
    ("e4", D(2025, 3, 3), "chatgpt", 6, 0, 0),    # 3 weeks: regular
    ("e5", D(2025, 1, 20), "chatgpt", 7, 1, 1),
    ("e7", D(2025, 1, 21), "copilot", 5, 0, 1),
    ("e8", D(2025, 3, 10), "chatgpt", 4, 0, 0),
    ("e11", D(2025, 3, 12), "chatgpt", 1, 0, 0),
]

ASSESSMENTS = [
    # employee, day, instrument, score, max_score
    ("e1", D(2025, 1, 10), "ai_literacy", 40, 100),   # superseded by the later one
    ("e1", D(2025, 3, 20), "ai_literacy", 80, 100),   # latest in Q1: 80
    ("e2", D(2025, 2, 1), "ai_literacy", 7, 10),      # 70: exactly the proficient threshold
    ("e3", D(2025, 2, 1), "ai_literacy", 30, 50),     # 60
    ("e5", D(2025, 2, 5), "ai_literacy", 90, 100),    # 90
    ("e6", D(2024, 12, 15), "ai_literacy", 50, 100),  # Q4 2024: not in Q1
    ("e1", D(2025, 1, 15), "prompt_quality", 8, 10),  # 80
    ("e1", D(2025, 2, 15), "prompt_quality", 6, 10),  # 60 (all rows count, not only the latest)
    ("e3", D(2025, 1, 20), "prompt_quality", 15, 20), # 75
    ("e5", D(2025, 3, 1), "prompt_quality", 9, 10),   # 90
]

TRAININGS = [
    # employee, course, started, completed, status
    ("e1", "c1", D(2025, 1, 10), D(2025, 1, 20), "completed"),
    ("e2", "c1", D(2025, 3, 20), D(2025, 4, 10), "completed"),  # completed after Q1
    ("e3", "c1", D(2025, 1, 10), None, "enrolled"),
    ("e5", "c0", D(2024, 10, 1), D(2024, 11, 1), "completed"),  # before Q1 counts
    ("e6", "c1", D(2025, 1, 10), None, "dropped"),
]

USE_CASES = [
    # id, department, submitted, status, self_developed
    ("uc1", "Sales", D(2025, 1, 15), "idea", True),
    ("uc2", "Sales", D(2025, 2, 1), "retired", True),     # any status counts
    ("uc3", "Service", D(2025, 3, 1), "production", False),  # not self-developed
    ("uc4", "Marketing", D(2025, 2, 1), "pilot", True),   # no HR department: company row only
    ("uc5", "Sales", D(2024, 12, 20), "idea", True),      # Q4 2024
]

PROCESS = [
    # month, process, department, cases, handling_minutes, errors
    (D(2024, 9, 1), "claims", "Service", 1000, 1000.0, 0),     # before B: ignored
    (D(2024, 10, 1), "quote_prep", "Sales", 100, 3000.0, 10),
    (D(2024, 11, 1), "quote_prep", "Sales", 100, 3000.0, 8),
    (D(2024, 12, 1), "quote_prep", "Sales", 200, 6000.0, 12),
    (D(2024, 12, 1), "claims", "Service", 60, 1200.0, 6),
    (D(2025, 1, 1), "quote_prep", "Sales", 150, 3600.0, 6),
    (D(2025, 2, 1), "quote_prep", "Sales", 150, 3600.0, 3),
    (D(2025, 3, 1), "quote_prep", "Sales", 100, 2800.0, 1),
    (D(2025, 2, 1), "claims", "Service", 50, 1100.0, 5),
]

SATISFIED = "I am satisfied with how AI tools are introduced here"
HARDER = "AI tools make my work harder"  # reverse-scored satisfaction item
SUPPORT = "I get the support I need to use AI tools"

RESPONSES = [
    # file, response_id, submitted_at, self-reported department, target_group, respondent identity
    ("pulse-q1.csv", "r1", dt.datetime(2025, 3, 15, 10), "Service", "user", "id_e1"),  # HR says Sales
    ("pulse-q1.csv", "r2", dt.datetime(2025, 3, 15, 11), None, None, "id_e3"),
    ("pulse-q1.csv", "r3", dt.datetime(2025, 3, 16, 9), None, None, "id_e4"),
    ("pulse-q1.csv", "r4", dt.datetime(2025, 3, 16, 9), "Service", "user", None),
    ("pulse-q1.csv", "r5", dt.datetime(2025, 3, 17, 9), "Service", "champion", None),
    ("pulse-q1.csv", "r6", dt.datetime(2025, 3, 17, 9), None, None, None),
    ("extra-q1.csv", "x1", dt.datetime(2025, 2, 1, 9), "Legal", "executive", None),
    ("pulse-q2.csv", "s1", dt.datetime(2025, 6, 10, 9), None, None, "id_e1"),
    ("pulse-q2.csv", "s2", dt.datetime(2025, 6, 10, 9), None, None, "id_e3"),
    ("pulse-q2.csv", "s3", dt.datetime(2025, 6, 10, 9), None, None, "id_e4"),
    ("pulse-q2.csv", "s4", dt.datetime(2025, 6, 10, 9), "Sales", "user", None),
    ("pulse-q2.csv", "s5", dt.datetime(2025, 6, 11, 9), "Service", "user", None),
    ("pulse-q2.csv", "s6", dt.datetime(2025, 6, 11, 9), "Service", "user", None),
    ("pulse-q2.csv", "s7", dt.datetime(2025, 6, 11, 9), "Service", "user", None),
]

ANSWERS = [
    # response_id, item, answer as given (1..5)
    ("r1", SATISFIED, 5), ("r1", HARDER, 2), ("r1", SUPPORT, 4),
    ("r2", SATISFIED, 3), ("r2", SUPPORT, 2),
    ("r3", SATISFIED, 4), ("r3", HARDER, 4), ("r3", SUPPORT, 5),
    ("r4", SATISFIED, 2), ("r4", HARDER, 1), ("r4", SUPPORT, 3),
    ("r5", SATISFIED, 1),
    ("r6", SATISFIED, 5),
    ("x1", SATISFIED, 4),
    ("s1", SATISFIED, 5), ("s1", HARDER, 1), ("s1", SUPPORT, 5),
    ("s2", SATISFIED, 4), ("s2", SUPPORT, 4),
    ("s3", SATISFIED, 2), ("s3", SUPPORT, 1),
    ("s4", SATISFIED, 4), ("s4", HARDER, 2), ("s4", SUPPORT, 4),
    ("s5", SATISFIED, 3),
    ("s6", SATISFIED, 4),
    ("s7", SATISFIED, 5),
]
CONSTRUCT = {SATISFIED: "satisfaction", HARDER: "satisfaction", SUPPORT: "support"}


def make_config(**sections):
    base = {
        "privacy": {"min_group_size": 3},
        "usage": {"regular_min_active_weeks": 3},
        "benefits": {"cost_per_error_eur": {"quote_prep": 80}},
    }
    base.update(sections)
    return default_config(START, **base)


def make_warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_inputs(con)  # the staging tables and the matched usage, as the catalogue declares them
    con.executemany(
        "INSERT INTO staging.employees VALUES (?, ?, ?, ?, ?, ?, ?, false)", [list(e) for e in EMPLOYEES]
    )
    con.executemany(
        "INSERT INTO staging.employee_identities VALUES (?, ?, 'email')",
        [[f"id_{e[0]}", e[0]] for e in EMPLOYEES],
    )
    con.executemany(
        "INSERT INTO intermediate.usage_activity VALUES (?, ?, ?, 'chat', ?, ?, ?)", [list(u) for u in USAGE]
    )
    con.executemany("INSERT INTO staging.assessments VALUES (?, ?, ?, ?, ?)", [list(a) for a in ASSESSMENTS])
    con.executemany(
        "INSERT INTO staging.trainings VALUES (?, ?, 'workshop', ?, ?, ?, 4.0)", [list(t) for t in TRAININGS]
    )
    con.executemany(
        "INSERT INTO staging.use_cases VALUES (?, 'title', ?, ?, ?, ?, NULL)", [list(u) for u in USE_CASES]
    )
    con.executemany(
        "INSERT INTO staging.process_metrics VALUES (?, ?, ?, ?, ?, ?, NULL)", [list(p) for p in PROCESS]
    )
    con.executemany(
        "INSERT INTO staging.survey_responses VALUES (?, ?, ?, ?, ?, ?)", [list(r) for r in RESPONSES]
    )
    file_of = {r[1]: r[0] for r in RESPONSES}
    con.executemany(
        "INSERT INTO staging.survey_answers VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            [file_of[rid], rid, item, CONSTRUCT[item], item == HARDER, x, 6 - x if item == HARDER else x]
            for rid, item, x in ANSWERS
        ],
    )
    return con


def rows(con, table: str, quarter: str) -> dict[tuple, dict]:
    """The quarter's rows of a mart keyed by the grain without the quarter."""
    relation = con.sql(f"SELECT * FROM {table} WHERE quarter = $q", params={"q": quarter})
    names = relation.columns
    key = [names.index(c) for c in MART_KEYS[table][1:]]
    out = {}
    for values in relation.fetchall():
        k = tuple(values[i] for i in key)
        assert k not in out, f"duplicate grain {k} in {table}"
        out[k] = dict(zip(names, values))
    return out


@pytest.fixture(scope="module")
def built():
    con = make_warehouse()
    cfg = make_config()
    counts = {q: build_quarter(con, cfg, q) for q in data_quarters(con, cfg)}
    yield con, counts
    con.close()


def approx(x):
    return pytest.approx(x, rel=1e-9, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# quarters
# ---------------------------------------------------------------------------------------------


def test_quarter_helpers():
    assert quarter_label(D(2025, 3, 31)) == "2025-Q1"
    assert quarter_label(D(2025, 4, 1)) == "2025-Q2"
    assert quarter_bounds("2024-Q4") == (D(2024, 10, 1), D(2024, 12, 31))
    assert days_in_quarter("2025-Q1") == 90 and days_in_quarter("2024-Q1") == 91  # leap year
    assert weeks_in_quarter("2025-Q3") == 92 / 7
    assert quarters_between("2024-Q3", "2025-Q2") == ["2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2"]
    assert quarters_between(D(2025, 5, 1), D(2025, 1, 1)) == []
    assert partition_key_to_label("2025-07-01") == "2025-Q3"
    assert label_to_partition_key("2025-Q3") == "2025-07-01"


def test_data_quarters_run_from_the_earliest_data_to_the_last(built):
    con, counts = built
    # process data from Sep 2024 (outside B, but data), surveys up to June 2025
    assert list(counts) == ["2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2"]
    assert data_quarters(duckdb.connect(), make_config()) == []  # no staging at all: nothing


# ---------------------------------------------------------------------------------------------
# §1 usage
# ---------------------------------------------------------------------------------------------


def test_usage_company_row(built):
    con, _ = built
    company = rows(con, "marts.kpi_usage", "2025-Q1")[("company", "all")]
    assert company["group_size"] == company["headcount"] == 11
    assert company["suppressed"] is False and company["suppression_reason"] is None
    # fte = e1 1 + e2 0.5 + e3 1 + e4 1.0 x 45/90 + e5 1 + e6 1 + e7 1.0 x 31/90 + e8 1 + e9 1
    #       + e10 1 + e11 1 = 9 + 31/90
    assert company["fte"] == approx(9 + 31 / 90)
    # active: e1 e3 e4 e5 e7 e8 e11 (e2 only has a 0-interaction row)
    assert company["active_users"] == 7
    assert company["active_user_rate"] == approx(7 / 11)
    # regular (>= 3 Monday weeks in Q1): e1 (Jan 6, Feb 3, Mar 31), e4 (Feb 17, Feb 24, Mar 3)
    assert company["regular_users"] == 2
    assert company["regular_user_rate"] == approx(2 / 11)
    # interactions: e1 10+5+3+2=20, e3 8+4+3=15, e4 18, e5 7, e7 5, e8 4, e11 1 -> 70
    assert company["interactions"] == 70
    assert company["interactions_per_employee_week"] == approx(70 / 11 / W1)
    assert company["interactions_per_active_user_week"] == approx(70 / 7 / W1)
    assert company["interaction_share"] is None


def test_usage_department_with_mid_quarter_hire(built):
    con, _ = built
    sales = rows(con, "marts.kpi_usage", "2025-Q1")[("department", "Sales")]
    assert sales["headcount"] == 4
    assert sales["fte"] == approx(1 + 0.5 + 1 + 1.0 * 45 / 90)  # e4 hired Feb 15: 45 of 90 days
    assert sales["active_users"] == 3  # e1 e3 e4
    assert sales["active_user_rate"] == approx(0.75)
    assert sales["regular_users"] == 2  # e1, e4; e3 has only 2 weeks
    assert sales["regular_user_rate"] == approx(0.5)
    assert sales["interactions"] == 53  # 20 + 0 + 15 + 18
    assert sales["interactions_per_employee_week"] == approx(53 / 4 / W1)
    assert sales["interactions_per_active_user_week"] == approx(53 / 3 / W1)
    service = rows(con, "marts.kpi_usage", "2025-Q1")[("department", "Service")]
    assert service["headcount"] == 3 and service["fte"] == approx(2 + 31 / 90)  # e7 left Jan 31
    assert service["active_users"] == 2 and service["regular_users"] == 0
    assert service["interactions"] == 12


def test_usage_week_straddling_two_quarters_counts_in_both(built):
    con, _ = built
    q2 = rows(con, "marts.kpi_usage", "2025-Q2")
    # e1 in Q2: Apr 1 (week of Mon Mar 31, which also counted in Q1), Apr 8, Apr 15 -> 3 weeks
    assert q2[("company", "all")]["regular_users"] == 1
    assert q2[("company", "all")]["active_users"] == 1
    # Q2: e7 left in January -> 10 people
    assert q2[("company", "all")]["headcount"] == 10
    assert q2[("company", "all")]["interactions_per_employee_week"] == approx(3 / 10 / (91 / 7))


def test_usage_tool_rows(built):
    con, _ = built
    q1 = rows(con, "marts.kpi_usage", "2025-Q1")
    chatgpt, copilot = q1[("tool", "chatgpt")], q1[("tool", "copilot")]
    # chatgpt: e1 15, e4 18, e5 7, e8 4, e11 1 (e2's 0 does not make a user) -> 5 users, 45
    assert chatgpt["group_size"] == chatgpt["active_users"] == 5
    assert chatgpt["headcount"] == 11  # company headcount
    assert chatgpt["active_user_rate"] == approx(5 / 11)
    assert chatgpt["interactions"] == 45
    assert chatgpt["interactions_per_active_user_week"] == approx(45 / 5 / W1)
    assert chatgpt["interaction_share"] == approx(45 / 70)
    # copilot: e1 5, e3 15, e7 5 -> 3 users, 25
    assert copilot["active_users"] == 3 and copilot["interactions"] == 25
    assert copilot["interaction_share"] == approx(25 / 70)
    assert copilot["fte"] is None and copilot["regular_users"] is None
    assert copilot["interactions_per_employee_week"] is None


# ---------------------------------------------------------------------------------------------
# suppression
# ---------------------------------------------------------------------------------------------


def test_small_group_is_suppressed_with_every_metric_null(built):
    con, _ = built
    for table in ("marts.kpi_usage", "marts.kpi_competence"):
        legal = rows(con, table, "2025-Q1")[("department", "Legal")]
        assert legal["group_size"] == 1
        assert legal["suppressed"] is True and legal["suppression_reason"] == "small_group"
        metrics = {k: v for k, v in legal.items() if k not in {"quarter", "segment_type", "segment",
                                                               "group_size", "suppressed", "suppression_reason"}}
        assert metrics and all(v is None for v in metrics.values()), metrics


def test_complementary_suppression_hides_the_next_smallest_segment_tie_by_name(built):
    con, _ = built
    for table in ("marts.kpi_usage", "marts.kpi_competence"):
        q1 = rows(con, table, "2025-Q1")
        # Legal (1) is the only suppressed department; Quality and Service tie at 3 and
        # "Quality" < "Service", so Quality is hidden too; Sales (4) and Service stay.
        reasons = {seg: r["suppression_reason"] for (st, seg), r in q1.items() if st == "department"}
        assert reasons == {"Legal": "small_group", "Quality": "complementary", "Sales": None, "Service": None}
        assert q1[("department", "Quality")]["headcount"] is None
        assert q1[("department", "Quality")]["group_size"] == 3
        assert q1[("department", "Service")]["headcount"] == 3
        # target groups: manager (1), champion (2), executive (1) are all small: with more than
        # one suppressed segment nothing more is hidden, so user (7) stays visible
        tg = {seg: r["suppression_reason"] for (st, seg), r in q1.items() if st == "target_group"}
        assert tg == {"user": None, "manager": "small_group", "champion": "small_group", "executive": "small_group"}


def test_complementary_suppression_applies_to_tool_rows_and_can_be_switched_off():
    con = make_warehouse()
    # a third tool used by one person: small; copilot (3 users) is smaller than chatgpt (5)
    con.execute("INSERT INTO intermediate.usage_activity VALUES ('e9', DATE '2025-03-05', 'gemini', 'chat', 2, 0, 0)")
    build_quarter(con, make_config(), "2025-Q1")
    q1 = rows(con, "marts.kpi_usage", "2025-Q1")
    assert q1[("tool", "gemini")]["suppression_reason"] == "small_group"
    assert q1[("tool", "copilot")]["suppression_reason"] == "complementary"
    assert q1[("tool", "copilot")]["interaction_share"] is None
    assert q1[("tool", "chatgpt")]["suppressed"] is False
    assert q1[("tool", "chatgpt")]["interaction_share"] == approx(45 / 72)
    # Switched off, the company minus the shown groups gives a small group's figures back: the
    # privacy audit stops the quarter and nothing of it is written (the rows above stay).
    with pytest.raises(UserError, match="2025-Q1: the privacy audit found .* set it to true"):
        build_quarter(con, make_config(privacy={"min_group_size": 3, "complementary_suppression": False}),
                      "2025-Q1")
    assert rows(con, "marts.kpi_usage", "2025-Q1") == q1


# ---------------------------------------------------------------------------------------------
# §2 competence
# ---------------------------------------------------------------------------------------------


def test_competence_company_row(built):
    con, _ = built
    c = rows(con, "marts.kpi_competence", "2025-Q1")[("company", "all")]
    assert c["headcount"] == c["group_size"] == 11
    # latest ai_literacy in Q1: e1 80 (not its earlier 40), e2 70, e3 60, e5 90; e6's is in Q4
    assert c["assessed_employees"] == 4
    assert c["skill_score"] == approx((80 + 70 + 60 + 90) / 4)  # 75
    assert c["proficient_rate"] == approx(3 / 4)  # 80, 70 (= threshold), 90
    # prompt_quality rows: 80, 60, 75, 90 from 3 distinct people
    assert c["prompt_quality_score"] == approx((80 + 60 + 75 + 90) / 4)
    # successes / (successes + failures): e1 4/1, e3 2/2, e4 3/0, e5 1/1, e7 0/1 -> 10 / 15
    assert c["success_rate"] == approx(10 / 15)
    # uc1, uc2, uc4 (uc3 not self-developed, uc5 in Q4)
    assert c["new_use_cases"] == 3
    assert c["new_use_cases_per_100"] == approx(3 / 11 * 100)
    # completed by Mar 31: e1 (Jan 20), e5 (Nov 2024); e2 completes in April
    assert c["trained_share"] == approx(2 / 11)


def test_competence_departments_and_subset_rule(built):
    con, _ = built
    q1 = rows(con, "marts.kpi_competence", "2025-Q1")
    sales, service = q1[("department", "Sales")], q1[("department", "Service")]
    assert sales["assessed_employees"] == 3  # e1 80, e2 70, e3 60: mean 70, 2 of 3 proficient
    # ... but shown beside the company's 4 assessed (mean 75), Sales' 70 gives Service's one
    # assessed person away: 75 x 4 - 70 x 3 = 90 (e5). So Sales withholds them (k = 3).
    assert sales["skill_score"] is None and sales["proficient_rate"] is None
    # Sales has 3 prompt_quality rows but only 2 distinct people (e1 twice, e3) < k
    assert sales["prompt_assessed_employees"] == 2
    assert sales["prompt_quality_score"] is None
    # e1 4/1, e3 2/2, e4 3/0: 3 contributors, 9 / 12; the company has 5 (e5, e7 in Service): the
    # 2 left out would be 10 - 9 successes of 15 - 12 attempts, so Sales withholds it too
    assert sales["success_contributors"] == 3
    assert sales["success_rate"] is None
    # the skill to date rests on the same three people in Q1 (no earlier assessment in Sales)
    assert (sales["assessed_ever"], sales["assessment_coverage"]) == (3, approx(3 / 4))
    assert sales["withheld"] == (
        "skill_score, proficient_rate, skill_score_to_date, proficient_rate_to_date, success_rate")
    assert q1[("company", "all")]["success_contributors"] == 5
    assert sales["new_use_cases"] == 2 and sales["new_use_cases_per_100"] == approx(50.0)
    assert sales["trained_share"] == approx(1 / 4)
    # Service: 1 assessed person, 2 with a success or failure (e5, e7) < k = 3
    assert service["assessed_employees"] == 1
    assert service["skill_score"] is None and service["proficient_rate"] is None
    assert service["success_rate"] is None
    assert service["new_use_cases"] == 0  # uc3 is not self-developed
    assert service["trained_share"] == approx(1 / 3)
    user = q1[("target_group", "user")]
    assert user["new_use_cases"] is None and user["new_use_cases_per_100"] is None
    assert user["trained_share"] == approx(2 / 7)  # e1, e5 of 7 users


def test_competence_skill_to_date_carries_earlier_assessments(built):
    """Q2 has no assessment at all; the skill to date is each person's latest result up to June 30:
    e1 80 (its March result supersedes January's 40), e2 70, e3 60, e5 90 and e6 50 (December
    2024). e7 left in January: not in P(Q2). Mean 70, proficient (>= 70) e1, e2, e5: 3 of 5."""
    con, _ = built
    q2 = rows(con, "marts.kpi_competence", "2025-Q2")
    company = q2[("company", "all")]
    assert company["assessed_employees"] == 0 and company["skill_score"] is None
    assert (company["assessed_ever"], company["headcount"]) == (5, 10)
    assert company["assessment_coverage"] == approx(5 / 10)
    assert company["skill_score_to_date"] == approx(70.0)
    assert company["proficient_rate_to_date"] == approx(3 / 5)
    # Sales' 3 would leave 2 (e5, e6) to be worked out from the company's 5: withheld
    assert q2[("department", "Sales")]["skill_score_to_date"] is None
    assert q2[("department", "Sales")]["withheld"] == "skill_score_to_date, proficient_rate_to_date"


# ---------------------------------------------------------------------------------------------
# §3 business
# ---------------------------------------------------------------------------------------------


def test_business_process_rows(built):
    con, _ = built
    q1 = rows(con, "marts.kpi_business", "2025-Q1")
    assert set(q1) == {("quote_prep", "Sales"), ("claims", "Service"), ("all", "all")}
    quote = q1[("quote_prep", "Sales")]
    # B = Oct-Dec 2024: 400 cases, 12000 minutes -> 30 min/case; 30 errors -> 0.075
    # Q1: 400 cases, 10000 minutes -> 25 min/case; 10 errors -> 0.025
    assert quote["cases"] == 400 and quote["handling_minutes"] == 10000 and quote["errors"] == 10
    assert quote["baseline_minutes_per_case"] == approx(30.0)
    assert quote["minutes_per_case"] == approx(25.0)
    assert quote["time_reduction"] == approx(1 - 25 / 30)
    assert quote["hours_saved"] == approx((30 - 25) * 400 / 60)
    assert quote["baseline_error_rate"] == approx(0.075) and quote["error_rate"] == approx(0.025)
    assert quote["errors_avoided"] == approx((0.075 - 0.025) * 400)  # 20
    # Sales fte Q1 = 3.0; over B (92 days) e1 1 + e2 0.5 + e3 1 = 2.5 (e4 not yet hired)
    assert quote["fte"] == approx(3.0)
    assert quote["cases_per_fte"] == approx(400 / 3)
    assert quote["baseline_cases_per_fte"] == approx((400 * 3 / 3) / 2.5)  # 160
    assert quote["cases_per_fte_growth"] == approx((400 / 3) / 160 - 1)
    # hourly cost: (50*1*90 + 60*0.5*90 + 80*1*90 + 50*1*45) / (90 + 45 + 90 + 45) = 16650 / 270
    assert quote["hourly_cost_eur"] == approx(16650 / 270)
    assert quote["time_savings_eur"] == approx(400 * 5 / 60 * 16650 / 270)
    assert quote["quality_savings_eur"] == approx(20 * 80)  # cost_per_error_eur.quote_prep = 80
    assert quote["estimated_hours_saved"] is None

    claims = q1[("claims", "Service")]
    # B: only Dec 2024 (Sep is outside): 60 cases, 1200 min -> 20; 6 errors -> 0.1
    # Q1: 50 cases, 1100 min -> 22 (slower); 5 errors -> 0.1
    assert claims["time_reduction"] == approx(1 - 22 / 20)
    assert claims["hours_saved"] == approx((20 - 22) * 50 / 60)  # negative
    assert claims["errors_avoided"] == approx(0.0)
    # Service fte Q1 = 1 + 1 + 31/90; over B 3.0 -> baseline 60 / 3 = 20 cases per fte
    assert claims["cases_per_fte"] == approx(50 / (2 + 31 / 90))
    assert claims["baseline_cases_per_fte"] == approx(20.0)
    assert claims["cases_per_fte_growth"] == approx(50 / (2 + 31 / 90) / 20 - 1)
    # (40*90 + 60*90 + 40*31) / (90 + 90 + 31) = 10240 / 211
    assert claims["hourly_cost_eur"] == approx(10240 / 211)
    assert claims["time_savings_eur"] == approx((20 - 22) * 50 / 60 * 10240 / 211)
    assert claims["quality_savings_eur"] == approx(0.0)  # default 50 per error x 0


def test_business_company_row_holds_the_sums(built):
    con, _ = built
    company = rows(con, "marts.kpi_business", "2025-Q1")[("all", "all")]
    assert company["hours_saved"] == approx(400 * 5 / 60 + (20 - 22) * 50 / 60)
    assert company["errors_avoided"] == approx(20.0)
    assert company["time_savings_eur"] == approx(400 * 5 / 60 * 16650 / 270 + (20 - 22) * 50 / 60 * 10240 / 211)
    assert company["quality_savings_eur"] == approx(1600.0)
    assert company["cases"] == 450
    # no per-tool minutes in the config: estimates are NULL, not 0
    assert company["estimated_hours_saved"] is None and company["estimated_savings_eur"] is None
    assert company["minutes_per_case"] is None


def test_business_estimated_savings_from_per_tool_minutes():
    con = make_warehouse()
    cfg = make_config(benefits={"time_saved_minutes_per_interaction": {"chatgpt": 3}})
    build_quarter(con, cfg, "2025-Q1")
    company = rows(con, "marts.kpi_business", "2025-Q1")[("all", "all")]
    # chatgpt Q1: e1 15, e4 18, e5 7, e8 4, e11 1 = 45 interactions x 3 min = 2.25 h; copilot 0
    assert company["estimated_hours_saved"] == approx(45 * 3 / 60)
    # hours x each employee's cost: e1 0.75*50 + e4 0.9*50 + e5 0.35*40 + e8 0.2*50 + e11 0.05*120
    assert company["estimated_savings_eur"] == approx(37.5 + 45 + 14 + 10 + 6)
    # measured savings are unchanged by the estimate
    assert company["quality_savings_eur"] == approx(20 * 50)  # this config has the default 50 only
    process = rows(con, "marts.kpi_business", "2025-Q1")[("quote_prep", "Sales")]
    assert process["estimated_hours_saved"] is None


# ---------------------------------------------------------------------------------------------
# §4 culture
# ---------------------------------------------------------------------------------------------


def test_culture_wave_q1(built):
    con, _ = built
    q1 = rows(con, "marts.kpi_culture", "2025-Q1")
    sat = q1[("satisfaction", "company", "all")]
    # per respondent (reverse item x -> 6 - x): r1 (5, 6-2=4) mean 4.5, 2/2 favorable;
    # r2 3 -> 0/1; r3 (4, 6-4=2) -> 3, 1/2; r4 (2, 6-1=5) -> 3.5, 1/2; r5 1 -> 0/1;
    # r6 5 -> 1/1; x1 4 -> 1/1
    assert sat["responses"] == sat["group_size"] == 7
    assert sat["mean_score"] == approx((4.5 + 3 + 3 + 3.5 + 1 + 5 + 4) / 7)
    assert sat["favorability"] == approx(6 / 10)
    # largest file pulse-q1.csv has 6 response rows; Q1 headcount 11
    assert sat["response_rate"] == approx(6 / 11)
    sup = q1[("support", "company", "all")]
    assert sup["responses"] == 4  # r1 4, r2 2, r3 5, r4 3 (r5, r6, x1 skipped it)
    assert sup["mean_score"] == approx(3.5) and sup["favorability"] == approx(0.5)
    assert sup["response_rate"] == approx(6 / 11)  # same on every construct
    # r1 reports Service but is e1 in HR: Sales = r1, r2, r3
    sales = q1[("satisfaction", "department", "Sales")]
    assert sales["responses"] == 3
    assert sales["mean_score"] == approx((4.5 + 3 + 3) / 3)
    assert sales["favorability"] == approx(3 / 5)
    assert sales["response_rate"] is None  # company rows only
    # Service (r4, r5), Legal (x1), unknown (r6) are small; three suppressed: nothing more hidden
    for seg in ("Service", "Legal", "unknown"):
        row = q1[("satisfaction", "department", seg)]
        assert row["suppression_reason"] == "small_group" and row["mean_score"] is None
    assert sat["mean_score_change"] is None  # no earlier wave
    # complementary suppression is per construct: support has Sales (r1 r2 r3) and Service (r4
    # alone, small), so Sales support is hidden while Sales satisfaction is shown
    assert q1[("support", "department", "Service")]["suppression_reason"] == "small_group"
    assert q1[("support", "department", "Sales")]["suppression_reason"] == "complementary"
    assert q1[("support", "department", "Sales")]["group_size"] == 3
    assert q1[("support", "department", "Sales")]["favorability"] is None


def test_culture_changes_against_the_previous_wave_with_newcombe_interval(built):
    con, _ = built
    q2 = rows(con, "marts.kpi_culture", "2025-Q2")
    sat = q2[("satisfaction", "company", "all")]
    # s1 (5, 6-1=5) -> 5, 2/2; s2 4 -> 1/1; s3 2 -> 0/1; s4 (4, 6-2=4) -> 4, 2/2; s5 3 -> 0/1;
    # s6 4 -> 1/1; s7 5 -> 1/1
    assert sat["responses"] == 7
    assert sat["mean_score"] == approx(27 / 7)
    assert sat["favorability"] == approx(7 / 9)
    assert sat["response_rate"] == approx(7 / 10)  # 7 rows / Q2 headcount 10
    assert sat["mean_score_change"] == approx(27 / 7 - 24 / 7)
    assert sat["favorability_change"] == approx(7 / 9 - 0.6)
    low, high = confint_proportions_2indep(7 / 9 * 7, 7, 0.6 * 7, 7, method="newcomb", compare="diff")
    assert sat["favorability_change_low"] == approx(float(low))
    assert sat["favorability_change_high"] == approx(float(high))
    assert sat["favorability_change_low"] < sat["favorability_change"] < sat["favorability_change_high"]
    sup = q2[("support", "company", "all")]
    # Q2 support: 5, 4, 1, 4 -> mean 3.5, 3/4; Q1: mean 3.5, 2/4
    assert sup["mean_score_change"] == approx(0.0)
    assert sup["favorability_change"] == approx(0.25)
    low, high = confint_proportions_2indep(3, 4, 2, 4, method="newcomb", compare="diff")
    assert (sup["favorability_change_low"], sup["favorability_change_high"]) == (approx(low), approx(high))
    # Sales Q2: s1 s2 s3 (HR) + s4 (self-reported) -> mean 15/4, 5/6; Q1 Sales 3.5, 3/5
    sales = q2[("satisfaction", "department", "Sales")]
    assert sales["mean_score_change"] == approx(15 / 4 - 3.5)
    assert sales["favorability_change"] == approx(5 / 6 - 3 / 5)
    # Service is visible in Q2 (s5 s6 s7) but was suppressed in Q1: the change is NULL
    service = q2[("satisfaction", "department", "Service")]
    assert service["mean_score"] == approx(4.0)
    assert service["mean_score_change"] is None and service["favorability_change"] is None
    assert service["favorability_change_low"] is None


# ---------------------------------------------------------------------------------------------
# rebuilding
# ---------------------------------------------------------------------------------------------


def _all_rows(con, quarter: str) -> dict[str, list[tuple]]:
    return {
        t: sorted(con.sql(f"SELECT * FROM {t} WHERE quarter = $q", params={"q": quarter}).fetchall(), key=repr)
        for t in MART_TABLES
    }


def test_one_quarter_alone_gives_the_same_rows_as_all_quarters(built):
    con_all, counts = built
    cfg = make_config()
    alone = make_warehouse()
    assert build_quarter(alone, cfg, "2025-Q2") == counts["2025-Q2"]
    assert _all_rows(alone, "2025-Q2") == _all_rows(con_all, "2025-Q2")
    # rebuilding is idempotent and another quarter's rebuild does not touch it
    build_quarter(alone, cfg, "2025-Q1")
    build_quarter(alone, cfg, "2025-Q2")
    assert _all_rows(alone, "2025-Q2") == _all_rows(con_all, "2025-Q2")
    assert _all_rows(alone, "2025-Q1") == _all_rows(con_all, "2025-Q1")
    assert alone.sql("SELECT count(*) FROM marts.kpi_usage").fetchall()[0][0] == sum(
        len(v) for v in [_all_rows(alone, q)["marts.kpi_usage"] for q in ("2025-Q1", "2025-Q2")]
    )


def test_build_inside_a_callers_transaction_and_empty_tables():
    con = make_warehouse()
    ensure_mart_tables(con)
    ensure_mart_tables(con)  # idempotent
    con.execute("BEGIN TRANSACTION")
    build_quarter(con, make_config(), "2025-Q1")
    con.execute("ROLLBACK")
    assert con.sql("SELECT count(*) FROM marts.kpi_usage").fetchall() == [(0,)]
