"""The yearly deep dive's rules on hand-made data (kpi/report/yearly_view.py, kpi/report/notes.py):
what the year's figure is, that no withheld figure is filled in by arithmetic, and the notes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from kpi.report.notes import read_notes, render_markdown, safe_link
from kpi.report.settings import Settings
from kpi.report.standing import Standing
from kpi.report.yearly import CompanyQuarter, QuarterClose, YearData
from kpi.report.yearly_view import FIGURES, comparison_lines, department_lines, status_text, totals_lines

FIELDS = [f for f in CompanyQuarter.__dataclass_fields__ if f != "quarter"]


def company(quarter: str, **values) -> CompanyQuarter:
    return CompanyQuarter(quarter, **{f: values.get(f) for f in FIELDS})


def year_data(year: str, quarters: dict[str, int | None], rows: list[CompanyQuarter],
              departments: list[dict] | None = None) -> YearData:
    every = [QuarterClose(q, v, None) for q, v in quarters.items()]
    frame = pl.DataFrame(departments or [], schema={"segment": pl.String, "quarter": pl.String,
                                                     "active_user_rate": pl.Float64, "suppressed": pl.Boolean,
                                                     "reason": pl.String})
    return YearData(
        year=year, quarters=[q for q in every if q.quarter.startswith(year)], every_quarter=every,
        settings=Settings(company=None, k=5, usage_drop_points=10, culture_drop_points=10, k_source="default"),
        warehouse=Path("w.duckdb"), generated_at=dt.datetime(2026, 1, 10), program_start=dt.date(2025, 1, 1),
        company={r.quarter: r for r in rows}, departments=frame, business=pl.DataFrame(), processes=[],
        culture_wave=None, culture=[], roi=[], costs=None, plan=[], standing=Standing("x", [], 5, {}),
        cohorts=None, restatements=[])


QUARTERS = {"2024-Q4": 1, "2025-Q1": 1, "2025-Q2": 1, "2025-Q3": 1, "2025-Q4": 1}


def test_sums_means_and_last_values_follow_each_figures_rule():
    rows = [company("2024-Q4", hours_saved=0.0, active_user_rate=0.10, trained_share=0.0, headcount=100),
            *(company(f"2025-Q{i}", hours_saved=100.0 * i, active_user_rate=0.2 * i, trained_share=0.1 * i,
                      headcount=100 + i) for i in range(1, 5))]
    d = year_data("2025", QUARTERS, rows)
    lines = {line.label: line for line in totals_lines(d)}
    assert lines["Hours saved"].cells == ["100", "200", "300", "400"] and lines["Hours saved"].year == "1,000"
    assert lines["Active-user rate"].year == "50.0 %"  # (0.2 + 0.4 + 0.6 + 0.8) / 4
    assert lines["Trained share"].year == "40.0 %"  # the year's last value
    assert lines["Headcount"].year == "–" and lines["Headcount"].cells == ["101", "102", "103", "104"]
    assert status_text(d) == "complete: quarters 2025-Q1 to 2025-Q4 closed"
    compare = {line.label: line for line in comparison_lines(d)}
    # 2024 holds one quarter: its sum is shown but not compared; rates and last values are
    assert (compare["Hours saved"].previous, compare["Hours saved"].change) == ("0", "–")
    assert compare["Hours saved"].baseline == "–"  # savings are measured against the baseline itself
    assert (compare["Active-user rate"].previous, compare["Active-user rate"].change) == ("10.0 %", "+40.0 pts")
    assert compare["Active-user rate"].vs_baseline == "+40.0 pts"
    assert "Headcount" not in compare


def test_a_withheld_quarter_is_never_filled_in_by_a_sum_or_a_mean():
    rows = [company("2025-Q1", hours_saved=10.0, active_user_rate=0.5), company("2025-Q2", hours_saved=None),
            company("2025-Q3", hours_saved=30.0, active_user_rate=0.7), company("2025-Q4", hours_saved=40.0,
                                                                               active_user_rate=0.9)]
    departments = [{"segment": "Legal", "quarter": q, "active_user_rate": None if q == "2025-Q3" else 0.5,
                    "suppressed": q == "2025-Q3", "reason": "small" if q == "2025-Q3" else None}
                   for q in ("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4")]
    departments += [{"segment": "Sales", "quarter": q, "active_user_rate": 0.25 * i, "suppressed": False,
                     "reason": None} for i, q in enumerate(("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"), start=1)]
    d = year_data("2025", {q: 1 for q in QUARTERS if q != "2024-Q4"}, rows, departments)
    lines = {line.label: line for line in totals_lines(d)}
    assert lines["Hours saved"].year == "–" and lines["Active-user rate"].year == "–"
    legal, sales = department_lines(d)
    assert [c.text for c in legal.cells] == ["50.0 %", "50.0 %", "fewer than 5", "50.0 %"] and legal.year == "–"
    assert legal.cells[2].suppressed and sales.year == "62.5 %"


def test_an_incomplete_year_names_its_quarters_and_the_open_one():
    rows = [company("2026-Q1"), company("2026-Q2")]
    d = year_data("2026", {"2026-Q1": 1, "2026-Q2": None}, rows)
    assert not d.complete and d.open_quarters == ["2026-Q2"]
    assert status_text(d) == "incomplete: quarters 2026-Q1–2026-Q2 (2026-Q2 still open)"
    assert status_text(year_data("2026", {"2026-Q1": 1}, rows[:1])) == "incomplete: quarter 2026-Q1 only"
    assert len(FIGURES) == len(totals_lines(d))


def test_notes_keep_safe_links_only_and_escape_raw_html(tmp_path):
    assert [safe_link(u) for u in ("https://a.example/x", "mailto:a@b.example", "javascript:alert(1)",
                                   " JAVASCRIPT:x", "data:text/html,x", "//evil.example", "file:///etc/passwd",
                                   "relative.html")] == [True, True, False, False, False, False, False, False]
    html = str(render_markdown('<b onclick="x">b</b> [a](javascript:alert(1)) ![p](https://x.example/p.png)'))
    assert html == "<p>&lt;b onclick=&quot;x&quot;&gt;b&lt;/b&gt; [a](javascript:alert(1)) p</p>\n"
    (tmp_path / "b.md").write_text("## Heading", encoding="utf-8")
    (tmp_path / "a.md").write_bytes(b"\xff\xfe bad")
    (tmp_path / ".hidden.md").write_text("x", encoding="utf-8")
    notes = read_notes(tmp_path)
    assert [(n.file, n.problem, str(n.html) if n.html else None) for n in notes] == [
        ("a.md", "not UTF-8 text: not shown; save it as UTF-8", None), ("b.md", None, "<h5>Heading</h5>\n")]
    assert read_notes(None) == [] and read_notes(tmp_path / "missing") == []


def test_the_yearly_queries_read_published_marts_only():
    """No person-level table: every table the year_*.sql queries name is in marts (kpi_*, roi_* and the
    tables beside them), and none is declared person-level in the catalogue."""
    import re

    from kpi.catalog import load
    from kpi.paths import sql_dir

    declared = load().tables
    person_level = {name for name, spec in declared.items() if spec.person_level}
    assert "staging.employees" in person_level
    files = sorted((sql_dir() / "report").glob("year_*.sql"))
    assert [f.stem for f in files] == ["year_company", "year_costs", "year_quarters", "year_restatements"]
    for path in files:
        tables = set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+\.[a-z_]+)", path.read_text(encoding="utf-8")))
        assert tables and all(t.startswith("marts.") for t in tables), (path.name, tables)
        assert tables <= set(declared) and not tables & person_level
