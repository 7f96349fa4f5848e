"""ROI by department and by process (``marts.roi_by_segment``, docs/metrics.md §16, docs/roi.md).

Built by the ``roi`` asset after the ROI marts, from the same parts as the programme's series
(``sql/intermediate/int_roi_parts.sql``), so that the segments add up to it:

- **Costs.** A ledger line that names a department is that department's (direct); participant
  time is the trainee's department's (direct); every other ledger line is **allocated** to the
  departments by ``roi.cost_allocation``: ``headcount`` (default: each department's share of the
  headcount on ``program.start``) or ``participant_time`` (its share of the programme's
  participant time). A process gets its department's costs in proportion to its share of that
  department's baseline handling minutes (the work it stood for before the programme); the
  costs of departments without a process are the row ``unassigned``.
- **Benefits.** The measured time and quality savings of the process and department, each month,
  times attribution and confidence, exactly as in the programme's series.
- **Figures.** ROI, BCR, payback and break-even of each segment's own monthly series with the
  programme's assumptions (:func:`kpi.roi.summary`).

Privacy: a department of fewer than ``privacy.min_group_size`` people on ``program.start`` shows
no figure (its participant time would describe their pay), nor does one more department while
the departments withheld hold fewer than k people; a process row of a withheld department is
withheld likewise (and one more while fewer than k people stand behind the withheld processes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["SEGMENT_COLUMNS", "SEGMENT_TABLE", "USE_CASE_TABLE", "build_segments", "build_use_cases", "segment_rows",
           "segments_text", "stored_segments"]

SEGMENT_TABLE = "marts.roi_by_segment"
SEGMENT_COLUMNS: tuple[str, ...] = (
    "segment_type", "segment", "people", "suppressed", "suppression_reason", "costs_direct", "costs_allocated",
    "costs", "gross_benefits", "benefits", "net_benefit", "roi_pct", "bcr", "payback_months", "break_even_month",
    "allocation_share", "rank",
)
UNASSIGNED = "unassigned"
_CATEGORIES = ("cost_external_training", "cost_internal_time", "cost_licenses", "cost_materials", "cost_other")


def _parts(con: Any) -> list[tuple]:
    return con.execute("SELECT m, month, part, department, process, amount FROM temp.roi_parts").fetchall()


def _headcount_at_start(con: Any, start: Any) -> dict[str, int]:
    rows = con.execute("SELECT department, count(*) FROM staging.employees WHERE hire_date <= $start "
                       "AND (exit_date IS NULL OR exit_date >= $start) GROUP BY department",
                       {"start": start}).fetchall()
    return {d: int(n) for d, n in rows}


def _process_shares(con: Any, cfg: Any) -> dict[str, dict[str, float]]:
    """department -> process -> its share of the department's baseline handling minutes (the
    cases of the programme months when there is no baseline)."""
    from kpi.marts import baseline_window

    first, last = baseline_window(cfg.program.start, cfg.program.baseline_months)
    rows = con.execute("""
        SELECT department, process,
               coalesce(sum(handling_minutes) FILTER (WHERE month BETWEEN $first AND $last), 0) AS baseline,
               coalesce(sum(cases) FILTER (WHERE month > $last), 0) AS later
        FROM staging.process_metrics GROUP BY department, process""", {"first": first, "last": last}).fetchall()
    out: dict[str, dict[str, float]] = {}
    for department, process, baseline, later in rows:
        out.setdefault(department, {})[process] = (float(baseline), float(later))
    shares: dict[str, dict[str, float]] = {}
    for department, processes in out.items():
        use = 0 if sum(b for b, _ in processes.values()) > 0 else 1
        total = sum(v[use] for v in processes.values())
        shares[department] = {p: (v[use] / total if total > 0 else 1 / len(processes)) for p, v in processes.items()}
    return shares


def _series(months: Sequence[tuple[int, Any]], amounts: Mapping[tuple[int, str], float]):
    from kpi.roi import Month

    return [Month(m=m, month=month, **{part: amounts.get((m, part), 0.0) for part in (
        *_CATEGORIES, "cost_participant_time", "time_savings_eur", "quality_savings_eur")}) for m, month in months]


def segment_rows(con: Any, cfg: Any, assumptions: Any, parts_loaded: bool = False) -> list[dict[str, Any]]:
    """The rows of ``marts.roi_by_segment`` (the company first, then departments and processes).

    ``parts_loaded``: the temporary table ``roi_parts`` of ``con`` holds the parts of ``cfg`` for
    the staging tables as they are (``kpi.roi.build_monthly_series(con, cfg)`` loaded it in the
    same transaction, as the roi asset does): they are not loaded again."""
    from kpi.roi import load_roi_parts, summary

    if not parts_loaded:
        load_roi_parts(con, cfg)
    parts = _parts(con)
    months = sorted({(m, month) for m, month, *_ in parts})
    headcount = _headcount_at_start(con, cfg.program.start)
    departments = sorted(set(headcount) | {d for _, _, part, d, _, _ in parts if d is not None and part != "month"})
    direct: dict[str, dict[tuple[int, str], float]] = {d: {} for d in departments}
    unassigned: dict[tuple[int, str], float] = {}
    savings: dict[tuple[str, str], dict[tuple[int, str], float]] = {}
    participant_total: dict[str, float] = {}
    for m, _month, part, department, process, amount in parts:
        if part in ("month", "estimated_benefits"):
            continue
        if part in ("time_savings_eur", "quality_savings_eur"):
            cell = savings.setdefault((department, process), {})
            cell[(m, part)] = cell.get((m, part), 0.0) + amount
            direct.setdefault(department, {})
        if department is None:
            unassigned[(m, part)] = unassigned.get((m, part), 0.0) + amount
            continue
        target = direct.setdefault(department, {})
        target[(m, part)] = target.get((m, part), 0.0) + amount
        if part == "cost_participant_time":
            participant_total[department] = participant_total.get(department, 0.0) + amount
    departments = sorted(direct)
    key = ({d: participant_total.get(d, 0.0) for d in departments} if cfg.roi.cost_allocation == "participant_time"
           else {d: float(headcount.get(d, 0)) for d in departments})
    total_key = sum(key.values())
    share = {d: (key[d] / total_key if total_key > 0 else 1 / len(departments)) for d in departments}
    dept_amounts: dict[str, dict[tuple[int, str], float]] = {}
    allocated: dict[str, float] = {}
    for d in departments:
        amounts = {k: v for k, v in direct[d].items() if k[1] in (*_CATEGORIES, "cost_participant_time")}
        for (m, part), value in unassigned.items():
            amounts[(m, part)] = amounts.get((m, part), 0.0) + value * share[d]
        allocated[d] = sum(unassigned.values()) * share[d]
        for (department, _process), cell in savings.items():
            if department == d:
                for k, v in cell.items():
                    amounts[k] = amounts.get(k, 0.0) + v
        dept_amounts[d] = amounts

    def figures(amounts: Mapping[tuple[int, str], float], costs_allocated: float) -> dict[str, Any]:
        series = _series(months, amounts)
        s = summary(series, assumptions)
        gross = s.cum_gross_benefits
        return {"costs": s.cum_costs, "costs_allocated": costs_allocated * assumptions.cost_scale,
                "costs_direct": s.cum_costs - costs_allocated * assumptions.cost_scale,
                "gross_benefits": gross, "benefits": s.cum_benefits, "net_benefit": s.cum_benefits - s.cum_costs,
                "roi_pct": s.roi_pct, "bcr": s.bcr, "payback_months": s.payback_months,
                "break_even_month": s.break_even_month}

    company: dict[tuple[int, str], float] = {}
    for amounts in dept_amounts.values():
        for k, v in amounts.items():
            company[k] = company.get(k, 0.0) + v
    rows = [{"segment_type": "company", "segment": "all", "people": sum(headcount.values()),
             **figures(company, sum(unassigned.values())), "allocation_share": 1.0}]
    for d in departments:
        rows.append({"segment_type": "department", "segment": d, "people": headcount.get(d, 0),
                     **figures(dept_amounts[d], allocated[d]), "allocation_share": share[d]})
    process_shares = _process_shares(con, cfg)
    process_amounts: dict[str, dict[tuple[int, str], float]] = {}
    process_allocated: dict[str, float] = {}
    process_people: dict[str, set[str]] = {}
    for d in departments:
        shares = process_shares.get(d) or {UNASSIGNED: 1.0}
        for process, weight in shares.items():
            target = process_amounts.setdefault(process, {})
            for (m, part), v in dept_amounts[d].items():
                if part in ("time_savings_eur", "quality_savings_eur"):
                    continue
                target[(m, part)] = target.get((m, part), 0.0) + v * weight
            process_allocated[process] = process_allocated.get(process, 0.0) + allocated[d] * weight
            process_people.setdefault(process, set()).add(d)
    for (department, process), cell in savings.items():
        target = process_amounts.setdefault(process, {})
        process_people.setdefault(process, set()).add(department)
        for k, v in cell.items():
            target[k] = target.get(k, 0.0) + v
    for process in sorted(process_amounts, key=lambda p: (p == UNASSIGNED, p)):
        rows.append({"segment_type": "process", "segment": process,
                     "people": sum(headcount.get(d, 0) for d in process_people[process]),
                     **figures(process_amounts[process], process_allocated.get(process, 0.0)),
                     "allocation_share": None, "_departments": process_people[process]})
    _suppress(rows, int(cfg.privacy.min_group_size), headcount)
    ranked = sorted((r for r in rows if r["segment_type"] == "process" and not r["suppressed"]
                     and r["segment"] != UNASSIGNED), key=lambda r: -r["net_benefit"])
    for i, r in enumerate(ranked, start=1):
        r["rank"] = i
    for r in rows:
        r.setdefault("rank", None)
        r.pop("_departments", None)
    return rows


def _suppress(rows: list[dict[str, Any]], k: int, headcount: Mapping[str, int]) -> None:
    """Withhold the figures of small departments and of the processes they stand behind, and
    one more of each breakdown while the withheld rows hold 1..k-1 people."""
    figures = [c for c in SEGMENT_COLUMNS if c not in ("segment_type", "segment", "people", "suppressed",
                                                       "suppression_reason", "rank")]
    for r in rows:
        r["suppressed"], r["suppression_reason"] = False, None
    departments = [r for r in rows if r["segment_type"] == "department"]
    for r in departments:
        if r["people"] < k:
            r["suppressed"], r["suppression_reason"] = True, "small_group"

    def withhold_more(group: list[dict[str, Any]], people_of) -> None:
        while True:
            hidden = [r for r in group if r["suppressed"]]
            held = people_of(hidden)
            shown = [r for r in group if not r["suppressed"]]
            if not hidden or held >= k or not shown:
                return
            smallest = min(shown, key=lambda r: (r["people"], r["segment"]))
            smallest["suppressed"], smallest["suppression_reason"] = True, "complementary"

    withhold_more(departments, lambda hidden: sum(r["people"] for r in hidden))
    small = {r["segment"] for r in departments if r["suppressed"]}
    processes = [r for r in rows if r["segment_type"] == "process"]
    for r in processes:
        if r["_departments"] & small:
            r["suppressed"], r["suppression_reason"] = True, "small_group"
    withhold_more(processes, lambda hidden: sum(headcount.get(d, 0) for d in set().union(
        *(r["_departments"] for r in hidden))))
    for r in rows:
        if r["suppressed"]:
            for c in figures:
                r[c] = None
        else:
            for c in figures:
                if isinstance(r.get(c), float) and not math.isfinite(r[c]):
                    r[c] = None


def build_segments(con: Any, cfg: Any, assumptions: Any, parts_loaded: bool = False) -> int:
    """Replace every row of ``marts.roi_by_segment``; the number of rows written
    (``parts_loaded``: see :func:`segment_rows`)."""
    from kpi.migrations import prepare
    from kpi.roi_marts import _replace

    prepare(con, SEGMENT_TABLE)
    return _replace(con, SEGMENT_TABLE, SEGMENT_COLUMNS, segment_rows(con, cfg, assumptions, parts_loaded),
                    sort_order=True)


USE_CASE_TABLE = "marts.roi_use_cases"


def build_use_cases(con: Any, cfg: Any) -> int:
    """Replace every row of ``marts.roi_use_cases`` (``sql/marts/roi_use_cases.sql``): the
    business case of the use cases in idea or pilot status, an estimate kept apart from the
    measured benefits; the number of rows written."""
    import datetime as dt

    from kpi.catalog import table
    from kpi.migrations import prepare
    from kpi.paths import read_sql
    from kpi.rollout import data_last_day

    prepare(con, USE_CASE_TABLE)
    con.execute(f"DELETE FROM {USE_CASE_TABLE}").fetchall()
    columns = [c for c in table(USE_CASE_TABLE).column_names if c != "sort_order"]
    quoted = ", ".join(columns)
    con.execute(f"INSERT INTO {USE_CASE_TABLE} ({quoted}, sort_order) "
                f"SELECT {quoted}, row_number() OVER () FROM ({read_sql('marts/roi_use_cases.sql')})",
                {"as_of": data_last_day(con) or dt.date.today(), "min_group_size": int(cfg.privacy.min_group_size),
                 "implementation_hours": float(cfg.roi.use_case_implementation_hours)}).fetchall()
    return int(con.sql(f"SELECT count(*) FROM {USE_CASE_TABLE}").fetchall()[0][0])


# --------------------------------------------------------------------------------------------
# Reading them back (kpi roi --by): the standard library and duckdb only, fast
# --------------------------------------------------------------------------------------------


def stored_segments(warehouse: Any, by: str) -> list[dict[str, Any]]:
    """The company row and the rows of one segment type, as stored by the last kpi run."""
    from kpi.errors import UserError
    from kpi.warehouse import open_warehouse, table_exists

    con = open_warehouse(warehouse, read_only=True)
    try:
        if not table_exists(con, SEGMENT_TABLE):
            raise UserError(f"{warehouse}: has no {SEGMENT_TABLE} (built by an earlier release); run kpi run first")
        relation = con.sql(f"SELECT * EXCLUDE (sort_order) FROM {SEGMENT_TABLE} WHERE segment_type IN ('company', $by) "
                           "ORDER BY sort_order", params={"by": by})
        return [dict(zip(relation.columns, row)) for row in relation.fetchall()]
    finally:
        con.close()


def segments_text(rows: Sequence[Mapping[str, Any]], by: str) -> str:
    """The rows as a table for the terminal."""
    from kpi.report.formatting import fmt_eur, fmt_num, fmt_pct_value

    header = [by.capitalize(), "costs", "of which allocated", "benefits", "net", "ROI", "payback", "rank"]
    lines = [header]
    for r in rows:
        name = "Programme" if r["segment_type"] == "company" else r["segment"]
        if r["suppressed"]:
            lines.append([name, "withheld: fewer than k people", "", "", "", "", "", ""])
            continue
        payback = "not yet" if r["payback_months"] is None else f"{fmt_num(r['payback_months'], 1)} months"
        lines.append([name, fmt_eur(r["costs"]), fmt_eur(r["costs_allocated"]), fmt_eur(r["benefits"]),
                      fmt_eur(r["net_benefit"], signed=True), fmt_pct_value(r["roi_pct"]), payback,
                      str(r["rank"]) if r["rank"] else ""])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))).rstrip()
            for line in lines]
    note = ("Costs without a department are allocated by roi.cost_allocation; processes carry their department's "
            "costs by baseline handling minutes (docs/roi.md, ROI by department and process).")
    return "\n".join(text) + "\n" + note
