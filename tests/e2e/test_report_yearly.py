"""The yearly deep dive (issue 16) of the demo company, from the session fixture `demo_warehouse`
(read-only; the demo's data run from 2024-Q4, the baseline, to 2026-Q3).

- 2025 is the demo's complete year: its page equals tests/fixtures/report/report-2025.html (with
  the demo's notes; `UPDATE_GOLDEN=1` rewrites it, as for the quarterly golden files), and its
  totals equal sums and means of the quarterly marts computed here in SQL, not by the report.
- 2026 holds three quarters: written and marked incomplete; read with hostile notes.
- `kpi report --year` on the command line: one-line errors, and the PDF.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kpi.paths import DEMO_DIR
from kpi.report.pdf import chromium
from kpi.report.yearly import build_yearly_report
from tests.e2e.test_report_golden import BUNDLE_MARKER, GOLDEN, first_difference

KPI = str(Path(sys.executable).parent / "kpi")


def normalise(page: str, *paths: Path) -> str:
    """The page with the generation time and the inlined library bundle replaced (the yearly page
    names no snapshot date)."""
    for path in paths:
        assert str(path) not in page, f"the page holds the absolute path {path}"
    at = page.index("window.vegaEmbed=")
    start = page.rindex("<script>", 0, at) + len("<script>")
    page = page[:start] + BUNDLE_MARKER + page[page.index("</script>", at):]
    page, n = re.subn(r"generated \d{4}-\d{2}-\d{2} \d{2}:\d{2} ", "generated <GENERATED> ", page)
    assert n == 1
    return page


@pytest.fixture(scope="module")
def page_2025(demo_warehouse, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("year2025")
    path = build_yearly_report(demo_warehouse, "2025", out, images=False, notes=DEMO_DIR / "notes")
    assert path == out / "report-2025.html"
    return normalise(path.read_text(encoding="utf-8"), out, demo_warehouse.parent)


HOSTILE = """# Findings <script>alert('h1')</script>

<script>alert(1)</script>

