"""The report never leaks a suppressed group's figures (docs/metrics.md, "Suppression").

The report HTML is parsed as a reader's browser (or a curious colleague's text editor) would
see it: every Vega-Lite spec embedded in the page (its inline datasets) and every HTML table
cell. For every row the marts hide (usage, competence and culture, the report's quarter and
every earlier quarter its trends show), no dataset row of that segment and quarter carries a
number and its table cells show "fewer than k" / "withheld", nothing else.

Two warehouses: the demo company (small executive group, complementary champions, small survey
groups) and a tiny company where exactly one department is small, so the
next-smallest department is hidden by complementary suppression.
"""

from __future__ import annotations

import json
import re
import secrets
from html.parser import HTMLParser

import duckdb
import pytest

from kpi.config import load_config
from kpi.ingest import ingest_inputs
from kpi.marts import build_quarter, data_quarters
from kpi.report import build_report

# --------------------------------------------------------------------------------------------
# Reading the page
# --------------------------------------------------------------------------------------------


class ReportPage(HTMLParser):
    """Tables (with their data-* attributes, rows and cells) and the embedded JSON specs."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.specs: dict[str, dict] = {}
        self._table: dict | None = None
        self._row: dict | None = None
        self._cell: dict | None = None
        self._script: dict | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = {"attrs": attrs, "rows": []}
            self.tables.append(self._table)
        elif tag == "tr" and self._table is not None:
            self._row = {"attrs": attrs, "cells": []}
            self._table["rows"].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"tag": tag, "attrs": attrs, "text": ""}
            self._row["cells"].append(self._cell)
        elif tag == "script" and attrs.get("type") == "application/json":
            self._script = {"id": attrs.get("id"), "text": ""}

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "tr":
            self._row = None
        elif tag in ("td", "th"):
            self._cell = None
        elif tag == "script" and self._script is not None:
            self.specs[self._script["id"]] = json.loads(self._script["text"])
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self._script["text"] += data
        elif self._cell is not None:
            self._cell["text"] += data

    def dataset_rows(self) -> list[dict]:
        return [row for spec in self.specs.values() for rows in (spec.get("datasets") or {}).values() for row in rows]


def hidden_rows(con, quarter: str) -> dict[str, set[tuple]]:
    """(quarter, segment_type, segment[, construct]) of every suppressed row up to the quarter."""
    out = {}
    for table in ("kpi_usage", "kpi_competence"):
        out[table] = set(con.sql(f"SELECT quarter, segment_type, segment FROM marts.{table} "
                                 "WHERE suppressed AND quarter <= $q", params={"q": quarter}).fetchall())
    out["kpi_culture"] = set(con.sql("SELECT quarter, segment_type, segment, construct FROM marts.kpi_culture "
                                     "WHERE suppressed AND quarter <= $q", params={"q": quarter}).fetchall())
    return out


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def assert_no_figure_in_chart_data(page: ReportPage, hidden: dict[str, set[tuple]]) -> int:
    """No dataset row that names a hidden segment and its quarter (and construct) holds a number.
    Returns how many such rows exist (label-only rows)."""
    label_rows = 0
    rows = page.dataset_rows()
    assert rows, "the page embeds no chart data"
    for row in rows:
        strings = {v.casefold() for v in row.values() if isinstance(v, str)}
        for table, keys in hidden.items():
            for key in keys:
                quarter, _, segment, *construct = key
                if quarter.casefold() in strings and segment.casefold() in strings and \
                        all(c.casefold() in strings for c in construct):
                    numbers = {k: v for k, v in row.items() if is_number(v)}
                    assert not numbers, f"{table} {key} is suppressed but a chart row holds {numbers}: {row}"
                    label_rows += 1
    return label_rows


def assert_tables_hide(page: ReportPage, hidden: dict[str, set[tuple]], k: int, quarter: str) -> int:
    """Rows (and culture cells) of hidden segments show the suppression label and no figure;
    every hidden department / target group of the quarter is listed. Returns the cells checked."""
    checked = 0
    label = re.compile(rf"^(fewer than {k}|withheld\b.*)$")
    shown: set[tuple] = set()
    for table in page.tables:
        name, table_quarter = table["attrs"].get("data-table"), table["attrs"].get("data-quarter")
        if name not in hidden:
            continue
        for row in table["rows"]:
            segment_type, segment = row["attrs"].get("data-segment-type"), row["attrs"].get("data-segment")
            if segment is None:
                continue
            for cell in row["cells"]:
                if cell["tag"] != "td":
                    continue
                key = (table_quarter, segment_type, segment)
                if name == "kpi_culture":
                    key = (*key, cell["attrs"]["data-construct"])
                text = " ".join(cell["text"].split())
                if key in hidden[name]:
                    shown.add((name, *key))
                    assert "suppressed" in cell["attrs"].get("class", ""), (key, text)
                    assert label.match(text), (key, text)
                    assert not re.search(r"\d", text.replace(f"fewer than {k}", "")), (key, text)
                    checked += 1
                else:
                    assert "suppressed" not in cell["attrs"].get("class", ""), (key, text)
    expected = {(name, *key) for name, keys in hidden.items() for key in keys
                if key[0] == quarter and key[1] in ("department", "target_group")}
    for table in page.tables:  # the culture matrix shows the latest wave, which may be an earlier quarter
        if table["attrs"].get("data-table") == "kpi_culture":
            wave = table["attrs"]["data-quarter"]
            expected |= {("kpi_culture", *key) for key in hidden["kpi_culture"] if key[0] == wave}
    assert expected <= shown, f"hidden segments not marked in the tables: {sorted(expected - shown)}"
    return checked


# --------------------------------------------------------------------------------------------
# The demo company
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_warehouse):
    report = next((demo_warehouse.parent / "reports").glob("report-*.html"))
    quarter = report.stem.removeprefix("report-")
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        hidden = hidden_rows(con, quarter)
    return ReportPage(report.read_text()), hidden, quarter


def test_demo_chart_data_holds_no_figure_of_a_hidden_group(demo):
    page, hidden, _ = demo
    # the demo hides groups in every table: executives (4 people), champions (complementary),
    # survey groups; since the staggered rollout no tool of the demo has fewer than k users, so the
    # check below holds trivially there and guards against a future demo's small tool
    assert all(hidden.values())
    assert_no_figure_in_chart_data(page, hidden)
    tools = next(rows for spec in page.specs.values() for rows in spec.get("datasets", {}).values()
                 if rows and "tool" in rows[0])
    assert {r["tool"] for r in tools if r["quarter"] == "2025-Q1"} >= {"github-copilot", "chat-gateway"}
    hidden_tools = {(q, name) for q, kind, name in hidden["kpi_usage"] if kind == "tool"}
    assert not [r for r in tools if (r["quarter"], r["tool"]) in hidden_tools]


def test_demo_tables_mark_hidden_groups_and_show_no_figure(demo):
    page, hidden, quarter = demo
    assert assert_tables_hide(page, hidden, 5, quarter) >= 2 + 2 * 4  # usage, competence, culture matrix
    # a hidden group's real size appears nowhere in its row either (executives: 4 people)
    row = next(r for t in page.tables if t["attrs"].get("data-table") == "kpi_usage"
               for r in t["rows"] if r["attrs"].get("data-segment") == "executive")
    assert [c["text"] for c in row["cells"] if c["tag"] == "td"] == ["fewer than 5"]


def test_demo_captions_name_hidden_groups_without_figures(demo_warehouse, demo):
    _, _, quarter = demo
    text = (demo_warehouse.parent / "reports" / f"report-{quarter}.html").read_text()
    caption = re.search(r'id="chart-usage_rates".*?<figcaption>(.*?)</figcaption>', text, re.S).group(1)
    # the managers protect the 4 executives (privacy.suppress_first), so the champions are shown
    assert "Executive in 8 quarters" in caption and "Manager in 8 quarters" in caption
    assert "Champion" not in caption
    # the only numbers are k, the count of quarters and quarter labels
    assert set(re.findall(r"\d+", re.sub(r"\d{4}-Q\d", "", caption))) <= {"5", "8"}


# --------------------------------------------------------------------------------------------
# A tiny company where exactly one department is small
# --------------------------------------------------------------------------------------------

TINY_CONFIG = """\
company:
  name: Kleinbetrieb GmbH
  timezone: Europe/Berlin
