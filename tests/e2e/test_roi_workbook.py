"""The controllers' workbook (`kpi roi --export FILE.xlsx`, kpi/roi_workbook.py) recalculated by an
independent engine, the `formulas` package (docs/roi.md, "The workbook"): its summary, quarterly and
sensitivity cells give the ROI, BCR, break-even month, payback, NPV, year-1 ROI and break-even
attribution of `kpi roi --format json`, before and after the attribution (and other assumption)
cells are changed; the lines behind the demo's series add up to it without a difference line."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

formulas = pytest.importorskip("formulas", reason="the workbook test needs the formulas package (pip install "
                                                  "formulas[excel], in the dev extra)")

KPI = str(Path(sys.executable).parent / "kpi")
NONE_TEXT = ("", "n/a", "none", "not reached")
SUMMARY = {  # Summary sheet label -> kpi roi --format json key
    "Cumulative costs": "cum_costs",
    "Cumulative gross benefits": "cum_gross_benefits",
    "Cumulative benefits": "cum_benefits",
    "ROI (%)": "roi_pct",
    "Benefit-cost ratio (BCR)": "bcr",
    "Break-even month": "break_even_month",
    "Payback (months)": "payback_months",
    "NPV": "npv",
    "Discounted payback (months)": "discounted_payback_months",
    "Year-1 ROI (%), months 1-12": "year1_roi_pct",
    "Break-even attribution": "break_even_attribution",
    "Year-1 break-even attribution": "year1_break_even_attribution",
    "Estimated benefits (ESTIMATE, NOT ADDED)": "cum_estimated_benefits",
}


def kpi(*args):
    result = subprocess.run([KPI, *map(str, args)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def roi_json(warehouse, *flags):
    return json.loads(kpi("roi", "--warehouse", warehouse, "--format", "json", *flags).stdout)


def plain(value):
    """A recalculated cell as a Python value: a number, a text, or None for "not defined"."""
    if isinstance(value, str):
        return None if value in NONE_TEXT else value
    try:
        return float(value)
    except (TypeError, ValueError):
        return repr(value)  # an Excel error (#N/A, #VALUE!): fails any comparison below


class Recalculated:
    """A workbook loaded into the formulas engine; ``calc(**cells)`` recalculates it with the
    Assumptions sheet's value cells of the given assumption names changed."""

    CELL = re.compile(r"^'\[([^\]]+)\](.+)'!([A-Z]+)(\d+)$")

    def __init__(self, path: Path):
        self.model = formulas.ExcelModel().loads(str(path)).finish()
        self.book = ""
        first = self.calc()
        self.assumption_rows = {first[("ASSUMPTIONS", "A", r)]: r for (s, c, r) in first
                                if s == "ASSUMPTIONS" and c == "A" and r > 1}

    def calc(self, **changes: float) -> dict[tuple[str, str, int], object]:
        inputs = {f"'[{self.book}]ASSUMPTIONS'!B{self.assumption_rows[name]}": value
                  for name, value in changes.items()}
        solution = self.model.calculate(inputs=inputs) if inputs else self.model.calculate()
        cells = {}
        for key, ranges in solution.items():
            match = self.CELL.match(key)
            if match:
                self.book, sheet, column, row = match.groups()
                cells[(sheet.upper(), column, int(row))] = ranges.value[0][0]
        return cells


def sheet_rows(cells, sheet: str) -> list[dict[str, object]]:
    """The rows of a sheet under its header row, as dicts (recalculated values)."""
    columns = sorted({c for (s, c, r) in cells if s == sheet}, key=lambda c: (len(c), c))
    header = {c: cells.get((sheet, c, 1)) for c in columns}
    last = max(r for (s, _, r) in cells if s == sheet)
    return [{header[c]: cells.get((sheet, c, r)) for c in columns if header[c]} for r in range(2, last + 1)]


def summary_values(cells) -> dict[str, object]:
    return {cells[("SUMMARY", "A", r)]: cells.get(("SUMMARY", "B", r))
            for (s, c, r) in cells if s == "SUMMARY" and c == "A" and r > 1}


