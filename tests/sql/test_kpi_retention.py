"""marts.kpi_retention on a hand-made company (docs/metrics.md §15).

k = privacy.min_group_size = 3; Q1 2025 = Jan 1 .. Mar 31 (90 days), Q2 2025 = Apr 1 .. Jun 30
(91 days). Everyone was hired in 2020. Trained in q = a `completed` training completed on or
before the quarter's first day; a leaver of q has exit_date in q (the last day worked).

    key     dept     training completed     exit         Q1                  Q2
    s0      Sales    2024-12-10             2025-02-15   trained, leaver     -
    s1..s4  Sales    2024-12-10                          trained             trained
    s5      Sales    2025-01-01 (= Q1 start)              trained             trained
    s6      Sales    2025-01-02 (after it)  2025-01-31   untrained, leaver   -
    s7      Sales    dropped                2025-03-31   untrained, leaver   -   (last day of Q1)
    s8      Sales    2025-02-01                          untrained           trained
    s9      Sales    -                      2025-06-30   untrained           untrained, leaver
    sx      Sales    2024-12-10             2024-12-31   not in P(q): left before Q1
    v0..v4  Service  2024-12-10                          trained             trained
    v5      Service  -                      2025-03-01   untrained, leaver   -
    v6, v7  Service  -                                   untrained           untrained
    l0      Legal    2024-12-10             2025-02-01   trained, leaver     -
    l1      Legal    2024-12-10                          trained             trained
    l2..l4  Legal    -                                   untrained           untrained

Q1:   Sales 10 = 6 trained (1 leaver) + 4 untrained (2); Service 8 = 5 (0) + 3 (1); Legal 5 = 2 (1)
      + 3 (0); company 23 = 13 trained (2 leavers) + 10 untrained (3).
Q2:   Sales 7 = 6 trained (s1..s5, s8; 0) + 1 untrained (s9, 1); Service 7 = 5 (0) + 2 (0);
      Legal 4 = 1 (0) + 3 (0); company 18 = 12 trained (0) + 6 untrained (1).
"""

from __future__ import annotations

import datetime as dt

import pytest

from kpi.marts import build_quarter
from kpi.privacy_audit import audit
from tests.sql.test_kpi_champions_maturity import empty_warehouse, make_config, rows

D = dt.date
DONE = D(2024, 12, 10)

PEOPLE = [
    # key, department, completed training (or None), exit
    ("s0", "Sales", DONE, D(2025, 2, 15)),
    *[(f"s{i}", "Sales", DONE, None) for i in range(1, 5)],
    ("s5", "Sales", D(2025, 1, 1), None),
    ("s6", "Sales", D(2025, 1, 2), D(2025, 1, 31)),
    ("s7", "Sales", None, D(2025, 3, 31)),
    ("s8", "Sales", D(2025, 2, 1), None),
    ("s9", "Sales", None, D(2025, 6, 30)),
    ("sx", "Sales", DONE, D(2024, 12, 31)),
    *[(f"v{i}", "Service", DONE, None) for i in range(5)],
    ("v5", "Service", None, D(2025, 3, 1)),
    ("v6", "Service", None, None),
    ("v7", "Service", None, None),
    ("l0", "Legal", DONE, D(2025, 2, 1)),
    ("l1", "Legal", DONE, None),
    *[(f"l{i}", "Legal", None, None) for i in range(2, 5)],
]


def add_person(con, key: str, department: str, completed: dt.date | None, exit_date: dt.date | None,
               status: str = "completed") -> None:
    con.execute("INSERT INTO staging.employees VALUES (?, ?, 'user', DATE '2020-01-01', ?, 1.0, 50.0, false)",
                [key, department, exit_date])
    if completed is not None:
        con.execute("INSERT INTO staging.trainings VALUES (?, 'c1', 'basics_workshop', DATE '2024-11-01', ?, ?, 4.0)",
                    [key, completed, status])


def annual(leavers: int, people: int, days: int) -> float:
    return leavers / people * 365 / days


def approx(x):
    return pytest.approx(x, rel=1e-12)


@pytest.fixture(scope="module")
def built():
    con = empty_warehouse()
    for person in PEOPLE:
        add_person(con, *person)
    # s7 dropped a training: not trained
    con.execute("INSERT INTO staging.trainings VALUES ('s7', 'c1', 'basics_workshop', DATE '2024-11-01', NULL,"
                " 'dropped', 4.0)")
    cfg = make_config()
    for quarter in ("2025-Q1", "2025-Q2"):
        build_quarter(con, cfg, quarter)
    yield con
    con.close()


def test_leavers_trained_and_untrained_annualised(built):
    q1 = rows(built, "marts.kpi_retention", "2025-Q1")
    sales = q1["Sales"]
    assert (sales["group_size"], sales["headcount"]) == (10, 10)  # sx left before Q1
    # s5 completed on Q1's first day: trained; s6 the day after: untrained (and left in Q1); s7's
    # training was dropped; s7 left on Q1's last day: a leaver of Q1; s9 leaves in Q2
    assert (sales["trained_headcount"], sales["trained_leavers"]) == (6, 1)
    assert (sales["untrained_headcount"], sales["untrained_leavers"]) == (4, 2)
    assert sales["trained_leaver_rate"] == approx(1 / 6 * 365 / 90)      # 0.6759
    assert sales["untrained_leaver_rate"] == approx(2 / 4 * 365 / 90)    # 2.0278
    company = q1["all"]
    assert (company["headcount"], company["trained_headcount"], company["untrained_headcount"]) == (23, 13, 10)
    assert (company["trained_leavers"], company["untrained_leavers"]) == (2, 3)
    assert company["trained_leaver_rate"] == approx(annual(2, 13, 90))  # 0.6239
    assert company["untrained_leaver_rate"] == approx(annual(3, 10, 90))  # 1.2167
    assert not company["suppressed"] and company["withheld"] is None


