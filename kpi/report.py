"""The quarterly review report: ONE self-contained HTML file per quarter, plus PNG/SVG charts.

``build_report(warehouse, quarter, out_dir)`` opens the warehouse READ-ONLY with one short-lived
connection, aggregates everything it shows in SQL (the charts receive a few dozen rows each),
closes the connection, then renders:

- ``out_dir/report-<quarter>.html``: opens offline (Vega, Vega-Lite and vega-embed are inlined
  once for the page; no font, stylesheet or script is fetched from anywhere);
- ``out_dir/charts/<quarter>-<chart>.png`` and ``.svg`` for slides.

Privacy: a suppressed row of the KPI marts carries no figure (METRICS.md), and the report never
prints its group size either. Tables show such a segment as "fewer than k"; chart data holds a
label only (the heatmap) or nothing at all (the trend lines), and the captions say which
segments are hidden.

The report takes no config: thresholds, k and the company name come from
``marts.roi_assumptions`` when it holds them, else from the ``cfg`` given by the pipeline, else
from the defaults of :func:`kpi.config.default_config`.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from kpi.errors import UserError
from kpi.quarters import parse_quarter, previous_quarter

MINUS = "−"
DASH = "–"
ROI_TABLES = ("roi_monthly", "roi_quarterly", "roi_sensitivity", "budget_plan_vs_actual", "roi_assumptions")
ROI_MISSING = "ROI tables not built yet: run kpi run"
TARGET_GROUP_ORDER = ("executive", "manager", "champion", "user")
SEGMENT_ORDER_SQL = ("CASE segment_type WHEN 'company' THEN 0 WHEN 'department' THEN 1 WHEN 'target_group' THEN 2 "
                     "ELSE 3 END")
TG_ORDER_SQL = ("CASE segment WHEN 'executive' THEN 1 WHEN 'manager' THEN 2 WHEN 'champion' THEN 3 "
                "WHEN 'user' THEN 4 ELSE 5 END")
TORNADO_LABELS = {"attribution": "Attribution", "confidence": "Confidence", "hourly_cost": "Hourly cost",
                  "cost_per_error": "Cost per error", "total_cost": "Total cost"}


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_pct(x: float | None, digits: int = 1) -> str:
    """0.4213 -> '42.1 %'."""
    if _missing(x):
        return DASH
    text = f"{abs(x) * 100:,.{digits}f} %"
    return (MINUS if x < 0 and round(abs(x) * 100, digits) else "") + text


def fmt_pct_value(x: float | None, digits: int = 1) -> str:
    """A figure that is already a percent (roi_pct): 258.63 -> '258.6 %'."""
    return DASH if _missing(x) else fmt_pct(x / 100, digits)


def fmt_pts(delta: float | None, digits: int = 1) -> str:
    """A change of a fraction in percentage points: 0.013 -> '+1.3 pts'."""
    if _missing(delta):
        return DASH
    value = round(delta * 100, digits)
    sign = "+" if value > 0 else MINUS if value < 0 else "±"
    return f"{sign}{abs(value):.{digits}f} pts"


def fmt_signed(delta: float | None, digits: int = 1, unit: str = "") -> str:
    if _missing(delta):
        return DASH
    value = round(delta, digits)
    sign = "+" if value > 0 else MINUS if value < 0 else "±"
    return f"{sign}{abs(value):,.{digits}f}{unit}"


def fmt_eur(x: float | None, digits: int = 0, signed: bool = False) -> str:
    """12345.6 -> '€12,346'; negative amounts get a real minus sign."""
    if _missing(x):
        return DASH
    value = round(x, digits)
    sign = MINUS if value < 0 else ("+" if signed and value > 0 else "")
    return f"{sign}€{abs(value):,.{digits}f}"


def fmt_num(x: float | None, digits: int = 0) -> str:
    if _missing(x):
        return DASH
    value = round(x, digits)
    return (MINUS if value < 0 else "") + f"{abs(value):,.{digits}f}"


def fmt_metric(metric: str, value: float | None) -> str:
    """A stored figure formatted by its column name's scale (METRICS.md: scales)."""
    if metric.endswith(("_rate", "_share", "_growth")) or metric in ("favorability", "time_reduction") \
            or metric.startswith("favorability_change"):
        return fmt_pct(value)
    if metric.endswith("_eur"):
        return fmt_eur(value, 2)
    if metric.endswith("_pct"):
        return fmt_pct_value(value)
    if value is not None and float(value).is_integer():
        return fmt_num(value)
    return fmt_num(value, 2)


def _label(segment_type: str, segment: str) -> str:
    if segment_type == "company":
        return "Company"
    if segment == "unknown":
        return "Not stated"
    if segment_type == "target_group":
        return segment.capitalize()
    return segment


def _process_label(process: str) -> str:
    return process.replace("_", " ").capitalize()


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _direction(delta: float | None, good_when_up: bool = True) -> str:
    if _missing(delta) or abs(delta) < 1e-12:
        return "flat"
    return "good" if (delta > 0) == good_when_up else "bad"


# --------------------------------------------------------------------------------------------
# Settings the report needs but the warehouse may not hold
# --------------------------------------------------------------------------------------------


@dataclass
class Settings:
    company: str | None
    k: int
    usage_drop_points: float
    culture_drop_points: float
    k_source: str


def _settings(con, cfg: Any, assumptions: dict[str, dict]) -> Settings:
    from kpi.config import default_config

    defaults = default_config(dt.date(2000, 1, 1))

    def pick(name: str, from_cfg, default):
        row = assumptions.get(name)
        if row is not None and (row.get("value") is not None or row.get("value_text")):
            return (row["value"] if row.get("value") is not None else row["value_text"]), "assumptions"
        if cfg is not None:
            return from_cfg(cfg), "config"
        return default, "default"

    company, _ = pick("company.name", lambda c: c.company.name, None)
    k, k_source = pick("privacy.min_group_size", lambda c: c.privacy.min_group_size, defaults.privacy.min_group_size)
    k = int(k)
    if k_source == "default":
        # No config at hand: k is more than any group hidden as small, and at most the size of any
        # group not hidden as small. Keep the default when the data allow it, else move into range.
        low, high = _k_bounds(con)
        inferred = k
        if low is not None:
            inferred = max(inferred, low)
        if high is not None and (low is None or high >= low):
            inferred = min(inferred, high)
        if inferred != k:
            k, k_source = int(inferred), "data"
    usage, _ = pick("alerts.usage_drop_points", lambda c: c.alerts.usage_drop_points, defaults.alerts.usage_drop_points)
    culture, _ = pick("alerts.culture_drop_points", lambda c: c.alerts.culture_drop_points,
                      defaults.alerts.culture_drop_points)
    if company is None and cfg is not None:
        company = cfg.company.name
    return Settings(company=str(company) if company else None, k=k, usage_drop_points=float(usage),
                    culture_drop_points=float(culture), k_source=k_source)


def _k_bounds(con) -> tuple[int | None, int | None]:
    """(lowest, highest) k consistent with the marts: one more than the largest group hidden as
    small; the smallest group that is not (shown, or hidden only as complementary)."""
    rows = con.sql(" UNION ALL ".join(
        f"SELECT max(group_size) FILTER (suppression_reason = 'small_group'), "
        f"min(group_size) FILTER (suppression_reason IS DISTINCT FROM 'small_group') FROM marts.{t}"
        for t in ("kpi_usage", "kpi_competence", "kpi_culture"))).fetchall()
    small = [r[0] for r in rows if r[0] is not None]
    big = [r[1] for r in rows if r[1] is not None]
    return (max(small) + 1 if small else None), (min(big) if big else None)


def suppression_text(reason: str | None, k: int, short: bool = False) -> str:
    """What a suppressed cell says (never a figure)."""
    if reason == "complementary":
        return "withheld ‡" if short else f"withheld: protects a group of fewer than {k} ‡"
    return f"fewer than {k}"


def _suppression_footnote(k: int) -> str:
    return (f"<p class='footnote'><span class='swatch'></span> <em>fewer than {k}</em>: the group has fewer than {k} "
            f"people (or responses), so none of its figures is shown. ‡ <em>withheld</em>: exactly one other group of "
            f"the same breakdown has fewer than {k}; this one, the smallest of the rest, is hidden too, so that the "
            "small group's figures cannot be worked out from the company total.</p>")


# --------------------------------------------------------------------------------------------
# Reading the warehouse (one short-lived read-only connection)
# --------------------------------------------------------------------------------------------