program:
  start: 2025-01-01
privacy:
  min_group_size: 3
"""
# Engineering 4 people, Sales 3 (hidden by complementary suppression), Service 1 (< k = 3).
TINY_EMPLOYEES = """\
employee_id,email,github_login,department,target_group,hire_date,exit_date,fte,hourly_cost_eur
E01,e01@klein.example,,Engineering,user,2020-01-01,,1,60
E02,e02@klein.example,,Engineering,user,2020-01-01,,1,60
E03,e03@klein.example,,Engineering,user,2020-01-01,,1,60
E04,e04@klein.example,,Engineering,user,2020-01-01,,1,60
E05,e05@klein.example,,Sales,user,2020-01-01,,1,60
E06,e06@klein.example,,Sales,user,2020-01-01,,1,60
E07,e07@klein.example,,Sales,user,2020-01-01,,1,60
E08,e08@klein.example,,Service,user,2020-01-01,,1,60
"""
TINY_TRAININGS = """\
employee_id,course_id,format,started_on,completed_on,status,hours
E01,BASICS-1,basics_workshop,2025-01-15,2025-01-15,completed,4
E05,BASICS-1,basics_workshop,2025-01-15,2025-01-15,completed,4
E08,BASICS-1,basics_workshop,2025-01-15,2025-01-15,completed,4
"""
TINY_COSTS = """\
booked_on,category,amount_eur,description
2025-01-10,external_training,2000,trainer
"""
# Q1: Engineering 3 of 4 active, Sales 1 of 3 (33.3 %), Service 1 of 1.
# Q2: Engineering 4 of 4, Sales 2 of 3 (66.7 %), Service 0 of 1.
TINY_USAGE = """\
event_time,user,tool,action,interactions,successes,failures
2025-02-03,E01,chat-gateway,chat,7,,
2025-02-04,E02,chat-gateway,chat,3,,
2025-02-05,E03,chat-gateway,chat,2,,
2025-02-06,E05,chat-gateway,chat,11,,
2025-02-07,E08,chat-gateway,chat,13,,
2025-04-03,E01,chat-gateway,chat,1,,
2025-04-03,E02,chat-gateway,chat,1,,
2025-04-03,E03,chat-gateway,chat,1,,
2025-04-03,E04,chat-gateway,chat,1,,
2025-04-04,E05,chat-gateway,chat,17,,
2025-04-04,E06,chat-gateway,chat,19,,
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("one-small-department")
    inputs = root / "inputs"
    for rel, text in {"config.yaml": TINY_CONFIG, "hr/employees.csv": TINY_EMPLOYEES,
                      "hr/trainings.csv": TINY_TRAININGS, "finance/costs.csv": TINY_COSTS,
                      "usage/gateway.csv": TINY_USAGE}.items():
        (inputs / rel).parent.mkdir(parents=True, exist_ok=True)
        (inputs / rel).write_text(text, encoding="utf-8")
    cfg = load_config(inputs / "config.yaml")
    warehouse = root / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ingest_inputs(con, inputs, cfg, secrets.token_bytes(32))
        for quarter in data_quarters(con, cfg):
            build_quarter(con, cfg, quarter)
    return warehouse, cfg, root


