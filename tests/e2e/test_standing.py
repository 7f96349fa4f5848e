"""Where we stand (issue 13): the report's first section and `kpi status` show what the marts
publish, and a suppressed segment shows no level and leaks no figure.

The marts themselves are pinned elsewhere: by hand in tests/sql/test_kpi_champions_maturity.py,
test_rollout_milestones.py, test_kpi_targets.py and test_roi_benchmarks.py, and against the
generator's ground truth in tests/e2e/test_where_we_stand_truth.py. Here the question is only
whether the presentation carries the published figures, all of them and nothing else.
"""

from __future__ import annotations

import html as html_lib
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kpi.marts import build_quarter
from kpi.report.collect import collect
from kpi.report.render import render_html
from kpi.report.standing import collect_standing, status_text
from tests.sql.test_kpi_champions_maturity import make_config, make_maturity_warehouse

KPI = str(Path(sys.executable).parent / "kpi")


def kpi(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([KPI, *args], capture_output=True, text=True, timeout=120)


def section(page: str) -> str:
    """The HTML of the "Where we stand" section."""
    return re.search(r'<section id="standing".*?</section>', page, re.S).group(0)


def maturity_cells(html: str) -> dict[str, list[str]]:
    """segment -> the texts of its quarter cells in the maturity table."""
    table = re.search(r'<table data-table="kpi_maturity".*?</table>', html, re.S).group(0)
    out = {}
    rows = re.findall(r'<tr data-segment-type="[^"]*" data-segment="([^"]*)"[^>]*>(.*?)</tr>', table, re.S)
    for segment, row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        out[html_lib.unescape(segment)] = [html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells]
    return out


# ------------------------------------------------------------------------------ the demo


@pytest.fixture(scope="module")
def demo(demo_warehouse):
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        quarter = con.sql("SELECT max(quarter) FROM marts.kpi_snapshots").fetchall()[0][0]
        levels = {(s, q): lvl for s, q, lvl in con.sql(
            "SELECT segment, quarter, level FROM marts.kpi_maturity").fetchall()}
        milestones = con.sql("SELECT milestone, status, reached_on, days_late FROM marts.rollout_milestones "
                             "ORDER BY sort_order").fetchall()
        without = [r[0] for r in con.sql("SELECT segment FROM marts.kpi_champions WHERE quarter = ? AND "
                                         "segment_type = 'department' AND champions = 0",
                                         params=[quarter]).fetchall()]
    page = next((demo_warehouse.parent / "reports").glob("report-*.html")).read_text(encoding="utf-8")
    return {"quarter": quarter, "levels": levels, "milestones": milestones, "without": without,
            "html": section(page), "page": page}


def test_the_section_comes_first_and_shows_every_published_level(demo):
    assert demo["page"].index('<section id="standing"') < demo["page"].index('<section id="summary"')
    cells = maturity_cells(demo["html"])
    quarters = sorted({q for _, q in demo["levels"]})[-8:]
    assert set(cells) == {s for s, _ in demo["levels"]}
    for segment, texts in cells.items():
        assert texts[:len(quarters)] == [str(demo["levels"][(segment, q)]) for q in quarters], segment


def test_the_section_names_the_department_without_champion_and_each_milestone(demo):
    html = demo["html"]
    assert demo["without"] == ["Management"]
    assert "<strong>Without a champion:</strong> Management." in html
    for name, status, reached_on, days_late in demo["milestones"]:
        row = re.search(rf'<tr data-milestone="{re.escape(name)}" data-status="{status}">.*?</tr>', html, re.S)
        assert row, name
        if status == "missed":
            assert f"missed: reached {reached_on.isoformat()}, {days_late} days late" in row.group(0)
        else:
            assert f"reached {reached_on.isoformat()}" in row.group(0)


def test_kpi_status_prints_the_same_section(demo, demo_warehouse):
    result = kpi("status", "--warehouse", str(demo_warehouse))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"Where we stand: {demo['quarter']}\n")
    assert "Company: level 3 AI user (since 2025-Q2)" in out
    assert "Without a champion: Management" in out
    [(reached_on, days_late)] = [(r[2], r[3]) for r in demo["milestones"]
                                 if r[0] == "users through the basics training"]
    assert "users through the basics training" in out
    assert f"missed: reached {reached_on.isoformat()}, {days_late} days late" in out
    assert "none configured" in out  # the demo config sets no target
    assert "[4] Boston Consulting Group (2024) in the Brixon AI article: €3.40 back per € within 12 months" in out
    earlier = kpi("status", "--warehouse", str(demo_warehouse), "--quarter", "2025-Q1")
    assert earlier.returncode == 0 and earlier.stdout.startswith("Where we stand: 2025-Q1\n")
    assert "Company: level 2 AI experimenter (since 2025-Q1)" in earlier.stdout