def test_annualised_with_the_quarters_days_and_training_fixed_at_its_start(built):
    q2 = rows(built, "marts.kpi_retention", "2025-Q2")
    company = q2["all"]
    # s8 completed in Q1: trained from Q2 on; the Q1 leavers are gone
    assert (company["headcount"], company["trained_headcount"], company["untrained_headcount"]) == (18, 12, 6)
    assert company["trained_leavers"] == 0 and company["trained_leaver_rate"] == 0.0
    assert company["untrained_leavers"] == 1
    assert company["untrained_leaver_rate"] == approx(1 / 6 * 365 / 91)  # 91 days: 0.6685


def test_a_side_of_fewer_than_k_people_is_withheld(built):
    q1 = rows(built, "marts.kpi_retention", "2025-Q1")
    legal = q1["Legal"]
    assert not legal["suppressed"]
    assert (legal["headcount"], legal["trained_headcount"], legal["untrained_headcount"]) == (5, 2, 3)
    # 2 trained people, one of whom left: neither count nor rate is published
    assert legal["trained_leavers"] is None and legal["trained_leaver_rate"] is None
    assert (legal["untrained_leavers"], legal["untrained_leaver_rate"]) == (0, 0.0)


def test_no_side_can_be_recovered_by_subtraction(built):
    """Q1: the company's trained leavers (2) minus the shown departments' would give Legal's two
    trained people (one leaver) back: the trained side of one more department is withheld, the
    smallest: Service (5 trained) before Sales (6). The departments left out then hold 7 trained
    people. The untrained side needs nothing: every department shows it (10 - 4 - 3 - 3 = 0).
    No figure over both sides is published, so a side withheld in a row cannot be had as the
    row's total minus its other side."""
    con = built
    q1 = rows(con, "marts.kpi_retention", "2025-Q1")
    service = q1["Service"]
    assert service["withheld"] == "trained_leavers, trained_leaver_rate"
    assert service["trained_leavers"] is None and service["trained_leaver_rate"] is None
    assert (service["untrained_leavers"], service["untrained_leaver_rate"]) == (1, approx(1 / 3 * 365 / 90))
    assert q1["Sales"]["withheld"] is None
    hidden = [r for r in q1.values() if r["segment_type"] == "department" and r["trained_leavers"] is None]
    assert sum(r["trained_headcount"] for r in hidden) == 7
    # Q2: trained 12 - Sales 6 - Service 5 = Legal's 1 -> Service again; untrained: Sales (1) and
    # Service (2) are under k, Legal (3) shown: 6 - 3 = 3 people left out, enough
    q2 = rows(con, "marts.kpi_retention", "2025-Q2")
    assert q2["Service"]["withheld"] == "trained_leavers, trained_leaver_rate"
    assert q2["Sales"]["untrained_leavers"] is None and q2["Service"]["untrained_leavers"] is None
    assert q2["Legal"]["untrained_leavers"] == 0 and q2["Legal"]["trained_leavers"] is None
    assert "leavers" not in q1["all"] and "leaver_rate" not in q1["all"]  # no total over both sides
    assert audit(con, 3, ["2025-Q1", "2025-Q2"]) == []


def test_a_small_department_is_suppressed_with_the_next_smallest():
    """Audit (2 people) is a small group; the departments left out would hold 2 people, so Legal
    (5, the smallest shown) is withheld as complementary, as in kpi_usage."""
    con = empty_warehouse()
    for person in PEOPLE:
        add_person(con, *person)
    add_person(con, "a0", "Audit", DONE, D(2025, 2, 1))
    add_person(con, "a1", "Audit", None, None)
    build_quarter(con, make_config(), "2025-Q1")
    q1 = rows(con, "marts.kpi_retention", "2025-Q1")
    assert (q1["Audit"]["suppression_reason"], q1["Legal"]["suppression_reason"]) == ("small_group", "complementary")
    for department in ("Audit", "Legal"):
        assert {k: q1[department][k] for k in ("headcount", "trained_headcount", "trained_leavers",
                                               "untrained_leaver_rate")} == dict.fromkeys(
            ("headcount", "trained_headcount", "trained_leavers", "untrained_leaver_rate"))
    assert q1["Audit"]["group_size"] == 2
    # trained: 14 - Sales 6 - Service 5 = 3 left out; untrained: 11 - 4 - 3 = 4: nothing more withheld
    assert q1["Service"]["withheld"] is None
    usage = rows(con, "marts.kpi_usage", "2025-Q1")
    assert {d: usage[d]["suppression_reason"] for d in ("Audit", "Legal", "Sales", "Service")} == {
        d: q1[d]["suppression_reason"] for d in ("Audit", "Legal", "Sales", "Service")}
    assert audit(con, 3, ["2025-Q1"]) == []