def test_tiny_marts_hide_the_small_and_the_complementary_department(tiny):
    warehouse, _, _ = tiny
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql("SELECT quarter, segment, suppressed, suppression_reason, active_user_rate FROM marts.kpi_usage "
                       "WHERE segment_type = 'department' ORDER BY quarter, segment").fetchall()
    assert rows == [
        ("2025-Q1", "Engineering", False, None, 0.75), ("2025-Q1", "Sales", True, "complementary", None),
        ("2025-Q1", "Service", True, "small_group", None),
        ("2025-Q2", "Engineering", False, None, 1.0), ("2025-Q2", "Sales", True, "complementary", None),
        ("2025-Q2", "Service", True, "small_group", None),
    ]


@pytest.mark.parametrize("with_config", [True, False])
def test_tiny_report_leaks_neither_department(tiny, with_config):
    warehouse, cfg, root = tiny
    out = root / ("with-config" if with_config else "cli")
    path = build_report(warehouse, "2025-Q2", out, cfg=cfg if with_config else None, images=False)
    text = path.read_text()
    page = ReportPage(text)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        hidden = hidden_rows(con, "2025-Q2")
    assert ("2025-Q1", "department", "Sales") in hidden["kpi_usage"]
    # Without a config, k is inferred from the marts: more than the largest group hidden as small
    # (Service, 1) and at most the smallest group not hidden as small (Sales, 3): the default 5
    # would claim too much, so the report says 3 as well.
    k = 3
    assert f"fewer than {k}" in text and "fewer than 5" not in text

    # chart data: the heatmap has a label-only cell for each hidden department and quarter
    assert assert_no_figure_in_chart_data(page, hidden) >= 4
    heat = [r for rows in page.specs["spec-usage_departments"]["datasets"].values() for r in rows]
    assert {(r["segment"], r["quarter"]): r["label"] for r in heat if r["segment"] != "Engineering"} == {
        ("Sales", "2025-Q1"): "withheld", ("Sales", "2025-Q2"): "withheld",
        ("Service", "2025-Q1"): f"< {k}", ("Service", "2025-Q2"): f"< {k}"}
    assert {(r["quarter"], r["active_user_rate"]) for r in heat if r["segment"] == "Engineering"} == {
        ("2025-Q1", 0.75), ("2025-Q2", 1.0)}

    # tables: both departments marked, Engineering shown
    assert assert_tables_hide(page, hidden, k, "2025-Q2") >= 4
    visible = re.sub(r"<script.*?</script>", "", text, flags=re.S)
    for leaked in ("33.3 %", "66.7 %", "33 %", "67 %"):  # Sales' active-user rates
        assert leaked not in visible, leaked
    if with_config:
        assert "Kleinbetrieb GmbH" in text
    # no ROI tables in this warehouse: the ROI section says so instead of failing
    assert "ROI tables not built yet: run kpi run" in text
