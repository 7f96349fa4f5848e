"""kpi.roi_workbook on hand-made lines: small groups of trainees pooled (no hours or hourly cost of
fewer than k people), difference lines where the lines do not add up to the stored series, and a
small workbook recalculated by the formulas package: lines without a baseline or without errors,
fewer than 12 months, an empty series."""

from __future__ import annotations

import datetime as dt

import pytest

from kpi.cli import _roi_compute
from kpi.roi import Assumptions, Month, summary
from kpi.roi_marts import StoredRoi
from kpi.roi_workbook import DIFFERENCE, WorkbookLines, _add_differences, _pool_small_groups, workbook_bytes


def test_small_groups_of_trainees_are_pooled_and_withheld_below_k():
    rows = [
        {"m": 1, "department": "Sales", "trainings": 7, "people": 6, "hours": 24.0, "cost_eur": 1_440.0},
        {"m": 1, "department": "Finance", "trainings": 2, "people": 2, "hours": 8.0, "cost_eur": 560.0},
        {"m": 1, "department": "HR", "trainings": 2, "people": 2, "hours": 8.0, "cost_eur": 400.0},
        {"m": 2, "department": "Finance", "trainings": 3, "people": 3, "hours": 12.0, "cost_eur": 840.0},
        {"m": 2, "department": "HR", "trainings": 3, "people": 3, "hours": 12.0, "cost_eur": 600.0},
    ]
    out = _pool_small_groups(rows, k=5)
    assert [(r["m"], r["department"], r["people"]) for r in out] == [
        (1, "Sales", 6), (1, "(departments with fewer than 5 trainees)", 4),
        (2, "(departments with fewer than 5 trainees)", 6)]
    sales, small, pooled = out
    assert sales["hourly_cost_eur"] == pytest.approx(60.0)
    # 4 people: the cost only (it is the month's total minus Sales, in marts.roi_monthly anyway)
    assert small["hours"] is None and small["hourly_cost_eur"] is None and small["cost_eur"] == 960.0
    assert "withheld" in small["note"]
    # 6 people pooled: hours and their mean hourly cost are shown
    assert pooled["hours"] == 24.0 and pooled["hourly_cost_eur"] == pytest.approx(1_440.0 / 24.0)


def month(m: int, **kw) -> Month:
    return Month(m=m, month=dt.date(2025, m, 1) if m <= 12 else dt.date(2026, m - 12, 1), **kw)


def benefit_line(m: int, **kw) -> dict:
    line = {"m": m, "month": month(m).month, "process": "quotes", "department": "Sales", "cases": 100.0,
            "handling_minutes": 2_500.0, "baseline_cases": 400.0, "baseline_minutes": 12_000.0,
            "hourly_cost_eur": 60.0, "hourly_cost_pooled": False, "cases_with_errors": 100.0, "errors": 5.0,
            "baseline_cases_with_errors": 400.0, "baseline_errors": 40.0, "cost_per_error_eur": 80.0}
    line.update(kw)
    return line


def test_difference_lines_make_the_lines_add_up_to_the_stored_series():
    # quotes: (30 - 25) x 100 / 60 x 60 = 500 time; (0.10 - 0.05) x 100 x 80 = 400 quality
    series = [month(1, cost_other=100.0, cost_participant_time=50.0, time_savings_eur=500.0,
                    quality_savings_eur=400.0),
              month(2, cost_licenses=30.0, time_savings_eur=700.0, quality_savings_eur=400.0)]
    lines = WorkbookLines(
        ledger=[{"booked_on": dt.date(2025, 1, 5), "m": 1, "category": "training_room", "part": "cost_other",
                 "department": None, "description": "room", "amount_eur": 60.0},
                {"booked_on": dt.date(2025, 2, 1), "m": 2, "category": "licenses", "part": "cost_licenses",
                 "department": None, "description": "seats", "amount_eur": 30.0}],
        participant=[{"m": 1, "department": "Sales", "trainings": 5, "people": 5, "hours": 1.0,
                      "hourly_cost_eur": 50.0, "cost_eur": 50.0}],
        benefits=[benefit_line(1), benefit_line(2)])
    _add_differences(lines, series)
    diffs = [r for r in lines.ledger if r.get("difference")]
    assert [(r["m"], r["part"], r["amount_eur"]) for r in diffs] == [(1, "cost_other", pytest.approx(40.0))]
    assert diffs[0]["description"] == DIFFERENCE
    assert not any(r.get("difference") for r in lines.participant)
    diffs = [r for r in lines.benefits if r.get("difference")]
    assert [(r["m"], r["time_savings_eur"], r["quality_savings_eur"]) for r in diffs] == [
        (2, pytest.approx(200.0), pytest.approx(0.0))]


def stored(series, lines, attribution=0.5, confidence=0.8):
    rows = [("program.start", None, "2025-01-01", "date"), ("program.baseline_months", 3.0, "3", "months"),
            ("benefits.attribution", attribution, str(attribution), "fraction"),
            ("benefits.confidence", confidence, str(confidence), "fraction"),
            ("roi.discount_rate_annual", 0.08, "0.08", "fraction"), ("roi.horizon_months", 24.0, "24", "months"),
            ("company.currency", None, "EUR", "code")]
    a = Assumptions(attribution=attribution, confidence=confidence)
    return StoredRoi(series=series, assumptions=a, scenarios={"conservative": {"attribution": 0.6, "benefits": 0.8,
                                                                               "costs": 1.1}},
                     assumption_rows=[{"name": n, "value": v, "value_text": t, "unit": u, "source": "config",
                                       "explanation": ""} for n, v, t, u in rows],
                     plan_vs_actual=[], workbook_lines=lines)


