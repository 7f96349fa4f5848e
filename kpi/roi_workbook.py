"""The controllers' workbook of ``kpi roi --export FILE.xlsx`` (docs/roi.md, "The workbook").

A workbook to audit from the ledger line to the ROI: the Ledger, Participant time and Benefits
sheets hold the lines (as booked, as measured), the Monthly sheet sums them per month with
``SUMIFS`` and applies the Assumptions sheet, and the Summary, Quarterly and Sensitivity sheets
are formulas over Monthly and Assumptions. Changing attribution, confidence, the hourly-cost or
cost scale or the discount rate in the Assumptions sheet recalculates benefits, ROI, BCR,
break-even, payback, NPV, year-1 ROI and break-even attribution. Every formula cell also carries
the value :mod:`kpi.roi` computed, for viewers that do not recalculate.

``read_lines(con, stored)`` reads the lines from the warehouse's staging tables through the
read-only connection of ``kpi roi`` (the ROI marts store sums per month only); where they do not
add up to the stored series (staging changed since ``kpi run`` built it) a difference line says
so, so that the workbook's figures are always those of ``kpi roi``. ``workbook_bytes(...)``
writes the file in memory. Imports only the standard library and :mod:`kpi` (xlsxwriter when
writing): ``kpi roi`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kpi.roi import LEDGER_CATEGORIES, TORNADO, TORNADO_CASES, Month

__all__ = ["SHEETS", "WorkbookLines", "read_lines", "workbook_bytes"]

#: The sheets, in order.
SHEETS: tuple[str, ...] = ("Assumptions", "Summary", "Monthly", "Quarterly", "Sensitivity", "Plan vs actual",
                           "Ledger", "Participant time", "Benefits")

#: Defined names of the Assumptions sheet's "value used" cells that the formulas read.
NAMES: dict[str, str] = {
    "assumed_attribution": "benefits.attribution",
    "assumed_confidence": "benefits.confidence",
    "assumed_discount_rate": "roi.discount_rate_annual",
    "assumed_hourly_cost_scale": "what_if.hourly_cost_scale",
    "assumed_cost_scale": "what_if.cost_scale",
}

TOL = "1E-9"  # kpi.roi._EPS: cumulative costs within this of zero count as zero
DIFFERENCE = ("difference to marts.roi_monthly: staging changed since kpi run built the ROI tables "
              "(run kpi run again to see its lines)")
NO_STAGING = ("the month's total from marts.roi_monthly: this file has no staging tables to read the lines from "
              "(an aggregates file holds the marts only; export from the warehouse for the lines)")
LEDGER_PARTS = tuple(f"cost_{c}" for c in LEDGER_CATEGORIES)


# --------------------------------------------------------------------------------------------
# The lines
# --------------------------------------------------------------------------------------------


@dataclass
class WorkbookLines:
    """The lines of the Ledger, Participant time and Benefits sheets (difference lines included)."""

    ledger: list[dict[str, Any]] = field(default_factory=list)
    participant: list[dict[str, Any]] = field(default_factory=list)
    benefits: list[dict[str, Any]] = field(default_factory=list)
    min_group_size: int = 5
    difference_note: str = DIFFERENCE  # what a difference line says


def _time_savings(line: Mapping[str, Any]) -> float | None:
    """hours_saved × hourly cost as the workbook's formulas compute it; None: no time savings."""
    if line.get("difference"):
        return line.get("time_savings_eur")
    cases, minutes, bc, bm, hourly = (line.get(k) for k in ("cases", "handling_minutes", "baseline_cases",
                                                            "baseline_minutes", "hourly_cost_eur"))
    if not cases or cases <= 0 or minutes is None or not bc or bm is None or hourly is None:
        return None
    return (bm / bc - minutes / cases) * cases / 60 * hourly


def _quality_savings(line: Mapping[str, Any]) -> float | None:
    """errors_avoided × cost per error as the workbook's formulas compute it; None: none."""
    if line.get("difference"):
        return line.get("quality_savings_eur")
    cases, cwe, errors, bcwe, berrors, cpe = (line.get(k) for k in (
        "cases", "cases_with_errors", "errors", "baseline_cases_with_errors", "baseline_errors",
        "cost_per_error_eur"))
    if not cwe or cwe <= 0 or errors is None or not bcwe or berrors is None or cases is None or cpe is None:
        return None
    return (berrors / bcwe - errors / cwe) * cases * cpe


def _participant_cost(line: Mapping[str, Any]) -> float:
    if line.get("hours") is not None and line.get("hourly_cost_eur") is not None:
        return line["hours"] * line["hourly_cost_eur"]
    return line["cost_eur"]


