"""marts.rollout_milestones on hand-made companies (docs/metrics.md §8).

k = privacy.min_group_size = 3; program.start = 2025-01-01, so day 30 = Jan 30, day 60 = Mar 1,
day 90 = Mar 31; the data's last day is Apr 15 (a usage day) unless said otherwise.

    milestone (default config)                     data                                        status
    executives and managers briefed (1.0, d30)     1 executive + 3 managers briefed, the last   reached late (Jan 31),
                                                   on Jan 31                                    actual 0.75 by Jan 30
    champions through train-the-trainer (1.0)      3 champions, last done Jan 20                reached Jan 20
    pilot group active (10 people, d30)            9 users first use on Jan 6, the 10th on reached Jan 30 (on day)
                                                   Jan 30; usage before the start counts not
    users through the basics training (0.8, d60)   8 of 10 users, the 8th on Mar 1      reached Mar 1 (on day)
    first self-developed use case (1, d60)         production self-developed Feb 15 (an        reached Feb 15
                                                   earlier pilot, a bought one count not)
    advanced training for key users (0.8, d90)     2 of 3 champions (a hackathon counts not)     missed, actual 2/3
    first ROI analysis (3 months, d90)             data until Apr 15                            reached Mar 31
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from kpi.config import default_config, parse_config
from kpi.errors import ConfigError
from kpi.marts import ensure_inputs
from kpi.rollout import build_rollout

D = dt.date
START = D(2025, 1, 1)


def make_config(**sections):
    base = {"privacy": {"min_group_size": 3}}
    base.update(sections)
    return default_config(START, **base)


def empty_warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_inputs(con)  # the staging tables and the matched usage, as the catalogue declares them
    return con


def add_people(con, group: str, people: int) -> list[str]:
    keys = [f"{group}{i}" for i in range(people)]
    con.executemany("INSERT INTO staging.employees VALUES (?, 'D', ?, DATE '2020-01-01', NULL, 1.0, 50.0, false)",
                    [[key, group] for key in keys])
    return keys


def train(con, keys: list[str], fmt: str, done: dt.date, status: str = "completed") -> None:
    if keys:
        con.executemany("INSERT INTO staging.trainings VALUES (?, ?, ?, ?, ?, ?, 2.0)",
                        [[key, f"c-{fmt}", fmt, done, done if status == "completed" else None, status]
                         for key in keys])


def use(con, keys: list[str], day: dt.date) -> None:
    con.executemany("INSERT INTO intermediate.usage_activity VALUES (?, ?, 'chatgpt', 'chat', 1, 0, 0)",
                    [[key, day] for key in keys])


def use_case(con, case_id: str, submitted: dt.date, status: str, self_developed: bool = True) -> None:
    con.execute("INSERT INTO staging.use_cases VALUES (?, 'title', 'D', ?, ?, ?, NULL)",
                [case_id, submitted, status, self_developed])


def milestones(con, cfg) -> dict[str, dict]:
    build_rollout(con, cfg)
    relation = con.sql("SELECT * FROM marts.rollout_milestones ORDER BY sort_order")
    return {r[relation.columns.index("milestone")]: dict(zip(relation.columns, r)) for r in relation.fetchall()}


def company(champions: int = 3) -> duckdb.DuckDBPyConnection:
    con = empty_warehouse()
    executives = add_people(con, "executive", 1)
    managers = add_people(con, "manager", 3)
    champs = add_people(con, "champion", champions)
    users = add_people(con, "user", 10)
    train(con, [*executives, *managers[:2]], "executive_briefing", D(2025, 1, 15))
    train(con, managers[2:], "executive_briefing", D(2025, 1, 31))          # one day late
    train(con, champs, "train_the_trainer", D(2025, 1, 20))
    train(con, users[:7], "basics_workshop", D(2025, 2, 10))
    train(con, users[7:8], "basics_workshop", D(2025, 3, 1))                 # exactly on day 60
    train(con, users[8:9], "basics_workshop", D(2025, 2, 1), status="dropped")
    train(con, champs[:1], "prompt_masterclass", D(2025, 3, 5))
    train(con, champs[1:2], "usecase_workshop", D(2025, 3, 20))
    train(con, champs[2:], "hackathon", D(2025, 3, 10))                      # not an advanced format
    use(con, executives, D(2024, 12, 20))                                    # before the start
    use(con, users[:9], D(2025, 1, 6))
    use(con, users[:9], D(2025, 1, 7))
    use(con, users[9:], D(2025, 1, 30))                                      # the 10th on day 30
    use(con, users[:1], D(2025, 4, 15))                                      # the data's last day
    use_case(con, "u1", D(2025, 1, 10), "pilot")
    use_case(con, "u2", D(2025, 1, 5), "production", self_developed=False)
    use_case(con, "u3", D(2025, 2, 15), "production")
    return con


@pytest.fixture(scope="module")
def rows():
    con = company()
    yield milestones(con, make_config())
    con.close()


def test_phases_and_due_dates(rows):
    assert [(r["phase"], r["due_day"], r["due_date"]) for r in rows.values()] == [
        ("Foundation", 30, D(2025, 1, 30)), ("Foundation", 30, D(2025, 1, 30)), ("Foundation", 30, D(2025, 1, 30)),
        ("Activation", 60, D(2025, 3, 1)), ("Activation", 60, D(2025, 3, 1)),
        ("Scaling", 90, D(2025, 3, 31)), ("Scaling", 90, D(2025, 3, 31)),
    ]


@pytest.mark.parametrize(("milestone", "actual", "reached_on", "days_late", "status"), [
    ("executives and managers briefed", 0.75, D(2025, 1, 31), 1, "missed"),       # met one day late
    ("champions through train-the-trainer", 1.0, D(2025, 1, 20), None, "reached"),
    ("pilot group active", 10.0, D(2025, 1, 30), None, "reached"),                # exactly on the due day
    ("users through the basics training", 0.8, D(2025, 3, 1), None, "reached"),   # exactly 80 % on the due day
    ("first self-developed use case in production", 1.0, D(2025, 2, 15), None, "reached"),
    ("advanced training for key users", 2 / 3, None, 15, "missed"),               # not met by the last day, Apr 15
    ("first ROI analysis", 3.0, D(2025, 3, 31), None, "reached"),
])
def test_each_default_milestone(rows, milestone, actual, reached_on, days_late, status):
    row = rows[milestone]
    assert row["actual"] == pytest.approx(actual)
    assert (row["reached_on"], row["days_late"], row["status"]) == (reached_on, days_late, status)


def test_share_group_sizes(rows):
    assert rows["executives and managers briefed"]["group_size"] == 4
    assert rows["users through the basics training"]["group_size"] == 10
    assert rows["first ROI analysis"]["group_size"] is None


def test_a_share_over_fewer_than_k_people_is_withheld():
    con = company(champions=2)
    rows = milestones(con, make_config())
    for name in ("champions through train-the-trainer", "advanced training for key users"):
        row = rows[name]
        assert (row["actual"], row["reached_on"], row["days_late"], row["status"]) == (None, None, None, "withheld")
    assert rows["users through the basics training"]["status"] == "reached"
    # with k = 2 the two champions are published
    rows = milestones(con, make_config(privacy={"min_group_size": 2}))
    assert rows["champions through train-the-trainer"]["status"] == "reached"


def test_pending_before_the_due_date():
    con = empty_warehouse()
    users = add_people(con, "user", 5)
    use(con, users[:3], D(2025, 1, 5))  # the data's last day: Jan 5, before every due date
    rows = milestones(con, make_config())
    assert rows["pilot group active"]["actual"] == 3.0
    for name in ("pilot group active", "first self-developed use case in production", "first ROI analysis",
                 "users through the basics training"):
        assert (rows[name]["status"], rows[name]["reached_on"], rows[name]["days_late"]) == ("pending", None, None)
    assert rows["first ROI analysis"]["actual"] == 0.0
    # nobody in the group (no executive or manager): nothing is published
    assert rows["executives and managers briefed"]["status"] == "withheld"


def test_the_milestones_come_from_the_config():
    con = company()
    cfg = make_config(rollout=[
        {"name": "pilot of 11", "phase": "Foundation", "due_day": 30, "kind": "active_users", "target": 11},
        {"name": "half the users trained", "phase": "Activation", "due_day": 45, "kind": "share_trained",
         "target": 0.5, "groups": ["user"], "formats": ["basics_workshop", "elearning"]},
    ])
    rows = milestones(con, cfg)
    assert list(rows) == ["pilot of 11", "half the users trained"]
    assert (rows["pilot of 11"]["actual"], rows["pilot of 11"]["status"]) == (10.0, "missed")
    assert (rows["half the users trained"]["due_date"], rows["half the users trained"]["reached_on"],
            rows["half the users trained"]["status"]) == (D(2025, 2, 14), D(2025, 2, 10), "reached")


@pytest.mark.parametrize(("milestone", "message"), [
    ({"due_day": 31}, "rollout[0].due_day = 31 is not allowed: phase Foundation runs from day 1 to day 30"),
    ({"due_day": 91, "phase": "Scaling"},
     "rollout[0].due_day = 91 is not allowed: must be a whole number of days from 1 to 90"),
    ({"kind": "share_trained", "target": 0.5}, "a share_trained milestone names its groups and formats"),
    ({"kind": "share_trained", "target": 1.5, "groups": ["user"], "formats": ["elearning"]},
     "rollout[0].target = 1.5 is not allowed: the target of a share_trained milestone is a share from 0 to 1"),
])
def test_a_wrong_milestone_is_one_line(milestone, message):
    item = {"name": "m", "phase": "Foundation", "due_day": 30, "kind": "active_users", "target": 1, **milestone}
    with pytest.raises(ConfigError) as exc:
        parse_config({"program": {"start": "2025-01-01"}, "rollout": [item]}, "config.yaml")
    assert message in str(exc.value)
