"""`kpi roi --by department|process` on the demo (session fixture `demo_warehouse`, read-only): the
stored rows of marts.roi_by_segment, adding up to the programme's ROI (the allocation rules are
pinned by hand in tests/unit/test_roi_segments.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

KPI = str(Path(sys.executable).parent / "kpi")


def kpi(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([KPI, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("by", ["department", "process"])
def test_the_segments_add_up_to_the_programme(demo_warehouse, by):
    result = kpi("roi", "--warehouse", str(demo_warehouse), "--by", by, "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["segments"]
    company, segments = rows[0], rows[1:]
    assert company["segment_type"] == "company" and {r["segment_type"] for r in segments} == {by}
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        cum_costs, cum_benefits = con.sql("SELECT cum_costs, cum_benefits FROM marts.roi_monthly "
                                          "ORDER BY m DESC LIMIT 1").fetchall()[0]
    assert company["costs"] == pytest.approx(cum_costs) and company["benefits"] == pytest.approx(cum_benefits)
    assert not any(r["suppressed"] for r in segments)  # every department of the demo has at least k people
    assert sum(r["costs"] for r in segments) == pytest.approx(cum_costs)
    assert sum(r["benefits"] for r in segments) == pytest.approx(cum_benefits)


def test_the_table_ranks_the_processes(demo_warehouse):
    result = kpi("roi", "--warehouse", str(demo_warehouse), "--by", "process")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["Process", "costs", "of"]
    assert lines[1].startswith("Programme")
    ranked = sorted((int(line.split()[-1]), line.split()[0]) for line in lines[2:-1] if line.split()[-1].isdigit())
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        expected = con.sql("SELECT rank, segment FROM marts.roi_by_segment WHERE rank IS NOT NULL "
                           "ORDER BY rank").fetchall()
    assert ranked == expected and len(expected) >= 3


def test_what_ifs_and_a_wrong_segment_are_one_line(demo_warehouse):
    wrong = kpi("roi", "--warehouse", str(demo_warehouse), "--by", "team")
    assert wrong.returncode == 2 and wrong.stderr.strip() == "error: --by team: not allowed; give department or process"
    what_if = kpi("roi", "--warehouse", str(demo_warehouse), "--by", "process", "--attribution", "0.3")
    assert what_if.returncode == 2 and len(what_if.stderr.strip().splitlines()) == 1
    assert "leave out --attribution" in what_if.stderr


def test_the_report_names_the_top_three_application_areas(demo_warehouse):
    from kpi.report.formatting import fmt_eur, process_label

    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        top = con.sql("SELECT segment, net_benefit FROM marts.roi_by_segment WHERE rank <= 3 ORDER BY rank").fetchall()
        ideas = con.sql("SELECT count(*) FROM marts.roi_use_cases").fetchall()[0][0]
    page = next((demo_warehouse.parent / "reports").glob("report-*.html")).read_text(encoding="utf-8")
    expected = "; ".join(f"{i}. {process_label(p)} ({fmt_eur(net, signed=True)}" for i, (p, net) in enumerate(top, 1))
    text = " ".join(page.split())
    for part in expected.split("; "):
        assert part in text, part
    assert len(top) == 3 and ideas >= 10
    assert page.count('data-table="roi_by_segment"') == 2 and 'data-table="roi_use_cases"' in page