def _rows(con: Any, query: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    cur = con.execute(query, dict(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


_LEDGER_SQL = """
SELECT c.booked_on,
       greatest(1, date_diff('month', date_trunc('month', $start::DATE)::DATE,
                             date_trunc('month', c.booked_on)::DATE) + 1)::INTEGER AS m,
       c.category,
       'cost_' || CASE WHEN c.category IN ('external_training', 'internal_time', 'licenses', 'materials')
                       THEN c.category ELSE 'other' END AS part,
       c.department, c.description, c.amount_eur
FROM staging.costs AS c
ORDER BY m, c.booked_on, c.category, c.amount_eur, c.description
"""

# Participant time per month and the trainee's department: trainings, distinct people, hours and
# Σ hours × hourly cost (HR's, else the target group's rate); every status counts.
_PARTICIPANT_SQL = """
SELECT greatest(1, date_diff('month', date_trunc('month', $start::DATE)::DATE,
                             date_trunc('month', t.started_on)::DATE) + 1)::INTEGER AS m,
       e.department,
       count(*) AS trainings,
       count(DISTINCT t.employee_key) AS people,
       sum(t.hours)::DOUBLE AS hours,
       sum(t.hours * e.hourly_cost_eur)::DOUBLE AS cost_eur
FROM staging.trainings AS t
INNER JOIN staging.employees AS e ON e.employee_key = t.employee_key
GROUP BY 1, 2
ORDER BY 1, 2
"""


def read_lines(con: Any, stored: Any) -> WorkbookLines:
    """The lines behind the stored series (``stored`` a :class:`kpi.roi_marts.StoredRoi`), from
    ``staging.costs``, ``staging.trainings``, ``staging.employees`` and ``staging.process_metrics``
    with the parameters stored in ``marts.roi_assumptions``; difference lines where they do not add
    up to the stored months."""
    import duckdb

    from kpi.paths import read_sql

    values = {r["name"]: r for r in stored.assumption_rows}

    def number(name: str, default: float) -> float:
        row = values.get(name)
        return default if row is None or row["value"] is None else float(row["value"])

    series: list[Month] = stored.series
    n = len(series)
    k = int(number("privacy.min_group_size", 5))
    out = WorkbookLines(min_group_size=k)
    start_row = values.get("program.start")
    if n and start_row is not None:
        start = dt.date.fromisoformat(start_row["value_text"])
        prefix = "benefits.cost_per_error_eur."
        cpe = {r["name"][len(prefix):]: float(r["value"]) for r in stored.assumption_rows
               if r["name"].startswith(prefix) and r["value"] is not None}
        default_cpe = cpe.pop("default", 50.0)
        try:
            out.ledger = [r for r in _rows(con, _LEDGER_SQL, {"start": start}) if r["m"] <= n]
            if number("benefits.include_training_time", 1.0):
                out.participant = _pool_small_groups(
                    [r for r in _rows(con, _PARTICIPANT_SQL, {"start": start}) if r["m"] <= n], k)
            out.benefits = _rows(con, read_sql("intermediate/int_roi_benefit_lines.sql"), {
                "program_start": start, "baseline_months": int(number("program.baseline_months", 3)),
                "last_month": n, "min_group_size": k, "cost_per_error_process": list(cpe),
                "cost_per_error_eur": list(cpe.values()), "default_cost_per_error": default_cpe})
        except duckdb.CatalogException:  # no staging tables (an aggregates file): the difference lines carry all
            out = WorkbookLines(min_group_size=k, difference_note=NO_STAGING)
    _add_differences(out, series)
    return out


def _pool_small_groups(rows: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """Departments with fewer than k trainees in a month are pooled into one line of the month;
    a pooled line of fewer than k people shows its cost only (its hours and hourly cost would
    describe fewer than k people: docs/privacy.md). The month's total is in marts.roi_monthly."""
    out: list[dict[str, Any]] = []
    for m in sorted({r["m"] for r in rows}):
        month = [r for r in rows if r["m"] == m]
        small = [r for r in month if r["people"] < k]
        for r in month:
            if r["people"] >= k:
                out.append({**r, "hourly_cost_eur": r["cost_eur"] / r["hours"] if r["hours"] else None})
        if small:
            people = sum(r["people"] for r in small)
            hours = math.fsum(r["hours"] for r in small)
            cost = math.fsum(r["cost_eur"] for r in small)
            line = {"m": m, "department": f"(departments with fewer than {k} trainees)",
                    "trainings": sum(r["trainings"] for r in small), "people": people, "hours": None,
                    "hourly_cost_eur": None, "cost_eur": cost,
                    "note": f"fewer than {k} trainees: hours and hourly cost withheld (docs/privacy.md)"}
            if people >= k and hours:
                line.update(hours=hours, hourly_cost_eur=cost / hours, note="")
            out.append(line)
    for r in out:
        if r["hours"] is not None and not r["hours"]:  # no hours: nothing to multiply
            r["hours"] = r["hourly_cost_eur"] = None
    return out


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def _add_differences(lines: WorkbookLines, series: Sequence[Month]) -> None:
    """A difference line for every month and part where the lines do not add up to the stored series."""
    note = lines.difference_note
    for mo in series:
        for part in LEDGER_PARTS:
            have = math.fsum(r["amount_eur"] for r in lines.ledger if r["m"] == mo.m and r["part"] == part)
            want = getattr(mo, part)
            if not _close(have, want):
                lines.ledger.append({"booked_on": None, "m": mo.m, "category": part[len("cost_"):], "part": part,
                                     "department": None, "description": note, "amount_eur": want - have,
                                     "difference": True})
        have = math.fsum(_participant_cost(r) for r in lines.participant if r["m"] == mo.m)
        if not _close(have, mo.cost_participant_time):
            lines.participant.append({"m": mo.m, "department": "(difference)", "trainings": None, "people": None,
                                      "hours": None, "hourly_cost_eur": None,
                                      "cost_eur": mo.cost_participant_time - have, "note": note,
                                      "difference": True})
        month = [r for r in lines.benefits if r["m"] == mo.m]
        time = math.fsum(x for x in map(_time_savings, month) if x is not None)
        quality = math.fsum(x for x in map(_quality_savings, month) if x is not None)
        if not (_close(time, mo.time_savings_eur) and _close(quality, mo.quality_savings_eur)):
            lines.benefits.append({"m": mo.m, "month": mo.month, "process": "(difference)", "department": None,
                                   "time_savings_eur": mo.time_savings_eur - time,
                                   "quality_savings_eur": mo.quality_savings_eur - quality, "note": note,
                                   "difference": True})
    lines.ledger.sort(key=lambda r: (r["m"], r.get("difference", False)))
    lines.participant.sort(key=lambda r: (r["m"], r.get("difference", False)))
    lines.benefits.sort(key=lambda r: (r["m"], r.get("difference", False)))


# --------------------------------------------------------------------------------------------
# The workbook
# --------------------------------------------------------------------------------------------


def _cell(row: int, col: int, absolute: bool = False) -> str:
    from xlsxwriter.utility import xl_rowcol_to_cell

    return xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)


def _col(sheet: str, col: int, first: int, last: int) -> str:
    """An absolute column range of a sheet, rows first..last (0-based; at least one row)."""
    quoted = f"'{sheet}'" if " " in sheet else sheet
    return f"{quoted}!{_cell(first, col, True)}:{_cell(max(first, last), col, True)}"


def _ref(sheet: str, row: int, col: int) -> str:
    quoted = f"'{sheet}'" if " " in sheet else sheet
    return f"{quoted}!{_cell(row, col, True)}"


def _blank(value: Any) -> Any:
    """The cached value of a formula whose result is 'not defined' (the formula gives "")."""
    return "" if value is None else value


class _Writer:
    """Thin helpers over an xlsxwriter workbook: formats, headers, values and formulas."""

    def __init__(self, wb: Any, currency: str) -> None:
        self.wb = wb
        add = wb.add_format
        self.fmt = {
            "header": add({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"}),
            "eur": add({"num_format": f'#,##0.00 "{currency}"'}),
            "pct": add({"num_format": '0.0" %"'}),
            "ratio": add({"num_format": "0.00"}),
            "fraction": add({"num_format": "0.0000"}),
            "months": add({"num_format": '0.00" months"'}),
            "int": add({"num_format": "0"}),
            "date": add({"num_format": "yyyy-mm-dd"}),
            "month": add({"num_format": "yyyy-mm"}),
            "number": add({"num_format": "General"}),
            "decimal": add({"num_format": "#,##0.00"}),
            "factor": add({"num_format": "0.000000"}),
            "pts": add({"num_format": '0.0" pts"'}),
            "label": add({"bold": True}),
            "text": None,
        }

    def sheet(self, name: str, columns: Sequence[str], widths: Mapping[str, int] | None = None) -> Any:
        ws = self.wb.add_worksheet(name)
        for c, column in enumerate(columns):
            ws.write_string(0, c, column, self.fmt["header"])
            ws.set_column(c, c, (widths or {}).get(column, max(12, min(len(column) + 2, 28))))
        ws.freeze_panes(1, 0)
        return ws

    def value(self, ws: Any, row: int, col: int, value: Any, kind: str = "number") -> None:
        from kpi.export import safe_cell

        if value is None:
            return
        fmt = self.fmt.get(kind)
        if isinstance(value, bool):
            ws.write_boolean(row, col, value)
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), fmt)
        elif isinstance(value, (int, float)):
            ws.write_number(row, col, value, fmt)
        else:
            ws.write_string(row, col, safe_cell(str(value)), fmt)

    def formula(self, ws: Any, row: int, col: int, text: str, value: Any, kind: str = "number") -> None:
        if isinstance(value, bool):
            value = int(value)
        elif isinstance(value, dt.date):  # the cached value of a date is its serial number
            value = (value - dt.date(1899, 12, 30)).days
        ws.write_formula(row, col, text, self.fmt.get(kind), _blank(value))


def _kind(column: str) -> str:
    if column == "month":
        return "month"
    if column in ("m", "break_even_month", "cases", "trainings", "people"):
        return "int"
    if column.endswith("roi_pct"):
        return "pct"
    if column == "bcr":
        return "ratio"
    if column.endswith("payback_months"):
        return "months"
    if column.endswith("break_even_attribution"):
        return "fraction"
    if column == "swing":
        return "pts"
    if column.startswith("x_"):
        return "number"
    if column in ("quarter", "assumption", "case", "category", "note"):
        return "text"
    return "eur"


def workbook_bytes(result: Mapping[str, Any], assumption_table: Sequence[Mapping[str, Any]]) -> bytes:
    """The workbook as bytes. ``result`` is what ``kpi roi`` computed (kpi/cli.py ``_roi_compute``)
    and ``assumption_table`` its assumptions with the values used; the lines are
    ``result["stored"].workbook_lines`` (when None, difference lines carry every month)."""
    import io

    import xlsxwriter

    stored = result["stored"]
    lines = stored.workbook_lines
    if lines is None:
        lines = WorkbookLines()
        _add_differences(lines, stored.series)
    buffer = io.BytesIO()  # built in memory, then written whole or not at all
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    w = _Writer(wb, stored.currency)
    names = _assumptions_sheet(w, assumption_table)
    for name, row in names.items():
        wb.define_name(name, f"={_ref('Assumptions', row, 1)}")
    summary_ws = wb.add_worksheet("Summary")  # filled last: it reads Monthly's cells
    monthly_ws = w.sheet("Monthly", MONTHLY_SHEET_COLUMNS)
    quarterly_ws = w.sheet("Quarterly", result["quarterly_columns"])
    sensitivity_ws = w.sheet("Sensitivity", SENSITIVITY_SHEET_COLUMNS, {"note": 90})
    _plan_sheet(w, stored.plan_vs_actual)
    ledger = _ledger_sheet(w, lines.ledger)
    participant = _participant_sheet(w, lines.participant)
    benefits = _benefits_sheet(w, lines.benefits)
    cells = _monthly_sheet(w, monthly_ws, result, ledger, participant, benefits)
    at = _summary_sheet(w, summary_ws, result, cells)
    _quarterly_sheet(w, quarterly_ws, result, cells, at)
    _sensitivity_sheet(w, sensitivity_ws, result, at)
    wb.close()
    return buffer.getvalue()


def _assumptions_sheet(w: _Writer, table: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """The Assumptions sheet (first); returns defined name -> row of its value."""
    columns = ("name", "value", "configured", "unit", "source", "overridden", "explanation")
    ws = w.sheet("Assumptions", columns, {"name": 52, "value": 14, "configured": 14, "unit": 12, "source": 20,
                                          "overridden": 11, "explanation": 100})
    unit_format = {"EUR": "eur", "EUR/hour": "eur", "EUR/error": "eur", "months": "number"}
    rows: dict[str, int] = {}
    for r, row in enumerate(table, start=1):
        rows[row["name"]] = r
        numeric = row["unit"] not in ("date", "code", "boolean") and row["value"] is not None
        for c, column in enumerate(columns):
            value = row[column]
            if column in ("value", "configured") and not numeric:
                value = row["value_text"]
            kind = unit_format.get(row["unit"], "number") if isinstance(value, (int, float)) else "text"
            w.value(ws, r, c, value, "number" if isinstance(value, bool) else kind)
    ws.autofilter(0, 0, len(table), len(columns) - 1)
    missing = [key for key in NAMES.values() if key not in rows]
    if missing:
        raise ValueError(f"the assumptions lack {missing}")
    return {name: rows[key] for name, key in NAMES.items()}


def _plan_sheet(w: _Writer, rows: Sequence[Mapping[str, Any]]) -> None:
    columns = ("category", "plan_eur", "actual_eur", "difference_eur")
    ws = w.sheet("Plan vs actual", columns)
    for r, row in enumerate(rows, start=1):
        for c, column in enumerate(columns):
            w.value(ws, r, c, row[column], _kind(column))
    if rows:
        ws.autofilter(0, 0, len(rows), len(columns) - 1)


LEDGER_COLUMNS = ("booked_on", "m", "category", "part", "department", "description", "amount_eur")


def _ledger_sheet(w: _Writer, lines: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Every ledger line used (as booked); returns the ranges the Monthly sheet sums."""
    ws = w.sheet("Ledger", LEDGER_COLUMNS, {"description": 60, "department": 20, "part": 24, "amount_eur": 18})
    kinds = {"booked_on": "date", "m": "int", "amount_eur": "eur"}
    for r, line in enumerate(lines, start=1):
        for c, column in enumerate(LEDGER_COLUMNS):
            w.value(ws, r, c, line.get(column), kinds.get(column, "text"))
    ws.autofilter(0, 0, max(1, len(lines)), len(LEDGER_COLUMNS) - 1)
    last = len(lines)
    return {"m": _col("Ledger", 1, 1, last), "part": _col("Ledger", 3, 1, last),
            "amount": _col("Ledger", 6, 1, last)}


PARTICIPANT_COLUMNS = ("m", "department", "trainings", "people", "hours", "hourly_cost_eur", "cost_eur", "note")


def _participant_sheet(w: _Writer, lines: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Participant time per month and department: cost = hours × hourly cost (a formula)."""
    ws = w.sheet("Participant time", PARTICIPANT_COLUMNS, {"department": 34, "note": 80, "cost_eur": 18})
    kinds = {"m": "int", "trainings": "int", "people": "int", "hours": "decimal", "hourly_cost_eur": "eur",
             "department": "text", "note": "text"}
    for r, line in enumerate(lines, start=1):
        for c, column in enumerate(PARTICIPANT_COLUMNS):
            if column == "cost_eur":
                if line.get("hours") is not None and line.get("hourly_cost_eur") is not None:
                    w.formula(ws, r, c, f"={_cell(r, 4)}*{_cell(r, 5)}", _participant_cost(line), "eur")
                else:
                    w.value(ws, r, c, line["cost_eur"], "eur")
            else:
                w.value(ws, r, c, line.get(column), kinds[column])
    ws.autofilter(0, 0, max(1, len(lines)), len(PARTICIPANT_COLUMNS) - 1)
    last = len(lines)
    return {"m": _col("Participant time", 0, 1, last), "cost": _col("Participant time", 6, 1, last)}


BENEFIT_COLUMNS = (
    "m", "month", "process", "department", "cases", "handling_minutes", "minutes_per_case", "baseline_cases",
    "baseline_minutes", "baseline_minutes_per_case", "hours_saved", "hourly_cost_eur", "hourly_cost_pooled",
    "time_savings_eur", "cases_with_errors", "errors", "error_rate", "baseline_cases_with_errors",
    "baseline_errors", "baseline_error_rate", "errors_avoided", "cost_per_error_eur", "quality_savings_eur", "note",
)


def _benefits_sheet(w: _Writer, lines: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Benefits by process, department and month, computed with formulas from cases, minutes,
    errors, their baselines, the hourly cost and the cost per error."""
    ws = w.sheet("Benefits", BENEFIT_COLUMNS, {"note": 70, "process": 18, "department": 20})
    col = {c: i for i, c in enumerate(BENEFIT_COLUMNS)}
    kinds = {"m": "int", "month": "month", "process": "text", "department": "text", "cases": "int",
             "handling_minutes": "decimal", "baseline_cases": "int", "baseline_minutes": "decimal",
             "hourly_cost_eur": "eur", "hourly_cost_pooled": "number", "cases_with_errors": "int", "errors": "int",
             "baseline_cases_with_errors": "int", "baseline_errors": "int", "cost_per_error_eur": "eur",
             "note": "text"}
    for r, line in enumerate(lines, start=1):
        def at(name: str, row: int = r) -> str:
            return _cell(row, col[name])

        for column, kind in kinds.items():
            if column != "note":
                w.value(ws, r, col[column], line.get(column), kind)
        if line.get("difference"):
            w.value(ws, r, col["time_savings_eur"], line["time_savings_eur"], "eur")
            w.value(ws, r, col["quality_savings_eur"], line["quality_savings_eur"], "eur")
            w.value(ws, r, col["note"], line.get("note", DIFFERENCE), "text")
            continue
        notes = []
        time = _time_savings(line)
        if time is not None:
            cases, bc = line["cases"], line["baseline_cases"]
            mpc, bmpc = line["handling_minutes"] / cases, line["baseline_minutes"] / bc
            w.formula(ws, r, col["minutes_per_case"], f"={at('handling_minutes')}/{at('cases')}", mpc, "decimal")
            w.formula(ws, r, col["baseline_minutes_per_case"], f"={at('baseline_minutes')}/{at('baseline_cases')}",
                      bmpc, "decimal")
            w.formula(ws, r, col["hours_saved"],
                      f"=({at('baseline_minutes_per_case')}-{at('minutes_per_case')})*{at('cases')}/60",
                      (bmpc - mpc) * cases / 60, "decimal")
            w.formula(ws, r, col["time_savings_eur"], f"={at('hours_saved')}*{at('hourly_cost_eur')}", time, "eur")
        elif not line.get("cases"):
            notes.append("no cases: no time savings")
        elif not line.get("baseline_cases") or line.get("baseline_minutes") is None:
            notes.append("no baseline: no benefit (docs/roi.md, conservative choices)")
        elif line.get("hourly_cost_eur") is None:
            notes.append("nobody in HR in this department this month: no time savings")
        else:
            notes.append("no handling minutes: no time savings")
        quality = _quality_savings(line)
        if quality is not None:
            rate = line["errors"] / line["cases_with_errors"]
            base = line["baseline_errors"] / line["baseline_cases_with_errors"]
            w.formula(ws, r, col["error_rate"], f"={at('errors')}/{at('cases_with_errors')}", rate, "factor")
            w.formula(ws, r, col["baseline_error_rate"], f"={at('baseline_errors')}/{at('baseline_cases_with_errors')}",
                      base, "factor")
            w.formula(ws, r, col["errors_avoided"], f"=({at('baseline_error_rate')}-{at('error_rate')})*{at('cases')}",
                      (base - rate) * line["cases"], "decimal")
            w.formula(ws, r, col["quality_savings_eur"], f"={at('errors_avoided')}*{at('cost_per_error_eur')}",
                      quality, "eur")
        elif not line.get("cases_with_errors"):
            notes.append("no errors reported: no quality savings (unknown is not zero)")
        else:
            notes.append("no baseline error rate: no quality savings")
        if line.get("hourly_cost_pooled"):
            notes.append("department of fewer than k people: the company's hourly cost")
        w.value(ws, r, col["note"], "; ".join(notes) or None, "text")
    ws.autofilter(0, 0, max(1, len(lines)), len(BENEFIT_COLUMNS) - 1)
    last = len(lines)
    return {"m": _col("Benefits", col["m"], 1, last), "time": _col("Benefits", col["time_savings_eur"], 1, last),
            "quality": _col("Benefits", col["quality_savings_eur"], 1, last)}


# The Monthly sheet: the columns of marts.roi_monthly, then the helper columns its figures need.
MONTHLY_HELPERS = (
    "ledger_as_booked", "participant_time_as_measured", "time_savings_as_measured", "quality_savings_as_measured",
    "discount_factor", "break_even_here", "payback_if_break_even_here", "discounted_costs",
    "discounted_benefits", "cum_discounted_costs", "cum_discounted_benefits", "npv", "discounted_break_even_here",
    "discounted_payback_if_break_even_here", "break_even_attribution",
)
MONTHLY_SHEET_COLUMNS = (
    "month", "m", "cost_external_training", "cost_internal_time", "cost_licenses", "cost_materials", "cost_other",
    "cost_participant_time", "costs", "time_savings_eur", "quality_savings_eur", "gross_benefits", "benefits",
    "estimated_benefits", "cum_costs", "cum_benefits", "roi_pct", "bcr", "cum_gross_benefits",
    "cum_estimated_benefits", *MONTHLY_HELPERS,
)


def _payback_values(costs: Sequence[float], benefits: Sequence[float]) -> tuple[list[Any], list[float]]:
    """Per month: m where CC > 0 and CB ≥ CC (else None), and the payback if break-even were there."""
    here, payback = [], []
    cc = cb = 0.0
    for n, (c, b) in enumerate(zip(costs, benefits), start=1):
        gap = cc - cb
        cc += c
        cb += b
        here.append(n if cc > 1e-9 and cb >= cc - 1e-9 * max(1.0, abs(cc)) else None)
        net = b - c
        payback.append(float(n) if abs(net) <= 1e-9 * max(1.0, abs(b), abs(c))
                       else (n - 1) + min(1.0, max(0.0, gap / net)))
    return here, payback


def _bea_value(cc: float, cum_gross: float, confidence: float) -> Any:
    if cc <= 1e-9:
        return "n/a"
    full = min(1.0, confidence) * cum_gross
    if full <= 0 or cc / full > 1 + 1e-9:
        return "none"
    return min(1.0, cc / full)


def _bea_formula(cc: str, cum_gross: str) -> str:
    full = f"(MIN(1,assumed_confidence)*{cum_gross})"
    return (f'=IF({cc}<={TOL},"n/a",IF({full}<=0,"none",IF({cc}/{full}>1+{TOL},"none",'
            f"MIN(1,{cc}/{full}))))")


def _monthly_sheet(w: _Writer, ws: Any, result: Mapping[str, Any], ledger: Mapping[str, str],
                   participant: Mapping[str, str], benefits: Mapping[str, str]) -> dict[str, Any]:
    """Monthly: every figure a formula over the line sheets and the assumptions; returns where things are."""
    a = result["assumptions"]
    rows = result["monthly"]
    series = result["stored"].series
    col = {c: i for i, c in enumerate(MONTHLY_SHEET_COLUMNS)}
    n = len(rows)
    r_m = monthly_rate(a.discount_rate_annual)
    factors = [(1.0 + r_m) ** -(m - 1) for m in range(1, n + 1)]
    costs = [row["costs"] for row in rows]
    bens = [row["benefits"] for row in rows]
    here, payback = _payback_values(costs, bens)
    dcosts = [c * k for c, k in zip(costs, factors)]
    dbens = [b * k for b, k in zip(bens, factors)]
    dhere, dpayback = _payback_values(dcosts, dbens)
    cum_dc = cum_db = 0.0
    for i, (row, mo) in enumerate(zip(rows, series)):
        r = i + 1

        def at(name: str, row_: int = r) -> str:
            return _cell(row_, col[name])

        def put(name: str, text: str, value: Any, kind: str | None = None, r: int = r) -> None:
            w.formula(ws, r, col[name], text, value, kind or _kind(name))

        w.value(ws, r, col["month"], row["month"], "month")
        w.value(ws, r, col["m"], row["m"], "int")
        m_ref = at("m")
        put("ledger_as_booked", f"=SUMIFS({ledger['amount']},{ledger['m']},{m_ref})", mo.ledger_costs, "eur")
        put("participant_time_as_measured", f"=SUMIFS({participant['cost']},{participant['m']},{m_ref})",
            mo.cost_participant_time, "eur")
        put("time_savings_as_measured", f"=SUMIFS({benefits['time']},{benefits['m']},{m_ref})",
            mo.time_savings_eur, "eur")
        put("quality_savings_as_measured", f"=SUMIFS({benefits['quality']},{benefits['m']},{m_ref})",
            mo.quality_savings_eur, "eur")
        for part in LEDGER_PARTS:
            put(part, f'=SUMIFS({ledger["amount"]},{ledger["m"]},{m_ref},{ledger["part"]},"{part}")'
                      "*assumed_cost_scale", row[part])
        put("cost_participant_time", f"={at('participant_time_as_measured')}*assumed_hourly_cost_scale"
                                     "*assumed_cost_scale", row["cost_participant_time"])
        put("costs", f"=SUM({at('cost_external_training')}:{at('cost_participant_time')})", row["costs"])
        put("time_savings_eur", f"={at('time_savings_as_measured')}*assumed_hourly_cost_scale",
            row["time_savings_eur"])
        put("quality_savings_eur", f"={at('quality_savings_as_measured')}", row["quality_savings_eur"])
        put("gross_benefits", f"={at('time_savings_eur')}+{at('quality_savings_eur')}", row["gross_benefits"])
        put("benefits", f"={at('gross_benefits')}*MIN(1,assumed_attribution)*MIN(1,assumed_confidence)",
            row["benefits"])
        if mo.estimated_benefits is not None:
            put("estimated_benefits", f"={mo.estimated_benefits!r}*assumed_hourly_cost_scale",
                row["estimated_benefits"])
        first = r == 1
        put("cum_costs", f"={at('costs')}" if first else f"={at('cum_costs', r - 1)}+{at('costs')}",
            row["cum_costs"])
        put("cum_benefits", f"={at('benefits')}" if first else f"={at('cum_benefits', r - 1)}+{at('benefits')}",
            row["cum_benefits"])
        cc, cb = at("cum_costs"), at("cum_benefits")
        put("roi_pct", f'=IF({cc}<={TOL},"",({cb}-{cc})/{cc}*100)', row["roi_pct"])
        put("bcr", f'=IF({cc}<={TOL},"",{cb}/{cc})', row["bcr"])
        put("cum_gross_benefits", f"={at('gross_benefits')}" if first
            else f"={at('cum_gross_benefits', r - 1)}+{at('gross_benefits')}", row["cum_gross_benefits"])
        if row["cum_estimated_benefits"] is not None:
            est = at("estimated_benefits")
            put("cum_estimated_benefits", f"={est}" if first or rows[i - 1]["cum_estimated_benefits"] is None
                else f"={at('cum_estimated_benefits', r - 1)}+{est}", row["cum_estimated_benefits"])
        put("discount_factor", f"=(1+((1+assumed_discount_rate)^(1/12)-1))^(-({m_ref}-1))", factors[i], "factor")
        put("break_even_here", f'=IF(AND({cc}>{TOL},{cb}>={cc}-{TOL}*MAX(1,ABS({cc}))),{m_ref},"")', here[i], "int")
        gap = "0" if first else f"({at('cum_costs', r - 1)}-{at('cum_benefits', r - 1)})"
        b_, c_ = at("benefits"), at("costs")
        put("payback_if_break_even_here", f"=IF(ABS({b_}-{c_})<={TOL}*MAX(1,ABS({b_}),ABS({c_})),{m_ref},"
                                          f"({m_ref}-1)+MIN(1,MAX(0,{gap}/({b_}-{c_}))))", payback[i], "months")
        put("discounted_costs", f"={c_}*{at('discount_factor')}", dcosts[i], "eur")
        put("discounted_benefits", f"={b_}*{at('discount_factor')}", dbens[i], "eur")
        cum_dc += dcosts[i]
        cum_db += dbens[i]
        put("cum_discounted_costs", f"={at('discounted_costs')}" if first
            else f"={at('cum_discounted_costs', r - 1)}+{at('discounted_costs')}", cum_dc, "eur")
        put("cum_discounted_benefits", f"={at('discounted_benefits')}" if first
            else f"={at('cum_discounted_benefits', r - 1)}+{at('discounted_benefits')}", cum_db, "eur")
        dcc, dcb = at("cum_discounted_costs"), at("cum_discounted_benefits")
        put("npv", f"={dcb}-{dcc}", cum_db - cum_dc, "eur")
        put("discounted_break_even_here", f'=IF(AND({dcc}>{TOL},{dcb}>={dcc}-{TOL}*MAX(1,ABS({dcc}))),{m_ref},"")',
            dhere[i], "int")
        db_, dc_ = at("discounted_benefits"), at("discounted_costs")
        dgap = "0" if first else f"({at('cum_discounted_costs', r - 1)}-{at('cum_discounted_benefits', r - 1)})"
        put("discounted_payback_if_break_even_here",
            f"=IF(ABS({db_}-{dc_})<={TOL}*MAX(1,ABS({db_}),ABS({dc_})),{m_ref},"
            f"({m_ref}-1)+MIN(1,MAX(0,{dgap}/({db_}-{dc_}))))", dpayback[i], "months")
        put("break_even_attribution", _bea_formula(cc, at("cum_gross_benefits")),
            _bea_value(row["cum_costs"], row["cum_gross_benefits"], a.confidence))
    if n:
        ws.autofilter(0, 0, n, len(MONTHLY_SHEET_COLUMNS) - 1)
    return {"col": col, "n": n}


def monthly_rate(annual: float) -> float:
    return (1.0 + annual) ** (1.0 / 12.0) - 1.0


def _summary_sheet(w: _Writer, ws: Any, result: Mapping[str, Any], cells: Mapping[str, Any]) -> dict[str, str]:
    """Summary: the figures at horizon, each a formula over Monthly and the assumptions; returns
    the cells other sheets read."""
    s, a = result["summary"], result["assumptions"]
    col, n = cells["col"], cells["n"]
    ws.write_string(0, 0, "figure", w.fmt["header"])
    ws.write_string(0, 1, "value", w.fmt["header"])
    ws.write_string(0, 2, "how (every value is a formula: change the Assumptions sheet and it recalculates)",
                    w.fmt["header"])
    ws.set_column(0, 0, 44)
    ws.set_column(1, 1, 20)
    ws.set_column(2, 2, 110)
    ws.freeze_panes(1, 0)
    where: dict[str, str] = {}
    row = 0

    def monthly(name: str, m: int) -> str:
        return _ref("Monthly", m, col[name])

    def monthly_range(name: str) -> str:
        return _col("Monthly", col[name], 1, n)

    def add(key: str, label: str, formula: str | None, value: Any, kind: str, how: str) -> None:
        nonlocal row
        row += 1
        ws.write_string(row, 0, label, w.fmt["label"])
        if formula is None:
            w.value(ws, row, 1, value, kind)
        else:
            w.formula(ws, row, 1, formula, value, kind)
        ws.write_string(row, 2, how)
        where[key] = _ref("Summary", row, 1)

    if n == 0:
        add("empty", "The ROI series is empty", None, "n/a", "text",
            "no cost or process data from program.start on (docs/roi.md)")
        return where
    be, pb = s.break_even_month, s.payback_months
    horizon = s.m
    add("horizon", "Horizon (month m)", f"=MAX({monthly_range('m')})", horizon, "int",
        "the last month of the series (roi.horizon_months at most)")
    add("attribution", "Attribution credited", "=MIN(1,assumed_attribution)", a.effective_attribution, "fraction",
        "benefits.attribution on the Assumptions sheet, capped at 1")
    add("confidence", "Confidence credited", "=MIN(1,assumed_confidence)", a.effective_confidence, "fraction",
        "benefits.confidence on the Assumptions sheet, capped at 1")
    add("cum_costs", "Cumulative costs", f"={monthly('cum_costs', n)}", s.cum_costs, "eur",
        "Monthly: ledger lines (Ledger) + participant time (Participant time), with the what-if scales")
    add("cum_gross_benefits", "Cumulative gross benefits", f"={monthly('cum_gross_benefits', n)}",
        s.cum_gross_benefits, "eur", "Monthly: time and quality savings (Benefits)")
    add("cum_benefits", "Cumulative benefits", f"={monthly('cum_benefits', n)}", s.cum_benefits, "eur",
        "gross x attribution x confidence")
    cc, cb = where["cum_costs"], where["cum_benefits"]
    add("roi", "ROI (%)", f'=IF({cc}<={TOL},"n/a",({cb}-{cc})/{cc}*100)', s.roi_pct if s.roi_pct is not None
        else "n/a", "pct", "(benefits - costs) / costs x 100")
    add("bcr", "Benefit-cost ratio (BCR)", f'=IF({cc}<={TOL},"n/a",{cb}/{cc})',
        s.bcr if s.bcr is not None else "n/a", "ratio", "benefits / costs")
    here = monthly_range("break_even_here")
    add("break_even_month", "Break-even month", f'=IF(COUNT({here})=0,"not reached",MIN({here}))',
        be if be is not None else "not reached", "int",
        "the first month with cumulative benefits >= cumulative costs (Monthly: break_even_here)")
    bem = where["break_even_month"]
    be_date = result["stored"].series[be - 1].month if be is not None else ""
    add("break_even_calendar_month", "Break-even calendar month",
        f'=IF(ISNUMBER({bem}),INDEX({monthly_range("month")},{bem}),"")', be_date, "month", "")
    add("payback", "Payback (months)",
        f'=IF(ISNUMBER({bem}),INDEX({monthly_range("payback_if_break_even_here")},{bem}),"not reached")',
        pb if pb is not None else "not reached", "months",
        "(n - 1) + (CC(n-1) - CB(n-1)) / (B(n) - C(n)) at the break-even month n")
    add("npv", "NPV", f"={monthly('npv', n)}", s.npv, "eur",
        "sum of (B - C) / (1 + r)^(m - 1), r = (1 + roi.discount_rate_annual)^(1/12) - 1")
    dhere = monthly_range("discounted_break_even_here")
    dpb = s.discounted_payback_months
    add("discounted_break_even_month", "Discounted break-even month",
        f'=IF(COUNT({dhere})=0,"not reached",MIN({dhere}))',
        next((m for m, v in enumerate(_dhere_values(result), start=1) if v), None) or "not reached", "int",
        "the break-even month of the discounted flows")
    dbem = where["discounted_break_even_month"]
    add("discounted_payback", "Discounted payback (months)",
        f'=IF(ISNUMBER({dbem}),INDEX({monthly_range("discounted_payback_if_break_even_here")},{dbem}),'
        '"not reached")', dpb if dpb is not None else "not reached", "months",
        "the payback formula on the discounted flows")
    if n >= 12:
        c12, b12 = monthly("cum_costs", 12), monthly("cum_benefits", 12)
        add("year1_roi", "Year-1 ROI (%), months 1-12", f'=IF({c12}<={TOL},"n/a",({b12}-{c12})/{c12}*100)',
            s.year1_roi_pct if s.year1_roi_pct is not None else "n/a", "pct", "the ROI over months 1-12 only")
    else:
        add("year1_roi", "Year-1 ROI (%), months 1-12", None, "n/a", "text", "fewer than 12 months in the series")
    add("break_even_attribution", "Break-even attribution", f"={monthly('break_even_attribution', n)}",
        _bea_value(s.cum_costs, s.cum_gross_benefits, a.confidence), "fraction",
        "the attribution at which ROI = 0, the rest as on the Assumptions sheet: cumulative costs / (cumulative "
        "gross benefits x confidence); ROI stays positive as long as attribution >= it; none: ROI < 0 even at 1")
    if n >= 12:
        add("year1_break_even_attribution", "Year-1 break-even attribution",
            f"={monthly('break_even_attribution', 12)}",
            _bea_value(result["monthly"][11]["cum_costs"], result["monthly"][11]["cum_gross_benefits"],
                       a.confidence), "fraction", "the same over months 1-12 (year-1 ROI = 0)")
    else:
        add("year1_break_even_attribution", "Year-1 break-even attribution", None, "n/a", "text",
            "fewer than 12 months in the series")
    est = s.cum_estimated_benefits
    add("estimated", "Estimated benefits (ESTIMATE, NOT ADDED)",
        f"={monthly('cum_estimated_benefits', n)}" if est is not None else None,
        est if est is not None else "none", "eur" if est is not None else "text",
        "from tool interactions x benefits.time_saved_minutes_per_interaction; never added to benefits, ROI, BCR, "
        "payback or NPV")
    # The parts at horizon, as measured (before the what-if scales), plain and discounted: the
    # Sensitivity sheet's formulas read them.
    row += 1
    for key, label, name in (("ledger", "ledger", "ledger_as_booked"),
                             ("participant", "participant time", "participant_time_as_measured"),
                             ("time", "time savings", "time_savings_as_measured"),
                             ("quality", "quality savings", "quality_savings_as_measured")):
        values = [getattr(mo, {"ledger": "ledger_costs", "participant": "cost_participant_time",
                               "time": "time_savings_eur", "quality": "quality_savings_eur"}[key])
                  for mo in result["stored"].series[:n]]
        factors = [(1.0 + monthly_rate(a.discount_rate_annual)) ** -(m - 1) for m in range(1, n + 1)]
        add(f"sum_{key}", f"Sum of {label}, as measured", f"=SUM({monthly_range(name)})", math.fsum(values), "eur",
            "before the what-if scales; the Sensitivity sheet's formulas read it")
        add(f"dsum_{key}", f"Sum of {label}, as measured, discounted",
            f"=SUMPRODUCT({monthly_range(name)},{monthly_range('discount_factor')})",
            math.fsum(v * k for v, k in zip(values, factors)), "eur", "")
    return where


def _dhere_values(result: Mapping[str, Any]) -> list[Any]:
    rows = result["monthly"]
    a = result["assumptions"]
    factors = [(1.0 + monthly_rate(a.discount_rate_annual)) ** -(m - 1) for m in range(1, len(rows) + 1)]
    return _payback_values([r["costs"] * k for r, k in zip(rows, factors)],
                           [r["benefits"] * k for r, k in zip(rows, factors)])[0]


def _quarterly_sheet(w: _Writer, ws: Any, result: Mapping[str, Any], cells: Mapping[str, Any],
                     at: Mapping[str, str]) -> None:
    """Quarterly: each quarter as of its last month m, formulas over Monthly and Summary."""
    columns = result["quarterly_columns"]
    col = cells["col"]
    for r, row in enumerate(result["quarterly"], start=1):
        m = row["m"]

        def monthly(name: str, m: int = m) -> str:
            return _ref("Monthly", m, col[name])

        def by(key: str, value_key: str, m: int = m) -> str:
            return f'=IF(ISNUMBER({at[key]}),IF({at[key]}<={m},{at[value_key]},""),"")'

        formulas = {
            "cum_costs": f"={monthly('cum_costs')}",
            "cum_benefits": f"={monthly('cum_benefits')}",
            "cum_gross_benefits": f"={monthly('cum_gross_benefits')}",
            "roi_pct": f"={monthly('roi_pct')}",
            "bcr": f"={monthly('bcr')}",
            "break_even_month": by("break_even_month", "break_even_month"),
            "payback_months": by("break_even_month", "payback"),
            "npv": f"={monthly('npv')}",
            "discounted_payback_months": by("discounted_break_even_month", "discounted_payback"),
            "year1_roi_pct": f"={at['year1_roi']}" if m >= 12 else None,
            "break_even_attribution": f"={monthly('break_even_attribution')}",
            "year1_break_even_attribution": f"={at['year1_break_even_attribution']}" if m >= 12 else None,
        }
        for c, column in enumerate(columns):
            value = row.get(column)
            if column == "break_even_attribution" and value is None:  # the formula's text for None
                value = "none" if row["roi_pct"] is not None else "n/a"
            elif column == "year1_break_even_attribution" and value is None and m >= 12:
                value = "none" if row["year1_roi_pct"] is not None else "n/a"
            text = formulas.get(column)
            if text is None:
                w.value(ws, r, c, value, _kind(column) if column != "quarter" else "text")
            else:
                w.formula(ws, r, c, text, value, _kind(column))
    if result["quarterly"]:
        ws.autofilter(0, 0, len(result["quarterly"]), len(columns) - 1)


SENSITIVITY_SHEET_COLUMNS = ("assumption", "case", "x_attribution", "x_confidence", "x_hourly_cost",
                             "x_cost_per_error", "x_costs", "x_benefits", "roi_pct", "npv", "swing", "note")
# The Assumptions field a tornado row moves (kpi.roi.TORNADO) -> its multiplier column.
_MULTIPLIER_OF_FIELD = {"attribution": "attribution", "confidence": "confidence", "hourly_cost_scale": "hourly_cost",
                        "cost_per_error_scale": "cost_per_error", "cost_scale": "costs"}
_SAME = ("attribution and confidence multiply (B = G x attribution x confidence): moving either by the same "
         "factor moves the ROI identically (unless it would pass the cap of 1), so their rows are equal")


def _sensitivity_sheet(w: _Writer, ws: Any, result: Mapping[str, Any], at: Mapping[str, str]) -> None:
    """Sensitivity: the tornado and the scenarios as formulas over the Summary's parts at horizon
    and the assumptions (the order is the exported one: by swing)."""
    if "sum_ledger" not in at:
        return
    field_of = dict(TORNADO)
    factor_of = dict(TORNADO_CASES)
    scenarios = result["stored"].scenarios
    col = {c: i for i, c in enumerate(SENSITIVITY_SHEET_COLUMNS)}
    rows = result["sensitivity"]
    pair_rows: dict[str, list[int]] = {}
    for r, row in enumerate(rows, start=1):
        mult = dict.fromkeys(("attribution", "confidence", "hourly_cost", "cost_per_error", "costs", "benefits"), 1.0)
        if row["assumption"] == "scenario":
            m = scenarios.get(row["case"], {})
            mult.update(attribution=float(m.get("attribution", 1.0)), benefits=float(m.get("benefits", 1.0)),
                        costs=float(m.get("costs", 1.0)))
        else:
            mult[_MULTIPLIER_OF_FIELD[field_of[row["assumption"]]]] = factor_of[row["case"]]
            pair_rows.setdefault(row["assumption"], []).append(r)
        w.value(ws, r, 0, row["assumption"], "text")
        w.value(ws, r, 1, row["case"], "text")
        for name, value in mult.items():
            w.value(ws, r, col[f"x_{name}"], value, "number")

        def x(name: str, r: int = r) -> str:
            return _cell(r, col[f"x_{name}"])

        h = f"(assumed_hourly_cost_scale*{x('hourly_cost')})"
        credit = f"MIN(1,assumed_attribution*{x('attribution')})*MIN(1,assumed_confidence*{x('confidence')})"
        costs = f"(({at['sum_ledger']}+{at['sum_participant']}*{h})*assumed_cost_scale*{x('costs')})"
        gains = (f"(({at['sum_time']}*{h}+{at['sum_quality']}*{x('cost_per_error')})*{x('benefits')}"
                 f"*{credit})")
        dcosts = f"(({at['dsum_ledger']}+{at['dsum_participant']}*{h})*assumed_cost_scale*{x('costs')})"
        dgains = (f"(({at['dsum_time']}*{h}+{at['dsum_quality']}*{x('cost_per_error')})*{x('benefits')}"
                  f"*{credit})")
        w.formula(ws, r, col["roi_pct"], f'=IF({costs}<={TOL},"",({gains}-{costs})/{costs}*100)', row["roi_pct"],
                  "pct")
        w.formula(ws, r, col["npv"], f"={dgains}-{dcosts}", row["npv"], "eur")
        if row["assumption"] in ("attribution", "confidence"):
            w.value(ws, r, col["note"], _SAME, "text")
    for low, high in (v for v in pair_rows.values() if len(v) == 2):
        lo, hi = _cell(low, col["roi_pct"]), _cell(high, col["roi_pct"])
        swing = rows[low - 1]["swing"]
        for r in (low, high):
            w.formula(ws, r, col["swing"], f'=IF(OR({lo}="",{hi}=""),"",ABS({hi}-{lo}))', swing, "pts")
    if rows:
        ws.autofilter(0, 0, len(rows), len(SENSITIVITY_SHEET_COLUMNS) - 1)
