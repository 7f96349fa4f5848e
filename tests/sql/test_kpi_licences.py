"""marts.kpi_licences on a hand-made company (docs/metrics.md §14).

k = privacy.min_group_size = 3; Q1 2025 = Jan 1 .. Mar 31. Ten people in one department; in Q1:

    tool                usage (people)   licences in Q1 (month: seats, cost)         expected row
    github-copilot      4 (shown)        Jan 10, €190; Feb 12, €228; (Apr 20, €380)  seats 12 (Feb, the last month
                                                                                     with a row), 4 active, 1/3,
                                                                                     8 idle, €418, €104.50 each
    claude              1 (suppressed)   Mar 5, €150                                 seats 5, €150; active-user
                                                                                     figures NULL
    m365-copilot        2 (suppressed)   none                                        every figure NULL
    chatgpt-enterprise  nobody           Jan..Mar 5, €275 each                       seats 5, 0 active,
                                                                                     utilisation 0, 5 idle, €825,
                                                                                     no cost per active user
    chat-gateway        8 (shown)        none                                        seats NULL, 8 active

claude (1) and m365-copilot (2) are suppressed in kpi_usage as small groups; together they
describe 3 people, so no complementary suppression touches github-copilot.
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
PEOPLE = [f"P{i}" for i in range(10)]
USAGE = {"github-copilot": PEOPLE[:4], "claude": PEOPLE[:1], "m365-copilot": PEOPLE[4:6],
         "chat-gateway": PEOPLE[:8]}
LICENCES = [("github-copilot", D(2025, 1, 1), 10, 190.0), ("github-copilot", D(2025, 2, 1), 12, 228.0),
            ("github-copilot", D(2025, 4, 1), 20, 380.0), ("claude", D(2025, 3, 1), 5, 150.0),
            *[("chatgpt-enterprise", D(2025, m, 1), 5, 275.0) for m in (1, 2, 3)]]


def company(licences=LICENCES) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_inputs(con)
    con.executemany("INSERT INTO staging.employees VALUES (?, 'D', 'user', DATE '2020-01-01', NULL, 1.0, 50.0, false)",
                    [[p] for p in PEOPLE])
    con.executemany("INSERT INTO intermediate.usage_activity VALUES (?, DATE '2025-02-04', ?, 'chat', 3, 3, 0)",
                    [[p, tool] for tool, people in USAGE.items() for p in people])
    if licences:
        con.executemany("INSERT INTO staging.licenses VALUES (?, ?, ?, ?)", [list(r) for r in licences])
    build_quarter(con, default_config(START, privacy={"min_group_size": 3}), "2025-Q1")
    return con


def licences(con, quarter: str = "2025-Q1") -> dict[str, tuple]:
    return {r[0]: r[1:] for r in con.sql(
        "SELECT tool, seats, active_users, utilisation, idle_seats, cost_eur, cost_per_active_user "
        "FROM marts.kpi_licences WHERE quarter = $q", params={"q": quarter}).fetchall()}


@pytest.fixture(scope="module")
def built():
    con = company()
    yield con
    con.close()


def test_one_row_per_tool_used_or_licensed(built):
    assert set(licences(built)) == {"github-copilot", "claude", "m365-copilot", "chatgpt-enterprise", "chat-gateway"}
    usage = dict(built.sql("SELECT segment, suppressed FROM marts.kpi_usage WHERE quarter = '2025-Q1' "
                           "AND segment_type = 'tool'").fetchall())
    assert usage == {"github-copilot": False, "claude": True, "m365-copilot": True, "chat-gateway": False}


def test_seats_of_the_last_month_with_a_row_and_the_quarters_cost(built):
    seats, active, utilisation, idle, cost, per_user = licences(built)["github-copilot"]
    assert (seats, active, idle, cost) == (12, 4, 8, 418.0)  # April's 20 seats belong to Q2
    assert utilisation == pytest.approx(4 / 12)
    assert per_user == pytest.approx(104.5)


def test_seats_nobody_used_are_all_idle(built):
    assert licences(built)["chatgpt-enterprise"] == (5, 0, 0.0, 5, 825.0, None)


def test_a_suppressed_tool_row_withholds_every_figure_about_people(built):
    # seats and cost describe no person and stay; active users and what is derived from them go
    assert licences(built)["claude"] == (5, None, None, None, 150.0, None)
    assert licences(built)["m365-copilot"] == (None, None, None, None, None, None)
    assert audit(built, 3, ["2025-Q1"]) == []


def test_a_tool_without_licence_data_has_no_seat_figures(built):
    assert licences(built)["chat-gateway"] == (None, 8, None, None, None, None)


def test_without_the_licence_file_every_seat_figure_is_null():
    con = company(licences=[])
    rows = licences(con)
    assert set(rows) == {"github-copilot", "claude", "m365-copilot", "chat-gateway"}
    assert rows["github-copilot"] == (None, 4, None, None, None, None)
    assert all(r[0] is None and r[2] is None and r[3] is None and r[4] is None for r in rows.values())
    con.close()


def test_the_snapshot_keeps_the_figures_by_tool(built):
    from kpi.ingest.store import ensure_schema
    from kpi.snapshots import snapshot_quarter

    ensure_schema(built)  # the manifest the snapshot's inputs hash reads; the usage staged reaches March 31
    built.execute("INSERT INTO staging.usage_activity (file, row_number, format, day, user_key, user_concealed, tool, "
                  "interactions, successes, failures, natural_key) VALUES ('u.csv', 1, 'canonical', DATE '2025-03-31', "
                  "'P0', false, 'chat-gateway', 1, 1, 0, 'k')")
    assert snapshot_quarter(built, "2025-Q1", "config-hash", dt.datetime(2025, 4, 2)).version == 1
    kept = dict(built.sql("SELECT metric, value FROM marts.kpi_snapshots WHERE kpi_table = 'kpi_licences' "
                          "AND tool = 'github-copilot'").fetchall())
    assert kept == {"seats": 12.0, "active_users": 4.0, "utilisation": pytest.approx(1 / 3), "idle_seats": 8.0,
                    "cost_eur": 418.0, "cost_per_active_user": 104.5}
