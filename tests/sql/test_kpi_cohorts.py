"""marts.kpi_cohorts (docs/metrics.md §13), worked out by hand. k = 2.

    person  first completed training  usage days             ai_literacy            employed
    A0      2025-01-20                Jan 25, Mar 3          Feb 10: 60, Mar 20: 70  throughout
    A1      2025-02-10                Feb 15, Feb 20, Mar 5  Mar 1: 80, Mar 25: 90   throughout
    A2      2025-01-05                Jan 10                 -                       left 2025-02-15
    A3      (untrained)               Jan 10                 -                       throughout

As of 2025-Q1 (months up to March):
    month 0: A0 (Jan), A1 (Feb), A2 (Jan): 3 people, all active; nobody assessed
    month 1: A0 (Feb), A1 (Mar), A2 (Feb, employed to the 15th): 3 people, A1 active (1/3);
             assessed A0 60 and A1 90 (its latest of March): skill 75
    month 2: A0 (Mar) alone: fewer than k, suppressed
"""

from __future__ import annotations

import datetime as dt

import pytest

from kpi.marts import build_quarter
from tests.sql.test_kpi_champions_maturity import add_people, empty_warehouse, make_config, use

D = dt.date


@pytest.fixture(scope="module")
def cohorts():
    con = empty_warehouse()
    a = add_people(con, "A", 4)
    con.execute("UPDATE staging.employees SET exit_date = DATE '2025-02-15' WHERE employee_key = ?", [a[2]])
    for key, done in zip(a[:3], [D(2025, 1, 20), D(2025, 2, 10), D(2025, 1, 5)]):
        con.execute("INSERT INTO staging.trainings VALUES (?, 'c1', 'basics_workshop', ?, ?, 'completed', 4.0)",
                    [key, done - dt.timedelta(days=2), done])
    use(con, [a[0]], D(2025, 1, 25), D(2025, 3, 3))
    use(con, [a[1]], D(2025, 2, 15), D(2025, 2, 20), D(2025, 3, 5))
    use(con, [a[2], a[3]], D(2025, 1, 10))
    for key, day, score in [(a[0], D(2025, 2, 10), 60), (a[0], D(2025, 3, 20), 70), (a[1], D(2025, 3, 1), 80),
                            (a[1], D(2025, 3, 25), 90)]:
        con.execute("INSERT INTO staging.assessments VALUES (?, ?, 'ai_literacy', ?, 100)", [key, day, score])
    build_quarter(con, make_config(privacy={"min_group_size": 2}), "2025-Q1")
    relation = con.sql("SELECT * FROM marts.kpi_cohorts WHERE quarter = '2025-Q1' ORDER BY months_since_training")
    yield {r[3]: dict(zip(relation.columns, r)) for r in relation.fetchall()}
    con.close()


def test_month_zero_counts_everyone_in_their_training_month(cohorts):
    m0 = cohorts[0]
    assert (m0["people"], m0["active_users"], m0["active_user_rate"]) == (3, 3, 1.0)
    assert (m0["assessed_people"], m0["skill_score"]) == (0, None)


def test_month_one_counts_a_leaver_while_employed_and_the_latest_result_of_the_month(cohorts):
    m1 = cohorts[1]
    assert (m1["people"], m1["active_users"]) == (3, 1)
    assert m1["active_user_rate"] == pytest.approx(1 / 3)
    assert (m1["assessed_people"], m1["skill_score"]) == (2, 75.0)


def test_a_month_of_one_person_is_suppressed(cohorts):
    m2 = cohorts[2]
    assert (m2["suppressed"], m2["suppression_reason"]) == (True, "small_group")
    assert (m2["people"], m2["active_users"], m2["active_user_rate"], m2["skill_score"]) == (None, None, None, None)
    assert set(cohorts) == {0, 1, 2}
