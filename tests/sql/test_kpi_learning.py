"""marts.kpi_learning (docs/metrics.md §11), worked out by hand. k = 2 here.

Department A, six people (keys A0..A5), all users:

    person  pre (before)  first training   post (after)  later
    A0      40 on Jan 5   Jan 10 - Jan 20  60 on Feb 1   64 on Jul 25 (6 months + 5 days)
    A1      50 on Jan 5   Jan 10 - Jan 20  80 on Feb 1   90 on Jun 25 (5 months: not counted)
    A2      30 on Jan 5   Jan 10 - Jan 20  40 on Feb 1   a second training Mar 1-5 and 70 on Mar 10:
                                                         the FIRST training counts
    A3      45 on Jan 5   Jan 10 - Jan 20  -             assessed only before: no gain
    A4      -             Jan 10 - Jan 20  55 on Feb 1   assessed only after: no gain
    A5      20 on Jan 5   Jan 10 - Jan 20  50 on Feb 1   56 on Aug 20 (7 months)

Pairs: A0 (+20), A1 (+30), A2 (+10), A5 (+30): n = 4, gain 22.5, sd = sqrt(275 / 3), t(0.975, 3) =
3.182446305284263; pre 35, post 57.5; proficient (>= 70) before 0 of 4, after 1 of 4 (A1).
Re-assessed at least six months after the training (by 2025-Q3's end): A0 and A5: retained =
mean(64 - 40, 56 - 20) / mean(20, 30) = 30 / 25 = 1.2.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from kpi.marts import build_quarter
from tests.sql.test_kpi_champions_maturity import add_people, empty_warehouse, make_config, rows

D = dt.date
T3 = 3.182446305284263


def training(con, key, course, start, end):
    con.execute("INSERT INTO staging.trainings VALUES (?, ?, 'basics_workshop', ?, ?, 'completed', 4.0)",
                [key, course, start, end])


def assess(con, key, day, score):
    con.execute("INSERT INTO staging.assessments VALUES (?, ?, 'ai_literacy', ?, 100)", [key, day, score])


@pytest.fixture(scope="module")
def learning():
    con = empty_warehouse()
    a = add_people(con, "A", 6)
    for key in a:
        training(con, key, "c1", D(2025, 1, 10), D(2025, 1, 20))
    training(con, a[2], "c2", D(2025, 3, 1), D(2025, 3, 5))
    for key, score in zip(a, [40, 50, 30, 45, None, 20]):
        if score is not None:
            assess(con, key, D(2025, 1, 5), score)
    for key, score in zip(a, [60, 80, 40, None, 55, 50]):
        if score is not None:
            assess(con, key, D(2025, 2, 1), score)
    assess(con, a[2], D(2025, 3, 10), 70)
    assess(con, a[0], D(2025, 7, 25), 64)
    assess(con, a[1], D(2025, 6, 25), 90)
    assess(con, a[5], D(2025, 8, 20), 56)
    cfg = make_config(privacy={"min_group_size": 2})
    for quarter in ("2024-Q4", "2025-Q1", "2025-Q3"):
        build_quarter(con, cfg, quarter)
    yield con
    con.close()


def test_gain_of_the_first_training_with_its_interval(learning):
    company = rows(learning, "marts.kpi_learning", "2025-Q3")["all"]
    assert company["people_with_pre_and_post"] == 4
    assert (company["pre_mean"], company["post_mean"], company["gain"]) == (35.0, 57.5, 22.5)
    half = T3 * math.sqrt(275 / 3) / 2
    assert company["gain_ci_low"] == pytest.approx(22.5 - half, rel=1e-12)
    assert company["gain_ci_high"] == pytest.approx(22.5 + half, rel=1e-12)
    assert (company["proficient_pre"], company["proficient_post"]) == (0.0, 0.25)


def test_retention_counts_only_reassessments_six_months_after(learning):
    q3 = rows(learning, "marts.kpi_learning", "2025-Q3")["all"]
    assert q3["reassessed_6m"] == 2                    # A0 (6 months + 5 days), A5 (7 months); not A1 (5)
    assert q3["retained_6m"] == pytest.approx(1.2)
    q1 = rows(learning, "marts.kpi_learning", "2025-Q1")["all"]
    assert (q1["people_with_pre_and_post"], q1["gain"]) == (4, 22.5)  # A2's March result is not its post
    assert (q1["reassessed_6m"], q1["retained_6m"]) == (0, None)


def test_nothing_before_any_training(learning):
    assert rows(learning, "marts.kpi_learning", "2024-Q4") == {}


def test_a_small_segment_is_suppressed_and_the_rest_withheld():
    """k = 3: department B has one pair (suppressed); A's 4 would give it away from the company's 5,
    so A is withheld too; the company row stays."""
    con = empty_warehouse()
    a, b = add_people(con, "A", 4), add_people(con, "B", 1)
    for key, pre, post in zip(a + b, [40, 50, 30, 20, 60], [60, 80, 40, 50, 61]):
        training(con, key, "c1", D(2025, 1, 10), D(2025, 1, 20))
        assess(con, key, D(2025, 1, 5), pre)
        assess(con, key, D(2025, 2, 1), post)
    build_quarter(con, make_config(), "2025-Q1")
    got = rows(con, "marts.kpi_learning", "2025-Q1")
    assert got["B"]["suppression_reason"] == "small_group" and got["B"]["gain"] is None
    assert got["A"]["suppression_reason"] == "complementary" and got["A"]["pre_mean"] is None
    company = got["all"]
    assert (company["people_with_pre_and_post"], company["gain"]) == (5, pytest.approx((20 + 30 + 10 + 30 + 1) / 5))
    con.close()