def test_kpi_status_errors_are_one_line(demo_warehouse, tmp_path):
    wrong = kpi("status", "--warehouse", str(demo_warehouse), "--quarter", "2031-Q1")
    assert wrong.returncode != 0 and len(wrong.stderr.strip().splitlines()) == 1
    assert "--quarter 2031-Q1: not in the warehouse" in wrong.stderr and "2026-Q3" in wrong.stderr
    missing = kpi("status", "--warehouse", str(tmp_path / "nothing.duckdb"))
    assert missing.returncode != 0 and len(missing.stderr.strip().splitlines()) == 1
    assert "nothing.duckdb" in missing.stderr


# ------------------------------------------------------------------------------ suppressed segments


@pytest.fixture(scope="module")
def small():
    """The hand-made company of the maturity tests, k = 3: departments S (2 people) and T (1)
    are suppressed in every mart; the others are shown."""
    con = make_maturity_warehouse()
    cfg = make_config()
    for quarter in ("2025-Q1", "2025-Q2"):
        build_quarter(con, cfg, quarter)
    yield con, cfg
    con.close()


def test_a_suppressed_segment_shows_no_level_in_the_report(small):
    con, cfg = small
    page = render_html(collect(con, "2025-Q2", cfg), [])
    html = section(page)
    cells = maturity_cells(html)
    for department in ("S", "T"):
        assert cells[department] == ["fewer than 3", "fewer than 3", "fewer than 3"], department
        row = re.search(rf'<tr data-segment-type="department" data-segment="{department}"[^>]*>.*?</tr>', html,
                        re.S).group(0)
        assert 'data-suppressed="true"' in row
        assert not re.search(r"\d", re.sub(r"fewer than 3|<[^>]+>", "", row)), row  # no figure at all
    assert cells["K"][:2] == ["3", "3"]  # level 4 needs the ROI criterion (no cost booked: not published)
    champions = re.search(r'<table data-table="kpi_champions".*?</table>', html, re.S).group(0)
    for department in ("S", "T"):
        row = re.search(rf'data-segment="{department}"[^>]*>.*?</tr>', champions, re.S).group(0)
        assert not re.search(r"\d", re.sub(r"fewer than 3|<[^>]+>", "", row)), row


def test_a_suppressed_segment_shows_no_level_in_kpi_status(small):
    con, _ = small
    text = status_text(collect_standing(con, "2025-Q2", 3))
    for department in ("S", "T"):
        line = next(line for line in text.splitlines() if line.strip().startswith(department + " "))
        assert not re.search(r"\d", line.replace("fewer than 3", "")), line


def test_no_suppressed_row_of_any_table_shows_a_figure(small):
    """Every row marked suppressed anywhere in the page (maturity, champions, usage, competence,
    learning, training, retention, ...) carries only its label and the reason."""
    con, cfg = small
    page = render_html(collect(con, "2025-Q2", cfg), [])
    rows = re.findall(r'<tr data-segment-type="[^"]*" data-segment="([^"]*)"[^>]*data-suppressed="true">(.*?)</tr>',
                      page, re.S)
    assert len(rows) >= 6
    for segment, row in rows:
        text = html_lib.unescape(re.sub(r"<[^>]+>", " ", row))
        text = text.replace("fewer than 3", "").replace("withheld: protects a group of", "")
        assert not re.search(r"\d", text), (segment, text)
