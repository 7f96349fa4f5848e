"""The quarterly report of the demo company as a reader gets it.

`kpi run` (the `demo_warehouse` fixture) ends by writing the report of the latest closed quarter
into `reports/` beside the warehouse. A headless Chromium with every network request sent to a
dead proxy opens it: every chart must render (one `<svg class="marks">` per chart), no script
error may occur, and a screenshot goes to test-artifacts/report.png for a human to look at.
The other tests check the content against the marts and the `kpi report` command line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
KPI = str(Path(sys.executable).parent / "kpi")
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium")
                 if p and Path(p).exists()), None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed: run `apt-get install -y chromium` (scripts/test-prereqs.sh "
                             "does it as root) to run the report's browser test")


@pytest.fixture(scope="module")
def demo_report(demo_warehouse) -> Path:
    reports = sorted((demo_warehouse.parent / "reports").glob("report-*.html"))
    assert len(reports) == 1, f"kpi run should write exactly one report, found {reports}"
    return reports[0]


@pytest.fixture(scope="module")
def latest_closed(demo_warehouse) -> str:
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        return con.sql("SELECT max(quarter) FROM marts.kpi_snapshots").fetchall()[0][0]


def chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    """Headless Chromium with the network disabled: every request goes to a closed port."""
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9",
         "--proxy-bypass-list=<-loopback>", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
         *extra, url],
        capture_output=True, text=True, timeout=120)


def test_the_run_writes_the_latest_closed_quarters_report(demo_report, latest_closed):
    assert demo_report.name == f"report-{latest_closed}.html"
    charts = demo_report.parent / "charts"
    for name in ("usage_rates", "roi_cumulative", "roi_tornado"):
        assert (charts / f"{latest_closed}-{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in (charts / f"{latest_closed}-{name}.svg").read_text()


def test_the_page_loads_nothing_from_the_web(demo_report):
    page = demo_report.read_text()
    assert page.count("window.vegaEmbed=") == 1  # the libraries, inlined once
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=", page)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", page)


@needs_chromium
def test_every_chart_renders_offline_without_errors(demo_report, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    result = chromium(demo_report.as_uri(), tmp_path / "profile", "--window-size=1280,2400",
                      f"--screenshot={shot}", "--dump-dom")
    dom = result.stdout
    charts = len(re.findall(r'<div class="vega" data-chart="', demo_report.read_text()))
    assert charts >= 11  # usage x3, competence, cohorts, business x2, culture x2, ROI x3
    assert len(re.findall(r'<svg[^>]*\bclass="marks"', dom)) == charts
    assert f'data-charts-rendered="{charts}"' in dom
    collected = re.search(r'<pre id="report-errors"[^>]*>(.*?)</pre>', dom, re.S)
    assert collected is not None and collected.group(1).strip() == ""  # window.onerror / console.error collector
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if re.search(r"Uncaught|Error|ERR_", line)], console
    assert shot.stat().st_size > 50_000
    # "Where we stand" comes first and its tables are in the rendered page
    standing = re.search(r'<section id="standing".*?</section>', dom, re.S)
    assert standing is not None and dom.index('<section id="standing"') < dom.index('<section id="summary"')
    for table in ("kpi_maturity", "kpi_champions", "rollout_milestones", "benchmarks"):
        assert f'data-table="{table}"' in standing.group(0), table
    assert standing.group(0).count('data-segment-type="department"') >= 2 * 6  # maturity and champion rows
    # issue 14's parts: learning, training by format, licences, productivity and retention
    for table in ("kpi_learning", "kpi_training", "kpi_licences", "kpi_business_productivity", "kpi_retention"):
        assert f'data-table="{table}"' in dom, table
    assert 'id="chart-learning_cohorts"' in dom


def test_headline_and_narrative_come_from_the_marts(demo_warehouse, demo_report, latest_closed):
    from kpi.report import fmt_pct, fmt_pts

    page = demo_report.read_text()
    q = latest_closed
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        rate, prev = con.sql(
            "SELECT c.active_user_rate, p.active_user_rate FROM marts.kpi_usage c JOIN marts.kpi_usage p "
            "ON p.segment_type = 'company' AND p.quarter = $p WHERE c.segment_type = 'company' AND c.quarter = $q",
            params={"q": q, "p": "2026-Q2"}).fetchall()[0]
        be, m = con.sql("SELECT break_even_month, m FROM marts.roi_quarterly WHERE quarter = $q",
                        params={"q": q}).fetchall()[0]
        month = dict(con.sql("SELECT m, month FROM marts.roi_monthly").fetchall())
    assert f"<strong>{fmt_pct(rate)}</strong> of the" in page
    assert f"({fmt_pts(rate - prev)} on 2026-Q2)" in page
    if be is not None:
        assert f"broke even in month {be} ({month[be]:%B %Y})" in page
    else:
        assert "not yet broken even: cumulative benefits cover" in page
    assert "Demo Maschinenbau GmbH" in page  # the run passes its config: company name in the header


def test_every_roi_assumption_is_printed_beside_the_roi(demo_warehouse, demo_report):
    page = demo_report.read_text()
    roi = page[page.index('id="roi"'):page.index('id="alerts"')]
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        names = [r[0] for r in con.sql("SELECT name FROM marts.roi_assumptions").fetchall()]
    assert len(names) > 20
    from kpi.report import ASSUMPTION_FAMILIES

    for name in names:
        family = next((f for f in ASSUMPTION_FAMILIES if name.startswith(f + ".")), None)
        if family is None:
            assert f"<code>{name}</code>" in roi, name
        else:
            member = name[len(family) + 1:].split(".")[0].replace("_", " ")
            assert f"<code>{family}.*</code>" in roi and f"<span>{member}</span>" in roi, name
    assert "Estimate — not part of the ROI" in roi
    assert "ROI tables not built yet" not in roi


def test_kpi_report_command(demo_warehouse, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KPI_PSEUDONYM_KEY"}
    result = subprocess.run([KPI, "report", "--warehouse", str(demo_warehouse), "--quarter", "2031-Q1",
                             "--out", str(tmp_path)], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "--quarter 2031-Q1: not in the warehouse" in error[0]
    assert "quarters available: 2024-Q4, 2025-Q1" in error[0] and "2026-Q3" in error[0]
    assert not list(tmp_path.iterdir())

    result = subprocess.run([KPI, "report", "--warehouse", str(demo_warehouse), "--quarter", "2025-Q2",
                             "--out", str(tmp_path)], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "report-2025-Q2.html").read_text()
    assert "AI-training programme: 2025-Q2" in page
    # 2025-Q2 had not broken even yet: the report says how far the benefits cover the costs
    assert "not yet broken even: cumulative benefits cover" in page
    assert (tmp_path / "charts" / "2025-Q2-roi_cumulative.svg").is_file()


def test_the_report_is_a_quarterly_dagster_asset_after_the_marts():
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.partitions import QUARTERS

    node = defs.resolve_asset_graph().get(dg.AssetKey(["reports", "quarterly_report"]))
    assert node.group_name == "reports" and node.partitions_def == QUARTERS
    parents = {k.to_user_string() for k in node.parent_keys}
    assert {"marts/kpi_usage", "marts/kpi_competence", "marts/kpi_business", "marts/kpi_culture",
            "marts/kpi_snapshots", "marts/roi_monthly", "marts/roi_quarterly", "marts/roi_sensitivity",
            "marts/budget_plan_vs_actual", "marts/roi_assumptions"} <= parents


def _renders_in_the_browser(page: Path, shot: Path, profile: Path) -> str:
    """Open the page offline: every chart renders, nothing is reported as an error; a screenshot is
    kept as a test artifact. Returns the rendered DOM."""
    ARTIFACTS.mkdir(exist_ok=True)
    shot.unlink(missing_ok=True)
    result = chromium(page.as_uri(), profile, "--window-size=1280,2400", f"--screenshot={shot}", "--dump-dom")
    dom = result.stdout
    charts = len(re.findall(r'<div class="vega" data-chart="', page.read_text()))
    assert charts >= 2
    assert len(re.findall(r'<svg[^>]*\bclass="marks"', dom)) == charts
    assert f'data-charts-rendered="{charts}"' in dom
    collected = re.search(r'<pre id="report-errors"[^>]*>(.*?)</pre>', dom, re.S)
    assert collected is not None and collected.group(1).strip() == ""
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if re.search(r"Uncaught|Error|ERR_", line)], console
    assert shot.stat().st_size > 50_000
    return dom


@needs_chromium
def test_the_dutch_report_and_the_yearly_report_render_offline(demo_warehouse, latest_closed, tmp_path):
    """The nl quarterly report (test-artifacts/report-nl.png) and the yearly deep dive of the demo's
    complete year (test-artifacts/report-2025.png): charts drawn with Dutch month names and decimal
    commas, no script error."""
    from kpi.paths import DEMO_DIR
    from kpi.report import build_report
    from kpi.report.yearly import build_yearly_report

    page = build_report(demo_warehouse, latest_closed, tmp_path / "nl", images=False, language="nl")
    dom = _renders_in_the_browser(page, ARTIFACTS / "report-nl.png", tmp_path / "profile-nl")
    assert '<html lang="nl">' in dom
    axis_text = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", dom))
    assert re.search(r"\bokt \d{4}\b", axis_text) and not re.search(r"\b(Oct|Jan) \d{4}\b", axis_text), \
        "month names on the time axes are Dutch (okt 2025, not Oct 2025)"
    assert re.search(r"\d,\d", axis_text), "decimal commas in the charts"

    year = build_yearly_report(demo_warehouse, "2025", tmp_path / "year", images=False, notes=DEMO_DIR / "notes")
    dom = _renders_in_the_browser(year, ARTIFACTS / "report-2025.png", tmp_path / "profile-year")
    assert 'id="chart-' in dom