def assert_same_figures(cells, out):
    values = summary_values(cells)
    for label, key in SUMMARY.items():
        got, want = plain(values[label]), out[key]
        if want is None:
            assert got is None, (label, got)
        else:
            assert got == pytest.approx(want, rel=1e-9, abs=1e-6), label
    # the tornado and the scenarios (the sheet keeps the exported order, by swing; new swings may reorder)
    rows = sheet_rows(cells, "SENSITIVITY")
    expected = {(e["assumption"], e["case"]): e for e in out["tornado"] + out["scenarios"]}
    assert sorted((r["assumption"], r["case"]) for r in rows) == sorted(expected)
    for row in rows:
        e = expected[(row["assumption"], row["case"])]
        assert plain(row["roi_pct"]) == pytest.approx(e["roi_pct"], rel=1e-9), (row["assumption"], row["case"])
        assert plain(row["npv"]) == pytest.approx(e["npv"], rel=1e-9, abs=1e-6), (row["assumption"], row["case"])
        if e["swing"] is not None:
            assert plain(row["swing"]) == pytest.approx(e["swing"], rel=1e-9, abs=1e-9)


@pytest.fixture(scope="module")
def exported(demo_warehouse, tmp_path_factory):
    path = tmp_path_factory.mktemp("roi_workbook") / "roi.xlsx"
    kpi("roi", "--warehouse", demo_warehouse, "--format", "json", "--export", path)
    return path


@pytest.fixture(scope="module")
def workbook(exported):
    return Recalculated(exported)


def test_sheets_in_order_and_the_summary_is_formulas(exported):
    import openpyxl

    book = openpyxl.load_workbook(exported)
    assert book.sheetnames == ["Assumptions", "Summary", "Monthly", "Quarterly", "Sensitivity", "Plan vs actual",
                               "Ledger", "Participant time", "Benefits"]
    summary = book["Summary"]
    labels = {summary.cell(r, 1).value: summary.cell(r, 2).value for r in range(2, summary.max_row + 1)}
    for label in SUMMARY:
        assert str(labels[label]).startswith("="), label
    assert "assumed_attribution" in book.defined_names and "assumed_confidence" in book.defined_names
    monthly = book["Monthly"]
    header = [c.value for c in monthly[1]]
    for column in ("cost_external_training", "costs", "benefits", "cum_costs", "roi_pct", "bcr"):
        assert str(monthly.cell(2, header.index(column) + 1).value).startswith("=SUM") or \
            str(monthly.cell(2, header.index(column) + 1).value).startswith("="), column
    note = [c.value for c in book["Sensitivity"]["L"] if c.value]
    assert any("attribution and confidence multiply" in str(n) for n in note)


def test_cached_values_are_the_figures_for_viewers_that_do_not_recalculate(exported, demo_warehouse):
    import openpyxl

    out = roi_json(demo_warehouse)
    summary = openpyxl.load_workbook(exported, data_only=True)["Summary"]
    values = {summary.cell(r, 1).value: summary.cell(r, 2).value for r in range(2, summary.max_row + 1)}
    for label, key in SUMMARY.items():
        want = out[key]
        assert plain(values[label]) == (None if want is None else pytest.approx(want, rel=1e-12)), label


def test_recalculated_as_exported_gives_kpi_roi(workbook, demo_warehouse):
    out = roi_json(demo_warehouse)
    cells = workbook.calc()
    assert_same_figures(cells, out)
    assert 0 < out["break_even_attribution"] < 1  # the demo company breaks even at some attribution
    # the last quarter's row is the horizon, as the report reads it from marts.roi_quarterly
    last = sheet_rows(cells, "QUARTERLY")[-1]
    for key in ("roi_pct", "bcr", "npv", "break_even_attribution", "year1_break_even_attribution"):
        assert plain(last[key]) == pytest.approx(out[key], rel=1e-9), key
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        stored = con.sql("SELECT break_even_attribution, year1_break_even_attribution FROM marts.roi_quarterly "
                         "ORDER BY m DESC LIMIT 1").fetchall()[0]
    finally:
        con.close()
    assert stored == pytest.approx((out["break_even_attribution"], out["year1_break_even_attribution"]))


def test_changing_the_attribution_cell_recalculates_like_the_flag(workbook, demo_warehouse):
    cells = workbook.calc(**{"benefits.attribution": 0.3})
    out = roi_json(demo_warehouse, "--attribution", "0.3")
    assert_same_figures(cells, out)
    assert plain(summary_values(cells)["Attribution credited"]) == 0.3