def recalculated(tmp_path, result, **changes):
    formulas = pytest.importorskip("formulas", reason="needs the formulas package (the dev extra)")
    from kpi.cli import _roi_assumption_table

    path = tmp_path / "roi.xlsx"
    path.write_bytes(workbook_bytes(result, _roi_assumption_table(result)))
    model = formulas.ExcelModel().loads(str(path)).finish()
    rows = {r["name"]: i for i, r in enumerate(_roi_assumption_table(result), start=2)}
    inputs = {f"'[roi.xlsx]ASSUMPTIONS'!B{rows[name]}": value for name, value in changes.items()}
    solution = model.calculate(inputs=inputs) if inputs else model.calculate()
    cells = {k.split("]")[1]: v.value[0][0] for k, v in solution.items() if k.startswith("'[") and ":" not in k}
    labels = {cells[k]: k.replace("!A", "!B") for k in cells if k.startswith("SUMMARY'!A")}
    return {label: cells.get(ref) for label, ref in labels.items()}


def test_a_small_workbook_recalculates_like_kpi_roi(tmp_path):
    """13 months: a line without a baseline (no benefit), one without errors reported (no quality
    savings), a pooled hourly cost, a pooled participant line shown as cost only."""
    lines = WorkbookLines(
        ledger=[{"booked_on": dt.date(2024, 12, 20), "m": 1, "category": "external_training",
                 "part": "cost_external_training", "department": None, "description": "=trainer (a formula?)",
                 "amount_eur": 6_000.0}],
        participant=[{"m": 1, "department": "(departments with fewer than 5 trainees)", "trainings": 3,
                      "people": 3, "hours": None, "hourly_cost_eur": None, "cost_eur": 660.0}],
        benefits=[benefit_line(m) for m in range(2, 14)]
        + [benefit_line(2, process="orders", baseline_cases=None, baseline_minutes=None,
                        baseline_cases_with_errors=None, baseline_errors=None),
           benefit_line(3, process="claims", cases_with_errors=None, errors=None, hourly_cost_pooled=True)])
    series = [month(1, cost_external_training=6_000.0, cost_participant_time=660.0)]
    series += [month(m, time_savings_eur=500.0 + (500.0 if m == 3 else 0.0),
                     quality_savings_eur=400.0) for m in range(2, 14)]
    _add_differences(lines, series)
    assert not any(r.get("difference") for r in lines.ledger + lines.participant + lines.benefits)
    result = _roi_compute(stored(series, lines), {})
    for changes, overrides in (({}, {}), ({"benefits.attribution": 0.9}, {"attribution": 0.9}),
                               ({"benefits.confidence": 0.4, "what_if.cost_scale": 1.3},
                                {"confidence": 0.4, "cost_scale": 1.3})):
        got = recalculated(tmp_path, result, **changes)
        s = summary(series, result["assumptions"].replace(**overrides))
        assert got["ROI (%)"] == pytest.approx(s.roi_pct, rel=1e-12)
        assert got["Benefit-cost ratio (BCR)"] == pytest.approx(s.bcr, rel=1e-12)
        assert got["Break-even month"] == (s.break_even_month or "not reached")
        assert got["NPV"] == pytest.approx(s.npv, rel=1e-12)
        assert got["Year-1 ROI (%), months 1-12"] == pytest.approx(s.year1_roi_pct, rel=1e-12)
        for label, value in (("Break-even attribution", s.break_even_attribution),
                             ("Year-1 break-even attribution", s.year1_break_even_attribution)):
            assert got[label] == (pytest.approx(value, rel=1e-12) if value is not None else "none"), label


def test_fewer_than_12_months_and_an_empty_series(tmp_path):
    series = [month(1, cost_other=1_000.0), month(2, time_savings_eur=3_000.0)]
    lines = WorkbookLines()
    _add_differences(lines, series)  # no lines at all: the difference lines carry the series
    result = _roi_compute(stored(series, lines), {})
    got = recalculated(tmp_path, result)
    assert got["ROI (%)"] == pytest.approx(20.0)  # 3,000 x 0.4 = 1,200 vs 1,000
    assert got["Year-1 ROI (%), months 1-12"] == "n/a" and got["Year-1 break-even attribution"] == "n/a"
    assert got["Break-even attribution"] == pytest.approx(1_000 / (3_000 * 0.8))
    empty = _roi_compute(stored([], WorkbookLines()), {})
    assert workbook_bytes(empty, [{"name": n, "value": 1.0, "value_text": "1", "configured": 1.0, "unit": "fraction",
                                   "source": "default", "overridden": False, "explanation": ""}
                                  for n in ("benefits.attribution", "benefits.confidence", "roi.discount_rate_annual",
                                            "what_if.hourly_cost_scale", "what_if.cost_scale")])[:2] == b"PK"


def test_a_file_without_staging_tables_gets_the_months_as_difference_lines():
    """An aggregates file (kpi export --aggregates) holds the marts only: the lines are the months."""
    import duckdb

    from kpi.roi_workbook import NO_STAGING, read_lines

    series = [month(1, cost_other=100.0, cost_participant_time=50.0, time_savings_eur=500.0)]
    con = duckdb.connect()
    try:
        lines = read_lines(con, stored(series, None))
    finally:
        con.close()
    assert [(r["part"], r["amount_eur"], r["description"]) for r in lines.ledger] == [("cost_other", 100.0,
                                                                                        NO_STAGING)]
    assert [(r["cost_eur"], r["note"]) for r in lines.participant] == [(50.0, NO_STAGING)]
    assert [(r["time_savings_eur"], r["quality_savings_eur"]) for r in lines.benefits] == [(500.0, 0.0)]
