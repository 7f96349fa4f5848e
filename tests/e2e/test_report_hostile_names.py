"""Names are data, never markup: the demo company with a department called `<!--<script>` (which
used to blank the whole report from the usage section on: the chart data embedded in <script>
blocks ended early) and another called `</script><img src=x onerror=alert(1)>`, and a company
name that is a spreadsheet formula. Every chart still renders in a browser, no script runs or
fails, the names read as text in the page, and every exported SVG is well-formed XML holding
the name as text."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kpi.paths import DEMO_DIR
from tests.e2e.test_report_browser import CHROMIUM, chromium, needs_chromium

COMMENT = "<!--<script>"
CLOSER = "</script><img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://example.invalid","Click for details")'


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory) -> Path:
    from kpi.report import build_report
    from pipelines.run import run_pipeline

    root = tmp_path_factory.mktemp("hostile")
    inputs = root / "inputs"
    shutil.copytree(DEMO_DIR, inputs, ignore=shutil.ignore_patterns("ground_truth.json"))
    for path in [*inputs.glob("hr/*.csv"), *inputs.glob("business/*.csv"), *inputs.glob("finance/*.csv")]:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("Finance", COMMENT).replace("Production", CLOSER), encoding="utf-8")
    config = inputs / "config.yaml"
    text = config.read_text(encoding="utf-8")
    name = re.search(r"^  name: .*$", text, re.MULTILINE)
    assert name is not None
    config.write_text(text.replace(name.group(0), f"  name: '{FORMULA}'"), encoding="utf-8")
    warehouse = root / "warehouse.duckdb"
    run_pipeline(inputs, config, warehouse, allow_development_key=True, report=False)
    return build_report(warehouse, "2026-Q3", root / "reports")


def test_the_names_are_text_in_the_page(hostile_report):
    html = hostile_report.read_text(encoding="utf-8")
    assert COMMENT not in html and CLOSER not in html  # never raw, neither in tables nor in chart data
    assert "&lt;!--&lt;script&gt;" in html  # shown as text in the tables
    assert "\\u003c!--\\u003cscript\\u003e" in html  # and as JSON escapes in the chart data
    assert html.count("<script") == html.count("</script>")


def test_every_exported_svg_is_well_formed_and_holds_the_names_as_text(hostile_report):
    svgs = sorted((hostile_report.parent / "charts").glob("2026-Q3-*.svg"))
    assert svgs
    texts = []
    for svg in svgs:
        tree = ET.parse(svg)  # raises on markup that is not XML
        texts += ["".join(node.itertext()) for node in tree.iter() if node.tag.endswith("text")]
    assert any(COMMENT in t for t in texts)


@needs_chromium
def test_every_chart_renders_with_the_hostile_names(hostile_report, tmp_path):
    assert CHROMIUM is not None
    result = chromium(hostile_report.as_uri(), tmp_path / "profile", "--window-size=1280,2400", "--dump-dom")
    dom = result.stdout
    charts = len(re.findall(r'<div class="vega" data-chart="', hostile_report.read_text(encoding="utf-8")))
    assert charts >= 10
    assert len(re.findall(r'<svg[^>]*\bclass="marks"', dom)) == charts
    assert f'data-charts-rendered="{charts}"' in dom
    collected = re.search(r'<pre id="report-errors"[^>]*>(.*?)</pre>', dom, re.S)
    assert collected is not None and collected.group(1).strip() == ""
    assert "<img src=\"x\"" not in dom and "onerror=\"alert(1)\"" not in dom  # no element was injected
