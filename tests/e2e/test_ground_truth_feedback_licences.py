"""The demo's licences and course feedback, recovered from the warehouse the pipeline built
(ground_truth.json `licenses` and `course_feedback`; docs/metrics.md §14, docs/inputs.md).

The licence figures are exact: the seats of a quarter are those of its last month with a licence
row, the cost the sum over its months, both straight from the injected months. The active users
are kpi_usage's published tool rows, so utilisation, idle seats and cost per active user follow
by arithmetic. Uses the session fixture `demo_warehouse` read-only.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import duckdb
import polars as pl
import pytest

from kpi.paths import DEMO_DIR
from kpi.quarters import quarter_label

TRUTH = json.loads((DEMO_DIR / "ground_truth.json").read_text(encoding="utf-8"))
LICENCES = TRUTH["licenses"]
FEEDBACK = TRUTH["course_feedback"]


@pytest.fixture(scope="module")
def con(demo_warehouse):
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def licences(con) -> dict[tuple[str, str], tuple]:
    return {(q, t): rest for q, t, *rest in con.sql(
        "SELECT quarter, tool, seats, active_users, utilisation, idle_seats, cost_eur, cost_per_active_user "
        "FROM marts.kpi_licences").fetchall()}


def _expected_by_quarter() -> dict[tuple[str, str], tuple[int, float]]:
    """(quarter, tool) -> (seats of the quarter's last month with a row, Σ cost of its months)."""
    out: dict[tuple[str, str], tuple[int, float]] = {}
    for tool, spec in LICENCES["tools"].items():
        by_quarter: dict[str, list[tuple[str, dict]]] = {}
        for month, values in spec["months"].items():
            by_quarter.setdefault(quarter_label(dt.date.fromisoformat(month + "-01")), []).append((month, values))
        for quarter, months in by_quarter.items():
            last = max(months)[1]
            out[(quarter, tool)] = (last["seats"], sum(v["cost_eur"] for _, v in months))
    return out


def test_seats_and_cost_per_quarter_equal_the_injected_months(licences):
    expected = _expected_by_quarter()
    assert len(expected) == 28  # 4 licensed tools x 7 programme quarters
    for (quarter, tool), (seats, cost) in expected.items():
        row = licences[(quarter, tool)]
        assert row[0] == seats, (quarter, tool)
        assert row[4] == pytest.approx(cost, abs=1e-6), (quarter, tool)
    # without licence rows (the gateway, paid by usage; GitHub before the programme) no seat figure
    for (quarter, tool), (seats, _active, utilisation, idle, cost, per_user) in licences.items():
        if (quarter, tool) not in expected:
            assert (seats, utilisation, idle, cost, per_user) == (None, None, None, None, None), (quarter, tool)
    assert {t for q, t in licences if (q, t) not in expected} == set(LICENCES["not_licensed"]) | {"github-copilot"}


def test_active_users_are_kpi_usages_published_tool_rows(con, licences):
    usage = {(q, t): a for q, t, a in con.sql("SELECT quarter, segment, active_users FROM marts.kpi_usage "
                                              "WHERE segment_type = 'tool'").fetchall()}
    assert set(usage) <= set(licences)
    for key, row in licences.items():
        assert row[1] == usage.get(key, 0), key  # a licensed tool nobody used would read 0


def test_utilisation_idle_seats_and_cost_per_user_follow_from_seats_and_active_users(licences):
    checked = 0
    for key, (seats, active, utilisation, idle, cost, per_user) in licences.items():
        if seats is None or active is None:
            continue
        assert utilisation == pytest.approx(active / seats, rel=1e-12), key
        assert idle == max(seats - active, 0), key
        assert per_user == pytest.approx(cost / active, rel=1e-12), key
        checked += 1
    assert checked == 28


def test_the_deliberately_idle_share_is_recovered(licences):
    """seats = ceil(holders / (1 − idle_share)) and nearly every holder uses the tool in a quarter,
    so utilisation ≈ 1 − idle_share. Tolerance 0.1: one person of the smallest tools (10-16 seats)
    is 0.06-0.1, and a quarter's active users also count holders who left or joined during it.
    Measured: |utilisation − (1 − idle_share)| ≤ 0.062 (github-copilot 2026-Q1: 13 of 16)."""
    for (quarter, tool), (seats, _, utilisation, idle, *_) in licences.items():
        if seats is None:
            continue
        share = LICENCES["tools"][tool]["idle_share"]
        assert abs(utilisation - (1 - share)) <= 0.1, (quarter, tool, utilisation)
        assert idle > 0, (quarter, tool)


# ------------------------------------------------------------------------ course feedback

def test_every_feedback_row_is_staged_and_no_comment_is_stored(con):
    assert con.sql("SELECT count(*) FROM staging.course_feedback").fetchall() == [(FEEDBACK["rows"],)]
    assert con.sql("SELECT rows_read, rows_loaded, rows_quarantined FROM audit.ingest_manifest "
                   "WHERE file = 'hr/course_feedback.csv' AND NOT superseded").fetchall() == [(FEEDBACK["rows"],) * 2
                                                                                             + (0,)]
    comments = set(pl.read_csv(DEMO_DIR / "hr" / "course_feedback.csv", infer_schema_length=0)["comment"]
                   .drop_nulls().to_list())
    assert len(comments) >= 5
    columns = con.sql("SELECT table_schema, table_name, column_name FROM information_schema.columns "
                      "WHERE data_type LIKE 'VARCHAR%'").fetchall()
    for schema, table, column in columns:
        found = con.sql(f'SELECT count(*) FROM "{schema}"."{table}" WHERE list_contains($c, "{column}")',
                        params={"c": sorted(comments)}).fetchall()[0][0]
        assert found == 0, (schema, table, column)


def test_positive_share_per_format_recovers_the_injected_probability(con):
    """A rating is positive (≥ feedback.positive_min, 4) with the format's injected probability:
    each format's staged share within 3 binomial standard deviations of it (n = 8-107 ratings per
    format), and the pooled count of positive ratings within 3 SD of Σ n × p."""
    rows = con.sql("SELECT t.format, count(*), count(*) FILTER (WHERE f.rating >= 4) FROM staging.course_feedback f "
                   "JOIN staging.trainings t USING (employee_key, course_id) GROUP BY 1").fetchall()
    injected = FEEDBACK["positive_probability_by_format"]
    assert {f: n for f, n, _ in rows} == FEEDBACK["rows_by_format"]
    expected = variance = measured = 0.0
    for fmt, n, positive in rows:
        p = injected[fmt]
        assert abs(positive / n - p) <= 3 * math.sqrt(p * (1 - p) / n), (fmt, positive, n, p)
        expected, variance, measured = expected + n * p, variance + n * p * (1 - p), measured + positive
    assert abs(measured - expected) <= 3 * math.sqrt(variance)
