"""`kpi roi` as a user runs it, on a copy of the demo warehouse: JSON equals kpi.roi.summary of the
stored series, what-if flags move the figures as docs/roi.md says, one-line errors, a light
import footprint, and the controllers' export."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from kpi.roi import Assumptions, series_from_rows, summary

KPI = str(Path(sys.executable).parent / "kpi")
SUMMARY_KEYS = ("m", "month", "cum_costs", "cum_benefits", "cum_gross_benefits", "cum_estimated_benefits",
                "roi_pct", "bcr", "break_even_month", "payback_months", "npv", "discounted_payback_months",
                "year1_roi_pct")


def kpi(*args, cwd=None):
    return subprocess.run([KPI, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd)


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def warehouse(demo_warehouse, tmp_path_factory):
    copy = tmp_path_factory.mktemp("roi_cli") / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, copy)
    return copy


def stored(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        relation = con.sql("SELECT * FROM marts.roi_monthly ORDER BY m")
        rows = [dict(zip(relation.columns, r)) for r in relation.fetchall()]
        values = dict(con.sql("SELECT name, value FROM marts.roi_assumptions").fetchall())
    finally:
        con.close()
    a = Assumptions(attribution=values["benefits.attribution"], confidence=values["benefits.confidence"],
                    discount_rate_annual=values["roi.discount_rate_annual"],
                    horizon_months=int(values["roi.horizon_months"]))
    return series_from_rows(rows), a


def roi_json(warehouse, *flags):
    result = kpi("roi", "--warehouse", warehouse, "--format", "json", *flags)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_matches_summary(out, expected):
    for key in SUMMARY_KEYS:
        value = expected[key]
        if key == "month":
            assert out[key] == value.isoformat()
        elif value is None or isinstance(value, int):
            assert out[key] == value, key
        else:
            assert out[key] == pytest.approx(value, rel=1e-12), key


def test_json_is_the_summary_of_the_stored_series(warehouse):
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    out = roi_json(warehouse)
    series, a = stored(warehouse)
    expected = summary(series, a).as_dict()
    assert set(SUMMARY_KEYS) | {"assumptions", "break_even_calendar_month", "overrides", "assumption_rows",
                                "tornado", "scenarios", "plan_vs_actual", "estimated_benefits_note"} <= set(out)
    assert_matches_summary(out, expected)
    assert out["assumptions"] == pytest.approx(expected["assumptions"])
    assert out["overrides"] == {}
    assert out["break_even_month"] is not None  # the demo company breaks even within its series
    month = series[out["break_even_month"] - 1].month
    assert out["break_even_calendar_month"] == f"{month:%Y-%m}"
    assert len(out["tornado"]) == 10 and [s["case"] for s in out["scenarios"]] == ["conservative", "base",
                                                                                    "optimistic"]
    assert "never added" in out["estimated_benefits_note"]
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before  # read-only


def test_attribution_override_halves_the_benefits(warehouse):
    half, quarter = roi_json(warehouse, "--attribution", "0.5"), roi_json(warehouse, "--attribution", "0.25")
    assert quarter["cum_benefits"] == pytest.approx(half["cum_benefits"] / 2)
    assert quarter["cum_costs"] == pytest.approx(half["cum_costs"])
    assert quarter["cum_gross_benefits"] == pytest.approx(half["cum_gross_benefits"])
    # ROI = (B - C) / C with the same C
    c = half["cum_costs"]
    assert quarter["roi_pct"] == pytest.approx((half["cum_benefits"] / 2 - c) / c * 100)
    series, a = stored(warehouse)
    assert_matches_summary(quarter, summary(series, a.replace(attribution=0.25)).as_dict())
    assert quarter["overrides"] == {"attribution": 0.25}
    row = next(r for r in quarter["assumption_rows"] if r["name"] == "benefits.attribution")
    assert row["overridden"] and row["value"] == 0.25 and row["configured"] == a.attribution


def test_scales_and_confidence_follow_the_method(warehouse):
    series, a = stored(warehouse)
    out = roi_json(warehouse, "--confidence", "1", "--hourly-cost-scale", "1.1", "--cost-scale", "0.9")
    expected = summary(series, a.replace(confidence=1.0, hourly_cost_scale=1.1, cost_scale=0.9)).as_dict()
    assert_matches_summary(out, expected)
    participant = sum(mo.cost_participant_time for mo in series)
    ledger = sum(mo.ledger_costs for mo in series)
    assert out["cum_costs"] == pytest.approx((ledger + participant * 1.1) * 0.9)


def test_table_output_prints_assumptions_figures_and_the_estimate_apart(warehouse):
    result = kpi("roi", "--warehouse", warehouse, "--attribution", "0.3")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    _, a = stored(warehouse)
    assert re.search(rf"\* benefits\.attribution\s+0\.3 .*--attribution \(configured {a.attribution:g}\)", text)
    for label in ("ROI", "Benefit-cost ratio (BCR)", "Break-even month", "Payback", "NPV", "Discounted payback",
                  "Year-1 ROI (months 1-12)", "ESTIMATE, NOT ADDED", "Sensitivity", "Scenarios", "conservative"):
        assert label in text


def test_csv_prints_the_monthly_table(warehouse):
    result = kpi("roi", "--warehouse", warehouse, "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    series, _ = stored(warehouse)
    assert len(rows) == len(series)
    assert rows[0]["month"] == series[0].month.isoformat() and rows[0]["m"] == "1"
    assert float(rows[-1]["cum_costs"]) == pytest.approx(sum(mo.ledger_costs + mo.cost_participant_time
                                                             for mo in series))


@pytest.mark.parametrize("flag, value", [("--attribution", "1.7"), ("--confidence", "-0.1"),
                                         ("--cost-scale", "-1"), ("--hourly-cost-scale", "0")])
def test_out_of_range_flag_is_one_line_naming_it(warehouse, flag, value):
    assert_one_line_error(kpi("roi", "--warehouse", warehouse, flag, value), flag)


def test_missing_warehouse_and_one_without_roi_tables(tmp_path):
    missing = tmp_path / "nope.duckdb"
    assert_one_line_error(kpi("roi", "--warehouse", missing), str(missing), "kpi run first")
    assert not missing.exists()
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert_one_line_error(kpi("roi", "--warehouse", empty), str(empty), "marts.roi_monthly", "kpi run first")


def test_no_heavy_imports(warehouse):
    code = (
        "import contextlib, io, sys\n"
        "from kpi.cli import main\n"
        f"sys.argv = ['kpi', 'roi', '--warehouse', {str(warehouse)!r}, '--format', 'json', '--attribution', '0.3',"
        " '--cost-scale', '1.1']\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, exc.code\n"
        "assert out.getvalue().lstrip().startswith('{')\n"
        "heavy = ('dagster', 'great_expectations', 'pandas', 'altair')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def sheet_names(path: Path) -> list[str]:
    try:
        import openpyxl
    except ImportError:
        with zipfile.ZipFile(path) as z:
            return re.findall(r'<sheet name="([^"]+)"', z.read("xl/workbook.xml").decode())
    return openpyxl.load_workbook(path, read_only=True).sheetnames


def test_export_xlsx_puts_the_assumptions_first(warehouse, tmp_path):
    target = tmp_path / "roi.xlsx"
    result = kpi("roi", "--warehouse", warehouse, "--format", "json", "--attribution", "0.3", "--export", target)
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # stdout stays pure JSON; the "wrote" note goes to stderr
    assert sheet_names(target) == ["Assumptions", "Summary", "Monthly", "Quarterly", "Sensitivity", "Plan vs actual",
                                   "Ledger", "Participant time", "Benefits"]  # tests/e2e/test_roi_workbook.py
    with zipfile.ZipFile(target) as z:
        first = z.read("xl/worksheets/sheet1.xml").decode()
        styles = z.read("xl/styles.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
        monthly = z.read("xl/worksheets/sheet3.xml").decode()
        ledger = z.read("xl/worksheets/sheet7.xml").decode()
    assert 'state="frozen"' in first and 'state="frozen"' in monthly  # header row frozen
    assert "<b/>" in styles  # bold header
    assert "benefits.attribution" in strings and "--attribution" in strings
    # numbers are numbers, not text: a formula with its value, and a ledger amount
    assert re.search(r'<c r="C2" s="\d+"><f>[^<]+</f><v>[-0-9.]', monthly)
    assert re.search(r'<c r="G2" s="\d+"><v>[-0-9.]', ledger)


def test_export_csv_writes_the_monthly_table_and_the_assumptions_beside_it(warehouse, tmp_path):
    target = tmp_path / "roi.csv"
    result = kpi("roi", "--warehouse", warehouse, "--export", target)
    assert result.returncode == 0, result.stderr
    monthly = list(csv.DictReader(target.open(encoding="utf-8")))
    assumptions = list(csv.DictReader((tmp_path / "roi-assumptions.csv").open(encoding="utf-8")))
    assert monthly and monthly[0]["m"] == "1"
    assert {"benefits.attribution", "what_if.cost_scale"} <= {r["name"] for r in assumptions}
    assert_one_line_error(kpi("roi", "--warehouse", warehouse, "--export", tmp_path / "roi.txt"), "--export")