def test_changing_every_assumption_cell_recalculates_like_the_flags(workbook, demo_warehouse):
    cells = workbook.calc(**{"benefits.attribution": 0.9, "benefits.confidence": 0.5,
                             "what_if.hourly_cost_scale": 1.2, "what_if.cost_scale": 0.9})
    out = roi_json(demo_warehouse, "--attribution", "0.9", "--confidence", "0.5", "--hourly-cost-scale", "1.2",
                   "--cost-scale", "0.9")
    assert_same_figures(cells, out)
    # next to nothing credited: no break-even month, no attribution in [0, 1] breaks even ("none")
    cells = workbook.calc(**{"benefits.attribution": 0.01, "benefits.confidence": 0.05})
    out = roi_json(demo_warehouse, "--attribution", "0.01", "--confidence", "0.05")
    assert out["break_even_attribution"] is None and out["break_even_attribution_status"]["horizon"] == "negative"
    assert out["break_even_month"] is None
    values = summary_values(cells)
    assert values["Break-even attribution"] == "none" and values["Break-even month"] == "not reached"
    assert_same_figures(cells, out)


def test_the_lines_add_up_to_the_series_without_a_difference_line(workbook, demo_warehouse):
    cells = workbook.calc()
    ledger = sheet_rows(cells, "LEDGER")
    participant = sheet_rows(cells, "PARTICIPANT TIME")
    benefits = sheet_rows(cells, "BENEFITS")
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        n = con.sql("SELECT max(m) FROM marts.roi_monthly").fetchall()[0][0]
        start = con.sql("SELECT value_text FROM marts.roi_assumptions WHERE name = 'program.start'").fetchall()[0][0]
        used = con.sql("SELECT count(*) FROM staging.costs WHERE greatest(1, date_diff('month', "
                       "date_trunc('month', $s::DATE), date_trunc('month', booked_on)) + 1) <= $n",
                       params={"s": start, "n": n}).fetchall()[0][0]
        totals = con.sql("SELECT sum(cost_external_training + cost_internal_time + cost_licenses + cost_materials "
                         "+ cost_other), sum(cost_participant_time), sum(time_savings_eur), sum(quality_savings_eur) "
                         "FROM marts.roi_monthly").fetchall()[0]
    finally:
        con.close()
    assert len(ledger) == used  # every ledger line used, and nothing else
    for rows in (ledger, participant, benefits):
        assert not any("difference to marts.roi_monthly" in str(v) for r in rows for v in r.values())
    assert sum(plain(r["amount_eur"]) for r in ledger) == pytest.approx(totals[0])
    assert sum(plain(r["cost_eur"]) for r in participant) == pytest.approx(totals[1])
    assert sum(plain(r["time_savings_eur"]) or 0.0 for r in benefits) == pytest.approx(totals[2])
    assert sum(plain(r["quality_savings_eur"]) or 0.0 for r in benefits) == pytest.approx(totals[3])
    # a Benefits line is its own arithmetic: (baseline - actual minutes per case) x cases / 60 x hourly cost
    line = next(r for r in benefits if plain(r["time_savings_eur"]) is not None)
    assert plain(line["hours_saved"]) == pytest.approx(
        (line["baseline_minutes"] / line["baseline_cases"] - line["handling_minutes"] / line["cases"])
        * line["cases"] / 60)
    assert plain(line["time_savings_eur"]) == pytest.approx(plain(line["hours_saved"]) * line["hourly_cost_eur"])
    # no participant line shows the hours or hourly cost of fewer than k people
    k = 5
    for row in participant:
        if row["hours"] is not None:
            assert plain(row["people"]) >= k


def test_a_warehouse_whose_staging_changed_gets_a_difference_line(demo_warehouse, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, copy)
    con = duckdb.connect(str(copy))
    try:  # one ledger line gone from staging since kpi run built the ROI tables
        (amount,) = con.sql("DELETE FROM staging.costs WHERE rowid = (SELECT min(rowid) FROM staging.costs "
                            "WHERE category = 'external_training') RETURNING amount_eur").fetchall()[0]
    finally:
        con.close()
    path = tmp_path / "roi.xlsx"
    kpi("roi", "--warehouse", copy, "--export", path)
    cells = Recalculated(path).calc()
    ledger = sheet_rows(cells, "LEDGER")
    differences = [r for r in ledger if "difference to marts.roi_monthly" in str(r["description"])]
    assert [(r["part"], plain(r["amount_eur"])) for r in differences] == [("cost_external_training",
                                                                          pytest.approx(amount))]
    assert_same_figures(cells, roi_json(copy))
