"""marts.kpi_training (docs/metrics.md §12), worked out by hand. k = 2, transfer = active in at
least 4 of weeks 5-12 after the training (competence.transfer_min_active_weeks), positive
feedback = a rating of at least 4 (feedback.positive_min).

2025-Q1, department A, basics_workshop started in the quarter:
    A0  Jan 10 - Jan 12  completed  4 h   feedback Jan 15: 5, would recommend
    A1  Jan 10 - Jan 12  completed  4 h   feedback Jan 16: 3, would not recommend
    A2  Jan 10           dropped    2 h
    A3  Mar 25           enrolled   4 h
  -> 4 participants, 14 h, completion 2 / 4, drop-out 1 / 4; feedback 2, positive 1 / 2.
Department B: B0 the only one at a prompt_masterclass (Feb 1 - 2): a row of one person, suppressed.

Transfer (weeks 5-12 = days 29-84 after Jan 12: Feb 10 - Apr 6) is counted in 2025-Q2, when the
window ends: A0 active in weeks 5, 6, 7 and 8 (transferred); A1 in weeks 5 (twice), 6 and 7 and
on Feb 9 (day 28: week 4, outside): 3 weeks, not transferred. Transfer rate 1 / 2.
"""

from __future__ import annotations

import datetime as dt

import pytest

from kpi.marts import build_quarter
from tests.sql.test_kpi_champions_maturity import add_people, empty_warehouse, make_config, use

D = dt.date


def training(con, key, course, fmt, start, end, status, hours):
    con.execute("INSERT INTO staging.trainings VALUES (?, ?, ?, ?, ?, ?, ?)", [key, course, fmt, start, end, status,
                                                                             hours])


@pytest.fixture(scope="module")
def training_rows():
    con = empty_warehouse()
    a, b = add_people(con, "A", 4), add_people(con, "B", 1)
    training(con, a[0], "B1", "basics_workshop", D(2025, 1, 10), D(2025, 1, 12), "completed", 4.0)
    training(con, a[1], "B1", "basics_workshop", D(2025, 1, 10), D(2025, 1, 12), "completed", 4.0)
    training(con, a[2], "B1", "basics_workshop", D(2025, 1, 10), None, "dropped", 2.0)
    training(con, a[3], "B2", "basics_workshop", D(2025, 3, 25), None, "enrolled", 4.0)
    training(con, b[0], "M1", "prompt_masterclass", D(2025, 2, 1), D(2025, 2, 2), "completed", 16.0)
    con.executemany("INSERT INTO staging.course_feedback VALUES (?, 'B1', ?, ?, ?)",
                    [[a[0], D(2025, 1, 15), 5.0, True], [a[1], D(2025, 1, 16), 3.0, False]])
    use(con, [a[0]], D(2025, 2, 10), D(2025, 2, 17), D(2025, 2, 24), D(2025, 3, 3))
    use(con, [a[1]], D(2025, 2, 9), D(2025, 2, 10), D(2025, 2, 11), D(2025, 2, 17), D(2025, 2, 24))
    cfg = make_config(privacy={"min_group_size": 2})
    out = {}
    for quarter in ("2025-Q1", "2025-Q2"):
        build_quarter(con, cfg, quarter)
        relation = con.sql("SELECT * FROM marts.kpi_training WHERE quarter = $q", params={"q": quarter})
        out[quarter] = {(r[1], r[2], r[3]): dict(zip(relation.columns, r)) for r in relation.fetchall()}
    yield out
    con.close()


def test_activity_completion_and_dropout(training_rows):
    row = training_rows["2025-Q1"][("company", "all", "basics_workshop")]
    assert (row["participants"], row["enrolments"], row["hours"]) == (4, 4, 14.0)
    assert (row["completion_rate"], row["dropout_rate"]) == (0.5, 0.25)
    assert training_rows["2025-Q1"][("department", "A", "basics_workshop")]["participants"] == 4


def test_feedback_positive_share_and_recommendation(training_rows):
    row = training_rows["2025-Q1"][("company", "all", "basics_workshop")]
    assert (row["feedback_responses"], row["positive_feedback_share"]) == (2, 0.5)
    assert (row["recommend_responses"], row["would_recommend_share"]) == (2, 0.5)


def test_transfer_is_counted_when_the_window_ends(training_rows):
    q1 = training_rows["2025-Q1"][("company", "all", "basics_workshop")]
    assert (q1["transfer_people"], q1["transfer_rate"]) == (0, None)
    q2 = training_rows["2025-Q2"][("company", "all", "basics_workshop")]
    assert (q2["transfer_people"], q2["transfer_rate"]) == (2, 0.5)
    assert (q2["participants"], q2["completion_rate"]) == (0, None)  # nobody started one in Q2


def test_a_format_with_one_participant_is_suppressed(training_rows):
    for quarter in ("2025-Q1", "2025-Q2"):  # the enrolment, then the transfer window
        for key in (("company", "all", "prompt_masterclass"), ("department", "B", "prompt_masterclass")):
            row = training_rows[quarter][key]
            assert (row["suppressed"], row["suppression_reason"]) == (True, "small_group"), (quarter, key)
            assert (row["participants"], row["hours"], row["transfer_people"]) == (None, None, None)
