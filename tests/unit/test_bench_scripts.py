"""The benchmark's floor (DuckDB) and plain-pandas scripts compute the same figures, and the
right ones: on a hand-made inputs folder whose answer is worked out below, and on a tiny generated
company against an independent recount with the standard library. No timings are asserted."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kpi.paths import REPO_ROOT


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO_ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


floor_duckdb = _load("floor_duckdb")
plain_pandas = _load("plain_pandas")


def _as_map(rows: list[dict]) -> dict[tuple[str, str], tuple[int, int]]:
    return {(r["quarter"], r["department"]): (r["active_users"], r["interactions"]) for r in rows}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def hand_made(tmp_path: Path) -> Path:
    _write(tmp_path / "hr" / "employees.csv", (
        "employee_id,email,github_login,department,target_group,hire_date,exit_date,fte,hourly_cost_eur\n"
        "E1,anna@x.example,anna-gh,Sales,user,2020-01-01,,1.0,50\n"
        "E2,bob@x.example,,Sales,user,2020-01-01,2025-02-15,1.0,50\n"
        "E3,carl@x.example,,Finance,user,2025-02-01,,1.0,50\n"))
    _write(tmp_path / "usage" / "gateway" / "gateway-2025-01.csv", (
        "event_time,user,tool,action,interactions,successes,failures\n"
        "2025-01-10,anna@x.example,chat-gateway,chat,3,3,0\n"         # E1 by e-mail
        "2025-01-10,E2,chat-gateway,chat,2,2,0\n"                     # E2 by employee id
        "2025-01-20,e1,chat-gateway,draft,1,1,0\n"                    # E1, id in lower case
        "2025-01-20,stranger@y.example,chat-gateway,chat,9,9,0\n"     # unknown: not counted
        "2025-01-25,carl@x.example,chat-gateway,chat,4,4,0\n"))       # before E3's hire: not counted
    _write(tmp_path / "usage" / "gateway" / "gateway-2025-02.csv", (
        "event_time,user,tool,action,interactions,successes,failures\n"
        "2025-02-20,BOB@x.example,chat-gateway,chat,5,5,0\n"          # after E2's exit: not counted
        "2025-02-20, Carl@X.example ,chat-gateway,chat,0,0,0\n"))     # E3, 0 interactions: not active
    _write(tmp_path / "usage" / "gateway" / "gateway-events-2025-03.jsonl", (
        # 23:30 UTC on 31 March is 01:30 on 1 April in Berlin (summer time): 2025-Q2
        '{"event_time": "2025-03-31T23:30:00+00:00", "user": "carl@x.example", "tool": "claude", '
        '"action": "chat", "outcome": "success"}\n'
        # E1 by GitHub login, 20:00 Berlin on 31 March: 2025-Q1
        '{"event_time": "2025-03-31T20:00:00+02:00", "user": "anna-gh", "tool": "claude", '
        '"action": "chat", "outcome": "failure"}\n'))
    return tmp_path


# Worked out by hand from the rows above.
HAND_MADE_EXPECTED = {
    ("2025-Q1", "Sales"): (2, 3 + 2 + 1 + 1),  # E1 and E2 active
    ("2025-Q1", "Finance"): (0, 0),            # E3's only counted row has 0 interactions
    ("2025-Q2", "Finance"): (1, 1),            # E3's event after midnight in Berlin
}


def test_floor_and_pandas_give_the_hand_worked_figures(hand_made: Path):
    assert _as_map(floor_duckdb.floor(hand_made)) == HAND_MADE_EXPECTED
    assert _as_map(plain_pandas.plain_pandas(hand_made)) == HAND_MADE_EXPECTED


def test_floor_script_writes_json(hand_made: Path, tmp_path: Path):
    out = tmp_path / "floor.json"
    subprocess.run([sys.executable, str(REPO_ROOT / "bench" / "floor_duckdb.py"), str(hand_made), "--json", str(out)],
                   check=True)
    assert _as_map(json.loads(out.read_text())) == HAND_MADE_EXPECTED


def _recount(inputs: Path, tz: str = "Europe/Berlin") -> dict[tuple[str, str], tuple[int, int]]:
    """The same figures with the standard library only (csv, json, zoneinfo)."""
    from zoneinfo import ZoneInfo

    employees, identity = {}, {}
    with open(inputs / "hr" / "employees.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            employees[row["employee_id"]] = row
            for column in ("employee_id", "email", "github_login"):
                value = (row[column] or "").strip().casefold()
                if value:
                    identity.setdefault(value, row["employee_id"])
    usage = []
    for path in sorted((inputs / "usage" / "gateway").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            usage += [(dt.date.fromisoformat(r["event_time"][:10]), r["user"], int(r["interactions"]))
                      for r in csv.DictReader(f)]
    for path in sorted((inputs / "usage" / "gateway").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            day = dt.datetime.fromisoformat(event["event_time"]).astimezone(ZoneInfo(tz)).date()
            usage.append((day, event["user"], 1))
    active: dict[tuple[str, str], set] = {}
    interactions: dict[tuple[str, str], int] = {}
    for day, user, n in usage:
        employee_id = identity.get(user.strip().casefold())
        if employee_id is None:
            continue
        e = employees[employee_id]
        if day < dt.date.fromisoformat(e["hire_date"]) or (
            e["exit_date"] and day > dt.date.fromisoformat(e["exit_date"])
        ):
            continue
        key = (f"{day.year}-Q{(day.month - 1) // 3 + 1}", e["department"])
        interactions[key] = interactions.get(key, 0) + n
        active.setdefault(key, set())
        if n > 0:
            active[key].add(employee_id)
    return {k: (len(active[k]), interactions[k]) for k in interactions}


def test_floor_and_pandas_agree_on_a_tiny_generated_company(tmp_path: Path):
    from kpi.synthetic.generator import generate_company

    generate_company(tmp_path, employees=40, months=3, seed=11)
    floor = _as_map(floor_duckdb.floor(tmp_path))
    pandas = _as_map(plain_pandas.plain_pandas(tmp_path))
    assert floor == pandas
    assert floor == _recount(tmp_path)
    # baseline Oct-Dec 2024 and programme Jan-Mar 2025: two quarters, some activity in each
    assert {q for q, _ in floor} == {"2024-Q4", "2025-Q1"}
    for quarter in ("2024-Q4", "2025-Q1"):
        assert sum(a for (q, _), (a, _) in floor.items() if q == quarter) > 0
        assert sum(n for (q, _), (_, n) in floor.items() if q == quarter) > 0
    # nobody is active in a department more often than the HR list has people there
    with open(tmp_path / "hr" / "employees.csv", newline="", encoding="utf-8") as f:
        headcount: dict[str, int] = {}
        for row in csv.DictReader(f):
            headcount[row["department"]] = headcount.get(row["department"], 0) + 1
    assert all(a <= headcount[d] for (_, d), (a, _) in floor.items())


M365_HEADER = ("Report Refresh Date,User Principal Name,Display Name,Last Activity Date,"
               "Copilot Chat Last Activity Date,Microsoft Teams Copilot Last Activity Date,"
               "Word Copilot Last Activity Date,Excel Copilot Last Activity Date,"
               "PowerPoint Copilot Last Activity Date,Outlook Copilot Last Activity Date,"
               "OneNote Copilot Last Activity Date,Loop Copilot Last Activity Date,Report Period\n")
CHATGPT_HEADER = ("cadence,period_start,period_end,email,first_day_active_in_period,last_day_active_in_period,"
                  "messages\n")


def test_the_fairer_floor_reads_every_vendor_format(hand_made: Path):
    """floor_all (issue 18) adds the vendor exports to the canonical files, worked out by hand."""
    _write(hand_made / "usage" / "m365" / "copilot-usage-2025-03-30.csv", M365_HEADER + (
        "2025-03-30,anna@x.example,Anna,2025-03-28,2025-03-28,,2025-03-27,,,,,,7\n"  # chat 28, word 27: 2
        "2025-03-30,carl@x.example,Carl,2025-03-29,,,,,,,,,7\n"                       # overall only: 1
        "2025-03-30,bob@x.example,Bob,2025-03-20,,,2025-03-20,,,,,,7\n"))             # before the 7-day window
    _write(hand_made / "usage" / "github" / "copilot-users-1-day-2025-04.ndjson", (
        '{"day": "2025-04-02", "user_login": "Anna-GH", "user_initiated_interaction_count": 2, '
        '"code_generation_activity_count": 5, "code_acceptance_activity_count": 3}\n'))  # 2 + 3 accepted
    _write(hand_made / "usage" / "chatgpt" / "chatgpt-enterprise-users-2025-04.csv", CHATGPT_HEADER + (
        "monthly,2025-04-01,2025-04-30,carl@x.example,2025-04-03,2025-04-20,5\n"        # 2 + 3 messages
        "monthly,2025-04-01,2025-04-30,bob@x.example,2025-04-03,2025-04-03,4\n"))       # after E2's exit
    assert _as_map(floor_duckdb.floor_all(hand_made)) == {
        ("2025-Q1", "Sales"): (2, 7 + 2),
        ("2025-Q1", "Finance"): (1, 1),
        ("2025-Q2", "Finance"): (1, 1 + 5),
        ("2025-Q2", "Sales"): (1, 5),
    }
    assert _as_map(floor_duckdb.floor(hand_made)) == HAND_MADE_EXPECTED  # the canonical floor ignores them