def _tables(con) -> set[str]:
    return {f"{s}.{t}" for s, t in con.sql(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}


def _rows(con, query: str, **params) -> list[dict]:
    rel = con.sql(query, params=params) if params else con.sql(query)
    names = rel.columns
    return [dict(zip(names, row)) for row in rel.fetchall()]


def _frame(con, query: str, **params):
    return (con.sql(query, params=params) if params else con.sql(query)).pl()


def available_quarters(con) -> list[str]:
    return [r[0] for r in con.sql("SELECT DISTINCT quarter FROM marts.kpi_usage ORDER BY quarter").fetchall()]


@dataclass
class ReportData:
    quarter: str
    previous: str | None
    quarters: list[str]
    settings: Settings
    warehouse: Path
    generated_at: dt.datetime
    status: str = ""
    usage: dict = field(default_factory=dict)
    competence: dict = field(default_factory=dict)
    business: dict = field(default_factory=dict)
    culture: dict = field(default_factory=dict)
    roi: dict = field(default_factory=dict)
    alerts: list = field(default_factory=list)
    restatements: list = field(default_factory=list)
    quality: dict = field(default_factory=dict)


def collect(con, quarter: str, cfg: Any = None, warehouse: Path | None = None) -> ReportData:
    """Everything the report shows, aggregated in SQL, from an open (read-only) connection."""
    parse_quarter(quarter)
    tables = _tables(con)
    if "marts.kpi_usage" not in tables:
        raise UserError(f"{warehouse or 'warehouse'}: has no KPI marts yet; run kpi run first")
    quarters = available_quarters(con)
    if quarter not in quarters:
        where = f"the warehouse {warehouse}" if warehouse else "the warehouse"
        raise UserError(f"--quarter {quarter}: not in {where}; quarters available: "
                        f"{', '.join(quarters) or 'none (run kpi run first)'}")
    assumptions = {}
    if "marts.roi_assumptions" in tables:
        assumptions = {r["name"]: r for r in _rows(con, "SELECT * FROM marts.roi_assumptions")}
    settings = _settings(con, cfg, assumptions)
    prev = previous_quarter(quarter)
    data = ReportData(quarter=quarter, previous=prev if prev in quarters else None,
                      quarters=[q for q in quarters if q <= quarter], settings=settings,
                      warehouse=Path(warehouse) if warehouse else Path("warehouse.duckdb"),
                      generated_at=dt.datetime.now().replace(microsecond=0))
    data.status = _quarter_status(con, tables, quarter)
    data.usage = _collect_usage(con, data)
    data.competence = _collect_competence(con, data)
    data.business = _collect_business(con, data)
    data.culture = _collect_culture(con, data)
    data.roi = _collect_roi(con, data, tables, assumptions)
    data.alerts = _collect_alerts(con, data)
    data.restatements = _collect_restatements(con, data, tables)
    data.quality = _collect_quality(con, tables)
    return data


def _quarter_status(con, tables: set[str], quarter: str) -> str:
    if "marts.kpi_snapshots" not in tables:
        return "open: no snapshot table yet"
    row = con.sql("SELECT max(version), max(computed_at) FROM marts.kpi_snapshots WHERE quarter = $q",
                  params={"q": quarter}).fetchall()[0]
    if row[0] is None:
        return "open: the usage data does not reach the quarter's last day yet, figures may still change"
    restated = f", restated (version {row[0]})" if row[0] > 1 else ""
    return f"closed{restated}: figures frozen as snapshot version {row[0]} on {row[1]:%Y-%m-%d}"


def _suppressed_list(con, table: str, quarter: str, types: Sequence[str], extra: str = "") -> list[dict]:
    type_list = ", ".join(f"'{t}'" for t in types)
    return _rows(con, f"""
        SELECT quarter, segment_type, segment{extra}, suppression_reason FROM marts.{table}
        WHERE suppressed AND quarter <= $q AND segment_type IN ({type_list})
        ORDER BY segment_type, segment{extra}, quarter""", q=quarter)


def _collect_usage(con, d: ReportData) -> dict:
    q, p = d.quarter, d.previous or ""
    trend = _frame(con, f"""
        SELECT quarter,
               CASE WHEN segment_type = 'company' THEN 'Company' ELSE upper(segment[1]) || segment[2:] END AS segment,
               metric, value, {SEGMENT_ORDER_SQL} AS o1, {TG_ORDER_SQL} AS o2
        FROM marts.kpi_usage
        UNPIVOT (value FOR metric IN (active_user_rate AS 'Active-user rate', regular_user_rate AS 'Regular-user rate'))
        WHERE quarter <= $q AND segment_type IN ('company', 'target_group') AND NOT suppressed
        ORDER BY o1, o2, quarter, metric""", q=q).drop("o1", "o2")
    heat = _frame(con, """
        SELECT segment, quarter,
               CASE WHEN suppressed THEN NULL ELSE active_user_rate END AS active_user_rate,
               suppressed, CASE WHEN suppressed THEN suppression_reason END AS reason
        FROM marts.kpi_usage
        WHERE segment_type = 'department' AND quarter <= $q ORDER BY segment, quarter""", q=q)
    tools = _frame(con, """
        SELECT quarter, segment AS tool, active_users FROM marts.kpi_usage
        WHERE segment_type = 'tool' AND NOT suppressed AND quarter <= $q ORDER BY segment, quarter""", q=q)
    table = _rows(con, f"""
        SELECT c.segment_type, c.segment, c.suppressed, c.suppression_reason, c.headcount, c.active_users,
               c.active_user_rate, c.regular_user_rate, c.interactions_per_employee_week,
               p.active_user_rate AS prev_active_user_rate, p.regular_user_rate AS prev_regular_user_rate
        FROM marts.kpi_usage c LEFT JOIN marts.kpi_usage p
          ON p.quarter = $p AND p.segment_type = c.segment_type AND p.segment = c.segment
        WHERE c.quarter = $q AND c.segment_type IN ('company', 'department', 'target_group')
        ORDER BY {SEGMENT_ORDER_SQL.replace('segment_type', 'c.segment_type')},
                 {TG_ORDER_SQL.replace('segment', 'c.segment')}, c.segment""", q=q, p=p)
    tool_table = _rows(con, """
        SELECT c.segment, c.suppressed, c.suppression_reason, c.active_users, c.active_user_rate,
               c.interaction_share, c.interactions_per_active_user_week, p.active_users AS prev_active_users
        FROM marts.kpi_usage c LEFT JOIN marts.kpi_usage p
          ON p.quarter = $p AND p.segment_type = 'tool' AND p.segment = c.segment
        WHERE c.quarter = $q AND c.segment_type = 'tool' ORDER BY c.active_users DESC NULLS LAST, c.segment""",
                       q=q, p=p)
    hidden = _suppressed_list(con, "kpi_usage", q, ("department", "target_group", "tool"))
    return {"trend": trend, "heat": heat, "tools": tools, "table": table, "tool_table": tool_table,
            "hidden": hidden}


def _collect_competence(con, d: ReportData) -> dict:
    q, p = d.quarter, d.previous or ""
    trend = _frame(con, """
        SELECT quarter, skill_score, proficient_rate, trained_share FROM marts.kpi_competence
        WHERE segment_type = 'company' AND quarter <= $q AND NOT suppressed ORDER BY quarter""", q=q)
    table = _rows(con, f"""
        SELECT c.segment_type, c.segment, c.suppressed, c.suppression_reason, c.headcount, c.assessed_employees,
               c.skill_score, c.proficient_rate, c.trained_share, c.success_rate, c.new_use_cases,
               p.skill_score AS prev_skill_score, p.trained_share AS prev_trained_share
        FROM marts.kpi_competence c LEFT JOIN marts.kpi_competence p
          ON p.quarter = $p AND p.segment_type = c.segment_type AND p.segment = c.segment
        WHERE c.quarter = $q
        ORDER BY {SEGMENT_ORDER_SQL.replace('segment_type', 'c.segment_type')},
                 {TG_ORDER_SQL.replace('segment', 'c.segment')}, c.segment""", q=q, p=p)
    hidden = _suppressed_list(con, "kpi_competence", q, ("department", "target_group"))
    return {"trend": trend, "table": table, "hidden": hidden}


def _collect_business(con, d: ReportData) -> dict:
    q, p = d.quarter, d.previous or ""
    company = _frame(con, """
        SELECT quarter, hours_saved, time_savings_eur, quality_savings_eur,
               estimated_hours_saved, estimated_savings_eur
        FROM marts.kpi_business WHERE process = 'all' AND department = 'all' AND quarter <= $q ORDER BY quarter""",
                     q=q)
    processes = _rows(con, """
        SELECT process, department, cases, minutes_per_case, baseline_minutes_per_case, time_reduction, hours_saved,
               error_rate, baseline_error_rate, errors_avoided, time_savings_eur, quality_savings_eur
        FROM marts.kpi_business WHERE quarter = $q AND process <> 'all' ORDER BY process, department""", q=q)
    now = next((r for r in company.iter_rows(named=True) if r["quarter"] == q), None)
    before = next((r for r in company.iter_rows(named=True) if r["quarter"] == p), None)
    return {"company": company, "processes": processes, "now": now, "before": before}


def _collect_culture(con, d: ReportData) -> dict:
    q = d.quarter
    waves = [r[0] for r in con.sql("SELECT DISTINCT quarter FROM marts.kpi_culture WHERE quarter <= $q ORDER BY 1",
                                   params={"q": q}).fetchall()]
    if not waves:
        return {"waves": [], "wave": None}
    wave = waves[-1]
    previous_wave = waves[-2] if len(waves) > 1 else None
    trend = _frame(con, """
        SELECT quarter, upper(construct[1]) || construct[2:] AS construct, favorability FROM marts.kpi_culture
        WHERE segment_type = 'company' AND quarter <= $q AND NOT suppressed AND favorability IS NOT NULL
        ORDER BY construct, quarter""", q=q)
    change = _frame(con, """
        SELECT upper(construct[1]) || construct[2:] AS construct, favorability_change AS change,
               favorability_change_low AS low, favorability_change_high AS high
        FROM marts.kpi_culture
        WHERE segment_type = 'company' AND quarter = $w AND NOT suppressed AND favorability_change IS NOT NULL
        ORDER BY construct""", w=wave)
    company = _rows(con, """
        SELECT construct, responses, mean_score, favorability, favorability_change, favorability_change_low,
               favorability_change_high, response_rate, mean_score_change
        FROM marts.kpi_culture WHERE segment_type = 'company' AND quarter = $w ORDER BY construct""", w=wave)
    cells = _rows(con, f"""
        SELECT segment_type, segment, construct, suppressed, suppression_reason, favorability, favorability_change
        FROM marts.kpi_culture WHERE quarter = $w
        ORDER BY {SEGMENT_ORDER_SQL}, {TG_ORDER_SQL}, segment, construct""", w=wave)
    hidden = _suppressed_list(con, "kpi_culture", q, ("department", "target_group"), extra=", construct")
    return {"waves": waves, "wave": wave, "previous_wave": previous_wave, "trend": trend, "change": change,
            "company": company, "cells": cells, "hidden": hidden}


def _collect_roi(con, d: ReportData, tables: set[str], assumptions: dict[str, dict]) -> dict:
    have = {t: f"marts.{t}" in tables for t in ROI_TABLES}
    out: dict[str, Any] = {"have": have}
    if have["roi_quarterly"] and have["roi_monthly"]:
        rows = _rows(con, "SELECT * FROM marts.roi_quarterly ORDER BY m")
        out["quarterly"] = rows
        row = next((r for r in rows if r["quarter"] == d.quarter), None)
        note = ""
        if row is None and rows:
            if d.quarter > rows[-1]["quarter"]:
                row = rows[-1]
                note = (f"The ROI series ends in month {row['m']} ({row['quarter']}: the horizon or the last month "
                        "with cost or process data); figures are as of that month.")
            else:
                note = f"The ROI series starts in {rows[0]['quarter']}: no ROI figures for {d.quarter}."
        out["row"], out["note"] = row, note
        out["prev_row"] = None
        if row is not None:
            earlier = [r for r in rows if r["m"] < row["m"]]
            out["prev_row"] = earlier[-1] if earlier else None
            out["monthly"] = _frame(con, """
                SELECT strftime(month, '%Y-%m-%d') AS month, m, cum_costs, cum_benefits FROM marts.roi_monthly
                WHERE m <= $m ORDER BY m""", m=row["m"])
            months = dict(con.sql("SELECT m, month FROM marts.roi_monthly").fetchall())
            out["month_of"] = months
            out["estimated"] = con.sql(
                "SELECT sum(estimated_benefits), count(estimated_benefits) FROM marts.roi_monthly WHERE m <= $m",
                params={"m": row["m"]}).fetchall()[0]
        horizon = con.sql("SELECT m, month, roi_pct, cum_costs, cum_benefits FROM marts.roi_monthly "
                          "ORDER BY m DESC LIMIT 1").fetchall()
        out["horizon"] = horizon[0] if horizon else None
    if have["roi_sensitivity"]:
        order_column = "sort_order" if "sort_order" in con.sql("SELECT * FROM marts.roi_sensitivity LIMIT 0").columns \
            else "swing DESC NULLS LAST"
        out["sensitivity"] = _rows(con, f'SELECT assumption, "case", roi_pct, npv, swing FROM marts.roi_sensitivity '
                                        f"ORDER BY {order_column}")
    if have["budget_plan_vs_actual"]:
        order_column = "sort_order" if "sort_order" in con.sql(
            "SELECT * FROM marts.budget_plan_vs_actual LIMIT 0").columns else "category"
        out["plan"] = _rows(con, "SELECT category, plan_eur, actual_eur, difference_eur FROM "
                                 f"marts.budget_plan_vs_actual ORDER BY {order_column}")
    if have["roi_assumptions"]:
        order_column = "sort_order" if "sort_order" in con.sql(
            "SELECT * FROM marts.roi_assumptions LIMIT 0").columns else "name"
        out["assumptions"] = _rows(con, f"SELECT * FROM marts.roi_assumptions ORDER BY {order_column}")
    out["assumption_values"] = dict(assumptions)
    return out


def _collect_alerts(con, d: ReportData) -> list:
    from kpi.alerts import culture_alerts, usage_alerts

    s = d.settings
    return usage_alerts(con, d.quarter, s.usage_drop_points) + culture_alerts(con, d.quarter, s.culture_drop_points)


def _collect_restatements(con, d: ReportData, tables: set[str]) -> list[dict]:
    """Restated quarters up to the report's quarter, with what changed. A group size is never
    listed (it is the real count even of a suppressed group), and neither is any change of a
    row that is suppressed now."""
    if "marts.kpi_snapshots" not in tables:
        return []
    from kpi.snapshots import restatements

    hidden = set()
    for table in ("kpi_usage", "kpi_competence", "kpi_culture"):
        construct = "construct" if table == "kpi_culture" else "NULL"
        for row in con.sql(f"SELECT quarter, segment_type, segment, {construct} FROM marts.{table} WHERE suppressed"
                           ).fetchall():
            hidden.add((table, *row))
    out = []
    for item in restatements(con):
        if item["quarter"] > d.quarter:
            continue
        changes = []
        for key, old, new in item["changes"]:
            table, segment_type, segment, construct, process, department, metric = key
            if metric == "group_size" or (table, item["quarter"], segment_type, segment, construct) in hidden:
                continue
            changes.append({"table": table, "segment_type": segment_type, "segment": segment, "construct": construct,
                            "process": process, "department": department, "metric": metric, "old": old, "new": new})
        out.append({"quarter": item["quarter"], "version": item["version"], "changes": changes})
    return out


def _collect_quality(con, tables: set[str]) -> dict:
    out: dict[str, Any] = {"manifest": [], "quarantine": []}
    if "audit.ingest_manifest" in tables:
        superseded = "WHERE NOT superseded" if "superseded" in con.sql(
            "SELECT * FROM audit.ingest_manifest LIMIT 0").columns else ""
        match = ("(SELECT count(*) FROM audit.quarantine q WHERE q.stage = 'match' AND q.file = m.file)"
                 if "audit.quarantine" in tables else "0")
        out["manifest"] = _rows(con, f"""
            SELECT split_part(file, '/', 1) || ' · ' || replace(format, '_', ' ') AS kind, count(*) AS files,
                   sum(rows_read) AS rows_read, sum(rows_loaded) AS rows_loaded,
                   sum(rows_quarantined) AS rows_quarantined, sum(cells_quarantined) AS cells_quarantined,
                   sum({match}) AS rows_unmatched, sum(chars_replaced) AS chars_replaced
            FROM audit.ingest_manifest m {superseded} GROUP BY ALL ORDER BY kind""")
    if "audit.quarantine" in tables:
        out["quarantine"] = _rows(con, """
            SELECT stage, reason, count(*) AS n, count(DISTINCT file) AS files FROM audit.quarantine
            GROUP BY ALL ORDER BY stage, n DESC, reason""")
    return out


# --------------------------------------------------------------------------------------------
# Charts: frames -> Vega-Lite specs (with suppressed rows carrying labels only)
# --------------------------------------------------------------------------------------------


@dataclass
class ChartOut:
    name: str
    spec: dict
    caption: str = ""


def _strip_nulls(spec: dict) -> dict:
    """Drop null fields from inline dataset rows: a suppressed row carries its label, nothing else."""
    for rows in (spec.get("datasets") or {}).values():
        for i, row in enumerate(rows):
            if isinstance(row, dict):
                rows[i] = {k: v for k, v in row.items() if v is not None}
    return spec


def _spec(chart) -> dict:
    return _strip_nulls(chart.to_dict())


def _hidden_caption(hidden: list[dict], k: int, what: str, with_construct: bool = False) -> str:
    """'Not shown (fewer than 5 people): executive in 2024-Q4 to 2026-Q3; ...' — names, no figures."""
    if not hidden:
        return ""
    groups: dict[tuple, list[str]] = {}
    for h in hidden:
        key = (h["segment_type"], h["segment"], h.get("construct") if with_construct else None, h["suppression_reason"])
        groups.setdefault(key, []).append(h["quarter"])
    small, comp = [], []
    for (segment_type, segment, construct, reason), quarters in groups.items():
        name = _label(segment_type, segment) + (f" ({construct})" if construct else "")
        span = quarters[0] if len(quarters) == 1 else f"{len(quarters)} quarters, {quarters[0]} to {quarters[-1]}"
        (comp if reason == "complementary" else small).append(f"{name} in {span}")
    parts = []
    if small:
        parts.append(f"Not shown, fewer than {k} {what}: " + "; ".join(small) + ".")
    if comp:
        parts.append(f"Withheld so that a group of fewer than {k} cannot be worked out from the total: "
                     + "; ".join(comp) + ".")
    return " ".join(parts)


def build_charts(d: ReportData) -> list[ChartOut]:
    import polars as pl

    from kpi import charts

    k = d.settings.k
    out: list[ChartOut] = []
    u = d.usage
    hidden_tg = [h for h in u["hidden"] if h["segment_type"] == "target_group"]
    quarters = d.quarters
    out.append(ChartOut("usage_rates", _spec(charts.usage_rates(u["trend"], quarters=quarters)),
                        _hidden_caption(hidden_tg, k, "people")))
    heat = u["heat"]
    if heat.height:
        heat = heat.with_columns(
            label=pl.when(pl.col("suppressed"))
            .then(pl.when(pl.col("reason") == "complementary").then(pl.lit("withheld")).otherwise(pl.lit(f"< {k}")))
            .otherwise((pl.col("active_user_rate") * 100).round(0).cast(pl.Int64).cast(pl.String) + " %")
        ).drop("reason")
        hidden_dep = [h for h in u["hidden"] if h["segment_type"] == "department"]
        out.append(ChartOut("usage_departments", _spec(charts.department_heatmap(heat, k)),
                            _hidden_caption(hidden_dep, k, "people")
                            or f"Every department had at least {k} people in every quarter shown."))
    if u["tools"].height:
        hidden_tools = [h for h in u["hidden"] if h["segment_type"] == "tool"]
        out.append(ChartOut("tool_adoption", _spec(charts.tool_adoption(u["tools"], quarters)),
                            _hidden_caption(hidden_tools, k, "active users")))
    c = d.competence
    if c["trend"].height:
        scores = c["trend"].select("quarter", "skill_score").drop_nulls()
        rates = c["trend"].unpivot(index="quarter", on=["proficient_rate", "trained_share"], variable_name="metric",
                                   value_name="value").drop_nulls().with_columns(
            metric=pl.col("metric").replace({"proficient_rate": "Proficient rate", "trained_share": "Trained share"}))
        out.append(ChartOut("competence", _spec(charts.competence_trend(scores, rates, quarters))))
    b = d.business
    company = b["company"].filter(pl.col("hours_saved").is_not_null())
    if company.height:
        hours = company.select("quarter", "hours_saved")
        savings = company.unpivot(index="quarter", on=["time_savings_eur", "quality_savings_eur"],
                                  variable_name="component", value_name="eur").drop_nulls().with_columns(
            component=pl.col("component").replace({"time_savings_eur": "Time savings",
                                                   "quality_savings_eur": "Quality savings"}))
        out.append(ChartOut("business_savings", _spec(charts.business_savings(hours, savings, quarters))))
    errors = [r for r in b["processes"] if r["error_rate"] is not None or r["baseline_error_rate"] is not None]
    if errors:
        rows = []
        for r in errors:
            label = f"{_process_label(r['process'])} ({r['department']})"
            if r["baseline_error_rate"] is not None:
                rows.append({"process": label, "period": "Baseline", "error_rate": r["baseline_error_rate"]})
            if r["error_rate"] is not None:
                rows.append({"process": label, "period": d.quarter, "error_rate": r["error_rate"]})
        out.append(ChartOut("business_errors", _spec(charts.error_rates(pl.DataFrame(rows), d.quarter))))
    cu = d.culture
    if cu.get("wave"):
        if cu["trend"].height:
            out.append(ChartOut("culture_favorability",
                                _spec(charts.culture_favorability(cu["trend"], cu["waves"]))))
        if cu["change"].height:
            out.append(ChartOut("culture_change", _spec(charts.culture_change(cu["change"], cu["wave"],
                                                                              cu["previous_wave"]))))
    r = d.roi
    if r.get("row") is not None and r.get("monthly") is not None and r["monthly"].height:
        monthly = r["monthly"].unpivot(index=["month", "m"], on=["cum_costs", "cum_benefits"], variable_name="series",
                                       value_name="eur").with_columns(
            series=pl.col("series").replace({"cum_costs": "Cumulative costs", "cum_benefits": "Cumulative benefits"}))
        break_even = None
        row = r["row"]
        if row.get("break_even_month") is not None:
            month = r["month_of"].get(row["break_even_month"])
            break_even = pl.DataFrame([{"month": month.isoformat(),
                                        "label": f"Break-even: month {row['break_even_month']} ({month:%b %Y})"}])
        out.append(ChartOut("roi_cumulative", _spec(charts.roi_cumulative(monthly.drop("m"), break_even,
                                                                          roi_status(d)))))
    sens = [s for s in r.get("sensitivity", []) if s["assumption"] != "scenario" and s["roi_pct"] is not None]
    if sens and r.get("horizon") and r["horizon"][2] is not None:
        frame = pl.DataFrame([{"assumption": TORNADO_LABELS.get(s["assumption"], s["assumption"]),
                               "case": "−20 %" if s["case"] == "low" else "+20 %",
                               "roi_pct": s["roi_pct"], "order": i} for i, s in enumerate(sens)])
        out.append(ChartOut("roi_tornado", _spec(charts.tornado(frame, r["horizon"][2]))))
    if r.get("plan"):
        rows = []
        for p in r["plan"]:
            label = p["category"].replace("_", " ").capitalize()
            rows += [{"category": label, "kind": "Plan", "eur": p["plan_eur"]},
                     {"category": label, "kind": "Actual", "eur": p["actual_eur"]}]
        out.append(ChartOut("budget_plan_vs_actual", _spec(charts.plan_vs_actual(pl.DataFrame(rows)))))
    return out


# --------------------------------------------------------------------------------------------
# Text: headline figures and narrative
# --------------------------------------------------------------------------------------------


def _company(rows: list[dict]) -> dict | None:
    return next((r for r in rows if r["segment_type"] == "company"), None)


def roi_status(d: ReportData, with_month: bool = True) -> str:
    """'Broke even in month 13 (January 2026); payback 12.4 months' or 'Not yet broken even: ...'."""
    r = d.roi
    row = r.get("row")
    if row is None:
        return r.get("note") or ROI_MISSING
    if row.get("break_even_month") is not None:
        month = r["month_of"].get(row["break_even_month"])
        text = f"Broke even in month {row['break_even_month']} ({month:%B %Y})"
        if row.get("payback_months") is not None:
            text += f"; payback {row['payback_months']:.1f} months"
        return text
    if row.get("cum_costs"):
        cover = row["cum_benefits"] / row["cum_costs"] if row["cum_costs"] > 0 else None
        return (f"Not yet broken even: cumulative benefits cover {fmt_pct(cover, 0)} of costs"
                + (f" (as of month {row['m']})" if with_month else ""))
    return "No programme costs recorded yet"


def _movers(rows: list[dict], metric: str, prev_metric: str) -> list[tuple[str, float, float]]:
    out = []
    for r in rows:
        if r["segment_type"] not in ("department", "target_group") or r["suppressed"]:
            continue
        if r[metric] is None or r[prev_metric] is None:
            continue
        out.append((_label(r["segment_type"], r["segment"]), r[metric] - r[prev_metric], r[metric]))
    return sorted(out, key=lambda x: x[1])


def narrative(d: ReportData) -> list[str]:
    """Sentences written from the figures (HTML-escaped, may hold <strong>)."""
    s: list[str] = []
    q, p = d.quarter, d.previous
    company = _company(d.usage["table"])
    if company and company["active_user_rate"] is not None:
        text = (f"In {q}, <strong>{fmt_pct(company['active_user_rate'])}</strong> of the {company['headcount']:,} "
                "employees used an AI tool at least once")
        if p and company["prev_active_user_rate"] is not None:
            text += f" ({fmt_pts(company['active_user_rate'] - company['prev_active_user_rate'])} on {p})"
        if company["regular_user_rate"] is not None:
            text += f", and {fmt_pct(company['regular_user_rate'])} were regular users"
        s.append(text + ".")
    for metric, prev_metric, what, unit in (
            ("active_user_rate", "prev_active_user_rate", "active-user rate", "pts"),
            ("skill_score", "prev_skill_score", "skill score", "points")):
        rows = d.usage["table"] if metric == "active_user_rate" else d.competence["table"]
        movers = _movers(rows, metric, prev_metric)
        if not movers or not p:
            continue
        fmt_delta = (lambda x: fmt_pts(x)) if unit == "pts" else (lambda x: fmt_signed(x, 1, " points"))
        fmt_value = fmt_pct if unit == "pts" else (lambda x: f"{x:.1f}")
        top, bottom = movers[-1], movers[0]
        parts = []
        if top[1] > 1e-9:
            parts.append(f"rose most in <strong>{_esc(top[0])}</strong> ({fmt_delta(top[1])} to {fmt_value(top[2])})")
        if bottom[1] < -1e-9:
            parts.append(f"fell most in <strong>{_esc(bottom[0])}</strong> ({fmt_delta(bottom[1])} to "
                         f"{fmt_value(bottom[2])})")
        if parts:
            s.append(f"Since {p}, the {what} " + " and ".join(parts) + ".")
        else:
            s.append(f"Since {p}, no department or target group changed its {what}.")
    now = d.business.get("now")
    if now and now["hours_saved"] is not None:
        savings = (now["time_savings_eur"] or 0) + (now["quality_savings_eur"] or 0)
        s.append(f"Measured processes saved <strong>{fmt_num(now['hours_saved'])} hours</strong> against the baseline "
                 f"in {q}, worth {fmt_eur(savings)} before attribution.")
    if d.alerts:
        s.append(f"<strong>{len(d.alerts)} alert{'s' if len(d.alerts) > 1 else ''}</strong>: "
                 + "; ".join(_esc(a.describe().split(': ', 1)[1]) for a in d.alerts) + ".")
    else:
        s.append(f"No alerts: no segment's active-user rate fell by more than {d.settings.usage_drop_points:g} points "
                 f"and no culture construct's favorability by more than {d.settings.culture_drop_points:g} points.")
    cu = d.culture
    if cu.get("wave") and cu["company"]:
        moved = [(r["construct"], r["favorability_change"], r["favorability_change_low"], r["favorability_change_high"])
                 for r in cu["company"] if r["favorability_change"] is not None]
        if moved:
            top = max(moved, key=lambda x: abs(x[1]))
            clear = top[2] is not None and top[3] is not None and (top[2] > 0 or top[3] < 0)
            s.append(f"In the {cu['wave']} survey the largest change in favorability was for {top[0]} "
                     f"({fmt_pts(top[1])}, 95 % interval {fmt_pts(top[2])} to {fmt_pts(top[3])}: "
                     f"{'a clear change' if clear else 'within the noise of the survey'}).")
    if d.roi.get("row") is not None:
        row = d.roi["row"]
        status = roi_status(d, with_month=False)
        roi = f"ROI to date {fmt_pct_value(row['roi_pct'])}" if row.get("roi_pct") is not None else "no ROI yet"
        if row.get("break_even_month") is not None or status.startswith("Not yet"):
            verb = "" if row.get("break_even_month") is not None else "has "
            s.append(f"The programme {verb}{status[0].lower()}{status[1:]} ({roi}, as of month {row['m']}).")
        else:
            s.append(f"{status} (as of month {row['m']}).")
    elif not all(d.roi["have"].values()):
        s.append(ROI_MISSING + ".")
    return s


def headline_cards(d: ReportData) -> list[dict]:
    cards = []
    p = d.previous
    vs = f"vs {p}" if p else "no previous quarter"
    company = _company(d.usage["table"]) or {}
    comp = _company(d.competence["table"]) or {}

    def card(label, value, delta=None, delta_text=None, good_when_up=True, note=None):
        cards.append({"label": label, "value": value, "delta": delta_text if delta_text is not None else DASH,
                      "direction": _direction(delta, good_when_up), "note": note or vs})

    def diff(a, b):
        return None if _missing(a) or _missing(b) else a - b

    delta = diff(company.get("active_user_rate"), company.get("prev_active_user_rate"))
    card("Active-user rate", fmt_pct(company.get("active_user_rate")), delta, fmt_pts(delta))
    delta = diff(company.get("regular_user_rate"), company.get("prev_regular_user_rate"))
    card("Regular-user rate", fmt_pct(company.get("regular_user_rate")), delta, fmt_pts(delta))
    delta = diff(comp.get("skill_score"), comp.get("prev_skill_score"))
    card("Skill score", fmt_num(comp.get("skill_score"), 1) + (" / 100" if comp.get("skill_score") is not None else ""),
         delta, fmt_signed(delta, 1))
    delta = diff(comp.get("trained_share"), comp.get("prev_trained_share"))
    card("Trained share", fmt_pct(comp.get("trained_share")), delta, fmt_pts(delta))
    now, before = d.business.get("now") or {}, d.business.get("before") or {}
    delta = diff(now.get("hours_saved"), before.get("hours_saved"))
    card("Hours saved", fmt_num(now.get("hours_saved")) + (" h" if now.get("hours_saved") is not None else ""),
         delta, fmt_signed(delta, 0, " h"))

    def total(r):
        if not r or (r.get("time_savings_eur") is None and r.get("quality_savings_eur") is None):
            return None
        return (r.get("time_savings_eur") or 0) + (r.get("quality_savings_eur") or 0)

    delta = diff(total(now), total(before))
    card("Savings (measured)", fmt_eur(total(now)), delta, fmt_eur(delta, signed=True),
         note=f"{vs}; before attribution")
    cu = d.culture
    if cu.get("wave"):
        lines = []
        for r in cu["company"]:
            change = r["favorability_change"]
            lines.append(f"{r['construct'].capitalize()} {fmt_pct(r['favorability'], 0)}"
                         + (f" ({fmt_pts(change, 0)})" if change is not None else ""))
        mean = [r["favorability"] for r in cu["company"] if r["favorability"] is not None]
        card("Favorability", fmt_pct(sum(mean) / len(mean), 0) if mean else DASH, None, "",
             note=f"mean of {len(mean)} constructs, wave {cu['wave']}")
        cards[-1]["lines"] = lines
    else:
        card("Favorability", DASH, None, None, note="no survey wave yet")
    r = d.roi
    row, prev_row = r.get("row"), r.get("prev_row")
    if row is not None:
        delta = diff(row.get("roi_pct"), (prev_row or {}).get("roi_pct"))
        card("ROI to date", fmt_pct_value(row.get("roi_pct")), delta,
             fmt_signed(delta, 1, " pts") if delta is not None else None,
             note=f"as of month {row['m']}" + (f"; vs month {prev_row['m']}" if prev_row else ""))
        if row.get("payback_months") is not None:
            card("Payback", f"{row['payback_months']:.1f} months", None, "",
                 note=f"break-even in month {row['break_even_month']}")
        else:
            bcr = row.get("bcr")
            card("Payback", "not yet", None, "",
                 note=f"benefits cover {fmt_pct(bcr, 0)} of costs" if bcr is not None else "no costs yet")
    else:
        card("ROI to date", DASH, None, None, note=r.get("note") or ROI_MISSING)
        card("Payback", DASH, None, None, note=r.get("note") or ROI_MISSING)
    return cards


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _javascript_bundle() -> str:
    import vl_convert as vlc

    return vlc.javascript_bundle().replace("</script", "<\\/script")


def _json_script(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, default=str).replace("</", "<\\/")


def _table(headers: Sequence[tuple[str, str]], body: Iterable[str], attrs: str = "", caption: str = "") -> str:
    head = "".join(f'<th class="{cls}" scope="col">{_esc(text)}</th>' for text, cls in headers)
    cap = f"<caption>{caption}</caption>" if caption else ""
    return (f'<div class="table-wrap"><table {attrs}>{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _td(text: str, cls: str = "num", attrs: str = "") -> str:
    return f'<td class="{cls}" {attrs}>{text}</td>'


def _suppressed_cells(reason: str | None, k: int, span: int, attrs: str = "") -> str:
    text = suppression_text(reason, k, short=span == 1)
    return f'<td class="suppressed" colspan="{span}" {attrs}>{_esc(text)}</td>'


def _delta_cell(delta: float | None, text: str, good_when_up: bool = True) -> str:
    return _td(f'<span class="delta {_direction(delta, good_when_up)}">{_esc(text)}</span>')


def _row_attrs(r: dict) -> str:
    return (f'data-segment-type="{_esc(r["segment_type"])}" data-segment="{_esc(r["segment"])}"'
            f' data-suppressed="{"true" if r.get("suppressed") else "false"}"')


def _segment_th(r: dict) -> str:
    cls = "seg company" if r["segment_type"] == "company" else "seg"
    kind = {"department": "department", "target_group": "target group"}.get(r["segment_type"], "")
    sub = f'<span class="kind">{kind}</span>' if kind else ""
    return f'<th scope="row" class="{cls}">{_esc(_label(r["segment_type"], r["segment"]))}{sub}</th>'


def _usage_table(d: ReportData) -> str:
    k = d.settings.k
    p = d.previous or "previous quarter"
    headers = [("Segment", "left"), ("Headcount", "num"), ("Active users", "num"), ("Active-user rate", "num"),
               (f"Change vs {p}", "num"), ("Regular-user rate", "num"), (f"Change vs {p}", "num"),
               ("Interactions per employee-week", "num")]
    body = []
    for r in d.usage["table"]:
        cells = [_segment_th(r)]
        if r["suppressed"]:
            cells.append(_suppressed_cells(r["suppression_reason"], k, len(headers) - 1))
        else:
            da = None if r["prev_active_user_rate"] is None or r["active_user_rate"] is None else \
                r["active_user_rate"] - r["prev_active_user_rate"]
            dr = None if r["prev_regular_user_rate"] is None or r["regular_user_rate"] is None else \
                r["regular_user_rate"] - r["prev_regular_user_rate"]
            cells += [_td(fmt_num(r["headcount"])), _td(fmt_num(r["active_users"])),
                      _td(fmt_pct(r["active_user_rate"])),
                      _delta_cell(da, fmt_pts(da)), _td(fmt_pct(r["regular_user_rate"])), _delta_cell(dr, fmt_pts(dr)),
                      _td(fmt_num(r["interactions_per_employee_week"], 1))]
        body.append(f'<tr {_row_attrs(r)}>{"".join(cells)}</tr>')
    return _table(headers, body, f'data-table="kpi_usage" data-quarter="{d.quarter}"',
                  f"Usage in {d.quarter} by segment") + _suppression_footnote(k)


def _tool_table(d: ReportData) -> str:
    k = d.settings.k
    headers = [("Tool", "left"), ("Active users", "num"), (f"Change vs {d.previous or 'previous'}", "num"),
               ("Share of headcount", "num"), ("Share of interactions", "num"),
               ("Interactions per active user-week", "num")]
    body = []
    for r in d.usage["tool_table"]:
        attrs = _row_attrs({"segment_type": "tool", "segment": r["segment"], "suppressed": r["suppressed"]})
        cells = [f'<th scope="row" class="seg">{_esc(r["segment"])}</th>']
        if r["suppressed"]:
            cells.append(_suppressed_cells(r["suppression_reason"], k, len(headers) - 1))
        else:
            delta = None if r["prev_active_users"] is None else r["active_users"] - r["prev_active_users"]
            cells += [_td(fmt_num(r["active_users"])), _delta_cell(delta, fmt_signed(delta, 0)),
                      _td(fmt_pct(r["active_user_rate"])), _td(fmt_pct(r["interaction_share"])),
                      _td(fmt_num(r["interactions_per_active_user_week"], 1))]
        body.append(f"<tr {attrs}>{''.join(cells)}</tr>")
    return _table(headers, body, f'data-table="kpi_usage" data-quarter="{d.quarter}"', f"Tools in {d.quarter}")


def _competence_table(d: ReportData) -> str:
    k = d.settings.k
    p = d.previous or "previous quarter"
    headers = [("Segment", "left"), ("Headcount", "num"), ("Assessed", "num"), ("Skill score (0–100)", "num"),
               (f"Change vs {p}", "num"), ("Proficient rate", "num"), ("Trained share", "num"),
               (f"Change vs {p}", "num"), ("Success rate", "num"), ("New use cases", "num")]
    body = []
    for r in d.competence["table"]:
        cells = [_segment_th(r)]
        if r["suppressed"]:
            cells.append(_suppressed_cells(r["suppression_reason"], k, len(headers) - 1))
        else:
            ds = None if r["prev_skill_score"] is None or r["skill_score"] is None else \
                r["skill_score"] - r["prev_skill_score"]
            dt_ = None if r["prev_trained_share"] is None or r["trained_share"] is None else \
                r["trained_share"] - r["prev_trained_share"]
            cells += [_td(fmt_num(r["headcount"])), _td(fmt_num(r["assessed_employees"])),
                      _td(fmt_num(r["skill_score"], 1)), _delta_cell(ds, fmt_signed(ds, 1)),
                      _td(fmt_pct(r["proficient_rate"])), _td(fmt_pct(r["trained_share"])),
                      _delta_cell(dt_, fmt_pts(dt_)), _td(fmt_pct(r["success_rate"])),
                      _td(fmt_num(r["new_use_cases"]))]
        body.append(f'<tr {_row_attrs(r)}>{"".join(cells)}</tr>')
    return _table(headers, body, f'data-table="kpi_competence" data-quarter="{d.quarter}"',
                  f"Competence in {d.quarter} by segment") + (
        f"<p class='footnote'>{DASH}: not available. Skill score, proficient rate and success rate need at least "
        f"{d.settings.k} contributors (people assessed, people with a success or failure) even in a group that is "
        "shown; new use cases are counted by department only.</p>")


def _arrow(before: str, now: str) -> str:
    return f'{_esc(before)} <span class="muted">→</span> {_esc(now)}'


def _business_table(d: ReportData) -> str:
    headers = [("Process", "left"), ("Cases", "num"), ("Minutes per case: baseline → now", "num"),
               ("Time reduction", "num"), ("Hours saved", "num"), ("Error rate: baseline → now", "num"),
               ("Errors avoided", "num"), ("Time savings", "num"), ("Quality savings", "num")]
    body = []
    for r in d.business["processes"]:
        body.append("<tr>" + "".join([
            f'<th scope="row" class="seg">{_esc(_process_label(r["process"]))}'
            f'<span class="kind">{_esc(r["department"])}</span></th>',
            _td(fmt_num(r["cases"])),
            _td(_arrow(fmt_num(r["baseline_minutes_per_case"], 1), fmt_num(r["minutes_per_case"], 1))),
            _td(fmt_pct(r["time_reduction"])), _td(fmt_num(r["hours_saved"])),
            _td(_arrow(fmt_pct(r["baseline_error_rate"]), fmt_pct(r["error_rate"]))),
            _td(fmt_num(r["errors_avoided"], 1)), _td(fmt_eur(r["time_savings_eur"])),
            _td(fmt_eur(r["quality_savings_eur"]))]) + "</tr>")
    now = d.business.get("now")
    if now:
        body.append('<tr class="total">' + "".join([
            '<th scope="row" class="seg">All processes</th>', _td(""), _td(""), _td(""),
            _td(fmt_num(now["hours_saved"])), _td(""), _td(""), _td(fmt_eur(now["time_savings_eur"])),
            _td(fmt_eur(now["quality_savings_eur"]))]) + "</tr>")
    return _table(headers, body, f'data-table="kpi_business" data-quarter="{d.quarter}"',
                  f"Processes in {d.quarter} against the baseline")


def _culture_tables(d: ReportData) -> str:
    cu, k = d.culture, d.settings.k
    wave = cu["wave"]
    headers = [("Construct", "left"), ("Responses", "num"), ("Mean score", "num"), ("Favorability", "num"),
               (f"Change vs {cu['previous_wave'] or 'previous wave'}", "num"), ("95 % interval of the change", "num")]
    body = []
    for r in cu["company"]:
        interval = (f"{fmt_pts(r['favorability_change_low'])} to {fmt_pts(r['favorability_change_high'])}"
                    if r["favorability_change_low"] is not None else DASH)
        body.append("<tr>" + "".join([
            f'<th scope="row" class="seg">{_esc(r["construct"].capitalize())}</th>', _td(fmt_num(r["responses"])),
            _td(fmt_num(r["mean_score"], 2)), _td(fmt_pct(r["favorability"])),
            _delta_cell(r["favorability_change"], fmt_pts(r["favorability_change"])), _td(interval)]) + "</tr>")
    rate = next((r["response_rate"] for r in cu["company"] if r["response_rate"] is not None), None)
    company = _table(headers, body, f'data-table="kpi_culture_company" data-quarter="{wave}"',
                     f"Company, survey wave {wave} (response rate {fmt_pct(rate, 0)})")
    constructs = sorted({c["construct"] for c in cu["cells"]})
    segments: dict[tuple, dict] = {}
    for c in cu["cells"]:
        segments.setdefault((c["segment_type"], c["segment"]), {})[c["construct"]] = c
    headers = [("Segment", "left")] + [(c.capitalize(), "num") for c in constructs]
    body = []
    for (segment_type, segment), by_construct in segments.items():
        row = {"segment_type": segment_type, "segment": segment,
               "suppressed": any(c["suppressed"] for c in by_construct.values())}
        cells = [_segment_th(row)]
        for construct in constructs:
            c = by_construct.get(construct)
            hidden = "true" if c and c["suppressed"] else "false"
            attrs = f'data-construct="{_esc(construct)}" data-suppressed="{hidden}"'
            if c is None:
                cells.append(_td(DASH, "num", attrs))
            elif c["suppressed"]:
                cells.append(_suppressed_cells(c["suppression_reason"], k, 1, attrs))
            else:
                change = c["favorability_change"]
                extra = f' <span class="delta {_direction(change)}">{_esc(fmt_pts(change, 0))}</span>' \
                    if change is not None else ""
                cells.append(_td(_esc(fmt_pct(c["favorability"], 0)) + extra, "num", attrs))
        body.append(f'<tr {_row_attrs(row)}>{"".join(cells)}</tr>')
    matrix = _table(headers, body, f'data-table="kpi_culture" data-quarter="{wave}" class="matrix"',
                    f"Favorability by segment, wave {wave} (change vs the previous wave)")
    return company + matrix + _suppression_footnote(k)


def _assumption_value(a: dict, short: bool = False) -> str:
    unit, value, text = a.get("unit") or "", a.get("value"), a.get("value_text") or ""
    if value is None:
        return _esc(text)
    if unit == "fraction":
        percent = fmt_pct(value, 1 if value * 100 % 1 else 0)
        return _esc(percent) if short else f"{value:g} <span class='muted'>({percent})</span>"
    if unit == "minutes" and short:
        return f"{value:g} min"
    if unit in ("EUR", "EUR/hour", "EUR/error"):
        suffix = {"EUR": "", "EUR/hour": "/h" if short else " per hour",
                  "EUR/error": "" if short else " per error"}[unit]
        return _esc(fmt_eur(value, 0 if float(value).is_integer() else 2) + suffix)
    if unit == "multiplier":
        return f"×{value:g}"
    if unit == "boolean":
        return "yes" if value else "no"
    return _esc(f"{text} {unit}".strip())


#: Families of assumptions printed as one row (config key prefix -> what it is).
ASSUMPTION_FAMILIES = {
    "rates.hourly_cost_eur": "Fully loaded hourly cost per target group when HR gives none; values time savings "
                             "and participants' training time.",
    "benefits.cost_per_error_eur": "Cost of one error per process (default: any other process); values the errors "
                                   "avoided.",
    "benefits.time_saved_minutes_per_interaction": "Estimated minutes saved per interaction and tool: only for the "
                                                   "estimate shown apart, never added to the benefits.",
    "program.budget_split": "Share of the plan budget per cost category.",
    "roi.scenarios": "Scenario multipliers on attribution · benefits · costs.",
}


def _assumption_rows_html(assumptions: list[dict]) -> list[str]:
    """One row per assumption; the members of a family (hourly cost per group, cost per error per
    process, scenarios …) share a row, one line each, so that every value is printed compactly."""
    families: dict[str, list[dict]] = {}
    order: list[tuple[str, Any]] = []
    for a in assumptions:
        family = next((f for f in ASSUMPTION_FAMILIES if a["name"].startswith(f + ".")), None)
        if family is None:
            order.append(("one", a))
        else:
            if family not in families:
                order.append(("family", family))
            families.setdefault(family, []).append(a)

    def source(items: list[dict]) -> str:
        counts: dict[str, int] = {}
        for a in items:
            counts[a.get("source") or ""] = counts.get(a.get("source") or "", 0) + 1
        return ", ".join(k if len(counts) == 1 else f"{k} {n}" for k, n in counts.items())

    rows = []
    for kind, item in order:
        if kind == "one":
            a = item
            rows.append(f'<tr><th scope="row" class="seg"><code>{_esc(a["name"])}</code>'
                        f'<div class="expl">{_esc(a.get("explanation") or "")} <span class="src">'
                        f'({_esc(a.get("source") or "")})</span></div></th>{_td(_assumption_value(a))}</tr>')
            continue
        members = families[item]
        if item == "roi.scenarios":
            by_name: dict[str, list[str]] = {}
            for a in members:
                name, part = a["name"][len(item) + 1:].rsplit(".", 1)
                by_name.setdefault(name, []).append(f"×{a['value']:g}" if a.get("value") is not None
                                                    else str(a.get("value_text")))
            lines = [(name, " · ".join(parts)) for name, parts in by_name.items()]
            lines = [(_esc(n), _esc(v)) for n, v in lines]
        else:
            lines = [(_esc(a["name"][len(item) + 1:].replace("_", " ")), _assumption_value(a, short=True))
                     for a in members]
        values = "".join(f'<div class="kv"><span>{n}</span><span>{v}</span></div>' for n, v in lines)
        rows.append(f'<tr><th scope="row" class="seg"><code>{_esc(item)}.*</code>'
                    f'<div class="expl">{_esc(ASSUMPTION_FAMILIES[item])} <span class="src">({_esc(source(members))})'
                    f'</span></div></th><td class="num family">{values}</td></tr>')
    return rows


def _roi_section(d: ReportData, chart_html: dict[str, str]) -> str:
    r = d.roi
    parts = []
    if not (r["have"]["roi_monthly"] and r["have"]["roi_quarterly"]):
        parts.append(f'<p class="note missing">{ROI_MISSING} (marts.roi_monthly / marts.roi_quarterly are '
                     "missing in this warehouse).</p>")
    else:
        row = r.get("row")
        if r.get("note"):
            parts.append(f'<p class="note">{_esc(r["note"])}</p>')
        if row is not None:
            def fig(label, value, note=""):
                return (f'<div class="fig"><div class="fig-label">{_esc(label)}</div>'
                        f'<div class="fig-value">{value}</div>'
                        f'<div class="fig-note">{_esc(note)}</div></div>')
            payback = f"{row['payback_months']:.1f} months" if row.get("payback_months") is not None else "not yet"
            dpayback = (f"{row['discounted_payback_months']:.1f} months"
                        if row.get("discounted_payback_months") is not None else "not yet")
            month = r["month_of"].get(row["m"])
            as_of = f"months 1–{row['m']} (to {month:%B %Y})" if month else f"months 1–{row['m']}"
            parts.append('<div class="figs">' + "".join([
                fig("ROI", _esc(fmt_pct_value(row.get("roi_pct"))), as_of),
                fig("Benefit-cost ratio", _esc(fmt_num(row.get("bcr"), 2)), "benefits per € of cost"),
                fig("Payback", _esc(payback), f"break-even month {row['break_even_month']}"
                    if row.get("break_even_month") is not None else roi_status(d)),
                fig("NPV", _esc(fmt_eur(row.get("npv"))), f"discounted payback {dpayback}"),
                fig("Year-1 ROI", _esc(fmt_pct_value(row.get("year1_roi_pct"))),
                    "months 1–12" if row.get("year1_roi_pct") is not None else "needs 12 months of data"),
                fig("Cumulative costs", _esc(fmt_eur(row.get("cum_costs"))), "fully loaded"),
                fig("Cumulative benefits", _esc(fmt_eur(row.get("cum_benefits"))),
                    f"gross {fmt_eur(row.get('cum_gross_benefits'))} × attribution × confidence"),
            ]) + "</div>")
        parts.append(chart_html.get("roi_cumulative", ""))
        est_sum, est_n = r.get("estimated") or (None, 0)
        now = d.business.get("now") or {}
        parts.append('<aside class="estimate"><h3>Estimate — not part of the ROI</h3>'
                     + (f"<p>Time saved estimated from tool interactions (assumed minutes per interaction × "
                        f"interactions × hourly cost): <strong>{_esc(fmt_eur(est_sum))}</strong> over months 1–"
                        f"{row['m'] if row else ''}"
                        + (f"; in {d.quarter} {_esc(fmt_num(now.get('estimated_hours_saved')))} hours worth "
                           f"{_esc(fmt_eur(now.get('estimated_savings_eur')))}" if now.get("estimated_hours_saved")
                           is not None else "")
                        + ". It rests on an assumption per interaction, not on measured process data, so it is "
                          "never added to the benefits, ROI, BCR, payback or NPV above.</p>"
                        if est_n else "<p>No per-tool minutes are configured "
                                      "(benefits.time_saved_minutes_per_interaction): no estimate.</p>")
                     + "</aside>")
    if r["have"]["roi_sensitivity"]:
        parts.append(chart_html.get("roi_tornado", ""))
        scen = [s for s in r.get("sensitivity", []) if s["assumption"] == "scenario"]
        if scen:
            av = r["assumption_values"]

            def mult(name, part):
                row_ = av.get(f"roi.scenarios.{name}.{part}")
                return f"×{row_['value']:g}" if row_ and row_.get("value") is not None else DASH
            body = ["<tr>" + "".join([f'<th scope="row" class="seg">{_esc(s["case"].capitalize())}</th>',
                                      _td(mult(s["case"], "attribution")), _td(mult(s["case"], "benefits")),
                                      _td(mult(s["case"], "costs")), _td(_esc(fmt_pct_value(s["roi_pct"]))),
                                      _td(_esc(fmt_eur(s["npv"])))]) + "</tr>" for s in scen]
            parts.append(_table([("Scenario", "left"), ("Attribution", "num"), ("Benefits", "num"), ("Costs", "num"),
                                 ("ROI at horizon", "num"), ("NPV at horizon", "num")], body, 'class="scenarios"',
                                "Scenarios (multipliers on the configured assumptions; attribution capped at 1)"))
    else:
        parts.append(f'<p class="note missing">Sensitivity: {ROI_MISSING}.</p>')
    if r["have"]["budget_plan_vs_actual"]:
        parts.append(chart_html.get("budget_plan_vs_actual", ""))
        body = []
        for p in r.get("plan", []):
            body.append("<tr>" + "".join([
                f'<th scope="row" class="seg">{_esc(p["category"].replace("_", " ").capitalize())}</th>',
                _td(_esc(fmt_eur(p["plan_eur"]))), _td(_esc(fmt_eur(p["actual_eur"]))),
                _delta_cell(p["difference_eur"], fmt_eur(p["difference_eur"], signed=True), good_when_up=False)])
                + "</tr>")
        totals = [sum(p[c] for p in r.get("plan", [])) for c in ("plan_eur", "actual_eur", "difference_eur")]
        body.append('<tr class="total"><th scope="row" class="seg">Total</th>' + _td(_esc(fmt_eur(totals[0])))
                    + _td(_esc(fmt_eur(totals[1])))
                    + _delta_cell(totals[2], fmt_eur(totals[2], signed=True), good_when_up=False) + "</tr>")
        parts.append(_table([("Category", "left"), ("Plan", "num"), ("Actual (months 1–12)", "num"),
                             ("Difference (+ = over plan)", "num")], body, 'class="plan"', "Budget plan vs actual"))
    else:
        parts.append(f'<p class="note missing">Plan vs actual: {ROI_MISSING}.</p>')
    left = "".join(parts)
    if r["have"]["roi_assumptions"]:
        rows = _assumption_rows_html(r.get("assumptions", []))
        right = ('<aside class="assumptions"><h3>Every assumption behind these figures</h3>'
                 + _table([("Assumption", "left"), ("Value", "num")], rows, 'class="assumptions"')
                 + "<p class='muted'>Source: <em>config</em> = set in the programme config, <em>default</em> = the "
                   "documented default, <em>derived</em> = taken from the data. Benefits = measured savings × "
                   "attribution × confidence (Phillips). What-ifs: <code>kpi roi --attribution … --confidence …"
                   "</code>.</p></aside>")
    else:
        right = f'<aside class="assumptions"><h3>Assumptions</h3><p class="note missing">{ROI_MISSING}.</p></aside>'
    return f'<div class="roi-grid"><div class="roi-main">{left}</div>{right}</div>'


def _alerts_section(d: ReportData) -> str:
    s = d.settings
    rule = (f"A segment alerts when its active-user rate fell by more than {s.usage_drop_points:g} percentage points "
            f"since the previous quarter; a culture construct when the company's favorability fell by more than "
            f"{s.culture_drop_points:g} points since the previous wave. Suppressed segments never alert.")
    if not d.alerts:
        return f'<p class="ok">No alerts in {d.quarter}.</p><p class="muted">{_esc(rule)}</p>'
    items = "".join(f"<li>{_esc(a.describe())}</li>" for a in d.alerts)
    return f'<ul class="alerts">{items}</ul><p class="muted">{_esc(rule)}</p>'


def _restatement_section(d: ReportData) -> str:
    if not d.restatements:
        return (f"<p>No quarter up to {d.quarter} has been restated: every closed quarter's figures are the ones "
                "first published.</p>")
    out = []
    for item in d.restatements:
        changes = item["changes"]
        out.append(f"<h3>{_esc(item['quarter'])}: version {item['version']}, {len(changes)} figure"
                   f"{'s' if len(changes) != 1 else ''} changed</h3>")
        body = []
        for c in changes[:25]:
            where = " / ".join(x for x in (c["construct"], c["process"], c["department"]) if x)
            seg = ""
            if c["segment_type"]:
                seg = _label(c["segment_type"], c["segment"])
                seg += f" ({c['segment_type'].replace('_', ' ')})" if c["segment_type"] != "company" else ""
            body.append("<tr>" + "".join([
                _td(_esc(c["table"].replace("kpi_", "")), "left"),
                _td(_esc(" · ".join(x for x in (seg, where) if x)), "left"),
                _td(_esc(c["metric"].replace("_", " ")), "left"), _td(_esc(fmt_metric(c["metric"], c["old"]))),
                _td(_esc(fmt_metric(c["metric"], c["new"])))]) + "</tr>")
        more = f" (first 25 of {len(changes)})" if len(changes) > 25 else ""
        out.append(_table([("Table", "left"), ("Row", "left"), ("Metric", "left"), ("Before", "num"),
                           ("Now", "num")], body, 'class="restatements"', f"What changed{more}"))
    return "".join(out)


def _quality_section(d: ReportData) -> str:
    q = d.quality
    body = []
    totals = {k: 0 for k in ("files", "rows_read", "rows_loaded", "rows_quarantined", "cells_quarantined",
                             "rows_unmatched")}
    for r in q["manifest"]:
        for key in totals:
            totals[key] += r[key] or 0
        body.append("<tr>" + "".join([f'<th scope="row" class="seg">{_esc(r["kind"])}</th>',
                                      _td(fmt_num(r["files"])), _td(fmt_num(r["rows_read"])),
                                      _td(fmt_num(r["rows_loaded"])), _td(fmt_num(r["rows_quarantined"])),
                                      _td(fmt_num(r["cells_quarantined"])), _td(fmt_num(r["rows_unmatched"]))])
                    + "</tr>")
    body.append('<tr class="total"><th scope="row" class="seg">Total</th>'
                + "".join(_td(fmt_num(totals[k])) for k in totals) + "</tr>")
    files = _table([("Input", "left"), ("Files", "num"), ("Rows read", "num"), ("Rows loaded", "num"),
                    ("Rows quarantined", "num"), ("Survey cells quarantined", "num"),
                    ("Loaded rows not matched", "num")], body, 'class="quality"',
                   "Files read at ingest (current versions), by folder and format")
    if q["quarantine"]:
        body = ["<tr>" + "".join([_td(_esc(r["stage"]), "left"),
                                  f'<th scope="row" class="seg">{_esc(r["reason"])}</th>',
                                  _td(fmt_num(r["n"])), _td(fmt_num(r["files"]))]) + "</tr>" for r in q["quarantine"]]
        reasons = _table([("Stage", "left"), ("Reason", "left"), ("Rows", "num"), ("Files", "num")], body,
                         'class="quality"', "Quarantined rows by reason (details: audit.quarantine)")
    else:
        reasons = "<p>Nothing was quarantined.</p>"
    return files + reasons + ("<p class='muted'>Stage <em>ingest</em>: rejected while reading a file (bad date, "
                              "duplicate, out of range …). Stage <em>match</em>: usage rows that could not be tied to "
                              "an employee on a day they were employed (recomputed on every run).</p>")


CSS = """
:root { --ink: #1d1d1f; --muted: #5f6368; --line: #dadce0; --bg-soft: #f6f7f9; --accent: #0072B2;
        --good: #00795a; --bad: #b8430f; --supp: #d9d9d9; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: #fff; font-size: 14px; line-height: 1.45; }
header.top { background: #14213d; color: #fff; padding: 22px 0 18px; }
.wrap { max-width: 1180px; margin: 0 auto; padding: 0 28px; }
header.top .kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 11.5px; opacity: .8; }
header.top h1 { margin: 4px 0 6px; font-size: 26px; font-weight: 650; }
header.top .meta { font-size: 12.5px; opacity: .85; }
nav.toc { border-bottom: 1px solid var(--line); background: var(--bg-soft); font-size: 12.5px; }
nav.toc a { color: var(--ink); text-decoration: none; margin-right: 16px; display: inline-block; padding: 8px 0; }
nav.toc a:hover { color: var(--accent); }
section { padding: 18px 0 8px; border-bottom: 1px solid var(--line); }
h2 { font-size: 19px; margin: 6px 0 12px; font-weight: 650; }
h2 .n { color: var(--accent); margin-right: 6px; }
h3 { font-size: 14.5px; margin: 16px 0 8px; }
p { margin: 6px 0 10px; max-width: 900px; }
.muted, .fig-note, .kind, .expl, figcaption { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 10px; margin: 8px 0 14px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: #fff; break-inside: avoid; }
.card .label { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 24px; font-weight: 650; margin: 2px 0; font-variant-numeric: tabular-nums; }
.card .delta { font-size: 13px; font-weight: 600; }
.card .sub { font-size: 11.5px; color: var(--muted); }
.card ul { margin: 4px 0 0; padding: 0; list-style: none; font-size: 12px; }
.delta.good { color: var(--good); } .delta.bad { color: var(--bad); } .delta.flat { color: var(--muted); }
.narrative { background: var(--bg-soft); border-left: 4px solid var(--accent); padding: 10px 16px; margin: 4px 0 10px; }
.narrative p { margin: 5px 0; }
figure.chart { margin: 12px 0 16px; break-inside: avoid; page-break-inside: avoid; }
figure.chart .vega { min-height: 120px; }
figure.chart svg { max-width: 100%; height: auto; }
figcaption { font-size: 12px; margin-top: 4px; max-width: 900px; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 12.5px; break-inside: auto; }
caption { text-align: left; font-weight: 600; padding: 4px 0 6px; font-size: 13px; }
th, td { padding: 5px 9px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: var(--bg-soft); font-weight: 600; border-bottom: 2px solid #bbb; font-size: 12px; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
thead th.num { max-width: 120px; }
th.left, td.left { text-align: left; }
th.seg { text-align: left; font-weight: 500; }
th.seg.company, tr.total th, tr.total td { font-weight: 650; }
tr.total { background: var(--bg-soft); }
.kind { display: block; font-size: 10.5px; font-weight: 400; }
.table-wrap { overflow-x: auto; max-width: 100%; }
th.seg { min-width: 160px; }
p.footnote { font-size: 11.5px; color: var(--muted); margin-top: -8px; }
.swatch { display: inline-block; width: 18px; height: 10px; vertical-align: middle;
  background: repeating-linear-gradient(45deg, #eeeeee, #eeeeee 3px, #d6d6d6 3px, #d6d6d6 6px); }
table.matrix td { min-width: 110px; }
td.suppressed { text-align: center; color: #444; font-style: italic;
  background: repeating-linear-gradient(45deg, #eeeeee, #eeeeee 5px, #e0e0e0 5px, #e0e0e0 10px); }
.note { background: #fff8e1; border: 1px solid #f0d98c; padding: 8px 12px; border-radius: 6px; }
.note.missing { background: #fdecea; border-color: #f3b5ac; }
p.ok { color: var(--good); font-weight: 600; }
ul.alerts li { color: var(--bad); margin: 4px 0; }
.roi-grid { display: grid; grid-template-columns: minmax(0, 1fr) 360px; gap: 22px; align-items: start; }
.figs { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; margin: 6px 0 10px; }
.fig { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
.fig-label { font-size: 11.5px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.fig-value { font-size: 20px; font-weight: 650; font-variant-numeric: tabular-nums; }
.fig-note { font-size: 11px; }
aside.estimate { border: 1px dashed #999; border-radius: 8px; padding: 4px 14px; margin: 10px 0 14px; background: #fcfcfc; }
aside.estimate h3 { margin-top: 8px; }
aside.assumptions { border-left: 1px solid var(--line); padding-left: 16px; font-size: 12px; }
aside.assumptions table { font-size: 11.5px; width: 100%; table-layout: fixed; }
aside.assumptions th:first-child { width: 54%; }
aside.assumptions td { white-space: normal; overflow-wrap: normal; }
aside.assumptions th, aside.assumptions td { padding: 4px 5px; }
aside.assumptions code { font-size: 11px; overflow-wrap: anywhere; }
td.family { min-width: 150px; line-height: 1.45; }
.kv { display: flex; justify-content: space-between; gap: 10px; }
.kv span:first-child { color: var(--muted); text-align: left; }
.expl { font-size: 10.5px; font-weight: 400; }
.src { font-size: 10px; color: var(--muted); font-style: italic; }
pre.errors { background: #fdecea; color: #8a1c12; padding: 10px; white-space: pre-wrap; }
footer { color: var(--muted); font-size: 11.5px; padding: 14px 0 30px; }
@media (max-width: 1000px) { .roi-grid, .pair { grid-template-columns: 1fr; } aside.assumptions { border: 0; padding: 0; } }
@media print {
  @page { size: A4; margin: 12mm; }
  body { font-size: 11px; }
  header.top { background: #fff; color: var(--ink); border-bottom: 2px solid var(--ink); padding: 0 0 8px; }
  nav.toc { display: none; }
  .wrap { max-width: none; padding: 0; }
  section { break-before: auto; border: 0; }
  section.major { break-before: page; }
  .roi-grid { grid-template-columns: 1fr; }
  aside.assumptions { border: 0; padding: 0; }
  table, figure, .card, .fig { break-inside: avoid; }
  .table-wrap { overflow: visible; }
  table { font-size: 9px; }
  th, td { padding: 3px 5px; }
  th.seg { min-width: 0; }
  thead th, thead th.num { font-size: 8.5px; max-width: 80px; }
  td.suppressed { white-space: normal; }
  .cards { grid-template-columns: repeat(3, 1fr); }
  .kind { font-size: 8px; }
  td.suppressed { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

ERROR_COLLECTOR = """
window.__reportErrors = [];
(function () {
  function show() {
    var el = document.getElementById('report-errors');
    if (el && window.__reportErrors.length) {
      el.textContent = 'Some parts of this report could not be drawn:\\n' + window.__reportErrors.join('\\n');
      el.hidden = false;
    }
  }
  window.__noteReportError = function (message) { window.__reportErrors.push(String(message)); show(); };
  window.addEventListener('error', function (e) { window.__noteReportError('Uncaught ' + (e.message || e)); });
  window.addEventListener('unhandledrejection', function (e) {
    window.__noteReportError('Unhandled rejection ' + ((e.reason && e.reason.message) || e.reason));
  });
  var original = console.error;
  console.error = function () {
    window.__noteReportError(Array.prototype.map.call(arguments, String).join(' '));
    return original.apply(console, arguments);
  };
  document.addEventListener('DOMContentLoaded', show);
})();
"""

RENDER = """
(function () {
  var options = {renderer: 'svg', actions: false, formatLocale: %s};
  var nodes = Array.prototype.slice.call(document.querySelectorAll('div.vega[data-chart]'));
  var rendered = 0;
  Promise.all(nodes.map(function (div) {
    try {
      var spec = JSON.parse(document.getElementById('spec-' + div.getAttribute('data-chart')).textContent);
      return vegaEmbed(div, spec, options).then(function () { rendered += 1; }).catch(function (err) {
        window.__noteReportError('chart ' + div.getAttribute('data-chart') + ': ' + err);
      });
    } catch (err) {
      window.__noteReportError('chart ' + div.getAttribute('data-chart') + ': ' + err);
      return null;
    }
  })).then(function () {
    document.body.setAttribute('data-charts-expected', String(nodes.length));
    document.body.setAttribute('data-charts-rendered', String(rendered));
  });
})();
"""


def _chart_block(c: ChartOut) -> str:
    caption = f"<figcaption>{_esc(c.caption)}</figcaption>" if c.caption else ""
    title = c.spec.get("title")
    label = title.get("text", c.name) if isinstance(title, dict) else c.name
    return (f'<figure class="chart" id="chart-{c.name}"><div class="vega" data-chart="{c.name}" role="img" '
            f'aria-label="{_esc(label)}"></div>{caption}'
            f'<script type="application/json" id="spec-{c.name}">{_json_script(c.spec)}</script></figure>')


def render_html(d: ReportData, chart_list: list[ChartOut]) -> str:
    from kpi.charts import EURO_LOCALE

    blocks = {c.name: _chart_block(c) for c in chart_list}
    company = d.settings.company
    title = f"{company + ' — ' if company else ''}AI-training programme, quarterly review {d.quarter}"
    cards = []
    for c in headline_cards(d):
        lines = "".join(f"<li>{_esc(x)}</li>" for x in c.get("lines", []))
        cards.append(f'<div class="card"><div class="label">{_esc(c["label"])}</div>'
                     f'<div class="value">{_esc(c["value"])}</div>'
                     + (f'<div class="delta {c["direction"]}">{_esc(c["delta"])}</div>'
                        if c["delta"] and c["delta"] != DASH else "")
                     + f'<div class="sub">{_esc(c["note"])}</div>' + (f"<ul>{lines}</ul>" if lines else "") + "</div>")
    story = "".join(f"<p>{sentence}</p>" for sentence in narrative(d))
    k = d.settings.k
    sections = [
        ("summary", "Summary", f'<div class="cards">{"".join(cards)}</div><div class="narrative">{story}</div>'
         f'<p class="muted">Quarter status: {_esc(d.status)}. Groups with fewer than {k} people are never shown: '
         f'their cells read “fewer than {k}” and no figure of theirs appears in tables or charts.</p>'),
        ("usage", "Usage", blocks.get("usage_rates", "") + blocks.get("usage_departments", "") + _usage_table(d)
         + blocks.get("tool_adoption", "") + _tool_table(d)),
        ("competence", "Competence", blocks.get("competence", "") + _competence_table(d)),
        ("business", "Business", blocks.get("business_savings", "") + blocks.get("business_errors", "")
         + _business_table(d) + "<p class='muted'>Savings here are measured against the baseline months before the "
                                "programme start and are shown before attribution and confidence; the ROI below "
                                "applies both.</p>"),
        ("culture", "Culture", (
            (f'<p class="note">No survey wave in {d.quarter}: the latest wave is {d.culture["wave"]}.</p>'
             if d.culture.get("wave") and d.culture["wave"] != d.quarter else "")
            + f'<div class="pair">{blocks.get("culture_favorability", "")}{blocks.get("culture_change", "")}</div>'
            + _culture_tables(d)) if d.culture.get("wave") else "<p>No survey wave yet.</p>"),
        ("roi", "Return on investment", _roi_section(d, blocks)),
        ("alerts", "Alerts", _alerts_section(d)),
        ("restatements", "Restatements", _restatement_section(d)),
        ("quality", "Data quality", _quality_section(d)),
    ]
    toc = "".join(f'<a href="#{sid}">{_esc(name)}</a>' for sid, name, _ in sections)
    body = "".join(
        f'<section id="{sid}" class="{"major" if sid in ("usage", "roi") else ""}"><div class="wrap">'
        f'<h2><span class="n">{i}</span>{_esc(name)}</h2>{content}</div></section>'
        for i, (sid, name, content) in enumerate(sections, start=1))
    meta = (f"Quarter {d.quarter} · {_esc(d.status.split(':')[0])} · generated {d.generated_at:%Y-%m-%d %H:%M} "
            f"from {_esc(d.warehouse.name)}")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="kpi report">
<title>{_esc(title)}</title>
<style>{CSS}</style>
<script>{ERROR_COLLECTOR}</script>
</head>
<body>
<header class="top"><div class="wrap">
<div class="kicker">{_esc(company or "AI-training programme")} · quarterly review</div>
<h1>AI-training programme: {_esc(d.quarter)}</h1>
<div class="meta">{meta}</div>
</div></header>
<nav class="toc"><div class="wrap">{toc}</div></nav>
<div class="wrap"><pre id="report-errors" class="errors" hidden></pre></div>
<main>{body}</main>
<footer><div class="wrap">Definitions: docs/metrics.md and docs/roi.md; how to read this report: docs/report.md.
Rates are shares of headcount; “pts” are percentage points. Figures are computed from the warehouse and rounded
for display only.</div></footer>
<script>{_javascript_bundle()}</script>
<script>{RENDER % json.dumps(EURO_LOCALE)}</script>
</body>
</html>
"""


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def _write_images(chart_list: list[ChartOut], folder: Path, quarter: str) -> list[Path]:
    import vl_convert as vlc

    from kpi.charts import EURO_LOCALE

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for c in chart_list:
        svg = folder / f"{quarter}-{c.name}.svg"
        svg.write_text(vlc.vegalite_to_svg(c.spec, format_locale=EURO_LOCALE), encoding="utf-8")
        png = folder / f"{quarter}-{c.name}.png"
        png.write_bytes(vlc.vegalite_to_png(c.spec, scale=2, format_locale=EURO_LOCALE))
        written += [svg, png]
    return written


def build_report(warehouse: Path, quarter: str, out_dir: Path, *, cfg: Any = None, images: bool = True) -> Path:
    """Write ``out_dir/report-<quarter>.html`` (and the charts as PNG/SVG under ``out_dir/charts``).

    ``cfg`` (optional) supplies the company name, k and alert thresholds when the warehouse's
    ``marts.roi_assumptions`` does not hold them. A quarter not in the warehouse is a one-line
    :class:`UserError` listing the quarters available."""
    import duckdb

    warehouse, out_dir = Path(warehouse), Path(out_dir)
    parse_quarter(quarter)
    if not warehouse.is_file():
        raise UserError(f"{warehouse}: warehouse not found; run kpi run (or kpi demo) first, or check --warehouse")
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        raise UserError(f"{warehouse}: cannot open the warehouse read-only ({str(exc).splitlines()[0]}); "
                        "wait for the running pipeline to finish and try again") from None
    try:
        data = collect(con, quarter, cfg, warehouse)
    finally:
        con.close()
    chart_list = build_charts(data)
    page = render_html(data, chart_list)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"report-{quarter}.html"
    path.write_text(page, encoding="utf-8")
    if images:
        _write_images(chart_list, out_dir / "charts", quarter)
    return path