[click](javascript:alert(2)) [again](JaVaScRiPt:alert(3)) [data](data:text/html;base64,PHNjcmlwdD4=)
<img src=x onerror=alert(4)> ![tracking pixel](https://example.com/pixel.png)
[the framework](https://example.com/framework) and <a href="javascript:alert(5)">raw link</a>
"""


@pytest.fixture(scope="module")
def page_2026(demo_warehouse, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("year2026")
    notes = out / "notes"
    notes.mkdir()
    (notes / "b-hostile.md").write_text(HOSTILE, encoding="utf-8")
    (notes / "a-latin1.md").write_bytes("Café: Überblick".encode("latin-1"))
    (notes / "c <i>&amp.md").write_text("plain *text*", encoding="utf-8")
    (notes / "ignored.txt").write_text("<script>alert(6)</script>", encoding="utf-8")
    return build_yearly_report(demo_warehouse, "2026", out, images=False, notes=notes).read_text(encoding="utf-8")


def test_demo_year_matches_the_golden_file(page_2025):
    golden = GOLDEN / "report-2025.html"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(page_2025, encoding="utf-8", newline="")
    expected = golden.read_bytes().decode("utf-8")
    assert len(expected.encode()) < 400_000, "keep the golden files small"
    if page_2025 != expected:
        pytest.fail("report-2025.html differs from tests/fixtures/report/report-2025.html (UPDATE_GOLDEN=1 "
                    "regenerates it after an intended change):\n" + first_difference(expected, page_2025),
                    pytrace=False)


def _row(page: str, label: str) -> list[str]:
    """The cells of the totals row headed `label`: the four quarters, the year, the rule."""
    table = page[page.index('<table class="year-totals">'):]
    table = table[:table.index("</table>")]
    match = re.search(r'<th scope="row" class="seg">' + re.escape(html.escape(label)) + r"</th>(.*?)</tr>", table)
    assert match, label
    return [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1))]


def _number(text: str) -> float:
    return float(text.replace("€", "").replace(",", "").replace("%", "").replace("−", "-").strip())


def test_the_year_totals_are_the_sums_of_the_quarterly_marts(demo_warehouse, page_2025):
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        business = con.sql("SELECT sum(hours_saved), sum(time_savings_eur), sum(quality_savings_eur), count(*) "
                           "FROM marts.kpi_business WHERE process = 'all' AND department = 'all' "
                           "AND quarter LIKE '2025-Q_'").fetchall()[0]
        usage = con.sql("SELECT sum(interactions), avg(active_user_rate), avg(regular_user_rate), count(*), "
                        "arg_max(headcount, quarter) FROM marts.kpi_usage "
                        "WHERE segment_type = 'company' AND quarter LIKE '2025-Q_'").fetchall()[0]
        trained = con.sql("SELECT trained_share FROM marts.kpi_competence WHERE segment_type = 'company' "
                          "AND quarter = '2025-Q4'").fetchall()[0][0]
        costs = con.sql("SELECT sum(costs), sum(benefits) FROM marts.roi_monthly "
                        "WHERE month BETWEEN DATE '2025-01-01' AND DATE '2025-12-31'").fetchall()[0]
        plan_actual = con.sql("SELECT sum(actual_eur) FROM marts.budget_plan_vs_actual").fetchall()[0][0]
        q4 = con.sql("SELECT cum_costs, year1_roi_pct FROM marts.roi_quarterly WHERE quarter = '2025-Q4'").fetchall()[0]
    finally:
        con.close()
    hours, time_eur, quality_eur, n = business
    assert n == 4 and usage[3] == 4  # the demo's 2025 is complete
    assert 6_900 < hours < 7_100  # the demo's programme saves about 7,000 hours in its first year
    assert _number(_row(page_2025, "Hours saved")[4]) == round(hours)
    assert _number(_row(page_2025, "Time savings (before attribution)")[4]) == round(time_eur)
    assert _number(_row(page_2025, "Quality savings (before attribution)")[4]) == round(quality_eur)
    assert _number(_row(page_2025, "Interactions")[4]) == round(usage[0])
    assert _number(_row(page_2025, "Active-user rate")[4]) == round(usage[1] * 100, 1)
    assert _number(_row(page_2025, "Regular-user rate")[4]) == round(usage[2] * 100, 1)
    assert _number(_row(page_2025, "Trained share")[4]) == round(trained * 100, 1)  # the year's last value
    headcount = _row(page_2025, "Headcount")
    assert _number(headcount[3]) == usage[4] and headcount[4] == "–"  # people per quarter only, never summed
    assert headcount[5].startswith("per quarter only")
    # the year's costs and benefits: the calendar year is programme months 1-12 in the demo
    figures = dict(re.findall(r'<div class="fig-label">(.*?)</div><div class="fig-value">(.*?)</div>', page_2025))
    assert _number(html.unescape(figures["Costs in 2025"])) == round(costs[0]) == round(q4[0])
    assert _number(html.unescape(figures["Benefits in 2025"])) == round(costs[1])
    assert _number(html.unescape(figures["Year-1 ROI"])) == round(q4[1], 1)
    # plan vs actual: the ledger of the year (participants' time apart) equals the mart's months 1-12
    budget = page_2025[page_2025.index('<table class="year-budget">'):]
    total = re.search(r'class="seg">Total</th><td class="num" >(.*?)</td><td class="num" >(.*?)</td>', budget)
    assert _number(html.unescape(total.group(2))) == round(plan_actual)


def test_the_year_is_marked_complete_or_incomplete(page_2025, page_2026):
    assert 'data-year-status="complete"' in page_2025
    assert "complete: quarters 2025-Q1 to 2025-Q4 closed" in page_2025
    assert "Incomplete year." not in page_2025
    assert 'data-year-status="incomplete"' in page_2026
    assert "incomplete: quarters 2026-Q1–2026-Q3" in page_2026
    assert "<strong>Incomplete year.</strong>" in page_2026
    assert "2025: all four quarters are in the warehouse; its sums are not compared with this incomplete year." \
        in page_2026
    hours = re.search(r'class="seg">Hours saved</th><td class="left muted" >sum of the quarters</td>'
                      r'<td class="num" >(.*?)</td><td class="num" >(.*?)</td><td class="num" >'
                      r'<span class="delta (\w+)">(.*?)</span>', page_2026)
    assert hours.group(1, 2, 4) == ("8,163", "6,974", "–")  # 2026-Q1..Q3 against 2025: shown, not compared
    # the previous year of 2025 holds only its baseline quarter: shown, its sums not compared
    assert "2024: only 2024-Q4 is in the warehouse (1 quarter); its sums are not compared." in page_2025


def test_notes_are_listed_by_file_name_and_rendered_without_raw_html(page_2025, page_2026):
    assert "2 notes from the folder notes, in file-name order." in page_2025
    assert "<h4>Focus group: Production, June 2025</h4>" in page_2025
    notes = page_2026[page_2026.index('<section id="notes"'):page_2026.index("</main>")]
    assert "3 notes from the folder notes" in notes  # *.md only: ignored.txt is not read
    files = re.findall(r'<article class="finding" data-file="(.*?)">', notes)
    assert files == ["a-latin1.md", "b-hostile.md", "c &lt;i&gt;&amp;amp.md"]
    assert "not UTF-8 text: not shown; save it as UTF-8" in notes
    assert "Café" not in notes
    for tag in ("<script", "<img", "<a href=\"javascript", "<i>"):
        assert tag not in notes.lower(), tag
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", notes, re.I)  # no element carries an event handler
    assert "javascript:" not in " ".join(re.findall(r'href="([^"]*)"', notes)).lower()
    assert re.findall(r'href="([^"]*)"', notes) == ["https://example.com/framework"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in notes  # shown as text
    assert "&lt;img src=x onerror=alert(4)&gt;" in notes
    assert "tracking pixel" in notes and "pixel.png" not in notes  # an image is its alt text: nothing fetched
    assert "[click](javascript:alert(2))" in notes  # an unsafe link stays text
    assert "<h4>Findings &lt;script&gt;alert(&#x27;h1&#x27;)&lt;/script&gt;</h4>" in notes or \
        "<h4>Findings &lt;script&gt;alert('h1')&lt;/script&gt;</h4>" in notes


def _cli(capsys, monkeypatch, *args) -> tuple[int, list[str]]:
    from kpi import cli

    monkeypatch.setattr(sys, "argv", ["kpi", "report", *map(str, args)])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    return exit_info.value.code, capsys.readouterr().err.strip().splitlines()


def test_report_takes_exactly_one_of_quarter_and_year(demo_warehouse, tmp_path, capsys, monkeypatch):
    both = "error: kpi report: give exactly one of --quarter YYYY-Qn (the quarterly review) and --year YYYY " \
           "(the yearly deep dive)"
    common = ("--warehouse", demo_warehouse, "--out", tmp_path)
    assert _cli(capsys, monkeypatch, *common) == (2, [both])
    assert _cli(capsys, monkeypatch, *common, "--quarter", "2025-Q4", "--year", "2025") == (2, [both])
    assert _cli(capsys, monkeypatch, *common, "--quarter", "2025") == (2, [
        "error: --quarter 2025: a year; write the quarter as YYYY-Qn, e.g. 2025-Q4, or use --year 2025 for the "
        "yearly deep dive"])
    assert _cli(capsys, monkeypatch, *common, "--year", "2031") == (2, [
        f"error: --year 2031: no quarter of it in the warehouse {demo_warehouse}; years available: 2024, 2025, 2026"])
    assert _cli(capsys, monkeypatch, *common, "--year", "25") == (2, [
        "error: --year 25: not a year; use the form 2025"])
    assert _cli(capsys, monkeypatch, *common, "--quarter", "2025-Q4", "--notes", tmp_path) == (2, [
        "error: --notes: only with --year (the qualitative findings are part of the yearly deep dive)"])
    assert not list(tmp_path.glob("report-*"))


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed: scripts/test-prereqs.sh installs it")
def test_kpi_report_year_writes_the_page_charts_and_pdf(demo_warehouse, tmp_path):
    from pypdf import PdfReader

    result = subprocess.run([KPI, "report", "--warehouse", str(demo_warehouse), "--year", "2025", "--out",
                             str(tmp_path), "--notes", str(DEMO_DIR / "notes"), "--pdf"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"Report: {tmp_path / 'report-2025.html'}",
                                          f"Charts: {tmp_path / 'charts'} (PNG and SVG)",
                                          f"PDF: {tmp_path / 'report-2025.pdf'}"]
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == [
        "2025-year_cohorts.png", "2025-year_cohorts.svg", "2025-year_savings.png", "2025-year_savings.svg"]
    reader = PdfReader(tmp_path / "report-2025.pdf")
    texts = [page.extract_text().replace("\ufb01", "fi").lstrip() for page in reader.pages]  # the fi ligature
    assert "AI-training programme: the year 2025" in texts[0] and "1 The year in figures" in texts[0]
    assert len(reader.pages) >= 8  # every section from a new page
    assert any(text.startswith("8 Qualitative findings") for text in texts), "the notes start a page"
