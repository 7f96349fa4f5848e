"""marts.kpi_champions and marts.kpi_maturity on hand-made companies (docs/metrics.md §6, §7).

k = privacy.min_group_size = 3 throughout; Q1 2025 = Jan 1 .. Mar 31, Q2 2025 = Apr 1 .. Jun 30.

Champions (default band 15..20 employees per champion), one quarter, every department with one
champion unless said otherwise:

    department  people  champions  per champion  status
    A             15        1          15        within        (exactly band_low)
    B             20        1          20        within        (exactly band_high)
    C             21        1          21        under_served  (just above band_high)
    D             14        1          14        over_served   (just below band_low)
    E              5        0          NULL      under_served  (no champion: listed, count 0)
    F              2        0          -         suppressed (small_group), no status
    G              1        0          -         suppressed (small_group), no status
    company       78        4          19.5      within

Maturity (usage.regular_min_active_weeks = 2: one active day makes an active user, days in two
weeks a regular user), departments of 10 people:

    dept  trained  active  regular  champions  production  proficient  innovation  level (Q1)
    (innovation: a department without a culture row of its own reads the company's, 60 %)
    N     1 (10 %) 1 (10 %)    0        0          0           -           -        1 (active 10 % < 20 %)
    X     1 (10 %) 2 (20 %)    0        0          0           -           -        2 (both exactly at 2's thresholds)
    U     6 (60 %) 5 (50 %) 5 (50 %)    1          1           -           -        3 (exactly at 3's thresholds)
    K     6 (60 %) 8 (80 %) 8 (80 %)    1          5         7/10       3/5 = 60 %   4 (exactly at 4's thresholds)
    S, T  2 and 1 people: suppressed in kpi_usage -> suppressed, no level

In Q2 K's regular users drop to 7 (70 %) and there is no survey: K drops back to level 3.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from kpi.config import default_config
from kpi.marts import build_quarter, ensure_inputs
from kpi.privacy_audit import audit

D = dt.date
START = D(2025, 1, 1)
WEEK1 = D(2025, 1, 6)   # Monday
WEEK2 = D(2025, 1, 13)  # Monday, another week
Q2_WEEK1 = D(2025, 4, 7)
Q2_WEEK2 = D(2025, 4, 14)


def make_config(**sections):
    base = {"privacy": {"min_group_size": 3}, "usage": {"regular_min_active_weeks": 2}}
    base.update(sections)
    return default_config(START, **base)


def empty_warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_inputs(con)  # the staging tables and the matched usage, as the catalogue declares them
    return con


def add_people(con, department: str, people: int, champions: int = 0) -> list[str]:
    keys = [f"{department}{i}" for i in range(people)]
    con.executemany(
        "INSERT INTO staging.employees VALUES (?, ?, ?, DATE '2020-01-01', NULL, 1.0, 50.0, false)",
        [[key, department, "champion" if i < champions else "user"] for i, key in enumerate(keys)],
    )
    return keys


def use(con, keys: list[str], *days: dt.date) -> None:
    con.executemany("INSERT INTO intermediate.usage_activity VALUES (?, ?, 'chatgpt', 'chat', 1, 0, 0)",
                    [[key, day] for key in keys for day in days])


def train(con, keys: list[str]) -> None:
    con.executemany("INSERT INTO staging.trainings VALUES (?, 'c1', 'workshop', DATE '2024-12-01',"
                    " DATE '2024-12-10', 'completed', 4.0)", [[key] for key in keys])


def use_case(con, case_id: str, department: str, status: str, self_developed: bool = True,
             submitted: dt.date = D(2025, 2, 1)) -> None:
    con.execute("INSERT INTO staging.use_cases VALUES (?, 'title', ?, ?, ?, ?, NULL)",
                [case_id, department, submitted, status, self_developed])


def rows(con, table: str, quarter: str) -> dict[str, dict]:
    relation = con.sql(f"SELECT * FROM {table} WHERE quarter = $q", params={"q": quarter})
    return {r[2]: dict(zip(relation.columns, r)) for r in relation.fetchall()}


# ---------------------------------------------------------------------------------------------
# champions
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def champions():
    con = empty_warehouse()
    for department, people, count in [("A", 15, 1), ("B", 20, 1), ("C", 21, 1), ("D", 14, 1),
                                      ("E", 5, 0), ("F", 2, 0), ("G", 1, 0)]:
        add_people(con, department, people, count)
    build_quarter(con, make_config(), "2025-Q1")
    yield rows(con, "marts.kpi_champions", "2025-Q1"), con
    con.close()


@pytest.mark.parametrize(("department", "per_champion", "status"), [
    ("A", 15.0, "within"),         # exactly band_low: within
    ("B", 20.0, "within"),         # exactly band_high: within
    ("C", 21.0, "under_served"),
    ("D", 14.0, "over_served"),
    ("all", 19.5, "within"),       # 78 people, 4 champions
])
def test_champion_status_at_the_band_edges(champions, department, per_champion, status):
    row = champions[0][department]
    assert row["employees_per_champion"] == per_champion
    assert row["status"] == status
    assert (row["band_low"], row["band_high"]) == (15.0, 20.0)
    assert not row["suppressed"]


def test_a_department_without_champion_is_listed_under_served(champions):
    row = champions[0]["E"]
    assert (row["headcount"], row["champions"], row["employees_per_champion"]) == (5, 0, None)
    assert row["status"] == "under_served"


def test_small_departments_get_no_champion_figures_or_status(champions):
    for department in ("F", "G"):
        row = champions[0][department]
        assert row["suppressed"] and row["suppression_reason"] == "small_group"
        assert (row["headcount"], row["champions"], row["employees_per_champion"], row["status"]) == (
            None, None, None, None)
    assert audit(champions[1], 3, ["2025-Q1"]) == []


def test_reach_compares_published_departments_with_and_without_a_champion():
    """k = 3, regular = active in 2 weeks. A (6, one champion): 4 regular; B (4, one champion): 1;
    C (5, none): 1; D (2, none): 2. D is a small group; 17 - 15 = 2 people would be left out, so B
    (the smallest shown) is withheld as complementary. Only A and C are published: with a
    champion 4 / 6, without 1 / 5; D's and B's people count on neither side."""
    con = empty_warehouse()
    a, b, c, d = (add_people(con, dep, n, ch) for dep, n, ch in [("A", 6, 1), ("B", 4, 1), ("C", 5, 0), ("D", 2, 0)])
    use(con, a[:4] + b[:1] + c[:1] + d, WEEK1, WEEK2)
    use(con, a[4:5], WEEK1)  # active in one week only: not regular
    build_quarter(con, make_config(), "2025-Q1")
    usage = rows(con, "marts.kpi_usage", "2025-Q1")
    assert [usage[x]["suppression_reason"] for x in "ABCD"] == [None, "complementary", None, "small_group"]
    got = rows(con, "marts.kpi_champions", "2025-Q1")
    company = got["all"]
    assert company["people_with_champion"] == 6
    assert company["regular_user_rate_with_champion"] == pytest.approx(4 / 6)
    assert company["people_without_champion"] == 5
    assert company["regular_user_rate_without_champion"] == pytest.approx(1 / 5)
    for department in "ABCD":
        assert got[department]["people_with_champion"] is None
        assert got[department]["regular_user_rate_without_champion"] is None
    assert audit(con, 3, ["2025-Q1"]) == []
    con.close()


def test_reach_counts_published_departments_without_usage_and_an_empty_side_is_null(champions):
    """The champions fixture has no usage: each published department counts with 0 regular users;
    E is the only published one without a champion (F and G are small groups). With every
    department having a champion the 'without' side is empty: NULL, not 0."""
    company = champions[0]["all"]
    assert company["people_with_champion"] == 15 + 20 + 21 + 14
    assert company["regular_user_rate_with_champion"] == 0.0
    assert (company["people_without_champion"], company["regular_user_rate_without_champion"]) == (5, 0.0)
    con = empty_warehouse()
    add_people(con, "A", 6, 1)
    add_people(con, "B", 5, 1)
    build_quarter(con, make_config(), "2025-Q1")
    company = rows(con, "marts.kpi_champions", "2025-Q1")["all"]
    assert company["people_with_champion"] == 11
    assert (company["people_without_champion"], company["regular_user_rate_without_champion"]) == (None, None)
    con.close()


def test_the_band_comes_from_the_config():
    con = empty_warehouse()
    add_people(con, "A", 15, 1)
    build_quarter(con, make_config(champions={"band_low": 16, "band_high": 30}), "2025-Q1")
    row = rows(con, "marts.kpi_champions", "2025-Q1")["A"]
    assert (row["band_low"], row["band_high"], row["status"]) == (16.0, 30.0, "over_served")


# ---------------------------------------------------------------------------------------------
# maturity
# ---------------------------------------------------------------------------------------------


def make_maturity_warehouse() -> duckdb.DuckDBPyConnection:
    con = empty_warehouse()
    n = add_people(con, "N", 10)
    x = add_people(con, "X", 10)
    u = add_people(con, "U", 10, champions=1)
    k = add_people(con, "K", 10, champions=1)
    add_people(con, "S", 2)
    add_people(con, "T", 1)
    # N: 10 % trained, 10 % active
    train(con, n[:1])
    use(con, n[:1], WEEK1)
    # X: 10 % trained, 20 % active (one week each: not regular)
    train(con, x[:1])
    use(con, x[:2], WEEK1)
    use_case(con, "x-bought", "X", "production", self_developed=False)  # not self-developed
    use_case(con, "x-pilot", "X", "pilot")                               # not in production
    # U: 60 % trained, 50 % regular, 1 champion, 1 self-developed use case in production
    train(con, u[:6])
    use(con, u[:5], WEEK1, WEEK2)
    use_case(con, "u1", "U", "production")
    # K: 60 % trained, 80 % regular (70 % in Q2), proficient 7 of 10, innovation 3/5, 5 in production
    train(con, k[:6])
    use(con, k[:8], WEEK1, WEEK2)
    use(con, k[:7], Q2_WEEK1, Q2_WEEK2)
    use(con, u[:5] + x[:2], Q2_WEEK1)  # Q2: U and X active but no longer regular
    con.executemany("INSERT INTO staging.assessments VALUES (?, DATE '2025-02-01', 'ai_literacy', ?, 100)",
                    [[key, 70 if i < 7 else 69] for i, key in enumerate(k)])  # 70 exactly is proficient
    for i in range(5):
        use_case(con, f"k{i}", "K", "production")
    use_case(con, "n-late", "N", "production", submitted=D(2025, 4, 2))  # Q2: not in Q1
    con.executemany("INSERT INTO staging.survey_responses VALUES ('pulse.csv', ?, TIMESTAMP '2025-03-10 09:00',"
                    " 'K', 'user', NULL)", [[f"r{i}"] for i in range(5)])
    con.executemany("INSERT INTO staging.survey_answers VALUES ('pulse.csv', ?, 'We try new ideas',"
                    " 'innovation', false, ?, ?)", [[f"r{i}", p, p] for i, p in enumerate([4, 5, 4, 3, 2])])
    # the programme's ROI to date: costs and no measured benefit, so exactly -100 % in Q1 and Q2
    con.execute("INSERT INTO staging.costs VALUES (DATE '2025-02-03', 'external_training', 1000.0, 'course', NULL)")
    return con


#: level 4's ROI criterion at -100 %: exactly met by the fixture's ROI to date (costs, no benefit)
ROI_AT_MINUS_100 = {"level4_roi_pct": -100}


@pytest.fixture(scope="module")
def maturity():
    con = make_maturity_warehouse()
    cfg = make_config(maturity=ROI_AT_MINUS_100)
    for quarter in ("2025-Q1", "2025-Q2"):
        build_quarter(con, cfg, quarter)
    yield con
    con.close()


@pytest.mark.parametrize(("department", "level", "name"), [
    ("N", 1, "AI novice"),
    ("X", 2, "AI experimenter"),
    ("U", 3, "AI user"),
    ("K", 4, "AI champion"),
])
def test_each_level_exactly_at_its_thresholds(maturity, department, level, name):
    row = rows(maturity, "marts.kpi_maturity", "2025-Q1")[department]
    assert (row["level"], row["level_name"], row["suppressed"]) == (level, name, False)


def test_next_level_gaps_name_value_and_threshold(maturity):
    q1 = rows(maturity, "marts.kpi_maturity", "2025-Q1")
    assert q1["N"]["next_level_gaps"] == "active_user_rate 10.0 % < 20 %"
    # departments without an innovation row of their own read the company's (K's 60 %)
    assert q1["N"]["criteria_met"] == (
        "trained_share 10.0 % ≥ 10 %; innovation_favorability 60.0 % ≥ 60 %; roi_to_date -100.0 % ≥ -100 %")
    # X: the bought use case and the pilot do not count
    assert q1["X"]["next_level_gaps"] == (
        "regular_user_rate 0.0 % < 50 %; trained_share 10.0 % < 60 %; champions 0 < 1; production_use_cases 0 < 1")
    assert q1["U"]["next_level_gaps"] == (
        "regular_user_rate 50.0 % < 80 %; proficient_rate not published < 70 %; production_use_cases 1 < 5")
    assert q1["U"]["criteria_met"] == (
        "trained_share 60.0 % ≥ 10 %; active_user_rate 50.0 % ≥ 20 %; regular_user_rate 50.0 % ≥ 50 %; "
        "trained_share 60.0 % ≥ 60 %; champions 1 ≥ 1; production_use_cases 1 ≥ 1; "
        "innovation_favorability 60.0 % ≥ 60 %; roi_to_date -100.0 % ≥ -100 %")
    assert q1["K"]["next_level_gaps"] is None
    assert "proficient_rate 70.0 % ≥ 70 %" in q1["K"]["criteria_met"]
    assert "innovation_favorability 60.0 % ≥ 60 %" in q1["K"]["criteria_met"]
    assert "production_use_cases 5 ≥ 5" in q1["K"]["criteria_met"]
    assert q1["K"]["criteria_met"].endswith("; roi_to_date -100.0 % ≥ -100 %")


def test_level_4_needs_the_programmes_roi_to_date():
    """With the default threshold (0 %: break-even reached) K, which meets every other level-4
    criterion, stays at level 3; without any cost (the ledger empty, training time not counted)
    the ROI is not defined and does not hold."""
    con = make_maturity_warehouse()
    build_quarter(con, make_config(), "2025-Q1")
    k = rows(con, "marts.kpi_maturity", "2025-Q1")["K"]
    assert (k["level"], k["next_level_gaps"]) == (3, "roi_to_date -100.0 % < 0 %")
    con.execute("DELETE FROM staging.costs")
    build_quarter(con, make_config(maturity=ROI_AT_MINUS_100, benefits={"include_training_time": False}), "2025-Q1")
    k = rows(con, "marts.kpi_maturity", "2025-Q1")["K"]
    assert (k["level"], k["next_level_gaps"]) == (3, "roi_to_date not published < -100 %")
    con.close()


def test_a_department_drops_back_a_level_the_next_quarter(maturity):
    q2 = rows(maturity, "marts.kpi_maturity", "2025-Q2")
    assert (q2["K"]["level"], q2["K"]["level_name"]) == (3, "AI user")
    assert q2["K"]["next_level_gaps"] == (
        "regular_user_rate 70.0 % < 80 %; proficient_rate not published < 70 %; "
        "innovation_favorability not published < 60 %")  # no assessment and no survey in Q2
    assert q2["U"]["level"] == 2  # no longer regular users
    assert q2["N"]["level"] == 1  # its use case submitted in Q2 counts from Q2 on, but nobody is active


def test_small_departments_are_suppressed_with_no_level(maturity):
    for quarter in ("2025-Q1", "2025-Q2"):
        table = rows(maturity, "marts.kpi_maturity", quarter)
        usage = rows(maturity, "marts.kpi_usage", quarter)
        for department in ("S", "T"):
            row = table[department]
            assert row["suppressed"] and row["suppression_reason"] == "small_group"
            assert usage[department]["suppressed"]
            assert (row["level"], row["level_name"], row["criteria_met"], row["next_level_gaps"]) == (
                None, None, None, None)
    assert audit(maturity, 3, ["2025-Q1", "2025-Q2"]) == []


def test_thresholds_come_from_the_config():
    con = make_maturity_warehouse()
    build_quarter(con, make_config(maturity={"level2_active_user_rate": 0.1, **ROI_AT_MINUS_100}), "2025-Q1")
    row = rows(con, "marts.kpi_maturity", "2025-Q1")["N"]
    assert row["level"] == 2
    assert "active_user_rate 10.0 % ≥ 10 %" in row["criteria_met"]
