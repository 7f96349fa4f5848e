"""marts.kpi_targets on a hand-made company (docs/metrics.md §9).

k = 3, usage.regular_min_active_weeks = 2, Q1 2025. Department A: 10 people, 8 active (one week),
5 of them regular (two weeks), 5 trained; department S: 2 people, suppressed, and B: 5 people
without usage, withheld beside it. Company: 17 people, active 8/17, regular 5/17.

    target (config)                                  actual  status
    active_user_rate department/A 0.80 by 2025-Q1    0.80    green (exactly at the target)
    regular_user_rate department/A 0.55 by 2025-Q2   0.50    amber (0.50 >= 0.55 x 0.9)
    trained_share department/A 0.60 by 2025-Q4       0.50    red   (0.50 < 0.60 x 0.9 = 0.54)
    active_user_rate department/S 0.50 by 2025-Q4    -       no status (S is suppressed)
    regular_user_rate company/all 0.30 by 2024-Q4    -       not listed (its quarter has passed)
"""

from __future__ import annotations

import datetime as dt

import pytest

from kpi.benchmarks import QUARTER_BENCHMARKS
from kpi.errors import ConfigError
from kpi.marts import build_quarter
from tests.sql.test_kpi_champions_maturity import WEEK1, WEEK2, add_people, empty_warehouse, make_config, train, use

TARGETS = [
    {"metric": "active_user_rate", "segment": "department/A", "value": 0.8, "by": "2025-Q1", "owner": "L&D"},
    {"metric": "regular_user_rate", "segment": "department/A", "value": 0.55, "by": "2025-Q2"},
    {"metric": "trained_share", "segment": "department/A", "value": 0.6, "by": "2025-Q4"},
    {"metric": "active_user_rate", "segment": "department/S", "value": 0.5, "by": "2025-Q4"},
    {"metric": "regular_user_rate", "value": 0.3, "by": "2024-Q4"},
]


def build(**sections):
    con = empty_warehouse()
    a = add_people(con, "A", 10)
    add_people(con, "S", 2)
    add_people(con, "B", 5)  # withheld beside S (complementary suppression), so that A stays shown
    use(con, a[:8], WEEK1)
    use(con, a[:5], WEEK2)
    train(con, a[:5])
    build_quarter(con, make_config(targets=TARGETS, **sections), "2025-Q1")
    relation = con.sql("SELECT * FROM marts.kpi_targets WHERE quarter = '2025-Q1'")
    out = {}
    for row in relation.fetchall():
        r = dict(zip(relation.columns, row))
        out[(r["metric_name"], r["segment"], r["source"])] = r
    return out


@pytest.fixture(scope="module")
def rows():
    return build()


@pytest.mark.parametrize(("metric", "segment", "actual", "status"), [
    ("active_user_rate", "A", 0.8, "green"),
    ("regular_user_rate", "A", 0.5, "amber"),
    ("trained_share", "A", 0.5, "red"),
    ("active_user_rate", "S", None, None),
])
def test_target_status(rows, metric, segment, actual, status):
    row = rows[(metric, segment, "target")]
    assert row["actual"] == (pytest.approx(actual) if actual is not None else None)
    assert row["status"] == status


def test_target_columns_and_quarters(rows):
    row = rows[("active_user_rate", "A", "target")]
    assert (row["segment_type"], row["target"], row["due_quarter"], row["owner"]) == ("department", 0.8, "2025-Q1",
                                                                                      "L&D")
    assert ("regular_user_rate", "all", "target") not in rows  # due 2024-Q4: not listed in 2025-Q1
    assert len([k for k in rows if k[2] == "target"]) == 4


def test_benchmarks_are_rows_of_their_own(rows):
    """Programme start 2025-01-01: the regular-use benchmark (six months after the start) is
    listed from 2025-Q2 on, not in 2025-Q1."""
    bench = {(k[0], v["target"]): v for k, v in rows.items() if k[2] != "target"}
    assert len(QUARTER_BENCHMARKS) == 3 and len(bench) == 2
    assert bench[("active_user_rate", 0.84)]["actual"] == pytest.approx(8 / 17)
    assert bench[("active_user_rate", 0.84)]["status"] == "red"      # 0.47 < 0.84 x 0.9
    assert bench[("active_user_rate", 0.37)]["status"] == "green"
    assert bench[("active_user_rate", 0.37)]["source"] == (
        "Bain & Company (2024) in the Brixon AI article: industry average adoption")
    assert all(v["due_quarter"] is None for v in bench.values())


@pytest.mark.parametrize(("start", "listed"), [
    ("2024-08-01", True),    # month 6 = January 2025: listed in 2025-Q1
    ("2024-10-01", True),    # month 6 = March 2025, the quarter's last month
    ("2024-11-01", False),   # month 6 = April 2025: from 2025-Q2 on
])
def test_the_regular_use_benchmark_is_listed_from_the_sixth_programme_month(start, listed):
    rows = build(program={"start": start})
    row = next((v for k, v in rows.items() if k[0] == "regular_user_rate" and k[2] != "target"), None)
    assert (row is not None) == listed
    if listed:
        assert (row["target"], row["actual"], row["status"]) == (0.8, pytest.approx(5 / 17), "red")
        assert row["source"].startswith("Brixon AI article, case of a 180-employee manufacturer")


def test_the_amber_band_comes_from_the_config():
    rows = build(alerts={"target_amber_band": 0.2})
    assert rows[("trained_share", "A", "target")]["status"] == "amber"  # 0.5 >= 0.6 x 0.8


@pytest.mark.parametrize(("targets", "message"), [
    ([{"metric": "active_users_rate", "value": 1, "by": "2025-Q1"}],
     "targets[0].metric = 'active_users_rate' is not allowed: must be a figure of kpi_usage, kpi_competence or "
     "kpi_culture (did you mean active_user_rate?)"),
    ([{"metric": "active_user_rate", "value": 1, "by": "2025-5"}],
     "targets[0].by = '2025-5' is not allowed: must be a quarter such as 2025-Q4"),
    ([{"metric": "active_user_rate", "value": 0.5, "by": "2025-Q1"},
      {"metric": "active_user_rate", "value": 0.6, "by": "2025-Q2"}],
     "two targets name active_user_rate of company/all; keep one"),
])
def test_a_wrong_target_is_one_line(targets, message):
    from kpi.config import parse_config

    with pytest.raises(ConfigError) as exc:
        parse_config({"program": {"start": dt.date(2025, 1, 1).isoformat()}, "targets": targets}, "config.yaml")
    assert message in str(exc.value)
